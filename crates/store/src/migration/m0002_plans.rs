//! Plans and their items (with shared quotas), plan amendments, implementation rules versions,
//! draws and the sampling tasks they create, batch allowances (rule 5 exception) and samplers'
//! declared conflicts (回避).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_plans"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("plans")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(integer("year"))
                .col(string_len("title", 200))
                .col(big_integer("organising_org_id"))
                .col(string_len("doc_no", 100).default(""))
                .col(string_len("domains", 100).default(""))
                .col(string_len("state", 16))
                .col(date_null("deadline_delivery"))
                .col(date_null("deadline_data_entry"))
                .col(date_null("deadline_summary"))
                .col(integer_null("unqualified_report_days"))
                .col(big_integer_null("budget_cents"))
                .col(text("notes").default(""))
                .col(timestamp_with_time_zone_null("issued_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_plans_org", "plans", "organising_org_id", "organisations"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_plans_org", "plans", &["organising_org_id", "id"])).await?;
        m.create_index(idx("ix_plans_year", "plans", &["year", "id"])).await?;

        m.create_table(
            Table::create()
                .table("quota_groups")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(integer("quota"))
                .foreign_key(&mut fk("fk_quota_groups_plan", "quota_groups", "plan_id", "plans"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_quota_groups_plan", "quota_groups", &["plan_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("plan_items")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(big_integer("group_id"))
                .col(integer("position"))
                .col(string_len("number", 16))
                .col(string_len("category", 100))
                .col(string_len("product", 100))
                .col(string_len("scopes", 100))
                .col(big_integer_null("sampling_org_id"))
                .col(big_integer_null("testing_org_id"))
                .col(big_integer_null("screening_org_id"))
                .foreign_key(&mut fk("fk_plan_items_plan", "plan_items", "plan_id", "plans"))
                .foreign_key(&mut fk("fk_plan_items_group", "plan_items", "group_id", "quota_groups"))
                .foreign_key(&mut fk("fk_plan_items_sampling", "plan_items", "sampling_org_id", "organisations"))
                .foreign_key(&mut fk("fk_plan_items_testing", "plan_items", "testing_org_id", "organisations"))
                .foreign_key(&mut fk("fk_plan_items_screening", "plan_items", "screening_org_id", "organisations"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_plan_items_plan", "plan_items", &["plan_id", "position"])).await?;
        m.create_index(idx("ix_plan_items_testing", "plan_items", &["testing_org_id", "id"])).await?;
        m.create_index(idx("ix_plan_items_sampling", "plan_items", &["sampling_org_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("plan_amendments")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(text("reason"))
                .col(text("before_json"))
                .col(text("after_json"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_plan_amendments_plan", "plan_amendments", "plan_id", "plans"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_plan_amendments_plan", "plan_amendments", &["plan_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("rules_versions")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("item_id"))
                .col(integer("version"))
                .col(string_len("state", 16))
                .col(text("body_json"))
                .col(text("returned_reason").default(""))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(timestamp_with_time_zone_null("approved_at"))
                .col(big_integer_null("approved_by"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_rules_versions_item", "rules_versions", "item_id", "plan_items"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_rules_versions_item_version")
                .table("rules_versions")
                .col("item_id")
                .col("version")
                .unique()
                .if_not_exists()
                .take(),
        )
        .await?;
        m.create_index(idx("ix_rules_versions_state", "rules_versions", &["state", "item_id"])).await?;

        m.create_table(
            Table::create()
                .table("draws")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(big_integer("item_id"))
                .col(integer("quota"))
                .col(text("seed"))
                .col(boolean("stratified"))
                .col(integer("team_size"))
                .col(string_len("algorithm", 32))
                .col(text("filters_json"))
                .col(integer("candidate_count"))
                .col(string_len("candidate_hash", 64))
                .col(text("candidates_json"))
                .col(text("exclusions_json"))
                .col(text("samplers_json"))
                .col(text("result_json"))
                .col(text("reason").default(""))
                .col(big_integer_null("replaces_draw_id"))
                .col(big_integer_null("replaces_enterprise_id"))
                .col(boolean("published").default(false))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_draws_plan", "draws", "plan_id", "plans"))
                .foreign_key(&mut fk("fk_draws_item", "draws", "item_id", "plan_items"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_draws_item", "draws", &["item_id", "id"])).await?;
        m.create_index(idx("ix_draws_plan", "draws", &["plan_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("sampling_tasks")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(big_integer("item_id"))
                .col(big_integer("draw_id"))
                .col(big_integer("enterprise_id"))
                .col(string_len("state", 24))
                .col(date_null("due_date"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_sampling_tasks_plan", "sampling_tasks", "plan_id", "plans"))
                .foreign_key(&mut fk("fk_sampling_tasks_item", "sampling_tasks", "item_id", "plan_items"))
                .foreign_key(&mut fk("fk_sampling_tasks_draw", "sampling_tasks", "draw_id", "draws"))
                .foreign_key(&mut fk("fk_sampling_tasks_enterprise", "sampling_tasks", "enterprise_id", "enterprises"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_sampling_tasks_plan_enterprise", "sampling_tasks", &["plan_id", "enterprise_id"]))
            .await?;
        m.create_index(idx("ix_sampling_tasks_item", "sampling_tasks", &["item_id", "id"])).await?;
        m.create_index(idx("ix_sampling_tasks_enterprise", "sampling_tasks", &["enterprise_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("sampling_task_members")
                .if_not_exists()
                .col(big_integer("task_id"))
                .col(big_integer("user_id"))
                .primary_key(Index::create().col("task_id").col("user_id"))
                .foreign_key(&mut fk("fk_task_members_task", "sampling_task_members", "task_id", "sampling_tasks"))
                .foreign_key(&mut fk("fk_task_members_user", "sampling_task_members", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_task_members_user", "sampling_task_members", &["user_id", "task_id"])).await?;

        m.create_table(
            Table::create()
                .table("batch_allowances")
                .if_not_exists()
                .col(big_integer("plan_id"))
                .col(big_integer("enterprise_id"))
                .col(integer("max_total"))
                .col(integer("max_per_product"))
                .col(text("reason"))
                .col(big_integer("granted_by"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("plan_id").col("enterprise_id"))
                .foreign_key(&mut fk("fk_batch_allowances_plan", "batch_allowances", "plan_id", "plans"))
                .foreign_key(&mut fk(
                    "fk_batch_allowances_enterprise",
                    "batch_allowances",
                    "enterprise_id",
                    "enterprises",
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sampler_conflicts")
                .if_not_exists()
                .col(big_integer("user_id"))
                .col(big_integer("enterprise_id"))
                .col(text("reason"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("user_id").col("enterprise_id"))
                .foreign_key(&mut fk("fk_sampler_conflicts_user", "sampler_conflicts", "user_id", "users"))
                .foreign_key(&mut fk(
                    "fk_sampler_conflicts_enterprise",
                    "sampler_conflicts",
                    "enterprise_id",
                    "enterprises",
                ))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "sampler_conflicts",
            "batch_allowances",
            "sampling_task_members",
            "sampling_tasks",
            "draws",
            "rules_versions",
            "plan_amendments",
            "plan_items",
            "quota_groups",
            "plans",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().take()).await?;
        }
        Ok(())
    }
}
