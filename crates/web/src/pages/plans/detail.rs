//! The plan page: Annex 1, amendments, draws, costs, and the organising bureau's buttons (issue,
//! close, amend).

use super::*;

/// One amendment as a line of text per change.
pub struct AmendmentLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
    pub changes: Vec<String>,
}

pub(super) fn amendment_lines(v: &PlanView) -> Vec<AmendmentLine> {
    v.amendments
        .iter()
        .map(|a| {
            let before = a.before.as_array().cloned().unwrap_or_default();
            let after = a.after.as_array().cloned().unwrap_or_default();
            let changes = after
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let product = n["product"].as_str().unwrap_or_default();
                    let old = before.get(i).map(|b| b["quota"].to_string()).unwrap_or_default();
                    format!("{product}：{old} → {} 批次", n["quota"])
                })
                .collect();
            AmendmentLine { at: a.created_at, reason: a.reason.clone(), changes }
        })
        .collect()
}

/// One draw of the plan, as listed on the plan page.
pub struct DrawLine {
    pub id: i64,
    pub product: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub drawn: usize,
    pub candidate_count: i32,
    pub published: bool,
    pub redraw: bool,
}

pub(super) fn draw_line(d: DrawView) -> DrawLine {
    DrawLine {
        at: d.created_at,
        id: d.id,
        product: d.product,
        drawn: d.drawn.len(),
        candidate_count: d.candidate_count,
        published: d.published,
        redraw: d.replaces_draw_id.is_some(),
    }
}

/// A quota group offered in the amendment form (its first item stands for the group).
pub struct GroupChoice {
    pub item_id: i64,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Default, Clone)]
pub struct AmendValues {
    pub item_id: String,
    pub quota: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub plan: PlanView,
    pub lines: Vec<Annex1Line>,
    pub can_manage: bool,
    pub draws: Vec<DrawLine>,
    pub amendments: Vec<AmendmentLine>,
    pub groups: Vec<GroupChoice>,
    pub amend: AmendValues,
    pub amend_errors: FieldErrors,
    /// A refusal of the last action.
    pub error: Option<String>,
    /// Test portions paid against the budget (rule 21), for the organising bureau.
    pub costs: Option<choucha_service::handover::PlanCosts>,
    /// The sample-confirmation period (rule 23), for the organising bureau to set.
    pub confirmation: Option<choucha_service::confirmations::PeriodInput>,
    /// The caller writes its testing institution's part of the quality analysis.
    pub writes_analysis: bool,
    /// The caller sees the plan's national data exchange (国家平台报送).
    pub national: bool,
}

impl DetailPage {
    pub fn badge(&self) -> &'static str {
        plan_badge(&self.plan.state)
    }
}

/// What the plan page shows besides the plan: a refused action, the amendment form as typed.
#[derive(Default)]
pub struct DetailExtras {
    pub error: Option<String>,
    pub amend: AmendValues,
    pub amend_errors: FieldErrors,
}

impl DetailExtras {
    fn refused(what: &str, e: &ServiceError) -> DetailExtras {
        DetailExtras { error: Some(format!("{what}：{}", body_of(e).message)), ..Default::default() }
    }
}

pub(super) async fn render_detail(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    id: i64,
    DetailExtras { error, amend, amend_errors }: DetailExtras,
    status: StatusCode,
) -> PageResult<Response> {
    let s = &state.services;
    let plan = plans::get(s, actor, id).await?;
    let can_manage = manages(actor, plan.organising_org_id);
    let draws = match draws::list_for_plan(s, actor, id).await {
        Ok(d) => d.into_iter().map(draw_line).collect(),
        Err(ServiceError::NotFound(_) | ServiceError::Forbidden(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let groups = plan
        .items
        .iter()
        .filter(|i| i.group_first)
        .map(|first| {
            let products: Vec<&str> =
                plan.items.iter().filter(|i| i.group_id == first.group_id).map(|i| i.product.as_str()).collect();
            let shared = if products.len() > 1 { "共用" } else { "" };
            GroupChoice {
                item_id: first.id,
                label: format!(
                    "{}（{}{} 批次，已抽取 {}）",
                    products.join("、"),
                    shared,
                    first.group_quota,
                    first.group_tasks
                ),
                selected: amend.item_id == first.id.to_string(),
            }
        })
        .collect();
    let costs = choucha_service::handover::plan_costs(&state.services, actor, plan.id).await.ok();
    let confirmation = if can_manage { choucha_service::confirmations::period(s, id).await.ok() } else { None };
    let writes_analysis = choucha_service::analysis_texts::mine(s, actor, id).await.is_ok();
    let national = plan.state != choucha_domain::plan::PlanState::Draft
        && choucha_service::national_export::visible(s, actor, id).await.unwrap_or(false);
    let page = DetailPage {
        national,
        writes_analysis,
        confirmation,
        costs,
        lines: annex1_lines(&plan.items),
        amendments: amendment_lines(&plan),
        can_manage,
        draws,
        groups,
        amend,
        amend_errors,
        error,
        plan,
        chrome: chrome(session, Some(actor), "plans").await,
    };
    Ok((status, page).into_response())
}

pub(super) async fn detail(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    render_detail(&state, &session, &actor, id, DetailExtras::default(), StatusCode::OK).await
}

/// Issuing or closing: on success the plan page with "计划“…”{done}"; refused, the plan page with
/// "{refused}：…".
async fn plan_step(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    id: i64,
    outcome: Result<PlanView, ServiceError>,
    done: &str,
    refused: &str,
) -> PageResult<Response> {
    done_or_again(
        session,
        outcome,
        |v| (format!("/plans/{id}"), format!("计划“{}”{done}", v.title)),
        |e| render_detail(state, session, actor, id, DetailExtras::refused(refused, &e), status_of(&e)),
    )
    .await
}

pub(super) async fn issue(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let outcome = plans::issue(&state.services, &actor, id).await;
    plan_step(&state, &session, &actor, id, outcome, "已下达", "未能下达").await
}

pub(super) async fn close(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let outcome = plans::close(&state.services, &actor, id).await;
    plan_step(&state, &session, &actor, id, outcome, "已结束", "未能结束").await
}

pub(super) async fn delete(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let outcome = plans::delete_draft(&state.services, &actor, id).await;
    let back = format!("/plans/{id}");
    crate::pages::respond::done_to(&session, outcome, &back, |()| {
        ("/plans".to_string(), "已删除该计划草稿，删除前的内容已记入审计日志")
    })
    .await
}

pub(super) async fn amend(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let f = FormData(pairs);
    let values = AmendValues {
        item_id: f.get("item_id").trim().to_string(),
        quota: f.get("quota").trim().to_string(),
        reason: f.get("reason"),
    };
    let mut errors = FieldErrors::default();
    let item_id = values.item_id.parse::<i64>().ok();
    if item_id.is_none() {
        errors.add("item_id", "请选择要调整批次的产品");
    }
    let quota = values.quota.trim_end_matches("批次").trim().parse::<u32>().ok();
    if quota.is_none() {
        errors.add("quota", &format!("新的抽查批次“{}”应为正整数", values.quota));
    }
    let status = match (item_id, quota) {
        (Some(item_id), Some(quota)) => {
            let input = AmendmentInput { reason: values.reason.clone(), changes: vec![QuotaChange { item_id, quota }] };
            match plans::amend(&state.services, &actor, id, input).await {
                Ok(_) => {
                    let to = format!("/plans/{id}#amendments");
                    return flash_to(&session, "已记录计划变更，抽查批次已调整", &to).await;
                }
                Err(e) => {
                    let status = status_of(&e);
                    errors = FieldErrors::from_refusal(e)?;
                    status
                }
            }
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let extras = DetailExtras { error: None, amend: values, amend_errors: errors };
    render_detail(&state, &session, &actor, id, extras, status).await
}

pub(super) async fn export(
    State(state): State<AppState>,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let v = plans::get(&state.services, &actor, id_of(&id, "计划")?).await?;
    let bytes = annex1_xlsx(&state.services, &v).await?;
    let (name, ascii) = crate::api::plans::annex1_file_names(&v);
    Ok(xlsx_response(bytes, &name, &ascii))
}
