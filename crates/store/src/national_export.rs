//! Export marks of the national data exchange (`national_export_marks`): one row per sample each
//! time a day's file is marked as entered into e-CQS.

use choucha_domain::national_export::ExportKind;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::national_export_mark;
use crate::{StoreError, Tx};

pub type MarkRow = national_export_mark::Model;

/// One sample of a marked file: its task and the record version or report exported.
#[derive(Debug, Clone, Copy)]
pub struct MarkedObject {
    pub task_id: i64,
    pub object_id: i64,
}

/// Records that `objects` of a plan's `kind` file for `day` were exported, all with one time.
pub async fn insert_marks(
    tx: &Tx,
    plan_id: i64,
    kind: ExportKind,
    day: NaiveDate,
    objects: &[MarkedObject],
    content_sha256: &str,
    exported_by: i64,
) -> Result<(), StoreError> {
    if objects.is_empty() {
        return Ok(());
    }
    let at = tx.now();
    let rows = objects.iter().map(|o| national_export_mark::ActiveModel {
        plan_id: Set(plan_id),
        kind: Set(kind),
        day: Set(day),
        task_id: Set(o.task_id),
        object_id: Set(o.object_id),
        content_sha256: Set(content_sha256.to_string()),
        exported_by: Set(exported_by),
        exported_at: Set(at),
        ..Default::default()
    });
    national_export_mark::Entity::insert_many(rows).exec(&**tx).await?;
    Ok(())
}

/// Every mark of a plan's `kind`, newest first.
pub async fn marks_of_plan(
    db: &impl ConnectionTrait,
    plan_id: i64,
    kind: ExportKind,
) -> Result<Vec<MarkRow>, StoreError> {
    Ok(national_export_mark::Entity::find()
        .filter(national_export_mark::Column::PlanId.eq(plan_id))
        .filter(national_export_mark::Column::Kind.eq(kind))
        .order_by_desc(national_export_mark::Column::Id)
        .all(db)
        .await?)
}

/// The plan's sampled tasks (record signed and locked), by id.
pub async fn sampled_tasks_of_plan(
    db: &impl ConnectionTrait,
    plan_id: i64,
) -> Result<Vec<crate::draws::TaskRow>, StoreError> {
    use crate::entity::sampling_task;
    Ok(sampling_task::Entity::find()
        .filter(sampling_task::Column::PlanId.eq(plan_id))
        .filter(sampling_task::Column::State.eq(choucha_domain::sampling::TaskState::Sampled))
        .order_by_asc(sampling_task::Column::Id)
        .all(db)
        .await?)
}

/// The plan's lab samples, by id.
pub async fn samples_of_plan(
    db: &impl ConnectionTrait,
    plan_id: i64,
) -> Result<Vec<crate::lab::SampleRow>, StoreError> {
    use crate::entity::lab_sample;
    Ok(lab_sample::Entity::find()
        .filter(lab_sample::Column::PlanId.eq(plan_id))
        .order_by_asc(lab_sample::Column::Id)
        .all(db)
        .await?)
}

/// The issued reports in force (approved, not superseded) of these samples.
pub async fn issued_reports_of_samples(
    db: &impl ConnectionTrait,
    sample_ids: &[i64],
) -> Result<Vec<crate::lab::ReportRow>, StoreError> {
    use crate::entity::lab_report;
    let mut out = Vec::new();
    for chunk in crate::id_chunks(sample_ids) {
        out.extend(
            lab_report::Entity::find()
                .filter(lab_report::Column::SampleId.is_in(chunk))
                .filter(lab_report::Column::State.eq(choucha_domain::lab::ReportState::Approved))
                .order_by_asc(lab_report::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}
