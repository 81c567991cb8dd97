//! 样品处置 pages (rule 19): the due and overdue disposals for the testing institution's custodian
//! and the organising bureau, with a form to record one (method, recipient, proof). Everything is
//! checked in `choucha_service::disposal`. The provincial disposal rules are set on the rules page
//! of `pages::cases`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::disposal::DisposalState;
use choucha_service::Actor;
use choucha_service::disposal::{self, DisposalInput, DisposalQuery, DisposalView, FileInput};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::AppState;
use crate::api::disposals::file_response;
use crate::auth::{Page, PageActor};
use crate::error::PageResult;
use crate::extract::PagePath;
use crate::pages::plans::id_of;
use crate::pages::respond::{done, not_done, read_form};
use crate::pages::users::query_string;
use crate::pages::{Chrome, chrome};

/// The body limit of the forms that carry a file (a disposal's proof, a case's document).
pub(crate) const UPLOAD_MAX: usize = 2 * disposal::PROOF_MAX;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/disposals", get(disposals))
        .route("/disposals/{id}", post(record_disposal).layer(DefaultBodyLimit::max(UPLOAD_MAX)))
        .route("/disposals/{id}/proof", get(disposal_proof))
}

/// Who has the 样品处置 page: custodians, the organising bureau's regulators, admins.
pub fn has_disposals(actor: &Actor) -> bool {
    actor.may(Action::ViewDisposals)
}

/// A multipart form read whole: its text fields and its one `file` (none when the input is left empty).
pub(crate) async fn read_multipart(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Vec<(String, String)>, Option<FileInput>), String> {
    let mut form = read_form(multipart, &["file"], "文件").await?;
    let file = form.take_file("file").filter(|f| !f.bytes.is_empty()).map(|f| FileInput {
        data_base64: f.base64(),
        file_name: f.file_name,
        content_type: f.content_type,
    });
    Ok((form.texts, file))
}

/// The next page of a filtered list.
pub(crate) fn next_of(base: &str, filter: &str, next: Option<String>) -> Option<String> {
    next.map(|c| format!("{base}{}", query_string(&[("filter", Some(filter)), ("cursor", Some(c.as_str()))])))
}

pub(crate) fn field(fields: &[(String, String)], k: &str) -> String {
    fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

pub(crate) fn date_field(fields: &[(String, String)], k: &str) -> Result<Option<NaiveDate>, String> {
    match field(fields, k).as_str() {
        "" => Ok(None),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d").map(Some).map_err(|_| format!("日期“{t}”格式不正确")),
    }
}

// ---- 样品处置 ------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub(crate) filter: Option<String>,
    #[serde(default)]
    pub(crate) cursor: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "disposals/list.html")]
pub struct DisposalsPage {
    pub chrome: Chrome,
    pub items: Vec<DisposalView>,
    pub filter: String,
    pub today: String,
    pub next_href: Option<String>,
}

async fn disposals(
    Page { state: st, session, actor: a }: Page,
    Query(q): Query<ListQuery>,
) -> PageResult<DisposalsPage> {
    let filter = q.filter.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| "due".into());
    let p = disposal::list(
        &st.services,
        &a,
        DisposalQuery { filter: Some(filter.clone()), cursor: q.cursor.clone(), limit: Some(30) },
    )
    .await?;
    Ok(DisposalsPage {
        next_href: next_of("/disposals", &filter, p.next),
        items: p.items,
        filter,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), "disposals").await,
    })
}

async fn record_disposal(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品处置")?;
    let back = "/disposals";
    let (fields, file) = match read_multipart(multipart).await {
        Ok(x) => x,
        Err(m) => return not_done(&session, &m, back).await,
    };
    let disposed_on = match date_field(&fields, "disposed_on") {
        Ok(d) => d,
        Err(m) => return not_done(&session, &m, back).await,
    };
    let input = DisposalInput {
        method: field(&fields, "method"),
        recipient: field(&fields, "recipient"),
        note: field(&fields, "note"),
        disposed_on,
        proof: file,
        recipient_signature_png_base64: field(&fields, "recipient_signature_png_base64"),
        witness_name: field(&fields, "witness_name"),
    };
    done(&session, disposal::record(&st.services, &a, id, input).await, back, |d| {
        format!("已登记处置：{}（{}）{}", d.product, d.portion_label, d.method_label)
    })
    .await
}

async fn disposal_proof(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品处置")?;
    let (f, bytes) = disposal::proof(&st.services, &a, id).await?;
    Ok(file_response(f, bytes))
}
