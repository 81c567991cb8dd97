//! How a case opens by itself (an unqualified issued report, a final refusal) and closes when the
//! sample turns out qualified.

use crate::Write;
use choucha_domain::cases::{self as rules, CaseAction, CaseDates, CaseKind, CaseState, bureau_due};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::cases::{self as store, CasePatch, CaseRow, NewCase, NewStep};
use choucha_store::lab::{ReportRow, SampleRow};
use choucha_store::{draws as store_draws, enterprises, organisations, plans as store_plans};
use serde_json::json;

use crate::lab::{ReportContent, signed_record};
use crate::{Actor, Result, ServiceError, Services};

use super::{limits_of, rule_set_for};

struct Opening {
    kind: CaseKind,
    task_id: i64,
    sample_id: Option<i64>,
    report_id: Option<i64>,
    report_no: String,
    product: String,
    producer_name: String,
    producer_uscc: String,
}

async fn open_case(s: &Services, tx: &Write, o: Opening) -> Result<Option<CaseRow>> {
    let db = s.store.reader();
    if store::case_of_task(db, o.kind.as_str(), o.task_id).await?.is_some() {
        // A corrected report (rule 15) or a repeated call: the case is already open.
        return Ok(None);
    }
    let task = store_draws::get_task(db, o.task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    // Rule 20: the enterprise's local bureau runs the case; without one, the organising bureau.
    let bureau =
        choucha_store::sampling::local_bureau_of(db, &ent.division_code).await?.unwrap_or(plan.organising_org_id);
    let bureau_org = organisations::get(db, bureau).await?;
    // A producer registered elsewhere (its USCC's division) is told through its own bureau.
    let producer_division = o.producer_uscc.trim().get(2..8).map(str::to_string);
    let producer_org = match producer_division {
        Some(d) if !o.producer_name.trim().is_empty() && o.producer_name.trim() != ent.name => {
            choucha_store::sampling::local_bureau_of(db, &d).await?.filter(|p| *p != bureau)
        }
        _ => None,
    };
    let set = rule_set_for(s, bureau_org.division_code.as_deref()).await?;
    let limits = limits_of(&set)?;
    let opened_on = s.today();
    let cal = crate::calendar::load(s).await?;
    let dl = rules::deadlines(&limits, &cal, CaseDates { opened_on: Some(opened_on), ..Default::default() });
    let c = store::insert_case(
        tx,
        NewCase {
            kind: o.kind.as_str().into(),
            plan_id: plan.id,
            task_id: o.task_id,
            sample_id: o.sample_id,
            report_id: o.report_id,
            report_no: o.report_no,
            product: o.product.clone(),
            enterprise_id: ent.id,
            bureau_org_id: bureau,
            organising_org_id: plan.organising_org_id,
            producer_name: o.producer_name.trim().into(),
            producer_org_id: producer_org,
            rule_set_id: set.id,
            opened_on,
            due_on: bureau_due(CaseState::Open, &dl),
        },
    )
    .await?;
    let todo = match o.kind {
        CaseKind::Unqualified => "请责令停止生产销售并依法处理",
        CaseKind::Refusal => "请依法处理",
    };
    let title = format!("后处理：{}（{}）{}，{todo}", ent.name, o.product, o.kind.label());
    choucha_store::sampling::insert_inbox(tx, bureau, "case", &title, "case", c.id).await?;
    if let Some(p) = producer_org {
        let title = format!(
            "后处理通报：贵辖区生产者{}的产品{}在{}被抽查{}，由{}后处理",
            o.producer_name.trim(),
            o.product,
            ent.name,
            o.kind.label(),
            bureau_org.name
        );
        choucha_store::sampling::insert_inbox(tx, p, "case_producer", &title, "case", c.id).await?;
    }
    tx.audit(AuditEntry::new(
            "case.open",
            "case",
            c.id,
            json!(null),
            json!({"kind": o.kind.as_str(), "task_id": o.task_id, "bureau_org_id": bureau, "producer_org_id": producer_org, "rule_set_id": set.id, "due_on": c.due_on}),
        ));
    Ok(Some(c))
}

/// Opens the case of an unqualified issued report (rule 20), in the approval's transaction.
pub(crate) async fn open_for_unqualified(
    s: &Services,
    tx: &Write,
    _actor: &Actor,
    report: &ReportRow,
    sample: &SampleRow,
    report_no: &str,
) -> Result<()> {
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let elsewhere = rec.domain != "production";
    open_case(
        s,
        tx,
        Opening {
            kind: CaseKind::Unqualified,
            task_id: sample.task_id,
            sample_id: Some(sample.id),
            report_id: Some(report.id),
            report_no: report_no.into(),
            product: content.product,
            producer_name: if elsewhere { rec.producer_name } else { String::new() },
            producer_uscc: if elsewhere { rec.producer_uscc } else { String::new() },
        },
    )
    .await?;
    Ok(())
}

/// Opens the case of a final refusal (拒检, rules 11 and 20), in the co-signature's transaction.
pub(crate) async fn open_for_refusal(s: &Services, tx: &Write, _actor: &Actor, task_id: i64) -> Result<()> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    open_case(
        s,
        tx,
        Opening {
            kind: CaseKind::Refusal,
            task_id,
            sample_id: None,
            report_id: None,
            report_no: String::new(),
            product: item.product,
            producer_name: String::new(),
            producer_uscc: String::new(),
        },
    )
    .await?;
    Ok(())
}

/// Closes the open cases of a sample whose re-test (复检, rule 18) found it qualified: the re-test
/// conclusion is final, so the unqualified result the case rests on no longer stands. Runs in the
/// caller's transaction (which carries the caller's audit record as well).
pub async fn close_on_retest_qualified(s: &Services, tx: &Write, sample_id: i64, actor: &Actor) -> Result<()> {
    close_for_sample(s, tx, sample_id, actor, "复检结论为合格，原检验结论不再作为后处理依据", "case.close_retest").await
}

/// Closes the open cases of a sample whose corrected report (rule 15) finds it qualified, in the
/// approval's transaction.
pub(crate) async fn close_on_corrected_qualified(
    s: &Services,
    tx: &Write,
    sample_id: i64,
    actor: &Actor,
) -> Result<()> {
    close_for_sample(
        s,
        tx,
        sample_id,
        actor,
        "更正后的检验报告结论为合格，原检验结论不再作为后处理依据",
        "case.close_corrected",
    )
    .await
}

async fn close_for_sample(
    s: &Services,
    tx: &Write,
    sample_id: i64,
    actor: &Actor,
    reason: &str,
    audit_action: &'static str,
) -> Result<()> {
    let today = s.today();
    for c in store::open_cases_of_sample(s.store.reader(), sample_id).await? {
        store::update_case(
            tx,
            c.id,
            CasePatch {
                transition: workflow::step(c.state, CaseAction::Close)?,
                stop_ordered_on: c.stop_ordered_on,
                correction_ordered_on: c.correction_ordered_on,
                escalated_on: c.escalated_on,
                due_on: None,
                rectify_due: c.rectify_due,
                closed_on: Some(today),
                closed_reason: reason.into(),
            },
        )
        .await?;
        store::insert_step(
            tx,
            NewStep {
                case_id: c.id,
                action: CaseAction::Close.as_str().into(),
                happened_on: today,
                actor_id: actor.user_id,
                actor_name: actor.display_name.clone(),
                note: reason.into(),
                data_json: json!({"reason": audit_action}).to_string(),
            },
        )
        .await?;
        tx.audit(AuditEntry::new(
            audit_action,
            "case",
            c.id,
            json!({"state": c.state}),
            json!({"state": CaseState::Closed, "reason": reason}),
        ));
    }
    Ok(())
}

// ---- Views ------------------------------------------------------------------------------------
