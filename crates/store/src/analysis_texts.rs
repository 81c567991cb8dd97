//! The testing institutions' written parts of a plan's quality analysis (问题分析、原因、建议),
//! one row per (plan, institution): saved as a draft, then submitted to the organising bureau, which
//! may send it back.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::analysis_text;
use crate::{StoreError, Tx};

pub type AnalysisTextRow = analysis_text::Model;

pub async fn get(db: &impl ConnectionTrait, plan_id: i64, org_id: i64) -> Result<Option<AnalysisTextRow>, StoreError> {
    Ok(analysis_text::Entity::find_by_id((plan_id, org_id)).one(db).await?)
}

/// The plan's texts, by institution.
pub async fn of_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<AnalysisTextRow>, StoreError> {
    Ok(analysis_text::Entity::find()
        .filter(analysis_text::Column::PlanId.eq(plan_id))
        .order_by_asc(analysis_text::Column::OrgId)
        .all(db)
        .await?)
}

/// The text written.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisWriting<'a> {
    pub problems: &'a str,
    pub causes: &'a str,
    pub suggestions: &'a str,
    /// Submitted to the organising bureau (else a draft).
    pub submit: bool,
}

/// Saves the institution's text (a draft, or submitted), replacing an earlier one.
pub async fn put(tx: &Tx, plan_id: i64, org_id: i64, w: AnalysisWriting<'_>, by: i64) -> Result<(), StoreError> {
    let now = tx.now();
    analysis_text::Entity::delete_by_id((plan_id, org_id)).exec(&**tx).await?;
    analysis_text::ActiveModel {
        plan_id: Set(plan_id),
        org_id: Set(org_id),
        problems: Set(w.problems.to_string()),
        causes: Set(w.causes.to_string()),
        suggestions: Set(w.suggestions.to_string()),
        submitted: Set(w.submit),
        updated_by: Set(by),
        updated_at: Set(now),
        submitted_by: Set(w.submit.then_some(by)),
        submitted_at: Set(w.submit.then_some(now)),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Sends a submitted text back to its institution (a draft again); whether one was submitted.
pub async fn send_back(tx: &Tx, plan_id: i64, org_id: i64) -> Result<bool, StoreError> {
    use analysis_text::Column as C;
    let r = analysis_text::Entity::update_many()
        .col_expr(C::Submitted, false.into())
        .col_expr(C::SubmittedBy, Option::<i64>::None.into())
        .col_expr(C::SubmittedAt, Option::<chrono::DateTime<chrono::Utc>>::None.into())
        .filter(C::PlanId.eq(plan_id))
        .filter(C::OrgId.eq(org_id))
        .filter(C::Submitted.eq(true))
        .exec(&**tx)
        .await?;
    Ok(r.rows_affected == 1)
}
