//! Re-tests (rule 18), sample confirmations (rule 23), improvement letters' text, and the plan's
//! confirmation period. State changes are conditional updates (`… WHERE state = ?`): a second writer
//! gets `Conflict`.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use choucha_domain::lab::SampleState;
use choucha_domain::results::ObjectionState;
use choucha_domain::retest::{ConfirmationState, RetestState};
use choucha_domain::workflow::Transition;

use crate::entity::{improvement_letter, lab_sample, objection, plan_confirmation, retest, sample_confirmation};
use crate::{Page, StoreError, Tx};

pub type RetestRow = retest::Model;
pub type ConfirmationRow = sample_confirmation::Model;
pub type LetterRow = improvement_letter::Model;

/// A re-test as the bureau arranges it.
#[derive(Debug, Clone, Default)]
pub struct NewRetest {
    pub objection_id: i64,
    pub report_id: i64,
    pub sample_id: i64,
    pub task_id: i64,
    pub plan_id: i64,
    pub organising_org_id: i64,
    pub first_org_id: i64,
    pub retest_org_id: i64,
    pub same_institution_reason: String,
    pub items: String,
    pub fee_advance_fen: i64,
    pub state: RetestState,
    pub blind_code: String,
    pub assigned_by: i64,
    pub first_qualified: bool,
    pub first_conclusion: String,
}

pub async fn insert_retest(tx: &Tx, r: NewRetest) -> Result<RetestRow, StoreError> {
    let now = tx.now();
    Ok(retest::ActiveModel {
        objection_id: Set(r.objection_id),
        report_id: Set(r.report_id),
        sample_id: Set(r.sample_id),
        task_id: Set(r.task_id),
        plan_id: Set(r.plan_id),
        organising_org_id: Set(r.organising_org_id),
        first_org_id: Set(r.first_org_id),
        retest_org_id: Set(r.retest_org_id),
        same_institution_reason: Set(r.same_institution_reason),
        items: Set(r.items),
        fee_advance_fen: Set(r.fee_advance_fen),
        state: Set(r.state),
        blind_code: Set(r.blind_code),
        assigned_by: Set(r.assigned_by),
        assigned_at: Set(now),
        seal_note: Set(String::new()),
        seal_photos: Set("[]".into()),
        results_json: Set("[]".into()),
        prepared_sig_b64: Set(String::new()),
        reviewed_sig_b64: Set(String::new()),
        approved_sig_b64: Set(String::new()),
        pdf_path: Set(String::new()),
        pdf_sha256: Set(String::new()),
        first_qualified: Set(r.first_qualified),
        first_conclusion: Set(r.first_conclusion),
        conclusion: Set(String::new()),
        fee_payer: Set(String::new()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// What a step of a re-test records, besides its new state.
#[derive(Debug, Clone)]
pub enum RetestChange {
    Received { by: i64, seal_note: String, seal_photos: String },
    Results { tester: i64, results_json: String },
    Prepared { by: i64, sig_b64: String },
    Reviewed { by: i64, sig_b64: String },
    Approved(RetestApproval),
}

#[derive(Debug, Clone, Default)]
pub struct RetestApproval {
    pub by: i64,
    pub sig_b64: String,
    pub report_no: String,
    pub pdf_path: String,
    pub pdf_sha256: String,
    pub qualified: bool,
    pub conclusion: String,
    pub agrees: bool,
    pub fee_payer: String,
}

pub async fn get_retest(db: &impl ConnectionTrait, id: i64) -> Result<RetestRow, StoreError> {
    retest::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn retest_by_code(db: &impl ConnectionTrait, code: &str) -> Result<RetestRow, StoreError> {
    retest::Entity::find().filter(retest::Column::BlindCode.eq(code)).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn retest_of_objection(
    db: &impl ConnectionTrait,
    objection_id: i64,
) -> Result<Option<RetestRow>, StoreError> {
    Ok(retest::Entity::find().filter(retest::Column::ObjectionId.eq(objection_id)).one(db).await?)
}

/// The re-tests of a (first) lab sample, oldest first.
pub async fn retests_of_sample(db: &impl ConnectionTrait, sample_id: i64) -> Result<Vec<RetestRow>, StoreError> {
    Ok(retest::Entity::find()
        .filter(retest::Column::SampleId.eq(sample_id))
        .order_by_asc(retest::Column::Id)
        .all(db)
        .await?)
}

/// Moves a re-test still in `from_state` to `to_state`, recording `change`.
pub async fn update_retest(
    tx: &Tx,
    id: i64,
    t: Transition<RetestState>,
    change: RetestChange,
) -> Result<(), StoreError> {
    let now = tx.now();
    let mut am = retest::ActiveModel { state: Set(t.to()), ..Default::default() };
    match change {
        RetestChange::Received { by, seal_note, seal_photos } => {
            am.received_by = Set(Some(by));
            am.received_at = Set(Some(now));
            am.seal_note = Set(seal_note);
            am.seal_photos = Set(seal_photos);
        }
        RetestChange::Results { tester, results_json } => {
            am.tester_id = Set(Some(tester));
            am.results_json = Set(results_json);
        }
        RetestChange::Prepared { by, sig_b64 } => {
            am.prepared_by = Set(Some(by));
            am.prepared_at = Set(Some(now));
            am.prepared_sig_b64 = Set(sig_b64);
        }
        RetestChange::Reviewed { by, sig_b64 } => {
            am.reviewed_by = Set(Some(by));
            am.reviewed_at = Set(Some(now));
            am.reviewed_sig_b64 = Set(sig_b64);
        }
        RetestChange::Approved(a) => {
            am.approved_by = Set(Some(a.by));
            am.approved_at = Set(Some(now));
            am.approved_sig_b64 = Set(a.sig_b64);
            am.report_no = Set(Some(a.report_no));
            am.pdf_path = Set(a.pdf_path);
            am.pdf_sha256 = Set(a.pdf_sha256);
            am.qualified = Set(Some(a.qualified));
            am.conclusion = Set(a.conclusion);
            am.agrees = Set(Some(a.agrees));
            am.fee_payer = Set(a.fee_payer);
        }
    }
    let res = retest::Entity::update_many()
        .set(am)
        .filter(retest::Column::Id.eq(id))
        .filter(retest::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Whose re-tests a list shows.
#[derive(Debug, Clone, Copy)]
pub enum RetestScope {
    /// The institution that re-tests.
    Institution(i64),
    /// The bureau that organised the plan.
    Organising(i64),
    All,
}

/// Re-tests newest first, keyset by id; `states` empty means all.
pub async fn list_retests(
    db: &impl ConnectionTrait,
    scope: RetestScope,
    states: &[RetestState],
    before: Option<i64>,
    limit: u64,
) -> Result<Page<RetestRow>, StoreError> {
    use retest::Column as C;
    let mut q = retest::Entity::find();
    q = match scope {
        // The re-test institution's, and the first institution's that sends the backup portion.
        RetestScope::Institution(o) => {
            q.filter(sea_orm::Condition::any().add(C::RetestOrgId.eq(o)).add(C::FirstOrgId.eq(o)))
        }
        RetestScope::Organising(o) => q.filter(C::OrganisingOrgId.eq(o)),
        RetestScope::All => q,
    };
    if !states.is_empty() {
        q = q.filter(C::State.is_in(states.iter().copied()));
    }
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let items = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

/// Moves an objection from one state to another (conditional).
pub async fn set_objection_state(tx: &Tx, id: i64, t: Transition<ObjectionState>) -> Result<(), StoreError> {
    let res = objection::Entity::update_many()
        .col_expr(objection::Column::State, t.to().into())
        .filter(objection::Column::Id.eq(id))
        .filter(objection::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Closes an accepted objection with the bureau's written answer.
pub async fn close_objection(tx: &Tx, id: i64, t: Transition<ObjectionState>, answer: &str) -> Result<(), StoreError> {
    let res = objection::Entity::update_many()
        .col_expr(objection::Column::State, t.to().into())
        .col_expr(objection::Column::Answer, answer.into())
        .filter(objection::Column::Id.eq(id))
        .filter(objection::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// The final result of a sample after its re-test replaces the first (rule 18): only on a sample
/// whose report is issued (zero rows is a conflict).
pub async fn set_final_result(tx: &Tx, sample_id: i64, qualified: bool, conclusion: &str) -> Result<(), StoreError> {
    let r = lab_sample::Entity::update_many()
        .col_expr(lab_sample::Column::Qualified, Some(qualified).into())
        .col_expr(lab_sample::Column::Conclusion, conclusion.into())
        .col_expr(lab_sample::Column::UpdatedAt, tx.now().into())
        .filter(lab_sample::Column::Id.eq(sample_id))
        .filter(lab_sample::Column::State.eq(SampleState::Reported))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// A sample confirmation as sent to the nominal producer.
#[derive(Debug, Clone, Default)]
pub struct NewConfirmation {
    pub report_id: i64,
    pub sample_id: i64,
    pub plan_id: i64,
    pub organising_org_id: i64,
    pub testing_org_id: i64,
    pub producer_name: String,
    pub producer_uscc: String,
    pub producer_address: String,
    pub sent_on: NaiveDate,
    pub due_on: NaiveDate,
    pub state: ConfirmationState,
}

pub async fn insert_confirmation(tx: &Tx, c: NewConfirmation) -> Result<ConfirmationRow, StoreError> {
    Ok(sample_confirmation::ActiveModel {
        report_id: Set(c.report_id),
        sample_id: Set(c.sample_id),
        plan_id: Set(c.plan_id),
        organising_org_id: Set(c.organising_org_id),
        testing_org_id: Set(c.testing_org_id),
        producer_name: Set(c.producer_name),
        producer_uscc: Set(c.producer_uscc),
        producer_address: Set(c.producer_address),
        sent_on: Set(c.sent_on),
        due_on: Set(c.due_on),
        state: Set(c.state),
        answer_note: Set(String::new()),
        finding: Set(String::new()),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// What a step of a sample confirmation records, besides its new state.
#[derive(Debug, Clone)]
pub enum ConfirmationChange {
    /// The producer's answer (or the lapse), by whom.
    Answered {
        note: String,
        by: i64,
    },
    Investigated {
        finding: String,
        by: i64,
    },
}

pub async fn get_confirmation(db: &impl ConnectionTrait, id: i64) -> Result<ConfirmationRow, StoreError> {
    sample_confirmation::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn confirmation_of_report(
    db: &impl ConnectionTrait,
    report_id: i64,
) -> Result<Option<ConfirmationRow>, StoreError> {
    Ok(sample_confirmation::Entity::find().filter(sample_confirmation::Column::ReportId.eq(report_id)).one(db).await?)
}

/// Moves a confirmation still in `from_state` to `to_state`, recording `change`.
pub async fn update_confirmation(
    tx: &Tx,
    id: i64,
    t: Transition<ConfirmationState>,
    change: ConfirmationChange,
) -> Result<(), StoreError> {
    let mut am = sample_confirmation::ActiveModel { state: Set(t.to()), ..Default::default() };
    match change {
        ConfirmationChange::Answered { note, by } => {
            am.answer_note = Set(note);
            am.answered_by = Set(Some(by));
            am.answered_at = Set(Some(tx.now()));
        }
        ConfirmationChange::Investigated { finding, by } => {
            am.finding = Set(finding);
            am.investigated_by = Set(Some(by));
            am.investigated_at = Set(Some(tx.now()));
        }
    }
    let res = sample_confirmation::Entity::update_many()
        .set(am)
        .filter(sample_confirmation::Column::Id.eq(id))
        .filter(sample_confirmation::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Whose confirmations a list shows.
#[derive(Debug, Clone, Copy)]
pub enum ConfirmationScope<'a> {
    Testing(i64),
    Organising(i64),
    /// The nominal producer, by its USCC.
    Producer(&'a str),
    All,
}

/// Confirmations newest first, keyset by id; `states` empty means all; `due_before` keeps those due
/// before a day (lapsed ones to record).
pub async fn list_confirmations(
    db: &impl ConnectionTrait,
    scope: ConfirmationScope<'_>,
    states: &[ConfirmationState],
    due_before: Option<NaiveDate>,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<ConfirmationRow>, StoreError> {
    use sample_confirmation::Column as C;
    let mut q = sample_confirmation::Entity::find();
    q = match scope {
        ConfirmationScope::Testing(o) => q.filter(C::TestingOrgId.eq(o)),
        ConfirmationScope::Organising(o) => q.filter(C::OrganisingOrgId.eq(o)),
        ConfirmationScope::Producer(u) => q.filter(C::ProducerUscc.eq(u)),
        ConfirmationScope::All => q,
    };
    if !states.is_empty() {
        q = q.filter(C::State.is_in(states.iter().copied()));
    }
    if let Some(d) = due_before {
        q = q.filter(C::DueOn.lt(d));
    }
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let items = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

pub async fn letter_of_sample(db: &impl ConnectionTrait, sample_id: i64) -> Result<Option<LetterRow>, StoreError> {
    Ok(improvement_letter::Entity::find().filter(improvement_letter::Column::SampleId.eq(sample_id)).one(db).await?)
}

/// Writes (or rewrites) the tester's text of a sample's improvement letter.
pub async fn put_letter(
    tx: &Tx,
    sample_id: i64,
    description: &str,
    cause_analysis: &str,
    suggestions: &str,
    by: i64,
) -> Result<LetterRow, StoreError> {
    match letter_of_sample(&**tx, sample_id).await? {
        Some(old) => {
            let mut am = old.into_active_model();
            am.description = Set(description.into());
            am.cause_analysis = Set(cause_analysis.into());
            am.suggestions = Set(suggestions.into());
            am.written_by = Set(by);
            am.written_at = Set(tx.now());
            Ok(am.update(&**tx).await?)
        }
        None => Ok(improvement_letter::ActiveModel {
            sample_id: Set(sample_id),
            description: Set(description.into()),
            cause_analysis: Set(cause_analysis.into()),
            suggestions: Set(suggestions.into()),
            written_by: Set(by),
            written_at: Set(tx.now()),
            ..Default::default()
        }
        .insert(&**tx)
        .await?),
    }
}

/// The plan's rule-23 period: (days, counted in working days).
pub async fn confirmation_period(db: &impl ConnectionTrait, plan_id: i64) -> Result<(u32, bool), StoreError> {
    let p = plan_confirmation::Entity::find_by_id(plan_id).one(db).await?.ok_or(StoreError::NotFound)?;
    Ok((p.confirmation_days.max(0) as u32, p.confirmation_working_days))
}

/// Sets the plan's rule-23 period.
pub async fn set_confirmation_period(tx: &Tx, plan_id: i64, days: u32, working: bool) -> Result<(), StoreError> {
    plan_confirmation::Entity::update_many()
        .col_expr(plan_confirmation::Column::ConfirmationDays, (days as i32).into())
        .col_expr(plan_confirmation::Column::ConfirmationWorkingDays, working.into())
        .filter(plan_confirmation::Column::Id.eq(plan_id))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// The fees of a plan's concluded re-tests (rule 18): (borne by the bureau, borne by applicants), in fen.
pub async fn retest_fees_of_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<(i64, i64), StoreError> {
    let rows: Vec<(String, i64)> = retest::Entity::find()
        .select_only()
        .column(retest::Column::FeePayer)
        .column(retest::Column::FeeAdvanceFen)
        .filter(retest::Column::PlanId.eq(plan_id))
        .filter(retest::Column::State.eq(RetestState::Concluded))
        .into_tuple()
        .all(db)
        .await?;
    let bureau = rows.iter().filter(|(p, _)| p == "bureau").map(|(_, f)| f).sum();
    let applicant = rows.iter().filter(|(p, _)| p == "applicant").map(|(_, f)| f).sum();
    Ok((bureau, applicant))
}

/// (sample id, results JSON) of the concluded re-tests of some samples.
pub async fn concluded_results_of_samples(
    db: &impl ConnectionTrait,
    sample_ids: &[i64],
) -> Result<Vec<(i64, String)>, StoreError> {
    if sample_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(retest::Entity::find()
        .select_only()
        .column(retest::Column::SampleId)
        .column(retest::Column::ResultsJson)
        .filter(retest::Column::SampleId.is_in(sample_ids.iter().copied()))
        .filter(retest::Column::State.eq(RetestState::Concluded))
        .into_tuple()
        .all(db)
        .await?)
}

/// (sample id, results JSON) of the plan's concluded re-tests whose sample is still unqualified.
pub async fn concluded_unqualified_of_plan(
    db: &impl ConnectionTrait,
    plan_id: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(retest::Entity::find()
        .select_only()
        .column(retest::Column::SampleId)
        .column(retest::Column::ResultsJson)
        .filter(retest::Column::PlanId.eq(plan_id))
        .filter(retest::Column::State.eq(RetestState::Concluded))
        .filter(retest::Column::Qualified.eq(false))
        .into_tuple()
        .all(db)
        .await?)
}

// ---- Dispatch of the backup portion ---------------------------------------------------------------

pub type DispatchRow = crate::entity::retest_dispatch::Model;

#[derive(Debug, Clone, Default)]
pub struct NewDispatch {
    pub retest_id: i64,
    pub dispatched_at: chrono::DateTime<chrono::Utc>,
    pub carrier: String,
    /// The seal numbers as packed.
    pub seals: Vec<String>,
    pub seal_intact: bool,
    pub note: String,
    pub actor_id: i64,
    pub actor_name: String,
}

/// Records the dispatch of a re-test's backup portion (once: a second one is `Duplicate`).
pub async fn insert_dispatch(tx: &Tx, d: NewDispatch) -> Result<DispatchRow, StoreError> {
    use crate::entity::retest_dispatch;
    // The retest id is the key: a second dispatch is a unique violation (`Duplicate`).
    Ok(retest_dispatch::ActiveModel {
        retest_id: Set(d.retest_id),
        dispatched_at: Set(d.dispatched_at),
        carrier: Set(d.carrier),
        seals: Set(d.seals.join("\n")),
        seal_intact: Set(d.seal_intact),
        note: Set(d.note),
        actor_id: Set(d.actor_id),
        actor_name: Set(d.actor_name),
        created_at: Set(tx.now()),
    }
    .insert(&**tx)
    .await?)
}

pub async fn dispatch_of(db: &impl ConnectionTrait, retest_id: i64) -> Result<Option<DispatchRow>, StoreError> {
    Ok(crate::entity::retest_dispatch::Entity::find_by_id(retest_id).one(db).await?)
}
