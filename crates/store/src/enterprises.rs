//! The enterprise registry (检查对象名录库): bulk insert, lookup and keyset search that stays fast at
//! millions of rows. Names, division codes and USCCs compare by code point on both backends (see the
//! migration), so a prefix is a range over an index.

use chrono::Utc;
use choucha_domain::enterprise::EnterpriseData;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};

use crate::entity::enterprise;
use crate::{Page, StoreError, Tx};

pub type EnterpriseRow = enterprise::Model;

fn active_model(e: &EnterpriseData) -> enterprise::ActiveModel {
    let now = Utc::now();
    enterprise::ActiveModel {
        uscc: Set(e.uscc.to_string()),
        name: Set(e.name.clone()),
        division_code: Set(e.division_code.to_string()),
        address: Set(e.address.clone()),
        kinds: Set(e.kinds.0),
        size_class: Set(e.size_class.map(|s| s.as_str().to_string())),
        product_lines: Set(e.product_lines.join("；")),
        licence_no: Set(e.licence_no.clone()),
        licence_valid_until: Set(e.licence_valid_until),
        ccc_cert_no: Set(e.ccc_cert_no.clone()),
        status: Set(e.status.as_str().to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

pub async fn insert(tx: &Tx, e: &EnterpriseData) -> Result<EnterpriseRow, StoreError> {
    Ok(active_model(e).insert(&**tx).await?)
}

/// Insert many entries in batches (one statement per batch) inside `tx`.
pub async fn insert_many(tx: &Tx, rows: &[EnterpriseData], mut progress: impl FnMut(usize)) -> Result<usize, StoreError> {
    let mut done = 0;
    // 14 columns a row; stay under SQLite's 32,766 bound parameters.
    for chunk in rows.chunks(1000) {
        enterprise::Entity::insert_many(chunk.iter().map(active_model)).exec(&**tx).await?;
        done += chunk.len();
        progress(done);
    }
    Ok(done)
}

pub async fn update(tx: &Tx, id: i64, e: &EnterpriseData) -> Result<EnterpriseRow, StoreError> {
    let mut am = active_model(e);
    am.id = Set(id);
    am.created_at = sea_orm::ActiveValue::NotSet;
    Ok(am.update(&**tx).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<EnterpriseRow, StoreError> {
    enterprise::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn find_by_uscc(db: &impl ConnectionTrait, uscc: &str) -> Result<Option<EnterpriseRow>, StoreError> {
    Ok(enterprise::Entity::find().filter(enterprise::Column::Uscc.eq(uscc)).one(db).await?)
}

/// Which of these USCCs are already in the registry.
pub async fn existing_usccs(db: &impl ConnectionTrait, usccs: &[String]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for chunk in usccs.chunks(500) {
        let rows = enterprise::Entity::find()
            .select_only()
            .column(enterprise::Column::Uscc)
            .filter(enterprise::Column::Uscc.is_in(chunk.to_vec()))
            .into_tuple::<String>()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Search filters. Every filter is served by an index.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnterpriseFilter {
    /// Name prefix.
    pub name_prefix: Option<String>,
    /// Exact USCC.
    pub uscc: Option<String>,
    /// Division code or its prefix ("14", "1402", "140213").
    pub division_prefix: Option<String>,
    /// Kind bit (see `EnterpriseKind::bit`).
    pub kind_bit: Option<i32>,
    pub status: Option<String>,
}

/// Where a page ends: by id, or by (name, id) when searching by name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EnterpriseCursor {
    pub name: Option<String>,
    pub id: i64,
}

impl EnterpriseCursor {
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }
    pub fn decode(s: &str) -> Option<Self> {
        serde_json::from_slice(&hex::decode(s).ok()?).ok()
    }
}

/// Upper bound of a prefix range: everything starting with `p` is in [p, p + U+10FFFF).
fn prefix_upper(p: &str) -> String {
    format!("{p}\u{10FFFF}")
}

pub async fn search(
    db: &impl ConnectionTrait,
    f: &EnterpriseFilter,
    after: Option<&EnterpriseCursor>,
    limit: u64,
) -> Result<Page<EnterpriseRow>, StoreError> {
    use enterprise::Column as C;
    let mut q = enterprise::Entity::find();
    if let Some(u) = f.uscc.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(C::Uscc.eq(u.trim().to_uppercase()));
    }
    if let Some(d) = f.division_prefix.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(C::DivisionCode.gte(d)).filter(C::DivisionCode.lt(prefix_upper(d)));
    }
    if let Some(bit) = f.kind_bit {
        q = q.filter(Expr::col(C::Kinds).bit_and(bit).ne(0));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(C::Status.eq(s));
    }
    let by_name = f.name_prefix.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(p) = by_name {
        q = q.filter(C::Name.gte(p)).filter(C::Name.lt(prefix_upper(p)));
        if let Some(c) = after {
            let n = c.name.clone().unwrap_or_default();
            q = q.filter(Condition::any().add(C::Name.gt(n.clone())).add(Condition::all().add(C::Name.eq(n)).add(C::Id.gt(c.id))));
        }
        q = q.order_by_asc(C::Name).order_by_asc(C::Id);
    } else {
        if let Some(c) = after {
            q = q.filter(C::Id.gt(c.id));
        }
        q = q.order_by_asc(C::Id);
    }
    let mut items = q.limit(limit + 1).all(db).await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| EnterpriseCursor { name: by_name.map(|_| r.name.clone()), id: r.id }.encode())
    } else {
        None
    };
    Ok(Page { items, next })
}
