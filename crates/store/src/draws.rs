//! Draws (immutable once made), the sampling tasks they create with their teams, batch allowances
//! (the rule 5 exception) and samplers' declared conflicts (回避).

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::sampling::TaskState;
use choucha_domain::workflow::Transition;

use crate::entity::{batch_allowance, draw, sampler_conflict, sampling_task, sampling_task_member};
use crate::{Page, StoreError, Tx};

pub type DrawRow = draw::Model;
pub type TaskRow = sampling_task::Model;
pub type AllowanceRow = batch_allowance::Model;

#[derive(Debug, Clone, Default)]
pub struct NewDraw {
    pub plan_id: i64,
    pub item_id: i64,
    pub quota: i32,
    pub seed: String,
    pub stratified: bool,
    pub team_size: i32,
    pub algorithm: String,
    pub filters_json: String,
    pub candidate_count: i32,
    pub candidate_hash: String,
    pub candidates_json: String,
    pub exclusions_json: String,
    pub samplers_json: String,
    pub result_json: String,
    pub risk_weights_json: String,
    pub reason: String,
    pub replaces_draw_id: Option<i64>,
    pub replaces_enterprise_id: Option<i64>,
    pub created_by: i64,
}

pub async fn insert(tx: &Tx, d: NewDraw) -> Result<DrawRow, StoreError> {
    Ok(draw::ActiveModel {
        plan_id: Set(d.plan_id),
        item_id: Set(d.item_id),
        quota: Set(d.quota),
        seed: Set(d.seed),
        stratified: Set(d.stratified),
        team_size: Set(d.team_size),
        algorithm: Set(d.algorithm),
        filters_json: Set(d.filters_json),
        candidate_count: Set(d.candidate_count),
        candidate_hash: Set(d.candidate_hash),
        candidates_json: Set(d.candidates_json),
        exclusions_json: Set(d.exclusions_json),
        samplers_json: Set(d.samplers_json),
        result_json: Set(d.result_json),
        risk_weights_json: Set(d.risk_weights_json),
        reason: Set(d.reason),
        replaces_draw_id: Set(d.replaces_draw_id),
        replaces_enterprise_id: Set(d.replaces_enterprise_id),
        published: Set(false),
        created_by: Set(d.created_by),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// Publishing is the only change a draw ever gets.
pub async fn set_published(tx: &Tx, id: i64) -> Result<(), StoreError> {
    let r = draw::Entity::update_many()
        .col_expr(draw::Column::Published, true.into())
        .filter(draw::Column::Id.eq(id))
        .filter(draw::Column::Published.eq(false))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<DrawRow, StoreError> {
    draw::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn of_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<DrawRow>, StoreError> {
    Ok(draw::Entity::find().filter(draw::Column::PlanId.eq(plan_id)).order_by_asc(draw::Column::Id).all(db).await?)
}

pub async fn insert_task(
    tx: &Tx,
    plan_id: i64,
    item_id: i64,
    draw_id: i64,
    enterprise_id: i64,
    due: Option<NaiveDate>,
    team: &[i64],
) -> Result<TaskRow, StoreError> {
    let now = tx.now();
    let t = sampling_task::ActiveModel {
        plan_id: Set(plan_id),
        item_id: Set(item_id),
        draw_id: Set(draw_id),
        enterprise_id: Set(enterprise_id),
        state: Set(TaskState::Assigned),
        due_date: Set(due),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    for u in team {
        sampling_task_member::ActiveModel { task_id: Set(t.id), user_id: Set(*u) }.insert(&**tx).await?;
    }
    Ok(t)
}

/// The tasks of a new draw, one per drawn enterprise with its team: multi-row statements (the tasks,
/// their ids read back by draw in one query, then the members) instead of two statements per task.
/// Returns the tasks in the order given.
pub async fn insert_tasks(
    tx: &Tx,
    plan_id: i64,
    item_id: i64,
    draw_id: i64,
    due: Option<NaiveDate>,
    drawn: &[(i64, Vec<i64>)],
) -> Result<Vec<TaskRow>, StoreError> {
    if drawn.is_empty() {
        return Ok(Vec::new());
    }
    let now = tx.now();
    // 8 bound variables a task, 2 a member: chunks stay far under SQLite's and PostgreSQL's limits.
    for chunk in drawn.chunks(500) {
        sampling_task::Entity::insert_many(chunk.iter().map(|(enterprise_id, _)| sampling_task::ActiveModel {
            plan_id: Set(plan_id),
            item_id: Set(item_id),
            draw_id: Set(draw_id),
            enterprise_id: Set(*enterprise_id),
            state: Set(TaskState::Assigned),
            due_date: Set(due),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&**tx)
        .await?;
    }
    // The draw is new in this transaction: its tasks are exactly these, one per drawn enterprise
    // (portable: SQLite's INSERT … RETURNING is not enabled in sea-orm here).
    let by_enterprise: std::collections::HashMap<i64, TaskRow> =
        tasks_of_draw(&**tx, draw_id).await?.into_iter().map(|t| (t.enterprise_id, t)).collect();
    let mut out = Vec::with_capacity(drawn.len());
    let mut members = Vec::new();
    for (enterprise_id, team) in drawn {
        let t = by_enterprise.get(enterprise_id).cloned().ok_or(StoreError::NotFound)?;
        members.extend(team.iter().map(|u| sampling_task_member::ActiveModel { task_id: Set(t.id), user_id: Set(*u) }));
        out.push(t);
    }
    for chunk in members.chunks(1000) {
        sampling_task_member::Entity::insert_many(chunk.to_vec()).exec_without_returning(&**tx).await?;
    }
    Ok(out)
}

/// Change a task's state (`UPDATE … WHERE state = from`).
pub async fn set_task_state(tx: &Tx, id: i64, t: Transition<TaskState>) -> Result<(), StoreError> {
    let r = sampling_task::Entity::update_many()
        .col_expr(sampling_task::Column::State, t.to().into())
        .col_expr(sampling_task::Column::UpdatedAt, tx.now().into())
        .filter(sampling_task::Column::Id.eq(id))
        .filter(sampling_task::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

pub async fn get_task(db: &impl ConnectionTrait, id: i64) -> Result<TaskRow, StoreError> {
    sampling_task::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A task's team, by user id (the order every view of the team shows).
pub async fn team_of(db: &impl ConnectionTrait, task_id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(sampling_task_member::Entity::find()
        .filter(sampling_task_member::Column::TaskId.eq(task_id))
        .order_by_asc(sampling_task_member::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}

/// (task id, user id, display name) of these tasks' teams, in (task, user) order: a page's teams
/// and their names in one query.
pub async fn team_names_of(db: &impl ConnectionTrait, task_ids: &[i64]) -> Result<Vec<(i64, i64, String)>, StoreError> {
    use crate::entity::user;
    use sea_orm::JoinType;
    let named: sea_orm::RelationDef = sampling_task_member::Entity::belongs_to(user::Entity)
        .from(sampling_task_member::Column::UserId)
        .to(user::Column::Id)
        .into();
    let mut out = Vec::new();
    for chunk in crate::id_chunks(task_ids) {
        let rows: Vec<(i64, i64, String)> = sampling_task_member::Entity::find()
            .select_only()
            .column(sampling_task_member::Column::TaskId)
            .column(sampling_task_member::Column::UserId)
            .column(user::Column::DisplayName)
            .join(JoinType::InnerJoin, named.clone())
            .filter(sampling_task_member::Column::TaskId.is_in(chunk))
            .order_by_asc(sampling_task_member::Column::TaskId)
            .order_by_asc(sampling_task_member::Column::UserId)
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Tasks that count against quotas and rule 5 (everything but cancelled ones).
const LIVE: [TaskState; 5] = TaskState::LIVE;

/// Item ids of the live tasks an enterprise has in a plan, one entry a batch (rule 5).
pub async fn batches_in_plan(
    db: &impl ConnectionTrait,
    plan_id: i64,
    enterprise_id: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(sampling_task::Entity::find()
        .select_only()
        .column(sampling_task::Column::ItemId)
        .filter(sampling_task::Column::PlanId.eq(plan_id))
        .filter(sampling_task::Column::EnterpriseId.eq(enterprise_id))
        .filter(sampling_task::Column::State.is_in(LIVE))
        .into_tuple()
        .all(db)
        .await?)
}

/// (enterprise id, item id) of every live task of a plan: the draw's rule 5 exclusions in one query.
pub async fn plan_batches(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(sampling_task::Entity::find()
        .select_only()
        .column(sampling_task::Column::EnterpriseId)
        .column(sampling_task::Column::ItemId)
        .filter(sampling_task::Column::PlanId.eq(plan_id))
        .filter(sampling_task::Column::State.is_in(LIVE))
        .into_tuple()
        .all(db)
        .await?)
}

/// Live tasks per item of a plan (progress against quotas), from the counts m0034's triggers keep:
/// a few rows a plan item, however many tasks the plan has.
pub async fn task_counts(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (item_id, state, n) in task_state_counts(db, plan_id).await? {
        if !LIVE.contains(&state) {
            continue;
        }
        match out.last_mut() {
            Some((i, total)) if *i == item_id => *total += n,
            _ => out.push((item_id, n)),
        }
    }
    Ok(out)
}

/// (item id, state, count) of a plan's sampling tasks, by item, from the maintained counts
/// (states with no task left out).
pub async fn task_state_counts(
    db: &impl ConnectionTrait,
    plan_id: i64,
) -> Result<Vec<(i64, TaskState, i64)>, StoreError> {
    use crate::entity::plan_task_count::{Column as C, Entity};
    let rows: Vec<(i64, String, i64)> = Entity::find()
        .select_only()
        .column(C::ItemId)
        .column(C::State)
        .column(C::N)
        .filter(C::PlanId.eq(plan_id))
        .filter(C::N.ne(0))
        .order_by_asc(C::ItemId)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(item, state, n)| {
            let state = state.parse::<TaskState>().map_err(|_| StoreError::Corrupt(format!("task state {state}")))?;
            Ok((item, state, n))
        })
        .collect()
}

/// What a sampler narrows their task list by: a state, and text found in the enterprise's name or
/// the product.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub state: Option<TaskState>,
    pub text: Option<String>,
}

/// A sampler's tasks, newest first, keyset paginated: the members index (user, task) walked
/// backwards and joined to each task by its key, so a page reads its own rows however many tasks the
/// sampler has had (a semi-join from `sampling_tasks` made the planner gather all of them first).
pub async fn tasks_of_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    filter: &TaskFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<TaskRow>, StoreError> {
    use sampling_task_member::Column as M;
    use sea_orm::sea_query::Query;
    use sea_orm::{Condition, JoinType};
    let membership: sea_orm::RelationDef = sampling_task_member::Entity::belongs_to(sampling_task::Entity)
        .from(M::TaskId)
        .to(sampling_task::Column::Id)
        .into();
    let mut q = sampling_task::Entity::find().join_rev(JoinType::InnerJoin, membership).filter(M::UserId.eq(user_id));
    if let Some(state) = filter.state {
        q = q.filter(sampling_task::Column::State.eq(state));
    }
    if let Some(text) = filter.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = format!("%{}%", text.replace(['%', '_'], ""));
        // Only the enterprises of this user's tasks are searched, never the whole registry.
        let mine = Query::select()
            .column(M::TaskId)
            .from(sampling_task_member::Entity)
            .and_where(M::UserId.eq(user_id))
            .to_owned();
        let their_enterprises = Query::select()
            .column(sampling_task::Column::EnterpriseId)
            .from(sampling_task::Entity)
            .and_where(sampling_task::Column::Id.in_subquery(mine))
            .to_owned();
        let named = Query::select()
            .column(crate::entity::enterprise::Column::Id)
            .from(crate::entity::enterprise::Entity)
            .and_where(crate::entity::enterprise::Column::Id.in_subquery(their_enterprises))
            .and_where(crate::entity::enterprise::Column::Name.like(like.as_str()))
            .to_owned();
        let products = Query::select()
            .column(crate::entity::plan_item::Column::Id)
            .from(crate::entity::plan_item::Entity)
            .and_where(crate::entity::plan_item::Column::Product.like(like.as_str()))
            .to_owned();
        q = q.filter(
            Condition::any()
                .add(sampling_task::Column::EnterpriseId.in_subquery(named))
                .add(sampling_task::Column::ItemId.in_subquery(products)),
        );
    }
    if let Some(b) = before {
        q = q.filter(M::TaskId.lt(b));
    }
    let items = q.order_by_desc(M::TaskId).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

pub async fn tasks_of_draw(db: &impl ConnectionTrait, draw_id: i64) -> Result<Vec<TaskRow>, StoreError> {
    Ok(sampling_task::Entity::find()
        .filter(sampling_task::Column::DrawId.eq(draw_id))
        .order_by_asc(sampling_task::Column::Id)
        .all(db)
        .await?)
}

pub async fn upsert_allowance(tx: &Tx, a: AllowanceRow) -> Result<(), StoreError> {
    use sea_orm::sea_query::OnConflict;
    batch_allowance::Entity::insert(batch_allowance::ActiveModel {
        plan_id: Set(a.plan_id),
        enterprise_id: Set(a.enterprise_id),
        max_total: Set(a.max_total),
        max_per_product: Set(a.max_per_product),
        reason: Set(a.reason),
        granted_by: Set(a.granted_by),
        created_at: Set(a.created_at),
    })
    .on_conflict(
        OnConflict::columns([batch_allowance::Column::PlanId, batch_allowance::Column::EnterpriseId])
            .update_columns([
                batch_allowance::Column::MaxTotal,
                batch_allowance::Column::MaxPerProduct,
                batch_allowance::Column::Reason,
                batch_allowance::Column::GrantedBy,
            ])
            .to_owned(),
    )
    .exec(&**tx)
    .await?;
    Ok(())
}

pub async fn allowances_of(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<AllowanceRow>, StoreError> {
    Ok(batch_allowance::Entity::find().filter(batch_allowance::Column::PlanId.eq(plan_id)).all(db).await?)
}

pub async fn insert_conflict(tx: &Tx, user_id: i64, enterprise_id: i64, reason: &str) -> Result<(), StoreError> {
    sampler_conflict::ActiveModel {
        user_id: Set(user_id),
        enterprise_id: Set(enterprise_id),
        reason: Set(reason.to_string()),
        created_at: Set(tx.now()),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// (user id, enterprise id) of the declared conflicts of these users.
pub async fn conflicts_of(db: &impl ConnectionTrait, user_ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sampler_conflict::Entity::find()
        .select_only()
        .column(sampler_conflict::Column::UserId)
        .column(sampler_conflict::Column::EnterpriseId)
        .filter(sampler_conflict::Column::UserId.is_in(user_ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?)
}

pub use crate::draw_pool::{CandidateFilter, CandidateRow, candidates};

/// Earlier live tasks of a product (by name) since a time, outside `except_plan`: the history of
/// rule 22, as (enterprise id, organising bureau id, when).
pub async fn past_tasks_of_product(
    db: &impl ConnectionTrait,
    product: &str,
    since: chrono::DateTime<Utc>,
    except_plan: i64,
) -> Result<Vec<(i64, i64, chrono::DateTime<Utc>)>, StoreError> {
    use crate::entity::{plan, plan_item};
    let items: Vec<(i64, i64)> = plan_item::Entity::find()
        .select_only()
        .column(plan_item::Column::Id)
        .column(plan_item::Column::PlanId)
        .filter(plan_item::Column::Product.eq(product))
        .filter(plan_item::Column::PlanId.ne(except_plan))
        .into_tuple()
        .all(db)
        .await?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let plan_org: std::collections::BTreeMap<i64, i64> = plan::Entity::find()
        .filter(plan::Column::Id.is_in(items.iter().map(|(_, p)| *p).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.organising_org_id))
        .collect();
    // Read from the index (item, created) that covers these columns (m0036), not from the rows.
    let rows: Vec<(i64, i64, chrono::DateTime<Utc>)> = sampling_task::Entity::find()
        .select_only()
        .column(sampling_task::Column::EnterpriseId)
        .column(sampling_task::Column::PlanId)
        .column(sampling_task::Column::CreatedAt)
        .filter(sampling_task::Column::ItemId.is_in(items.iter().map(|(i, _)| *i).collect::<Vec<_>>()))
        .filter(sampling_task::Column::CreatedAt.gte(since))
        .filter(sampling_task::Column::State.is_in(LIVE))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(e, p, at)| (e, plan_org.get(&p).copied().unwrap_or_default(), at)).collect())
}

/// Active users holding `role` in an organisation: (id, username, display name).
pub async fn users_with_role(
    db: &impl ConnectionTrait,
    org_id: i64,
    role: &str,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    use crate::entity::{user, user_role};
    let ids: Vec<i64> = user_role::Entity::find()
        .select_only()
        .column(user_role::Column::UserId)
        .filter(user_role::Column::Role.eq(role))
        .into_tuple()
        .all(db)
        .await?;
    Ok(user::Entity::find()
        .select_only()
        .columns([user::Column::Id, user::Column::Username, user::Column::DisplayName])
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Username)
        .into_tuple()
        .all(db)
        .await?)
}

/// (task id, enterprise id) of many tasks, read in chunks by primary key.
pub async fn enterprises_of_tasks(db: &impl ConnectionTrait, task_ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut out = Vec::with_capacity(task_ids.len());
    for chunk in crate::id_chunks(task_ids) {
        out.extend(
            sampling_task::Entity::find()
                .select_only()
                .column(sampling_task::Column::Id)
                .column(sampling_task::Column::EnterpriseId)
                .filter(sampling_task::Column::Id.is_in(chunk))
                .into_tuple::<(i64, i64)>()
                .all(db)
                .await?,
        );
    }
    Ok(out)
}
