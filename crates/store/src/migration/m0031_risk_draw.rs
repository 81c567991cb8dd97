//! Issue 18: a risk-based draw records the weights the organising bureau gave each risk class
//! (JSON, empty for a uniform draw; each candidate's class is kept in the candidate list); a
//! published announcement keeps its SM2-signed PDF as published (its file key, empty before).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0031_risk_draw"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("draws")
                .add_column(ColumnDef::new("risk_weights_json").text().not_null().default(""))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("announcements")
                .add_column(ColumnDef::new("signed_pdf_path").text().not_null().default(""))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("announcements").drop_column("signed_pdf_path").take()).await?;
        m.alter_table(Table::alter().table("draws").drop_column("risk_weights_json").take()).await
    }
}
