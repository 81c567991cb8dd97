//! A plan's figures, computed by the database with `GROUP BY` over indexed columns, never by loading
//! samples: a sample counts once it has an issued report (an approved `lab_reports` row, kept as
//! `lab_samples.report_issued` by m0035's triggers), with `lab_samples.qualified` as its final
//! result (a re-test overwrites it). The division, size class and domain a figure groups by are
//! kept on the sample too (m0035), so each figure reads the plan's range of m0035's covering index
//! (plan_id, report_issued, qualified, item_id, division_code, size_class, domain) and nothing else.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};

use choucha_domain::sampling::TaskState;

use crate::StoreError;
use crate::entity::{lab_result, lab_sample, plan, plan_item, sampling_task};

/// The sample has an approved report: `lab_samples.report_issued`, kept by m0035's triggers.
fn issued() -> sea_orm::sea_query::SimpleExpr {
    Expr::col((lab_sample::Entity, Alias::new("report_issued"))).eq(true)
}

/// A fact m0035 keeps on each sample (division_code, size_class, domain).
fn fact(name: &'static str) -> Expr {
    Expr::col((lab_sample::Entity, Alias::new(name)))
}

fn count() -> sea_orm::sea_query::SimpleExpr {
    Expr::col((lab_sample::Entity, lab_sample::Column::Id)).count()
}

async fn rows(db: &impl ConnectionTrait, q: &SelectStatement) -> Result<Vec<QueryResult>, StoreError> {
    Ok(db.query_all(q).await?)
}

/// One group of samples: its key, how many qualified and unqualified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub key: String,
    pub qualified: i64,
    pub unqualified: i64,
}

impl Tally {
    pub fn total(&self) -> i64 {
        self.qualified + self.unqualified
    }
}

/// Folds (key, qualified, n) rows into tallies, in first-seen key order.
fn fold(rows: Vec<(String, bool, i64)>) -> Vec<Tally> {
    let mut out: Vec<Tally> = Vec::new();
    for (key, q, n) in rows {
        let i = match out.iter().position(|t| t.key == key) {
            Some(i) => i,
            None => {
                out.push(Tally { key, ..Tally::default() });
                out.len() - 1
            }
        };
        if q {
            out[i].qualified += n;
        } else {
            out[i].unqualified += n;
        }
    }
    out
}

fn key_rows(rs: Vec<QueryResult>) -> Result<Vec<(String, bool, i64)>, StoreError> {
    rs.into_iter()
        .map(|r| {
            let key: Option<String> = r.try_get("", "k")?;
            let q: bool = r.try_get("", "q")?;
            let n: i64 = r.try_get("", "n")?;
            Ok((key.unwrap_or_default(), q, n))
        })
        .collect()
}

/// (k, q, n) of the plan's issued samples with a final result, grouped by `key` and qualified: the
/// caller adds its joins.
fn tallied(plan_id: i64, key: Expr) -> SelectStatement {
    use lab_sample::Column as C;
    Query::select()
        .expr_as(key.clone(), "k")
        .expr_as(Expr::col((lab_sample::Entity, C::Qualified)), "q")
        .expr_as(count(), "n")
        .from(lab_sample::Entity)
        .and_where(Expr::col((lab_sample::Entity, C::PlanId)).eq(plan_id))
        .and_where(Expr::col((lab_sample::Entity, C::Qualified)).is_not_null())
        .and_where(issued())
        .add_group_by([key, Expr::col((lab_sample::Entity, C::Qualified))])
        .order_by(Alias::new("k"), Order::Asc)
        .take()
}

/// Issued samples per plan item: key = the item id.
pub async fn by_item(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<Tally>, StoreError> {
    let key = Expr::col((lab_sample::Entity, lab_sample::Column::ItemId)).cast_as(Alias::new("text"));
    Ok(fold(key_rows(rows(db, &tallied(plan_id, key)).await?)?))
}

/// Issued samples per division code (区县) of the sampled enterprise, as registered at receipt.
pub async fn by_division(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<Tally>, StoreError> {
    Ok(fold(key_rows(rows(db, &tallied(plan_id, fact("division_code"))).await?)?))
}

/// Issued samples per size class of the sampled enterprise, as registered at receipt (empty key:
/// unknown).
pub async fn by_size(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<Tally>, StoreError> {
    Ok(fold(key_rows(rows(db, &tallied(plan_id, fact("size_class"))).await?)?))
}

/// Issued samples per sampling domain (领域: production | circulation | e_commerce) of the task's
/// newest signed sampling record (empty key: none recorded).
pub async fn by_domain(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<Tally>, StoreError> {
    Ok(fold(key_rows(rows(db, &tallied(plan_id, fact("domain"))).await?)?))
}

/// Final refusals (拒检) per plan item: (item id, count).
pub async fn refusals_by_item(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    use sampling_task::Column as C;
    let q = Query::select()
        .column(C::ItemId)
        .expr_as(Expr::col(C::Id).count(), "n")
        .from(sampling_task::Entity)
        .and_where(Expr::col(C::PlanId).eq(plan_id))
        .and_where(Expr::col(C::State).eq(TaskState::Refused))
        .group_by_col(C::ItemId)
        .take();
    rows(db, &q)
        .await?
        .into_iter()
        .map(|r| Ok((r.try_get::<i64>("", "item_id")?, r.try_get::<i64>("", "n")?)))
        .collect()
}

/// Failing test items of the plan's unqualified issued samples, most frequent first: (name, count).
pub async fn failing_items(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(String, i64)>, StoreError> {
    use lab_result::Column as R;
    use lab_sample::Column as C;
    let q = Query::select()
        .expr_as(Expr::col((lab_result::Entity, R::ItemName)), "k")
        .expr_as(Expr::col((lab_result::Entity, R::Id)).count(), "n")
        .from(lab_sample::Entity)
        .inner_join(
            lab_result::Entity,
            Expr::col((lab_result::Entity, R::SampleId)).equals((lab_sample::Entity, C::Id)),
        )
        .and_where(Expr::col((lab_sample::Entity, C::PlanId)).eq(plan_id))
        .and_where(Expr::col((lab_sample::Entity, C::Qualified)).eq(false))
        .and_where(Expr::col((lab_result::Entity, R::Judgement)).eq("non_conforming"))
        .and_where(issued())
        .group_by_col((lab_result::Entity, R::ItemName))
        .order_by_expr(Expr::col((lab_result::Entity, R::Id)).count(), Order::Desc)
        .order_by((lab_result::Entity, R::ItemName), Order::Asc)
        .take();
    rows(db, &q).await?.into_iter().map(|r| Ok((r.try_get::<String>("", "k")?, r.try_get::<i64>("", "n")?))).collect()
}

/// One earlier plan's figures for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierFigure {
    pub plan_id: i64,
    pub plan_title: String,
    pub year: i32,
    pub product: String,
    pub qualified: i64,
    pub unqualified: i64,
}

/// The same products (by plan item product name) in the organising bureau's earlier plans (lower
/// ids), up to `max_plans` most recent plans. Joins the bureau's plans to their items and each item
/// to its samples through the (plan_id, item_id, qualified) index.
pub async fn earlier_plans(
    db: &impl ConnectionTrait,
    organising_org_id: i64,
    before_plan_id: i64,
    products: &[String],
    max_plans: usize,
) -> Result<Vec<EarlierFigure>, StoreError> {
    if products.is_empty() {
        return Ok(Vec::new());
    }
    use lab_sample::Column as C;
    let q = Query::select()
        .expr_as(Expr::col((plan::Entity, plan::Column::Id)), "plan_id")
        .expr_as(Expr::col((plan::Entity, plan::Column::Title)), "title")
        .expr_as(Expr::col((plan::Entity, plan::Column::Year)), "year")
        .expr_as(Expr::col((plan_item::Entity, plan_item::Column::Product)), "product")
        .expr_as(Expr::col((lab_sample::Entity, C::Qualified)), "q")
        .expr_as(count(), "n")
        .from(plan::Entity)
        .inner_join(
            plan_item::Entity,
            Expr::col((plan_item::Entity, plan_item::Column::PlanId)).equals((plan::Entity, plan::Column::Id)),
        )
        .inner_join(
            lab_sample::Entity,
            Expr::col((lab_sample::Entity, C::PlanId))
                .equals((plan::Entity, plan::Column::Id))
                .and(Expr::col((lab_sample::Entity, C::ItemId)).equals((plan_item::Entity, plan_item::Column::Id))),
        )
        .and_where(Expr::col((plan::Entity, plan::Column::OrganisingOrgId)).eq(organising_org_id))
        .and_where(Expr::col((plan::Entity, plan::Column::Id)).lt(before_plan_id))
        .and_where(Expr::col((plan_item::Entity, plan_item::Column::Product)).is_in(products.to_vec()))
        .and_where(Expr::col((lab_sample::Entity, C::Qualified)).is_not_null())
        .and_where(issued())
        .group_by_col((plan::Entity, plan::Column::Id))
        .group_by_col((plan::Entity, plan::Column::Title))
        .group_by_col((plan::Entity, plan::Column::Year))
        .group_by_col((plan_item::Entity, plan_item::Column::Product))
        .group_by_col((lab_sample::Entity, C::Qualified))
        .order_by((plan::Entity, plan::Column::Id), Order::Desc)
        .take();
    let mut out: Vec<EarlierFigure> = Vec::new();
    for r in rows(db, &q).await? {
        let plan_id: i64 = r.try_get("", "plan_id")?;
        let product: String = r.try_get("", "product")?;
        let q: bool = r.try_get("", "q")?;
        let n: i64 = r.try_get("", "n")?;
        let i = match out.iter().position(|f| f.plan_id == plan_id && f.product == product) {
            Some(i) => i,
            None => {
                out.push(EarlierFigure {
                    plan_id,
                    plan_title: r.try_get("", "title")?,
                    year: r.try_get("", "year")?,
                    product,
                    qualified: 0,
                    unqualified: 0,
                });
                out.len() - 1
            }
        };
        if q {
            out[i].qualified += n;
        } else {
            out[i].unqualified += n;
        }
    }
    let mut plans: Vec<i64> = out.iter().map(|f| f.plan_id).collect();
    plans.dedup();
    plans.truncate(max_plans);
    out.retain(|f| plans.contains(&f.plan_id));
    Ok(out)
}
