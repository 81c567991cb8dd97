//! Two-factor sign-in (issue 15, item 2): each user's TOTP secret (RFC 6238; sealed like personal
//! data, `choucha_service::personal`), whether it is confirmed, the last time step accepted (a code
//! is accepted once), and the one-time recovery codes (SHA-256 only).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0019_second_factor"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("second_factors")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(text("secret"))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(big_integer("last_step").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_second_factors_user", "second_factors", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("recovery_codes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("code_hash", 64))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk("fk_recovery_codes_user", "recovery_codes", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(idx("idx_recovery_codes_user", "recovery_codes", &["user_id"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("recovery_codes").take()).await?;
        m.drop_table(Table::drop().table("second_factors").take()).await
    }
}
