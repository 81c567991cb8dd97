//! An institution's seals (公章, 检验检测专用章): images stored once by the system administrator
//! on the institution's request and placed by the system where a form says 盖章 — the 检验检测专用章
//! on an issued test or re-test report only, never on a draft for review.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_store::audit::AuditEntry;
use choucha_store::stored_signatures as store;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

/// Largest seal image (base64): a scanned seal at print resolution.
const MAX_SEAL_B64: usize = 2 * 1024 * 1024;

/// The seals an institution may store, with their Chinese names.
pub const KINDS: [(&str, &str); 2] = [("inspection", "检验检测专用章"), ("official", "公章")];

fn kind_label(kind: &str) -> Result<&'static str> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, l)| *l).ok_or_else(|| {
        ServiceError::invalid(
            RuleViolation::new("invalid_seal_kind", "印章类型应为检验检测专用章（inspection）或公章（official）")
                .on_field("kind"),
        )
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SealView {
    pub kind: String,
    pub label: String,
    /// PNG, base64.
    pub image_png_base64: String,
    pub image_sha256: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SealInput {
    /// inspection (检验检测专用章) | official (公章)
    pub kind: String,
    /// PNG image (transparent background), base64.
    pub image_png_base64: String,
}

/// An institution's stored seals.
pub async fn list(s: &Services, actor: &Actor, org_id: i64) -> Result<Vec<SealView>> {
    actor.require(Action::ManageOrganisations)?;
    let rows = store::seals_of(s.store.reader(), org_id).await?;
    Ok(KINDS
        .iter()
        .filter_map(|(k, l)| {
            rows.iter().find(|r| r.kind == *k).map(|r| SealView {
                kind: r.kind.clone(),
                label: (*l).to_string(),
                image_png_base64: r.image_b64.clone(),
                image_sha256: r.image_sha256.clone(),
                updated_at: r.updated_at,
            })
        })
        .collect())
}

/// Store (or replace) a seal of an institution.
pub async fn store(s: &Services, actor: &Actor, org_id: i64, input: SealInput) -> Result<Vec<SealView>> {
    actor.require(Action::ManageOrganisations)?;
    let label = kind_label(&input.kind)?;
    let org =
        choucha_store::organisations::get(s.store.reader(), org_id).await.map_err(ServiceError::not_found("机构"))?;
    let b64 = input.image_png_base64.trim();
    let field = |v: RuleViolation| ServiceError::invalid(v.on_field("file"));
    if b64.is_empty() {
        return Err(field(RuleViolation::new("required", "请选择印章图片（PNG，透明背景）")));
    }
    if b64.len() > MAX_SEAL_B64 {
        return Err(field(RuleViolation::new("seal_too_large", "印章图片不得超过1.5MB")));
    }
    let sha = crate::signature::png_sha(b64).map_err(|v| field(RuleViolation::new(v.code, "印章图片须为 PNG 格式")))?;
    let tx = s.write(actor).await?;
    store::put_seal(&tx, org_id, &input.kind, b64.to_string(), sha.clone()).await?;
    tx.commit(AuditEntry::new(
        "seal.store",
        "organisation",
        org_id,
        json!(null),
        json!({"org": org.name, "kind": label, "image_sha256": sha}),
    ))
    .await?;
    list(s, actor, org_id).await
}

/// Remove a seal of an institution.
pub async fn remove(s: &Services, actor: &Actor, org_id: i64, kind: &str) -> Result<()> {
    actor.require(Action::ManageOrganisations)?;
    let label = kind_label(kind)?;
    let Some(before) = store::seal(s.store.reader(), org_id, kind).await? else {
        return Err(ServiceError::NotFound("印章"));
    };
    let tx = s.write(actor).await?;
    store::remove_seal(&tx, org_id, kind).await?;
    tx.commit(AuditEntry::new(
        "seal.remove",
        "organisation",
        org_id,
        json!({"kind": label, "image_sha256": before.image_sha256}),
        json!(null),
    ))
    .await?;
    Ok(())
}

/// Which stored seal a form places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SealKind {
    /// 检验检测专用章: an issued test or re-test report.
    Inspection,
    /// 公章: a bureau's orders (责令…通知书).
    Official,
}

impl SealKind {
    fn as_str(self) -> &'static str {
        match self {
            SealKind::Inspection => "inspection",
            SealKind::Official => "official",
        }
    }
}

/// The seal of `kind` that `org_id` stored, decoded for a form, if it stored one.
pub(crate) async fn placed_seal(
    s: &Services,
    org_id: i64,
    kind: SealKind,
) -> Result<Option<choucha_documents::Signature>> {
    use base64::Engine as _;
    Ok(store::seal(s.store.reader(), org_id, kind.as_str()).await?.and_then(|r| {
        base64::engine::general_purpose::STANDARD
            .decode(r.image_b64.trim())
            .ok()
            .map(|image| choucha_documents::Signature { signer: String::new(), image: Some(image), signed_at: None })
    }))
}

/// [`store`] for an uploaded file's bytes.
pub async fn store_file(s: &Services, actor: &Actor, org_id: i64, kind: &str, png: &[u8]) -> Result<Vec<SealView>> {
    use base64::Engine as _;
    let input =
        SealInput { kind: kind.to_string(), image_png_base64: base64::engine::general_purpose::STANDARD.encode(png) };
    store(s, actor, org_id, input).await
}
