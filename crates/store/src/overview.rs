//! The numbers of one plan for its organising bureau's overview: tasks and lab samples per state
//! (GROUP BY over the plan's indexes) and the overdue duties of testing, delivery and sample
//! confirmation, each list bounded.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use choucha_domain::lab::SampleState;
use choucha_domain::results::DeliveryState;
use choucha_domain::retest::ConfirmationState;
use choucha_domain::sampling::TaskState;

use crate::StoreError;
use crate::entity::{delivery, lab_sample, sample_confirmation};
use crate::lab::SampleRow;
use crate::results::DeliveryRow;
use crate::retests::ConfirmationRow;

/// (state, count) of the plan's sampling tasks, from the counts m0034's triggers keep.
pub async fn tasks_by_state(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(TaskState, i64)>, StoreError> {
    let mut by_state: std::collections::BTreeMap<TaskState, i64> = Default::default();
    for (_, state, n) in crate::draws::task_state_counts(db, plan_id).await? {
        *by_state.entry(state).or_default() += n;
    }
    Ok(by_state.into_iter().collect())
}

/// (state, count) of the plan's lab samples.
pub async fn samples_by_state(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(SampleState, i64)>, StoreError> {
    use lab_sample::Column as C;
    Ok(lab_sample::Entity::find()
        .select_only()
        .column(C::State)
        .column_as(Expr::col(C::Id).count(), "n")
        .filter(C::PlanId.eq(plan_id))
        .group_by(C::State)
        .into_tuple()
        .all(db)
        .await?)
}

/// (qualified, count) of the plan's reported samples (the final result, after any re-test).
pub async fn results_of_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(Option<bool>, i64)>, StoreError> {
    use lab_sample::Column as C;
    Ok(lab_sample::Entity::find()
        .select_only()
        .column(C::Qualified)
        .column_as(Expr::col(C::Id).count(), "n")
        .filter(C::PlanId.eq(plan_id))
        .filter(C::State.eq(SampleState::Reported))
        .group_by(C::Qualified)
        .into_tuple()
        .all(db)
        .await?)
}

/// The plan's samples whose results were due before `today` and are still being tested.
pub async fn overdue_testing(
    db: &impl ConnectionTrait,
    plan_id: i64,
    today: NaiveDate,
    limit: u64,
) -> Result<Vec<SampleRow>, StoreError> {
    use lab_sample::Column as C;
    Ok(lab_sample::Entity::find()
        .filter(C::PlanId.eq(plan_id))
        .filter(C::State.is_in([SampleState::Accepted, SampleState::Testing]))
        .filter(C::ResultsDue.lt(today))
        .order_by_asc(C::ResultsDue)
        .limit(limit)
        .all(db)
        .await?)
}

/// The plan's deliveries due before `today` and not yet made.
pub async fn overdue_deliveries(
    db: &impl ConnectionTrait,
    plan_id: i64,
    today: NaiveDate,
    limit: u64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    use delivery::Column as C;
    Ok(delivery::Entity::find()
        .filter(C::PlanId.eq(plan_id))
        .filter(C::State.eq(DeliveryState::Pending))
        .filter(C::DueOn.lt(today))
        .order_by_asc(C::DueOn)
        .limit(limit)
        .all(db)
        .await?)
}

/// The plan's sample confirmations awaited past their deadline (the lapse is to be recorded) or
/// denied and awaiting the bureau's investigation.
pub async fn open_confirmations(
    db: &impl ConnectionTrait,
    plan_id: i64,
    today: NaiveDate,
    limit: u64,
) -> Result<Vec<ConfirmationRow>, StoreError> {
    use sample_confirmation::Column as C;
    let lapsed = sample_confirmation::Entity::find()
        .filter(C::PlanId.eq(plan_id))
        .filter(C::State.eq(ConfirmationState::Awaiting))
        .filter(C::DueOn.lt(today))
        .order_by_asc(C::DueOn)
        .limit(limit)
        .all(db)
        .await?;
    let denied = sample_confirmation::Entity::find()
        .filter(C::PlanId.eq(plan_id))
        .filter(C::State.eq(ConfirmationState::Denied))
        .order_by_asc(C::DueOn)
        .limit(limit)
        .all(db)
        .await?;
    Ok(lapsed.into_iter().chain(denied).collect())
}
