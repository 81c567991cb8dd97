//! The enterprise registry (检查对象名录库): bulk insert, lookup and keyset search that stays fast at
//! millions of rows. Names, division codes and USCCs compare by code point on both backends (see the
//! migration), so a prefix is a range over an index.

use choucha_domain::enterprise::EnterpriseData;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, Set,
};
use serde::{Deserialize, Serialize};

use crate::entity::enterprise;
use crate::{Page, StoreError, Tx};

pub type EnterpriseRow = enterprise::Model;

/// A registry entry as a list shows it: every column but the row's timestamps, which no list shows
/// (a page of 50 decodes 100 values fewer; issue 17's registry search over HTTP).
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct ListedEnterprise {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub division_code: String,
    pub address: String,
    pub kinds: i32,
    pub size_class: Option<String>,
    pub product_lines: String,
    pub licence_no: Option<String>,
    pub licence_valid_until: Option<chrono::NaiveDate>,
    pub ccc_cert_no: Option<String>,
    pub status: String,
}

/// The columns of [`ListedEnterprise`].
const LISTED: [enterprise::Column; 12] = {
    use enterprise::Column as C;
    [
        C::Id,
        C::Uscc,
        C::Name,
        C::DivisionCode,
        C::Address,
        C::Kinds,
        C::SizeClass,
        C::ProductLines,
        C::LicenceNo,
        C::LicenceValidUntil,
        C::CccCertNo,
        C::Status,
    ]
};

impl From<EnterpriseRow> for ListedEnterprise {
    fn from(r: EnterpriseRow) -> Self {
        Self {
            id: r.id,
            uscc: r.uscc,
            name: r.name,
            division_code: r.division_code,
            address: r.address,
            kinds: r.kinds,
            size_class: r.size_class,
            product_lines: r.product_lines,
            licence_no: r.licence_no,
            licence_valid_until: r.licence_valid_until,
            ccc_cert_no: r.ccc_cert_no,
            status: r.status,
        }
    }
}

fn active_model(e: &EnterpriseData, now: DateTime<Utc>) -> enterprise::ActiveModel {
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
    let row = active_model(e, tx.now()).insert(&**tx).await?;
    index_lines(tx, &[(row.id, e)]).await?;
    Ok(row)
}

/// Keep the draw's product-line index in step with these entries, in the writing transaction
/// (issue 17): their old lines go, their current lines come (with the columns a draw filters and
/// records by, m0036), new line names are remembered.
async fn index_lines(tx: &Tx, rows: &[(i64, &EnterpriseData)]) -> Result<(), StoreError> {
    use crate::entity::{enterprise_product_line as line, product_line_name as name};
    let mut lines = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for chunk in rows.chunks(1000) {
        line::Entity::delete_many()
            .filter(line::Column::EnterpriseId.is_in(chunk.iter().map(|(id, _)| *id)))
            .exec(&**tx)
            .await?;
    }
    for (id, e) in rows {
        for l in choucha_domain::enterprise::product_line_set(&e.product_lines.join("；")) {
            lines.push(line::ActiveModel {
                product: Set(l.clone()),
                division_code: Set(e.division_code.to_string()),
                enterprise_id: Set(*id),
                uscc: Set(e.uscc.to_string()),
                name: Set(e.name.clone()),
                kinds: Set(e.kinds.0),
                status: Set(e.status.as_str().to_string()),
                size_class: Set(e.size_class.map(|s| s.as_str().to_string())),
            });
            names.insert(l);
        }
    }
    for chunk in lines.chunks(5000) {
        line::Entity::insert_many(chunk.to_vec()).exec_without_returning(&**tx).await?;
    }
    let names: Vec<_> = names.into_iter().map(|n| name::ActiveModel { name: Set(n) }).collect();
    for chunk in names.chunks(5000) {
        name::Entity::insert_many(chunk.to_vec()).on_conflict_do_nothing().exec_without_returning(&**tx).await?;
    }
    Ok(())
}

/// Insert many entries in batches (one statement per batch) inside `tx`.
pub async fn insert_many(
    tx: &Tx,
    rows: &[EnterpriseData],
    mut progress: impl FnMut(usize),
) -> Result<usize, StoreError> {
    let mut done = 0;
    // 14 columns a row; stay under SQLite's 32,766 bound parameters.
    for chunk in rows.chunks(1000) {
        enterprise::Entity::insert_many(chunk.iter().map(|e| active_model(e, tx.now()))).exec(&**tx).await?;
        let usccs: Vec<String> = chunk.iter().map(|e| e.uscc.to_string()).collect();
        let ids: std::collections::BTreeMap<String, i64> =
            existing_by_uscc(&**tx, &usccs).await?.into_iter().map(|x| (x.uscc, x.id)).collect();
        let indexed: Vec<(i64, &EnterpriseData)> =
            chunk.iter().filter_map(|e| Some((*ids.get(&e.uscc.to_string())?, e))).collect();
        index_lines(tx, &indexed).await?;
        done += chunk.len();
        progress(done);
    }
    Ok(done)
}

pub async fn update(tx: &Tx, id: i64, e: &EnterpriseData) -> Result<EnterpriseRow, StoreError> {
    let mut am = active_model(e, tx.now());
    am.id = Set(id);
    am.created_at = sea_orm::ActiveValue::NotSet;
    let row = am.update(&**tx).await?;
    index_lines(tx, &[(id, e)]).await?;
    Ok(row)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<EnterpriseRow, StoreError> {
    enterprise::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// Entries by id (a page's enterprises in one query); missing ids are left out.
pub async fn get_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<EnterpriseRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(ids) {
        out.extend(enterprise::Entity::find().filter(enterprise::Column::Id.is_in(chunk)).all(db).await?);
    }
    Ok(out)
}

/// Entries by USCC (a draw's drawn enterprises in one query); unknown USCCs are left out.
pub async fn find_by_usccs(db: &impl ConnectionTrait, usccs: &[String]) -> Result<Vec<EnterpriseRow>, StoreError> {
    let mut usccs = usccs.to_vec();
    usccs.sort();
    usccs.dedup();
    let mut out = Vec::new();
    for chunk in usccs.chunks(500) {
        out.extend(enterprise::Entity::find().filter(enterprise::Column::Uscc.is_in(chunk.to_vec())).all(db).await?);
    }
    Ok(out)
}

pub async fn find_by_uscc(db: &impl ConnectionTrait, uscc: &str) -> Result<Option<EnterpriseRow>, StoreError> {
    Ok(enterprise::Entity::find().filter(enterprise::Column::Uscc.eq(uscc)).one(db).await?)
}

/// Which of these USCCs are already in the registry.
pub async fn existing_usccs(db: &impl ConnectionTrait, usccs: &[String]) -> Result<Vec<String>, StoreError> {
    Ok(existing_by_uscc(db, usccs).await?.into_iter().map(|e| e.uscc).collect())
}

/// An entry already in the registry, as an import needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingEnterprise {
    pub id: i64,
    pub uscc: String,
    pub division_code: String,
}

/// The entries among these USCCs that are already in the registry (looked up by the unique index,
/// a few hundred at a time).
pub async fn existing_by_uscc(
    db: &impl ConnectionTrait,
    usccs: &[String],
) -> Result<Vec<ExistingEnterprise>, StoreError> {
    let mut out = Vec::new();
    for chunk in usccs.chunks(500) {
        let rows = enterprise::Entity::find()
            .select_only()
            .column(enterprise::Column::Id)
            .column(enterprise::Column::Uscc)
            .column(enterprise::Column::DivisionCode)
            .filter(enterprise::Column::Uscc.is_in(chunk.to_vec()))
            .into_tuple::<(i64, String, String)>()
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|(id, uscc, division_code)| ExistingEnterprise { id, uscc, division_code }));
    }
    Ok(out)
}

/// Overwrite existing entries (by id) inside `tx`; `progress` gets the number done so far.
pub async fn update_many(
    tx: &Tx,
    rows: &[(i64, EnterpriseData)],
    mut progress: impl FnMut(usize),
) -> Result<usize, StoreError> {
    for (done, (id, e)) in rows.iter().enumerate() {
        let mut am = active_model(e, tx.now());
        am.id = Set(*id);
        am.created_at = sea_orm::ActiveValue::NotSet;
        let r = enterprise::Entity::update_many().set(am).filter(enterprise::Column::Id.eq(*id)).exec(&**tx).await?;
        if r.rows_affected != 1 {
            return Err(StoreError::Conflict);
        }
        if (done + 1) % 500 == 0 {
            progress(done + 1);
        }
    }
    for chunk in rows.chunks(1000) {
        index_lines(tx, &chunk.iter().map(|(id, e)| (*id, e)).collect::<Vec<_>>()).await?;
    }
    progress(rows.len());
    Ok(rows.len())
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

/// Where a page ends, in the page's own order: by (name, id) when searching by name, by
/// (division code, id) when limited to an area, else by id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EnterpriseCursor {
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
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

/// The order a search pages in. Each is one index (see the migration), so a page is a range scan
/// that stops after `limit` rows however deep the page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchOrder {
    /// `ix_enterprises_name (name, id)`
    Name,
    /// `ix_enterprises_division (division_code, id)`
    Division,
    /// The primary key.
    Id,
}

fn clean(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl EnterpriseFilter {
    fn order(&self) -> SearchOrder {
        if clean(self.name_prefix.as_deref()).is_some() {
            SearchOrder::Name
        } else if clean(self.division_prefix.as_deref()).is_some() {
            SearchOrder::Division
        } else {
            SearchOrder::Id
        }
    }

    fn select(&self) -> Select<enterprise::Entity> {
        use enterprise::Column as C;
        let mut q = enterprise::Entity::find();
        if let Some(u) = clean(self.uscc.as_deref()) {
            q = q.filter(C::Uscc.eq(u.to_uppercase()));
        }
        if let Some(d) = clean(self.division_prefix.as_deref()) {
            q = q.filter(C::DivisionCode.gte(d)).filter(C::DivisionCode.lt(prefix_upper(d)));
        }
        if let Some(bit) = self.kind_bit {
            q = q.filter(Expr::col(C::Kinds).bit_and(bit).ne(0));
        }
        if let Some(s) = clean(self.status.as_deref()) {
            q = q.filter(C::Status.eq(s));
        }
        if let Some(p) = clean(self.name_prefix.as_deref()) {
            q = q.filter(C::Name.gte(p)).filter(C::Name.lt(prefix_upper(p)));
        }
        q
    }
}

pub async fn search(
    db: &impl ConnectionTrait,
    f: &EnterpriseFilter,
    after: Option<&EnterpriseCursor>,
    limit: u64,
) -> Result<Page<ListedEnterprise>, StoreError> {
    use enterprise::Column as C;
    let order = f.order();
    let mut q = f.select();
    // Keyset: a row-value comparison, which both backends turn into an index bound.
    let tuple_after = |col: C, key: String, id: i64| {
        Expr::tuple([Expr::col(col), Expr::col(C::Id)]).gt(Expr::tuple([Expr::val(key), Expr::val(id)]))
    };
    match order {
        SearchOrder::Name => {
            if let Some(c) = after {
                q = q.filter(tuple_after(C::Name, c.name.clone().unwrap_or_default(), c.id));
            }
            q = q.order_by_asc(C::Name).order_by_asc(C::Id);
        }
        SearchOrder::Division => {
            if let Some(c) = after {
                q = q.filter(tuple_after(C::DivisionCode, c.division.clone().unwrap_or_default(), c.id));
            }
            q = q.order_by_asc(C::DivisionCode).order_by_asc(C::Id);
        }
        SearchOrder::Id => {
            if let Some(c) = after {
                q = q.filter(C::Id.gt(c.id));
            }
            q = q.order_by_asc(C::Id);
        }
    }
    let items = q.select_only().columns(LISTED).limit(limit + 1).into_model::<ListedEnterprise>().all(db).await?;
    Ok(Page::cut(items, limit, |r| {
        EnterpriseCursor {
            name: (order == SearchOrder::Name).then(|| r.name.clone()),
            division: (order == SearchOrder::Division).then(|| r.division_code.clone()),
            id: r.id,
        }
        .encode()
    }))
}

/// How many entries match, counting no further than `cap` (so the answer stays cheap on a registry
/// of millions: "more than `cap`" is all a caller needs to know).
pub async fn count_up_to(db: &impl ConnectionTrait, f: &EnterpriseFilter, cap: u64) -> Result<u64, StoreError> {
    use enterprise::Column as C;
    Ok(f.select().select_only().column(C::Id).limit(cap).count(db).await?)
}
