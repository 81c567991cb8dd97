//! The plan's costs (rule 21): what was paid for samples, per item.

use choucha_domain::money::yuan;
use choucha_domain::sampling::RecordFields;
use choucha_store::handover::{self as store};
use choucha_store::plans::{self as store_plans};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

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
