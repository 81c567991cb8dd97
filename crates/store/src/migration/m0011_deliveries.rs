//! Delivery of results (送达, rule 17): one row per recipient of an issued report — the enterprise,
//! the nominal producer, the local bureau or the organising bureau — with what it must receive, by
//! when (rule 16), and how it was delivered (in person with the receiver's signature, or by EMS).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0011_deliveries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("deliveries")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("report_id"))
                .col(big_integer("sample_id"))
                .col(big_integer("plan_id"))
                .col(big_integer("testing_org_id"))
                .col(big_integer("organising_org_id"))
                // enterprise | producer | local_bureau | organising_bureau
                .col(string_len("recipient", 24))
                .col(string_len("recipient_name", 200))
                .col(text("recipient_address").default(""))
                // comma-separated: result_notice, report, improvement_letter, sampling_record
                .col(string_len("documents", 200))
                .col(integer("copies"))
                .col(date_null("due_on"))
                // pending | sent | received
                .col(string_len("state", 16))
                // in_person | ems
                .col(string_len("method", 16).default(""))
                .col(string_len("tracking_no", 100).default(""))
                .col(date_null("sent_on"))
                .col(date_null("received_on"))
                .col(string_len("receiver_name", 100).default(""))
                .col(text("receiver_sig_b64").default(""))
                .col(text("note").default(""))
                .col(big_integer_null("recorded_by"))
                .col(timestamp_with_time_zone_null("recorded_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_deliveries_report", "deliveries", "report_id", "lab_reports"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_deliveries_report", "deliveries", &["report_id"])).await?;
        m.create_index(idx("ix_deliveries_testing_state", "deliveries", &["testing_org_id", "state", "id"])).await?;
        m.create_index(idx("ix_deliveries_organising_state", "deliveries", &["organising_org_id", "state", "id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("deliveries").if_exists().to_owned()).await?;
        Ok(())
    }
}
