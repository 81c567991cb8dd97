//! Two-factor sign-in: a user's TOTP secret (sealed by the service) and one-time recovery codes.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::entity::{recovery_code, second_factor};
use crate::{StoreError, Tx};

pub type SecondFactorRow = second_factor::Model;

pub async fn get(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<SecondFactorRow>, StoreError> {
    Ok(second_factor::Entity::find_by_id(user_id).one(db).await?)
}

/// A new, unconfirmed secret for the user, replacing an unconfirmed one (and its recovery codes).
pub async fn start(tx: &Tx, user_id: i64, sealed_secret: String) -> Result<(), StoreError> {
    remove(tx, user_id).await?;
    second_factor::ActiveModel {
        user_id: Set(user_id),
        secret: Set(sealed_secret),
        confirmed_at: Set(None),
        last_step: Set(0),
        created_at: Set(tx.now()),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// The secret is confirmed with a code of time step `step`; the recovery codes replace any before.
pub async fn confirm(tx: &Tx, user_id: i64, step: i64, code_hashes: &[String]) -> Result<(), StoreError> {
    second_factor::ActiveModel {
        user_id: Set(user_id),
        confirmed_at: Set(Some(tx.now())),
        last_step: Set(step),
        ..Default::default()
    }
    .update(&**tx)
    .await?;
    recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(user_id)).exec(&**tx).await?;
    for h in code_hashes {
        recovery_code::ActiveModel { user_id: Set(user_id), code_hash: Set(h.clone()), ..Default::default() }
            .insert(&**tx)
            .await?;
    }
    Ok(())
}

/// Accept time step `step` once: false when it (or a later one) was accepted already.
pub async fn accept_step(tx: &Tx, user_id: i64, step: i64) -> Result<bool, StoreError> {
    let r = second_factor::Entity::update_many()
        .col_expr(second_factor::Column::LastStep, sea_orm::sea_query::Expr::value(step))
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::LastStep.lt(step))
        .exec(&**tx)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Use the unused recovery code with this hash: false when there is none.
pub async fn use_recovery_code(tx: &Tx, user_id: i64, code_hash: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let r = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, sea_orm::sea_query::Expr::value(Some(at)))
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::CodeHash.eq(code_hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Recovery codes not yet used.
pub async fn recovery_codes_left(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, StoreError> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// The user's second factor and recovery codes are gone (a reset).
pub async fn remove(tx: &Tx, user_id: i64) -> Result<bool, StoreError> {
    recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(user_id)).exec(&**tx).await?;
    let r = second_factor::Entity::delete_by_id(user_id).exec(&**tx).await?;
    Ok(r.rows_affected > 0)
}
