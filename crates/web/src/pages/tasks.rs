//! The sampler's pages, phone first: `/tasks` lists the caller's sampling tasks as cards (who, where,
//! what, team, due date, whether the item's implementation rules are published) and `/tasks/{id}`
//! is the whole on-site work of a task: starting it (refused with rule 3's message until the rules
//! are published), the sampling record (pre-filled from the registry, the plan item and the
//! published rules), the signatures on the screen, the evidence with its checklist and resumable
//! uploads, and the outcomes (拒检, problem report).
//!
//! The page's writes (record, signatures, corrections, outcomes, hand-over, evidence uploads) are
//! calls of the JSON API `/api/v1/tasks/{id}/…` from `static/sampling.js`, with the session cookie
//! and the CSRF token in the `X-CSRF-Token` header (`crate::auth::ApiActor`); this module only
//! renders, starts the task (a plain form) and serves the forms as PDFs to open from the page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::sampling::BackupRequestState;
use choucha_domain::sampling::{PriceBasis, RecordFields};
use choucha_domain::sampling::{RecordState, TaskState};
use choucha_service::draws::{self, TaskView};
use choucha_service::evidence::{self, EvidenceList};
use choucha_service::handover::{self, ArrivalView, BackupRequestView, CustodyView, DocumentEntry};
use choucha_service::registry::{self, EnterpriseView};
use choucha_service::sampling::{self, RecordView};
use choucha_service::{Actor, ServiceError, implementation_rules};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{Page, PageActor};
use crate::error::{PageResult, body_of, status_of};
use crate::filters;
use crate::pages::draws::task_badge;
use crate::pages::plans::id_of;
use crate::pages::respond::done_or_again;
use crate::pages::users::query_string;
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list))
        .route("/tasks/{id}", get(detail))
        .route("/tasks/{id}/evidence", get(evidence_viewer))
        .route("/tasks/{id}/start", post(start))
        .route("/tasks/{id}/record.pdf", get(record_pdf))
        .route("/tasks/{id}/documents/{kind}", get(document))
        .route("/session/csrf", get(session_csrf))
}

/// The session's CSRF token, fresh: the field app replays writes queued on the phone with the token
/// of the page it was offline on, and asks for the current one when the server refuses that token.
/// Same-origin only (no CORS), so another site can send the request but never read the answer.
async fn session_csrf(Page { session, .. }: Page) -> Response {
    let token = crate::auth::csrf_token(&session).await;
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(serde_json::json!({ "csrf": token }))).into_response()
}

/// A task as its card shows it.
pub struct TaskCard {
    pub t: TaskView,
    pub team: String,
    pub badge: &'static str,
}

fn card(t: TaskView) -> TaskCard {
    TaskCard { team: t.team.join("、"), badge: task_badge(t.state), t }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    cursor: Option<String>,
    /// A state's stored name, or empty for all.
    #[serde(default)]
    state: Option<String>,
    /// Text in the enterprise's name or the product.
    #[serde(default)]
    q: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub tasks: Vec<TaskCard>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    /// The filter as given, for the form.
    pub state: String,
    pub q: String,
    pub states: Vec<(&'static str, &'static str)>,
}

async fn list(Page { state, session, actor }: Page, Query(q): Query<ListQuery>) -> PageResult<ListPage> {
    let cursor = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let state_code = q.state.clone().unwrap_or_default();
    let filter = draws::TaskFilter {
        state: TaskState::ALL.into_iter().find(|s| s.as_str() == state_code),
        text: q.q.clone().filter(|t| !t.trim().is_empty()),
    };
    let page = draws::my_tasks_filtered(&state.services, &actor, &filter, cursor, Some(30)).await?;
    let text = q.q.clone().unwrap_or_default();
    let keep = |cursor: Option<&str>| {
        let st = filter.state.map(|s| s.as_str());
        format!(
            "/tasks{}",
            query_string(&[("state", st), ("q", Some(text.as_str()).filter(|t| !t.is_empty())), ("cursor", cursor)])
        )
    };
    Ok(ListPage {
        tasks: page.items.into_iter().map(card).collect(),
        next_href: page.next.map(|c| keep(Some(c.as_str()))),
        first_href: cursor.map(|_| keep(None)),
        state: filter.state.map(|s| s.as_str().to_string()).unwrap_or_default(),
        q: text.clone(),
        states: TaskState::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        chrome: chrome(&session, Some(&actor), "tasks").await,
    })
}

// ---------------------------------------------------------------------------------------------
// The task page

/// The record's fields as the form's inputs show them.
pub struct FormValues {
    pub product_name: String,
    pub brand: String,
    pub model: String,
    pub batch: String,
    pub standard: String,
    pub grade: String,
    pub producer_name: String,
    pub producer_address: String,
    pub producer_uscc: String,
    pub sampling_base: String,
    pub test_quantity: String,
    pub backup_quantity: String,
    pub unit: String,
    pub unit_price: String,
    pub price_basis: &'static str,
    pub place: String,
    pub domain: String,
    pub sampled_at: String,
    pub test_seals: String,
    pub backup_seals: String,
    pub remarks: String,
    pub contact_name: String,
    pub contact_phone: String,
}

fn number(v: f64) -> String {
    if v == 0.0 { String::new() } else { format!("{v}") }
}

fn price_basis_code(p: PriceBasis) -> &'static str {
    match p {
        PriceBasis::Marked => "marked",
        PriceBasis::Market => "market",
    }
}

impl FormValues {
    fn of(f: &RecordFields) -> FormValues {
        FormValues {
            product_name: f.product_name.clone(),
            brand: f.brand.clone(),
            model: f.model.clone(),
            batch: f.batch.clone(),
            standard: f.standard.clone(),
            grade: f.grade.clone(),
            producer_name: f.producer_name.clone(),
            producer_address: f.producer_address.clone(),
            producer_uscc: f.producer_uscc.clone(),
            sampling_base: number(f.sampling_base),
            test_quantity: number(f.test_quantity),
            backup_quantity: number(f.backup_quantity),
            unit: f.unit.clone(),
            unit_price: number(f.unit_price),
            price_basis: price_basis_code(f.price_basis),
            place: f.place.clone(),
            domain: f.domain.clone(),
            sampled_at: f.sampled_at.trim().replacen(' ', "T", 1),
            test_seals: f.test_seals.join("、"),
            backup_seals: f.backup_seals.join("、"),
            remarks: f.remarks.clone(),
            contact_name: f.contact_name.clone(),
            contact_phone: f.contact_phone.clone(),
        }
    }

    /// What the system knows before anything is typed: the product of the plan item, the standard
    /// and quantities of the published rules, the enterprise (as producer when it produces), its
    /// address as the place, the kind of business as the domain, and now (Beijing time).
    fn prefilled(
        t: &TaskView,
        ent: Option<&EnterpriseView>,
        rules: Option<&implementation_rules::RulesBody>,
        now: chrono::NaiveDateTime,
    ) -> Self {
        let producer = ent.filter(|e| e.kinds.iter().any(|k| k == "producer"));
        let domain = match ent {
            Some(e) if e.kinds.iter().any(|k| k == "producer") => "production",
            Some(e) if e.kinds.len() == 1 && e.kinds[0] == "e_commerce" => "e_commerce",
            _ => "circulation",
        };
        FormValues {
            product_name: t.product.clone(),
            brand: String::new(),
            model: String::new(),
            batch: String::new(),
            standard: rules.and_then(|r| r.standards.first().cloned()).unwrap_or_default(),
            grade: String::new(),
            producer_name: producer.map(|e| e.name.clone()).unwrap_or_default(),
            producer_address: producer.map(|e| e.address.clone()).unwrap_or_default(),
            producer_uscc: producer.map(|e| e.uscc.clone()).unwrap_or_default(),
            sampling_base: String::new(),
            test_quantity: rules.and_then(|r| r.test_quantity).map(number).unwrap_or_default(),
            backup_quantity: rules.and_then(|r| r.backup_quantity).map(number).unwrap_or_default(),
            unit: rules.map(|r| r.quantity_unit.clone()).unwrap_or_default(),
            unit_price: String::new(),
            price_basis: "marked",
            place: t.enterprise_address.clone(),
            domain: domain.into(),
            sampled_at: now.format("%Y-%m-%dT%H:%M").to_string(),
            test_seals: String::new(),
            backup_seals: String::new(),
            remarks: String::new(),
            contact_name: String::new(),
            contact_phone: String::new(),
        }
    }
}

/// One row of the record's read-only view.
pub struct Shown {
    pub label: &'static str,
    pub value: String,
}

fn domain_label(d: &str) -> &'static str {
    match d {
        "production" => "生产领域",
        "e_commerce" => "电子商务",
        _ => "流通领域",
    }
}

/// The record as a list of labelled values (read-only view).
fn shown(f: &RecordFields, total_paid_yuan: &str) -> Vec<Shown> {
    let u = &f.unit;
    let rows: Vec<(&'static str, String)> = vec![
        ("产品名称", f.product_name.clone()),
        ("商标", f.brand.clone()),
        ("规格型号", f.model.clone()),
        ("生产日期/批号", f.batch.clone()),
        ("执行标准", f.standard.clone()),
        ("质量等级", f.grade.clone()),
        ("标称生产者", f.producer_name.clone()),
        ("生产者地址", f.producer_address.clone()),
        ("生产者统一社会信用代码", f.producer_uscc.clone()),
        ("被抽样单位联系人", f.contact_name.clone()),
        ("联系电话", f.contact_phone.clone()),
        ("抽样基数", format!("{}{u}", f.sampling_base)),
        ("检验样品数量", format!("{}{u}", f.test_quantity)),
        ("备用样品数量", format!("{}{u}", f.backup_quantity)),
        (
            "单价",
            format!(
                "{}元（{}）",
                f.unit_price,
                if f.price_basis == PriceBasis::Market { "同类产品市场价" } else { "标价" }
            ),
        ),
        ("样品费用合计", format!("{total_paid_yuan}元（备用样品无偿提供）")),
        ("抽样地点", f.place.clone()),
        ("抽样领域", domain_label(&f.domain).to_string()),
        ("抽样时间", f.sampled_at.replacen('T', " ", 1)),
        ("检验样品封条编号", f.test_seals.join("、")),
        ("备用样品封条编号", f.backup_seals.join("、")),
        ("备注", f.remarks.clone()),
    ];
    rows.into_iter().map(|(label, value)| Shown { label, value }).collect()
}

/// A changed field of a correction, labelled.
pub struct Change {
    pub label: String,
    pub old: String,
    pub new: String,
}

/// One evidence category of the checklist.
pub struct CategoryRow {
    pub code: &'static str,
    pub label: &'static str,
    pub count: usize,
    pub done: bool,
    /// Required by the implementation rules (rule 7).
    pub required: bool,
    /// Why there is none, where the team recorded it.
    pub reason: Option<String>,
}

/// A signature as the page lists it.
pub struct SignedBy {
    pub who: String,
    pub what: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

fn record_state_label(s: &RecordState) -> &'static str {
    match s {
        RecordState::Draft => "待签字",
        RecordState::PendingConfirmation => "更正待企业签字确认",
        RecordState::Signed => "已签字锁定",
        RecordState::Superseded => "已被更正",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub c: TaskCard,
    /// Samplers see the start button; the service checks team membership.
    pub is_sampler: bool,
    /// A sampler of this task's team: may fill, sign and upload.
    pub is_member: bool,
    pub error: Option<String>,
    pub enterprise: Option<EnterpriseView>,
    pub rules_note: Option<String>,
    pub record: Option<RecordView>,
    pub record_state_label: &'static str,
    pub form: FormValues,
    /// The record can still be changed (nobody signed yet).
    pub editable: bool,
    /// The sampling sections are on the page, hidden, for a start made offline.
    pub startable: bool,
    pub shown: Vec<Shown>,
    pub changes: Vec<Change>,
    pub signed: Vec<SignedBy>,
    /// Team members who have not signed the current version.
    pub pending_samplers: Vec<String>,
    pub i_must_sign: bool,
    pub enterprise_must_sign: bool,
    /// The record is (or will be, once the phone's queued record reaches the server) a draft.
    pub record_draft: bool,
    /// A correction waits for the enterprise's confirmation.
    pub confirming: bool,
    /// What the phone's queued writes are based on: the current record's hash, empty without one.
    pub stamp: String,
    pub evidence: Option<EvidenceList>,
    pub categories: Vec<CategoryRow>,
    pub missing_categories: String,
    /// What the team recorded on arrival (notice, identity, authorisation shown).
    pub arrival: Option<ArrivalView>,
    pub arrived_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The task's forms as PDFs (notice, record, payment form, feedback form…).
    pub documents: Vec<DocumentEntry>,
    pub custody: Vec<CustodyView>,
    /// The chain read as holdings, with its gaps (issue 18).
    pub chain: Option<choucha_service::custody_chain::CustodyChain>,
    pub backup_requests: Vec<BackupRequestView>,
    /// The sample has left for the testing institution.
    pub dispatched: bool,
}

/// The checklist of the seven categories as the page shows it.
pub(crate) fn category_rows(e: &EvidenceList) -> Vec<CategoryRow> {
    e.checklist
        .iter()
        .map(|c| CategoryRow {
            code: c.category.as_str(),
            label: c.category.label(),
            count: c.count,
            done: c.count > 0 || c.reason.is_some(),
            required: c.required,
            reason: c.reason.clone(),
        })
        .collect()
}

async fn render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> PageResult<Response> {
    let s = &state.services;
    let t = draws::get_task(s, actor, id).await?;
    // Only which buttons to show: the service checks membership on every write.
    let is_member = t.actions.contains(&Action::WorkOnSite);
    let enterprise = registry::get(s, actor, t.enterprise_id).await.ok();
    let rules = implementation_rules::get_published(s, t.item_id).await.ok().map(|r| r.body);
    let record = match sampling::get_record(s, actor, id).await {
        Ok(r) => Some(r),
        Err(ServiceError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    // The team's sampler may start the task on site with no network (issue 18): the page then
    // carries the sampling sections, hidden until the start, which the phone queues when offline
    // and sends first when the network returns (the service checks every write as it arrives).
    let startable = is_member && t.state == TaskState::Assigned && actor.may(Action::ClaimTask);
    let evidence = if t.state == TaskState::Assigned && !startable {
        None
    } else {
        evidence::list(s, actor, id).await.ok().map(|mut e| {
            e.can_add |= startable;
            e
        })
    };
    let me = format!("sampler:{}", actor.user_id);
    let form = match &record {
        Some(r) => FormValues::of(&r.fields),
        None => FormValues::prefilled(&t, enterprise.as_ref(), rules.as_ref(), s.clock().now_beijing()),
    };
    let editable = is_member
        && (t.state == TaskState::InProgress || startable)
        && record.as_ref().is_none_or(|r| r.state == RecordState::Draft && r.signatures.is_empty());
    let signed: Vec<SignedBy> = record
        .iter()
        .flat_map(|r| r.signatures.iter())
        .map(|g| SignedBy {
            who: if g.signer == "enterprise" {
                format!("被抽样单位：{}", g.signer_name)
            } else {
                g.signer_name.clone()
            },
            what: if g.refused {
                format!(
                    "拒绝签字（{}）{}",
                    g.refusal_reason,
                    if g.witness_name.is_empty() {
                        String::new()
                    } else {
                        format!("，见证人：{}", g.witness_name)
                    }
                )
            } else {
                "已签字".into()
            },
            at: g.signed_at,
        })
        .collect();
    let missing = record.as_ref().map(|r| r.missing.clone()).unwrap_or_default();
    let pending_samplers = match &record {
        Some(r) if r.state == RecordState::Draft => t
            .team_ids
            .iter()
            .zip(&t.team)
            .filter(|(uid, _)| missing.contains(&format!("sampler:{uid}")))
            .map(|(_, name)| name.clone())
            .collect(),
        _ => Vec::new(),
    };
    let changes = record
        .iter()
        .flat_map(|r| r.changes.iter())
        .map(|(k, o, n)| Change {
            label: choucha_domain::sampling::field_label(k).to_string(),
            old: o.clone(),
            new: n.clone(),
        })
        .collect();
    let categories = evidence.as_ref().map(category_rows).unwrap_or_default();
    let missing_categories = evidence
        .as_ref()
        .map(|e| e.missing.iter().map(|c| c.label()).collect::<Vec<_>>().join("、"))
        .unwrap_or_default();
    let rules_note = rules.as_ref().map(|r| {
        format!(
            "实施细则：检验样品{}，备用样品{}，抽样基数{}",
            r.test_portion.trim(),
            r.backup_portion.trim(),
            r.min_base.trim()
        )
    });
    let started = t.state != TaskState::Assigned;
    let arrival = if started { handover::arrival(s, actor, id).await? } else { None };
    let documents = if started { handover::documents(s, actor, id).await? } else { Vec::new() };
    let custody = if started { handover::custody(s, actor, id).await? } else { Vec::new() };
    let backup_requests = if started { handover::backup_requests(s, actor, id).await? } else { Vec::new() };
    let chain =
        if custody.is_empty() { None } else { Some(choucha_service::custody_chain::chain(s, actor, id).await?) };
    let page = DetailPage {
        chain,
        arrived_at: arrival.as_ref().map(|a| a.arrived_at),
        arrival,
        dispatched: custody.iter().any(|e| e.kind == "dispatched"),
        documents,
        custody,
        backup_requests,
        is_sampler: actor.may(Action::ClaimTask),
        is_member,
        startable,
        error,
        record_state_label: record.as_ref().map(|r| record_state_label(&r.state)).unwrap_or(""),
        shown: record.as_ref().map(|r| shown(&r.fields, &r.total_paid_yuan)).unwrap_or_default(),
        // Without a record the signature forms are there too, hidden: offline, the phone shows
        // them once it has queued a record (the field app signs what the phone will send).
        i_must_sign: is_member && (missing.contains(&me) || (record.is_none() && editable)),
        enterprise_must_sign: is_member
            && (missing.iter().any(|m| m == "enterprise") || (record.is_none() && editable)),
        record_draft: record.as_ref().is_none_or(|r| r.state == RecordState::Draft),
        confirming: record.as_ref().is_some_and(|r| r.state == RecordState::PendingConfirmation),
        stamp: record.as_ref().map(|r| r.record_hash.clone()).unwrap_or_default(),
        changes,
        signed,
        pending_samplers,
        form,
        editable,
        record,
        enterprise,
        rules_note,
        evidence,
        categories,
        missing_categories,
        c: card(t),
        chrome: chrome(session, Some(actor), "tasks").await,
    };
    Ok((status, page).into_response())
}

async fn detail(Page { state, session, actor }: Page, Path(id): Path<String>) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    render(&state, &session, &actor, id, None, StatusCode::OK).await
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/evidence_viewer.html")]
pub struct EvidenceViewerPage {
    pub chrome: Chrome,
    pub title: String,
    pub can_open_task: bool,
    pub ev: EvidenceList,
}

/// The evidence of a task, for the team, the organising bureau and the enterprise's local bureau
/// (never a tester: the photos show the enterprise).
async fn evidence_viewer(
    Page { state, session, actor }: Page,
    Path(id): Path<String>,
) -> PageResult<EvidenceViewerPage> {
    let id = id_of(&id, "抽样任务")?;
    let s = &state.services;
    let ev = evidence::list(s, &actor, id).await?;
    let task = draws::get_task(s, &actor, id).await.ok();
    Ok(EvidenceViewerPage {
        title: task
            .as_ref()
            .map(|t| format!("{}（{}）", t.enterprise_name, t.product))
            .unwrap_or_else(|| format!("抽样任务 {id}")),
        can_open_task: task.is_some(),
        ev,
        chrome: chrome(&session, Some(&actor), "tasks").await,
    })
}

async fn start(Page { state, session, actor }: Page, Path(id): Path<String>) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    let started = draws::start_task(&state.services, &actor, id).await;
    done_or_again(
        &session,
        started,
        |t| (format!("/tasks/{id}"), format!("已开始在“{}”抽样", t.enterprise_name)),
        |e| {
            let msg = format!("不能开始抽样：{}", body_of(&e).message);
            render(&state, &session, &actor, id, Some(msg), status_of(&e))
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The forms as PDFs, opened from the page

/// A task's form as a PDF, opened from the page (the same documents as the API's).
async fn document(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    Path((id, kind)): Path<(String, String)>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    let (pdf, name) = handover::document_pdf(&st.services, &a, id, &kind).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        pdf,
    )
        .into_response())
}

async fn record_pdf(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    let pdf = sampling::record_pdf(&st.services, &a, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"sampling-record-{id}.pdf\"")),
        ],
        pdf,
    )
        .into_response())
}
