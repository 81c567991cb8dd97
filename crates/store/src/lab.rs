//! The laboratory: receipt, blind codes, licence checks, test results and reports.
//!
//! Lists are keyset-paged on the (institution | tester | screening institution, state, id) indexes
//! of `lab_samples`; the dashboard counts are `GROUP BY` over the same indexes.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::lab::{LicenceState, ReportState, SampleState};
use choucha_domain::sampling::TaskState;
use choucha_domain::workflow::Transition;

use crate::audit_rows::RowTable;
use crate::entity::{custody_event, lab_report, lab_result, lab_sample, lab_screening, plan, plan_item, sampling_task};
use crate::{Page, StoreError, Tx};

pub type SampleRow = lab_sample::Model;
pub type ResultRow = lab_result::Model;
pub type ReportRow = lab_report::Model;
pub type ScreeningRow = lab_screening::Model;

#[derive(Debug, Clone, Default)]
pub struct NewSample {
    pub task_id: i64,
    pub plan_id: i64,
    pub item_id: i64,
    pub testing_org_id: i64,
    pub screening_org_id: Option<i64>,
    pub rules_version_id: i64,
    pub blind_code: Option<String>,
    pub state: SampleState,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: i64,
    pub delivered_by: String,
    pub carrier: String,
    pub tracking_no: String,
    pub receipt_json: String,
    pub reject_reason: String,
    pub backup_location: String,
    pub licence_required: String,
    pub licence_state: LicenceState,
}

pub async fn insert_sample(tx: &Tx, n: NewSample) -> Result<SampleRow, StoreError> {
    let now = tx.now();
    Ok(lab_sample::ActiveModel {
        task_id: Set(n.task_id),
        plan_id: Set(n.plan_id),
        item_id: Set(n.item_id),
        testing_org_id: Set(n.testing_org_id),
        screening_org_id: Set(n.screening_org_id),
        rules_version_id: Set(n.rules_version_id),
        blind_code: Set(n.blind_code),
        state: Set(n.state),
        received_at: Set(n.received_at.unwrap_or(now)),
        received_by: Set(n.received_by),
        delivered_by: Set(n.delivered_by),
        carrier: Set(n.carrier),
        tracking_no: Set(n.tracking_no),
        receipt_json: Set(n.receipt_json),
        reject_reason: Set(n.reject_reason),
        backup_location: Set(n.backup_location),
        licence_required: Set(n.licence_required),
        licence_state: Set(n.licence_state),
        licence_note: Set(String::new()),
        tester_id: Set(None),
        testing_ended_on: Set(None),
        results_due: Set(None),
        results_completed_at: Set(None),
        results_late: Set(false),
        qualified: Set(None),
        conclusion: Set(String::new()),
        pending_correction: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn get_sample(db: &impl ConnectionTrait, id: i64) -> Result<SampleRow, StoreError> {
    lab_sample::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn sample_of_task(db: &impl ConnectionTrait, task_id: i64) -> Result<Option<SampleRow>, StoreError> {
    Ok(lab_sample::Entity::find().filter(lab_sample::Column::TaskId.eq(task_id)).one(db).await?)
}

pub async fn sample_by_blind_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<SampleRow>, StoreError> {
    Ok(lab_sample::Entity::find().filter(lab_sample::Column::BlindCode.eq(code)).one(db).await?)
}

pub async fn samples_by_blind_codes(db: &impl ConnectionTrait, codes: &[String]) -> Result<Vec<SampleRow>, StoreError> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(lab_sample::Entity::find().filter(lab_sample::Column::BlindCode.is_in(codes.to_vec())).all(db).await?)
}

/// Changes to a sample: its workflow transitions, typed (only `workflow::step` builds them), and
/// any other columns as an active model (a column left `NotSet` is left alone; the id and the state
/// columns in `set` are ignored).
#[derive(Debug, Clone, Default)]
pub struct SamplePatch {
    pub state: Option<Transition<SampleState>>,
    pub licence_state: Option<Transition<LicenceState>>,
    pub set: lab_sample::ActiveModel,
}

/// The plain columns of a sample, to set in a [`SamplePatch`].
pub type SampleChanges = lab_sample::ActiveModel;

/// Update a sample that is still in `state` (`UPDATE … WHERE state = ?`, and the licence check's
/// state when it moves; zero rows is a conflict). A state transition must start from `state`.
pub async fn update_sample(tx: &Tx, id: i64, state: SampleState, p: SamplePatch) -> Result<(), StoreError> {
    use lab_sample::Column as C;
    use sea_orm::ActiveValue::NotSet;
    let mut set = p.set;
    set.id = NotSet;
    set.state = NotSet;
    set.licence_state = NotSet;
    set.updated_at = Set(tx.now());
    let mut q = lab_sample::Entity::update_many().set(set);
    if let Some(t) = p.state {
        if t.from() != state {
            return Err(StoreError::Conflict);
        }
        q = q.col_expr(C::State, t.to().into());
    }
    if let Some(t) = p.licence_state {
        q = q.col_expr(C::LicenceState, t.to().into()).filter(C::LicenceState.eq(t.from()));
    }
    let r = q.filter(C::Id.eq(id)).filter(C::State.eq(state)).exec(&**tx).await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Which samples a list shows.
#[derive(Debug, Clone, Default)]
pub struct SampleFilter {
    pub testing_org_id: Option<i64>,
    pub screening_org_id: Option<i64>,
    pub tester_id: Option<i64>,
    /// Samples of plans organised by this bureau.
    pub organising_org_id: Option<i64>,
    pub states: Vec<SampleState>,
    /// Results due before this day and not yet complete (rule 16).
    pub due_before: Option<NaiveDate>,
    /// Only samples whose results were entered late.
    pub late_only: bool,
    /// Blind code prefix (search).
    pub blind_code_prefix: Option<String>,
}

/// A keyset page of samples, newest first; `before` is the id cursor.
pub async fn list_samples(
    db: &impl ConnectionTrait,
    f: &SampleFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<SampleRow>, StoreError> {
    use lab_sample::Column as C;
    let mut q = lab_sample::Entity::find();
    if let Some(o) = f.testing_org_id {
        q = q.filter(C::TestingOrgId.eq(o));
    }
    if let Some(o) = f.screening_org_id {
        q = q.filter(C::ScreeningOrgId.eq(o));
    }
    if let Some(t) = f.tester_id {
        q = q.filter(C::TesterId.eq(t));
    }
    if let Some(o) = f.organising_org_id {
        q = q.filter(
            C::PlanId.in_subquery(
                Query::select()
                    .column(plan::Column::Id)
                    .from(plan::Entity)
                    .and_where(plan::Column::OrganisingOrgId.eq(o))
                    .take(),
            ),
        );
    }
    if !f.states.is_empty() {
        q = q.filter(C::State.is_in(f.states.clone()));
    }
    if let Some(d) = f.due_before {
        q = q.filter(C::ResultsDue.lt(d)).filter(C::ResultsCompletedAt.is_null());
    }
    if f.late_only {
        q = q.filter(C::ResultsLate.eq(true));
    }
    if let Some(p) = f.blind_code_prefix.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        q = q.filter(C::BlindCode.starts_with(p.to_uppercase()));
    }
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let rows = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(rows, limit, |r| r.id.to_string()))
}

/// Sample counts by (testing institution, state), optionally only for one institution or for the
/// plans of one organising bureau.
pub async fn count_by_org_state(
    db: &impl ConnectionTrait,
    testing_org_id: Option<i64>,
    organising_org_id: Option<i64>,
) -> Result<Vec<(i64, SampleState, i64)>, StoreError> {
    use lab_sample::Column as C;
    let mut q = lab_sample::Entity::find()
        .select_only()
        .column(C::TestingOrgId)
        .column(C::State)
        .column_as(Expr::col(C::Id).count(), "n")
        .group_by(C::TestingOrgId)
        .group_by(C::State);
    if let Some(o) = testing_org_id {
        q = q.filter(C::TestingOrgId.eq(o));
    }
    if let Some(o) = organising_org_id {
        q = q.filter(
            C::PlanId.in_subquery(
                Query::select()
                    .column(plan::Column::Id)
                    .from(plan::Entity)
                    .and_where(plan::Column::OrganisingOrgId.eq(o))
                    .take(),
            ),
        );
    }
    Ok(q.into_tuple().all(db).await?)
}

/// Open samples per tester of an institution: (tester, state, count).
pub async fn count_by_tester(
    db: &impl ConnectionTrait,
    org_id: i64,
) -> Result<Vec<(i64, SampleState, i64)>, StoreError> {
    use lab_sample::Column as C;
    Ok(lab_sample::Entity::find()
        .select_only()
        .column(C::TesterId)
        .column(C::State)
        .column_as(Expr::col(C::Id).count(), "n")
        .filter(C::TestingOrgId.eq(org_id))
        .filter(C::TesterId.is_not_null())
        .filter(C::State.is_in([SampleState::Accepted, SampleState::Testing, SampleState::Tested]))
        .group_by(C::TesterId)
        .group_by(C::State)
        .into_tuple()
        .all(db)
        .await?)
}

/// Samples whose results are overdue (rule 16), counted per institution.
pub async fn count_overdue(
    db: &impl ConnectionTrait,
    testing_org_id: Option<i64>,
    today: NaiveDate,
) -> Result<u64, StoreError> {
    use lab_sample::Column as C;
    let mut q = lab_sample::Entity::find()
        .select_only()
        .column_as(Expr::col(C::Id).count(), "n")
        .filter(C::State.eq(SampleState::Testing))
        .filter(C::ResultsDue.lt(today));
    if let Some(o) = testing_org_id {
        q = q.filter(C::TestingOrgId.eq(o));
    }
    let n: Option<i64> = q.into_tuple().one(db).await?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// Dispatch events of tasks that the institution tests and has not yet received: (event, task).
pub async fn incoming(
    db: &impl ConnectionTrait,
    testing_org_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<custody_event::Model>, StoreError> {
    use custody_event::Column as C;
    let items_of_org = Query::select()
        .column(plan_item::Column::Id)
        .from(plan_item::Entity)
        .and_where(plan_item::Column::TestingOrgId.eq(testing_org_id))
        .take();
    let tasks = Query::select()
        .column(sampling_task::Column::Id)
        .from(sampling_task::Entity)
        .and_where(sampling_task::Column::ItemId.in_subquery(items_of_org))
        .and_where(sampling_task::Column::State.eq(TaskState::Sampled))
        .take();
    let received = Query::select().column(lab_sample::Column::TaskId).from(lab_sample::Entity).take();
    // A dispatch records one event per portion (test, and backup unless it stays at the
    // enterprise): the backup portion's is left out, so each sample is listed once.
    let mut q = custody_event::Entity::find()
        .filter(C::Kind.eq("dispatched"))
        .filter(C::Portion.ne("backup"))
        .filter(C::TaskId.in_subquery(tasks))
        .filter(C::TaskId.not_in_subquery(received));
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let rows = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(rows, limit, |r| r.id.to_string()))
}

#[derive(Debug, Clone, Default)]
pub struct NewResult {
    pub sample_id: i64,
    pub item_index: i32,
    pub item_name: String,
    pub unit: String,
    pub requirement: String,
    pub limit_json: String,
    pub measured_json: String,
    pub display: String,
    pub method: String,
    pub instrument: String,
    pub judgement: String,
    pub tested_on: NaiveDate,
    pub entered_by: i64,
}

/// Enter (or replace) the result of one test item.
pub async fn put_result(tx: &Tx, r: NewResult) -> Result<ResultRow, StoreError> {
    let replaced: Vec<i64> = lab_result::Entity::find()
        .select_only()
        .column(lab_result::Column::Id)
        .filter(lab_result::Column::SampleId.eq(r.sample_id))
        .filter(lab_result::Column::ItemIndex.eq(r.item_index))
        .into_tuple()
        .all(&**tx)
        .await?;
    if !replaced.is_empty() {
        lab_result::Entity::delete_many().filter(lab_result::Column::Id.is_in(replaced.clone())).exec(&**tx).await?;
    }
    for id in replaced {
        tx.touch(RowTable::LabResult, id);
    }
    let row = lab_result::ActiveModel {
        sample_id: Set(r.sample_id),
        item_index: Set(r.item_index),
        item_name: Set(r.item_name),
        unit: Set(r.unit),
        requirement: Set(r.requirement),
        limit_json: Set(r.limit_json),
        measured_json: Set(r.measured_json),
        display: Set(r.display),
        method: Set(r.method),
        instrument: Set(r.instrument),
        judgement: Set(r.judgement),
        tested_on: Set(r.tested_on),
        entered_by: Set(r.entered_by),
        entered_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    tx.touch(RowTable::LabResult, row.id);
    Ok(row)
}

pub async fn results_of(db: &impl ConnectionTrait, sample_id: i64) -> Result<Vec<ResultRow>, StoreError> {
    Ok(lab_result::Entity::find()
        .filter(lab_result::Column::SampleId.eq(sample_id))
        .order_by_asc(lab_result::Column::ItemIndex)
        .all(db)
        .await?)
}

#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub sample_id: i64,
    pub testing_org_id: i64,
    pub version: i32,
    pub content_json: String,
    pub prepared_by: i64,
    pub supersedes_id: Option<i64>,
    pub correction_reason: String,
    pub prepared_sig_b64: String,
}

pub async fn insert_report(tx: &Tx, r: NewReport) -> Result<ReportRow, StoreError> {
    let row = lab_report::ActiveModel {
        sample_id: Set(r.sample_id),
        testing_org_id: Set(r.testing_org_id),
        version: Set(r.version),
        state: Set(ReportState::Prepared),
        report_no: Set(None),
        content_json: Set(r.content_json),
        prepared_by: Set(r.prepared_by),
        prepared_at: Set(tx.now()),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        approved_by: Set(None),
        approved_at: Set(None),
        pdf_path: Set(String::new()),
        pdf_sha256: Set(String::new()),
        supersedes_id: Set(r.supersedes_id),
        correction_reason: Set(r.correction_reason),
        prepared_sig_b64: Set(r.prepared_sig_b64),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    tx.touch(RowTable::LabReport, row.id);
    Ok(row)
}

pub async fn get_report(db: &impl ConnectionTrait, id: i64) -> Result<ReportRow, StoreError> {
    lab_report::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A sample's reports, newest version first.
pub async fn reports_of(db: &impl ConnectionTrait, sample_id: i64) -> Result<Vec<ReportRow>, StoreError> {
    Ok(lab_report::Entity::find()
        .filter(lab_report::Column::SampleId.eq(sample_id))
        .order_by_desc(lab_report::Column::Version)
        .all(db)
        .await?)
}

pub async fn set_reviewed(
    tx: &Tx,
    id: i64,
    t: Transition<ReportState>,
    by: i64,
    sig_b64: &str,
) -> Result<(), StoreError> {
    use lab_report::Column as C;
    let r = lab_report::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .col_expr(C::ReviewedSigB64, sig_b64.into())
        .col_expr(C::ReviewedBy, Some(by).into())
        .col_expr(C::ReviewedAt, Some(tx.now()).into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    tx.touch(RowTable::LabReport, id);
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// What an approval writes on a report (rule 15): the approver and their signature, the number,
/// the frozen content and the stored PDF.
#[derive(Debug, Clone)]
pub struct Approval<'a> {
    pub by: i64,
    pub report_no: &'a str,
    pub content_json: String,
    pub pdf_path: &'a str,
    pub pdf_sha256: &'a str,
    pub sig_b64: &'a str,
}

pub async fn set_approved(tx: &Tx, id: i64, t: Transition<ReportState>, a: Approval<'_>) -> Result<(), StoreError> {
    use lab_report::Column as C;
    let r = lab_report::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .col_expr(C::ApprovedSigB64, a.sig_b64.into())
        .col_expr(C::ApprovedBy, Some(a.by).into())
        .col_expr(C::ApprovedAt, Some(tx.now()).into())
        .col_expr(C::ReportNo, Some(a.report_no.to_string()).into())
        .col_expr(C::ContentJson, a.content_json.into())
        .col_expr(C::PdfPath, a.pdf_path.into())
        .col_expr(C::PdfSha256, a.pdf_sha256.into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    tx.touch(RowTable::LabReport, id);
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// A report sent back by its reviewer (from `prepared`) or approver (from `reviewed`), with the reason.
pub async fn set_returned(
    tx: &Tx,
    id: i64,
    t: Transition<ReportState>,
    by: i64,
    reason: &str,
) -> Result<(), StoreError> {
    use lab_report::Column as C;
    let r = lab_report::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .col_expr(C::ReturnedBy, Some(by).into())
        .col_expr(C::ReturnedAt, Some(tx.now()).into())
        .col_expr(C::ReturnedReason, reason.into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    tx.touch(RowTable::LabReport, id);
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// An issued report replaced by its correction (kept, marked superseded).
pub async fn set_superseded(tx: &Tx, id: i64, t: Transition<ReportState>) -> Result<(), StoreError> {
    use lab_report::Column as C;
    let r = lab_report::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    tx.touch(RowTable::LabReport, id);
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Reports of an institution in a state, newest first (review and approval worklists).
pub async fn list_reports(
    db: &impl ConnectionTrait,
    org_id: i64,
    state: ReportState,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<ReportRow>, StoreError> {
    use lab_report::Column as C;
    let mut q = lab_report::Entity::find().filter(C::TestingOrgId.eq(org_id)).filter(C::State.eq(state));
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let rows = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(rows, limit, |r| r.id.to_string()))
}

/// Report counts by state for an institution.
pub async fn count_reports(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<(ReportState, i64)>, StoreError> {
    use lab_report::Column as C;
    Ok(lab_report::Entity::find()
        .select_only()
        .column(C::State)
        .column_as(Expr::col(C::Id).count(), "n")
        .filter(C::TestingOrgId.eq(org_id))
        .group_by(C::State)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn insert_screening(
    tx: &Tx,
    sample_id: i64,
    org_id: i64,
    result: &str,
    note: &str,
    by: i64,
) -> Result<ScreeningRow, StoreError> {
    Ok(lab_screening::ActiveModel {
        sample_id: Set(sample_id),
        org_id: Set(org_id),
        result: Set(result.to_string()),
        note: Set(note.to_string()),
        screened_by: Set(by),
        screened_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn screenings_of(db: &impl ConnectionTrait, sample_id: i64) -> Result<Vec<ScreeningRow>, StoreError> {
    Ok(lab_screening::Entity::find()
        .filter(lab_screening::Column::SampleId.eq(sample_id))
        .order_by_asc(lab_screening::Column::Id)
        .all(db)
        .await?)
}
