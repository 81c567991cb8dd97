//! Receipt at the testing institution (rule 12), the blind code (rule 13), custody of the portions,
//! tester assignment (rule 1) and the licence check (rule 14).

use choucha_domain::RuleViolation;
use choucha_domain::implementation_rules::RulesState;
use choucha_domain::lab::{
    self as rules, BlindCode, ExpectedSample, LabDuty, LicenceAction, LicenceState, ObservedSample, ReceiptDecision,
    SampleState, SealState,
};
use choucha_domain::sampling::TaskState;
use choucha_domain::workflow;

use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, NewCustodyEvent};
use choucha_store::lab::{self as store, NewSample, SampleChanges, SamplePatch, SampleRow};
use choucha_store::{
    Page, draws as store_draws, enterprises, implementation_rules as store_rules, plans as store_plans,
};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::PathBuf;

use super::{lab_relations, signed_record, standing};
use crate::access::Ask;
use crate::implementation_rules::{LicenceRequirement, RulesBody};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relations};

/// A sample on its way to the institution (custodian only: it names the enterprise).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncomingView {
    pub task_id: i64,
    pub product: String,
    pub enterprise_name: String,
    pub dispatched_at: DateTime<Utc>,
    pub mode: String,
    pub carrier: String,
    pub tracking_no: String,
    pub test_seals: Vec<String>,
    pub backup_seals: Vec<String>,
    pub test_quantity: f64,
    pub backup_quantity: f64,
    pub unit: String,
}

fn custodian_org(actor: &Actor) -> Result<i64> {
    match actor.org_id {
        Some(o) if actor.may(Action::ReceiveSample) => Ok(o),
        _ => Err(ServiceError::Forbidden("只有检验机构的样品管理员可以接收样品".into())),
    }
}

async fn incoming_view(s: &Services, task_id: i64, ev: &choucha_store::custody::CustodyRow) -> Result<IncomingView> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let rec = signed_record(s, task_id).await?.map(|(f, _)| f).unwrap_or_default();
    Ok(IncomingView {
        task_id,
        product: item.product,
        enterprise_name: ent.name,
        dispatched_at: ev.happened_at,
        mode: ev.mode.clone(),
        carrier: ev.carrier.clone(),
        tracking_no: ev.tracking_no.clone(),
        test_seals: rec.test_seals,
        backup_seals: rec.backup_seals,
        test_quantity: rec.test_quantity,
        backup_quantity: rec.backup_quantity,
        unit: rec.unit,
    })
}

/// Samples dispatched to the caller's institution and not yet received, newest first.
pub async fn incoming(
    s: &Services,
    actor: &Actor,
    before: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<IncomingView>> {
    let org = custodian_org(actor)?;
    let p = store::incoming(s.store.reader(), org, before, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for ev in &p.items {
        items.push(incoming_view(s, ev.task_id, ev).await?);
    }
    Ok(Page { items, next: p.next })
}

/// One dispatched task, for the receipt form.
pub async fn incoming_task(s: &Services, actor: &Actor, task_id: i64) -> Result<IncomingView> {
    let org = custodian_org(actor)?;
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let item = store_plans::get_item(db, task.item_id).await?;
    if item.testing_org_id != Some(org) {
        return Err(ServiceError::NotFound("抽样任务"));
    }
    let ev = custody::last_of_kind(db, task_id, "dispatched").await?.ok_or(ServiceError::NotFound("寄送记录"))?;
    incoming_view(s, task_id, &ev).await
}

/// What the custodian records on arrival.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReceiptInput {
    /// When it arrived (RFC 3339); now when empty.
    #[serde(default)]
    pub arrived_at: Option<DateTime<Utc>>,
    /// Who delivered it (a sampler's name, a courier).
    #[serde(default)]
    pub delivered_by: String,
    #[serde(default)]
    pub carrier: String,
    #[serde(default)]
    pub tracking_no: String,
    pub observed: ObservedSample,
    /// accept | reject
    #[schema(value_type = String)]
    pub decision: ReceiptDecision,
    /// Written reason of a rejection (rule 12).
    #[serde(default)]
    pub reason: String,
    /// Where the backup portion is stored (accepted samples).
    #[serde(default)]
    pub backup_location: String,
    /// The custodian's photos of the sample's appearance, state and seals (at least one; rule 12).
    #[serde(default)]
    pub photos: Vec<ReceiptPhotoInput>,
}

/// A receipt photo as sent: the image's bytes, base64 (the pages send the file itself).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReceiptPhotoInput {
    pub file_name: String,
    /// image/jpeg, image/png, …
    pub content_type: String,
    pub data_base64: String,
}

/// A stored receipt photo: unaltered, at its SHA-256.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReceiptPhoto {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// The largest receipt photo accepted (a phone photo is a few MB).
pub const RECEIPT_PHOTO_MAX: usize = 20 * 1024 * 1024;

/// Checks and decodes the photos; nothing is stored until all are valid.
pub(crate) fn decode_photos(photos: &[ReceiptPhotoInput]) -> Result<Vec<(ReceiptPhoto, Vec<u8>)>> {
    use base64::Engine;
    if photos.is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("rule12_photos", "请拍照记录样品的外观、状态和封条（规则12）").on_field("photos"),
        ));
    }
    let mut out = Vec::with_capacity(photos.len());
    for p in photos {
        let name = p.file_name.rsplit(['/', '\\']).next().unwrap_or_default().trim().to_string();
        let ct = p.content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !ct.starts_with("image/") || ct.len() > 100 {
            return Err(ServiceError::invalid(
                RuleViolation::new("photo_content_type", format!("接收照片须为图片，“{name}”不是图片"))
                    .on_field("photos"),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD.decode(p.data_base64.trim()).map_err(|_| {
            ServiceError::invalid(
                RuleViolation::new("invalid_photo", format!("照片“{name}”的数据无效")).on_field("photos"),
            )
        })?;
        if bytes.is_empty() || bytes.len() > RECEIPT_PHOTO_MAX {
            return Err(ServiceError::invalid(
                RuleViolation::new("invalid_photo", format!("照片“{name}”为空或超过20MB")).on_field("photos"),
            ));
        }
        let photo = ReceiptPhoto {
            file_name: if name.is_empty() { "photo".into() } else { name.chars().take(255).collect() },
            content_type: ct,
            size: bytes.len() as u64,
            sha256: String::new(),
        };
        out.push((photo, bytes));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceiptOutcome {
    pub sample_id: i64,
    pub state: SampleState,
    pub blind_code: Option<String>,
    pub mismatches: Vec<String>,
}

/// The rules version a task was sampled under: the one published when its record was locked.
async fn rules_version_at(
    s: &Services,
    item_id: i64,
    at: DateTime<Utc>,
) -> Result<choucha_store::implementation_rules::RulesRow> {
    let versions = store_rules::versions_of(s.store.reader(), item_id).await?;
    let taken = versions
        .iter()
        .filter(|v| matches!(v.state, RulesState::Published | RulesState::Superseded))
        .filter(|v| v.published_at.is_some_and(|p| p <= at))
        .max_by_key(|v| v.published_at)
        .or_else(|| versions.iter().find(|v| v.state == RulesState::Published))
        .cloned();
    taken.ok_or(ServiceError::NotFound("实施细则"))
}

pub(crate) fn new_blind_code(year: i32) -> BlindCode {
    let r = uuid::Uuid::new_v4().as_u128();
    BlindCode::from_random(year, (r & 0xFF_FFFF_FFFF) as u64)
}

/// Receive a dispatched sample: checked against its sampling record (rule 12); accepted with a
/// blind code (rule 13) and the backup portion stored, or rejected with a written reason that
/// reaches the organising bureau's inbox at once.
#[tracing::instrument(skip_all, fields(task_id))]
pub async fn receive(s: &Services, actor: &Actor, task_id: i64, input: ReceiptInput) -> Result<ReceiptOutcome> {
    let org = custodian_org(actor)?;
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let item = store_plans::get_item(db, task.item_id).await?;
    if item.testing_org_id != Some(org) {
        return Err(ServiceError::Forbidden("该样品不由本机构检验，只有承检机构的样品管理员可以接收".into()));
    }
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    if task.state != TaskState::Sampled {
        return Err(ServiceError::Rule(RuleViolation::new("task_state", "该任务尚未完成抽样，不能接收样品")));
    }
    let Some(dispatched) = custody::last_of_kind(db, task_id, "dispatched").await? else {
        return Err(ServiceError::Rule(RuleViolation::new("not_dispatched", "该任务的样品尚未寄送或送达检验机构")));
    };
    if let Some(at) = input.arrived_at {
        if at > s.now() + chrono::Duration::minutes(5) {
            return Err(ServiceError::invalid(
                RuleViolation::new("future_time", "到样时间不能晚于现在").on_field("arrived_at"),
            ));
        }
        // Pages send minutes: an arrival in the minute of the dispatch is not before it.
        if at < dispatched.happened_at - chrono::Duration::minutes(1) {
            return Err(ServiceError::invalid(
                RuleViolation::new("before_dispatch", "到样时间不能早于样品寄出或带回的时间").on_field("arrived_at"),
            ));
        }
    }
    if store::sample_of_task(db, task_id).await?.is_some() {
        return Err(ServiceError::Rule(RuleViolation::new("already_received", "该样品已办理接收")));
    }
    let (record, locked_at) = signed_record(s, task_id).await?.ok_or(ServiceError::NotFound("已签字的抽样单"))?;
    let expected = ExpectedSample {
        test_seals: record.test_seals.clone(),
        backup_seals: record.backup_seals.clone(),
        test_quantity: record.test_quantity,
        backup_quantity: record.backup_quantity,
        unit: record.unit.clone(),
    };
    let mismatches = rules::receipt_mismatches(&expected, &input.observed);
    rules::check_receipt_decision(&mismatches, input.decision, &input.reason)?;
    let accepted = input.decision == ReceiptDecision::Accept;
    if accepted && input.backup_location.trim().is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请填写备用样品的存放位置").on_field("backup_location"),
        ));
    }
    let photos = decode_photos(&input.photos)?;
    let rules_row = rules_version_at(s, item.id, locked_at).await?;
    let body: RulesBody = serde_json::from_str(&rules_row.body_json).map_err(ServiceError::internal)?;
    let licence_required = match body.licence {
        LicenceRequirement::None => "none",
        LicenceRequirement::ProductionLicence => "production_licence",
        LicenceRequirement::Ccc => "ccc",
    };
    let state = if !accepted {
        SampleState::Rejected
    } else if item.screening_org_id.is_some() {
        SampleState::Screening
    } else {
        SampleState::Accepted
    };
    // The photos go to the content-addressed store first (a file without a receipt is harmless; a
    // receipt without its files would not be).
    let mut stored = Vec::with_capacity(photos.len());
    for (mut photo, bytes) in photos {
        let (sha, size) = crate::evidence::store_bytes(s, &bytes).await?;
        photo.sha256 = sha;
        photo.size = size;
        stored.push(photo);
    }
    let receipt_json = json!({
        "observed": input.observed,
        "mismatches": mismatches,
        "photos": stored,
    })
    .to_string();
    let year = s.today().format("%Y").to_string();
    let year: i32 = year.parse().unwrap_or(plan.year);
    let seal_state = SealState::of(input.observed.seals_intact);
    let tx = s.write(actor).await?;
    let mut inserted = None;
    // A fresh random code; a collision with an existing one (unique index) draws again.
    for _ in 0..3 {
        let code = accepted.then(|| new_blind_code(year).to_string());
        let exists = match &code {
            Some(c) => store::sample_by_blind_code(tx.conn(), c).await?.is_some(),
            None => false,
        };
        if exists {
            continue;
        }
        inserted = Some(
            store::insert_sample(
                &tx,
                NewSample {
                    task_id,
                    plan_id: plan.id,
                    item_id: item.id,
                    testing_org_id: org,
                    screening_org_id: item.screening_org_id,
                    rules_version_id: rules_row.id,
                    blind_code: code,
                    state,
                    received_at: input.arrived_at,
                    received_by: actor.user_id,
                    delivered_by: input.delivered_by.trim().into(),
                    carrier: input.carrier.trim().into(),
                    tracking_no: input.tracking_no.trim().into(),
                    receipt_json: receipt_json.clone(),
                    reject_reason: input.reason.trim().into(),
                    backup_location: input.backup_location.trim().into(),
                    licence_required: licence_required.into(),
                    licence_state: if licence_required == "none" {
                        LicenceState::NotRequired
                    } else {
                        LicenceState::Pending
                    },
                },
            )
            .await?,
        );
        break;
    }
    let sample = inserted.ok_or_else(|| ServiceError::internal("blind code collisions"))?;
    let ev = |portion: &str, kind: &str, location: &str, note: String| NewCustodyEvent {
        task_id,
        portion: portion.into(),
        kind: kind.into(),
        seal_state,
        location: location.into(),
        carrier: input.carrier.trim().into(),
        tracking_no: input.tracking_no.trim().into(),
        note,
        actor_id: Some(actor.user_id),
        actor_name: actor.display_name.clone(),
        happened_at: input.arrived_at,
        ..Default::default()
    };
    if accepted {
        custody::insert(&tx, ev("all", "received", "", format!("送样人：{}", input.delivered_by.trim()))).await?;
        custody::insert(&tx, ev("backup", "stored", input.backup_location.trim(), String::new())).await?;
    } else {
        custody::insert(&tx, ev("all", "rejected", "", input.reason.trim().to_string())).await?;
        let ent = enterprises::get(db, task.enterprise_id).await?;
        choucha_store::sampling::insert_inbox(
            &tx,
            plan.organising_org_id,
            "lab_rejected",
            &format!("样品拒收：{}（{}）：{}", ent.name, item.product, input.reason.trim()),
            "sampling_task",
            task_id,
        )
        .await?;
    }
    tx.commit(AuditEntry::new(
        if accepted { "lab.accept" } else { "lab.reject" },
        "lab_sample",
        sample.id,
        json!(null),
        json!({"task_id": task_id, "state": state, "blind_code": sample.blind_code, "mismatches": mismatches,
                   "reason": input.reason.trim()}),
    ))
    .await?;
    Ok(ReceiptOutcome { sample_id: sample.id, state, blind_code: sample.blind_code, mismatches })
}

/// The link between a blind code and its sampled task (custodian, organising bureau, admin).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkView {
    pub sample_id: i64,
    pub task_id: i64,
    pub blind_code: Option<String>,
    pub state: SampleState,
    pub state_label: String,
    pub product: String,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub producer_name: String,
    pub place: String,
    pub samplers: Vec<String>,
    pub received_at: DateTime<Utc>,
    pub delivered_by: String,
    pub carrier: String,
    pub tracking_no: String,
    pub backup_location: String,
    pub mismatches: Vec<String>,
    pub reject_reason: String,
    pub licence_state: LicenceState,
    pub custody: Vec<CustodyView>,
    /// The receipt photos (appearance, state, seals).
    pub photos: Vec<ReceiptPhoto>,
    /// What the caller may do with the sample.
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = LabCustodyEntry)]
pub struct CustodyView {
    pub portion: String,
    pub kind: String,
    pub seal_state: SealState,
    pub location: String,
    pub note: String,
    pub actor_name: String,
    pub happened_at: DateTime<Utc>,
}

async fn require_link(s: &Services, actor: &Actor, sample: &SampleRow) -> Result<Relations> {
    let rel = standing(s, actor, sample).await?;
    rel.visible(Action::ViewLink, "样品")?;
    Ok(rel)
}

pub async fn link(s: &Services, actor: &Actor, sample_id: i64) -> Result<LinkView> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    let rel = require_link(s, actor, &sample).await?;
    let task = store_draws::get_task(db, sample.task_id).await?;
    let item = store_plans::get_item(db, sample.item_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let mut samplers = Vec::new();
    for u in store_draws::team_of(db, sample.task_id).await? {
        samplers.push(super::user_name(s, u).await);
    }
    let receipt: serde_json::Value = serde_json::from_str(&sample.receipt_json).unwrap_or_default();
    let mismatches = serde_json::from_value(receipt["mismatches"].clone()).unwrap_or_default();
    let photos = serde_json::from_value(receipt["photos"].clone()).unwrap_or_default();
    let custody = custody::of_task(db, sample.task_id)
        .await?
        .into_iter()
        .map(|e| CustodyView {
            portion: e.portion,
            kind: e.kind,
            seal_state: e.seal_state,
            location: e.location,
            note: e.note,
            actor_name: e.actor_name,
            happened_at: e.happened_at,
        })
        .collect();
    Ok(LinkView {
        sample_id: sample.id,
        task_id: sample.task_id,
        blind_code: sample.blind_code.clone(),
        state_label: sample.state.label().into(),
        state: sample.state,
        product: item.product,
        enterprise_name: ent.name,
        enterprise_uscc: ent.uscc,
        producer_name: rec.producer_name,
        place: rec.place,
        samplers,
        received_at: sample.received_at,
        delivered_by: sample.delivered_by.clone(),
        carrier: sample.carrier.clone(),
        tracking_no: sample.tracking_no.clone(),
        backup_location: sample.backup_location.clone(),
        mismatches,
        reject_reason: sample.reject_reason.clone(),
        licence_state: sample.licence_state,
        custody,
        photos,
        actions: rel.actions(super::SAMPLE_ACTIONS),
    })
}

/// A receipt photo's file, for those who see the sample's link (custodian, bureau).
pub async fn receipt_photo(
    s: &Services,
    actor: &Actor,
    sample_id: i64,
    sha256: &str,
) -> Result<(ReceiptPhoto, PathBuf)> {
    let l = link(s, actor, sample_id).await?;
    let p = l.photos.into_iter().find(|p| p.sha256 == sha256).ok_or(ServiceError::NotFound("照片"))?;
    let path = crate::evidence::stored_path(s, &p.sha256);
    Ok((p, path))
}

/// The institution's received samples with their links (custodian), newest first.
pub async fn received(
    s: &Services,
    actor: &Actor,
    state: Option<SampleState>,
    before: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<LinkView>> {
    let org = custodian_org(actor)?;
    let f =
        store::SampleFilter { testing_org_id: Some(org), states: state.into_iter().collect(), ..Default::default() };
    let p = store::list_samples(s.store.reader(), &f, before, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for r in &p.items {
        items.push(link(s, actor, r.id).await?);
    }
    Ok(Page { items, next: p.next })
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssignInput {
    pub tester_id: i64,
}

/// The custodian assigns a tester of the institution — never a sampler of the sample (rule 1).
pub async fn assign_tester(s: &Services, actor: &Actor, sample_id: i64, input: AssignInput) -> Result<()> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    lab_relations(actor, &sample).require_or(Action::ManageSample, "只有本机构的样品管理员可以分配检验人员")?;
    let tester = crate::auth::actor_for_user(s, input.tester_id).await.map_err(ServiceError::hidden("检验人员"))?;
    if !lab_relations(&tester, &sample).may(Action::RecordResults) {
        return Err(ServiceError::invalid(
            RuleViolation::new("not_a_tester", "只能分配本机构的检验人员").on_field("tester_id"),
        ));
    }
    rules::check_not_sampler(tester.user_id, &super::samplers_of(s, &sample).await?, LabDuty::Test)?;
    if !matches!(sample.state, SampleState::Accepted | SampleState::Testing | SampleState::Screening) {
        return Err(ServiceError::Rule(RuleViolation::new("sample_state", "该样品当前不能分配检验人员")));
    }
    let tx = s.write(actor).await?;
    store::update_sample(
        &tx,
        sample.id,
        sample.state,
        SamplePatch {
            set: SampleChanges { tester_id: Set(Some(tester.user_id)), ..Default::default() },
            ..Default::default()
        },
    )
    .await?;
    tx.commit(AuditEntry::new(
        "lab.assign",
        "lab_sample",
        sample.id,
        json!({"tester_id": sample.tester_id}),
        json!({"tester_id": tester.user_id}),
    ))
    .await?;
    Ok(())
}

/// A later movement of a portion (rule 12's custody chain).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MovementInput {
    /// test | backup | all
    pub portion: String,
    /// stored | to_testing | to_retest | returned | disposed
    pub kind: String,
    /// intact | broken | not_applicable
    pub seal_state: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub note: String,
}

pub async fn move_portion(s: &Services, actor: &Actor, sample_id: i64, input: MovementInput) -> Result<()> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    lab_relations(actor, &sample).require_or(Action::ManageSample, "只有本机构的样品管理员可以登记样品流转")?;
    let mut errs = Vec::new();
    if !matches!(input.portion.as_str(), "test" | "backup" | "all") {
        errs.push(RuleViolation::new("invalid_portion", "样品部分应为检验样品、备用样品或全部").on_field("portion"));
    }
    if !matches!(input.kind.as_str(), "stored" | "to_testing" | "to_retest" | "returned" | "disposed") {
        errs.push(RuleViolation::new("invalid_kind", "未知的流转类型").on_field("kind"));
    }
    let seal_state = SealState::parse(input.seal_state.trim());
    if seal_state.is_none() {
        errs.push(RuleViolation::new("invalid_seal_state", "未知的封条状态").on_field("seal_state"));
    }
    if input.kind == "stored" && input.location.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写存放位置").on_field("location"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    if sample.state == SampleState::Rejected {
        return Err(ServiceError::Rule(RuleViolation::new("rule12_rejected", "拒收的样品不在本机构保管（规则12）")));
    }
    let tx = s.write(actor).await?;
    let e = custody::insert(
        &tx,
        NewCustodyEvent {
            task_id: sample.task_id,
            portion: input.portion.clone(),
            kind: input.kind.clone(),
            seal_state: seal_state.unwrap_or(SealState::NotApplicable),
            location: input.location.trim().into(),
            note: input.note.trim().into(),
            actor_id: Some(actor.user_id),
            actor_name: actor.display_name.clone(),
            ..Default::default()
        },
    )
    .await?;
    tx.commit(AuditEntry::new(
        "lab.custody",
        "custody_event",
        e.id,
        json!(null),
        json!({"sample_id": sample.id, "kind": input.kind, "portion": input.portion}),
    ))
    .await?;
    Ok(())
}

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

/// The institution's testers who may be assigned to a sample: its samplers left out (rule 1).
pub async fn testers_for(s: &Services, actor: &Actor, sample_id: i64) -> Result<Vec<(i64, String)>> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    lab_relations(actor, &sample).require(Action::ManageSample)?;
    let team = store_draws::team_of(db, sample.task_id).await?;
    Ok(store_draws::users_with_role(db, sample.testing_org_id, "tester")
        .await?
        .into_iter()
        .filter(|(id, ..)| !team.contains(id))
        .map(|(id, _, name)| (id, name))
        .collect())
}
