//! The licence check (rule 14).

use choucha_domain::lab::{self as rules, LicenceAction, LicenceState};
use choucha_domain::workflow;

use choucha_store::audit::AuditEntry;
use choucha_store::lab::{self as store, SampleChanges, SamplePatch};
use choucha_store::{draws as store_draws, enterprises, plans as store_plans};
use sea_orm::ActiveValue::Set;
use serde::Serialize;
use serde_json::json;

use super::signed_record;
use crate::access::Ask;
use crate::{Actor, Result, Services};
use choucha_domain::access::Action;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LicenceCheckView {
    pub blind_code: String,
    /// none | production_licence | ccc
    pub required: String,
    pub state: LicenceState,
    pub state_label: String,
}

/// Rule 14: before testing a product under 生产许可/CCC the producer's licence is checked against the
/// registry. The check is a yes/no by the system, so a tester may run it without learning who the
/// producer is; a failure stops testing and reaches the organising bureau.
pub async fn check_licence(s: &Services, actor: &Actor, code: &str) -> Result<LicenceCheckView> {
    let (sample, st) = super::by_code(s, actor, code).await?;
    st.require_or(Action::CheckLicence, "许可证核查由承检机构的样品管理员或检验人员进行")?;
    let view = |state: LicenceState| LicenceCheckView {
        blind_code: sample.blind_code.clone().unwrap_or_default(),
        required: sample.licence_required.clone(),
        state,
        state_label: state.label().to_string(),
    };
    let action = |licensed: bool| if licensed { LicenceAction::Confirm } else { LicenceAction::Fail };
    if !workflow::allows(sample.licence_state, LicenceAction::Confirm) {
        return Ok(view(sample.licence_state));
    }
    let db = s.store.reader();
    let task = store_draws::get_task(db, sample.task_id).await?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let producer = if rec.producer_uscc.trim().is_empty() {
        Some(enterprises::get(db, task.enterprise_id).await?)
    } else {
        enterprises::find_by_uscc(db, &rec.producer_uscc.trim().to_uppercase()).await?
    };
    let today = s.today();
    let licensed = match (&producer, sample.licence_required.as_str()) {
        (Some(p), "production_licence") => {
            p.licence_no.as_deref().is_some_and(|n| !n.trim().is_empty())
                && p.licence_valid_until.is_none_or(|d| d >= today)
        }
        (Some(p), "ccc") => p.ccc_cert_no.as_deref().is_some_and(|n| !n.trim().is_empty()),
        _ => false,
    };
    let what = if sample.licence_required == "ccc" { "强制性产品认证证书" } else { "生产许可证" };
    let code_s = sample.blind_code.clone().unwrap_or_default();
    let tx = s.write(actor).await?;
    if licensed {
        store::update_sample(
            &tx,
            sample.id,
            sample.state,
            SamplePatch {
                licence_state: Some(workflow::step(sample.licence_state, action(true))?),
                set: SampleChanges {
                    licence_note: Set(format!("经名录库核查，生产者持有有效{what}")),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await?;
    } else {
        let next = workflow::step(sample.state, rules::SampleAction::StopUnlicensed)?;
        store::update_sample(
            &tx,
            sample.id,
            sample.state,
            SamplePatch {
                state: Some(next),
                licence_state: Some(workflow::step(sample.licence_state, action(false))?),
                set: SampleChanges {
                    licence_note: Set(format!("经名录库核查，未查到生产者有效的{what}")),
                    ..Default::default()
                },
            },
        )
        .await?;
        let plan = store_plans::get_plan(db, sample.plan_id).await?;
        let item = store_plans::get_item(db, sample.item_id).await?;
        choucha_store::sampling::insert_inbox(
            &tx,
            plan.organising_org_id,
            "lab_unlicensed",
            &format!("终止检验：样品{code_s}（{}）的生产者未查到有效的{what}（规则14）", item.product),
            "sampling_task",
            sample.task_id,
        )
        .await?;
    }
    let state = workflow::next(sample.licence_state, action(licensed))?;
    tx.commit(AuditEntry::new(
        "lab.licence_check",
        "lab_sample",
        sample.id,
        json!({"licence_state": sample.licence_state}),
        json!({"licence_state": state}),
    ))
    .await?;
    Ok(view(state))
}
