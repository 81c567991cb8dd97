//! Overdue work across the deployment, for `/metrics`: counts of the duties past their deadline
//! (each an index range over the open work, see m0030), and the table `overdue_counts` the
//! periodic job keeps them in. Like job leases, the counts are derived figures, not domain data,
//! and are written outside the audited transactions.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use choucha_domain::lab::SampleState;
use choucha_domain::results::DeliveryState;
use choucha_domain::retest::ConfirmationState;
use choucha_domain::sampling::TaskState;

use crate::draws::TaskRow;
use crate::entity::{delivery, lab_sample, sample_confirmation, sampling_task};
use crate::{Store, StoreError};

/// Samples still being tested whose results were due before `today` (rule 16).
pub async fn count_testing(db: &impl ConnectionTrait, today: NaiveDate) -> Result<u64, StoreError> {
    use lab_sample::Column as C;
    Ok(lab_sample::Entity::find()
        .filter(C::State.is_in([SampleState::Accepted, SampleState::Testing]))
        .filter(C::ResultsDue.lt(today))
        .count(db)
        .await?)
}

/// Deliveries due before `today` and not made (rules 16 and 17).
pub async fn count_deliveries(db: &impl ConnectionTrait, today: NaiveDate) -> Result<u64, StoreError> {
    use delivery::Column as C;
    Ok(delivery::Entity::find()
        .filter(C::State.eq(DeliveryState::Pending))
        .filter(C::DueOn.lt(today))
        .count(db)
        .await?)
}

/// Sample confirmations awaited past their deadline (rule 23: the lapse is to be recorded).
pub async fn count_lapsed_confirmations(db: &impl ConnectionTrait, today: NaiveDate) -> Result<u64, StoreError> {
    use sample_confirmation::Column as C;
    Ok(sample_confirmation::Entity::find()
        .filter(C::State.eq(ConfirmationState::Awaiting))
        .filter(C::DueOn.lt(today))
        .count(db)
        .await?)
}

/// Tasks in progress (sampling started, the record not locked yet) after `after`, by id, at most
/// `limit`: the candidates of rule 16's overdue entries, read in chunks.
pub async fn tasks_in_progress(db: &impl ConnectionTrait, after: i64, limit: u64) -> Result<Vec<TaskRow>, StoreError> {
    use sampling_task::Column as C;
    Ok(sampling_task::Entity::find()
        .filter(C::State.eq(TaskState::InProgress))
        .filter(C::Id.gt(after))
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// One kept count: the kind, how many, and when it was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCount {
    pub kind: String,
    pub total: i64,
    pub counted_at: DateTime<Utc>,
}

impl Store {
    /// Keep `counts` (kind, total), counted at `at`, replacing the kinds' earlier counts.
    pub async fn keep_overdue_counts(&self, counts: &[(&str, i64)], at: DateTime<Utc>) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert();
        insert.into_table("overdue_counts").columns(["kind", "total", "counted_at"]);
        for (kind, total) in counts {
            insert.values_panic([(*kind).into(), (*total).into(), at.timestamp().into()]);
        }
        insert.on_conflict(OnConflict::column("kind").update_columns(["total", "counted_at"]).to_owned());
        self.write.execute(&insert).await?;
        Ok(())
    }

    /// The kept counts, by kind.
    pub async fn overdue_counts(&self) -> Result<Vec<KeptCount>, StoreError> {
        let q = Query::select()
            .columns(["kind", "total", "counted_at"])
            .from("overdue_counts")
            .order_by("kind", sea_orm::sea_query::Order::Asc)
            .to_owned();
        let rows = self.lagging_reader().query_all(&q).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let at: i64 = r.try_get("", "counted_at")?;
            out.push(KeptCount {
                kind: r.try_get("", "kind")?,
                total: r.try_get("", "total")?,
                counted_at: DateTime::from_timestamp(at, 0).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}
