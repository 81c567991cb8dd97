//! The custodian's hand-overs on a received sample's page (issue 18): a later movement of a portion
//! (stored, to the tester and back, disposed — a disposal witnessed on this phone or by another
//! custodian), and confirming the hand-overs the custodian is the other hand of. Checked in
//! `choucha_service::lab::move_portion` and `choucha_service::custody_hands`.

use super::*;
use choucha_service::custody_hands::{self, ConfirmInput, HandOverView};
use choucha_service::lab::MovementInput;

/// The hand-overs of a received sample with their confirmations, for its custodian (none for a
/// rejected sample, which has no blind code and stays in no one's custody here).
pub(super) async fn hand_overs_for_link(st: &AppState, a: &Actor, l: &LinkView) -> PageResult<Vec<HandOverView>> {
    match &l.blind_code {
        Some(code) if l.actions.contains(&Action::ManageSample) => {
            Ok(custody_hands::hand_overs_of_sample(&st.services, a, code).await?)
        }
        _ => Ok(Vec::new()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MovementForm {
    #[serde(default)]
    portion: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    seal_state: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    temperature_c: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    witness_name: String,
    #[serde(default)]
    witness_signature_png_base64: String,
}

/// A temperature typed on the form: empty is none; a comma is a decimal point.
fn temperature_of(t: &str) -> Result<Option<f64>, String> {
    let t = t.trim().replace(['，', ','], ".");
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>().map(Some).map_err(|_| format!("温度“{t}”不是数字，请填写如 4 或 -18.5"))
}

pub(super) async fn move_portion(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<MovementForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let back = format!("/lab/received/{id}");
    let temperature_c = match temperature_of(&f.temperature_c) {
        Ok(t) => t,
        Err(m) => return not_done(&session, &m, &back).await,
    };
    let input = MovementInput {
        portion: f.portion,
        kind: f.kind,
        seal_state: f.seal_state,
        location: f.location,
        note: f.note,
        temperature_c,
        witness_name: f.witness_name,
        witness_signature_png_base64: f.witness_signature_png_base64,
    };
    done(&session, lab::move_portion(&st.services, &a, id, input).await, &back, |_| "已登记样品流转").await
}

/// The custodian confirms, from the sample's page, a hand-over it is the other hand of (another
/// custodian's disposal, the re-test lab's receipt of a backup portion).
pub(super) async fn confirm(
    Page { state: st, session, actor: a }: Page,
    PagePath((id, event)): PagePath<(String, String)>,
    PageForm(f): PageForm<ConfirmHandOverForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let event = id_of(&event, "样品交接")?;
    let back = format!("/lab/received/{id}");
    let input = ConfirmInput { use_stored_signature: f.use_stored_signature.is_some(), ..Default::default() };
    done(&session, custody_hands::confirm(&st.services, &a, event, input).await, &back, |v| {
        format!("已确认交接：{}", v.kind_label)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::temperature_of;

    #[test]
    fn temperatures_are_read_as_people_type_them() {
        assert_eq!(temperature_of(""), Ok(None));
        assert_eq!(temperature_of(" -18，5 "), Ok(Some(-18.5)));
        assert_eq!(temperature_of("4"), Ok(Some(4.0)));
        assert!(temperature_of("四度").is_err());
    }
}
