//! Sign-in protection, password policy and sessions (issue 15): failed sign-ins and the lock on
//! users, the hashes of previous passwords, and who a page session or an API token belongs to,
//! from where and since when (a user lists and ends their own).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0017_signin"
    }
}

/// One column per statement: SQLite alters one column at a time.
fn columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        ("users", integer("failed_count").default(0).take()),
        ("users", timestamp_with_time_zone_null("locked_until").take()),
        ("users", timestamp_with_time_zone_null("password_changed_at").take()),
        ("users", boolean("must_change_password").default(false).take()),
        ("sessions", big_integer_null("user_id").take()),
        ("sessions", timestamp_with_time_zone_null("created_at").take()),
        ("sessions", timestamp_with_time_zone_null("last_seen_at").take()),
        ("sessions", string_len("address", 64).default("").take()),
        ("sessions", string_len("user_agent", 200).default("").take()),
        ("api_tokens", timestamp_with_time_zone_null("last_seen_at").take()),
        ("api_tokens", string_len("address", 64).default("").take()),
        ("api_tokens", string_len("user_agent", 200).default("").take()),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut col) in columns() {
            m.alter_table(Table::alter().table(table).add_column(&mut col).take()).await?;
        }
        m.create_index(idx("ix_sessions_user", "sessions", &["user_id"])).await?;
        m.create_table(
            Table::create()
                .table("password_history")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(text("password_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_password_history_user", "password_history", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_password_history_user", "password_history", &["user_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("password_history").take()).await?;
        m.drop_index(Index::drop().name("ix_sessions_user").table("sessions").to_owned()).await?;
        for (table, col) in columns().into_iter().rev() {
            let name = col.get_column_name();
            m.alter_table(Table::alter().table(table).drop_column(Alias::new(name)).take()).await?;
        }
        Ok(())
    }
}
