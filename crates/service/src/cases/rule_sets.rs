//! The rule sets of post-processing time limits (rule 20): versions added by admins (never edited,
//! so open cases keep theirs) and the set each division applies to the cases it opens.

use crate::access::Ask;
use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::calendar::TimeLimit;
use choucha_domain::cases::CaseLimits;
use choucha_store::audit::AuditEntry;
use choucha_store::cases::{self as store, RuleSetRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::limits_of;
use crate::{Actor, Result, ServiceError, Services};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleSetView {
    pub id: i64,
    pub name: String,
    pub version: i32,
    pub limits: CaseLimits,
    /// The limits in words.
    pub summary: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleSelectionView {
    /// A bureau's division code, or 000000 nationwide.
    pub division_code: String,
    pub rule_set_id: i64,
    pub rule_set: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleSetsView {
    pub sets: Vec<RuleSetView>,
    pub selections: Vec<RuleSelectionView>,
}

fn limit_words(l: Option<TimeLimit>) -> String {
    match l {
        Some(TimeLimit::CalendarDays(n)) => format!("{n}日"),
        Some(TimeLimit::WorkingDays(n)) => format!("{n}个工作日"),
        None => "立即（不设期限）".into(),
    }
}

fn summary(l: &CaseLimits) -> String {
    format!(
        "立案后{}内责令停止生产销售；其后{}内责令整改；整改期限{}；复查：责令整改后{}；复查不合格公告后{}至{}内再次复查",
        limit_words(l.stop_order_within),
        limit_words(l.correction_order_within),
        limit_words(Some(l.rectify_within)),
        match l.follow_up_check_within {
            Some(_) => format!("{}内", limit_words(l.follow_up_check_within)),
            None => "整改期满时".into(),
        },
        limit_words(Some(l.second_follow_up_check_after)),
        limit_words(Some(l.second_follow_up_check_within)),
    )
}

fn set_view(r: RuleSetRow) -> Result<RuleSetView> {
    let limits = limits_of(&r)?;
    Ok(RuleSetView {
        id: r.id,
        name: r.name,
        version: r.version,
        summary: summary(&limits),
        limits,
        note: r.note,
        created_at: r.created_at,
    })
}

/// The rule sets and which division applies which (admins and bureau staff).
pub async fn rule_sets(s: &Services, actor: &Actor) -> Result<RuleSetsView> {
    actor.require(Action::ViewRuleSets)?;
    let db = s.store.reader();
    let rows = store::rule_sets(db).await?;
    let mut selections = Vec::new();
    for sel in store::rule_selections(db).await? {
        let set = rows.iter().find(|r| r.id == sel.rule_set_id);
        selections.push(RuleSelectionView {
            division_code: sel.division_code,
            rule_set_id: sel.rule_set_id,
            rule_set: set.map(|r| format!("{}（第{}版）", r.name, r.version)).unwrap_or_default(),
        });
    }
    Ok(RuleSetsView { sets: rows.into_iter().map(set_view).collect::<Result<_>>()?, selections })
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RuleSetInput {
    /// The rule set's name; an existing name gets a new version (old versions stay as they were).
    pub name: String,
    #[serde(default)]
    pub note: String,
    /// e.g. {"stop_order_within": {"unit": "working_days", "days": 5}, "rectify_within": {"unit": "calendar_days", "days": 30}, …}
    pub limits: CaseLimits,
}

/// An admin adds a rule set, or a new version of one. Open cases keep the version they opened under.
pub async fn add_rule_set(s: &Services, actor: &Actor, input: RuleSetInput) -> Result<RuleSetView> {
    actor.require_or(Action::AddRuleSet, "后处理时限规则由管理员维护")?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请填写规则名称（不超过200字）").on_field("name"),
        ));
    }
    input.limits.validate()?;
    let limits_json = serde_json::to_string(&input.limits).map_err(ServiceError::internal)?;
    let tx = s.write(actor).await?;
    let r = store::insert_rule_set(&tx, name, &limits_json, input.note.trim(), actor.user_id).await?;
    tx.commit(AuditEntry::new(
        "case_rule_set.add",
        "case_rule_set",
        r.id,
        json!(null),
        json!({"name": name, "version": r.version, "limits": input.limits}),
    ))
    .await?;
    set_view(r)
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SelectionInput {
    pub rule_set_id: i64,
}

/// Whether the actor decides which rule set binds `division` (rule 20): which deadlines apply is the
/// province's decision, so an admin (any division, 000000 nationwide) or a regulator of a
/// province-level bureau for a division inside its province. Never a city or county bureau: the
/// bureau that runs the cases would otherwise pick the laxer rule for its own enterprises.
fn may_select_rule_set(actor: &Actor, division: &str) -> bool {
    actor.to_division(division).may(Action::ManageRuleSets)
}

/// Selects the rule set a division applies to the cases it opens from now on: an admin for any
/// division (000000 nationwide); the provincial bureau for the divisions of its province.
pub async fn select_rule_set(
    s: &Services,
    actor: &Actor,
    division: &str,
    input: SelectionInput,
) -> Result<RuleSetsView> {
    let division = division.trim();
    if !may_select_rule_set(actor, division) {
        return Err(ServiceError::Forbidden("适用的后处理时限规则由省级市场监管部门或管理员选择".into()));
    }
    if !(division.len() == 6 && division.chars().all(|c| c.is_ascii_digit())) {
        return Err(ServiceError::invalid(
            RuleViolation::new("invalid_division", "行政区划代码应为6位数字（全国默认为000000）")
                .on_field("division_code"),
        ));
    }
    let set = store::get_rule_set(s.store.reader(), input.rule_set_id).await.map_err(|e| match e {
        choucha_store::StoreError::NotFound => {
            ServiceError::invalid(RuleViolation::new("unknown_rule_set", "规则不存在").on_field("rule_set_id"))
        }
        other => other.into(),
    })?;
    let tx = s.write(actor).await?;
    store::select_rule_set(&tx, division, set.id, actor.user_id).await?;
    tx.commit(AuditEntry::new(
        "case_rule_set.select",
        "case_rule_set",
        set.id,
        json!(null),
        json!({"division_code": division, "rule_set_id": set.id}),
    ))
    .await?;
    rule_sets(s, actor).await
}
