//! 国家平台报送 (e-CQS): the page of a plan's national data exchange — what is due with its
//! deadline, the day's files to download (JSON and Excel, served by the API routes, which take the
//! session too), the explicit 标记已报送 of a day's file (with confirmation), and the files marked.
//!
//! Downloading does not mark: a clerk downloads, copies into e-CQS, checks, and only then marks —
//! the mark carries the hash of the file shown on the page, and is refused when the rows changed
//! since (`choucha_service::national_export`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::{get, post};
use choucha_domain::national_export::ExportKind;
use choucha_service::national_export::{self as national, MarkInput, NationalDue};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Page;
use crate::error::{PageForm, PageResult};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::plans::id_of;
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{id}/national-export", get(page))
        .route("/plans/{id}/national-export/{kind}/mark", post(mark))
}

/// One kind's file of the chosen day, as the page offers it.
pub struct DayFile {
    pub kind: ExportKind,
    pub label: String,
    pub rows: usize,
    pub content_sha256: String,
    pub may_mark: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/national_export.html")]
pub struct NationalPage {
    pub chrome: Chrome,
    pub n: NationalDue,
    pub day: NaiveDate,
    pub files: Vec<DayFile>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    day: Option<String>,
}

async fn page(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    Query(q): Query<DayQuery>,
) -> PageResult<NationalPage> {
    let id = id_of(&id, "抽查计划")?;
    let s = &st.services;
    let n = national::due(s, &a, id).await?;
    let day = national::day_or_today(s, q.day.as_deref())?;
    let mut files = Vec::new();
    for k in n.kinds.iter().filter(|k| k.visible) {
        let f = national::export(s, &a, id, k.kind, day).await?;
        files.push(DayFile {
            kind: k.kind,
            label: k.kind_label.clone(),
            rows: f.row_count,
            content_sha256: f.content_sha256,
            may_mark: k.may_mark,
        });
    }
    Ok(NationalPage { chrome: chrome(&session, Some(&a), "plans").await, n, day, files })
}

#[derive(Debug, Deserialize)]
pub struct MarkForm {
    day: String,
    content_sha256: String,
}

async fn mark(
    Page { state: st, session, actor: a }: Page,
    PagePath((id, kind)): PagePath<(String, String)>,
    PageForm(f): PageForm<MarkForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽查计划")?;
    let back = format!("/plans/{id}/national-export?day={}", f.day.trim());
    let outcome = match national::kind_of(&kind) {
        Ok(kind) => {
            let input = MarkInput { day: f.day.clone(), content_sha256: f.content_sha256 };
            national::mark(&st.services, &a, id, kind, input).await
        }
        Err(e) => Err(e),
    };
    crate::pages::respond::done(&session, outcome, &back, |m| {
        format!("已将{}的{}条{}标记为已报送国家平台", m.day, m.marked, m.kind.label())
    })
    .await
}
