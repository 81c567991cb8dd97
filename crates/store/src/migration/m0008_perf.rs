//! Indexes that `choucha bench` showed were missing at scale (docs/PERFORMANCE.md): the plan views
//! count a plan's samples per item and state, which the (plan_id, enterprise_id) index cannot answer
//! without reading every task row of the plan; (plan_id, item_id, state) covers the count.

use sea_orm_migration::prelude::*;

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_perf"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(idx("ix_sampling_tasks_plan_item_state", "sampling_tasks", &["plan_id", "item_id", "state"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop().name("ix_sampling_tasks_plan_item_state").table("sampling_tasks").if_exists().to_owned(),
        )
        .await?;
        Ok(())
    }
}
