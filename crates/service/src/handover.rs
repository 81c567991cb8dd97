//! Hand-over after sampling: seals and dispatch to the testing institution (the start of the
//! custody chain, rule 8), the backup portion kept at the enterprise with the organising bureau's
//! approval (rule 9), the forms left with the enterprise as PDFs from the stored data, tasks that
//! could not be sampled, the entry deadline of rule 16 and the plan's costs (rule 21).
//!
//! Who sees what: the team's samplers, the organising bureau and the enterprise's local bureau see
//! a task's documents; the testing institution sees the custody chain, which never names the
//! enterprise (rule 13).

use choucha_documents as docs;
use choucha_domain::RuleViolation;
use choucha_domain::money::yuan;
use choucha_domain::sampling::{
    self as rules, BackupRequestAction, BackupRequestState, EntryStatus, NotSampledReason, RecordFields, RecordState,
    TaskAction, TaskState,
};
use choucha_domain::workflow;
use choucha_store::audit::{self, AuditEntry};
use choucha_store::custody::{self, CustodyRow, NewCustodyEvent};
use choucha_store::draws::{self as store_draws, TaskRow};
use choucha_store::handover::{self as store, BackupRequestRow, EntryScope, NewBackupRequest};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use choucha_store::sampling::{self as store_sampling, RecordRow};
use choucha_store::{Tx, enterprises, organisations, users};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::{Action, Relations};

/// A task with what its checks need.
struct Ctx {
    task: TaskRow,
    team: Vec<i64>,
    plan: PlanRow,
    item: ItemRow,
}

async fn ctx(s: &Services, task_id: i64) -> Result<Ctx> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let team = store_draws::team_of(db, task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    Ok(Ctx { task, team, plan, item })
}

impl Ctx {
    /// How the caller stands towards the task (the local bureau is not looked up).
    fn rel(&self, a: &Actor) -> Relations {
        a.to_task(crate::draws::task_parties(&self.plan, &self.item, &self.team))
    }

    /// As [`Ctx::rel`], with the enterprise's local bureau looked up.
    async fn rel_with_local(&self, s: &Services, a: &Actor) -> Result<Relations> {
        let ent = enterprises::get(s.store.reader(), self.task.enterprise_id).await?;
        let local = store_sampling::local_bureau_of(s.store.reader(), &ent.division_code).await?;
        let mut parties = crate::draws::task_parties(&self.plan, &self.item, &self.team);
        parties.local_org_id = local;
        Ok(a.to_task(parties))
    }

    fn is_team(&self, a: &Actor) -> bool {
        self.rel(a).contains(choucha_domain::access::Relation::SamplingTeam)
    }

    /// Only a sampler of the task's team acts on site.
    fn require_team(&self, a: &Actor) -> Result<()> {
        if self.is_team(a) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("只有该任务抽样组的抽样人员可以办理".into()))
        }
    }

    fn record_no(&self, version: i32) -> String {
        format!("{}-{:06}-{}", self.plan.year, self.task.id, version)
    }
}

/// The documents of a task: the team, the organising bureau, the enterprise's local bureau
/// (never a tester: the documents name the enterprise).
async fn documents_ctx(s: &Services, a: &Actor, task_id: i64) -> Result<Ctx> {
    let c = ctx(s, task_id).await?;
    c.rel_with_local(s, a).await?.visible(Action::ViewTaskDocuments, "抽样任务")?;
    Ok(c)
}

fn rule(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Rule(RuleViolation::new(code, message))
}

fn required(field: &'static str, message: &str) -> RuleViolation {
    RuleViolation::new("required", message).on_field(field)
}

/// The version in force: the newest signed one, else the newest.
async fn in_force(s: &Services, task_id: i64) -> Result<Option<(RecordRow, RecordFields)>> {
    let versions = store_sampling::records_of_task(s.store.reader(), task_id).await?;
    let Some(r) = versions.iter().find(|v| v.state == RecordState::Signed).or(versions.first()).cloned() else {
        return Ok(None);
    };
    let f: RecordFields = serde_json::from_str(&r.fields_json).map_err(ServiceError::internal)?;
    Ok(Some((r, f)))
}

fn seals(v: &[String]) -> String {
    v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("、")
}

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

fn portion_label(p: &str) -> &'static str {
    match p {
        "test" => "检验样品",
        "backup" => "备用样品",
        _ => "全部样品",
    }
}

fn custody_kind_label(k: &str) -> &'static str {
    match k {
        "sealed" => "封样",
        "dispatched" => "寄送/带回检验机构",
        "received" => "检验机构接收",
        "rejected" => "拒收",
        "stored" => "入库保存",
        "to_testing" => "领取检验",
        "returned" => "退还",
        "to_retest" => "复检领用",
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
pub(crate) async fn write_seals(tx: &Tx, actor: &Actor, task_id: i64, fields_json: &str) -> Result<()> {
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
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
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
    let tx = s.store.begin().await?;
    // The audit head is locked first, so two dispatches of one sample are serialised and the
    // check below sees the first one.
    audit::append(
        &tx,
        &actor.audit_actor(),
        AuditEntry::new(
            "sample.dispatch",
            "sampling_task",
            task_id,
            json!(null),
            json!({"mode": mode, "carrier": input.carrier.trim(), "tracking_no": input.tracking_no.trim(), "dispatched_at": at, "portions": portions.iter().map(|p| p.0).collect::<Vec<_>>()}),
        ),
    )
    .await?;
    if custody::last_of_kind(&*tx, task_id, "dispatched").await?.is_some() {
        return Err(rule("already_dispatched", "该样品已登记寄送/带回，不能重复登记"));
    }
    if store::backup_requests_of(&*tx, task_id).await?.iter().any(|r| r.state == BackupRequestState::Pending) {
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
            },
        )
        .await?;
    }
    tx.commit().await?;
    custody(s, actor, task_id).await
}

// ---------------------------------------------------------------------------------------------
// Backup portion kept at the enterprise (rule 9)

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BackupRequestInput {
    /// Why it stays (不易运输、价值昂贵…).
    pub reason: String,
    /// Where it is kept at the enterprise.
    pub storage_place: String,
    #[serde(default)]
    pub storage_conditions: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BackupRequestView {
    pub id: i64,
    pub task_id: i64,
    pub reason: String,
    pub storage_place: String,
    pub storage_conditions: String,
    pub state: BackupRequestState,
    pub state_label: String,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub opinion: String,
    /// The enterprise and product, for the bureau deciding.
    pub enterprise_name: String,
    pub product: String,
}

async fn backup_view(s: &Services, r: BackupRequestRow) -> Result<BackupRequestView> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, r.task_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    Ok(BackupRequestView {
        id: r.id,
        task_id: r.task_id,
        reason: r.reason,
        storage_place: r.storage_place,
        storage_conditions: r.storage_conditions,
        state_label: match r.state {
            BackupRequestState::Pending => "待批复",
            BackupRequestState::Approved => "已批准",
            BackupRequestState::Denied => "未批准",
        }
        .into(),
        state: r.state,
        requested_by: users::get(db, r.requested_by).await?.display_name,
        created_at: r.created_at,
        decided_by: r.decided_by_name,
        decided_at: r.decided_at,
        opinion: r.opinion,
        enterprise_name: ent.name,
        product: item.product,
    })
}

/// The team asks the organising bureau to keep the backup portion sealed at the enterprise (rule 9):
/// with a saved record (in progress) or once sampled, before dispatch, one open request at a time.
pub async fn request_backup(
    s: &Services,
    actor: &Actor,
    task_id: i64,
    input: BackupRequestInput,
) -> Result<BackupRequestView> {
    let c = ctx(s, task_id).await?;
    c.require_team(actor)?;
    let db = s.store.reader();
    let record = in_force(s, task_id).await?;
    let state_ok = c.task.state == TaskState::Sampled || (c.task.state == TaskState::InProgress && record.is_some());
    if !state_ok {
        return Err(rule("task_state", "填写抽样单后（抽样中或已抽样）才能申请备用样品在被抽样单位封存"));
    }
    if record.as_ref().is_some_and(|(_, f)| f.backup_quantity <= 0.0) {
        return Err(rule("no_backup", "抽样单没有备用样品，无需申请封存"));
    }
    if custody::last_of_kind(db, task_id, "dispatched").await?.is_some() {
        return Err(rule("already_dispatched", "样品已寄送/带回检验机构，不能再申请在被抽样单位封存"));
    }
    let existing = store::backup_requests_of(db, task_id).await?;
    if existing.iter().any(|r| r.state == BackupRequestState::Pending) {
        return Err(rule("rule9_open_request", "已有待批复的封存申请，请等待组织监督抽查的部门批复（规则9）"));
    }
    if existing.iter().any(|r| r.state == BackupRequestState::Approved) {
        return Err(rule("rule9_already_approved", "备用样品在被抽样单位封存已获批准"));
    }
    let mut errs = Vec::new();
    if input.reason.trim().is_empty() {
        errs.push(required("reason", "请说明备用样品需在被抽样单位封存的理由"));
    }
    if input.storage_place.trim().is_empty() {
        errs.push(required("storage_place", "请填写封存地点"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let tx = s.store.begin().await?;
    audit::append(
        &tx,
        &actor.audit_actor(),
        AuditEntry::new(
            "backup.request",
            "sampling_task",
            task_id,
            json!(null),
            json!({"reason": input.reason.trim(), "storage_place": input.storage_place.trim(), "storage_conditions": input.storage_conditions.trim()}),
        ),
    )
    .await?;
    // Checked again behind the audit head's lock: one open request at a time.
    if store::backup_requests_of(&*tx, task_id).await?.iter().any(|r| r.state == BackupRequestState::Pending) {
        return Err(rule("rule9_open_request", "已有待批复的封存申请，请等待组织监督抽查的部门批复（规则9）"));
    }
    if custody::last_of_kind(&*tx, task_id, "dispatched").await?.is_some() {
        return Err(rule("already_dispatched", "样品已寄送/带回检验机构，不能再申请在被抽样单位封存"));
    }
    let row = store::insert_backup_request(
        &tx,
        NewBackupRequest {
            task_id,
            org_id: c.plan.organising_org_id,
            reason: input.reason.trim().into(),
            storage_place: input.storage_place.trim().into(),
            storage_conditions: input.storage_conditions.trim().into(),
            requested_by: actor.user_id,
        },
    )
    .await?;
    store_sampling::insert_inbox(
        &tx,
        c.plan.organising_org_id,
        "backup_request",
        &format!("备用样品封存申请：{}（{}）", ent.name, c.item.product),
        "backup_request",
        row.id,
    )
    .await?;
    tx.commit().await?;
    backup_view(s, row).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BackupDecisionInput {
    pub approve: bool,
    #[serde(default)]
    pub opinion: String,
}

/// The organising bureau approves or denies keeping the backup at the enterprise (rule 9). An
/// approval records the backup portion as kept there and makes the sealing notice available.
pub async fn decide_backup(
    s: &Services,
    actor: &Actor,
    request_id: i64,
    input: BackupDecisionInput,
) -> Result<BackupRequestView> {
    let db = s.store.reader();
    let r = store::get_backup_request(db, request_id).await.map_err(ServiceError::not_found("封存申请"))?;
    let c = ctx(s, r.task_id).await?;
    if !c.rel(actor).may(Action::DecideBackup) {
        return Err(rule(
            "rule9_organising_bureau",
            "备用样品在被抽样单位封存须经组织监督抽查的部门批准，其他人员不能审批（规则9）",
        ));
    }
    let t = workflow::step(r.state, BackupRequestAction::decide(input.approve))
        .map_err(|_| rule("already_decided", "该封存申请已批复"))?;
    if !input.approve && input.opinion.trim().is_empty() {
        return Err(ServiceError::invalid(required("opinion", "不批准时请说明理由")));
    }
    let (_, f) = in_force(s, r.task_id).await?.ok_or(ServiceError::NotFound("抽样单"))?;
    let tx = s.store.begin().await?;
    store::decide_backup_request(&tx, r.id, t, actor.user_id, &actor.display_name, input.opinion.trim()).await?;
    if input.approve {
        custody::insert(
            &tx,
            NewCustodyEvent {
                task_id: r.task_id,
                portion: "backup".into(),
                kind: "kept_at_enterprise".into(),
                seal_state: choucha_domain::lab::SealState::Intact,
                location: "被抽样单位（经批准封存）".into(),
                note: format!("封条编号：{}；批复意见：{}", seals(&f.backup_seals), input.opinion.trim()),
                actor_id: Some(actor.user_id),
                actor_name: actor.display_name.clone(),
                ..Default::default()
            },
        )
        .await?;
    }
    store::mark_inbox_read(&tx, c.plan.organising_org_id, None, Some(("backup_request", r.id))).await?;
    audit::append(
        &tx,
        &actor.audit_actor(),
        AuditEntry::new(
            "backup.decide",
            "backup_request",
            r.id,
            json!({"state": t.from()}),
            json!({"state": t.to(), "opinion": input.opinion.trim()}),
        ),
    )
    .await?;
    tx.commit().await?;
    backup_view(s, store::get_backup_request(s.store.reader(), r.id).await?).await
}

/// A task's backup requests, newest first (the team and the organising bureau).
pub async fn backup_requests(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<BackupRequestView>> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).visible(Action::ViewTask, "抽样任务")?;
    let mut out = Vec::new();
    for r in store::backup_requests_of(s.store.reader(), task_id).await? {
        out.push(backup_view(s, r).await?);
    }
    Ok(out)
}

/// One backup request (the team and the organising bureau).
pub async fn get_backup_request(s: &Services, actor: &Actor, id: i64) -> Result<BackupRequestView> {
    let r = store::get_backup_request(s.store.reader(), id).await.map_err(ServiceError::not_found("封存申请"))?;
    let c = ctx(s, r.task_id).await?;
    c.rel(actor).visible(Action::ViewTask, "封存申请")?;
    backup_view(s, r).await
}

// ---------------------------------------------------------------------------------------------
// Arrival: what was shown to the enterprise

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ArrivalInput {
    /// 出示抽查通知书
    pub notice_shown: bool,
    /// 出示抽样人员身份证明
    pub identity_shown: bool,
    /// 出示授权委托书
    pub authorisation_shown: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArrivalView {
    pub task_id: i64,
    pub notice_shown: bool,
    pub identity_shown: bool,
    pub authorisation_shown: bool,
    pub arrived_at: DateTime<Utc>,
}

/// The team records, on arrival, that the spot-check notice, their identity and the authorisation
/// letter were shown to the enterprise (once per task, after starting it).
pub async fn record_arrival(s: &Services, actor: &Actor, task_id: i64, input: ArrivalInput) -> Result<ArrivalView> {
    let c = ctx(s, task_id).await?;
    c.require_team(actor)?;
    if c.task.state != TaskState::InProgress {
        return Err(rule("task_state", "请先“开始抽样”再登记到达企业"));
    }
    let mut errs = Vec::new();
    for (ok, field, label) in [
        (input.notice_shown, "notice_shown", "监督抽查通知书"),
        (input.identity_shown, "identity_shown", "抽样人员身份证明"),
        (input.authorisation_shown, "authorisation_shown", "授权委托书"),
    ] {
        if !ok {
            errs.push(
                RuleViolation::new("documents_not_shown", format!("抽样前须向被抽样单位出示{label}")).on_field(field),
            );
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let tx = s.store.begin().await?;
    let row =
        store::insert_arrival(&tx, task_id, [true, true, true], actor.user_id, s.now()).await.map_err(|e| match e {
            choucha_store::StoreError::Duplicate(_) => rule("already_recorded", "已登记到达企业"),
            other => other.into(),
        })?;
    audit::append(
        &tx,
        &actor.audit_actor(),
        AuditEntry::new(
            "task.arrival",
            "sampling_task",
            task_id,
            json!(null),
            json!({"notice_shown": true, "identity_shown": true, "authorisation_shown": true}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(ArrivalView {
        task_id,
        notice_shown: row.notice_shown,
        identity_shown: row.identity_shown,
        authorisation_shown: row.authorisation_shown,
        arrived_at: row.arrived_at,
    })
}

/// What the team recorded on arrival, if anything: for the team and the organising bureau.
pub async fn arrival(s: &Services, actor: &Actor, task_id: i64) -> Result<Option<ArrivalView>> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).visible(Action::ViewTask, "抽样任务")?;
    Ok(store::arrival_of(s.store.reader(), task_id).await?.map(|row| ArrivalView {
        task_id,
        notice_shown: row.notice_shown,
        identity_shown: row.identity_shown,
        authorisation_shown: row.authorisation_shown,
        arrived_at: row.arrived_at,
    }))
}

// ---------------------------------------------------------------------------------------------
// Not sampled

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NotSampledInput {
    /// closed (停业) | not_found (查无此企业) | no_stock (无符合最低基数的库存) | not_for_sale (非销售产品) | other (其他)
    pub reason_kind: String,
    /// Required for `other`.
    #[serde(default)]
    pub note: String,
}

/// The drawn enterprise cannot be sampled (assigned or in progress): recorded with its reason by
/// the team or the organising bureau; the place goes back to the quota for a redraw, and the
/// organising bureau is told in its inbox.
pub async fn mark_not_sampled(s: &Services, actor: &Actor, task_id: i64, input: NotSampledInput) -> Result<TaskState> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).require_or(Action::MarkNotSampled, "只有该任务的抽样组或组织监督抽查的部门可以记为未抽样")?;
    let t = workflow::step(c.task.state, TaskAction::MarkNotSampled)?;
    let reason: NotSampledReason = input.reason_kind.trim().parse().map_err(ServiceError::invalid)?;
    if reason == NotSampledReason::Other && input.note.trim().is_empty() {
        return Err(ServiceError::invalid(required("note", "原因为“其他”时请说明情况")));
    }
    let ent = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    let tx = s.store.begin().await?;
    let o = store_sampling::insert_outcome(
        &tx,
        task_id,
        "not_sampled",
        json!({"reason_kind": reason.as_str(), "reason": reason.label(), "note": input.note.trim()}).to_string(),
        actor.user_id,
    )
    .await?;
    store_draws::set_task_state(&tx, task_id, t).await?;
    store_sampling::insert_inbox(
        &tx,
        c.plan.organising_org_id,
        "not_sampled",
        &format!("未抽样（{}）：{}（{}），可重新抽取", reason.label(), ent.name, c.item.product),
        "sampling_task",
        task_id,
    )
    .await?;
    audit::append(
        &tx,
        &actor.audit_actor(),
        AuditEntry::new(
            "task.not_sampled",
            "sampling_task",
            task_id,
            json!({"state": t.from()}),
            json!({"state": t.to(), "reason_kind": reason.as_str(), "note": input.note.trim(), "outcome_id": o.id}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(t.to())
}

// ---------------------------------------------------------------------------------------------
// Rule 16: entry deadline

/// A task's rule 16 status: the deadline from the record's sampling time (or the arrival when no
/// record was saved yet), late when first locked after it, overdue when past it and not locked.
pub(crate) async fn entry_of_task(s: &Services, task: &TaskRow, now: DateTime<Utc>) -> Result<Option<EntryStatus>> {
    if !matches!(task.state, TaskState::InProgress | TaskState::Sampled) {
        return Ok(None);
    }
    let db = s.store.reader();
    let versions = store_sampling::records_of_task(db, task.id).await?;
    let arrival = match versions.is_empty() {
        true => store::arrival_of(db, task.id).await?,
        false => None,
    };
    Ok(entry_from(&versions, arrival.as_ref(), now))
}

/// The rule 16 status of a page of tasks in two queries (their records, their arrivals), by task id;
/// the same as `entry_of_task` of each.
pub(crate) async fn entries_of_tasks(
    s: &Services,
    tasks: &[TaskRow],
    now: DateTime<Utc>,
) -> Result<BTreeMap<i64, EntryStatus>> {
    let ids: Vec<i64> =
        tasks.iter().filter(|t| matches!(t.state, TaskState::InProgress | TaskState::Sampled)).map(|t| t.id).collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let db = s.store.reader();
    let mut versions: BTreeMap<i64, Vec<RecordRow>> = BTreeMap::new();
    for r in store_sampling::records_of_tasks(db, &ids).await? {
        versions.entry(r.task_id).or_default().push(r);
    }
    let without: Vec<i64> = ids.iter().copied().filter(|t| !versions.contains_key(t)).collect();
    let arrivals: BTreeMap<i64, store::ArrivalRow> = if without.is_empty() {
        BTreeMap::new()
    } else {
        store::arrivals_of(db, &without).await?.into_iter().map(|a| (a.task_id, a)).collect()
    };
    let mut out = BTreeMap::new();
    for id in ids {
        let v = versions.get(&id).map(Vec::as_slice).unwrap_or_default();
        if let Some(st) = entry_from(v, arrivals.get(&id), now) {
            out.insert(id, st);
        }
    }
    Ok(out)
}

/// Rule 16 from a task's record versions (newest first) or, without a record, its arrival.
fn entry_from(versions: &[RecordRow], arrival: Option<&store::ArrivalRow>, now: DateTime<Utc>) -> Option<EntryStatus> {
    let sampled_at = match versions.first() {
        Some(r) => serde_json::from_str::<RecordFields>(&r.fields_json)
            .ok()
            .and_then(|f| rules::parse_local_time(&f.sampled_at))
            .unwrap_or_else(|| rules::utc_to_local(r.created_at)),
        None => rules::utc_to_local(arrival?.arrived_at),
    };
    // Entered = first locked (a later correction does not make the entry late).
    let locked = versions.iter().filter_map(|v| v.locked_at).min();
    Some(rules::entry_status(sampled_at, locked, now))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryFlag {
    pub task_id: i64,
    pub plan_id: i64,
    pub product: String,
    pub enterprise_name: String,
    pub deadline: DateTime<Utc>,
    /// overdue (deadline passed, not entered) | late (entered after the deadline)
    pub flag: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct EntryFlags {
    pub overdue: Vec<EntryFlag>,
    pub late: Vec<EntryFlag>,
}

/// How many recent tasks a dashboard looks at.
const ENTRY_WINDOW: u64 = 500;

/// Rule 16 flags of a sampler's own tasks.
pub async fn entry_flags_of_sampler(s: &Services, actor: &Actor) -> Result<EntryFlags> {
    actor.require(Action::ClaimTask)?;
    entry_flags_in(s, EntryScope::Member(actor.user_id), s.now()).await
}

/// Rule 16 flags of the plans the regulator's bureau organises.
pub async fn entry_flags_of_bureau(s: &Services, actor: &Actor) -> Result<EntryFlags> {
    actor.require(Action::ViewBureauFlags)?;
    let Some(org) = actor.org_id else { return Err(crate::access::refusal(Action::ViewBureauFlags)) };
    entry_flags_in(s, EntryScope::Organiser(org), s.now()).await
}

async fn entry_flags_in(s: &Services, scope: EntryScope, now: DateTime<Utc>) -> Result<EntryFlags> {
    let db = s.store.reader();
    let mut out = EntryFlags::default();
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    let mut products: BTreeMap<i64, String> = BTreeMap::new();
    for t in store::entry_candidates(db, scope, ENTRY_WINDOW).await? {
        let Some(st) = entry_of_task(s, &t, now).await? else { continue };
        if !(st.late || st.overdue) {
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(v) = names.entry(t.enterprise_id) {
            v.insert(enterprises::get(db, t.enterprise_id).await?.name);
        }
        if let std::collections::btree_map::Entry::Vacant(v) = products.entry(t.item_id) {
            v.insert(store_plans::get_item(db, t.item_id).await?.product);
        }
        let flag = EntryFlag {
            task_id: t.id,
            plan_id: t.plan_id,
            product: products.get(&t.item_id).cloned().unwrap_or_default(),
            enterprise_name: names.get(&t.enterprise_id).cloned().unwrap_or_default(),
            deadline: st.deadline,
            flag: if st.overdue { "overdue" } else { "late" }.into(),
        };
        if st.overdue { out.overdue.push(flag) } else { out.late.push(flag) }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Rule 21: costs

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemCost {
    pub item_id: i64,
    pub number: String,
    pub product: String,
    /// Samples with a locked record.
    pub samples: u32,
    pub paid_fen: i64,
    pub paid_yuan: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanCosts {
    pub plan_id: i64,
    pub items: Vec<ItemCost>,
    pub total_paid_fen: i64,
    pub total_paid_yuan: String,
    pub budget_fen: Option<i64>,
    pub budget_yuan: Option<String>,
    pub remaining_fen: Option<i64>,
    pub remaining_yuan: Option<String>,
    pub over_budget: bool,
    /// What the enterprises were charged: always nothing (rule 21).
    pub charged_to_enterprises_fen: i64,
    /// Concluded re-tests that differed from the first result: their cost is the bureau's (rule 18),
    /// counted in the total.
    pub retest_bureau_fen: i64,
    pub retest_bureau_yuan: String,
    /// Concluded re-tests that agreed: borne by the applicants (not public funds, not in the total).
    pub retest_applicant_fen: i64,
    pub retest_applicant_yuan: String,
}

/// What a plan paid for test portions (locked records), per item and in all, against its budget
/// (the organising bureau; rule 21: public funds, never charged to the enterprise).
pub async fn plan_costs(s: &Services, actor: &Actor, plan_id: i64) -> Result<PlanCosts> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, plan_id).await.map_err(ServiceError::not_found("抽查计划"))?;
    actor.to_plan(plan.organising_org_id).visible(Action::ViewPlanFigures, "抽查计划")?;
    let mut per: BTreeMap<i64, (u32, i64)> = BTreeMap::new();
    for (item, fields) in store::signed_records_of_plan(db, plan_id).await? {
        let f: RecordFields = serde_json::from_str(&fields).map_err(ServiceError::internal)?;
        let e = per.entry(item).or_default();
        e.0 += 1;
        e.1 += f.total_paid_fen();
    }
    let items: Vec<ItemCost> = store_plans::items_of(db, plan_id)
        .await?
        .into_iter()
        .map(|i| {
            let (samples, paid) = per.get(&i.id).copied().unwrap_or_default();
            ItemCost {
                item_id: i.id,
                number: i.number,
                product: i.product,
                samples,
                paid_fen: paid,
                paid_yuan: yuan(paid),
            }
        })
        .collect();
    let (retest_bureau, retest_applicant) = choucha_store::retests::retest_fees_of_plan(db, plan_id).await?;
    let total: i64 = items.iter().map(|i| i.paid_fen).sum::<i64>() + retest_bureau;
    let remaining = plan.budget_cents.map(|b| b - total);
    Ok(PlanCosts {
        plan_id,
        items,
        total_paid_fen: total,
        total_paid_yuan: yuan(total),
        budget_fen: plan.budget_cents,
        budget_yuan: plan.budget_cents.map(yuan),
        remaining_fen: remaining,
        remaining_yuan: remaining.map(yuan),
        over_budget: remaining.is_some_and(|r| r < 0),
        charged_to_enterprises_fen: 0,
        retest_bureau_fen: retest_bureau,
        retest_bureau_yuan: yuan(retest_bureau),
        retest_applicant_fen: retest_applicant,
        retest_applicant_yuan: yuan(retest_applicant),
    })
}

// ---------------------------------------------------------------------------------------------
// Inbox

/// Mark one inbox item of the caller's bureau read.
pub async fn mark_inbox_read(s: &Services, actor: &Actor, item_id: i64) -> Result<()> {
    let item = store::get_inbox_item(s.store.reader(), item_id).await.map_err(ServiceError::not_found("待办事项"))?;
    if actor.org_id != Some(item.org_id) {
        return Err(ServiceError::NotFound("待办事项"));
    }
    let tx = s.store.begin().await?;
    store::mark_inbox_read(&tx, item.org_id, Some(item.id), None).await?;
    audit::append(
        &tx,
        &actor.audit_actor(),
        AuditEntry::new("inbox.read", "inbox_item", item.id, json!(null), json!({"read": true})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Unread items in the caller's organisation's inbox (0 without an organisation).
pub async fn unread_inbox(s: &Services, actor: &Actor) -> Result<u64> {
    match actor.org_id {
        Some(o) => Ok(store::unread_count(s.store.reader(), o).await?),
        None => Ok(0),
    }
}

// ---------------------------------------------------------------------------------------------
// Forms as PDF

/// The team as the forms print it, with their signatures on `record` when given.
async fn samplers(
    s: &Services,
    c: &Ctx,
    record: Option<&RecordRow>,
) -> Result<(Vec<docs::Sampler>, Vec<docs::Signature>)> {
    let db = s.store.reader();
    let sigs = match record {
        Some(r) => store_sampling::signatures_of(db, r.id).await?,
        None => Vec::new(),
    };
    let mut people = Vec::new();
    let mut signatures = Vec::new();
    for u in &c.team {
        let user = users::get(db, *u).await?;
        let sig = sigs.iter().find(|g| g.signer == format!("sampler:{u}"));
        signatures.push(docs::Signature {
            signer: user.display_name.clone(),
            image: sig.and_then(|g| png_of(&g.image_b64)),
            signed_at: sig.map(|g| rules::utc_to_local(g.signed_at)),
        });
        people.push(docs::Sampler { name: user.display_name, id_number: user.id_card_no });
    }
    Ok((people, signatures))
}

fn png_of(b64: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    (!b64.trim().is_empty()).then(|| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()).flatten()
}

fn blank_signature() -> docs::Signature {
    docs::Signature { signer: String::new(), image: None, signed_at: None }
}

async fn institution(s: &Services, c: &Ctx) -> Result<String> {
    Ok(match c.item.sampling_org_id {
        Some(o) => organisations::get(s.store.reader(), o).await?.name,
        None => String::new(),
    })
}

async fn enterprise_doc(s: &Services, c: &Ctx) -> Result<docs::Enterprise> {
    let e = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    Ok(docs::Enterprise {
        name: e.name,
        uscc: e.uscc,
        address: e.address,
        licence_no: e.licence_no.unwrap_or_default(),
        contact: String::new(),
        phone: String::new(),
    })
}

async fn render<T: Send + 'static>(
    s: &Services,
    data: T,
    f: fn(&docs::Renderer, &T) -> std::result::Result<Vec<u8>, docs::DocumentError>,
) -> Result<Vec<u8>> {
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || f(&renderer, &data))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("PDF: {e}")))
}

fn started(c: &Ctx) -> bool {
    c.task.state != TaskState::Assigned
}

/// The spot-check notice (抽查通知书), once the task is started.
pub async fn notice_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    if !started(&c) {
        return Err(rule("task_state", "开始抽样后才能生成抽查通知书"));
    }
    let db = s.store.reader();
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let arrival = store::arrival_of(db, task_id).await?;
    let (people, _) = samplers(s, &c, None).await?;
    let notice = docs::SpotCheckNotice {
        notice_no: format!("TZ-{}-{:06}", c.plan.year, task_id),
        organising_bureau: organiser.name,
        enterprise_name: ent.name,
        enterprise_address: ent.address,
        plan_title: c.plan.title.clone(),
        product_name: c.item.product.clone(),
        sampling_institution: institution(s, &c).await?,
        samplers: people,
        contact: String::new(),
        phone: String::new(),
        date: arrival.map(|a| rules::utc_to_local(a.arrived_at).date()).unwrap_or_else(|| s.today()),
    };
    render(s, notice, docs::spot_check_notice_pdf).await
}

/// The sample payment form (样品付费单) for the test portion: quantity × unit price, marked or
/// market price; paid from public funds, never charged to the enterprise (rules 8 and 21).
pub async fn payment_form_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let (r, f) = in_force(s, task_id).await?.ok_or_else(|| rule("no_record", "填写抽样单后才能生成样品付费单"))?;
    let organiser = organisations::get(s.store.reader(), c.plan.organising_org_id).await?;
    let (_, signatures) = samplers(s, &c, Some(&r)).await?;
    let payee = store_sampling::signatures_of(s.store.reader(), r.id)
        .await?
        .into_iter()
        .find(|g| g.signer == "enterprise" && !g.refused)
        .map(|g| docs::Signature {
            signer: g.signer_name.clone(),
            image: png_of(&g.image_b64),
            signed_at: Some(rules::utc_to_local(g.signed_at)),
        });
    let form = docs::SamplePaymentForm {
        record_no: c.record_no(r.version),
        enterprise_name: enterprises::get(s.store.reader(), c.task.enterprise_id).await?.name,
        product_name: f.product_name.clone(),
        model: f.model.clone(),
        quantity: format!("{}", f.test_quantity),
        unit: f.unit.clone(),
        unit_price: docs::Amount::from_fen((f.unit_price * 100.0).round().max(0.0) as u64),
        price_basis: match f.price_basis {
            rules::PriceBasis::Marked => docs::PriceBasis::MarkedPrice,
            rules::PriceBasis::Market => docs::PriceBasis::MarketPrice,
        },
        total: docs::Amount::from_fen(f.total_paid_fen().max(0) as u64),
        payer_institution: format!("{}（抽查经费，由{}经办）", organiser.name, institution(s, &c).await?),
        date: rules::parse_local_time(&f.sampled_at).map(|t| t.date()).unwrap_or_else(|| s.today()),
        payer_signatures: signatures,
        payee_signature: payee,
    };
    render(s, form, docs::sample_payment_form_pdf).await
}

/// The conduct feedback form (工作质量及工作纪律反馈单), blank, left with the enterprise.
pub async fn feedback_form_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    if !started(&c) {
        return Err(rule("task_state", "开始抽样后才能生成反馈单"));
    }
    let record = in_force(s, task_id).await?;
    let (people, _) = samplers(s, &c, None).await?;
    let organiser = organisations::get(s.store.reader(), c.plan.organising_org_id).await?;
    let form = docs::ConductFeedbackForm {
        record_no: record.as_ref().map(|(r, _)| c.record_no(r.version)).unwrap_or_default(),
        enterprise_name: enterprises::get(s.store.reader(), c.task.enterprise_id).await?.name,
        product_name: c.item.product.clone(),
        sampling_institution: institution(s, &c).await?,
        sampler_names: people.into_iter().map(|p| p.name).collect(),
        sampled_on: record
            .as_ref()
            .and_then(|(_, f)| rules::parse_local_time(&f.sampled_at))
            .map(|t| t.date())
            .unwrap_or_else(|| s.today()),
        answers: docs::ConductAnswers::default(),
        satisfaction: None,
        comments: String::new(),
        feedback_to: organiser.name,
        complaint_phone: String::new(),
        enterprise_signature: None,
        date: None,
    };
    render(s, form, docs::conduct_feedback_form_pdf).await
}

async fn outcome(s: &Services, task_id: i64, kind: &str) -> Result<Option<store_sampling::OutcomeRow>> {
    Ok(store_sampling::outcomes_of(s.store.reader(), task_id).await?.into_iter().rev().find(|o| o.kind == kind))
}

async fn local_bureau_name(s: &Services, c: &Ctx) -> Result<String> {
    let db = s.store.reader();
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    Ok(match store_sampling::local_bureau_of(db, &ent.division_code).await? {
        Some(o) => organisations::get(db, o).await?.name,
        None => String::new(),
    })
}

/// The refusal determination (拒检认定表), after a refusal; with the county bureau's co-signature
/// once given (rule 11).
pub async fn refusal_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let o = outcome(s, task_id, "refusal").await?.ok_or_else(|| rule("no_refusal", "该任务没有拒检记录"))?;
    let details: serde_json::Value = serde_json::from_str(&o.details_json).unwrap_or_default();
    let (people, signatures) = samplers(s, &c, None).await?;
    let enterprise = enterprise_doc(s, &c).await?;
    let cosigner = match o.cosigned_by {
        Some(u) => vec![docs::Signature {
            signer: users::get(s.store.reader(), u).await?.display_name,
            image: None,
            signed_at: o.cosigned_at.map(rules::utc_to_local),
        }],
        None => Vec::new(),
    };
    let form = docs::RefusalDetermination {
        plan: c.plan.title.clone(),
        place: enterprise.address.clone(),
        enterprise,
        product_name: c.item.product.clone(),
        sampling_institution: institution(s, &c).await?,
        samplers: people,
        occurred_at: rules::utc_to_local(o.created_at),
        circumstances: details["facts"].as_str().unwrap_or_default().to_string(),
        reasons: details["reasons"].as_str().unwrap_or_default().to_string(),
        sampler_signatures: signatures,
        enterprise_signature: docs::EnterpriseSignature::Signed(blank_signature()),
        local_bureau: local_bureau_name(s, &c).await?,
        local_bureau_opinion: o.cosign_opinion.clone(),
        local_bureau_signatures: cosigner,
        date: o
            .cosigned_at
            .map(|t| rules::utc_to_local(t).date())
            .unwrap_or_else(|| rules::utc_to_local(o.created_at).date()),
    };
    render(s, form, docs::refusal_determination_pdf).await
}

/// The problem report (问题报送单), after sampling stopped on a violation (rule 10).
pub async fn problem_report_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let o = outcome(s, task_id, "problem").await?.ok_or_else(|| rule("no_problem", "该任务没有问题报送记录"))?;
    let details: serde_json::Value = serde_json::from_str(&o.details_json).unwrap_or_default();
    let (people, signatures) = samplers(s, &c, None).await?;
    let organiser = organisations::get(s.store.reader(), c.plan.organising_org_id).await?;
    let evidence = choucha_store::evidence::of_task(s.store.reader(), task_id).await?.len();
    let form = docs::ProblemReport {
        report_no: format!("WT-{}-{:06}", c.plan.year, task_id),
        plan: c.plan.title.clone(),
        enterprise: enterprise_doc(s, &c).await?,
        product_name: c.item.product.clone(),
        suspected_violations: vec![details["violation"].as_str().unwrap_or_default().to_string()],
        facts: details["facts"].as_str().unwrap_or_default().to_string(),
        evidence: if evidence > 0 {
            format!("现场照片/视频{evidence}份（系统留存，附哈希值）")
        } else {
            String::new()
        },
        sampling_stopped: true,
        found_at: rules::utc_to_local(o.created_at),
        organising_bureau: organiser.name,
        local_bureau: local_bureau_name(s, &c).await?,
        sampling_institution: institution(s, &c).await?,
        samplers: people,
        sampler_signatures: signatures,
        date: rules::utc_to_local(o.created_at).date(),
    };
    render(s, form, docs::problem_report_pdf).await
}

/// The backup sealing notice (封存和处置告知单), once the organising bureau approved keeping the
/// backup at the enterprise (rule 9).
pub async fn sealing_notice_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let db = s.store.reader();
    let Some(req) =
        store::backup_requests_of(db, task_id).await?.into_iter().find(|r| r.state == BackupRequestState::Approved)
    else {
        return Err(rule(
            "rule9_not_approved",
            "备用样品在被抽样单位封存尚未经组织监督抽查的部门批准，批准后才能生成封存和处置告知单（规则9）",
        ));
    };
    let (r, f) = in_force(s, task_id).await?.ok_or(ServiceError::NotFound("抽样单"))?;
    let (_, signatures) = samplers(s, &c, Some(&r)).await?;
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    let notice = docs::BackupSealingNotice {
        notice_no: format!("FC-{}-{:06}", c.plan.year, task_id),
        record_no: c.record_no(r.version),
        enterprise_name: ent.name,
        enterprise_address: ent.address,
        product_name: f.product_name.clone(),
        model: f.model.clone(),
        batch: f.batch.clone(),
        backup_portion_qty: format!("{}{}", f.backup_quantity, f.unit),
        reason: req.reason.clone(),
        approving_bureau: organiser.name,
        approval_ref: format!("备用样品封存审批第{}号", req.id),
        seal_numbers: f.backup_seals.clone(),
        storage_place: [req.storage_place.clone(), req.storage_conditions.clone()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("；"),
        sealed_at: rules::parse_local_time(&f.sampled_at).unwrap_or_else(|| rules::utc_to_local(r.created_at)),
        sampling_institution: institution(s, &c).await?,
        phone: String::new(),
        date: req.decided_at.map(|t| rules::utc_to_local(t).date()).unwrap_or_else(|| s.today()),
        sampler_signatures: signatures,
        enterprise_signature: docs::EnterpriseSignature::Signed(blank_signature()),
    };
    render(s, notice, docs::backup_sealing_notice_pdf).await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentEntry {
    /// notice | record | payment_form | feedback_form | sealing_notice | refusal | problem_report
    pub kind: String,
    pub name: String,
    pub url: String,
    /// Left with the enterprise (notice, sampling record, conduct feedback form).
    pub left_with_enterprise: bool,
}

/// Which forms exist for a task, with where to fetch each.
pub async fn documents(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<DocumentEntry>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let has_record = in_force(s, task_id).await?.is_some();
    let approved = store::backup_requests_of(s.store.reader(), task_id)
        .await?
        .iter()
        .any(|r| r.state == BackupRequestState::Approved);
    let refusal = outcome(s, task_id, "refusal").await?.is_some();
    let problem = outcome(s, task_id, "problem").await?.is_some();
    let mut out = Vec::new();
    let mut add = |kind: &str, name: &str, file: &str, left: bool| {
        out.push(DocumentEntry {
            kind: kind.into(),
            name: name.into(),
            url: format!("/api/v1/tasks/{task_id}/{file}"),
            left_with_enterprise: left,
        })
    };
    if started(&c) {
        add("notice", "产品质量监督抽查通知书", "notice.pdf", true);
    }
    if has_record {
        add("record", "产品质量监督抽查抽样单", "record.pdf", true);
        add("payment_form", "样品付费单", "payment-form.pdf", false);
    }
    if started(&c) {
        add("feedback_form", "工作质量及工作纪律反馈单", "feedback-form.pdf", true);
    }
    if approved {
        add("sealing_notice", "样品封存和处置告知单", "sealing-notice.pdf", true);
    }
    if refusal {
        add("refusal", "拒检认定表", "refusal.pdf", false);
    }
    if problem {
        add("problem_report", "问题报送单", "problem-report.pdf", false);
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskBrief {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub product: String,
    pub enterprise_name: String,
    pub state: TaskState,
    pub state_label: String,
    /// What the caller may do about the task from the inbox.
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

/// A task in a line, for whoever may see its documents (the team, the organising bureau, the
/// enterprise's local bureau).
pub async fn task_brief(s: &Services, actor: &Actor, task_id: i64) -> Result<TaskBrief> {
    let c = ctx(s, task_id).await?;
    let rel = c.rel_with_local(s, actor).await?;
    rel.visible(Action::ViewTaskDocuments, "抽样任务")?;
    let ent = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    Ok(TaskBrief {
        id: c.task.id,
        plan_id: c.plan.id,
        plan_title: c.plan.title.clone(),
        product: c.item.product.clone(),
        enterprise_name: ent.name,
        state_label: c.task.state.label().into(),
        state: c.task.state,
        actions: rel.actions(&[Action::DecideBackup, Action::ConfirmRefusal, Action::WorkOnSite]),
    })
}

/// A task document by its kind (see [`documents`]), as PDF bytes and a file name.
pub async fn document_pdf(s: &Services, actor: &Actor, task_id: i64, kind: &str) -> Result<(Vec<u8>, String)> {
    let bytes = match kind {
        "notice" => notice_pdf(s, actor, task_id).await?,
        "record" => crate::sampling::record_pdf(s, actor, task_id).await?,
        "payment_form" => payment_form_pdf(s, actor, task_id).await?,
        "feedback_form" => feedback_form_pdf(s, actor, task_id).await?,
        "sealing_notice" => sealing_notice_pdf(s, actor, task_id).await?,
        "refusal" => refusal_pdf(s, actor, task_id).await?,
        "problem_report" => problem_report_pdf(s, actor, task_id).await?,
        _ => return Err(ServiceError::NotFound("文书")),
    };
    Ok((bytes, format!("{}-{task_id}.pdf", kind.replace('_', "-"))))
}

/// Where the backup portion is kept, as the sampling record prints it.
pub(crate) async fn backup_kept_at(s: &Services, task_id: i64) -> Result<String> {
    Ok(
        match store::backup_requests_of(s.store.reader(), task_id)
            .await?
            .into_iter()
            .find(|r| r.state == BackupRequestState::Approved)
        {
            Some(r) => format!("被抽样单位：{}（经组织监督抽查的部门批准封存）", r.storage_place),
            None => "检验机构".into(),
        },
    )
}
