//! The institutions' SM2 public keys (with their validity) and the signatures of signed documents
//! (issue 18). Private keys never reach the database.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::{document_signature, signing_key};
use crate::{StoreError, Tx};

pub type SigningKeyRow = signing_key::Model;
pub type DocumentSignatureRow = document_signature::Model;

/// The key with fingerprint `key_id`, current or retired.
pub async fn key(db: &impl ConnectionTrait, key_id: &str) -> Result<Option<SigningKeyRow>, StoreError> {
    Ok(signing_key::Entity::find_by_id(key_id.to_string()).one(db).await?)
}

/// Every key, oldest first (the export for offline verification).
pub async fn all_keys(db: &impl ConnectionTrait) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_key::Entity::find()
        .order_by_asc(signing_key::Column::CreatedAt)
        .order_by_asc(signing_key::Column::KeyId)
        .all(db)
        .await?)
}

/// The institution's current (not retired) keys.
pub async fn current_keys(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::OrgId.eq(org_id))
        .filter(signing_key::Column::RetiredAt.is_null())
        .all(db)
        .await?)
}

/// Records a new public key of the institution.
pub async fn insert_key(tx: &Tx, org_id: i64, key_id: &str, public_key: &str) -> Result<(), StoreError> {
    signing_key::ActiveModel {
        key_id: Set(key_id.to_string()),
        org_id: Set(org_id),
        public_key: Set(public_key.to_string()),
        created_at: Set(tx.now()),
        retired_at: Set(None),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Retires every current key of the institution except `keep`; how many were retired.
pub async fn retire_keys_except(tx: &Tx, org_id: i64, keep: &str) -> Result<u64, StoreError> {
    let r = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, sea_orm::sea_query::Expr::value(tx.now()))
        .filter(signing_key::Column::OrgId.eq(org_id))
        .filter(signing_key::Column::RetiredAt.is_null())
        .filter(signing_key::Column::KeyId.ne(keep))
        .exec(&**tx)
        .await?;
    Ok(r.rows_affected)
}

/// What a signature records.
pub struct NewSignature<'a> {
    pub kind: &'a str,
    pub object_id: i64,
    pub token: &'a str,
    pub key_id: &'a str,
    pub signature: &'a str,
    pub pdf_sm3: &'a str,
    pub pdf_sha256: &'a str,
}

pub async fn insert_signature(tx: &Tx, n: NewSignature<'_>) -> Result<(), StoreError> {
    document_signature::ActiveModel {
        kind: Set(n.kind.to_string()),
        object_id: Set(n.object_id),
        token: Set(n.token.to_string()),
        key_id: Set(n.key_id.to_string()),
        signature: Set(n.signature.to_string()),
        pdf_sm3: Set(n.pdf_sm3.to_string()),
        pdf_sha256: Set(n.pdf_sha256.to_string()),
        signed_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// The signature whose verification page has `token`.
pub async fn signature_by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<DocumentSignatureRow>, StoreError> {
    Ok(document_signature::Entity::find().filter(document_signature::Column::Token.eq(token)).one(db).await?)
}

/// The signature of the document `kind` / `object_id`.
pub async fn signature_of(
    db: &impl ConnectionTrait,
    kind: &str,
    object_id: i64,
) -> Result<Option<DocumentSignatureRow>, StoreError> {
    Ok(document_signature::Entity::find()
        .filter(document_signature::Column::Kind.eq(kind))
        .filter(document_signature::Column::ObjectId.eq(object_id))
        .one(db)
        .await?)
}
