//! 抽查看板: one page per plan for its organising bureau — quota progress, states, results and
//! every overdue duty with who owes it (`choucha_service::overview`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::routing::get;
use choucha_service::overview::{self, PlanOverview};

use crate::AppState;
use crate::auth::Page;
use crate::error::PageResult;
use crate::extract::PagePath;
use crate::pages::plans::id_of;
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new().route("/plans/{id}/overview", get(page))
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub o: PlanOverview,
    /// 国家平台报送: what is due for e-CQS (the bureau sees every kind).
    pub national: Option<choucha_service::national_export::NationalDue>,
}

async fn page(Page { state: st, session, actor: a }: Page, PagePath(id): PagePath<String>) -> PageResult<OverviewPage> {
    let id = id_of(&id, "抽查计划")?;
    let o = overview::plan_overview(&st.services, &a, id).await?;
    let national = choucha_service::national_export::due(&st.services, &a, id).await.ok();
    Ok(OverviewPage { o, national, chrome: chrome(&session, Some(&a), "plans").await })
}
