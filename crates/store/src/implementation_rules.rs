//! Versions of the implementation rules (实施细则) of plan items.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::implementation_rules::RulesState;
use choucha_domain::workflow::Transition;

use crate::entity::rules_version;
use crate::{StoreError, Tx};

pub type RulesRow = rules_version::Model;

pub async fn insert(tx: &Tx, item_id: i64, version: i32, body_json: String) -> Result<RulesRow, StoreError> {
    let now = tx.now();
    Ok(rules_version::ActiveModel {
        item_id: Set(item_id),
        version: Set(version),
        state: Set(RulesState::Draft),
        body_json: Set(body_json),
        returned_reason: Set(String::new()),
        submitted_at: Set(None),
        approved_at: Set(None),
        approved_by: Set(None),
        published_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// Change the body of a draft (refused as a conflict when it is no longer a draft).
pub async fn update_body(tx: &Tx, id: i64, body_json: String) -> Result<(), StoreError> {
    let r = rules_version::Entity::update_many()
        .col_expr(rules_version::Column::BodyJson, body_json.into())
        .col_expr(rules_version::Column::UpdatedAt, tx.now().into())
        .filter(rules_version::Column::Id.eq(id))
        .filter(rules_version::Column::State.eq(RulesState::Draft))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Move a version between states (`UPDATE … WHERE state = from`), stamping the time of the step.
pub async fn set_state(
    tx: &Tx,
    id: i64,
    t: Transition<RulesState>,
    by: i64,
    returned_reason: Option<&str>,
) -> Result<(), StoreError> {
    let now = tx.now();
    let mut q = rules_version::Entity::update_many()
        .col_expr(rules_version::Column::State, t.to().into())
        .col_expr(rules_version::Column::UpdatedAt, now.into());
    match t.to() {
        RulesState::Submitted => q = q.col_expr(rules_version::Column::SubmittedAt, Some(now).into()),
        RulesState::Approved => {
            q = q
                .col_expr(rules_version::Column::ApprovedAt, Some(now).into())
                .col_expr(rules_version::Column::ApprovedBy, Some(by).into())
        }
        RulesState::Published => q = q.col_expr(rules_version::Column::PublishedAt, Some(now).into()),
        _ => {}
    }
    if let Some(r) = returned_reason {
        q = q.col_expr(rules_version::Column::ReturnedReason, r.into());
    }
    let r = q
        .filter(rules_version::Column::Id.eq(id))
        .filter(rules_version::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<RulesRow, StoreError> {
    rules_version::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// All versions of an item, newest first.
pub async fn versions_of(db: &impl ConnectionTrait, item_id: i64) -> Result<Vec<RulesRow>, StoreError> {
    Ok(rules_version::Entity::find()
        .filter(rules_version::Column::ItemId.eq(item_id))
        .order_by_desc(rules_version::Column::Version)
        .all(db)
        .await?)
}

/// The version in force: the published one.
pub async fn published_of(db: &impl ConnectionTrait, item_id: i64) -> Result<Option<RulesRow>, StoreError> {
    Ok(rules_version::Entity::find()
        .filter(rules_version::Column::ItemId.eq(item_id))
        .filter(rules_version::Column::State.eq(RulesState::Published))
        .one(db)
        .await?)
}

/// Which of these items have published rules (the ids only: a task list needs no rules' contents).
pub async fn items_with_published_rules(db: &impl ConnectionTrait, item_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    if item_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(rules_version::Entity::find()
        .select_only()
        .column(rules_version::Column::ItemId)
        .filter(rules_version::Column::ItemId.is_in(item_ids.to_vec()))
        .filter(rules_version::Column::State.eq(RulesState::Published))
        .into_tuple()
        .all(db)
        .await?)
}

/// (item id, version, state) of every rules version of many items, newest version first per item:
/// what a plan view shows of each item's rules, in one query without the rules' contents.
pub async fn version_states_of_items(
    db: &impl ConnectionTrait,
    item_ids: &[i64],
) -> Result<Vec<(i64, i32, RulesState)>, StoreError> {
    if item_ids.is_empty() {
        return Ok(Vec::new());
    }
    use rules_version::Column as C;
    Ok(rules_version::Entity::find()
        .select_only()
        .column(C::ItemId)
        .column(C::Version)
        .column(C::State)
        .filter(C::ItemId.is_in(item_ids.to_vec()))
        .order_by_asc(C::ItemId)
        .order_by_desc(C::Version)
        .into_tuple()
        .all(db)
        .await?)
}
