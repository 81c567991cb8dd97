//! The foundation: organisations, users and roles, API tokens, sessions, the audit chain, the
//! working-day calendar (seeded with the State Council's days) and the enterprise registry.

use choucha_domain::audit::GENESIS_HASH;
use choucha_domain::calendar::official_days;
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisations")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 40))
                .col(string_len("name", 200))
                .col(string_len("kind", 32))
                .col(big_integer_null("parent_id"))
                .col(string_len_null("division_code", 6))
                .col(string_len_null("qualification_no", 64))
                .col(boolean("cap_sampling").default(false))
                .col(boolean("cap_testing").default(false))
                .col(boolean("cap_screening").default(false))
                .col(string_len("address", 300).default(""))
                .col(string_len("phone", 64).default(""))
                .col(boolean("active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_organisations_parent")
                        .from("organisations", "parent_id")
                        .to("organisations", "id"),
                )
                .take(),
        )
        .await?;
        m.create_index(idx("ix_organisations_parent", "organisations", &["parent_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("enterprises")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("uscc", 18))
                .col(string_len("name", 200))
                .col(string_len("division_code", 6))
                .col(string_len("address", 300).default(""))
                .col(integer("kinds"))
                .col(string_len_null("size_class", 16))
                .col(text("product_lines").default(""))
                .col(string_len_null("licence_no", 64))
                .col(date_null("licence_valid_until"))
                .col(string_len_null("ccc_cert_no", 64))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            // Divergent (PostgreSQL only): names and division codes compare by code point (as SQLite's
            // BINARY does), so one btree serves prefix ranges, ORDER BY and keyset on both backends,
            // whatever the database's default collation.
            m.get_connection()
                .execute_unprepared(
                    "ALTER TABLE enterprises ALTER COLUMN name TYPE varchar(200) COLLATE \"C\", \
                     ALTER COLUMN division_code TYPE varchar(6) COLLATE \"C\", \
                     ALTER COLUMN uscc TYPE varchar(18) COLLATE \"C\"",
                )
                .await?;
        }
        m.create_index(idx("ix_enterprises_name", "enterprises", &["name", "id"])).await?;
        m.create_index(idx("ix_enterprises_division", "enterprises", &["division_code", "id"])).await?;
        m.create_index(idx("ix_enterprises_status", "enterprises", &["status", "id"])).await?;

        m.create_table(
            Table::create()
                .table("users")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len_uniq("username", 64))
                .col(string_len("display_name", 100))
                .col(string_len("password_hash", 200))
                .col(big_integer_null("org_id"))
                .col(big_integer_null("enterprise_id"))
                .col(string_len("phone", 64).default(""))
                .col(string_len("id_card_no", 32).default(""))
                .col(boolean("active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create().name("fk_users_org").from("users", "org_id").to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_users_enterprise")
                        .from("users", "enterprise_id")
                        .to("enterprises", "id"),
                )
                .take(),
        )
        .await?;
        m.create_index(idx("ix_users_org", "users", &["org_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("user_roles")
                .if_not_exists()
                .col(big_integer("user_id"))
                .col(string_len("role", 32))
                .primary_key(Index::create().col("user_id").col("role"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_roles_user")
                        .from("user_roles", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(idx("ix_user_roles_role", "user_roles", &["role", "user_id"])).await?;

        m.create_table(
            Table::create()
                .table("api_tokens")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len_uniq("token_hash", 64))
                .col(string_len("name", 100).default(""))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_tokens_user")
                        .from("api_tokens", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .if_not_exists()
                .col(string_len("id", 64).primary_key())
                .col(text("data"))
                .col(timestamp_with_time_zone("expires_at"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_sessions_expires", "sessions", &["expires_at"])).await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .if_not_exists()
                .col(big_integer("seq").primary_key())
                .col(string_len("at", 40))
                .col(big_integer_null("actor_id"))
                .col(string_len("actor_name", 100))
                .col(string_len("action", 64))
                .col(string_len("object_type", 64))
                .col(string_len("object_id", 64))
                .col(text("before_json"))
                .col(text("after_json"))
                .col(string_len("prev_hash", 64))
                .col(string_len("hash", 64))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_audit_object", "audit_log", &["object_type", "object_id", "seq"])).await?;
        m.create_index(idx("ix_audit_actor", "audit_log", &["actor_id", "seq"])).await?;
        m.create_index(idx("ix_audit_action", "audit_log", &["action", "seq"])).await?;
        m.create_index(idx("ix_audit_at", "audit_log", &["at"])).await?;

        m.create_table(
            Table::create()
                .table("audit_head")
                .if_not_exists()
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(string_len("hash", 64))
                .take(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("audit_head")
                .columns(["id", "seq", "hash"])
                .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("calendar_days")
                .if_not_exists()
                .col(date("day").primary_key())
                .col(string_len("kind", 16))
                .col(string_len("name", 64))
                .take(),
        )
        .await?;
        let days = official_days();
        for chunk in days.chunks(200) {
            let mut q = Query::insert();
            q.into_table("calendar_days").columns(["day", "kind", "name"]);
            for d in chunk {
                q.values_panic([d.date.into(), d.kind.as_str().into(), d.name.clone().into()]);
            }
            m.exec_stmt(q).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "calendar_days",
            "audit_head",
            "audit_log",
            "sessions",
            "api_tokens",
            "user_roles",
            "users",
            "enterprises",
            "organisations",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().take()).await?;
        }
        Ok(())
    }
}
