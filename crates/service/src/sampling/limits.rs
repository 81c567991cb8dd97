//! Rules 5 and 22 checked again when the sampling record is saved, from the enterprise's past records.

use choucha_domain::plan::{self as plan_rules, BureauLevel, PastCheck};
use choucha_domain::sampling::RecordFields;
use choucha_store::draws::{self as store_draws};
use choucha_store::sampling::{self as store};
use choucha_store::{enterprises, organisations};
use chrono::Months;
use std::collections::BTreeMap;

use crate::{Result, Services};

use super::Ctx;

/// Rules 5 and 22 again at record time, now that brand, standard and model are known.
pub(super) async fn recheck_limits(s: &Services, c: &Ctx, f: &RecordFields) -> Result<()> {
    let db = s.store.reader();
    // A 复查 repeats the plan's batch on purpose: exempt from rules 5 and 22.
    if choucha_store::cases::follow_up_of_task(db, c.task.id).await?.is_some() {
        return Ok(());
    }
    let mut others = store_draws::batches_in_plan(db, c.plan.id, c.task.enterprise_id).await?;
    if let Some(pos) = others.iter().position(|i| *i == c.item.id) {
        others.remove(pos); // this task's own batch
    }
    let allowance = store_draws::allowances_of(db, c.plan.id)
        .await?
        .into_iter()
        .find(|a| a.enterprise_id == c.task.enterprise_id)
        .map(|a| plan_rules::BatchAllowance {
            max_total: a.max_total as u32,
            max_per_product: a.max_per_product as u32,
            reason: a.reason,
        });
    plan_rules::check_batch_limits(&others, c.item.id, allowance.as_ref())?;

    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let key = f.product_key(&ent.uscc, &c.item.product);
    let today = s.now();
    let since = today.checked_sub_months(Months::new(plan_rules::REPEAT_WINDOW_MONTHS)).unwrap_or(today);
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    // Only this producer's signed records of this product (m0026's index), never the product's whole
    // history: the cost stays flat as history grows.
    let history = store::product_history(db, &key.producer, &c.item.product, since, c.plan.id).await?;
    let orgs: BTreeMap<i64, _> = organisations::get_many(db, &history.iter().map(|(_, o, _)| *o).collect::<Vec<_>>())
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let past: Vec<PastCheck> = history
        .into_iter()
        .filter_map(|(rec_key, org_id, at)| {
            let org = orgs.get(&org_id)?;
            Some(PastCheck {
                bureau_id: org_id,
                level: BureauLevel::of_code(&org.kind),
                bureau_name: org.name.clone(),
                key: rec_key,
                sampled_on: at.date_naive(),
            })
        })
        .collect();
    plan_rules::check_repeat(
        &past,
        c.plan.organising_org_id,
        BureauLevel::of_code(&organiser.kind),
        &key,
        today.date_naive(),
        false,
    )?;
    Ok(())
}
