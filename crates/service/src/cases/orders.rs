//! The orders a case's bureau issues (rule 20): 责令停止生产销售通知书 and 责令整改通知书, generated
//! from the case and the step that recorded the order (its day, 文号 and, for a correction order,
//! the rectification deadline), with the bureau's stored 公章. For those who see the case.

use choucha_documents::{CaseOrder, CaseOrderKind};
use choucha_domain::cases::CaseAction;
use choucha_store::cases as store;
use choucha_store::{enterprises, organisations, plans as store_plans};
use chrono::NaiveDate;

use super::load;
use crate::lab::{ReportContent, signed_record};
use crate::{Actor, Result, ServiceError, Services};

/// The order recorded by step `step_id` of case `case_id`, as PDF. Not found for a step that is
/// not an order.
pub async fn order_pdf(s: &Services, actor: &Actor, case_id: i64, step_id: i64) -> Result<Vec<u8>> {
    let (c, _) = load(s, actor, case_id).await?;
    let db = s.store.reader();
    let st = store::steps_of(db, c.id)
        .await?
        .into_iter()
        .find(|st| st.id == step_id)
        .ok_or(ServiceError::NotFound("通知书"))?;
    let kind = match CaseAction::parse(&st.action) {
        Some(CaseAction::StopOrder) => CaseOrderKind::StopOrder,
        Some(CaseAction::CorrectionOrder) => CaseOrderKind::CorrectionOrder,
        _ => return Err(ServiceError::NotFound("通知书")),
    };
    let data: serde_json::Value = serde_json::from_str(&st.data_json).unwrap_or_default();
    let deadline = data.get("deadline").and_then(|v| v.as_str()).and_then(|d| d.parse::<NaiveDate>().ok());
    let ent = enterprises::get(db, c.enterprise_id).await?;
    let plan = store_plans::get_plan(db, c.plan_id).await?;
    let bureau = organisations::get(db, c.bureau_org_id).await?;
    let rec = signed_record(s, c.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let (institution, failing_items) = match c.report_id {
        Some(r) => {
            let report = choucha_store::lab::get_report(db, r).await?;
            let sample = choucha_store::lab::get_sample(db, report.sample_id).await?;
            let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
            (
                organisations::get(db, sample.testing_org_id).await?.name,
                content.items.iter().filter(|i| i.judgement == "不符合").map(|i| i.name.clone()).collect(),
            )
        }
        None => (String::new(), Vec::new()),
    };
    let order = CaseOrder {
        kind,
        title: kind.title().to_string(),
        doc_no: st.note.trim().to_string(),
        enterprise: ent.name,
        enterprise_address: ent.address,
        uscc: ent.uscc,
        refusal: c.kind == "refusal",
        organising_bureau: organisations::get(db, c.organising_org_id).await?.name,
        plan_title: plan.title,
        product: c.product.clone(),
        model: rec.model,
        batch: rec.batch,
        report_no: c.report_no.clone(),
        institution,
        failing_items,
        deadline: deadline.or(c.rectify_due).filter(|_| kind == CaseOrderKind::CorrectionOrder),
        bureau: bureau.name,
        date: st.happened_on,
        seal: crate::seals::placed_seal(s, c.bureau_org_id, crate::seals::SealKind::Official).await?,
    };
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || choucha_documents::case_order_pdf(&renderer, &order))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("case order PDF: {e}")))
}
