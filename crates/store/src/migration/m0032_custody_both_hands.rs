//! Issue 18: custody signed by both hands. A hand-over event names the handing and the receiving
//! party, the party that must confirm the other side (`counter_party`, and the very person when
//! known), the courier who took it (name and the SHA-256 of the signature drawn on the writer's
//! phone) and the temperature; the counter-party's confirmation is its own append-only row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0032_custody_both_hands"
    }
}

const T: &str = "custody_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for col in [
            ColumnDef::new("from_party").string_len(200).not_null().default("").take(),
            ColumnDef::new("to_party").string_len(200).not_null().default("").take(),
            // "" (not a hand-over) | custodian | tester | retest_custodian | witness
            ColumnDef::new("counter_party").string_len(24).not_null().default("").take(),
            ColumnDef::new("counter_user_id").big_integer().null().take(),
            ColumnDef::new("courier_name").string_len(100).not_null().default("").take(),
            ColumnDef::new("courier_signature_sha").string_len(64).not_null().default("").take(),
            ColumnDef::new("temperature_c").double().null().take(),
        ] {
            m.alter_table(Table::alter().table(T).add_column(col).take()).await?;
        }
        m.create_table(
            Table::create()
                .table("custody_confirmations")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("event_id"))
                .col(big_integer("task_id"))
                // None: an outside party whose signature the writer captured
                .col(big_integer_null("confirmed_by"))
                .col(string_len("confirmed_name", 100))
                .col(string_len("signature_sha", 64).default(""))
                .col(text("note").default(""))
                .col(timestamp_with_time_zone("confirmed_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_custody_confirmations_event", "custody_confirmations", "event_id", T))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_custody_confirmations_event", "custody_confirmations", &["event_id"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("custody_confirmations").if_exists().take()).await?;
        for c in [
            "temperature_c",
            "courier_signature_sha",
            "courier_name",
            "counter_user_id",
            "counter_party",
            "to_party",
            "from_party",
        ] {
            m.alter_table(Table::alter().table(T).drop_column(c).take()).await?;
        }
        Ok(())
    }
}
