//! 质量分析: the written part of a plan's quality analysis. The custodian of a testing institution
//! of the plan writes its part (问题分析、原因分析、改进建议), saves drafts and submits it; the
//! organising bureau sees each institution's status and submitted text and may send one back with
//! a reason. Everything is checked in `choucha_service::analysis_texts`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use choucha_service::analysis_texts::{self as texts, AnalysisTextInput, AnalysisTextView};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Page;
use crate::error::{PageForm, PageResult};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::plans::id_of;
use crate::pages::respond::done;
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{id}/analysis", get(page).post(save))
        .route("/plans/{id}/analysis/{org}/send-back", post(send_back))
}

#[derive(Template, WebTemplate)]
#[template(path = "analysis/page.html")]
pub struct AnalysisPage {
    pub chrome: Chrome,
    pub plan_id: i64,
    pub plan_title: String,
    /// The caller's institution's part (a custodian of a testing institution).
    pub mine: Option<AnalysisTextView>,
    /// Every institution's part (the organising bureau).
    pub parts: Vec<AnalysisTextView>,
}

async fn page(Page { state: st, session, actor: a }: Page, PagePath(id): PagePath<String>) -> PageResult<AnalysisPage> {
    let id = id_of(&id, "计划")?;
    let s = &st.services;
    let (mine, parts) = match texts::of_plan(s, &a, id).await {
        Ok(parts) => (None, parts),
        Err(choucha_service::ServiceError::Forbidden(_)) => (Some(texts::mine(s, &a, id).await?), Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let plan = choucha_service::plans::get(s, &a, id).await?;
    Ok(AnalysisPage {
        plan_id: id,
        plan_title: plan.title,
        mine,
        parts,
        chrome: chrome(&session, Some(&a), "plans").await,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct TextForm {
    #[serde(default)]
    problems: String,
    #[serde(default)]
    causes: String,
    #[serde(default)]
    suggestions: String,
    /// "1": submit to the organising bureau; otherwise a draft.
    #[serde(default)]
    submit: String,
}

async fn save(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<TextForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let submit = f.submit == "1";
    let input = AnalysisTextInput { problems: f.problems, causes: f.causes, suggestions: f.suggestions, submit };
    done(&session, texts::save(&st.services, &a, id, input).await, &format!("/plans/{id}/analysis"), |_| {
        if submit { "已提交组织部门" } else { "草稿已保存" }
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn send_back(
    Page { state: st, session, actor: a }: Page,
    PagePath((id, org)): PagePath<(String, String)>,
    PageForm(f): PageForm<ReasonForm>,
) -> PageResult<Response> {
    let (id, org) = (id_of(&id, "计划")?, id_of(&org, "机构")?);
    let r = texts::send_back(&st.services, &a, id, org, &f.reason).await;
    done(&session, r, &format!("/plans/{id}/analysis"), |_| "已退回该机构修改").await
}
