//! Random draw pages (双随机, DESIGN.md rule 4): the organising bureau's draw page of an item at
//! `/items/{id}/draw` (registry filters, preview with candidates and the exclusions of rules 5 and
//! 22, seed shown before drawing, quota, strata, team size) and the draw record at `/draws/{id}`
//! (seed, algorithm, candidate count and hash, exclusions, drawn enterprises with their teams and
//! tasks, 复核, 公开, and 重新抽取 of an enterprise that cannot be sampled). The draw itself is
//! `choucha_service::draws`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_domain::draw::risk::{self, RiskClass, RiskWeights};
use choucha_domain::enterprise::{EnterpriseKind, EnterpriseStatus, SizeClass};
use choucha_domain::plan::PlanState;
use choucha_domain::sampling::TaskState;
use choucha_service::draws::{
    self, DrawFilters, DrawPreview, DrawRequest, DrawVerification, DrawView, Exclusion, RedrawRequest,
    SeedCommitmentView,
};
use choucha_service::plans::ItemView;
use choucha_service::{Actor, ServiceError};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::Page;
use crate::error::{PageForm, PageResult, body_of, status_of};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::plans::{id_of, manages};
use crate::pages::respond::{done, done_or_again, flash_to, shown_on_page};
use crate::pages::users::{FieldErrors, FormData};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/items/{id}/draw", get(draw_page).post(run))
        .route("/items/{id}/seed-commitment", post(commit_seed))
        .route("/draws/{id}", get(record))
        .route("/draws/{id}/publish", post(publish))
        .route("/draws/{id}/redraw", post(redraw))
}

// ---------------------------------------------------------------------------------------------
// Shared with the public page

/// The rule an exclusion names, in Chinese.
pub fn exclusion_rule(code: &str) -> &'static str {
    if code.starts_with("rule5") {
        "规则5：每家企业批次限制"
    } else if code.starts_with("rule22") {
        "规则22：不重复抽查"
    } else {
        "其他"
    }
}

pub struct ExclusionLine {
    pub uscc: String,
    pub name: String,
    pub rule: &'static str,
    pub reason: String,
}

pub fn exclusion_lines(ex: &[Exclusion]) -> Vec<ExclusionLine> {
    ex.iter()
        .map(|e| ExclusionLine {
            uscc: e.uscc.clone(),
            name: e.name.clone(),
            rule: exclusion_rule(&e.rule),
            reason: e.reason.clone(),
        })
        .collect()
}

/// A recorded filter of a draw, in Chinese.
pub struct FilterLine {
    pub label: &'static str,
    pub value: String,
}

pub fn filter_lines(f: &serde_json::Value) -> Vec<FilterLine> {
    let mut out = Vec::new();
    let text = |k: &str| f[k].as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(d) = text("division") {
        out.push(FilterLine { label: "行政区划代码（前缀）", value: d });
    }
    if let Some(kinds) = f["kinds"].as_array() {
        let labels: Vec<&str> = kinds
            .iter()
            .filter_map(|k| k.as_str())
            .map(|k| EnterpriseKind::ALL.into_iter().find(|e| e.as_str() == k).map(|e| e.label()).unwrap_or(k))
            .collect();
        out.push(FilterLine { label: "企业类型", value: labels.join("、") });
    }
    if let Some(s) = text("status") {
        out.push(FilterLine {
            label: "经营状态",
            value: s.parse::<EnterpriseStatus>().map(|s| s.label().to_string()).unwrap_or(s),
        });
    }
    if let Some(s) = text("size_class") {
        out.push(FilterLine {
            label: "企业规模",
            value: s.parse::<SizeClass>().map(|s| s.label().to_string()).unwrap_or(s),
        });
    }
    if let Some(p) = text("product_line") {
        out.push(FilterLine { label: "生产/经营产品包含", value: p });
    }
    out
}

/// The badge colour of a task's state on lists.
pub fn task_badge(s: TaskState) -> &'static str {
    match s {
        TaskState::Sampled => "ok",
        TaskState::Refused | TaskState::Problem | TaskState::NotSampled => "bad",
        TaskState::InProgress | TaskState::RefusalPending => "warn",
        TaskState::Assigned => "",
    }
}

// ---------------------------------------------------------------------------------------------
// The draw page of an item

/// A value of a select.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct FilterValues {
    #[serde(default)]
    pub division: String,
    /// Absent on a first visit (the item's product is then shown and used); empty: every product line.
    #[serde(default)]
    pub product_line: Option<String>,
    #[serde(default)]
    pub size_class: String,
    #[serde(default)]
    pub status: String,
}

impl FilterValues {
    pub fn product_line_value(&self) -> &str {
        self.product_line.as_deref().unwrap_or_default()
    }

    fn filters(&self) -> DrawFilters {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        DrawFilters {
            division: opt(&self.division),
            product_line: self.product_line.as_ref().map(|s| s.trim().to_string()),
            size_class: opt(&self.size_class),
            status: opt(&self.status),
            scopes: None,
        }
    }

    fn of(f: &FormData) -> FilterValues {
        FilterValues {
            division: f.get("division"),
            product_line: Some(f.get("product_line")),
            size_class: f.get("size_class"),
            status: f.get("status"),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct DrawValues {
    pub quota: String,
    pub seed: String,
    pub stratified: bool,
    pub team_size: String,
    /// Weighted by risk class, with these weights (A–D) as typed.
    pub risk: bool,
    pub weights: Vec<WeightValue>,
}

/// One risk class's weight on the draw form.
#[derive(Debug, Clone)]
pub struct WeightValue {
    pub code: &'static str,
    pub label: &'static str,
    pub value: String,
}

fn default_weight_values() -> Vec<WeightValue> {
    let w = risk::default_weights();
    RiskClass::ALL
        .into_iter()
        .map(|k| WeightValue { code: k.as_str(), label: k.label(), value: w.get(&k).copied().unwrap_or(0).to_string() })
        .collect()
}

/// The typed weights, or the message for the form.
fn weights_of(values: &[WeightValue]) -> Result<RiskWeights, String> {
    let mut out = RiskWeights::new();
    for (k, v) in RiskClass::ALL.into_iter().zip(values) {
        match v.value.trim().parse::<u32>() {
            Ok(n) if n <= risk::MAX_WEIGHT => {
                out.insert(k, n);
            }
            _ => return Err(format!("{}的权重“{}”应为0至{}的整数", k.label(), v.value.trim(), risk::MAX_WEIGHT)),
        }
    }
    Ok(out)
}

#[derive(Template, WebTemplate)]
#[template(path = "draws/draw.html")]
pub struct DrawPage {
    pub chrome: Chrome,
    pub plan_id: i64,
    pub plan_title: String,
    pub item: ItemView,
    pub f: FilterValues,
    pub sizes: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub preview: Option<DrawPreview>,
    pub exclusions: Vec<ExclusionLine>,
    pub preview_error: Option<String>,
    pub v: DrawValues,
    pub errors: FieldErrors,
    /// The seed commitment the next draw uses (its seed stays secret until then).
    pub commitment: Option<SeedCommitmentView>,
}

/// The draw form as typed (`v: None` proposes values from the preview) and its problems.
pub struct DrawForm {
    pub f: FilterValues,
    pub v: Option<DrawValues>,
    pub errors: FieldErrors,
}

async fn render_draw(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    item_id: i64,
    DrawForm { mut f, v, errors }: DrawForm,
    status: StatusCode,
) -> PageResult<Response> {
    let s = &state.services;
    // The preview checks that the caller organises the plan: everyone else stops here.
    let (preview, preview_error) = match draws::preview(s, actor, item_id, &f.filters()).await {
        Ok(p) => (Some(p), None),
        Err(e) if shown_on_page(&e) => (None, Some(body_of(&e).message)),
        Err(e) => return Err(e.into()),
    };
    let (plan, item) = choucha_service::plans::get_item(s, actor, item_id).await?;
    let commitment =
        if preview.is_some() { draws::open_commitment(s, actor, item_id).await.ok().flatten() } else { None };
    if f.product_line.is_none() {
        f.product_line = Some(item.product.clone());
    }
    let v = v.unwrap_or_else(|| {
        let quota = preview.as_ref().map(|p| p.remaining_quota.min(p.candidate_count as i64)).filter(|q| *q > 0);
        DrawValues {
            quota: quota.map(|q| q.to_string()).unwrap_or_default(),
            seed: match (&commitment, &preview) {
                (Some(_), _) => String::new(),
                (None, Some(p)) => p.proposed_seed.clone(),
                (None, None) => draws::propose_seed(s),
            },
            stratified: false,
            team_size: draws_min_team().to_string(),
            risk: false,
            weights: default_weight_values(),
        }
    });
    let page = DrawPage {
        plan_id: plan.id,
        plan_title: plan.title,
        sizes: SizeClass::ALL
            .into_iter()
            .map(|c| Choice { value: c.as_str(), label: c.label(), selected: f.size_class == c.as_str() })
            .collect(),
        statuses: EnterpriseStatus::ALL
            .into_iter()
            .map(|c| Choice { value: c.as_str(), label: c.label(), selected: f.status == c.as_str() })
            .collect(),
        exclusions: preview.as_ref().map(|p| exclusion_lines(&p.exclusions)).unwrap_or_default(),
        preview,
        preview_error,
        item,
        f,
        v,
        errors,
        commitment,
        chrome: chrome(session, Some(actor), "plans").await,
    };
    Ok((status, page).into_response())
}

/// Samplers per team at least (DESIGN.md rule 2).
fn draws_min_team() -> usize {
    choucha_domain::draw::MIN_TEAM
}

async fn draw_page(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    Query(f): Query<FilterValues>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划条目")?;
    let form = DrawForm { f, v: None, errors: FieldErrors::default() };
    render_draw(&state, &session, &actor, id, form, StatusCode::OK).await
}

async fn run(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let item_id = id_of(&id, "计划条目")?;
    let form = FormData(pairs);
    let f = FilterValues::of(&form);
    let v = DrawValues {
        quota: form.get("quota").trim().to_string(),
        seed: form.get("seed"),
        stratified: form.checked("stratified"),
        team_size: form.get("team_size").trim().to_string(),
        risk: form.checked("risk"),
        weights: RiskClass::ALL
            .into_iter()
            .map(|k| WeightValue {
                code: k.as_str(),
                label: k.label(),
                value: form.get(&format!("risk_weight_{}", k.as_str())),
            })
            .collect(),
    };
    let mut errors = FieldErrors::default();
    let quota = v.quota.parse::<u32>().ok();
    if quota.is_none() {
        errors.add("quota", &format!("抽取数量“{}”应为正整数", v.quota));
    }
    let team_size =
        if v.team_size.is_empty() { Some(draws_min_team() as u32) } else { v.team_size.parse::<u32>().ok() };
    if team_size.is_none() {
        errors.add("team_size", &format!("每组抽样人员数“{}”应为整数（不少于2人）", v.team_size));
    }
    let risk_weights = match v.risk {
        false => Ok(None),
        true => weights_of(&v.weights).map(Some),
    };
    if let Err(m) = &risk_weights {
        errors.add("risk_weights", m);
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if let (Some(quota), Some(team_size), Ok(risk_weights)) = (quota, team_size, risk_weights) {
        let req = DrawRequest {
            item_id,
            quota,
            seed: v.seed.clone(),
            stratified: v.stratified,
            team_size: Some(team_size),
            filters: f.filters(),
            risk_weights,
        };
        match draws::run(&state.services, &actor, req).await {
            Ok(d) => {
                let message =
                    format!("随机抽取完成：从{}家候选企业中抽中{}家，已生成抽样任务", d.candidate_count, d.drawn.len());
                return flash_to(&session, &message, &format!("/draws/{}", d.id)).await;
            }
            Err(e) => {
                status = status_of(&e);
                errors = FieldErrors::from_refusal(e)?;
            }
        }
    }
    render_draw(&state, &session, &actor, item_id, DrawForm { f, v: Some(v), errors }, status).await
}

/// The organising bureau commits to the seed of the item's next draw (公示种子承诺).
async fn commit_seed(Page { state, session, actor }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let item_id = id_of(&id, "计划条目")?;
    let back = format!("/items/{item_id}/draw");
    done(&session, draws::commit_seed(&state.services, &actor, item_id).await, &back, |c| {
        format!("已公示种子承诺：SHA-256 {}。下一次抽取将使用该种子，抽取后随记录公开", c.seed_sha256)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The draw record

pub struct DrawnLine {
    pub uscc: String,
    pub name: String,
    pub division_code: String,
    /// The risk class's label, in a risk-weighted draw (else empty).
    pub risk: &'static str,
    pub team: String,
    pub task_id: Option<i64>,
    pub state: Option<TaskState>,
    pub state_label: &'static str,
    pub badge: &'static str,
    /// A redraw is possible only before sampling started.
    pub can_redraw: bool,
}

pub fn drawn_lines(d: &DrawView) -> Vec<DrawnLine> {
    d.drawn
        .iter()
        .map(|e| {
            let state = e.task_state;
            DrawnLine {
                uscc: e.uscc.clone(),
                name: e.name.clone(),
                division_code: e.division_code.clone(),
                risk: e.risk_class.map(RiskClass::label).unwrap_or(""),
                team: e.team.join("、"),
                task_id: e.task_id,
                state_label: state.map(TaskState::label).unwrap_or("—"),
                badge: state.map(task_badge).unwrap_or(""),
                can_redraw: e.task_id.is_some() && state == Some(TaskState::Assigned),
                state,
            }
        })
        .collect()
}

#[derive(Debug, Default, Clone)]
pub struct RedrawValues {
    pub task_id: String,
    pub reason: String,
    pub seed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "draws/record.html")]
pub struct RecordPage {
    pub chrome: Chrome,
    pub d: DrawView,
    pub at: chrono::DateTime<chrono::Utc>,
    pub filters: Vec<FilterLine>,
    pub exclusions: Vec<ExclusionLine>,
    pub drawn: Vec<DrawnLine>,
    pub can_manage: bool,
    pub plan_open: bool,
    pub verification: Option<DrawVerification>,
    pub error: Option<String>,
    /// The seed offered for a redraw (shown before drawing, like the first).
    pub redraw: RedrawValues,
    pub redraw_errors: FieldErrors,
}

impl RecordPage {
    /// Whether the redraw form of this task holds the values typed before a refusal.
    pub fn redraw_for(&self, task_id: &Option<i64>) -> bool {
        task_id.is_some_and(|t| self.redraw.task_id == t.to_string())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RecordQuery {
    #[serde(default)]
    verify: Option<String>,
}

struct RecordExtras {
    verify: bool,
    error: Option<String>,
    redraw: RedrawValues,
    redraw_errors: FieldErrors,
}

async fn render_record(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    id: i64,
    x: RecordExtras,
    status: StatusCode,
) -> PageResult<Response> {
    let s = &state.services;
    let d = draws::get(s, actor, id).await?;
    let verification = if x.verify { Some(draws::verify(s, id).await?) } else { None };
    let plan = choucha_service::plans::get(s, actor, d.plan_id).await.ok();
    let can_manage = plan.as_ref().is_some_and(|p| manages(actor, p.organising_org_id));
    let plan_open = plan.as_ref().is_some_and(|p| p.state == PlanState::Issued);
    let mut redraw = x.redraw;
    if redraw.seed.trim().is_empty() {
        redraw.seed = draws::propose_seed(s);
    }
    let page = RecordPage {
        at: d.created_at,
        filters: filter_lines(&d.filters),
        exclusions: exclusion_lines(&d.exclusions),
        drawn: drawn_lines(&d),
        d,
        can_manage,
        plan_open,
        verification,
        error: x.error,
        redraw,
        redraw_errors: x.redraw_errors,
        chrome: chrome(session, Some(actor), "plans").await,
    };
    Ok((status, page).into_response())
}

async fn record(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    Query(q): Query<RecordQuery>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽取记录")?;
    let x = RecordExtras {
        verify: q.verify.is_some_and(|v| !v.is_empty()),
        error: None,
        redraw: RedrawValues::default(),
        redraw_errors: FieldErrors::default(),
    };
    render_record(&state, &session, &actor, id, x, StatusCode::OK).await
}

async fn publish(Page { state, session, actor }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let id = id_of(&id, "抽取记录")?;
    let published = draws::publish(&state.services, &actor, id).await;
    done_or_again(
        &session,
        published,
        |_| (format!("/draws/{id}"), "抽取结果已向社会公开"),
        |e| {
            let x = RecordExtras {
                verify: false,
                error: Some(format!("未能公开：{}", body_of(&e).message)),
                redraw: RedrawValues::default(),
                redraw_errors: FieldErrors::default(),
            };
            render_record(&state, &session, &actor, id, x, status_of(&e))
        },
    )
    .await
}

async fn redraw(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽取记录")?;
    let f = FormData(pairs);
    let values =
        RedrawValues { task_id: f.get("task_id").trim().to_string(), reason: f.get("reason"), seed: f.get("seed") };
    let Ok(task_id) = values.task_id.parse::<i64>() else {
        return Err(ServiceError::NotFound("抽样任务").into());
    };
    let req = RedrawRequest { task_id, reason: values.reason.clone(), seed: values.seed.clone() };
    let redrawn = draws::redraw(&state.services, &actor, req).await;
    let (session, actor, state) = (&session, &actor, &state);
    done_or_again(
        session,
        redrawn,
        |d| {
            let who = d.drawn.first().map(|e| e.name.clone()).unwrap_or_default();
            (format!("/draws/{}", d.id), format!("已重新抽取，新抽中企业：{who}"))
        },
        |e| async move {
            let status = status_of(&e);
            let x = RecordExtras {
                verify: false,
                error: None,
                redraw: values,
                redraw_errors: FieldErrors::from_refusal(e)?,
            };
            render_record(state, session, actor, id, x, status).await
        },
    )
    .await
}
