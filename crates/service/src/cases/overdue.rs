//! A plan's overdue follow-up work (the plan dashboard): disposals past their province's days and
//! cases whose current step is past its deadline, with who owes them.

use choucha_store::cases::{self as store, CaseFilter, CaseScope};
use choucha_store::disposals as store_disposals;
use choucha_store::plans as store_plans;
use chrono::NaiveDate;
use serde::Serialize;

use super::org_name;
use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

/// One piece of overdue follow-up work and who owes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverdueWork {
    /// disposal | case_step
    pub kind: String,
    /// The disposal's or the case's id.
    pub id: i64,
    pub what: String,
    pub owed_by_org_id: i64,
    pub owed_by: String,
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct OverdueCounts {
    pub disposals: u64,
    pub case_steps: u64,
}

/// How many disposals and case steps of a plan are overdue (no authorisation: the caller has
/// checked that its user may see the plan).
pub async fn overdue_counts(s: &Services, plan_id: i64) -> Result<OverdueCounts> {
    let db = s.store.reader();
    let due = crate::disposal::received_by(s, true).await?;
    Ok(OverdueCounts {
        disposals: store_disposals::count_disposals(db, store_disposals::DisposalScope::Plan(plan_id), &due).await?,
        case_steps: store::count_cases(db, CaseScope::Plan(plan_id), CaseFilter::OverdueBefore(s.today())).await?,
    })
}

/// The overdue disposals and case steps of a plan with who owes them, up to `limit` of each (no
/// authorisation: the caller has checked that its user may see the plan).
pub async fn overdue_of_plan(s: &Services, plan_id: i64, limit: u64) -> Result<Vec<OverdueWork>> {
    let db = s.store.reader();
    let mut out = Vec::new();
    let due = crate::disposal::received_by(s, true).await?;
    let p = store_disposals::list_disposals(
        db,
        store_disposals::DisposalScope::Plan(plan_id),
        None,
        Some(&due),
        None,
        limit,
    )
    .await?;
    for d in p.items {
        let rule = store_disposals::disposal_rule_for(db, &d.province_code).await?;
        let received = store_disposals::enterprise_received_on(db, d.report_id).await?;
        let due_on = received.map(|r| {
            choucha_domain::calendar::add_calendar_days(
                choucha_domain::results::objection_deadline(r),
                rule.overdue_days.max(0) as u32,
            )
        });
        let portion = choucha_domain::disposal::Portion::parse(&d.portion).map(|p| p.label()).unwrap_or_default();
        out.push(OverdueWork {
            kind: "disposal".into(),
            id: d.id,
            what: format!("样品处置：{portion}（样品{}）", d.sample_id),
            owed_by_org_id: d.testing_org_id,
            owed_by: org_name(s, Some(d.testing_org_id)).await?,
            due_on,
        });
    }
    let p = store::list_cases(db, CaseScope::Plan(plan_id), CaseFilter::OverdueBefore(s.today()), None, limit).await?;
    for c in p.items {
        let state = c.state;
        out.push(OverdueWork {
            kind: "case_step".into(),
            id: c.id,
            what: format!("后处理：{}（{}）", state.next_step_label(), c.product),
            owed_by_org_id: c.bureau_org_id,
            owed_by: org_name(s, Some(c.bureau_org_id)).await?,
            due_on: c.due_on,
        });
    }
    Ok(out)
}

/// A plan's overdue follow-up work, for the organising bureau (or admins).
pub async fn plan_overdue(s: &Services, actor: &Actor, plan_id: i64) -> Result<Vec<OverdueWork>> {
    let plan = store_plans::get_plan(s.store.reader(), plan_id).await.map_err(ServiceError::not_found("抽查计划"))?;
    actor.to_plan(plan.organising_org_id).visible(Action::ViewOverview, "抽查计划")?;
    overdue_of_plan(s, plan_id, 200).await
}
