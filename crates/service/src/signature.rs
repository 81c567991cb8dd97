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
