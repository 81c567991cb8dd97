//! Issue 16: each testing institution of a plan writes its part of the quality analysis (问题分析、
//! 原因、建议) and submits it to the organising bureau; a plan names the organising department's contact person and telephone, printed on the
//! 监督抽查通知书 and the feedback form; an announcement carries its 文号 (document number, e.g. 大市监公告〔2025〕12号), and
//! the reason its publisher gave for publishing while an objection window of one of its results
//! was still open.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::fk;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0023_announcement_number"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("announcements")
                .add_column(ColumnDef::new("doc_number").string_len(100).not_null().default(""))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("announcements")
                .add_column(ColumnDef::new("publish_note").text().not_null().default(""))
                .take(),
        )
        .await?;
        for c in ["contact_name", "contact_phone"] {
            m.alter_table(
                Table::alter()
                    .table("plans")
                    .add_column(ColumnDef::new(c).string_len(50).not_null().default(""))
                    .take(),
            )
            .await?;
        }
        // The enterprise's attachments to an objection or re-test request (its written
        // application, its own test report): stored files described as JSON.
        m.alter_table(
            Table::alter()
                .table("objections")
                .add_column(ColumnDef::new("attachments_json").text().not_null().default("[]"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("analysis_texts")
                .if_not_exists()
                .col(big_integer("plan_id"))
                .col(big_integer("org_id"))
                .col(text("problems"))
                .col(text("causes"))
                .col(text("suggestions"))
                .col(boolean("submitted"))
                .col(big_integer("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer_null("submitted_by"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .primary_key(Index::create().col("plan_id").col("org_id"))
                .foreign_key(&mut fk("fk_analysis_texts_plan", "analysis_texts", "plan_id", "plans"))
                .foreign_key(&mut fk("fk_analysis_texts_org", "analysis_texts", "org_id", "organisations"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("analysis_texts").take()).await?;
        m.alter_table(Table::alter().table("objections").drop_column("attachments_json").take()).await?;
        for c in ["publish_note", "doc_number"] {
            m.alter_table(Table::alter().table("announcements").drop_column(c).take()).await?;
        }
        for c in ["contact_name", "contact_phone"] {
            m.alter_table(Table::alter().table("plans").drop_column(c).take()).await?;
        }
        Ok(())
    }
}
