//! 等保 level 3 (issue 15). 三权分立: the single `admin` role of earlier versions becomes the system
//! administrator (accounts, organisations, calendars, settings); a deployment then bootstraps its
//! security and audit administrators with `choucha user create`. Personal data: a user's phone and
//! identity-document numbers are stored encrypted (`choucha_service::personal`), longer than the
//! plain numbers, so their columns become text (SQLite does not limit lengths).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0018_three_administrators"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let rename = Query::update()
            .table("user_roles")
            .value("role", "system_admin")
            .and_where(Expr::col("role").eq("admin"))
            .to_owned();
        m.exec_stmt(rename).await?;
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            for col in ["phone", "id_card_no"] {
                m.alter_table(
                    Table::alter()
                        .table("users")
                        .modify_column(ColumnDef::new(col).text().not_null().default(""))
                        .take(),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let back = Query::update()
            .table("user_roles")
            .value("role", "admin")
            .and_where(Expr::col("role").eq("system_admin"))
            .to_owned();
        m.exec_stmt(back).await
    }
}
