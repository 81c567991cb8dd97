//! The entry deadline of rule 16: a sampling record entered within the working day after sampling.

use choucha_domain::sampling::{self as rules, EntryStatus, RecordFields, TaskState};
use choucha_store::draws::TaskRow;
use choucha_store::enterprises;
use choucha_store::handover::{self as store, EntryScope};
use choucha_store::plans::{self as store_plans};
use choucha_store::sampling::{self as store_sampling, RecordRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::{Actor, Result, Services};
use choucha_domain::access::Action;

/// A task's rule 16 status: the deadline from the record's sampling time (or the arrival when no
/// record was saved yet), late when first locked after it, overdue when past it and not locked.
pub(crate) async fn entry_of_task(s: &Services, task: &TaskRow, now: DateTime<Utc>) -> Result<Option<EntryStatus>> {
    if !matches!(task.state, TaskState::InProgress | TaskState::Sampled) {
        return Ok(None);
    }
    let db = s.store.reader();
    let versions = store_sampling::records_of_task(db, task.id).await?;
    let arrival = match versions.is_empty() {
        true => store::arrival_of(db, task.id).await?,
        false => None,
    };
    Ok(entry_from(&versions, arrival.as_ref(), now))
}

/// The rule 16 status of a page of tasks in two queries (their records, their arrivals), by task id;
/// the same as `entry_of_task` of each.
pub(crate) async fn entries_of_tasks(
    s: &Services,
    tasks: &[TaskRow],
    now: DateTime<Utc>,
) -> Result<BTreeMap<i64, EntryStatus>> {
    let ids: Vec<i64> =
        tasks.iter().filter(|t| matches!(t.state, TaskState::InProgress | TaskState::Sampled)).map(|t| t.id).collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let db = s.store.reader();
    // Records and arrivals together (one round trip): a task without a record counts from its arrival.
    let (records, arrivals) =
        futures::try_join!(store_sampling::records_of_tasks(db, &ids), store::arrivals_of(db, &ids))?;
    let mut versions: BTreeMap<i64, Vec<RecordRow>> = BTreeMap::new();
    for r in records {
        versions.entry(r.task_id).or_default().push(r);
    }
    let arrivals: BTreeMap<i64, store::ArrivalRow> = arrivals.into_iter().map(|a| (a.task_id, a)).collect();
    let mut out = BTreeMap::new();
    for id in ids {
        let v = versions.get(&id).map(Vec::as_slice).unwrap_or_default();
        if let Some(st) = entry_from(v, arrivals.get(&id), now) {
            out.insert(id, st);
        }
    }
    Ok(out)
}

/// Rule 16 from a task's record versions (newest first) or, without a record, its arrival.
fn entry_from(versions: &[RecordRow], arrival: Option<&store::ArrivalRow>, now: DateTime<Utc>) -> Option<EntryStatus> {
    let sampled_at = match versions.first() {
        Some(r) => serde_json::from_str::<RecordFields>(&r.fields_json)
            .ok()
            .and_then(|f| rules::parse_local_time(&f.sampled_at))
            .unwrap_or_else(|| rules::utc_to_local(r.created_at)),
        None => rules::utc_to_local(arrival?.arrived_at),
    };
    // Entered = first locked (a later correction does not make the entry late).
    let locked = versions.iter().filter_map(|v| v.locked_at).min();
    Some(rules::entry_status(sampled_at, locked, now))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryFlag {
    pub task_id: i64,
    pub plan_id: i64,
    pub product: String,
    pub enterprise_name: String,
    pub deadline: DateTime<Utc>,
    /// overdue (deadline passed, not entered) | late (entered after the deadline)
    pub flag: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct EntryFlags {
    pub overdue: Vec<EntryFlag>,
    pub late: Vec<EntryFlag>,
}

/// How many recent tasks a dashboard looks at.
const ENTRY_WINDOW: u64 = 500;

/// Rule 16 flags of a sampler's own tasks.
pub async fn entry_flags_of_sampler(s: &Services, actor: &Actor) -> Result<EntryFlags> {
    actor.require(Action::ClaimTask)?;
    entry_flags_in(s, EntryScope::Member(actor.user_id), s.now()).await
}

/// Rule 16 flags of the plans the regulator's bureau organises.
pub async fn entry_flags_of_bureau(s: &Services, actor: &Actor) -> Result<EntryFlags> {
    actor.require(Action::ViewBureauFlags)?;
    let Some(org) = actor.org_id else { return Err(crate::access::refusal(Action::ViewBureauFlags)) };
    entry_flags_in(s, EntryScope::Organiser(org), s.now()).await
}

async fn entry_flags_in(s: &Services, scope: EntryScope, now: DateTime<Utc>) -> Result<EntryFlags> {
    let db = s.store.reader();
    let mut out = EntryFlags::default();
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    let mut products: BTreeMap<i64, String> = BTreeMap::new();
    for t in store::entry_candidates(db, scope, ENTRY_WINDOW).await? {
        let Some(st) = entry_of_task(s, &t, now).await? else { continue };
        if !(st.late || st.overdue) {
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(v) = names.entry(t.enterprise_id) {
            v.insert(enterprises::get(db, t.enterprise_id).await?.name);
        }
        if let std::collections::btree_map::Entry::Vacant(v) = products.entry(t.item_id) {
            v.insert(store_plans::get_item(db, t.item_id).await?.product);
        }
        let flag = EntryFlag {
            task_id: t.id,
            plan_id: t.plan_id,
            product: products.get(&t.item_id).cloned().unwrap_or_default(),
            enterprise_name: names.get(&t.enterprise_id).cloned().unwrap_or_default(),
            deadline: st.deadline,
            flag: if st.overdue { "overdue" } else { "late" }.into(),
        };
        if st.overdue { out.overdue.push(flag) } else { out.late.push(flag) }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Rule 21: costs
