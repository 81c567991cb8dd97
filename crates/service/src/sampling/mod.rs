//! On-site sampling use cases: the sampling record (抽样单) checked against the published rules and
//! DESIGN.md rules 2, 5, 8 and 22 at record time; signatures by every sampler and the enterprise (or
//! its noted refusal to sign) that lock the record; corrections as new versions confirmed by the
//! enterprise (rule 6); refusals co-signed by the enterprise's local bureau (rule 11); problem
//! reports that stop sampling and reach both bureaus at once (rule 10).

use choucha_domain::RuleViolation;
use choucha_domain::organisation::OrgKind;
use choucha_domain::sampling::{
    self as rules, RecordAction, RecordFields, RecordRequirements, RecordState, Signer, TaskAction, TaskState,
};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::draws::{self as store_draws, TaskRow};
use choucha_store::sampling::{self as store, NewRecord, NewSignature, RecordRow};
use choucha_store::{Page, plans as store_plans};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::access::Ask;
use crate::implementation_rules::{self, RulesBody};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::Action;

mod limits;
mod pdf;
mod refusal;

use limits::recheck_limits;
pub use pdf::record_pdf;
pub(crate) use pdf::{record_no, record_pdf_unchecked};
pub use refusal::{CosignInput, ProblemInput, RefusalInput, cosign_refusal, refuse, report_problem};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignatureView {
    /// "sampler:<user id>" or "enterprise"
    pub signer: String,
    pub signer_name: String,
    pub refused: bool,
    pub refusal_reason: String,
    pub witness_name: String,
    pub image_sha256: String,
    pub record_hash: String,
    pub signed_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordView {
    pub id: i64,
    pub task_id: i64,
    pub version: i32,
    pub state: RecordState,
    pub fields: RecordFields,
    pub total_paid_yuan: String,
    pub record_hash: String,
    /// Changes of a correction: [field, old, new].
    pub changes: Vec<(String, String, String)>,
    pub correction_reason: String,
    pub signatures: Vec<SignatureView>,
    /// Who still has to sign.
    pub missing: Vec<String>,
}

fn record_hash(task_id: i64, version: i32, fields_json: &str) -> String {
    hex::encode(Sha256::digest(format!("{task_id}\n{version}\n{fields_json}").as_bytes()))
}

fn signer_key(s: &Signer) -> String {
    match s {
        Signer::Sampler(u) => format!("sampler:{u}"),
        Signer::Enterprise => "enterprise".into(),
    }
}

struct Ctx {
    task: TaskRow,
    team: Vec<i64>,
    plan: store_plans::PlanRow,
    item: store_plans::ItemRow,
}

async fn load_unchecked(s: &Services, task_id: i64) -> Result<Ctx> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let team = store_draws::team_of(db, task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    Ok(Ctx { task, team, plan, item })
}

async fn load(s: &Services, actor: &Actor, task_id: i64, must_be_member: bool) -> Result<Ctx> {
    let Ctx { task, team, plan, item } = load_unchecked(s, task_id).await?;
    let rel = actor.to_task(crate::access::task_parties(&plan, &item, &team));
    if must_be_member {
        rel.require_or(Action::WorkOnSite, "只有该任务抽样组的抽样人员可以填写和签署抽样文书")?;
    }
    rel.visible(Action::ViewTask, "抽样任务")?;
    Ok(Ctx { task, team, plan, item })
}

fn requirements(body: &RulesBody) -> RecordRequirements {
    RecordRequirements {
        min_test_quantity: body.test_quantity,
        min_backup_quantity: body.backup_quantity,
        min_base: body.min_base_quantity,
        unit: body.quantity_unit.clone(),
    }
}

async fn view(s: &Services, r: RecordRow, team: &[i64]) -> Result<RecordView> {
    let sigs = store::signatures_of(s.store.reader(), r.id).await?;
    let fields: RecordFields = serde_json::from_str(&r.fields_json).map_err(ServiceError::internal)?;
    let signed: BTreeMap<Signer, bool> = sigs
        .iter()
        .filter_map(|g| {
            let who = if g.signer == "enterprise" {
                Signer::Enterprise
            } else {
                Signer::Sampler(g.signer.strip_prefix("sampler:")?.parse().ok()?)
            };
            Some((who, !g.refused))
        })
        .collect();
    // A correction is confirmed by the enterprise alone.
    let missing = if r.state == RecordState::PendingConfirmation {
        if signed.contains_key(&Signer::Enterprise) { vec![] } else { vec!["enterprise".to_string()] }
    } else {
        rules::missing_signatures(team, &signed).iter().map(signer_key).collect()
    };
    let fen = fields.total_paid_fen();
    Ok(RecordView {
        id: r.id,
        task_id: r.task_id,
        version: r.version,
        state: r.state,
        total_paid_yuan: format!("{}.{:02}", fen / 100, fen % 100),
        fields,
        record_hash: r.record_hash,
        changes: serde_json::from_str(&r.diff_json).unwrap_or_default(),
        correction_reason: r.correction_reason,
        signatures: sigs
            .into_iter()
            .map(|g| SignatureView {
                signer: g.signer,
                signer_name: g.signer_name,
                refused: g.refused,
                refusal_reason: g.refusal_reason,
                witness_name: g.witness_name,
                image_sha256: g.image_sha256,
                record_hash: g.record_hash,
                signed_at: g.signed_at,
            })
            .collect(),
        missing,
    })
}

/// Fill in (or change, until anyone signs) the sampling record of a task in progress.
pub async fn save_record(s: &Services, actor: &Actor, task_id: i64, fields: RecordFields) -> Result<RecordView> {
    save_record_based_on(s, actor, task_id, fields, None).await
}

/// What a write from a phone was based on: the `record_hash` of the record version the sampler saw
/// (an empty string: no record yet). A phone that wrote offline replays its writes later; when the
/// record changed on the server meanwhile (a team mate saved or corrected it), the write is refused
/// with 409 `stale_task` instead of silently overwriting or signing what the signer never saw.
fn check_based_on(current: Option<&str>, expected: Option<&str>) -> Result<()> {
    match expected {
        Some(e) if e.trim() != current.unwrap_or("") => Err(ServiceError::Rule(RuleViolation::new(
            "stale_task",
            "抽样单在服务器上已被修改（本机的提交基于较早的内容）：请核对本机内容与服务器内容后，选择重新提交或放弃",
        ))),
        _ => Ok(()),
    }
}

/// [`save_record`] refused with 409 `stale_task` unless the record is still the one `expected`
/// names (see [`check_based_on`]).
#[tracing::instrument(skip_all, fields(task_id))]
pub async fn save_record_based_on(
    s: &Services,
    actor: &Actor,
    task_id: i64,
    fields: RecordFields,
    expected: Option<&str>,
) -> Result<RecordView> {
    let c = load(s, actor, task_id, true).await?;
    let versions = store::records_of_task(s.store.reader(), task_id).await?;
    check_based_on(versions.first().map(|v| v.record_hash.as_str()), expected)?;
    if versions.first().is_some_and(|v| v.state != RecordState::Draft) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule6_locked",
            "抽样单已签字锁定；更正须作为新版本并经企业确认（规则6）",
        )));
    }
    if c.task.state != TaskState::InProgress {
        return Err(ServiceError::Rule(RuleViolation::new(
            "task_state",
            "任务须先“开始抽样”（实施细则已公开）才能填写抽样单",
        )));
    }
    let published = implementation_rules::require_published(s, c.item.id).await?;
    let body: RulesBody = serde_json::from_str(&published.body_json).map_err(ServiceError::internal)?;
    fields.validate(&requirements(&body), c.team.len()).map_err(ServiceError::Invalid)?;
    recheck_limits(s, &c, &fields).await?;
    let fields_json = serde_json::to_string(&fields).map_err(ServiceError::internal)?;
    let tx = s.write(actor).await?;
    let id = match versions.first() {
        Some(v) if v.state == RecordState::Draft => {
            if !store::signatures_of(tx.conn(), v.id).await?.is_empty() {
                return Err(ServiceError::Rule(RuleViolation::new(
                    "rule6_signed",
                    "抽样单已有人签字，不能再修改；如需更正请提出更正（规则6）",
                )));
            }
            store::update_draft(&tx, v.id, fields_json.clone(), record_hash(task_id, v.version, &fields_json)).await?;
            v.id
        }
        Some(_) => {
            return Err(ServiceError::Rule(RuleViolation::new(
                "rule6_locked",
                "抽样单已签字锁定；更正须作为新版本并经企业确认（规则6）",
            )));
        }
        None => {
            store::insert_record(
                &tx,
                NewRecord {
                    task_id,
                    version: 1,
                    state: RecordState::Draft,
                    record_hash: record_hash(task_id, 1, &fields_json),
                    fields_json: fields_json.clone(),
                    diff_json: "[]".into(),
                    correction_reason: String::new(),
                    created_by: actor.user_id,
                },
            )
            .await?
            .id
        }
    };
    tx.commit(AuditEntry::new(
        "record.save",
        "sampling_record",
        id,
        json!(null),
        json!({"task_id": task_id, "fields": fields}),
    ))
    .await?;
    get_record(s, actor, task_id).await
}

/// A signature on the screen (PNG, base64) or a refusal to sign.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SignInput {
    /// "self" (the signing sampler) or "enterprise" (its representative, on the sampler's device).
    pub signer: String,
    /// The representative's name (enterprise).
    #[serde(default)]
    pub name: String,
    /// PNG image, base64.
    #[serde(default)]
    pub image_png_base64: String,
    /// The enterprise refuses to sign (rule 6): the reason is noted, a witness may sign.
    #[serde(default)]
    pub refused: bool,
    #[serde(default)]
    pub refusal_reason: String,
    #[serde(default)]
    pub witness_name: String,
    #[serde(default)]
    pub witness_image_png_base64: String,
}

/// Sign the current version. When everyone has signed (or the enterprise's refusal is noted) the
/// record is locked and the task is sampled; a correction becomes valid on the enterprise's signature.
pub async fn sign(s: &Services, actor: &Actor, task_id: i64, input: SignInput) -> Result<RecordView> {
    sign_based_on(s, actor, task_id, input, None).await
}

/// [`sign`] refused with 409 `stale_task` unless the record is still the version `expected` names:
/// a signature queued on a phone signs what its screen showed, or nothing.
pub async fn sign_based_on(
    s: &Services,
    actor: &Actor,
    task_id: i64,
    input: SignInput,
    expected: Option<&str>,
) -> Result<RecordView> {
    let c = load(s, actor, task_id, true).await?;
    let current = store::records_of_task(s.store.reader(), task_id).await?.into_iter().next();
    check_based_on(current.as_ref().map(|v| v.record_hash.as_str()), expected)?;
    let current = current.ok_or(ServiceError::NotFound("抽样单"))?;
    let lock = workflow::step(current.state, RecordAction::Lock)
        .map_err(|_| ServiceError::Rule(RuleViolation::new("rule6_locked", "抽样单已签字锁定")))?;
    let (signer, user_id, name) = match input.signer.as_str() {
        "self" => {
            if current.state == RecordState::PendingConfirmation {
                return Err(ServiceError::Rule(RuleViolation::new(
                    "rule6_confirmation",
                    "更正须由被抽样企业签字确认（规则6）",
                )));
            }
            (Signer::Sampler(actor.user_id), Some(actor.user_id), actor.display_name.clone())
        }
        "enterprise" => {
            // Whoever refuses to sign may not give a name either; the refusal is noted as the enterprise's.
            let name = input.name.trim();
            if name.is_empty() && !input.refused {
                return Err(ServiceError::invalid(
                    RuleViolation::new("required", "请填写企业签字人姓名").on_field("name"),
                ));
            }
            (Signer::Enterprise, None, if name.is_empty() { "被抽样单位".to_string() } else { name.to_string() })
        }
        other => {
            return Err(ServiceError::invalid(
                RuleViolation::new("invalid_signer", format!("未知签字人“{other}”（应为 self 或 enterprise）"))
                    .on_field("signer"),
            ));
        }
    };
    let mut errs = Vec::new();
    let (image_sha256, refused) = if input.refused {
        if signer != Signer::Enterprise {
            errs.push(RuleViolation::new("invalid_signer", "只有被抽样企业可以拒绝签字").on_field("refused"));
        }
        if current.state == RecordState::PendingConfirmation {
            errs.push(
                RuleViolation::new("rule6_confirmation", "更正须经企业签字确认，拒绝确认的更正不生效（规则6）")
                    .on_field("refused"),
            );
        }
        if input.refusal_reason.trim().is_empty() {
            errs.push(RuleViolation::new("required", "请注明企业拒绝签字的情况（规则6）").on_field("refusal_reason"));
        }
        if !input.witness_image_png_base64.trim().is_empty()
            && let Err(e) = crate::signature::png_sha(&input.witness_image_png_base64)
        {
            errs.push(e);
        }
        (String::new(), true)
    } else {
        match crate::signature::png_sha(&input.image_png_base64) {
            Ok(h) => (h, false),
            Err(e) => {
                errs.push(e);
                (String::new(), false)
            }
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    if current.state == RecordState::Draft {
        // Rule 7: what the rules require photographed is there (or explained) before anyone signs.
        crate::evidence::check_complete(s, task_id, c.task.item_id).await?;
    }
    let key = signer_key(&signer);
    let tx = s.write(actor).await?;
    store::insert_signature(
        &tx,
        NewSignature {
            record_id: current.id,
            signer: key.clone(),
            user_id,
            signer_name: name,
            image_b64: input.image_png_base64.trim().to_string(),
            image_sha256,
            refused,
            refusal_reason: input.refusal_reason.trim().to_string(),
            witness_name: input.witness_name.trim().to_string(),
            witness_image_b64: input.witness_image_png_base64.trim().to_string(),
            record_hash: current.record_hash.clone(),
        },
    )
    .await
    .map_err(|e| match e {
        choucha_store::StoreError::Duplicate(_) => {
            ServiceError::Rule(RuleViolation::new("already_signed", "该签字人已签署此版本"))
        }
        other => other.into(),
    })?;
    let v = view(s, store::get_record(tx.conn(), current.id).await?, &c.team).await;
    // The view above read outside the transaction: count this signature in.
    let mut missing: Vec<String> = v.map(|v| v.missing).unwrap_or_default();
    missing.retain(|m| *m != key);
    let mut after = json!({"signer": key, "refused": refused, "record_hash": current.record_hash});
    if missing.is_empty() {
        store::set_record_state(&tx, current.id, lock).await?;
        // Rule 22's history: the product this signed record checked, found by producer and product.
        let fields: RecordFields = serde_json::from_str(&current.fields_json).map_err(ServiceError::internal)?;
        let uscc = choucha_store::enterprises::get(tx.conn(), c.task.enterprise_id).await?.uscc;
        store::insert_product_key(&tx, current.id, task_id, &fields.product_key(&uscc, &c.item.product)).await?;
        if current.state == RecordState::PendingConfirmation {
            // The confirmed correction replaces the version it corrects.
            if let Some(prev) =
                store::records_of_task(tx.conn(), task_id).await?.into_iter().find(|r| r.version == current.version - 1)
            {
                store::set_record_state(&tx, prev.id, workflow::step(prev.state, RecordAction::Supersede)?).await?;
            }
        } else {
            let next = workflow::step(c.task.state, TaskAction::CompleteRecord)?;
            store_draws::set_task_state(&tx, task_id, next).await?;
            // The portions are sealed with the locked record: the custody chain starts (rule 8).
            crate::custody::write_seals(&tx, actor, task_id, &current.fields_json).await?;
        }
        after["locked"] = json!(true);
    }
    tx.commit(AuditEntry::new("record.sign", "sampling_record", current.id, json!(null), after)).await?;
    get_record(s, actor, task_id).await
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = SamplingCorrectionInput)]
pub struct CorrectionInput {
    pub fields: RecordFields,
    pub reason: String,
}

/// Correct a signed record: a new version showing what changed, valid once the enterprise signs it.
pub async fn correct(s: &Services, actor: &Actor, task_id: i64, input: CorrectionInput) -> Result<RecordView> {
    let c = load(s, actor, task_id, true).await?;
    let versions = store::records_of_task(s.store.reader(), task_id).await?;
    let Some(current) = versions.first().filter(|v| v.state == RecordState::Signed) else {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule6_not_signed",
            "只有已签字锁定的抽样单需要更正；未签字的可直接修改",
        )));
    };
    if input.reason.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请说明更正或补充的理由").on_field("reason")));
    }
    let rules_row = implementation_rules::require_published(s, c.item.id).await?;
    let body: RulesBody = serde_json::from_str(&rules_row.body_json).map_err(ServiceError::internal)?;
    input.fields.validate(&requirements(&body), c.team.len()).map_err(ServiceError::Invalid)?;
    let old: RecordFields = serde_json::from_str(&current.fields_json).map_err(ServiceError::internal)?;
    let changes = rules::diff(&old, &input.fields);
    if changes.is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("no_change", "更正内容与原抽样单相同").on_field("fields"),
        ));
    }
    let fields_json = serde_json::to_string(&input.fields).map_err(ServiceError::internal)?;
    let version = current.version + 1;
    let tx = s.write(actor).await?;
    let row = store::insert_record(
        &tx,
        NewRecord {
            task_id,
            version,
            state: RecordState::PendingConfirmation,
            record_hash: record_hash(task_id, version, &fields_json),
            fields_json,
            diff_json: serde_json::to_string(&changes).map_err(ServiceError::internal)?,
            correction_reason: input.reason.trim().to_string(),
            created_by: actor.user_id,
        },
    )
    .await?;
    tx.commit(AuditEntry::new(
        "record.correct",
        "sampling_record",
        row.id,
        json!({"version": current.version}),
        json!({"version": version, "changes": changes, "reason": input.reason}),
    ))
    .await?;
    get_record(s, actor, task_id).await
}

/// The task's record, newest version (the team, the organising bureau, admins).
pub async fn get_record(s: &Services, actor: &Actor, task_id: i64) -> Result<RecordView> {
    let c = load(s, actor, task_id, false).await?;
    let r = store::records_of_task(s.store.reader(), task_id)
        .await?
        .into_iter()
        .next()
        .ok_or(ServiceError::NotFound("抽样单"))?;
    view(s, r, &c.team).await
}

/// Every version of the task's record, newest first.
pub async fn record_versions(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<RecordView>> {
    let c = load(s, actor, task_id, false).await?;
    let mut out = Vec::new();
    for r in store::records_of_task(s.store.reader(), task_id).await? {
        out.push(view(s, r, &c.team).await?);
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxView {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub ref_type: String,
    pub ref_id: i64,
    pub created_at: chrono::DateTime<Utc>,
    pub read: bool,
}

/// The caller's bureau's inbox (problem reports, refusals awaiting co-signature…), newest first.
pub async fn inbox(s: &Services, actor: &Actor, before: Option<i64>, limit: Option<u64>) -> Result<Page<InboxView>> {
    let is_bureau = actor.org_kind.as_deref().and_then(|k| k.parse::<OrgKind>().ok()).is_some_and(OrgKind::is_bureau);
    let (Some(org), true) = (actor.org_id, is_bureau) else { return Err(ServiceError::forbidden()) };
    let p = store::inbox_of(s.store.reader(), org, before, page_limit(limit)?).await?;
    Ok(Page {
        items: p
            .items
            .into_iter()
            .map(|i| InboxView {
                id: i.id,
                kind: i.kind,
                title: i.title,
                ref_type: i.ref_type,
                ref_id: i.ref_id,
                created_at: i.created_at,
                read: i.read_at.is_some(),
            })
            .collect(),
        next: p.next,
    })
}
