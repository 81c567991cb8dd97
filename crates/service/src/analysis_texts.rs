//! The written part of a plan's quality analysis (质量分析报告: 问题分析、原因分析、改进建议). The
//! notices have the testing institution submit the analysis to the organising bureau: each testing
//! institution of the plan writes its part (its custodian, never a blind tester), saves drafts and
//! submits it; the organising bureau reads the submitted parts, which the report prints beside its
//! figures, and may send one back for changes with a reason. Every write is audited.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_store::analysis_texts::{self as store, AnalysisTextRow, AnalysisWriting};
use choucha_store::audit::AuditEntry;
use choucha_store::{organisations, plans as store_plans};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};

/// Longest text of one section.
const MAX_CHARS: usize = 20_000;

/// An institution's part, as the writer and the organising bureau see it.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AnalysisTextView {
    pub plan_id: i64,
    pub org_id: i64,
    pub institution: String,
    pub problems: String,
    pub causes: String,
    pub suggestions: String,
    /// Submitted to the organising bureau (else a draft, or nothing written yet).
    pub submitted: bool,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_by: String,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AnalysisTextInput {
    #[serde(default)]
    pub problems: String,
    #[serde(default)]
    pub causes: String,
    #[serde(default)]
    pub suggestions: String,
    /// Submit to the organising bureau (every section is then required); else a draft.
    #[serde(default)]
    pub submit: bool,
}

/// A submitted part, as the report prints it.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct WrittenPart {
    pub institution: String,
    pub problems: String,
    pub causes: String,
    pub suggestions: String,
}

/// The plan and the institutions that test its items.
async fn plan_and_labs(s: &Services, plan_id: i64) -> Result<(store_plans::PlanRow, Vec<i64>)> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, plan_id).await.map_err(ServiceError::not_found("计划"))?;
    let mut labs: Vec<i64> =
        store_plans::items_of(db, plan_id).await?.into_iter().filter_map(|i| i.testing_org_id).collect();
    labs.sort_unstable();
    labs.dedup();
    Ok((plan, labs))
}

/// Who may read the plan's analysis: its organising bureau and its testing institutions'
/// custodians. The plan, its testing institutions, and the caller's institution among them.
pub(crate) async fn require_reader(
    s: &Services,
    actor: &Actor,
    plan_id: i64,
) -> Result<(store_plans::PlanRow, Vec<i64>)> {
    let (plan, labs) = plan_and_labs(s, plan_id).await?;
    actor
        .to_analysis(plan.organising_org_id, &labs)
        .require_or(Action::ViewAnalysis, "只有组织该抽查的部门和承检机构的样品管理员可以查看质量分析报告")?;
    Ok((plan, labs))
}

/// The caller's institution, as a writer of the plan's analysis.
async fn writer_org(s: &Services, actor: &Actor, plan_id: i64) -> Result<(store_plans::PlanRow, i64)> {
    let (plan, labs) = plan_and_labs(s, plan_id).await?;
    actor
        .to_analysis(plan.organising_org_id, &labs)
        .require_or(Action::WriteAnalysis, "质量分析报告由承担该计划检验任务的检验机构（样品管理员）撰写")?;
    let org =
        actor.org_id.filter(|o| labs.contains(o)).ok_or(ServiceError::Forbidden("不是该计划的承检机构".into()))?;
    Ok((plan, org))
}

async fn view(s: &Services, plan_id: i64, org_id: i64, row: Option<AnalysisTextRow>) -> Result<AnalysisTextView> {
    let institution = organisations::get(s.store.reader(), org_id).await?.name;
    Ok(match row {
        Some(r) => AnalysisTextView {
            plan_id,
            org_id,
            institution,
            updated_by: crate::lab::user_name(s, r.updated_by).await,
            updated_at: Some(r.updated_at),
            problems: r.problems,
            causes: r.causes,
            suggestions: r.suggestions,
            submitted: r.submitted,
            submitted_at: r.submitted_at,
        },
        None => AnalysisTextView { plan_id, org_id, institution, ..Default::default() },
    })
}

/// The caller's institution's part (empty until written).
pub async fn mine(s: &Services, actor: &Actor, plan_id: i64) -> Result<AnalysisTextView> {
    let (_, org) = writer_org(s, actor, plan_id).await?;
    let row = store::get(s.store.reader(), plan_id, org).await?;
    view(s, plan_id, org, row).await
}

/// Saves the caller's institution's part as a draft, or submits it. A submitted part is changed
/// only after the organising bureau sends it back.
pub async fn save(s: &Services, actor: &Actor, plan_id: i64, input: AnalysisTextInput) -> Result<AnalysisTextView> {
    let (_, org) = writer_org(s, actor, plan_id).await?;
    let before = store::get(s.store.reader(), plan_id, org).await?;
    if before.as_ref().is_some_and(|b| b.submitted) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "analysis_submitted",
            "质量分析报告已提交组织部门；如需修改，请联系组织部门退回",
        )));
    }
    let fields = [
        ("problems", "问题分析", input.problems.trim()),
        ("causes", "原因分析", input.causes.trim()),
        ("suggestions", "改进建议", input.suggestions.trim()),
    ];
    let mut errs = Vec::new();
    for (field, label, text) in fields {
        if input.submit && text.is_empty() {
            errs.push(RuleViolation::new("required", format!("提交前请填写{label}")).on_field(field));
        }
        if text.chars().count() > MAX_CHARS {
            errs.push(RuleViolation::new("too_long", format!("{label}不能超过{MAX_CHARS}字")).on_field(field));
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let w = AnalysisWriting {
        problems: input.problems.trim(),
        causes: input.causes.trim(),
        suggestions: input.suggestions.trim(),
        submit: input.submit,
    };
    let tx = s.write(actor).await?;
    store::put(&tx, plan_id, org, w, actor.user_id).await?;
    let action = if input.submit { "analysis_text.submit" } else { "analysis_text.save" };
    tx.commit(AuditEntry::new(
        action,
        "plan",
        plan_id,
        json!({"org_id": org, "existed": before.is_some()}),
        json!({"org_id": org, "submitted": input.submit, "chars": w.problems.chars().count() + w.causes.chars().count() + w.suggestions.chars().count()}),
    ))
    .await?;
    mine(s, actor, plan_id).await
}

/// Every testing institution's part, for the organising bureau (unwritten ones empty).
pub async fn of_plan(s: &Services, actor: &Actor, plan_id: i64) -> Result<Vec<AnalysisTextView>> {
    let (plan, labs) = plan_and_labs(s, plan_id).await?;
    actor
        .to_plan(plan.organising_org_id)
        .require_or(Action::ViewPlanFigures, "只有组织该抽查的部门可以查看各承检机构的质量分析")?;
    let rows = store::of_plan(s.store.reader(), plan_id).await?;
    let mut out = Vec::new();
    for org in labs {
        let row = rows.iter().find(|r| r.org_id == org).cloned();
        let mut v = view(s, plan_id, org, row).await?;
        if !v.submitted {
            // A draft is the institution's own until it submits it.
            v.problems.clear();
            v.causes.clear();
            v.suggestions.clear();
        }
        out.push(v);
    }
    Ok(out)
}

/// The organising bureau sends a submitted part back for changes, with the reason.
pub async fn send_back(s: &Services, actor: &Actor, plan_id: i64, org_id: i64, reason: &str) -> Result<()> {
    let (plan, _) = plan_and_labs(s, plan_id).await?;
    actor
        .to_plan(plan.organising_org_id)
        .require_or(Action::ViewPlanFigures, "只有组织该抽查的部门可以退回质量分析")?;
    if reason.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请填写退回原因").on_field("reason")));
    }
    let tx = s.write(actor).await?;
    if !store::send_back(&tx, plan_id, org_id).await? {
        return Err(ServiceError::Rule(RuleViolation::new(
            "analysis_not_submitted",
            "该机构尚未提交质量分析，无需退回",
        )));
    }
    tx.commit(AuditEntry::new(
        "analysis_text.send_back",
        "plan",
        plan_id,
        json!({"org_id": org_id, "submitted": true}),
        json!({"org_id": org_id, "submitted": false, "reason": reason.trim()}),
    ))
    .await?;
    Ok(())
}

/// The submitted parts, for the report (by institution).
pub(crate) async fn submitted_parts(s: &Services, plan_id: i64) -> Result<Vec<WrittenPart>> {
    let mut out = Vec::new();
    for r in store::of_plan(s.store.reader(), plan_id).await?.into_iter().filter(|r| r.submitted) {
        out.push(WrittenPart {
            institution: organisations::get(s.store.reader(), r.org_id).await?.name,
            problems: r.problems,
            causes: r.causes,
            suggestions: r.suggestions,
        });
    }
    Ok(out)
}
