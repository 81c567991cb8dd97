//! Organisations: bureaus and institutions.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::organisation;
use crate::{Page, StoreError, Tx};

pub type OrgRow = organisation::Model;

/// Fields of a new or edited organisation (already validated by the service).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OrgFields {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
    pub qualification_no: Option<String>,
    pub cap_sampling: bool,
    pub cap_testing: bool,
    pub cap_screening: bool,
    pub address: String,
    pub phone: String,
    pub active: bool,
}

pub async fn insert(tx: &Tx, f: OrgFields) -> Result<OrgRow, StoreError> {
    let now = tx.now();
    let row = organisation::ActiveModel {
        code: Set(f.code),
        name: Set(f.name),
        kind: Set(f.kind),
        parent_id: Set(f.parent_id),
        division_code: Set(f.division_code),
        qualification_no: Set(f.qualification_no),
        cap_sampling: Set(f.cap_sampling),
        cap_testing: Set(f.cap_testing),
        cap_screening: Set(f.cap_screening),
        address: Set(f.address),
        phone: Set(f.phone),
        active: Set(f.active),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    Ok(row)
}

pub async fn update(tx: &Tx, id: i64, f: OrgFields) -> Result<OrgRow, StoreError> {
    let row = organisation::ActiveModel {
        id: Set(id),
        code: Set(f.code),
        name: Set(f.name),
        kind: Set(f.kind),
        parent_id: Set(f.parent_id),
        division_code: Set(f.division_code),
        qualification_no: Set(f.qualification_no),
        cap_sampling: Set(f.cap_sampling),
        cap_testing: Set(f.cap_testing),
        cap_screening: Set(f.cap_screening),
        address: Set(f.address),
        phone: Set(f.phone),
        active: Set(f.active),
        updated_at: Set(tx.now()),
        ..Default::default()
    }
    .update(&**tx)
    .await?;
    Ok(row)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<OrgRow, StoreError> {
    organisation::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<OrgRow>, StoreError> {
    Ok(organisation::Entity::find().filter(organisation::Column::Code.eq(code)).one(db).await?)
}

pub async fn get_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<OrgRow>, StoreError> {
    // Callers pass one id per row they hold (e.g. every earlier task of a product); the distinct
    // organisations are few, and SQLite refuses more than 32,766 bound variables.
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(organisation::Entity::find().filter(organisation::Column::Id.is_in(ids)).all(db).await?)
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub kind: Option<String>,
    pub parent_id: Option<i64>,
    /// Name or code contains.
    pub q: Option<String>,
    pub capability: Option<String>,
}

/// Organisations ordered by id, keyset paginated.
pub async fn list(
    db: &impl ConnectionTrait,
    f: &OrgFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<OrgRow>, StoreError> {
    let mut q = organisation::Entity::find();
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(organisation::Column::Kind.eq(k));
    }
    if let Some(p) = f.parent_id {
        q = q.filter(organisation::Column::ParentId.eq(p));
    }
    if let Some(t) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Condition::any().add(organisation::Column::Name.contains(t)).add(organisation::Column::Code.contains(t)),
        );
    }
    match f.capability.as_deref() {
        Some("sampling") => q = q.filter(organisation::Column::CapSampling.eq(true)),
        Some("testing") => q = q.filter(organisation::Column::CapTesting.eq(true)),
        Some("screening") => q = q.filter(organisation::Column::CapScreening.eq(true)),
        _ => {}
    }
    if let Some(a) = after {
        q = q.filter(organisation::Column::Id.gt(a));
    }
    let items = q.order_by_asc(organisation::Column::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

/// Whether `ancestor` is `id` or above it in the tree (for cycle checks and scoping).
pub async fn is_ancestor(db: &impl ConnectionTrait, ancestor: i64, id: i64) -> Result<bool, StoreError> {
    let mut cur = Some(id);
    let mut hops = 0;
    while let Some(c) = cur {
        if c == ancestor {
            return Ok(true);
        }
        hops += 1;
        if hops > 16 {
            break;
        }
        cur = get(db, c).await?.parent_id;
    }
    Ok(false)
}
