//! Plan pages (抽查计划): the list with year/state filters, the new/edit form with its Annex 1
//! items, the plan page with the Annex 1 table as the notice prints it (merged 抽查批次 and 序号
//! cells, 合计 row), issuing, closing and amending, the XLSX export and the Annex 1 import. Every
//! rule lives in `choucha_service::plans`; these handlers translate forms and show its messages.

mod detail;
mod form;
mod import;
mod list;

pub use detail::*;
pub use form::*;
pub use import::*;
pub use list::*;

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::plan::PlanState;
use choucha_service::access::Ask;
use choucha_service::draws::{self, DrawView};
use choucha_service::organisations::OrgFilter;
use choucha_service::plans::{
    self, AmendmentInput, ItemInput, ItemView, PlanDraft, PlanInput, PlanQuery, PlanSummary, PlanView, QuotaChange,
};
use choucha_service::{Actor, ServiceError, Services, organisations};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::api::plans::{Annex1Problem, annex1_items, annex1_xlsx, xlsx_response};
use crate::auth::{Page, PageActor};
use crate::error::{PageError, PageForm, PageResult, body_of, error_page, status_of};
use crate::extract::{MultipartForm, PagePath};
use crate::filters;
use crate::pages::respond::{done_or_again, flash_to};
use crate::pages::users::{FieldErrors, FormData, query_string};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list))
        .route("/plans/new", get(new_form).post(create))
        .route("/plans/import", get(import_page).post(import_upload))
        .route("/plans/{id}", get(detail))
        .route("/plans/{id}/edit", get(edit_form).post(update))
        .route("/plans/{id}/issue", post(issue))
        .route("/plans/{id}/close", post(close))
        .route("/plans/{id}/delete", post(delete))
        .route("/plans/{id}/amend", post(amend))
        .route("/plans/{id}/annex1.xlsx", get(export))
}

/// A path id; anything else is "not found" (as for an id that does not exist).
pub fn id_of(raw: &str, what: &'static str) -> Result<i64, PageError> {
    raw.parse().map_err(|_| PageError(ServiceError::NotFound(what)))
}

/// Whether to offer the organising bureau's buttons. Only a hint for the page: the service
/// decides, and refuses with its own message.
pub fn manages(actor: &Actor, organising_org_id: i64) -> bool {
    actor.to_plan(organising_org_id).may(Action::ManagePlan)
}

/// One row of the Annex 1 table with the height of its merged 序号 cell (two products may share a
/// number, as 食品接触用纸制品/塑料制品 under 6 in the Shanxi notice). The 抽查批次 cell uses the
/// item's own `group_first` / `group_rows`.
pub struct Annex1Line {
    pub item: ItemView,
    pub number_first: bool,
    pub number_rows: usize,
    /// The state of the item's newest implementation rules, in Chinese.
    pub rules_label: String,
}

pub fn annex1_lines(items: &[ItemView]) -> Vec<Annex1Line> {
    let mut out = Vec::with_capacity(items.len());
    let mut i = 0;
    while i < items.len() {
        let mut j = i + 1;
        while j < items.len() && !items[i].number.trim().is_empty() && items[j].number == items[i].number {
            j += 1;
        }
        for (k, item) in items[i..j].iter().enumerate() {
            out.push(Annex1Line {
                item: item.clone(),
                number_first: k == 0,
                number_rows: j - i,
                rules_label: rules_state_label(&item.rules_state),
            });
        }
        i = j;
    }
    out
}

/// The badge class of a plan state.
pub fn plan_badge(state: &PlanState) -> &'static str {
    match state {
        PlanState::Draft => "warn",
        PlanState::Issued => "ok",
        PlanState::Closed => "",
    }
}

/// The label of a rules state code (the newest version of an item).
pub fn rules_state_label(state: &Option<choucha_domain::implementation_rules::RulesState>) -> String {
    match state {
        None => "未提交".to_string(),
        Some(s) => s.label().to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Import of Annex 1
