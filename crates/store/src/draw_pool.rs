//! The registry side of a draw (issue 17): the entries an item's draw may pick, read through the
//! product-line index (`enterprise_product_lines`, kept in step by `enterprises`) when the filter
//! names one product line, so only candidates are read.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::StoreError;

/// A registry row as a draw sees it.
#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub division_code: String,
    /// The entry's product lines; read through the product-line index, the one line that matched.
    pub product_lines: String,
}

/// Registry filters of a draw (every filter index-served but the product line).
#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    pub division_prefix: Option<String>,
    /// Any of these kind bits.
    pub kind_mask: i32,
    pub status: Option<String>,
    pub size_class: Option<String>,
    /// Product lines containing this text (`LIKE`, in the database: only candidates cross the wire).
    /// SQLite's `LIKE` ignores ASCII case, so callers match again in memory for the exact rule.
    pub product_line: Option<String>,
}

/// Every registry row matching the filter. A filter naming one product line reads the product-line
/// index (issue 17): the lines containing it, then their entries in the area, then those entries by id,
/// so only candidates are read. Otherwise, limited to an area, one range scan of the division index;
/// else keyset batches by id (never the whole table in one statement). Rows come in (division, id)
/// order in an area.
pub async fn candidates(db: &impl ConnectionTrait, f: &CandidateFilter) -> Result<Vec<CandidateRow>, StoreError> {
    use crate::entity::enterprise::{Column as C, Entity as E};
    let division = f.division_prefix.as_deref().filter(|d| !d.is_empty());
    if let Some(p) = f.product_line.as_deref().filter(|p| choucha_domain::enterprise::is_single_product_line(p)) {
        return candidates_by_line(db, f, division, p).await;
    }
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let mut q = E::find().select_only().columns([C::Id, C::Uscc, C::Name, C::DivisionCode, C::ProductLines]);
        if let Some(d) = division {
            q = q.filter(C::DivisionCode.gte(d)).filter(C::DivisionCode.lt(format!("{d}\u{10FFFF}")));
        } else {
            q = q.filter(C::Id.gt(after)).order_by_asc(C::Id).limit(10_000);
        }
        q = registry_filters(q, f, ENTRY_FILTERED);
        if let Some(p) = f.product_line.as_deref().filter(|p| !p.is_empty()) {
            q = q.filter(Expr::col(C::ProductLines).like(contains(p)));
        }
        let rows = candidate_rows(db, q).await?;
        let n = rows.len();
        if let Some(last) = rows.last() {
            after = last.id;
        }
        out.extend(rows);
        if division.is_some() || n < 10_000 {
            break;
        }
    }
    Ok(out)
}

/// `LIKE '%p%'`, escaped. SQLite's `LIKE` ignores ASCII case: callers match again in memory.
fn contains(p: &str) -> LikeExpr {
    let escaped = p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// The registry filters every draw applies to an entry itself (kinds, status and size), on the
/// registry or on the product-line index, which carries the same columns (m0036).
fn registry_filters<E: sea_orm::EntityTrait>(
    mut q: sea_orm::Select<E>,
    f: &CandidateFilter,
    [kinds, status, size_class]: [E::Column; 3],
) -> sea_orm::Select<E> {
    if f.kind_mask != 0 {
        q = q.filter(Expr::col(kinds).bit_and(f.kind_mask).ne(0));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(status.eq(s));
    }
    if let Some(s) = f.size_class.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(size_class.eq(s));
    }
    q
}

/// The registry's columns that [`registry_filters`] filters by.
const ENTRY_FILTERED: [crate::entity::enterprise::Column; 3] = {
    use crate::entity::enterprise::Column as C;
    [C::Kinds, C::Status, C::SizeClass]
};

async fn candidate_rows(
    db: &impl ConnectionTrait,
    q: sea_orm::Select<crate::entity::enterprise::Entity>,
) -> Result<Vec<CandidateRow>, StoreError> {
    let rows: Vec<(i64, String, String, String, String)> = q.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, uscc, name, division_code, product_lines)| CandidateRow {
            id,
            uscc,
            name,
            division_code,
            product_lines,
        })
        .collect())
}

/// The entries holding a product line that contains `p`, in one range of the product-line index
/// per line name: the index covers every column a draw filters and records by (m0036), so no
/// registry row is read. An entry holding two such lines comes once.
async fn candidates_by_line(
    db: &impl ConnectionTrait,
    f: &CandidateFilter,
    division: Option<&str>,
    p: &str,
) -> Result<Vec<CandidateRow>, StoreError> {
    use crate::entity::{enterprise_product_line as line, product_line_name as name};
    use line::Column as L;
    let names: Vec<String> = name::Entity::find()
        .filter(Expr::col(name::Column::Name).like(contains(p)))
        .all(db)
        .await?
        .into_iter()
        .map(|n| n.name)
        .filter(|n| n.contains(p))
        .collect();
    let mut out: Vec<CandidateRow> = Vec::new();
    for n in names {
        let mut q = line::Entity::find()
            .select_only()
            .columns([L::EnterpriseId, L::Uscc, L::Name, L::DivisionCode, L::Product])
            .filter(L::Product.eq(n));
        if let Some(d) = division {
            q = q.filter(L::DivisionCode.gte(d)).filter(L::DivisionCode.lt(format!("{d}\u{10FFFF}")));
        }
        q = registry_filters(q, f, [L::Kinds, L::Status, L::SizeClass]);
        let rows: Vec<(i64, String, String, String, String)> = q.into_tuple().all(db).await?;
        out.extend(rows.into_iter().map(|(id, uscc, name, division_code, product_lines)| CandidateRow {
            id,
            uscc,
            name,
            division_code,
            product_lines,
        }));
    }
    out.sort_unstable_by(|a, b| (&a.division_code, a.id).cmp(&(&b.division_code, b.id)));
    out.dedup_by_key(|r| r.id);
    Ok(out)
}
