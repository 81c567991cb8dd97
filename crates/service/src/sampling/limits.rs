//! Rules 5 and 22 checked again when the sampling record is saved, from the enterprise's past records.

use choucha_domain::plan::{self as plan_rules, BureauLevel, PastCheck, ProductKey};
use choucha_domain::sampling::RecordFields;
use choucha_store::draws::{self as store_draws};
use choucha_store::sampling::{self as store};
use choucha_store::{enterprises, organisations};
use chrono::{Months, Utc};
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
    let producer =
        if f.producer_uscc.trim().is_empty() { ent.uscc.clone() } else { f.producer_uscc.trim().to_uppercase() };
    let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let key = ProductKey {
        producer,
        product: c.item.product.clone(),
        standard: opt(&f.standard),
        trademark: opt(&f.brand),
        model: opt(&f.model),
    };
    let today = s.now();
    let since = today.checked_sub_months(Months::new(plan_rules::REPEAT_WINDOW_MONTHS)).unwrap_or(today);
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    let mut past = Vec::new();
    // The producer's registry entry: a past record without a producer USCC names its enterprise's.
    let producer_enterprise = if key.producer == ent.uscc {
        Some(ent.id)
    } else {
        enterprises::find_by_uscc(db, &key.producer).await?.map(|e| e.id)
    };
    for (rec_key, org_id, at) in
        past_records(s, &c.item.product, since, c.plan.id, &key.producer, producer_enterprise).await?
    {
        let org = organisations::get(db, org_id).await?;
        past.push(PastCheck {
            bureau_id: org_id,
            level: BureauLevel::of_code(&org.kind),
            bureau_name: org.name,
            key: rec_key,
            sampled_on: at.date_naive(),
        });
    }
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

/// Product identities of signed records of `product` in other plans since `since` whose producer is
/// `producer` (no other can be the same product, rule 22), with the organising bureau of their plan.
/// A record without a producer USCC names its enterprise's: it counts when that enterprise is
/// `producer_enterprise` (no registry lookup per record: a product has tens of thousands of records
/// a half-year at national scale).
async fn past_records(
    s: &Services,
    product: &str,
    since: chrono::DateTime<Utc>,
    except_plan: i64,
    producer: &str,
    producer_enterprise: Option<i64>,
) -> Result<Vec<(ProductKey, i64, chrono::DateTime<Utc>)>> {
    let db = s.store.reader();
    let key_producer = producer.trim();
    let tasks = store_draws::past_tasks_of_product(db, product, since, except_plan).await?;
    let ids: Vec<i64> = tasks.iter().map(|(t, ..)| *t).collect();
    let by_task: BTreeMap<i64, (i64, i64)> = tasks.into_iter().map(|(t, e, o, _)| (t, (e, o))).collect();
    let mut out = Vec::new();
    for r in store::signed_records_of_tasks(db, &ids).await? {
        let Some((enterprise_id, org_id)) = by_task.get(&r.task_id).copied() else { continue };
        // Neither at the producer's enterprise nor naming it: not the same product, skip the parse.
        let names_producer = || {
            !key_producer.is_empty()
                && r.fields_json
                    .as_bytes()
                    .windows(key_producer.len())
                    .any(|w| w.eq_ignore_ascii_case(key_producer.as_bytes()))
        };
        if Some(enterprise_id) != producer_enterprise && !names_producer() {
            continue;
        }
        let Ok(f) = serde_json::from_str::<RecordFields>(&r.fields_json) else { continue };
        let producer = if f.producer_uscc.trim().is_empty() {
            if Some(enterprise_id) != producer_enterprise {
                continue;
            }
            producer.to_string()
        } else {
            f.producer_uscc.trim().to_uppercase()
        };
        if producer.trim() != key_producer {
            continue;
        }
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let key = ProductKey {
            producer,
            product: product.to_string(),
            standard: opt(&f.standard),
            trademark: opt(&f.brand),
            model: opt(&f.model),
        };
        out.push((key, org_id, r.locked_at.unwrap_or(r.created_at)));
    }
    Ok(out)
}
