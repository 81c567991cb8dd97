//! Pages: the laboratory. The custodian receives (accept / reject), sees the link and prints the
//! blind-code label under `/lab/incoming` and `/lab/received`; testers work by blind code under
//! `/lab/samples` (results, completion, licence check, report preparation); reviewers and approvers
//! under `/lab/reports`. Every page calls the same use cases as the API, so what a tester sees here
//! is the blind view of `choucha_service::lab`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::lab::{LicenceState, ReportState, SampleState};
use choucha_domain::lab::{ObservedSample, ReceiptDecision};
use choucha_service::access::Scope;
use choucha_service::lab::{
    self, AssignInput, BlindSampleSummary, BlindSampleView, Dashboard, IncomingView, LinkView, ReceiptInput,
    ReportView, ResultInput, ScreeningInput, WorklistQuery,
};
use choucha_service::lab::{ReceiptPhotoInput, SendBackInput, SignOffInput};
use choucha_service::{Actor, ServiceError};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::PageActor;
use crate::error::{PageForm, PageResult, body_of};
use crate::extract::{MultipartForm, PagePath, StateOption};
use crate::filters;
use crate::pages::plans::{id_of, shown_on_page};
use crate::pages::users::query_string;
use crate::pages::{Chrome, chrome, set_flash};

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
        .route("/lab/received/{id}/label.pdf", get(label))
        .route("/lab/samples", get(worklist))
        .route("/lab/samples/{code}", get(sample))
        .route("/lab/samples/{code}/results", post(enter_result))
        .route("/lab/samples/{code}/complete", post(complete))
        .route("/lab/samples/{code}/licence-check", post(licence_check))
        .route("/lab/samples/{code}/screening", post(screen))
        .route("/lab/samples/{code}/reports", post(prepare))
        .route("/lab/reports", get(reports))
        .route("/lab/reports/{id}/review", post(review))
        .route("/lab/reports/{id}/approve", post(approve))
        .route("/lab/reports/{id}/send-back", post(send_back))
        .route("/lab/reports/{id}/report.pdf", get(report_pdf))
}

/// A refused action goes back to the page with its message; other errors are error pages.
pub(crate) async fn back_or_error(session: &Session, e: ServiceError, to: &str) -> PageResult<Response> {
    if shown_on_page(&e) || matches!(e, ServiceError::Forbidden(_)) {
        set_flash(session, &format!("未执行：{}", body_of(&e).message)).await;
        Ok(Redirect::to(to).into_response())
    } else {
        Err(e.into())
    }
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

#[derive(Template, WebTemplate)]
#[template(path = "lab/incoming.html")]
pub struct IncomingPage {
    pub chrome: Chrome,
    pub items: Vec<IncomingView>,
    pub next_href: Option<String>,
}

async fn incoming(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    Query(q): Query<CursorQuery>,
) -> PageResult<IncomingPage> {
    let p = lab::incoming(&st.services, &a, cursor_of(&q), Some(50)).await?;
    Ok(IncomingPage {
        items: p.items,
        next_href: p.next.map(|c| format!("/lab/incoming{}", query_string(&[("cursor", Some(c.as_str()))]))),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/receipt.html")]
pub struct ReceiptPage {
    pub chrome: Chrome,
    pub i: IncomingView,
    pub test_seals: String,
    pub backup_seals: String,
    /// Now in China's time, the default of 到样时间.
    pub now_local: String,
}

async fn receipt_form(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(task_id): PagePath<String>,
) -> PageResult<ReceiptPage> {
    let task_id = id_of(&task_id, "抽样任务")?;
    let i = lab::incoming_task(&st.services, &a, task_id).await?;
    Ok(ReceiptPage {
        test_seals: i.test_seals.join("，"),
        backup_seals: i.backup_seals.join("，"),
        now_local: st.services.clock().now_beijing().format("%Y-%m-%dT%H:%M").to_string(),
        i,
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Debug, Deserialize)]
pub struct ReceiptForm {
    /// 到样时间, China's time as the browser's datetime-local input sends it (empty: now).
    #[serde(default)]
    arrived_at: String,
    #[serde(default)]
    delivered_by: String,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking_no: String,
    #[serde(default)]
    test_seals: String,
    #[serde(default)]
    backup_seals: String,
    #[serde(default)]
    test_quantity: String,
    #[serde(default)]
    backup_quantity: String,
    #[serde(default)]
    seals_intact: Option<String>,
    #[serde(default)]
    labels_match: Option<String>,
    #[serde(default)]
    appearance: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    backup_location: String,
}

fn split_list(s: &str) -> Vec<String> {
    s.split(['，', ',', '、', ' ', '\n']).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
}

/// A form with photos (multipart: its fields and the `photos` files), read whole; a field that is not a
/// photo is text, and a photo input left empty adds no photo.
pub(crate) async fn read_with_photos<F: serde::de::DeserializeOwned>(
    mp: Multipart,
) -> Result<(F, Vec<ReceiptPhotoInput>), String> {
    let form = MultipartForm::read(mp, &["photos"]).await.map_err(|p| p.for_page("照片"))?;
    let photos = form
        .files
        .iter()
        .filter(|f| !f.bytes.is_empty())
        .map(|f| ReceiptPhotoInput {
            file_name: f.file_name.clone(),
            content_type: f.content_type.clone(),
            data_base64: f.base64(),
        })
        .collect();
    Ok((form.fields_as()?, photos))
}

async fn receive(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(task_id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let task_id = id_of(&task_id, "抽样任务")?;
    let back = format!("/lab/incoming/{task_id}");
    let read = match multipart {
        Ok(mp) => read_with_photos::<ReceiptForm>(mp).await,
        Err(_) => Err("请使用页面上的表单提交".to_owned()),
    };
    let (f, photos) = match read {
        Ok(x) => x,
        Err(msg) => {
            set_flash(&session, &msg).await;
            return Ok(Redirect::to(&back).into_response());
        }
    };
    let arrived_at = match f.arrived_at.trim() {
        "" => None,
        t => match choucha_domain::sampling::parse_local_time(t) {
            Some(local) => Some(choucha_domain::sampling::local_to_utc(local)),
            None => {
                set_flash(&session, "到样时间格式不正确，请按“年-月-日 时:分”填写").await;
                return Ok(Redirect::to(&back).into_response());
            }
        },
    };
    let input = ReceiptInput {
        arrived_at,
        delivered_by: f.delivered_by,
        carrier: f.carrier,
        tracking_no: f.tracking_no,
        observed: ObservedSample {
            test_seals: split_list(&f.test_seals),
            backup_seals: split_list(&f.backup_seals),
            test_quantity: f.test_quantity.trim().parse().unwrap_or(-1.0),
            backup_quantity: f.backup_quantity.trim().parse().unwrap_or(-1.0),
            seals_intact: f.seals_intact.is_some(),
            labels_match: f.labels_match.is_some(),
            appearance: f.appearance,
        },
        decision: if f.decision == "reject" { ReceiptDecision::Reject } else { ReceiptDecision::Accept },
        reason: f.reason,
        backup_location: f.backup_location,
        photos,
    };
    match lab::receive(&st.services, &a, task_id, input).await {
        Ok(o) => {
            let msg = match &o.blind_code {
                Some(c) => format!("已接收，盲样编号 {c}，请打印标签"),
                None => "已拒收，理由已报送组织抽查的部门".to_string(),
            };
            set_flash(&session, &msg).await;
            Ok(Redirect::to(&format!("/lab/received/{}", o.sample_id)).into_response())
        }
        Err(e) => back_or_error(&session, e, &back).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/received.html")]
pub struct ReceivedPage {
    pub chrome: Chrome,
    pub items: Vec<LinkView>,
    pub next_href: Option<String>,
}

async fn received(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    Query(q): Query<CursorQuery>,
) -> PageResult<ReceivedPage> {
    let state = crate::extract::parse_state::<SampleState>(q.state.as_deref())?;
    let p = lab::received(&st.services, &a, state, cursor_of(&q), Some(50)).await?;
    Ok(ReceivedPage {
        items: p.items,
        next_href: p.next.map(|c| format!("/lab/received{}", query_string(&[("cursor", Some(c.as_str()))]))),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/link.html")]
pub struct LinkPage {
    pub chrome: Chrome,
    pub l: LinkView,
    pub testers: Vec<(i64, String)>,
    pub custodian: bool,
}

async fn link(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<LinkPage> {
    let id = id_of(&id, "样品")?;
    let l = lab::link(&st.services, &a, id).await?;
    let custodian = l.actions.contains(&Action::ManageSample);
    let testers = if custodian { lab::testers_for(&st.services, &a, id).await? } else { Vec::new() };
    Ok(LinkPage { l, testers, custodian, chrome: chrome(&session, Some(&a), "lab").await })
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    tester_id: String,
}

async fn assign(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<AssignForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let back = format!("/lab/received/{id}");
    let tester_id = id_of(&f.tester_id, "检验人员")?;
    match lab::assign_tester(&st.services, &a, id, AssignInput { tester_id }).await {
        Ok(()) => {
            set_flash(&session, "已分配检验人员").await;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => back_or_error(&session, e, &back).await,
    }
}

async fn label(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let pdf = lab::label_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("label-{id}.pdf")))
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/worklist.html")]
pub struct WorklistPage {
    pub chrome: Chrome,
    pub items: Vec<BlindSampleSummary>,
    pub q: String,
    /// The state filter's choices (rejected samples are the custodian's, cleared ones need nothing).
    pub states: Vec<StateOption>,
    pub next_href: Option<String>,
}

const WORKLIST_STATES: [SampleState; 6] = [
    SampleState::Screening,
    SampleState::Accepted,
    SampleState::Testing,
    SampleState::Tested,
    SampleState::Reported,
    SampleState::Stopped,
];

#[derive(Debug, Default, Deserialize)]
pub struct WorklistForm {
    #[serde(default)]
    q: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::blank_as_none")]
    state: Option<SampleState>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

async fn worklist(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    Query(f): Query<WorklistForm>,
) -> PageResult<WorklistPage> {
    let p = lab::worklist(
        &st.services,
        &a,
        WorklistQuery {
            state: f.state,
            mine: Some(f.mine.is_some()),
            overdue: Some(f.overdue.is_some()),
            q: f.q.clone(),
            cursor: f.cursor.clone(),
            limit: Some(50),
        },
    )
    .await?;
    let next_href = p.next.map(|c| {
        format!(
            "/lab/samples{}",
            query_string(&[
                ("q", f.q.as_deref()),
                ("state", f.state.map(SampleState::as_str)),
                ("mine", f.mine.as_deref()),
                ("overdue", f.overdue.as_deref()),
                ("cursor", Some(c.as_str())),
            ])
        )
    });
    Ok(WorklistPage {
        items: p.items,
        q: f.q.unwrap_or_default(),
        states: WORKLIST_STATES
            .iter()
            .map(|s| StateOption { value: s.as_str(), label: s.label(), selected: f.state == Some(*s) })
            .collect(),
        next_href,
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/sample.html")]
pub struct SamplePage {
    pub chrome: Chrome,
    pub v: BlindSampleView,
    pub tester: bool,
    pub screener: bool,
    pub today: String,
}

async fn sample(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(code): PagePath<String>,
) -> PageResult<SamplePage> {
    let v = lab::sample(&st.services, &a, &code).await?;
    Ok(SamplePage {
        tester: v.actions.contains(&Action::RecordResults),
        screener: v.actions.contains(&Action::Screen) && v.state == SampleState::Screening,
        v,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Debug, Deserialize)]
pub struct ResultForm {
    item_index: i32,
    /// number | text | pass_fail
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    tested_on: String,
}

fn sample_href(code: &str) -> String {
    format!("/lab/samples/{}", code.trim().to_uppercase())
}

async fn enter_result(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(code): PagePath<String>,
    PageForm(f): PageForm<ResultForm>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    let mut input = ResultInput {
        item_index: Some(f.item_index),
        method: f.method,
        instrument: f.instrument,
        tested_on: chrono::NaiveDate::parse_from_str(f.tested_on.trim(), "%Y-%m-%d").ok(),
        ..Default::default()
    };
    match f.kind.as_str() {
        "number" => match f.value.trim().parse::<f64>() {
            Ok(v) => input.value = Some(v),
            Err(_) => {
                set_flash(&session, "未执行：检验结果须为数值").await;
                return Ok(Redirect::to(&back).into_response());
            }
        },
        "pass_fail" => input.pass = Some(f.value == "pass"),
        _ => input.text = Some(f.value),
    }
    match lab::enter_result(&st.services, &a, &code, input).await {
        Ok(_) => {
            set_flash(&session, "已保存检验结果").await;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => back_or_error(&session, e, &back).await,
    }
}

async fn complete(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(code): PagePath<String>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    match lab::complete_results(&st.services, &a, &code).await {
        Ok(v) => {
            set_flash(&session, &format!("结果已提交：{}", v.conclusion)).await;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => back_or_error(&session, e, &back).await,
    }
}

async fn licence_check(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(code): PagePath<String>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    match lab::check_licence(&st.services, &a, &code).await {
        Ok(c) => {
            set_flash(&session, &c.state_label).await;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => back_or_error(&session, e, &back).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct ScreeningForm {
    result: String,
    #[serde(default)]
    note: String,
}

async fn screen(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(code): PagePath<String>,
    PageForm(f): PageForm<ScreeningForm>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    match lab::screen(&st.services, &a, &code, ScreeningInput { result: f.result, note: f.note }).await {
        Ok(v) => {
            set_flash(&session, &format!("已录入筛查结果：{}", v.state_label)).await;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => back_or_error(&session, e, &back).await,
    }
}

async fn prepare(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(code): PagePath<String>,
    PageForm(f): PageForm<SignOffInput>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    match lab::prepare_report(&st.services, &a, &code, f).await {
        Ok(_) => {
            set_flash(&session, "报告已编制，待审核").await;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => back_or_error(&session, e, &back).await,
    }
}

pub struct ReportLine {
    pub blind_code: String,
    pub r: ReportView,
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub items: Vec<ReportLine>,
    pub state: ReportState,
    pub link_holder: bool,
    pub next_href: Option<String>,
}

async fn reports(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    Query(q): Query<CursorQuery>,
) -> PageResult<ReportsPage> {
    let state = crate::extract::parse_state(q.state.as_deref())?.unwrap_or(ReportState::Prepared);
    let p = lab::report_worklist(&st.services, &a, state, cursor_of(&q), Some(50)).await?;
    Ok(ReportsPage {
        items: p.items.into_iter().map(|(blind_code, r)| ReportLine { blind_code, r }).collect(),
        next_href: p.next.map(|c| {
            format!("/lab/reports{}", query_string(&[("state", Some(state.as_str())), ("cursor", Some(c.as_str()))]))
        }),
        state,
        link_holder: a.may(Action::ReceiveSample) || a.may(Action::ReportPdf),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

async fn review(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<SignOffInput>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    match lab::review_report(&st.services, &a, id, f).await {
        Ok(_) => {
            set_flash(&session, "已审核，待批准").await;
            Ok(Redirect::to("/lab/reports?state=prepared").into_response())
        }
        Err(e) => back_or_error(&session, e, "/lab/reports?state=prepared").await,
    }
}

async fn approve(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<SignOffInput>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    match choucha_service::issue::approve_report(&st.services, &a, id, f).await {
        Ok(r) => {
            set_flash(&session, &format!("已批准签发，报告编号 {}", r.report_no.unwrap_or_default())).await;
            Ok(Redirect::to("/lab/reports?state=reviewed").into_response())
        }
        Err(e) => back_or_error(&session, e, "/lab/reports?state=reviewed").await,
    }
}

async fn send_back(
    State(st): State<AppState>,
    session: Session,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<SendBackInput>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    match lab::send_back_report(&st.services, &a, id, f).await {
        Ok(r) => {
            set_flash(&session, &format!("已退回检验人员（第{}版）：{}", r.version, r.returned_reason)).await;
            Ok(Redirect::to("/lab/reports").into_response())
        }
        Err(e) => back_or_error(&session, e, "/lab/reports").await,
    }
}

/// A receipt photo, for the custodian and the bureau (who see the sample's link).
async fn photo(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath((id, sha)): PagePath<(String, String)>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let (p, path) = lab::receipt_photo(&st.services, &a, id, &sha).await?;
    let bytes = tokio::fs::read(&path).await.map_err(ServiceError::internal)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, p.content_type),
            (axum::http::header::CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn report_pdf(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let (_, pdf) = lab::report_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("report-{id}.pdf")))
}

/// For templates: whether the actor holds a lab role.
pub fn is_lab(actor: &Actor) -> bool {
    matches!(actor.scope_any(), Some(Scope::Institution(_))) && actor.may(Action::ViewLabBoard)
}
