//! Follow-up of results: sample disposal (rule 19) with its per-province rule, and post-processing
//! cases (rule 20) with their steps and versioned rule sets. Seeds the national defaults: the
//! disposal rule "检验机构按规定处置（销毁）" with 30 days to overdue, and the rule sets of the 2019
//! Measures (selected nationwide) and of the 2015 rule.

use choucha_domain::cases::CaseLimits;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0013_followup"
    }
}

fn unique(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = idx(name, table, cols);
    i.unique();
    i
}

/// The division code of the national default rows (disposal rule, rule-set selection).
pub const NATIONAL: &str = "000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("disposal_rules")
                .if_not_exists()
                .col(big_pk_auto("id"))
                // a province's division code, or 000000 for the national default
                .col(string_len("division_code", 6))
                .col(text("paid_rule"))
                .col(integer("overdue_days"))
                .col(big_integer_null("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_disposal_rules_division", "disposal_rules", &["division_code"])).await?;
        m.exec_stmt(
            Query::insert()
                .into_table("disposal_rules")
                .columns(["division_code", "paid_rule", "overdue_days", "updated_at"])
                .values_panic([
                    NATIONAL.into(),
                    "检验机构按规定处置（销毁）".into(),
                    30.into(),
                    Expr::current_timestamp(),
                ])
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("disposals")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("sample_id"))
                .col(big_integer("report_id"))
                .col(big_integer("plan_id"))
                .col(big_integer("testing_org_id"))
                .col(big_integer("organising_org_id"))
                .col(big_integer("enterprise_id"))
                // the province whose disposal rule applies (the organising bureau's)
                .col(string_len("province_code", 6))
                // test | backup
                .col(string_len("portion", 8))
                .col(boolean("paid"))
                .col(boolean("qualified"))
                // return_to_enterprise | hand_over_to_bureau | provincial_rule
                .col(string_len("required", 24))
                // open | done
                .col(string_len("state", 8))
                // returned | handed_over | destroyed | other
                .col(string_len("method", 16).default(""))
                .col(string_len("recipient", 200).default(""))
                .col(text("note").default(""))
                // the proof (photo or scanned receipt): {file_name, content_type, size, sha256}
                .col(text("proof_json").default(""))
                .col(date_null("disposed_on"))
                .col(big_integer_null("recorded_by"))
                .col(timestamp_with_time_zone_null("recorded_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_disposals_sample", "disposals", "sample_id", "lab_samples"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_disposals_sample_portion", "disposals", &["sample_id", "portion"])).await?;
        m.create_index(idx("ix_disposals_testing_state", "disposals", &["testing_org_id", "state", "id"])).await?;
        m.create_index(idx("ix_disposals_organising_state", "disposals", &["organising_org_id", "state", "id"]))
            .await?;
        m.create_index(idx("ix_disposals_plan_state", "disposals", &["plan_id", "state"])).await?;
        m.create_index(idx("ix_deliveries_sample_recipient", "deliveries", &["sample_id", "recipient"])).await?;
        m.create_index(idx("ix_objections_sample_state", "objections", &["sample_id", "state"])).await?;

        m.create_table(
            Table::create()
                .table("case_rule_sets")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len("name", 200))
                .col(integer("version"))
                .col(text("limits_json"))
                .col(text("note").default(""))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_case_rule_sets_name_version", "case_rule_sets", &["name", "version"])).await?;
        let json = |l: CaseLimits| serde_json::to_string(&l).map_err(|e| DbErr::Custom(e.to_string()));
        m.exec_stmt(
            Query::insert()
                .into_table("case_rule_sets")
                .columns(["name", "version", "limits_json", "note", "created_at"])
                // The first rows of a fresh table: ids 1 and 2 on both databases.
                .values_panic([
                    "《产品质量监督抽查管理暂行办法》(2019)".into(),
                    1.into(),
                    json(CaseLimits::measures_2019())?.into(),
                    "市场监管总局令第18号：责令整改之日起60日内整改，75日内复查；复查不合格的报省局公告，公告后60至90日内再次复查".into(),
                    Expr::current_timestamp(),
                ])
                .values_panic([
                    "2015年国家后处理规定".into(),
                    1.into(),
                    json(CaseLimits::rule_2015())?.into(),
                    "接到通知后5个工作日内启动后处理、5个工作日内责令整改，整改期限30日".into(),
                    Expr::current_timestamp(),
                ])
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("case_rule_selections")
                .if_not_exists()
                .col(big_pk_auto("id"))
                // a bureau's division code (province, city or county), or 000000 nationwide
                .col(string_len("division_code", 6))
                .col(big_integer("rule_set_id"))
                .col(big_integer_null("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_case_rule_selections_set",
                    "case_rule_selections",
                    "rule_set_id",
                    "case_rule_sets",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_case_rule_selections_division", "case_rule_selections", &["division_code"])).await?;
        m.exec_stmt(
            Query::insert()
                .into_table("case_rule_selections")
                .columns(["division_code", "rule_set_id", "updated_at"])
                .values_panic([NATIONAL.into(), 1i64.into(), Expr::current_timestamp()])
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("cases")
                .if_not_exists()
                .col(big_pk_auto("id"))
                // unqualified | refusal
                .col(string_len("kind", 16))
                .col(big_integer("plan_id"))
                .col(big_integer("task_id"))
                .col(big_integer_null("sample_id"))
                .col(big_integer_null("report_id"))
                .col(string_len("report_no", 64).default(""))
                .col(string_len("product", 200))
                .col(big_integer("enterprise_id"))
                // the bureau that runs the case (the enterprise's local bureau)
                .col(big_integer("bureau_org_id"))
                .col(big_integer("organising_org_id"))
                .col(string_len("producer_name", 200).default(""))
                // the nominal producer's own bureau, notified when it is another
                .col(big_integer_null("producer_org_id"))
                .col(big_integer("rule_set_id"))
                .col(string_len("state", 24))
                .col(date("opened_on"))
                .col(date_null("stop_ordered_on"))
                .col(date_null("correction_ordered_on"))
                .col(date_null("escalated_on"))
                // the deadline of the step the bureau owes now (overdue lists)
                .col(date_null("due_on"))
                .col(date_null("rectify_due"))
                .col(date_null("closed_on"))
                .col(text("closed_reason").default(""))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_cases_rule_set", "cases", "rule_set_id", "case_rule_sets"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_cases_kind_task", "cases", &["kind", "task_id"])).await?;
        m.create_index(idx("ix_cases_bureau_state", "cases", &["bureau_org_id", "state", "id"])).await?;
        m.create_index(idx("ix_cases_bureau_due", "cases", &["bureau_org_id", "due_on"])).await?;
        m.create_index(idx("ix_cases_organising", "cases", &["organising_org_id", "id"])).await?;
        m.create_index(idx("ix_cases_enterprise", "cases", &["enterprise_id", "id"])).await?;
        m.create_index(idx("ix_cases_plan_state", "cases", &["plan_id", "state"])).await?;
        m.create_index(idx("ix_cases_sample", "cases", &["sample_id"])).await?;

        m.create_table(
            Table::create()
                .table("case_steps")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(string_len("action", 32))
                .col(date("happened_on"))
                .col(big_integer("actor_id"))
                .col(string_len("actor_name", 200))
                .col(text("note").default(""))
                // step data: deadline, 复查 result and report number, document {file_name, sha256…}
                .col(text("data_json").default("{}"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_case_steps_case", "case_steps", "case_id", "cases"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_case_steps_case", "case_steps", &["case_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["case_steps", "cases", "case_rule_selections", "case_rule_sets", "disposals", "disposal_rules"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        for (name, table) in
            [("ix_deliveries_sample_recipient", "deliveries"), ("ix_objections_sample_state", "objections")]
        {
            m.drop_index(Index::drop().name(name).table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
