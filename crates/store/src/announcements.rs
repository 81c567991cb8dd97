//! Result announcements (结果公告) and the rows they are drafted from: a plan's issued reports in
//! report-number order (fetched in chunks by id) and its final refusals. State changes are
//! `UPDATE … WHERE id = ? AND state = ?`; zero rows is a conflict.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::announcement::AnnouncementState;
use choucha_domain::lab::ReportState;
use choucha_domain::sampling::TaskState;
use choucha_domain::workflow::Transition;

use crate::entity::{announcement, lab_report, lab_sample, sampling_task, task_outcome};
use crate::{Page, StoreError, Tx};

pub type AnnouncementRow = announcement::Model;

#[derive(Debug, Clone, Default)]
pub struct NewAnnouncement {
    pub plan_id: i64,
    pub organising_org_id: i64,
    pub title: String,
    pub preface: String,
    pub content_json: String,
    pub corrects_id: Option<i64>,
    pub correction_reason: String,
    pub drafted_by: i64,
}

pub async fn insert(tx: &Tx, n: NewAnnouncement) -> Result<AnnouncementRow, StoreError> {
    let now = tx.now();
    Ok(announcement::ActiveModel {
        plan_id: Set(n.plan_id),
        organising_org_id: Set(n.organising_org_id),
        state: Set(AnnouncementState::Draft),
        title: Set(n.title),
        preface: Set(n.preface),
        content_json: Set(n.content_json),
        snapshot_json: Set(String::new()),
        snapshot_sha256: Set(String::new()),
        signed_pdf_path: Set(String::new()),
        corrects_id: Set(n.corrects_id),
        correction_reason: Set(n.correction_reason),
        corrected_by_id: Set(None),
        drafted_by: Set(n.drafted_by),
        drafted_at: Set(now),
        updated_by: Set(n.drafted_by),
        updated_at: Set(now),
        approved_by: Set(None),
        approved_at: Set(None),
        published_by: Set(None),
        published_at: Set(None),
        withdrawn_by: Set(None),
        withdrawn_at: Set(None),
        withdrawal_reason: Set(String::new()),
        doc_number: Set(String::new()),
        publish_note: Set(String::new()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<AnnouncementRow, StoreError> {
    announcement::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A plan's announcements, newest first.
pub async fn of_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<AnnouncementRow>, StoreError> {
    Ok(announcement::Entity::find()
        .filter(announcement::Column::PlanId.eq(plan_id))
        .order_by_desc(announcement::Column::Id)
        .all(db)
        .await?)
}

/// Announcements the public reads (published, corrected or withdrawn), newest first, keyset-paged
/// on the (state, id) index.
pub async fn list_public(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<AnnouncementRow>, StoreError> {
    use announcement::Column as C;
    let mut q = announcement::Entity::find()
        .filter(C::State.is_in(AnnouncementState::ALL.into_iter().filter(|s| s.is_public())));
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let rows = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(rows, limit, |r| r.id.to_string()))
}

fn one_row(rows: u64) -> Result<(), StoreError> {
    if rows == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// What an edit of a draft changes.
#[derive(Debug, Clone, Copy)]
pub struct DraftChange<'a> {
    pub title: &'a str,
    pub doc_number: &'a str,
    pub preface: &'a str,
    pub content_json: &'a str,
}

/// New title, 文号, preface and content of a draft.
pub async fn update_draft(tx: &Tx, id: i64, c: DraftChange<'_>, by: i64) -> Result<(), StoreError> {
    use announcement::Column as C;
    let DraftChange { title, doc_number, preface, content_json } = c;
    let r = announcement::Entity::update_many()
        .col_expr(C::Title, title.into())
        .col_expr(C::DocNumber, doc_number.into())
        .col_expr(C::Preface, preface.into())
        .col_expr(C::ContentJson, content_json.into())
        .col_expr(C::UpdatedBy, by.into())
        .col_expr(C::UpdatedAt, tx.now().into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(AnnouncementState::Draft))
        .exec(&**tx)
        .await?;
    one_row(r.rows_affected)
}

/// What a state change records besides the state.
#[derive(Debug, Clone, Default)]
pub struct StateChange {
    pub approved_by: Option<Option<i64>>,
    pub published_by: Option<i64>,
    pub snapshot: Option<(String, String)>,
    pub withdrawn: Option<(i64, String)>,
    pub corrected_by_id: Option<i64>,
    /// Why it was published while an objection window was open.
    pub publish_note: Option<String>,
    /// The file key of the signed PDF as published.
    pub signed_pdf_path: Option<String>,
}

/// Moves an announcement from `from` to `to` (zero rows updated is a conflict).
pub async fn set_state(tx: &Tx, id: i64, t: Transition<AnnouncementState>, c: StateChange) -> Result<(), StoreError> {
    use announcement::Column as C;
    let now = tx.now();
    let mut q = announcement::Entity::update_many().col_expr(C::State, t.to().into());
    if let Some(by) = c.approved_by {
        q = q.col_expr(C::ApprovedBy, by.into()).col_expr(C::ApprovedAt, by.map(|_| now).into());
    }
    if let Some(by) = c.published_by {
        q = q.col_expr(C::PublishedBy, Some(by).into()).col_expr(C::PublishedAt, Some(now).into());
    }
    if let Some((json, sha)) = c.snapshot {
        q = q.col_expr(C::SnapshotJson, json.into()).col_expr(C::SnapshotSha256, sha.into());
    }
    if let Some((by, reason)) = c.withdrawn {
        q = q
            .col_expr(C::WithdrawnBy, Some(by).into())
            .col_expr(C::WithdrawnAt, Some(now).into())
            .col_expr(C::WithdrawalReason, reason.into());
    }
    if let Some(note) = c.publish_note {
        q = q.col_expr(C::PublishNote, note.into());
    }
    if let Some(path) = c.signed_pdf_path {
        q = q.col_expr(C::SignedPdfPath, path.into());
    }
    if let Some(next) = c.corrected_by_id {
        q = q.col_expr(C::CorrectedById, Some(next).into());
    }
    let r = q.filter(C::Id.eq(id)).filter(C::State.eq(t.from())).exec(&**tx).await?;
    one_row(r.rows_affected)
}

/// Where the objection window of an issued report stands: the enterprise's recorded receipt of the
/// result, and whether an objection or re-test request of its sample is still being handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionWindow {
    pub report_id: i64,
    pub received_on: Option<chrono::NaiveDate>,
    pub objection_open: bool,
}

/// The objection windows of `report_ids`, read in chunks (three queries per chunk, whatever the
/// plan's size).
pub async fn objection_windows(
    db: &impl ConnectionTrait,
    report_ids: &[i64],
) -> Result<Vec<ObjectionWindow>, StoreError> {
    use crate::disposals::OBJECTION_HOLDING;
    use crate::entity::{delivery, objection};
    let mut out = Vec::new();
    for chunk in crate::id_chunks(report_ids) {
        let samples: Vec<(i64, i64)> = lab_report::Entity::find()
            .select_only()
            .column(lab_report::Column::Id)
            .column(lab_report::Column::SampleId)
            .filter(lab_report::Column::Id.is_in(chunk.clone()))
            .into_tuple()
            .all(db)
            .await?;
        let received: Vec<(i64, Option<chrono::NaiveDate>)> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::ReportId)
            .column(delivery::Column::ReceivedOn)
            .filter(delivery::Column::ReportId.is_in(chunk))
            .filter(delivery::Column::Recipient.eq("enterprise"))
            .filter(delivery::Column::ReceivedOn.is_not_null())
            .order_by_asc(delivery::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        let holding: Vec<i64> = objection::Entity::find()
            .select_only()
            .column(objection::Column::SampleId)
            .filter(objection::Column::SampleId.is_in(samples.iter().map(|(_, s)| *s)))
            .filter(objection::Column::State.is_in(OBJECTION_HOLDING))
            .into_tuple()
            .all(db)
            .await?;
        for (report_id, sample_id) in samples {
            out.push(ObjectionWindow {
                report_id,
                received_on: received.iter().find(|(r, _)| *r == report_id).and_then(|(_, d)| *d),
                objection_open: holding.contains(&sample_id),
            });
        }
    }
    Ok(out)
}

/// (report id, report number) of a plan's issued reports (approved and not superseded), in
/// report-number order: small tuples, so even a plan of tens of thousands of samples stays cheap;
/// callers then load the reports in chunks with [`reports_by_ids`].
pub async fn issued_report_numbers(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
    use lab_report::Column as C;
    let samples = Query::select()
        .column(lab_sample::Column::Id)
        .from(lab_sample::Entity)
        .and_where(Expr::col(lab_sample::Column::PlanId).eq(plan_id))
        .take();
    let rows: Vec<(i64, Option<String>)> = lab_report::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::ReportNo)
        .filter(C::State.eq(ReportState::Approved))
        .filter(C::SampleId.in_subquery(samples))
        .order_by_asc(C::ReportNo)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, no)| (id, no.unwrap_or_default())).collect())
}

pub async fn reports_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<lab_report::Model>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(ids) {
        out.extend(lab_report::Entity::find().filter(lab_report::Column::Id.is_in(chunk)).all(db).await?);
    }
    Ok(out)
}

pub async fn samples_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<lab_sample::Model>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(ids) {
        out.extend(lab_sample::Entity::find().filter(lab_sample::Column::Id.is_in(chunk)).all(db).await?);
    }
    Ok(out)
}

pub async fn tasks_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<sampling_task::Model>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(ids) {
        out.extend(sampling_task::Entity::find().filter(sampling_task::Column::Id.is_in(chunk)).all(db).await?);
    }
    Ok(out)
}

/// A plan's refused tasks (拒检, rule 11: the refusal co-signed by the local bureau), oldest first.
pub async fn refused_tasks(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<sampling_task::Model>, StoreError> {
    use sampling_task::Column as C;
    Ok(sampling_task::Entity::find()
        .filter(C::PlanId.eq(plan_id))
        .filter(C::State.eq(TaskState::Refused))
        .order_by_asc(C::Id)
        .all(db)
        .await?)
}

/// The co-signed refusal outcomes of tasks.
pub async fn cosigned_refusals(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
) -> Result<Vec<task_outcome::Model>, StoreError> {
    use task_outcome::Column as C;
    let mut out = Vec::new();
    for chunk in crate::id_chunks(task_ids) {
        out.extend(
            task_outcome::Entity::find()
                .filter(C::TaskId.is_in(chunk))
                .filter(C::Kind.eq("refusal"))
                .filter(C::CosignedBy.is_not_null())
                .order_by_asc(C::Id)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}
