//! Objections and re-test requests (异议、复检申请, rule 18): filed by the sampled enterprise within
//! 15 days of receiving the result, decided by the organising bureau with its reasons.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0012_objections"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("objections")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("report_id"))
                .col(big_integer("sample_id"))
                .col(big_integer("enterprise_id"))
                .col(big_integer("organising_org_id"))
                // objection (异议) | retest (复检申请)
                .col(string_len("kind", 16))
                // the test items objected to, one per line
                .col(text("items"))
                .col(text("reason"))
                .col(date("received_on"))
                .col(date("filed_on"))
                .col(big_integer("filed_by"))
                // pending | accepted | rejected
                .col(string_len("state", 16))
                .col(text("decision_reason").default(""))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_objections_report", "objections", "report_id", "lab_reports"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_objections_report", "objections", &["report_id"])).await?;
        m.create_index(idx("ix_objections_enterprise", "objections", &["enterprise_id", "id"])).await?;
        m.create_index(idx("ix_objections_organising_state", "objections", &["organising_org_id", "state", "id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("objections").if_exists().to_owned()).await?;
        Ok(())
    }
}
