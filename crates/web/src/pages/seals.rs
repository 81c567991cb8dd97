//! An institution's seals (`/admin/orgs/{id}/seals`): the system administrator uploads the 检验检测
//! 专用章 and 公章 as PNG images (transparent background); the system places the 检验检测专用章 on
//! the institution's issued reports.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::response::Response;
use axum::routing::{get, post};
use choucha_service::organisations::{self, OrgView};
use choucha_service::seals::{self, SealView};

use crate::AppState;
use crate::auth::Page;
use crate::error::PageResult;
use crate::extract::{MultipartForm, PagePath};
use crate::filters;
use crate::pages::respond::{done, flash_to};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs/{id}/seals", get(page).post(upload))
        .route("/admin/orgs/{id}/seals/{kind}/delete", post(remove))
}

/// One kind of seal, stored or not.
pub struct SealSlot {
    pub kind: &'static str,
    pub label: &'static str,
    pub stored: Option<SealView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/seals.html")]
pub struct SealsPage {
    pub chrome: Chrome,
    pub org: OrgView,
    pub slots: Vec<SealSlot>,
}

async fn page(Page { state, session, actor }: Page, PagePath(id): PagePath<i64>) -> PageResult<SealsPage> {
    let s = &state.services;
    let stored = seals::list(s, &actor, id).await?;
    let org = organisations::get(s, &actor, id).await?;
    let slots = seals::KINDS
        .iter()
        .map(|(kind, label)| SealSlot { kind, label, stored: stored.iter().find(|v| v.kind == *kind).cloned() })
        .collect();
    Ok(SealsPage { org, slots, chrome: chrome(&session, Some(&actor), "orgs").await })
}

async fn upload(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let back = format!("/admin/orgs/{id}/seals");
    let Ok(mp) = multipart else { return flash_to(&session, "请选择印章图片后上传", &back).await };
    let mut form = match MultipartForm::read(mp, &["file"]).await {
        Ok(f) => f,
        Err(p) => return flash_to(&session, &p.for_page("印章图片"), &back).await,
    };
    let kind = form.text("kind").unwrap_or_default().to_owned();
    let bytes = form.take_file("file").map(|f| f.bytes).unwrap_or_default();
    let stored = seals::store_file(&state.services, &actor, id, &kind, &bytes).await;
    done(&session, stored, &back, |_| "印章已保存：签发报告时系统自动加盖检验检测专用章").await
}

async fn remove(
    Page { state, session, actor }: Page,
    PagePath((id, kind)): PagePath<(i64, String)>,
) -> PageResult<Response> {
    let back = format!("/admin/orgs/{id}/seals");
    done(&session, seals::remove(&state.services, &actor, id, &kind).await, &back, |()| "印章已删除").await
}
