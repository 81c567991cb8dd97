//! Issue 17: a draw's tasks are read by `draw_id` (the draw record, a redraw, `draw verify`); without
//! an index every such read scanned the whole `sampling_tasks` table.

use sea_orm_migration::prelude::*;

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0020_draw_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(idx("ix_sampling_tasks_draw", "sampling_tasks", &["draw_id", "id"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_sampling_tasks_draw").table("sampling_tasks").if_exists().to_owned()).await
    }
}
