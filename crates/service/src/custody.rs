//! The custody chain of a sample from the site (rule 8): seals written when the record locks, and
//! the dispatch to the testing institution (carried or shipped). The testing institution sees the
//! chain without the enterprise (rule 13).

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::sampling::{self as rules, BackupRequestState, RecordFields, TaskState};
use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, CustodyRow, NewCustodyEvent};
use choucha_store::handover::{self as store};
use choucha_store::organisations;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::task_context::{ctx, in_force, required, rule, seals};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

// ---------------------------------------------------------------------------------------------
// Custody: seals and dispatch (rule 8)

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustodyView {
    pub id: i64,
    /// test | backup | all
    pub portion: String,
    pub portion_label: String,
    /// sealed | dispatched | received | … | kept_at_enterprise
    pub kind: String,
    pub kind_label: String,
    /// intact | broken | not_applicable
    pub seal_state: choucha_domain::lab::SealState,
    pub location: String,
    /// carried | shipped (dispatch only)
    pub mode: String,
    pub carrier: String,
    pub tracking_no: String,
    pub note: String,
    pub actor_name: String,
    pub happened_at: DateTime<Utc>,
}

/// The Chinese name of a custody event's portion (`test`, `backup`, `all`).
pub fn portion_label(p: &str) -> &'static str {
    match p {
        "test" => "检验样品",
        "backup" => "备用样品",
        _ => "全部样品",
    }
}

/// The Chinese name of a custody stage (`sealed`, `received`, …).
pub fn custody_kind_label(k: &str) -> &'static str {
    match k {
        "sealed" => "封样",
        "dispatched" => "寄送/带回检验机构",
        "received" => "检验机构接收",
        "rejected" => "拒收",
        "stored" => "入库保存",
        "to_testing" => "领取检验",
        "returned" => "退还",
        "to_retest" => "复检领用",
        "retest_dispatched" => "寄往复检机构",
        "disposed" => "处置",
        "kept_at_enterprise" => "经批准在被抽样单位封存",
        _ => "其他",
    }
}

fn custody_view(r: CustodyRow) -> CustodyView {
    CustodyView {
        id: r.id,
        portion_label: portion_label(&r.portion).into(),
        portion: r.portion,
        kind_label: custody_kind_label(&r.kind).into(),
        kind: r.kind,
        seal_state: r.seal_state,
        location: r.location,
        mode: r.mode,
        carrier: r.carrier,
        tracking_no: r.tracking_no,
        note: r.note,
        actor_name: r.actor_name,
        happened_at: r.happened_at,
    }
}

/// The seals of a record that has just been locked (rule 8): one `sealed` event per portion, with
/// its seal numbers, in the locking transaction. Called by `sampling::sign`.
pub(crate) async fn write_seals(tx: &Write, actor: &Actor, task_id: i64, fields_json: &str) -> Result<()> {
    let f: RecordFields = serde_json::from_str(fields_json).map_err(ServiceError::internal)?;
    let at = rules::parse_local_time(&f.sampled_at).map(rules::local_to_utc);
    let mut portions = vec![("test", seals(&f.test_seals))];
    if f.backup_quantity > 0.0 {
        portions.push(("backup", seals(&f.backup_seals)));
    }
    for (portion, numbers) in portions {
        custody::insert(
            tx,
            NewCustodyEvent {
                task_id,
                portion: portion.into(),
                kind: "sealed".into(),
                seal_state: choucha_domain::lab::SealState::Intact,
                location: "抽样现场".into(),
                note: format!("封条编号：{numbers}"),
                actor_id: Some(actor.user_id),
                actor_name: actor.display_name.clone(),
                happened_at: at,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// The custody chain of a task's portions, oldest first: the team, the organising bureau and the
/// testing institution's custodian. Never its testers or approvers (rule 13): the chain carries the
/// task id, seal numbers, samplers' names and times that the enterprise's records carry too, so it
/// would join a blind sample to its enterprise. A tester who is also the custodian sees it as custodian.
pub async fn custody(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<CustodyView>> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).visible(Action::ViewCustody, "抽样任务")?;
    Ok(custody::of_task(s.store.reader(), task_id).await?.into_iter().map(custody_view).collect())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DispatchInput {
    /// carried (带回) | shipped (寄送)
    pub mode: String,
    /// Courier company (shipped) or who carries it.
    #[serde(default)]
    pub carrier: String,
    /// Required when shipped.
    #[serde(default)]
    pub tracking_no: String,
    /// Defaults to now; never in the future.
    #[serde(default)]
    pub dispatched_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub note: String,
    /// The courier (or whoever carries it for the team) who takes the sample: an outside party
    /// without an account, who signs on the sampler's phone.
    #[serde(default)]
    pub courier_name: String,
    /// The courier's signature drawn on the sampler's phone (PNG, base64).
    #[serde(default)]
    pub courier_signature_png_base64: String,
    /// Temperature at the hand-over (°C, -80..=60), where it matters.
    #[serde(default)]
    pub temperature_c: Option<f64>,
}

/// A sampled task's sample leaves for the testing institution (carried or shipped): the test
/// portion, and the backup portion unless it stays at the enterprise with approval (rule 9).
pub async fn dispatch(s: &Services, actor: &Actor, task_id: i64, input: DispatchInput) -> Result<Vec<CustodyView>> {
    let c = ctx(s, task_id).await?;
    c.require_team(actor)?;
    if c.task.state != TaskState::Sampled {
        return Err(rule("task_state", "抽样单签字锁定（已抽样）后才能寄送或带回样品"));
    }
    let db = s.store.reader();
    if custody::last_of_kind(db, task_id, "dispatched").await?.is_some() {
        return Err(rule("already_dispatched", "该样品已登记寄送/带回，不能重复登记"));
    }
    let requests = store::backup_requests_of(db, task_id).await?;
    if requests.iter().any(|r| r.state == BackupRequestState::Pending) {
        return Err(rule(
            "rule9_pending",
            "备用样品在被抽样单位封存的申请尚待组织监督抽查的部门批复，批复后再登记寄送（规则9）",
        ));
    }
    let now = s.now();
    let mut errs = Vec::new();
    let mode = input.mode.trim();
    if !matches!(mode, "carried" | "shipped") {
        errs.push(RuleViolation::new("invalid_mode", "寄送方式应为带回（carried）或寄送（shipped）").on_field("mode"));
    }
    if mode == "shipped" && input.tracking_no.trim().is_empty() {
        errs.push(required("tracking_no", "寄送的样品须填写快递单号"));
    }
    if mode == "shipped" && input.carrier.trim().is_empty() {
        errs.push(required("carrier", "请填写快递公司"));
    }
    let at = input.dispatched_at.unwrap_or(now);
    if at > now + chrono::Duration::minutes(5) {
        errs.push(RuleViolation::new("future_time", "寄送时间不能晚于现在").on_field("dispatched_at"));
    }
    if let Err(v) = crate::custody_sign::check_temperature(input.temperature_c) {
        errs.push(v);
    }
    let courier_name = input.courier_name.trim().chars().take(100).collect::<String>();
    if courier_name.is_empty() && !input.courier_signature_png_base64.trim().is_empty() {
        errs.push(required("courier_name", "请填写签字的承运人姓名"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let courier_sha = crate::custody_sign::store_drawn_signature(
        s,
        &input.courier_signature_png_base64,
        "courier_signature_png_base64",
    )
    .await?;
    let (_, f) = in_force(s, task_id).await?.ok_or(ServiceError::NotFound("抽样单"))?;
    let kept = requests.iter().any(|r| r.state == BackupRequestState::Approved);
    let lab = match c.item.testing_org_id {
        Some(o) => organisations::get(db, o).await?.name,
        None => "检验机构".into(),
    };
    let mut portions = vec![("test", seals(&f.test_seals))];
    if f.backup_quantity > 0.0 && !kept {
        portions.push(("backup", seals(&f.backup_seals)));
    }
    let tx = s.write(actor).await?;
    // The audit head is locked first, so two dispatches of one sample are serialised and the
    // check below sees the first one.
    tx.audit(AuditEntry::new(
            "sample.dispatch",
            "sampling_task",
            task_id,
            json!(null),
            json!({"mode": mode, "carrier": input.carrier.trim(), "courier_name": courier_name, "courier_signature_sha256": courier_sha, "temperature_c": input.temperature_c, "tracking_no": input.tracking_no.trim(), "dispatched_at": at, "portions": portions.iter().map(|p| p.0).collect::<Vec<_>>()}),
        ));
    if custody::last_of_kind(tx.conn(), task_id, "dispatched").await?.is_some() {
        return Err(rule("already_dispatched", "该样品已登记寄送/带回，不能重复登记"));
    }
    if store::backup_requests_of(tx.conn(), task_id).await?.iter().any(|r| r.state == BackupRequestState::Pending) {
        return Err(rule("rule9_pending", "备用样品在被抽样单位封存的申请尚待批复（规则9）"));
    }
    for (portion, numbers) in &portions {
        custody::insert(
            &tx,
            NewCustodyEvent {
                task_id,
                portion: (*portion).into(),
                kind: "dispatched".into(),
                seal_state: choucha_domain::lab::SealState::Intact,
                location: format!("送往{lab}"),
                mode: mode.into(),
                carrier: input.carrier.trim().into(),
                tracking_no: input.tracking_no.trim().into(),
                note: [format!("封条编号：{numbers}"), input.note.trim().to_string()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("；"),
                actor_id: Some(actor.user_id),
                actor_name: actor.display_name.clone(),
                happened_at: Some(at),
                from_party: format!("抽样人员 {}", actor.display_name),
                to_party: format!("{lab}样品管理员"),
                counter_party: "custodian".into(),
                courier_name: courier_name.clone(),
                courier_signature_sha: courier_sha.clone(),
                temperature_c: input.temperature_c,
                ..Default::default()
            },
        )
        .await?;
    }
    tx.commit_recorded().await?;
    custody(s, actor, task_id).await
}
