//! Users and their roles.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::{password_history, user, user_role};
use crate::{Page, StoreError, Tx};

pub type UserRow = user::Model;

#[derive(Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub org_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub phone: String,
    pub id_card_no: String,
    /// An administrator-set or bootstrap password, changed at the first sign-in.
    pub must_change_password: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser").field("username", &self.username).finish_non_exhaustive()
    }
}

pub async fn insert(tx: &Tx, u: NewUser, roles: &[String]) -> Result<UserRow, StoreError> {
    let now = tx.now();
    let row = user::ActiveModel {
        username: Set(u.username),
        display_name: Set(u.display_name),
        password_hash: Set(u.password_hash),
        org_id: Set(u.org_id),
        enterprise_id: Set(u.enterprise_id),
        phone: Set(u.phone),
        id_card_no: Set(u.id_card_no),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        failed_count: Set(0),
        locked_until: Set(None),
        password_changed_at: Set(Some(now)),
        must_change_password: Set(u.must_change_password),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    set_roles(tx, row.id, roles).await?;
    Ok(row)
}

/// Profile fields an admin edits.
#[derive(Debug, Clone)]
pub struct UserPatch {
    pub display_name: String,
    pub org_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub phone: String,
    pub id_card_no: String,
    pub active: bool,
}

pub async fn update(tx: &Tx, id: i64, p: UserPatch) -> Result<UserRow, StoreError> {
    Ok(user::ActiveModel {
        id: Set(id),
        display_name: Set(p.display_name),
        org_id: Set(p.org_id),
        enterprise_id: Set(p.enterprise_id),
        phone: Set(p.phone),
        id_card_no: Set(p.id_card_no),
        active: Set(p.active),
        updated_at: Set(tx.now()),
        ..Default::default()
    }
    .update(&**tx)
    .await?)
}

/// A new password (its hash), changed at `at`; `must_change` when an administrator set it.
pub async fn set_password_hash(
    tx: &Tx,
    id: i64,
    hash: String,
    must_change: bool,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    user::ActiveModel {
        id: Set(id),
        password_hash: Set(hash),
        must_change_password: Set(must_change),
        password_changed_at: Set(Some(at)),
        updated_at: Set(tx.now()),
        ..Default::default()
    }
    .update(&**tx)
    .await?;
    Ok(())
}

/// Whether the user must change the password at the next sign-in.
pub async fn set_must_change_password(tx: &Tx, id: i64, must_change: bool) -> Result<(), StoreError> {
    user::ActiveModel { id: Set(id), must_change_password: Set(must_change), ..Default::default() }
        .update(&**tx)
        .await?;
    Ok(())
}

/// One more failed sign-in; the count after it.
pub async fn record_failure(tx: &Tx, id: i64) -> Result<i32, StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::FailedCount, Expr::col(user::Column::FailedCount).add(1))
        .filter(user::Column::Id.eq(id))
        .exec(&**tx)
        .await?;
    Ok(get(&**tx, id).await?.failed_count)
}

/// Locks the account until `until` (the failures counted so far are spent).
pub async fn lock(tx: &Tx, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
    user::ActiveModel { id: Set(id), failed_count: Set(0), locked_until: Set(Some(until)), ..Default::default() }
        .update(&**tx)
        .await?;
    Ok(())
}

/// No failures and no lock (a successful sign-in, or an unlock).
pub async fn clear_failures(tx: &Tx, id: i64) -> Result<(), StoreError> {
    user::ActiveModel { id: Set(id), failed_count: Set(0), locked_until: Set(None), ..Default::default() }
        .update(&**tx)
        .await?;
    Ok(())
}

/// The hashes of a user's latest `n` passwords before the current one, newest first.
pub async fn password_history(db: &impl ConnectionTrait, user_id: i64, n: u64) -> Result<Vec<String>, StoreError> {
    Ok(password_history::Entity::find()
        .filter(password_history::Column::UserId.eq(user_id))
        .order_by_desc(password_history::Column::Id)
        .limit(n)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.password_hash)
        .collect())
}

/// Keeps a replaced password's hash; only the latest `keep` are kept.
pub async fn push_password_history(
    tx: &Tx,
    user_id: i64,
    hash: String,
    at: DateTime<Utc>,
    keep: u64,
) -> Result<(), StoreError> {
    password_history::ActiveModel {
        user_id: Set(user_id),
        password_hash: Set(hash),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    let kept: Vec<i64> = password_history::Entity::find()
        .filter(password_history::Column::UserId.eq(user_id))
        .order_by_desc(password_history::Column::Id)
        .limit(keep)
        .all(&**tx)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    password_history::Entity::delete_many()
        .filter(password_history::Column::UserId.eq(user_id))
        .filter(password_history::Column::Id.is_not_in(kept))
        .exec(&**tx)
        .await?;
    Ok(())
}

pub async fn set_roles(tx: &Tx, user_id: i64, roles: &[String]) -> Result<(), StoreError> {
    user_role::Entity::delete_many().filter(user_role::Column::UserId.eq(user_id)).exec(&**tx).await?;
    let mut seen = std::collections::BTreeSet::new();
    for r in roles {
        if seen.insert(r.clone()) {
            user_role::ActiveModel { user_id: Set(user_id), role: Set(r.clone()) }.insert(&**tx).await?;
        }
    }
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<UserRow, StoreError> {
    user::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn find_by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(user::Entity::find().filter(user::Column::Username.eq(username)).one(db).await?)
}

/// Users by id (a page's team members in one query); missing ids are left out.
pub async fn get_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<UserRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(ids) {
        out.extend(user::Entity::find().filter(user::Column::Id.is_in(chunk)).all(db).await?);
    }
    Ok(out)
}

/// Users by username (a draw's team members in one query); unknown names are left out.
pub async fn find_by_usernames(db: &impl ConnectionTrait, usernames: &[String]) -> Result<Vec<UserRow>, StoreError> {
    let mut names = usernames.to_vec();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for chunk in names.chunks(500) {
        out.extend(user::Entity::find().filter(user::Column::Username.is_in(chunk.to_vec())).all(db).await?);
    }
    Ok(out)
}

pub async fn roles_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .order_by_asc(user_role::Column::Role)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.role)
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub org_id: Option<i64>,
    pub role: Option<String>,
    /// Username or display name contains.
    pub q: Option<String>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &UserFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<UserRow>, StoreError> {
    let mut q = user::Entity::find();
    if let Some(o) = f.org_id {
        q = q.filter(user::Column::OrgId.eq(o));
    }
    if let Some(r) = f.role.as_deref().filter(|s| !s.is_empty()) {
        let ids: Vec<i64> = user_role::Entity::find()
            .filter(user_role::Column::Role.eq(r))
            .all(db)
            .await?
            .into_iter()
            .map(|x| x.user_id)
            .collect();
        q = q.filter(user::Column::Id.is_in(ids));
    }
    if let Some(t) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Condition::any().add(user::Column::Username.contains(t)).add(user::Column::DisplayName.contains(t)),
        );
    }
    if let Some(a) = after {
        q = q.filter(user::Column::Id.gt(a));
    }
    let items = q.order_by_asc(user::Column::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(user::Entity::find().count(db).await?)
}

/// Users whose phone or identity-document number is not yet sealed (stored without `sealed_prefix`),
/// in id order after `after`, at most `limit`.
pub async fn with_plain_personal_data(
    db: &impl ConnectionTrait,
    sealed_prefix: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<UserRow>, StoreError> {
    let pattern = format!("{sealed_prefix}%");
    let plain = |c: user::Column| Condition::all().add(c.ne("")).add(c.not_like(pattern.as_str()));
    Ok(user::Entity::find()
        .filter(user::Column::Id.gt(after))
        .filter(Condition::any().add(plain(user::Column::Phone)).add(plain(user::Column::IdCardNo)))
        .order_by_asc(user::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The stored (sealed) phone and identity-document number of a user.
pub async fn set_personal_data(tx: &Tx, id: i64, phone: String, id_card_no: String) -> Result<(), StoreError> {
    user::ActiveModel { id: Set(id), phone: Set(phone), id_card_no: Set(id_card_no), ..Default::default() }
        .update(&**tx)
        .await?;
    Ok(())
}
