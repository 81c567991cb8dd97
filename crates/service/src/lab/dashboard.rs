//! Lab dashboards: incoming samples, samples awaiting test / review / approval, overdue results,
//! per tester and per institution. Counts are `GROUP BY` over the (institution, state, id) and
//! (tester, state, id) indexes; nothing loads a table.

use choucha_domain::access::Action;
use choucha_domain::lab::{ReportState, SampleState};
use choucha_store::lab as store;
use choucha_store::organisations;
use serde::Serialize;
use std::collections::BTreeMap;

use super::user_name;
use crate::access::Scope;
use crate::{Actor, Result, Services};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = LabStateCount)]
pub struct StateCount {
    pub state: SampleState,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstitutionCounts {
    pub org_id: i64,
    pub org_name: String,
    pub states: Vec<StateCount>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TesterCounts {
    pub tester: String,
    pub accepted: i64,
    pub testing: i64,
    pub tested: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// Dispatched to the institution and not yet received (custodians; first page only).
    pub incoming: Option<usize>,
    pub awaiting_test: i64,
    pub awaiting_review: i64,
    pub awaiting_approval: i64,
    pub overdue: u64,
    pub institutions: Vec<InstitutionCounts>,
    pub testers: Vec<TesterCounts>,
}

/// The dashboard of the caller: their institution (lab staff), the plans they organise (bureau),
/// everything (admin).
pub async fn dashboard(s: &Services, actor: &Actor) -> Result<Dashboard> {
    // A dashboard: from the lagging reader (a replica when configured).
    let db = s.store.lagging_reader();
    let (testing_org, organising_org) = match actor.scope(Action::ViewLabBoard)? {
        Scope::All => (None, None),
        Scope::Institution(o) => (Some(o), None),
        Scope::Bureau(o) => (None, Some(o)),
        Scope::Enterprise(_) => return Err(crate::access::refusal(Action::ViewLabBoard)),
    };
    let rows = store::count_by_org_state(db, testing_org, organising_org).await?;
    let mut by_org: BTreeMap<i64, Vec<(SampleState, i64)>> = BTreeMap::new();
    for (org, state, n) in rows {
        by_org.entry(org).or_default().push((state, n));
    }
    let names: BTreeMap<i64, String> = organisations::get_many(db, &by_org.keys().copied().collect::<Vec<_>>())
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut institutions = Vec::new();
    let mut awaiting_test = 0;
    for (org, states) in by_org {
        let total = states.iter().map(|(_, n)| n).sum();
        awaiting_test += states
            .iter()
            .filter(|(s, _)| matches!(s, SampleState::Accepted | SampleState::Testing))
            .map(|(_, n)| n)
            .sum::<i64>();
        institutions.push(InstitutionCounts {
            org_id: org,
            org_name: names.get(&org).cloned().unwrap_or_default(),
            states: states
                .into_iter()
                .map(|(s, count)| StateCount { label: s.label().to_string(), state: s, count })
                .collect(),
            total,
        });
    }
    let (mut awaiting_review, mut awaiting_approval) = (0, 0);
    let mut testers = Vec::new();
    if let Some(org) = testing_org {
        for (state, n) in store::count_reports(db, org).await? {
            match state {
                ReportState::Prepared => awaiting_review = n,
                ReportState::Reviewed => awaiting_approval = n,
                _ => {}
            }
        }
        let mut per: BTreeMap<i64, TesterCounts> = BTreeMap::new();
        for (tester, state, n) in store::count_by_tester(db, org).await? {
            let e = per.entry(tester).or_insert_with(|| TesterCounts {
                tester: String::new(),
                accepted: 0,
                testing: 0,
                tested: 0,
            });
            match state {
                SampleState::Accepted => e.accepted = n,
                SampleState::Testing => e.testing = n,
                SampleState::Tested => e.tested = n,
                _ => {}
            }
        }
        for (id, mut c) in per {
            c.tester = user_name(s, id).await;
            testers.push(c);
        }
    }
    let overdue = if organising_org.is_some() {
        // A bureau's overdue count runs over its plans' samples.
        store::list_samples(
            db,
            &store::SampleFilter {
                organising_org_id: organising_org,
                states: vec![SampleState::Testing],
                due_before: Some(s.today()),
                ..Default::default()
            },
            None,
            200,
        )
        .await?
        .items
        .len() as u64
    } else {
        store::count_overdue(db, testing_org, s.today()).await?
    };
    let incoming = match (actor.may(Action::ReceiveSample), actor.org_id) {
        (true, Some(org)) => Some(store::incoming(db, org, None, 200).await?.items.len()),
        _ => None,
    };
    Ok(Dashboard { incoming, awaiting_test, awaiting_review, awaiting_approval, overdue, institutions, testers })
}
