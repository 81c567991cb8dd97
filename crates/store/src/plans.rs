//! Plans, their quota groups and items, and amendments.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::plan::PlanState;
use choucha_domain::workflow::Transition;

use crate::entity::{plan, plan_amendment, plan_item, quota_group};
use crate::{Page, StoreError, Tx};

pub type PlanRow = plan::Model;
pub type ItemRow = plan_item::Model;
pub type GroupRow = quota_group::Model;
pub type AmendmentRow = plan_amendment::Model;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PlanFields {
    pub year: i32,
    pub title: String,
    pub organising_org_id: i64,
    pub doc_no: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub domains: String,
    pub deadline_delivery: Option<NaiveDate>,
    pub deadline_data_entry: Option<NaiveDate>,
    pub deadline_summary: Option<NaiveDate>,
    pub unqualified_report_days: Option<i32>,
    pub budget_cents: Option<i64>,
    pub notes: String,
}

pub async fn insert_plan(tx: &Tx, f: PlanFields) -> Result<PlanRow, StoreError> {
    let now = tx.now();
    Ok(plan::ActiveModel {
        year: Set(f.year),
        title: Set(f.title),
        organising_org_id: Set(f.organising_org_id),
        doc_no: Set(f.doc_no),
        contact_name: Set(f.contact_name),
        contact_phone: Set(f.contact_phone),
        domains: Set(f.domains),
        state: Set(PlanState::Draft),
        deadline_delivery: Set(f.deadline_delivery),
        deadline_data_entry: Set(f.deadline_data_entry),
        deadline_summary: Set(f.deadline_summary),
        unqualified_report_days: Set(f.unqualified_report_days),
        budget_cents: Set(f.budget_cents),
        notes: Set(f.notes),
        issued_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn update_plan(tx: &Tx, id: i64, f: PlanFields) -> Result<PlanRow, StoreError> {
    Ok(plan::ActiveModel {
        id: Set(id),
        year: Set(f.year),
        title: Set(f.title),
        organising_org_id: Set(f.organising_org_id),
        doc_no: Set(f.doc_no),
        contact_name: Set(f.contact_name),
        contact_phone: Set(f.contact_phone),
        domains: Set(f.domains),
        deadline_delivery: Set(f.deadline_delivery),
        deadline_data_entry: Set(f.deadline_data_entry),
        deadline_summary: Set(f.deadline_summary),
        unqualified_report_days: Set(f.unqualified_report_days),
        budget_cents: Set(f.budget_cents),
        notes: Set(f.notes),
        updated_at: Set(tx.now()),
        ..Default::default()
    }
    .update(&**tx)
    .await?)
}

/// Move a plan from one state to another; someone else moving it first is a conflict.
pub async fn set_state(tx: &Tx, id: i64, t: Transition<PlanState>) -> Result<(), StoreError> {
    let mut q = plan::Entity::update_many()
        .col_expr(plan::Column::State, t.to().into())
        .col_expr(plan::Column::UpdatedAt, tx.now().into());
    if t.to() == PlanState::Issued {
        q = q.col_expr(plan::Column::IssuedAt, Some(tx.now()).into());
    }
    let r = q.filter(plan::Column::Id.eq(id)).filter(plan::Column::State.eq(t.from())).exec(&**tx).await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Delete a draft plan with its items, quota groups and batch allowances; a plan no longer in
/// draft (someone issued it meanwhile) is a conflict and nothing is deleted.
pub async fn delete_draft(tx: &Tx, id: i64) -> Result<(), StoreError> {
    use crate::entity::batch_allowance;
    plan_item::Entity::delete_many().filter(plan_item::Column::PlanId.eq(id)).exec(&**tx).await?;
    quota_group::Entity::delete_many().filter(quota_group::Column::PlanId.eq(id)).exec(&**tx).await?;
    batch_allowance::Entity::delete_many().filter(batch_allowance::Column::PlanId.eq(id)).exec(&**tx).await?;
    let r = plan::Entity::delete_many()
        .filter(plan::Column::Id.eq(id))
        .filter(plan::Column::State.eq(PlanState::Draft))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// A plan of a bureau by its exact title.
pub async fn find_by_title(db: &impl ConnectionTrait, org_id: i64, title: &str) -> Result<Option<PlanRow>, StoreError> {
    Ok(plan::Entity::find()
        .filter(plan::Column::OrganisingOrgId.eq(org_id))
        .filter(plan::Column::Title.eq(title))
        .one(db)
        .await?)
}

pub async fn get_plan(db: &impl ConnectionTrait, id: i64) -> Result<PlanRow, StoreError> {
    plan::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// Plans organised by these bureaus (None: any).
    pub organising_org_ids: Option<Vec<i64>>,
    /// Plans with an item tested, sampled or screened by this institution.
    pub institution_id: Option<i64>,
    pub year: Option<i32>,
    pub state: Option<PlanState>,
    /// Only plans that are not drafts (what the public and institutions see).
    pub not_draft: bool,
}

/// Newest first (by id), keyset paginated.
pub async fn list_plans(
    db: &impl ConnectionTrait,
    f: &PlanFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<PlanRow>, StoreError> {
    let mut q = plan::Entity::find();
    if let Some(ids) = &f.organising_org_ids {
        q = q.filter(plan::Column::OrganisingOrgId.is_in(ids.clone()));
    }
    if let Some(inst) = f.institution_id {
        let plan_ids: Vec<i64> = plan_item::Entity::find()
            .select_only()
            .column(plan_item::Column::PlanId)
            .filter(
                sea_orm::Condition::any()
                    .add(plan_item::Column::TestingOrgId.eq(inst))
                    .add(plan_item::Column::SamplingOrgId.eq(inst))
                    .add(plan_item::Column::ScreeningOrgId.eq(inst)),
            )
            .distinct()
            .into_tuple()
            .all(db)
            .await?;
        q = q.filter(plan::Column::Id.is_in(plan_ids));
    }
    if let Some(y) = f.year {
        q = q.filter(plan::Column::Year.eq(y));
    }
    if let Some(s) = f.state {
        q = q.filter(plan::Column::State.eq(s));
    }
    if f.not_draft {
        q = q.filter(plan::Column::State.ne(PlanState::Draft));
    }
    if let Some(b) = before {
        q = q.filter(plan::Column::Id.lt(b));
    }
    let items = q.order_by_desc(plan::Column::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

pub async fn insert_group(tx: &Tx, plan_id: i64, quota: i32) -> Result<GroupRow, StoreError> {
    Ok(quota_group::ActiveModel { plan_id: Set(plan_id), quota: Set(quota), ..Default::default() }
        .insert(&**tx)
        .await?)
}

pub async fn set_group_quota(tx: &Tx, group_id: i64, quota: i32) -> Result<(), StoreError> {
    quota_group::ActiveModel { id: Set(group_id), quota: Set(quota), ..Default::default() }.update(&**tx).await?;
    Ok(())
}

pub async fn delete_group(tx: &Tx, group_id: i64) -> Result<(), StoreError> {
    quota_group::Entity::delete_by_id(group_id).exec(&**tx).await?;
    Ok(())
}

pub async fn groups_of(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<GroupRow>, StoreError> {
    Ok(quota_group::Entity::find()
        .filter(quota_group::Column::PlanId.eq(plan_id))
        .order_by_asc(quota_group::Column::Id)
        .all(db)
        .await?)
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ItemFields {
    pub plan_id: i64,
    pub group_id: i64,
    pub position: i32,
    pub number: String,
    pub category: String,
    pub product: String,
    pub scopes: String,
    pub sampling_org_id: Option<i64>,
    pub testing_org_id: Option<i64>,
    pub screening_org_id: Option<i64>,
}

pub async fn insert_item(tx: &Tx, f: ItemFields) -> Result<ItemRow, StoreError> {
    Ok(plan_item::ActiveModel {
        plan_id: Set(f.plan_id),
        group_id: Set(f.group_id),
        position: Set(f.position),
        number: Set(f.number),
        category: Set(f.category),
        product: Set(f.product),
        scopes: Set(f.scopes),
        sampling_org_id: Set(f.sampling_org_id),
        testing_org_id: Set(f.testing_org_id),
        screening_org_id: Set(f.screening_org_id),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn update_item(tx: &Tx, id: i64, f: ItemFields) -> Result<ItemRow, StoreError> {
    Ok(plan_item::ActiveModel {
        id: Set(id),
        plan_id: Set(f.plan_id),
        group_id: Set(f.group_id),
        position: Set(f.position),
        number: Set(f.number),
        category: Set(f.category),
        product: Set(f.product),
        scopes: Set(f.scopes),
        sampling_org_id: Set(f.sampling_org_id),
        testing_org_id: Set(f.testing_org_id),
        screening_org_id: Set(f.screening_org_id),
    }
    .update(&**tx)
    .await?)
}

pub async fn delete_item(tx: &Tx, id: i64) -> Result<(), StoreError> {
    plan_item::Entity::delete_by_id(id).exec(&**tx).await?;
    Ok(())
}

pub async fn get_item(db: &impl ConnectionTrait, id: i64) -> Result<ItemRow, StoreError> {
    plan_item::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A plan's items in table order.
/// Items by id (a page's items in one query); missing ids are left out.
pub async fn get_items(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<ItemRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(ids) {
        out.extend(plan_item::Entity::find().filter(plan_item::Column::Id.is_in(chunk)).all(db).await?);
    }
    Ok(out)
}

/// Plans by id (a page's plans in one query); missing ids are left out.
pub async fn get_plans(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<PlanRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(ids) {
        out.extend(plan::Entity::find().filter(plan::Column::Id.is_in(chunk)).all(db).await?);
    }
    Ok(out)
}

pub async fn items_of(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<ItemRow>, StoreError> {
    Ok(plan_item::Entity::find()
        .filter(plan_item::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_item::Column::Position)
        .order_by_asc(plan_item::Column::Id)
        .all(db)
        .await?)
}

pub async fn insert_amendment(
    tx: &Tx,
    plan_id: i64,
    reason: &str,
    before: String,
    after: String,
    by: i64,
) -> Result<AmendmentRow, StoreError> {
    Ok(plan_amendment::ActiveModel {
        plan_id: Set(plan_id),
        reason: Set(reason.to_string()),
        before_json: Set(before),
        after_json: Set(after),
        created_by: Set(by),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn amendments_of(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<AmendmentRow>, StoreError> {
    Ok(plan_amendment::Entity::find()
        .filter(plan_amendment::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_amendment::Column::Id)
        .all(db)
        .await?)
}
