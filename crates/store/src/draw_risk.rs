//! What a risk-weighted draw reads of its candidates (issue 18): their spot-check history of the
//! last years (refusals, qualified and unqualified results, re-tests that overturned a result),
//! licence expiry and size. Read by candidate id in chunks, through the enterprise indexes.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::StoreError;
use crate::entity::{enterprise, lab_sample, retest, sampling_task};
use choucha_domain::sampling::TaskState;

/// One enterprise's history and registry facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskFacts {
    pub refused: bool,
    /// Results with a conclusion (after any re-test): (qualified) per sample.
    pub results: Vec<bool>,
    pub licence_valid_until: Option<NaiveDate>,
    pub size_class: Option<String>,
}

/// The facts of each enterprise in `ids`, counting tasks created since `since`.
pub async fn risk_facts(
    db: &impl ConnectionTrait,
    ids: &[i64],
    since: DateTime<Utc>,
) -> Result<std::collections::BTreeMap<i64, RiskFacts>, StoreError> {
    let mut out: std::collections::BTreeMap<i64, RiskFacts> = std::collections::BTreeMap::new();
    for chunk in crate::id_chunks(ids) {
        let regs: Vec<(i64, Option<NaiveDate>, Option<String>)> = enterprise::Entity::find()
            .select_only()
            .columns([enterprise::Column::Id, enterprise::Column::LicenceValidUntil, enterprise::Column::SizeClass])
            .filter(enterprise::Column::Id.is_in(chunk.clone()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, until, size) in regs {
            let f = out.entry(id).or_default();
            f.licence_valid_until = until;
            f.size_class = size;
        }
        let tasks: Vec<(i64, i64, TaskState)> = sampling_task::Entity::find()
            .select_only()
            .columns([sampling_task::Column::Id, sampling_task::Column::EnterpriseId, sampling_task::Column::State])
            .filter(sampling_task::Column::EnterpriseId.is_in(chunk))
            .filter(sampling_task::Column::CreatedAt.gte(since))
            .into_tuple()
            .all(db)
            .await?;
        let task_ids: Vec<i64> = tasks.iter().map(|t| t.0).collect();
        let mut qualified = std::collections::BTreeMap::new();
        for tchunk in crate::id_chunks(&task_ids) {
            let rows: Vec<(i64, Option<bool>)> = lab_sample::Entity::find()
                .select_only()
                .columns([lab_sample::Column::TaskId, lab_sample::Column::Qualified])
                .filter(lab_sample::Column::TaskId.is_in(tchunk.clone()))
                .into_tuple()
                .all(db)
                .await?;
            qualified.extend(rows.into_iter().filter_map(|(t, q)| q.map(|q| (t, q))));
            // A re-test's conclusion replaces the first one.
            let rows: Vec<(i64, Option<bool>)> = retest::Entity::find()
                .select_only()
                .columns([retest::Column::TaskId, retest::Column::Qualified])
                .filter(retest::Column::TaskId.is_in(tchunk))
                .into_tuple()
                .all(db)
                .await?;
            qualified.extend(rows.into_iter().filter_map(|(t, q)| q.map(|q| (t, q))));
        }
        for (task, ent, state) in tasks {
            let f = out.entry(ent).or_default();
            if state == TaskState::Refused {
                f.refused = true;
            }
            if let Some(q) = qualified.get(&task) {
                f.results.push(*q);
            }
        }
    }
    Ok(out)
}
