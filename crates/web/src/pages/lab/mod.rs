//! Pages: the laboratory. The custodian receives (accept / reject), sees the link and prints the
//! blind-code label under `/lab/incoming` and `/lab/received`; testers work by blind code under
//! `/lab/samples` (results, completion, licence check, report preparation); reviewers and approvers
//! under `/lab/reports`. Every page calls the same use cases as the API, so what a tester sees here
//! is the blind view of `choucha_service::lab`.

mod custody;
mod receipt;
mod reports;
mod samples;

pub use receipt::*;
pub use reports::*;
pub use samples::*;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::lab::{LicenceState, ReportState, SampleState};
use choucha_domain::lab::{ObservedSample, ReceiptDecision};
use choucha_service::Actor;
use choucha_service::access::Scope;
use choucha_service::lab::{
    self, AssignInput, BlindSampleSummary, BlindSampleView, Dashboard, IncomingView, LinkView, ReceiptInput,
    ReportView, ResultInput, ScreeningInput, WorklistQuery,
};
use choucha_service::lab::{ReceiptPhotoInput, SendBackInput, SignOffInput};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{Page, PageActor};
use crate::error::{PageForm, PageResult};
use crate::extract::{PagePath, StateOption};
use crate::filters;
use crate::pages::plans::id_of;
use crate::pages::respond::{done, done_to, flash_to, not_done, read_form};
use crate::pages::users::query_string;
use crate::pages::{Chrome, chrome};

/// An instrument's results sheet of one sample: small.
const RESULTS_SHEET_MAX: usize = 4 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/lab", get(dashboard))
        .route("/lab/incoming", get(incoming))
        .route(
            "/lab/incoming/{task_id}",
            get(receipt_form).post(receive).layer(DefaultBodyLimit::max(8 * lab::RECEIPT_PHOTO_MAX)),
        )
        .route("/lab/received/{id}/photos/{sha}", get(photo))
        .route("/lab/received", get(received))
        .route("/lab/received/{id}", get(link))
        .route("/lab/received/{id}/tester", post(assign))
        .route("/lab/received/{id}/custody", post(custody::move_portion))
        .route("/lab/received/{id}/hand-overs/{event}/confirm", post(custody::confirm))
        .route("/lab/received/{id}/label.pdf", get(label))
        .route("/lab/samples", get(worklist))
        .route("/lab/samples/{code}", get(sample))
        .route("/lab/samples/{code}/results", post(enter_result))
        .route(
            "/lab/samples/{code}/results/import",
            post(import_sample_results).layer(DefaultBodyLimit::max(RESULTS_SHEET_MAX)),
        )
        .route("/lab/samples/{code}/complete", post(complete))
        .route("/lab/samples/{code}/licence-check", post(licence_check))
        .route("/lab/samples/{code}/screening", post(screen))
        .route("/lab/samples/{code}/hand-overs/{id}/confirm", post(confirm_hand_over))
        .route("/lab/samples/{code}/reports", post(prepare))
        .route("/lab/reports", get(reports))
        .route("/lab/reports/{id}/review", post(review))
        .route("/lab/reports/{id}/approve", post(approve))
        .route("/lab/reports/{id}/send-back", post(send_back))
        .route("/lab/reports/{id}/report.pdf", get(report_pdf))
        .route("/lab/reports/{id}/review.pdf", get(review_pdf))
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub d: Dashboard,
    pub custodian: bool,
    pub tester: bool,
    pub approver: bool,
}

async fn dashboard(State(st): State<AppState>, session: Session, PageActor(a): PageActor) -> PageResult<DashboardPage> {
    let d = lab::dashboard(&st.services, &a).await?;
    Ok(DashboardPage {
        d,
        custodian: a.may(Action::ReceiveSample),
        tester: a.may(Action::ImportResults),
        approver: a.may(Action::ReviewQueue),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CursorQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

fn cursor_of(q: &CursorQuery) -> Option<i64> {
    q.cursor.as_deref().and_then(|c| c.trim().parse().ok())
}

/// For templates: whether the actor holds a lab role.
pub fn is_lab(actor: &Actor) -> bool {
    matches!(actor.scope_any(), Some(Scope::Institution(_))) && actor.may(Action::ViewLabBoard)
}
