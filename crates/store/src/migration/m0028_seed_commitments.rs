//! Issue 18 (a draw anyone can re-run): the organising bureau commits to a draw's seed before the
//! candidate list is fixed. The system draws the seed and publishes its SHA-256 with the time; the
//! seed itself stays secret until the draw that uses it, which records it in full.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0028_seed_commitments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("seed_commitments")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("item_id"))
                .col(text("seed"))
                .col(string_len("seed_sha256", 64))
                .col(big_integer("committed_by"))
                .col(timestamp_with_time_zone("committed_at"))
                .col(big_integer_null("draw_id"))
                .foreign_key(&mut fk("fk_seed_commitments_item", "seed_commitments", "item_id", "plan_items"))
                .foreign_key(&mut fk("fk_seed_commitments_draw", "seed_commitments", "draw_id", "draws"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_seed_commitments_item", "seed_commitments", &["item_id", "id"])).await?;
        m.create_index(idx("ix_seed_commitments_draw", "seed_commitments", &["draw_id"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("seed_commitments").if_exists().take()).await
    }
}
