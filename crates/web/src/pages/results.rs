//! 结果送达: the deliveries of issued reports (rules 16 and 17) for the testing institution's
//! sample custodian and the organising bureau — what each recipient must receive and by when, the
//! overdue ones first to hand, and a form to record a delivery (in person with the receiver's
//! signature on the screen, or by EMS). Everything is checked in `choucha_service::results`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::results::DeliveryState;
use choucha_domain::results::ObjectionState;
use choucha_domain::retest::ConfirmationState;
use choucha_service::Actor;
use choucha_service::objections::{self, DecisionInput, ObjectionInput, ObjectionView, OwnResult};
use choucha_service::results::{self, DeliveryInput, DeliveryQuery, DeliveryView};
use chrono::NaiveDate;
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{Page, PageActor};
use crate::error::{PageForm, PageResult};
use crate::extract::PagePath;
use crate::pages::plans::id_of;
use crate::pages::respond::{done, not_done};
use crate::pages::users::query_string;
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/results", get(list))
        .route("/results/{id}", post(record))
        .route("/results/reports/{id}/result-notice.pdf", get(notice_pdf))
        .route("/results/objections/{id}/decision", post(decide))
        .route("/my/results", get(mine))
        .route("/my/results/{id}/objections", post(object).layer(DefaultBodyLimit::max(OBJECTION_UPLOAD_MAX)))
        .route("/results/objections/{id}/attachments/{sha}", get(attachment))
        .route("/my/results/{id}/report.pdf", get(my_report))
        .route("/my/results/{id}/result-notice.pdf", get(my_notice))
        .route("/my/results/{id}/improvement-letter.pdf", get(my_letter))
        .route("/my/retests/{id}/report.pdf", get(my_retest_report))
}

/// Who has the 结果送达 page: custodians and bureau staff.
pub fn has_results(actor: &Actor) -> bool {
    actor.may(Action::ViewDeliveries)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "results/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub items: Vec<DeliveryView>,
    /// open | pending | sent | received | all | overdue
    pub filter: String,
    pub today: String,
    pub next_href: Option<String>,
    /// Objections and re-test requests awaiting the bureau (regulators).
    pub objections: Vec<ObjectionView>,
}

async fn list(Page { state: st, session, actor: a }: Page, Query(q): Query<ListQuery>) -> PageResult<ListPage> {
    let overdue = q.overdue.as_deref() == Some("1");
    let state = q.state.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into());
    let p = results::list(
        &st.services,
        &a,
        DeliveryQuery { state: Some(state.clone()), overdue: Some(overdue), cursor: q.cursor.clone(), limit: Some(30) },
    )
    .await?;
    let filter = if overdue { "overdue".to_string() } else { state.clone() };
    let objections = if a.may(Action::ListObjections) && a.org_id.is_some() {
        objections::of_bureau(&st.services, &a, Some(ObjectionState::Pending), None, Some(100)).await?.items
    } else {
        Vec::new()
    };
    Ok(ListPage {
        next_href: p.next.map(|c| {
            format!(
                "/results{}",
                query_string(&[
                    ("state", Some(state.as_str())),
                    ("overdue", overdue.then_some("1")),
                    ("cursor", Some(c.as_str()))
                ])
            )
        }),
        items: p.items,
        objections,
        filter,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), "results").await,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DeliveryForm {
    #[serde(default)]
    method: String,
    #[serde(default)]
    tracking_no: String,
    #[serde(default)]
    sent_on: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    receiver_name: String,
    #[serde(default)]
    receiver_signature_png_base64: String,
    #[serde(default)]
    note: String,
}

fn date(s: &str) -> Result<Option<NaiveDate>, String> {
    match s.trim() {
        "" => Ok(None),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d").map(Some).map_err(|_| format!("日期“{t}”格式不正确")),
    }
}

async fn record(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<DeliveryForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "送达记录")?;
    let back = "/results";
    let (sent_on, received_on) = match (date(&f.sent_on), date(&f.received_on)) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(m), _) | (_, Err(m)) => return not_done(&session, &m, back).await,
    };
    let input = DeliveryInput {
        method: f.method,
        tracking_no: f.tracking_no,
        sent_on,
        received_on,
        receiver_name: f.receiver_name,
        receiver_signature_png_base64: f.receiver_signature_png_base64,
        note: f.note,
    };
    done(&session, results::record_delivery(&st.services, &a, id, input).await, back, |d| {
        format!("已登记：{}（{}）{}", d.recipient_name, d.recipient_label, d.state_label)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    to: Option<String>,
}

/// The result notice of an issued report, to the enterprise or the nominal producer.
async fn notice_pdf(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let pdf = results::result_notice_pdf(&st.services, &a, id, q.to.as_deref()).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("result-notice-{id}.pdf")))
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn decide(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<DecisionForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "申请")?;
    let input = DecisionInput { accept: f.decision == "accept", reason: f.reason };
    done(&session, objections::decide(&st.services, &a, id, input).await, "/results", |o| {
        format!("{}：{}", o.kind_label, o.state_label)
    })
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "results/mine.html")]
pub struct MinePage {
    pub chrome: Chrome,
    pub results: Vec<OwnResult>,
    /// Sample confirmations asked of this enterprise as a nominal producer (rule 23).
    pub confirmations: Vec<choucha_service::confirmations::ConfirmationView>,
    pub today: String,
}

/// The enterprise's own results (only its own: the service finds them by the user's enterprise).
async fn mine(State(st): State<AppState>, session: Session, PageActor(a): PageActor) -> PageResult<MinePage> {
    let results = objections::my_results(&st.services, &a).await?;
    let confirmations = choucha_service::confirmations::list(&st.services, &a, &[], None, Some(50)).await?.items;
    Ok(MinePage {
        results,
        confirmations,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), "my_results").await,
    })
}

/// The objection form: `kind`, one `items` field per ticked item, `reason`.
/// An objection's form: its fields and up to five attachments of 20 MB.
const OBJECTION_UPLOAD_MAX: usize = 5 * choucha_service::disposal::PROOF_MAX * 4 / 3 + 64 * 1024;

async fn object(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let form = match crate::pages::respond::read_form(multipart, &["attachments"], "附件").await {
        Ok(f) => f,
        Err(msg) => return crate::pages::respond::flash_to(&session, &msg, "/my/results").await,
    };
    let pairs = &form.texts;
    let value = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let input = ObjectionInput {
        kind: value("kind"),
        items: pairs.iter().filter(|(n, _)| n == "items").map(|(_, v)| v.clone()).collect(),
        reason: value("reason"),
        attachments: form
            .files
            .iter()
            .filter(|f| f.field == "attachments" && !f.bytes.is_empty())
            .map(|f| choucha_service::disposal::FileInput {
                file_name: f.file_name.clone(),
                content_type: f.content_type.clone(),
                data_base64: f.base64(),
            })
            .collect(),
    };
    done(&session, objections::file(&st.services, &a, id, input).await, "/my/results", |o| {
        format!("已提交{}，{}", o.kind_label, o.state_label)
    })
    .await
}

/// An objection's attachment, for the enterprise that filed it and the organising bureau.
async fn attachment(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath((id, sha)): PagePath<(String, String)>,
) -> PageResult<Response> {
    let id = id_of(&id, "申请")?;
    let (f, bytes) = objections::attachment(&st.services, &a, id, &sha).await?;
    Ok(crate::api::disposals::file_response(f, bytes))
}

async fn my_report(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let pdf = objections::my_report_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("report-{id}.pdf")))
}

async fn my_notice(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let pdf = objections::my_result_notice_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("result-notice-{id}.pdf")))
}

async fn my_letter(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let pdf = objections::my_improvement_letter_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("improvement-letter-{id}.pdf")))
}

async fn my_retest_report(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "复检")?;
    let (no, pdf) = choucha_service::retests::report_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("{no}.pdf")))
}
