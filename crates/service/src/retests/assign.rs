//! Arranging a re-test (the institution, the fee) and the re-test institution's receipt of the
//! sealed backup portion.

use choucha_domain::RuleViolation;
use choucha_domain::retest::{self as rules, RetestAction, RetestState, check_retest_institution, parse_fee_advance};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, NewCustodyEvent};
use choucha_store::lab as store_lab;
use choucha_store::retests::{self as store, NewRetest, RetestChange};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::lab::{ReceiptPhotoInput, ReportContent};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

use super::{RetestView, conflict, get, load, org_name, testing_institutions, view_as};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssignRetestInput {
    pub institution_id: i64,
    /// Required when the first institution is chosen while another exists.
    #[serde(default)]
    pub same_institution_reason: String,
    /// The fee the applicant paid in advance, in yuan.
    #[serde(default)]
    pub fee_advance: String,
}

/// The organising bureau arranges the re-test of an accepted objection or re-test request.
pub async fn assign(s: &Services, actor: &Actor, objection_id: i64, input: AssignRetestInput) -> Result<RetestView> {
    let db = s.store.reader();
    let o = choucha_store::results::get_objection(db, objection_id).await.map_err(ServiceError::not_found("申请"))?;
    actor.to_plan(o.organising_org_id).visible(Action::DecideObjection, "申请")?;
    let existing = store::retest_of_objection(db, o.id).await?.map(|r| r.state);
    rules::check_arrangeable(o.state, existing)?;
    let sample = store_lab::get_sample(db, o.sample_id).await?;
    let institutions = testing_institutions(s).await?;
    let mut errs = Vec::new();
    if !institutions.iter().any(|i| i.id == input.institution_id) {
        errs.push(RuleViolation::new("invalid_institution", "请选择一家检验机构").on_field("institution_id"));
    }
    let another = institutions.iter().any(|i| i.id != sample.testing_org_id);
    if let Err(v) =
        check_retest_institution(sample.testing_org_id, input.institution_id, another, &input.same_institution_reason)
    {
        errs.push(v);
    }
    let fee = match parse_fee_advance(&input.fee_advance) {
        Ok(f) => Some(f),
        Err(v) => {
            errs.push(v);
            None
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let report = store_lab::get_report(db, o.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let year = s.today().format("%Y").to_string().parse().unwrap_or(2025);
    let code = format!("FJ-{}", crate::lab::new_blind_code(year));
    let tx = s.write(actor).await?;
    let row = store::insert_retest(
        &tx,
        NewRetest {
            objection_id: o.id,
            report_id: o.report_id,
            sample_id: sample.id,
            task_id: sample.task_id,
            plan_id: sample.plan_id,
            organising_org_id: o.organising_org_id,
            first_org_id: sample.testing_org_id,
            retest_org_id: input.institution_id,
            same_institution_reason: if input.institution_id == sample.testing_org_id {
                input.same_institution_reason.trim().to_string()
            } else {
                String::new()
            },
            items: o.items.clone(),
            fee_advance_fen: fee.unwrap_or_default(),
            state: RetestState::Assigned,
            blind_code: code,
            assigned_by: actor.user_id,
            first_qualified: content.qualified,
            first_conclusion: content.conclusion.clone(),
        },
    )
    .await?;
    if input.institution_id != sample.testing_org_id {
        // The first laboratory sends the backup portion on (rule 18).
        choucha_store::sampling::insert_inbox(
            &tx,
            sample.testing_org_id,
            "retest_dispatch",
            &format!("请寄出复检备用样品：{}（复检编号{}）", content.product, row.blind_code),
            "retest",
            row.id,
        )
        .await?;
    }
    choucha_store::sampling::insert_inbox(
        &tx,
        input.institution_id,
        "retest",
        &format!("复检任务：{}（{}）", content.product, o.items.lines().collect::<Vec<_>>().join("、")),
        "retest",
        row.id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "retest.assign",
        "retest",
        row.id,
        json!(null),
        json!({"objection_id": o.id, "institution_id": input.institution_id, "fee_advance_fen": fee,
                   "same_institution_reason": row.same_institution_reason}),
    ))
    .await?;
    view_as(s, &row, true).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RetestReceiptInput {
    /// The backup portion's seal as found: intact and matching the sampling record.
    pub seal_intact: bool,
    /// What was checked (seal number, state); required when the seal is not intact.
    #[serde(default)]
    pub seal_note: String,
    /// The seal numbers read off the package; an intact seal must carry exactly the numbers the
    /// sampling record gives for the backup portion.
    #[serde(default)]
    pub seals_seen: Vec<String>,
    /// Photos of the seal (at least one).
    #[serde(default)]
    pub photos: Vec<ReceiptPhotoInput>,
}

/// The re-test institution's custodian receives the backup portion: the seal is photographed and
/// checked first (rule 18). Intact: testing may start. Broken: the re-test stops and the bureau is told.
pub async fn receive(s: &Services, actor: &Actor, id: i64, input: RetestReceiptInput) -> Result<RetestView> {
    let (r, rel) = load(s, actor, id).await?;
    rel.require_or(Action::ReceiveBackup, "复检样品由复检机构的样品管理员接收")?;
    let next = workflow::step(r.state, RetestAction::receive(input.seal_intact))?;
    let photos = crate::lab::decode_photos(&input.photos).map_err(|e| match e {
        ServiceError::Invalid(v) if v.iter().any(|x| x.code == "rule12_photos") => ServiceError::invalid(
            RuleViolation::new("rule18_seal_photo", "复检前须拍照记录备用样品的封条（规则18）").on_field("photos"),
        ),
        other => other,
    })?;
    if !input.seal_intact && input.seal_note.trim().is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请说明封条的异常情况").on_field("seal_note"),
        ));
    }
    if super::dispatch::travels(&r) && store::dispatch_of(s.store.reader(), r.id).await?.is_none() {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule18_not_dispatched",
            "初检机构尚未登记寄出备用样品，复检机构不能接收（规则18）",
        )));
    }
    let expected = super::seals_to_check(s, &r).await?;
    if input.seal_intact && !expected.is_empty() {
        let norm = |v: &[String]| {
            let mut v: Vec<String> = v.iter().map(|x| x.trim().to_uppercase()).filter(|x| !x.is_empty()).collect();
            v.sort();
            v.dedup();
            v
        };
        if norm(&input.seals_seen) != norm(&expected) {
            return Err(ServiceError::invalid(
                RuleViolation::new(
                    "rule18_seal_mismatch",
                    format!(
                        "核对的封条编号与寄出时登记的备用样品封条（{}）不一致；如封条确有异常，请登记为封条破损或不一致（规则18）",
                        expected.join("、")
                    ),
                )
                .on_field("seals_seen"),
            ));
        }
    }
    let mut stored = Vec::with_capacity(photos.len());
    for (mut photo, bytes) in photos {
        let (sha, size) = crate::evidence::store_bytes(s, &bytes).await?;
        photo.sha256 = sha;
        photo.size = size;
        stored.push(photo);
    }
    let institution = org_name(s, r.retest_org_id).await;
    let tx = s.write(actor).await?;
    store::update_retest(
        &tx,
        r.id,
        next,
        RetestChange::Received {
            by: actor.user_id,
            seal_note: input.seal_note.trim().into(),
            seal_photos: serde_json::to_string(&stored).map_err(ServiceError::internal)?,
        },
    )
    .await
    .map_err(conflict)?;
    custody::insert(
        &tx,
        NewCustodyEvent {
            task_id: r.task_id,
            portion: "backup".into(),
            kind: "to_retest".into(),
            seal_state: choucha_domain::lab::SealState::of(input.seal_intact),
            location: institution,
            note: format!("复检接收（{}）{}", r.blind_code, input.seal_note.trim()),
            actor_id: Some(actor.user_id),
            actor_name: actor.display_name.clone(),
            ..Default::default()
        },
    )
    .await?;
    // The re-test institution's custodian's hand on the backup portion sent to it (issue 18).
    crate::custody_sign::confirm_on_receipt(&tx, actor, r.task_id, "retest_dispatched", None).await?;
    if next.to() == RetestState::SealBroken {
        choucha_store::sampling::insert_inbox(
            &tx,
            r.organising_org_id,
            "retest",
            &format!("复检备用样品封条异常，复检中止：{}", input.seal_note.trim()),
            "retest",
            r.id,
        )
        .await?;
    }
    tx.commit(AuditEntry::new(
        "retest.receive",
        "retest",
        r.id,
        json!({"state": r.state}),
        json!({"state": next.to().as_str(), "seal_intact": input.seal_intact, "seals_seen": input.seals_seen,
                   "photos": stored.iter().map(|p| &p.sha256).collect::<Vec<_>>()}),
    ))
    .await?;
    get(s, actor, id).await
}
