//! The laboratory: receipt, blind codes, licence checks, test results and reports (issue 5).
//!
//! `lab_samples` is one row per sampled task that reached the testing institution, accepted (with
//! its blind code) or rejected; the dashboards read it through the (institution, state, id) and
//! (tester, state, id) indexes, so no page loads more than a page of rows. Results are one row per
//! test item; reports are versioned (a correction is a new version that supersedes the old one).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_lab"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("lab_samples")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                .col(big_integer("plan_id"))
                .col(big_integer("item_id"))
                .col(big_integer("testing_org_id"))
                .col(big_integer_null("screening_org_id"))
                .col(big_integer("rules_version_id"))
                // null for a rejected sample
                .col(string_len_null("blind_code", 20))
                // rejected | screening | cleared | accepted | testing | tested | reported | stopped
                .col(string_len("state", 16))
                .col(timestamp_with_time_zone("received_at"))
                .col(big_integer("received_by"))
                .col(string_len("delivered_by", 100).default(""))
                .col(string_len("carrier", 100).default(""))
                .col(string_len("tracking_no", 100).default(""))
                // what was seen at receipt and how it differs from the record
                .col(text("receipt_json"))
                .col(text("reject_reason").default(""))
                .col(string_len("backup_location", 200).default(""))
                // none | production_licence | ccc
                .col(string_len("licence_required", 24).default("none"))
                // not_required | pending | confirmed | failed
                .col(string_len("licence_state", 16).default("not_required"))
                .col(text("licence_note").default(""))
                .col(big_integer_null("tester_id"))
                .col(date_null("testing_ended_on"))
                .col(date_null("results_due"))
                .col(timestamp_with_time_zone_null("results_completed_at"))
                .col(boolean("results_late").default(false))
                .col(boolean_null("qualified"))
                .col(text("conclusion").default(""))
                // reason of a correction started on the issued report (rule 15), until the new one is prepared
                .col(text("pending_correction").default(""))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_lab_samples_task", "lab_samples", "task_id", "sampling_tasks"))
                .foreign_key(&mut fk("fk_lab_samples_org", "lab_samples", "testing_org_id", "organisations"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_lab_samples_task", "lab_samples", &["task_id"])).await?;
        m.create_index(unique("ux_lab_samples_blind_code", "lab_samples", &["blind_code"])).await?;
        m.create_index(idx("ix_lab_samples_org_state", "lab_samples", &["testing_org_id", "state", "id"])).await?;
        m.create_index(idx("ix_lab_samples_tester_state", "lab_samples", &["tester_id", "state", "id"])).await?;
        m.create_index(idx("ix_lab_samples_screening", "lab_samples", &["screening_org_id", "state", "id"])).await?;
        m.create_index(idx("ix_lab_samples_plan", "lab_samples", &["plan_id", "state", "id"])).await?;
        m.create_index(idx("ix_lab_samples_due", "lab_samples", &["testing_org_id", "state", "results_due"])).await?;

        m.create_table(
            Table::create()
                .table("lab_results")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("sample_id"))
                .col(integer("item_index"))
                .col(string_len("item_name", 200))
                .col(string_len("unit", 50).default(""))
                .col(string_len("requirement", 200).default(""))
                .col(text("limit_json"))
                .col(text("measured_json"))
                .col(string_len("display", 200))
                .col(string_len("method", 200).default(""))
                .col(string_len("instrument", 200).default(""))
                // conforming | non_conforming
                .col(string_len("judgement", 16))
                .col(date("tested_on"))
                .col(big_integer("entered_by"))
                .col(timestamp_with_time_zone("entered_at"))
                .foreign_key(&mut fk("fk_lab_results_sample", "lab_results", "sample_id", "lab_samples"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_lab_results_item", "lab_results", &["sample_id", "item_index"])).await?;

        m.create_table(
            Table::create()
                .table("lab_reports")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("sample_id"))
                .col(big_integer("testing_org_id"))
                .col(integer("version"))
                // prepared | reviewed | approved | superseded
                .col(string_len("state", 16))
                .col(string_len_null("report_no", 40))
                // the frozen content (items, results, conclusion)
                .col(text("content_json"))
                .col(big_integer("prepared_by"))
                .col(timestamp_with_time_zone("prepared_at"))
                .col(big_integer_null("reviewed_by"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(big_integer_null("approved_by"))
                .col(timestamp_with_time_zone_null("approved_at"))
                .col(string_len("pdf_path", 300).default(""))
                .col(string_len("pdf_sha256", 64).default(""))
                .col(big_integer_null("supersedes_id"))
                .col(text("correction_reason").default(""))
                .foreign_key(&mut fk("fk_lab_reports_sample", "lab_reports", "sample_id", "lab_samples"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_lab_reports_version", "lab_reports", &["sample_id", "version"])).await?;
        m.create_index(unique("ux_lab_reports_no", "lab_reports", &["report_no"])).await?;
        m.create_index(idx("ix_lab_reports_org_state", "lab_reports", &["testing_org_id", "state", "id"])).await?;

        m.create_table(
            Table::create()
                .table("lab_screenings")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("sample_id"))
                .col(big_integer("org_id"))
                // flagged | cleared
                .col(string_len("result", 16))
                .col(text("note").default(""))
                .col(big_integer("screened_by"))
                .col(timestamp_with_time_zone("screened_at"))
                .foreign_key(&mut fk("fk_lab_screenings_sample", "lab_screenings", "sample_id", "lab_samples"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_lab_screenings_sample", "lab_screenings", &["sample_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["lab_screenings", "lab_reports", "lab_results", "lab_samples"] {
            m.drop_table(Table::drop().table(t).if_exists().take()).await?;
        }
        Ok(())
    }
}
