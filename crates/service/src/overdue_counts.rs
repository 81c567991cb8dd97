//! Overdue work across the deployment, for operators (`/metrics`): how many duties are past the
//! deadlines the service computes — sampling information not entered by the working day after
//! sampling (rule 16), results not entered within 3 working days after testing (rule 16),
//! deliveries not made (rules 16 and 17), sample confirmations awaited past their deadline (rule
//! 23), disposals past their province's days (rule 19) and case steps past their deadline (rule
//! 20). A periodic job in one server of the deployment counts them (each an index range over the
//! open work, never the history) and keeps the counts in the database, so every server's
//! `/metrics` serves the same figures by reading a few rows.

use std::collections::BTreeMap;

use choucha_store::cases::{self as store_cases, CaseFilter, CaseScope};
use choucha_store::disposals::{self as store_disposals, DisposalScope};
use choucha_store::overdue as store;
use chrono::{DateTime, Utc};

use crate::{Result, Services};

/// The kinds counted, in the order `/metrics` lists them.
pub const KINDS: [&str; 6] = ["entry", "testing", "delivery", "confirmation", "disposal", "case_step"];

/// In-progress tasks whose rule 16 status is read per round.
const CHUNK: u64 = 500;

/// One kind's count of overdue duties, as last counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueCount {
    pub kind: String,
    pub total: i64,
    pub counted_at: DateTime<Utc>,
}

impl Services {
    /// Count the overdue duties of every kind now and keep the counts (the periodic job of `serve`).
    pub async fn refresh_overdue_counts(&self) -> Result<BTreeMap<&'static str, i64>> {
        let db = self.store.lagging_reader();
        let today = self.today();
        let now = self.now();
        let mut entry = 0i64;
        let mut after = 0i64;
        loop {
            let tasks = store::tasks_in_progress(db, after, CHUNK).await?;
            let Some(last) = tasks.last() else { break };
            after = last.id;
            let statuses = crate::entry_deadlines::entries_of_tasks(self, &tasks, now).await?;
            entry += statuses.values().filter(|st| st.overdue).count() as i64;
            if (tasks.len() as u64) < CHUNK {
                break;
            }
        }
        let due = crate::disposal::received_by(self, true).await?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let counts = BTreeMap::from([
            ("entry", entry),
            ("testing", n(store::count_testing(db, today).await?)),
            ("delivery", n(store::count_deliveries(db, today).await?)),
            ("confirmation", n(store::count_lapsed_confirmations(db, today).await?)),
            ("disposal", n(store_disposals::count_disposals(db, DisposalScope::All, &due).await?)),
            ("case_step", n(store_cases::count_cases(db, CaseScope::All, CaseFilter::OverdueBefore(today)).await?)),
        ]);
        let kept: Vec<(&str, i64)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
        self.store.keep_overdue_counts(&kept, self.clock().real_now()).await?;
        Ok(counts)
    }

    /// The counts kept by the last run of the job (none before its first run).
    pub async fn overdue_counts(&self) -> Result<Vec<OverdueCount>> {
        Ok(self
            .store
            .overdue_counts()
            .await?
            .into_iter()
            .map(|c| OverdueCount { kind: c.kind, total: c.total, counted_at: c.counted_at })
            .collect())
    }
}
