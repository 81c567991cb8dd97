//! Hand-written signatures drawn on a screen: the PNG a signature pad sends, checked and hashed.

use choucha_domain::RuleViolation;
use sha2::{Digest, Sha256};

/// The SHA-256 of a signature image sent as base64 PNG, or why it is not one.
pub(crate) fn png_sha(b64: &str) -> std::result::Result<String, RuleViolation> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|_| {
        RuleViolation::new("invalid_signature", "签名图片不是有效的 base64 数据").on_field("image_png_base64")
    })?;
    if bytes.len() < 8 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" {
        return Err(RuleViolation::new("invalid_signature", "签名须为 PNG 图片").on_field("image_png_base64"));
    }
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Largest stored signature image (base64): a pad drawing is a few kilobytes.
const MAX_STORED_B64: usize = 512 * 1024;

/// A person's stored signature, as shown back to them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoredSignatureView {
    /// The PNG, base64 (for an `<img src="data:image/png;base64,…">`).
    pub image_png_base64: String,
    pub image_sha256: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A signature image to store.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct StoredSignatureInput {
    /// PNG image, base64 (drawn on the pad or uploaded).
    pub image_png_base64: String,
}

/// The caller's stored signature, if any.
pub async fn mine(s: &crate::Services, actor: &crate::Actor) -> crate::Result<Option<StoredSignatureView>> {
    Ok(choucha_store::stored_signatures::get(s.store.reader(), actor.user_id).await?.map(|r| StoredSignatureView {
        image_png_base64: r.image_b64,
        image_sha256: r.image_sha256,
        updated_at: r.updated_at,
    }))
}

/// Store (or replace) the caller's signature image; every signed-in person may keep one.
pub async fn store_mine(
    s: &crate::Services,
    actor: &crate::Actor,
    input: StoredSignatureInput,
) -> crate::Result<StoredSignatureView> {
    let b64 = input.image_png_base64.trim();
    let field = |v: RuleViolation| crate::ServiceError::invalid(v.on_field("image_png_base64"));
    if b64.is_empty() {
        return Err(field(RuleViolation::new("required", "请先在签名框内签名，或选择签名图片（PNG）")));
    }
    if b64.len() > MAX_STORED_B64 {
        return Err(field(RuleViolation::new("signature_too_large", "签名图片不得超过384KB")));
    }
    let sha = png_sha(b64).map_err(field)?;
    let before = choucha_store::stored_signatures::get(s.store.reader(), actor.user_id).await?.map(|r| r.image_sha256);
    let tx = s.write(actor).await?;
    choucha_store::stored_signatures::put(&tx, actor.user_id, b64.to_string(), sha.clone()).await?;
    tx.commit(choucha_store::audit::AuditEntry::new(
        "signature.store",
        "user",
        actor.user_id,
        serde_json::json!({ "image_sha256": before }),
        serde_json::json!({ "image_sha256": sha }),
    ))
    .await?;
    mine(s, actor).await?.ok_or_else(|| crate::ServiceError::internal("stored signature vanished"))
}

/// Remove the caller's stored signature.
pub async fn remove_mine(s: &crate::Services, actor: &crate::Actor) -> crate::Result<()> {
    let Some(before) = choucha_store::stored_signatures::get(s.store.reader(), actor.user_id).await? else {
        return Err(crate::ServiceError::NotFound("已保存的签名"));
    };
    let tx = s.write(actor).await?;
    choucha_store::stored_signatures::remove(&tx, actor.user_id).await?;
    tx.commit(choucha_store::audit::AuditEntry::new(
        "signature.remove",
        "user",
        actor.user_id,
        serde_json::json!({ "image_sha256": before.image_sha256 }),
        serde_json::json!(null),
    ))
    .await?;
    Ok(())
}

/// The image a signing step uses: the one drawn now, or, when the signer confirms with their stored
/// signature, that one. Its base64, checked.
pub(crate) async fn for_signing(
    s: &crate::Services,
    actor: &crate::Actor,
    drawn_b64: &str,
    use_stored: bool,
    field: &'static str,
) -> crate::Result<String> {
    let b64 = drawn_b64.trim();
    if b64.is_empty() && use_stored {
        return match choucha_store::stored_signatures::get(s.store.reader(), actor.user_id).await? {
            Some(r) => Ok(r.image_b64),
            None => Err(crate::ServiceError::invalid(
                RuleViolation::new("no_stored_signature", "您尚未保存签名：请在“我的签名”中保存，或在签名框内签名")
                    .on_field(field),
            )),
        };
    }
    if b64.is_empty() {
        return Err(crate::ServiceError::invalid(
            RuleViolation::new("required", "请在签名框内签名后再提交，或使用已保存的签名").on_field(field),
        ));
    }
    png_sha(b64).map_err(|v| crate::ServiceError::invalid(v.on_field(field)))?;
    Ok(b64.to_string())
}
