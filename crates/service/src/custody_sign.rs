//! The low parts of custody signed by both hands (issue 18), used by the writers of hand-overs
//! (dispatch, the lab's receipt and movements, the re-test's dispatch and receipt): the temperature
//! check, a signature drawn on the writer's phone, and the receiving custodian's confirmation
//! written with a receipt. The confirmation use case itself is `custody_hands`.

use choucha_domain::RuleViolation;
use choucha_store::custody::{self, CustodyRow, NewConfirmation, NewCustodyEvent};
use chrono::{DateTime, Utc};

use crate::{Actor, Result, ServiceError, Services};

/// The coldest and warmest temperature (°C) a hand-over may record: a freezer to a hot car.
pub const TEMPERATURE_RANGE: std::ops::RangeInclusive<f64> = -80.0..=60.0;

/// A recorded temperature, checked: finite and within [`TEMPERATURE_RANGE`].
pub(crate) fn check_temperature(t: Option<f64>) -> std::result::Result<(), RuleViolation> {
    match t {
        Some(v) if !v.is_finite() || !TEMPERATURE_RANGE.contains(&v) => {
            Err(RuleViolation::new("invalid_temperature", "温度应在 -80 ℃ 至 60 ℃ 之间").on_field("temperature_c"))
        }
        _ => Ok(()),
    }
}

/// The SHA-256 of a signature PNG drawn on the writer's phone (a courier, a witness), stored with
/// the evidence files; empty when none was drawn.
pub(crate) async fn store_drawn_signature(s: &Services, b64: &str, field: &'static str) -> Result<String> {
    use base64::Engine;
    let b64 = b64.trim();
    if b64.is_empty() {
        return Ok(String::new());
    }
    crate::signature::png_sha(b64).map_err(|v| ServiceError::invalid(v.on_field(field)))?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(ServiceError::internal)?;
    if bytes.len() > 512 * 1024 {
        return Err(ServiceError::invalid(
            RuleViolation::new("signature_too_large", "签名图片不得超过512KB").on_field(field),
        ));
    }
    Ok(crate::evidence::store_bytes(s, &bytes).await?.0)
}

/// Who must confirm the other side of a hand-over, in Chinese.
pub fn counter_party_label(c: &str) -> &'static str {
    match c {
        "custodian" => "检验机构样品管理员",
        "tester" => "检验人员",
        "retest_custodian" => "复检机构样品管理员",
        "witness" => "处置见证人",
        _ => "",
    }
}

/// The receiving custodian's side of a task's open dispatches (or a re-test lab's of the backup
/// portion sent to it), written with the receipt in its transaction.
pub(crate) async fn confirm_on_receipt(
    tx: &crate::Write,
    actor: &Actor,
    task_id: i64,
    kind: &str,
    at: Option<DateTime<Utc>>,
) -> Result<()> {
    for e in custody::unconfirmed_of_kind(tx.conn(), task_id, kind).await? {
        custody::confirm(
            tx,
            NewConfirmation {
                event_id: e.id,
                task_id,
                confirmed_by: Some(actor.user_id),
                confirmed_name: actor.display_name.clone(),
                note: "接收时确认".into(),
                confirmed_at: at,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// Writes hand-over `e` in `tx`; when its other hand signed on the writer's phone (`signer`, the
/// stored signature `signature_sha`), that signature is its confirmation at once.
pub(crate) async fn insert_signed_on_phone(
    tx: &crate::Write,
    e: NewCustodyEvent,
    signer: &str,
    signature_sha: &str,
    note: &str,
) -> Result<CustodyRow> {
    let task_id = e.task_id;
    let row = custody::insert(tx, e).await?;
    if !signature_sha.is_empty() {
        custody::confirm(
            tx,
            NewConfirmation {
                event_id: row.id,
                task_id,
                confirmed_name: signer.into(),
                signature_sha: signature_sha.into(),
                note: note.into(),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(row)
}
