//! The backup portion leaves the first laboratory for the re-test laboratory (rule 18): the first
//! laboratory's custodian records the dispatch — when (Beijing time), by which carrier or way, the
//! seal numbers as packed and the seal's state — before the re-test laboratory can receive it; the
//! receiving custodian's seal check compares against what was dispatched. Blind re-test staff never
//! see the seal numbers (`blinded`). When the re-test stays in the first laboratory (a stated
//! reason, rule 18) the portion does not travel and no dispatch is asked for.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::clock::{beijing_minutes, from_beijing};
use choucha_domain::retest::RetestState;
use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, NewCustodyEvent};
use choucha_store::retests::{self as store, DispatchRow, NewDispatch, RetestRow};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{RetestView, get, load, org_name};
use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RetestDispatchInput {
    /// When the portion left, Beijing time `YYYY-MM-DD HH:MM` (now when empty).
    #[serde(default)]
    pub dispatched_at: String,
    /// The carrier and way: EMS with its tracking number, hand-carried by whom…
    pub carrier: String,
    /// The seal numbers on the package as packed.
    #[serde(default)]
    pub seals: Vec<String>,
    /// The seal was intact when packed.
    pub seal_intact: bool,
    /// What was noted (required when the seal is not intact).
    #[serde(default)]
    pub note: String,
}

/// The dispatch as the re-test view shows it (never to blind staff).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RetestDispatchView {
    /// Beijing time `YYYY-MM-DD HH:MM`.
    pub dispatched_at: String,
    pub carrier: String,
    pub seals: Vec<String>,
    pub seal_intact: bool,
    pub seal_state_label: String,
    pub note: String,
    pub by: String,
}

pub(super) fn seals_of(d: &DispatchRow) -> Vec<String> {
    d.seals.lines().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

pub(super) fn dispatch_view(d: &DispatchRow) -> RetestDispatchView {
    RetestDispatchView {
        dispatched_at: beijing_minutes(d.dispatched_at),
        carrier: d.carrier.clone(),
        seals: seals_of(d),
        seal_intact: d.seal_intact,
        seal_state_label: choucha_domain::lab::SealState::of(d.seal_intact).label().into(),
        note: d.note.clone(),
        by: d.actor_name.clone(),
    }
}

/// Whether the backup portion travels to another laboratory (and so must be dispatched first).
pub(super) fn travels(r: &RetestRow) -> bool {
    r.first_org_id != r.retest_org_id
}

/// The first laboratory's custodian records the dispatch of the backup portion, once, while the
/// re-test waits for it.
pub async fn dispatch(s: &Services, actor: &Actor, id: i64, input: RetestDispatchInput) -> Result<RetestView> {
    let (r, rel) = load(s, actor, id).await?;
    rel.require_or(Action::DispatchBackup, "复检备用样品由初检机构的样品管理员寄出（规则18）")?;
    if r.state != RetestState::Assigned || !travels(&r) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule18_not_dispatchable",
            format!("复检当前为“{}”，无需登记寄出备用样品", r.state.label()),
        )));
    }
    let mut errs = Vec::new();
    let carrier = input.carrier.trim().to_string();
    if carrier.is_empty() {
        errs.push(RuleViolation::new("required", "请填写寄送方式（快递公司及单号，或送样人）").on_field("carrier"));
    }
    let mut seals: Vec<String> = Vec::new();
    for x in input.seals.iter().map(|x| x.trim().to_uppercase()).filter(|x| !x.is_empty()) {
        if !seals.contains(&x) {
            seals.push(x);
        }
    }
    if seals.is_empty() {
        errs.push(RuleViolation::new("required", "请填写包装上的封条编号").on_field("seals"));
    }
    if !input.seal_intact && input.note.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请说明封条的异常情况").on_field("note"));
    }
    let now = s.now();
    let at = match input.dispatched_at.trim() {
        "" => now,
        t => match NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M"))
        {
            Ok(b) if from_beijing(b) <= now => from_beijing(b),
            Ok(_) => {
                errs.push(RuleViolation::new("future_date", "寄出时间不能晚于现在").on_field("dispatched_at"));
                now
            }
            Err(_) => {
                errs.push(
                    RuleViolation::new("invalid_time", "寄出时间格式应为“年-月-日 时:分”（北京时间）")
                        .on_field("dispatched_at"),
                );
                now
            }
        },
    };
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let sender = org_name(s, r.first_org_id).await;
    let receiver = org_name(s, r.retest_org_id).await;
    let tx = s.write(actor).await?;
    store::insert_dispatch(
        &tx,
        NewDispatch {
            retest_id: r.id,
            dispatched_at: at,
            carrier: carrier.clone(),
            seals: seals.clone(),
            seal_intact: input.seal_intact,
            note: input.note.trim().into(),
            actor_id: actor.user_id,
            actor_name: format!("{}（{sender}）", actor.display_name),
        },
    )
    .await
    .map_err(|e| match e {
        choucha_store::StoreError::Duplicate(_) => {
            ServiceError::Rule(RuleViolation::new("rule18_already_dispatched", "该复检的备用样品已登记寄出"))
        }
        other => other.into(),
    })?;
    custody::insert(
        &tx,
        NewCustodyEvent {
            task_id: r.task_id,
            portion: "backup".into(),
            kind: "retest_dispatched".into(),
            seal_state: choucha_domain::lab::SealState::of(input.seal_intact),
            location: sender,
            carrier: carrier.clone(),
            note: format!("寄往复检机构（{}），封条{}", r.blind_code, seals.join("、")),
            actor_id: Some(actor.user_id),
            actor_name: actor.display_name.clone(),
            from_party: format!("样品管理员 {}", actor.display_name),
            to_party: format!("{receiver}样品管理员"),
            counter_party: "retest_custodian".into(),
            ..Default::default()
        },
    )
    .await?;
    tx.commit(AuditEntry::new(
        "retest.dispatch",
        "retest",
        r.id,
        json!(null),
        json!({"dispatched_at": at, "carrier": carrier, "seals": seals, "seal_intact": input.seal_intact}),
    ))
    .await?;
    get(s, actor, id).await
}
