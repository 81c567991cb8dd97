//! A person's stored signature image (one per user): the PNG as base64 and its SHA-256.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::entity::stored_signature;
use crate::{StoreError, Tx};

pub type StoredSignatureRow = stored_signature::Model;

pub async fn get(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<StoredSignatureRow>, StoreError> {
    Ok(stored_signature::Entity::find_by_id(user_id).one(db).await?)
}

/// Store (or replace) the user's signature.
pub async fn put(tx: &Tx, user_id: i64, image_b64: String, image_sha256: String) -> Result<(), StoreError> {
    stored_signature::Entity::delete_by_id(user_id).exec(&**tx).await?;
    stored_signature::ActiveModel {
        user_id: Set(user_id),
        image_b64: Set(image_b64),
        image_sha256: Set(image_sha256),
        updated_at: Set(tx.now()),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Remove the user's signature; whether there was one.
pub async fn remove(tx: &Tx, user_id: i64) -> Result<bool, StoreError> {
    Ok(stored_signature::Entity::delete_by_id(user_id).exec(&**tx).await?.rows_affected == 1)
}

pub type SealRow = crate::entity::org_seal::Model;

/// An institution's seal of `kind` (official | inspection).
pub async fn seal(db: &impl ConnectionTrait, org_id: i64, kind: &str) -> Result<Option<SealRow>, StoreError> {
    Ok(crate::entity::org_seal::Entity::find_by_id((org_id, kind.to_string())).one(db).await?)
}

/// Every seal an institution stored.
pub async fn seals_of(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<SealRow>, StoreError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(crate::entity::org_seal::Entity::find()
        .filter(crate::entity::org_seal::Column::OrgId.eq(org_id))
        .all(db)
        .await?)
}

/// Store (or replace) an institution's seal of `kind`.
pub async fn put_seal(
    tx: &Tx,
    org_id: i64,
    kind: &str,
    image_b64: String,
    image_sha256: String,
) -> Result<(), StoreError> {
    crate::entity::org_seal::Entity::delete_by_id((org_id, kind.to_string())).exec(&**tx).await?;
    crate::entity::org_seal::ActiveModel {
        org_id: Set(org_id),
        kind: Set(kind.to_string()),
        image_b64: Set(image_b64),
        image_sha256: Set(image_sha256),
        updated_at: Set(tx.now()),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Remove an institution's seal of `kind`; whether there was one.
pub async fn remove_seal(tx: &Tx, org_id: i64, kind: &str) -> Result<bool, StoreError> {
    Ok(crate::entity::org_seal::Entity::delete_by_id((org_id, kind.to_string())).exec(&**tx).await?.rows_affected == 1)
}
