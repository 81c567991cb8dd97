//! The enterprise registry pages (检查对象名录库): the searchable list with keyset pages, an entry,
//! the new/edit form, the import (upload, then a progress page polled by htmx every second until
//! the report is ready) and the XLSX downloads. The same use cases as the API.

mod form;
mod import;
mod list;

pub use form::*;
pub use import::*;
pub use list::*;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Extension, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use choucha_domain::access::Action;
use choucha_domain::enterprise::{EnterpriseDraft, EnterpriseKind, EnterpriseStatus, KindSet, SizeClass};
use choucha_service::registry::{self, EnterpriseView, RegistryQuery};
use choucha_service::registry_import::{
    self, COLUMNS, ImportJobState, ImportJobView, ImportReport, OnExisting, RowError,
};
use choucha_service::{Actor, ServiceError};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::api::registry::{read_upload, xlsx_download};
use crate::auth::{Page, PageActor};
use crate::error::{PageError, PageForm, PageResult, body_of, error_page, status_of};
use crate::extract::PagePath;
#[allow(unused_imports)]
use crate::filters;
use crate::pages::respond::flash_to;
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/registry", get(list))
        .route("/registry/export.xlsx", get(export))
        .route("/registry/import-template.xlsx", get(template))
        .route("/registry/new", get(new_form).post(create))
        .route("/registry/import", get(import_page).post(import_upload).layer(DefaultBodyLimit::disable()))
        .route("/registry/import/{job}", get(import_job))
        .route("/registry/import/{job}/status", get(import_status))
        .route("/registry/{id}", get(detail))
        .route("/registry/{id}/edit", get(edit_form).post(update))
        // The imports this server runs, polled by their pages.
        .layer(Extension(registry_import::ImportJobs::default()))
}

/// A value of a select, radio or checkbox.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn kind_choices(selected: &[String]) -> Vec<Choice> {
    EnterpriseKind::ALL
        .into_iter()
        .map(|k| Choice { value: k.as_str(), label: k.label(), selected: selected.iter().any(|s| s == k.as_str()) })
        .collect()
}

fn size_choices(selected: &str) -> Vec<Choice> {
    SizeClass::ALL
        .into_iter()
        .map(|s| Choice { value: s.as_str(), label: s.label(), selected: s.as_str() == selected })
        .collect()
}

fn status_choices(selected: &str) -> Vec<Choice> {
    EnterpriseStatus::ALL
        .into_iter()
        .map(|s| Choice { value: s.as_str(), label: s.label(), selected: s.as_str() == selected })
        .collect()
}

fn id_of(id: &str) -> Result<i64, PageError> {
    id.parse().map_err(|_| PageError(ServiceError::NotFound("企业")))
}

fn encode_query(q: &RegistryQuery, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (k, v) in [("q", &q.q), ("division", &q.division), ("kind", &q.kind), ("status", &q.status)] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            pairs.push((k, v));
        }
    }
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() { path.to_string() } else { format!("{path}?{query}") }
}

#[derive(Template, WebTemplate)]
#[template(path = "registry/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub e: EnterpriseView,
    pub can_edit: bool,
}

async fn detail(Page { state, session, actor }: Page, PagePath(id): PagePath<String>) -> PageResult<DetailPage> {
    let e = registry::get(&state.services, &actor, id_of(&id)?).await?;
    Ok(DetailPage {
        e,
        can_edit: actor.may(Action::EditRegistry),
        chrome: chrome(&session, Some(&actor), "registry").await,
    })
}

// ---------------------------------------------------------------------------------------------
// Import
