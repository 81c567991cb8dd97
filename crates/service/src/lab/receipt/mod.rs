//! Receipt at the testing institution (rule 12), the blind code (rule 13), custody of the portions,
//! tester assignment (rule 1) and the licence check (rule 14).

use choucha_domain::RuleViolation;
use choucha_domain::implementation_rules::RulesState;
use choucha_domain::lab::{
    self as rules, BlindCode, ExpectedSample, LicenceState, ObservedSample, ReceiptDecision, SampleState, SealState,
};
use choucha_domain::sampling::TaskState;

use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, NewCustodyEvent};
use choucha_store::lab::{self as store, NewSample};
use choucha_store::{
    Page, draws as store_draws, enterprises, implementation_rules as store_rules, plans as store_plans,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{SAMPLE_ACTIONS, by_code, lab_relations, samplers_of, signed_record, standing, user_name};
use crate::implementation_rules::{LicenceRequirement, RulesBody};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::Action;

mod handling;
mod licence;
mod link;

pub use handling::{AssignInput, MovementInput, assign_tester, move_portion, testers_for};
pub use licence::{LicenceCheckView, check_licence};
pub use link::{CustodyView, LinkView, link, receipt_photo, received};

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
        from_party: input.delivered_by.trim().into(),
        to_party: format!("样品管理员 {}", actor.display_name),
        ..Default::default()
    };
    // The receiving custodian's hand on the dispatch: the receipt confirms it (issue 18).
    crate::custody_sign::confirm_on_receipt(&tx, actor, task_id, "dispatched", input.arrived_at).await?;
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
