//! 复检与样品确认: the organising bureau arranges re-tests of accepted requests (rule 18) and
//! investigates denied sample confirmations (rule 23); the re-test institution receives the backup
//! portion with seal photos, tests the objected items blind and signs the re-test report; the
//! testing institution's custodian records producers' answers and lapses; a tester writes the
//! improvement letter's text of an unqualified sample. Every check is in the service layer.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::Response;
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::results::ObjectionState;
use choucha_domain::retest::ConfirmationState;
use choucha_domain::retest::RetestState;
use choucha_service::confirmations::{self, AnswerInput, ConfirmationView, InvestigationInput, PeriodInput};
use choucha_service::lab::{self, ResultInput, SignOffInput};
use choucha_service::results::{self, LetterTextInput, LetterTextView};
use choucha_service::retests::{
    self, AssignRetestInput, InstitutionChoice, RetestDispatchInput, RetestReceiptInput, RetestResultsInput,
    RetestView, SignStep,
};
use choucha_service::{Actor, ServiceError};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{Page, PageActor};
use crate::error::{PageForm, PageResult};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::lab::{photo_response, read_with_photos};
use crate::pages::plans::id_of;
use crate::pages::respond::{done, done_to, flash_to, not_done};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/retests", get(list))
        .route("/retests/{id}", get(detail))
        .route("/retests/{id}/dispatch", post(dispatch))
        .route("/retests/{id}/receipt", post(receive).layer(DefaultBodyLimit::max(8 * lab::RECEIPT_PHOTO_MAX)))
        .route("/retests/{id}/results", post(enter_results))
        .route("/retests/{id}/sign/{step}", post(sign))
        .route("/retests/{id}/report.pdf", get(report_pdf))
        .route("/retests/{id}/photos/{sha}", get(photo))
        .route("/results/objections/{id}/retest", post(assign))
        .route("/results/objections/{id}/close", post(close_objection))
        .route("/confirmations/{id}/answer", post(answer))
        .route("/confirmations/{id}/lapse", post(lapse))
        .route("/confirmations/{id}/investigation", post(investigate))
        .route("/plans/{id}/confirmation-period", post(set_period))
        .route("/lab/samples/{code}/improvement-letter", get(letter_form).post(letter_save))
}

/// Who has the 复检与样品确认 page: bureau staff, custodians, testers and approvers.
pub fn has_retests(actor: &Actor) -> bool {
    actor.may(Action::ListRetests)
}

/// An accepted request waiting for its re-test to be arranged, with the institutions to choose from.
pub struct ToArrange {
    pub objection: choucha_service::objections::ObjectionView,
    pub institutions: Vec<InstitutionChoice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "retests/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub bureau: bool,
    pub to_arrange: Vec<ToArrange>,
    pub retests: Vec<RetestView>,
    pub confirmations: Vec<ConfirmationView>,
    /// The caller records producers' answers (custodian).
    pub custodian: bool,
    pub today: String,
}

async fn list(State(st): State<AppState>, session: Session, PageActor(a): PageActor) -> PageResult<ListPage> {
    let s = &st.services;
    let bureau = a.may(Action::ArrangeRetests);
    let mut to_arrange = Vec::new();
    if a.may(Action::ListObjections) && a.org_id.is_some() {
        for o in
            choucha_service::objections::of_bureau(s, &a, Some(ObjectionState::Accepted), None, Some(100)).await?.items
        {
            if o.retest.as_ref().is_none_or(|r| r.state == RetestState::SealBroken) {
                let institutions = retests::institutions_for(s, &a, o.id).await?;
                to_arrange.push(ToArrange { objection: o, institutions });
            }
        }
    }
    let retests = retests::list(s, &a, &[], None, Some(100)).await?.items;
    let custodian = a.may(Action::ReceiveSample);
    let confirmations =
        if bureau || custodian { confirmations::list(s, &a, &[], None, Some(100)).await?.items } else { Vec::new() };
    Ok(ListPage {
        bureau,
        to_arrange,
        retests,
        confirmations,
        custodian,
        today: s.today().to_string(),
        chrome: chrome(&session, Some(&a), "retests").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "retests/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub r: RetestView,
    pub custodian: bool,
    /// The first laboratory's custodian, who sends the backup portion on.
    pub sender: bool,
    pub tester: bool,
    pub approver: bool,
    pub today: String,
}

async fn detail(Page { state: st, session, actor: a }: Page, PagePath(id): PagePath<String>) -> PageResult<DetailPage> {
    let id = id_of(&id, "复检")?;
    let r = retests::get(&st.services, &a, id).await?;
    Ok(DetailPage {
        custodian: r.actions.contains(&Action::ReceiveBackup),
        sender: r.actions.contains(&Action::DispatchBackup),
        tester: r.actions.contains(&Action::RetestResults),
        approver: r.actions.contains(&Action::SignRetest),
        r,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), "retests").await,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    institution_id: String,
    #[serde(default)]
    same_institution_reason: String,
    #[serde(default)]
    fee_advance: String,
}

async fn assign(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<AssignForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "申请")?;
    let input = AssignRetestInput {
        institution_id: f.institution_id.trim().parse().unwrap_or(0),
        same_institution_reason: f.same_institution_reason,
        fee_advance: f.fee_advance,
    };
    done_to(&session, retests::assign(&st.services, &a, id, input).await, "/retests", |r| {
        (format!("/retests/{}", r.id), format!("已安排复检：{}，复检编号 {}", r.institution, r.blind_code))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct DispatchForm {
    #[serde(default)]
    dispatched_at: String,
    #[serde(default)]
    carrier: String,
    /// The seal numbers as packed, separated by commas or spaces.
    #[serde(default)]
    seals: String,
    #[serde(default)]
    seal: String,
    #[serde(default)]
    note: String,
}

/// Seal numbers typed in one field, separated by commas, 、, semicolons or spaces.
fn seal_list(text: &str) -> Vec<String> {
    text.split([',', '，', '、', ';', '；', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// The first laboratory's custodian records the backup portion's dispatch to the re-test laboratory.
async fn dispatch(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<DispatchForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "复检")?;
    let back = format!("/retests/{id}");
    let input = RetestDispatchInput {
        dispatched_at: f.dispatched_at,
        carrier: f.carrier,
        seals: seal_list(&f.seals),
        seal_intact: f.seal != "broken",
        note: f.note,
    };
    done(&session, retests::dispatch(&st.services, &a, id, input).await, &back, |_| "已登记寄出备用样品".to_string())
        .await
}

#[derive(Debug, Default, Deserialize)]
pub struct ReceiptForm {
    #[serde(default)]
    seal: String,
    #[serde(default)]
    seal_note: String,
    /// The seal numbers read off the package, separated by commas or spaces.
    #[serde(default)]
    seals_seen: String,
}

async fn receive(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let id = id_of(&id, "复检")?;
    let back = format!("/retests/{id}");
    let (f, photos) = match read_with_photos::<ReceiptForm>(multipart).await {
        Ok(x) => x,
        Err(msg) => return flash_to(&session, &msg, &back).await,
    };
    let seals_seen = seal_list(&f.seals_seen);
    let input = RetestReceiptInput { seal_intact: f.seal == "intact", seal_note: f.seal_note, seals_seen, photos };
    done(&session, retests::receive(&st.services, &a, id, input).await, &back, |r| {
        format!("已接收备用样品：{}", r.state_label)
    })
    .await
}

/// The results form: one `value_<item>` field per objected item (a number, or text for text
/// items), with the shared instrument and test date.
async fn enter_results(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let id = id_of(&id, "复检")?;
    let back = format!("/retests/{id}");
    let field = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let tested_on = match field("tested_on").as_str() {
        "" => None,
        t => match chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => return not_done(&session, &format!("日期“{t}”格式不正确"), &back).await,
        },
    };
    let mut results = Vec::new();
    for (name, value) in &pairs {
        let Some(item) = name.strip_prefix("value_") else { continue };
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        let mut r = ResultInput {
            item_name: Some(item.to_string()),
            instrument: field("instrument"),
            tested_on,
            ..Default::default()
        };
        match v {
            "符合" => r.pass = Some(true),
            "不符合" => r.pass = Some(false),
            _ => match v.parse::<f64>() {
                Ok(n) => r.value = Some(n),
                Err(_) => r.text = Some(v.to_string()),
            },
        }
        results.push(r);
    }
    done(&session, retests::enter_results(&st.services, &a, id, RetestResultsInput { results }).await, &back, |r| {
        format!("已录入复检结果：{}", r.state_label)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct SignForm {
    #[serde(default)]
    signature_png_base64: String,
    #[serde(default)]
    use_stored_signature: bool,
}

async fn sign(
    Page { state: st, session, actor: a }: Page,
    PagePath((id, step)): PagePath<(String, String)>,
    PageForm(f): PageForm<SignForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "复检")?;
    let back = format!("/retests/{id}");
    let step = match step.as_str() {
        "prepare" => SignStep::Prepare,
        "review" => SignStep::Review,
        "approve" => SignStep::Approve,
        _ => return Err(ServiceError::NotFound("操作").into()),
    };
    let input =
        SignOffInput { signature_png_base64: f.signature_png_base64, use_stored_signature: f.use_stored_signature };
    done(&session, retests::sign(&st.services, &a, id, step, input).await, &back, |r| {
        format!("已签字：{}", r.state_label)
    })
    .await
}

async fn report_pdf(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "复检")?;
    let (no, pdf) = retests::report_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("{no}.pdf")))
}

async fn photo(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath((id, sha)): PagePath<(String, String)>,
) -> PageResult<Response> {
    let id = id_of(&id, "复检")?;
    let (p, bytes) = retests::seal_photo(&st.services, &a, id, &sha).await?;
    Ok(photo_response(p.content_type, bytes))
}

#[derive(Debug, Default, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    note: String,
    /// Where to go back to (the producer answers from its own results page).
    #[serde(default)]
    back: String,
}

fn back_to(b: &str, default: &str) -> String {
    if b == "/my/results" { b.to_string() } else { default.to_string() }
}

async fn answer(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<AnswerForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品确认")?;
    let back = back_to(&f.back, "/retests");
    let input = AnswerInput { confirmed: f.answer == "confirm", note: f.note };
    done(&session, confirmations::answer(&st.services, &a, id, input).await, &back, |c| {
        format!("样品确认：{}", c.state_label)
    })
    .await
}

async fn lapse(Page { state: st, session, actor: a }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let id = id_of(&id, "样品确认")?;
    done(&session, confirmations::record_lapse(&st.services, &a, id).await, "/retests", |c| {
        format!("样品确认：{}", c.state_label)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct InvestigationForm {
    #[serde(default)]
    finding: String,
}

async fn investigate(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<InvestigationForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品确认")?;
    done(
        &session,
        confirmations::investigate(&st.services, &a, id, InvestigationInput { finding: f.finding }).await,
        "/retests",
        |c| format!("样品确认：{}", c.state_label),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct PeriodForm {
    #[serde(default)]
    days: String,
    #[serde(default)]
    unit: String,
}

async fn set_period(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<PeriodForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽查计划")?;
    let back = format!("/plans/{id}");
    let input = PeriodInput { days: f.days.trim().parse().unwrap_or(0), working_days: f.unit != "calendar" };
    done(&session, confirmations::set_period(&st.services, &a, id, input).await, &back, |p| {
        let unit = if p.working_days { "个工作日" } else { "日" };
        format!("样品确认期限已设为{}{unit}", p.days)
    })
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "retests/letter.html")]
pub struct LetterPage {
    pub chrome: Chrome,
    pub l: LetterTextView,
}

async fn letter_form(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
) -> PageResult<LetterPage> {
    let l = results::letter_text(&st.services, &a, &code).await?;
    Ok(LetterPage { l, chrome: chrome(&session, Some(&a), "lab").await })
}

#[derive(Debug, Default, Deserialize)]
pub struct LetterForm {
    #[serde(default)]
    description: String,
    #[serde(default)]
    cause_analysis: String,
    #[serde(default)]
    suggestions: String,
}

async fn letter_save(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
    PageForm(f): PageForm<LetterForm>,
) -> PageResult<Response> {
    let back = format!("/lab/samples/{code}/improvement-letter");
    let input =
        LetterTextInput { description: f.description, cause_analysis: f.cause_analysis, suggestions: f.suggestions };
    done(
        &session,
        results::write_letter(&st.services, &a, &code, input).await,
        &back,
        |_| "已保存产品质量改进建议书的内容",
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    answer: String,
}

async fn close_objection(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<CloseForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "申请")?;
    let input = choucha_service::objections::CloseInput { answer: f.answer };
    done(&session, choucha_service::objections::close(&st.services, &a, id, input).await, "/retests", |o| {
        format!("{}：{}", o.kind_label, o.state_label)
    })
    .await
}
