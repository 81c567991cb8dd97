//! Re-tests (复检, rule 18), sample confirmations by the nominal producer (后置样品确认, rule 23),
//! the tester's text of the improvement letter (产品质量改进建议书), and each plan's confirmation
//! period (configurable per plan).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0015_retests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("retests")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("objection_id"))
                .col(big_integer("report_id"))
                .col(big_integer("sample_id"))
                .col(big_integer("task_id"))
                .col(big_integer("plan_id"))
                .col(big_integer("organising_org_id"))
                .col(big_integer("first_org_id"))
                .col(big_integer("retest_org_id"))
                .col(text("same_institution_reason").default(""))
                // the objected items, one per line
                .col(text("items"))
                .col(big_integer("fee_advance_fen"))
                // assigned | testing | seal_broken | tested | prepared | reviewed | concluded
                .col(string_len("state", 16))
                .col(string_len("blind_code", 32))
                .col(big_integer("assigned_by"))
                .col(timestamp_with_time_zone("assigned_at"))
                .col(big_integer_null("received_by"))
                .col(timestamp_with_time_zone_null("received_at"))
                .col(text("seal_note").default(""))
                // JSON list of the seal photos' SHA-256 (stored as evidence uploads)
                .col(text("seal_photos").default("[]"))
                .col(text("results_json").default("[]"))
                .col(big_integer_null("tester_id"))
                .col(big_integer_null("prepared_by"))
                .col(timestamp_with_time_zone_null("prepared_at"))
                .col(text("prepared_sig_b64").default(""))
                .col(big_integer_null("reviewed_by"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(text("reviewed_sig_b64").default(""))
                .col(big_integer_null("approved_by"))
                .col(timestamp_with_time_zone_null("approved_at"))
                .col(text("approved_sig_b64").default(""))
                .col(string_len_null("report_no", 64))
                .col(text("pdf_path").default(""))
                .col(string_len("pdf_sha256", 64).default(""))
                .col(boolean("first_qualified"))
                .col(text("first_conclusion"))
                .col(boolean_null("qualified"))
                .col(text("conclusion").default(""))
                .col(boolean_null("agrees"))
                // applicant | bureau, once concluded
                .col(string_len("fee_payer", 16).default(""))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_retests_objection", "retests", "objection_id", "objections"))
                .foreign_key(&mut fk("fk_retests_report", "retests", "report_id", "lab_reports"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_retests_objection", "retests", &["objection_id"])).await?;
        m.create_index(unique("ux_retests_blind_code", "retests", &["blind_code"])).await?;
        m.create_index(unique("ux_retests_report_no", "retests", &["report_no"])).await?;
        m.create_index(idx("ix_retests_org_state", "retests", &["retest_org_id", "state", "id"])).await?;
        m.create_index(idx("ix_retests_organising", "retests", &["organising_org_id", "id"])).await?;
        m.create_index(idx("ix_retests_sample", "retests", &["sample_id"])).await?;

        m.create_table(
            Table::create()
                .table("sample_confirmations")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("report_id"))
                .col(big_integer("sample_id"))
                .col(big_integer("plan_id"))
                .col(big_integer("organising_org_id"))
                .col(big_integer("testing_org_id"))
                .col(text("producer_name"))
                .col(string_len("producer_uscc", 18).default(""))
                .col(text("producer_address").default(""))
                .col(date("sent_on"))
                .col(date("due_on"))
                // awaiting | confirmed | denied | lapsed | investigated
                .col(string_len("state", 16))
                .col(text("answer_note").default(""))
                .col(big_integer_null("answered_by"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(text("finding").default(""))
                .col(big_integer_null("investigated_by"))
                .col(timestamp_with_time_zone_null("investigated_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_confirmations_report", "sample_confirmations", "report_id", "lab_reports"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_confirmations_report", "sample_confirmations", &["report_id"])).await?;
        m.create_index(idx("ix_confirmations_testing", "sample_confirmations", &["testing_org_id", "state", "id"]))
            .await?;
        m.create_index(idx(
            "ix_confirmations_organising",
            "sample_confirmations",
            &["organising_org_id", "state", "id"],
        ))
        .await?;
        m.create_index(idx("ix_confirmations_uscc", "sample_confirmations", &["producer_uscc", "id"])).await?;
        m.create_index(idx("ix_confirmations_plan_due", "sample_confirmations", &["plan_id", "state", "due_on"]))
            .await?;
        // The plan overview's overdue deliveries.
        m.create_index(idx("ix_deliveries_plan_due", "deliveries", &["plan_id", "state", "due_on"])).await?;

        m.create_table(
            Table::create()
                .table("improvement_letters")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("sample_id"))
                .col(text("description"))
                .col(text("cause_analysis"))
                .col(text("suggestions"))
                .col(big_integer("written_by"))
                .col(timestamp_with_time_zone("written_at"))
                .foreign_key(&mut fk("fk_letters_sample", "improvement_letters", "sample_id", "lab_samples"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_letters_sample", "improvement_letters", &["sample_id"])).await?;

        // The bureau's written answer closing an accepted objection (with or without a re-test).
        m.alter_table(
            Table::alter()
                .table("objections")
                .add_column(ColumnDef::new("answer").text().not_null().default(""))
                .take(),
        )
        .await?;
        // Rule 23's period, per plan: 5 working days unless the plan says otherwise.
        m.alter_table(
            Table::alter()
                .table("plans")
                .add_column(ColumnDef::new("confirmation_days").integer().not_null().default(5))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("plans")
                .add_column(ColumnDef::new("confirmation_working_days").boolean().not_null().default(true))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["improvement_letters", "sample_confirmations", "retests"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
