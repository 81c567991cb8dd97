//! The enterprise registry pages (检查对象名录库): the searchable list with keyset pages, an entry,
//! the new/edit form, the import (upload, then a progress page polled by htmx every second until
//! the report is ready) and the XLSX downloads. The same use cases as the API.

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
use crate::auth::PageActor;
use crate::error::{PageError, PageForm, PageResult, body_of, error_page, status_of};
use crate::extract::PagePath;
use crate::pages::{Chrome, chrome, set_flash};

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

// ---------------------------------------------------------------------------------------------
// List

#[derive(Template, WebTemplate)]
#[template(path = "registry/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub q: String,
    pub division: String,
    pub kinds: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub items: Vec<EnterpriseView>,
    /// "共 12 家" or "超过 10000 家".
    pub count_label: String,
    pub error: Option<String>,
    pub next_href: Option<String>,
    /// Shown on pages after the first.
    pub first_href: Option<String>,
    pub export_href: String,
    pub can_edit: bool,
}

/// Counting stops here: past it the list says "超过 …".
const COUNT_CAP: u64 = 10_000;

async fn list(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    query: Result<Query<RegistryQuery>, QueryRejection>,
) -> PageResult<Response> {
    let Ok(Query(mut q)) = query else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "查询条件有误", "查询条件格式错误，请返回名录库重新查询。"));
    };
    q.limit = Some(50);
    let s = &state.services;
    let result = match registry::search(s, &actor, &q).await {
        Ok(page) => {
            let n = registry::count_up_to(s, &actor, &q, COUNT_CAP + 1).await?;
            Ok((page, n))
        }
        // A bad filter is shown on the list itself; no permission at all is a 403 page.
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Forbidden(_))) if actor.may(Action::ViewRegistry) => Err(e),
        Err(e) => return Err(e.into()),
    };
    let filters = encode_query(&q, None);
    let (items, count_label, error, next_href) = match result {
        Ok((page, n)) => {
            let label = if n > COUNT_CAP { format!("超过 {COUNT_CAP} 家") } else { format!("共 {n} 家") };
            let next = page.next.as_deref().map(|c| with_query("/registry", &encode_query(&q, Some(c))));
            (page.items, label, None, next)
        }
        Err(e) => (Vec::new(), String::new(), Some(body_of(&e).message), None),
    };
    let has_cursor = q.cursor.as_deref().is_some_and(|c| !c.is_empty());
    let page = ListPage {
        q: q.q.clone().unwrap_or_default(),
        division: q.division.clone().unwrap_or_default(),
        kinds: EnterpriseKind::ALL
            .into_iter()
            .map(|k| Choice { value: k.as_str(), label: k.label(), selected: q.kind.as_deref() == Some(k.as_str()) })
            .collect(),
        statuses: status_choices(q.status.as_deref().unwrap_or_default()),
        items,
        count_label,
        error,
        next_href,
        first_href: has_cursor.then(|| with_query("/registry", &filters)),
        export_href: with_query("/registry/export.xlsx", &filters),
        can_edit: actor.may(Action::EditRegistry),
        chrome: chrome(&session, Some(&actor), "registry").await,
    };
    Ok(page.into_response())
}

async fn export(
    State(state): State<AppState>,
    PageActor(actor): PageActor,
    query: Result<Query<RegistryQuery>, QueryRejection>,
) -> PageResult<Response> {
    let Ok(Query(q)) = query else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "查询条件有误", "查询条件格式错误，请返回名录库重新查询。"));
    };
    let bytes = choucha_service::registry_import::export_xlsx(
        &state.services,
        &actor,
        &q,
        choucha_service::registry_import::EXPORT_MAX_ROWS,
    )
    .await?;
    let date = state.services.today().format("%Y%m%d");
    Ok(xlsx_download(bytes, &format!("企业名录-{date}.xlsx"), &format!("enterprises-{date}.xlsx")))
}

async fn template(PageActor(actor): PageActor) -> PageResult<Response> {
    let bytes = registry_import::template_xlsx(&actor)?;
    Ok(xlsx_download(bytes, "企业名录导入模板.xlsx", "enterprise-import-template.xlsx"))
}

// ---------------------------------------------------------------------------------------------
// Detail

#[derive(Template, WebTemplate)]
#[template(path = "registry/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub e: EnterpriseView,
    pub can_edit: bool,
}

async fn detail(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<DetailPage> {
    let e = registry::get(&state.services, &actor, id_of(&id)?).await?;
    Ok(DetailPage {
        e,
        can_edit: actor.may(Action::EditRegistry),
        chrome: chrome(&session, Some(&actor), "registry").await,
    })
}

// ---------------------------------------------------------------------------------------------
// New and edit

/// The form as posted. Kinds are one checkbox each (an urlencoded form cannot carry a list here).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EnterpriseForm {
    pub name: String,
    pub uscc: String,
    pub division_code: String,
    pub address: String,
    pub kind_producer: Option<String>,
    pub kind_seller: Option<String>,
    pub kind_fuel_station: Option<String>,
    pub kind_e_commerce: Option<String>,
    pub size_class: String,
    pub product_lines: String,
    pub licence_no: String,
    pub licence_valid_until: String,
    pub ccc_cert_no: String,
    pub status: String,
}

impl EnterpriseForm {
    fn kind_codes(&self) -> Vec<String> {
        [
            (&self.kind_producer, EnterpriseKind::Producer),
            (&self.kind_seller, EnterpriseKind::Seller),
            (&self.kind_fuel_station, EnterpriseKind::FuelStation),
            (&self.kind_e_commerce, EnterpriseKind::ECommerce),
        ]
        .into_iter()
        .filter(|(v, _)| v.is_some())
        .map(|(_, k)| k.as_str().to_string())
        .collect()
    }

    fn draft(&self) -> EnterpriseDraft {
        EnterpriseDraft {
            name: self.name.clone(),
            uscc: self.uscc.clone(),
            division_code: self.division_code.clone(),
            address: self.address.clone(),
            kinds: self.kind_codes().join("、"),
            size_class: self.size_class.clone(),
            product_lines: self.product_lines.clone(),
            licence_no: self.licence_no.clone(),
            licence_valid_until: self.licence_valid_until.clone(),
            ccc_cert_no: self.ccc_cert_no.clone(),
            status: self.status.clone(),
        }
    }
}

/// The values the form shows: as typed after a refusal, or the entry's own.
pub struct FormValues {
    pub name: String,
    pub uscc: String,
    pub division_code: String,
    pub address: String,
    pub product_lines: String,
    pub licence_no: String,
    pub licence_valid_until: String,
    pub ccc_cert_no: String,
}

/// One message per field (several problems of a field are joined).
#[derive(Default)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub division_code: Option<String>,
    pub address: Option<String>,
    pub kinds: Option<String>,
    pub size_class: Option<String>,
    pub product_lines: Option<String>,
    pub licence_no: Option<String>,
    pub licence_valid_until: Option<String>,
    pub ccc_cert_no: Option<String>,
    pub status: Option<String>,
    /// Problems not about one field.
    pub other: Vec<String>,
}

impl FieldErrors {
    fn from_service(e: &ServiceError) -> FieldErrors {
        let mut out = FieldErrors::default();
        let ServiceError::Invalid(violations) = e else {
            out.other.push(body_of(e).message);
            return out;
        };
        for v in violations {
            let slot = match v.field.as_deref() {
                Some("name") => &mut out.name,
                Some("uscc") => &mut out.uscc,
                Some("division_code") => &mut out.division_code,
                Some("address") => &mut out.address,
                Some("kinds") => &mut out.kinds,
                Some("size_class") => &mut out.size_class,
                Some("product_lines") => &mut out.product_lines,
                Some("licence_no") => &mut out.licence_no,
                Some("licence_valid_until") => &mut out.licence_valid_until,
                Some("ccc_cert_no") => &mut out.ccc_cert_no,
                Some("status") => &mut out.status,
                _ => {
                    out.other.push(v.message.clone());
                    continue;
                }
            };
            *slot = Some(match slot.take() {
                Some(prev) => format!("{prev}；{}", v.message),
                None => v.message.clone(),
            });
        }
        out
    }

    pub fn any(&self) -> bool {
        !self.other.is_empty()
            || [
                &self.name,
                &self.uscc,
                &self.division_code,
                &self.address,
                &self.kinds,
                &self.size_class,
                &self.product_lines,
                &self.licence_no,
                &self.licence_valid_until,
                &self.ccc_cert_no,
                &self.status,
            ]
            .iter()
            .any(|f| f.is_some())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "registry/form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub title: String,
    pub action: String,
    pub cancel_href: String,
    pub v: FormValues,
    pub kinds: Vec<Choice>,
    pub sizes: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub errors: FieldErrors,
}

impl FormPage {
    async fn new(
        session: &Session,
        actor: &Actor,
        (title, action, cancel_href): (String, String, String),
        form: &EnterpriseForm,
        errors: FieldErrors,
    ) -> FormPage {
        FormPage {
            title,
            action,
            cancel_href,
            v: FormValues {
                name: form.name.clone(),
                uscc: form.uscc.clone(),
                division_code: form.division_code.clone(),
                address: form.address.clone(),
                product_lines: form.product_lines.clone(),
                licence_no: form.licence_no.clone(),
                licence_valid_until: form.licence_valid_until.clone(),
                ccc_cert_no: form.ccc_cert_no.clone(),
            },
            kinds: kind_choices(&form.kind_codes()),
            sizes: size_choices(&form.size_class),
            statuses: status_choices(if form.status.is_empty() { "operating" } else { &form.status }),
            errors,
            chrome: chrome(session, Some(actor), "registry").await,
        }
    }
}

/// The entry's values as the form posts them (codes for kinds, size and status).
fn form_of(e: &EnterpriseView) -> EnterpriseForm {
    let d = e.to_draft();
    let kinds = KindSet::parse(&d.kinds).unwrap_or_default();
    let flag = |k: EnterpriseKind| kinds.contains(k).then(|| "on".to_string());
    EnterpriseForm {
        name: d.name,
        uscc: d.uscc,
        division_code: d.division_code,
        address: d.address,
        kind_producer: flag(EnterpriseKind::Producer),
        kind_seller: flag(EnterpriseKind::Seller),
        kind_fuel_station: flag(EnterpriseKind::FuelStation),
        kind_e_commerce: flag(EnterpriseKind::ECommerce),
        size_class: e.size_class.clone().unwrap_or_default(),
        product_lines: d.product_lines,
        licence_no: d.licence_no,
        licence_valid_until: d.licence_valid_until,
        ccc_cert_no: d.ccc_cert_no,
        status: e.status.clone(),
    }
}

fn new_labels() -> (String, String, String) {
    ("新增企业".into(), "/registry/new".into(), "/registry".into())
}

fn edit_labels(id: i64, name: &str) -> (String, String, String) {
    (format!("编辑：{name}"), format!("/registry/{id}/edit"), format!("/registry/{id}"))
}

fn require_edit(actor: &Actor) -> Result<(), PageError> {
    actor.require(Action::EditRegistry).map_err(PageError)
}

async fn new_form(session: Session, PageActor(actor): PageActor) -> PageResult<FormPage> {
    require_edit(&actor)?;
    let form = EnterpriseForm { status: "operating".into(), ..Default::default() };
    Ok(FormPage::new(&session, &actor, new_labels(), &form, FieldErrors::default()).await)
}

/// A refused form comes back with the typed values and each field's problem.
async fn refused(
    session: &Session,
    actor: &Actor,
    labels: (String, String, String),
    form: &EnterpriseForm,
    e: ServiceError,
) -> Response {
    let status = status_of(&e);
    let page = FormPage::new(session, actor, labels, form, FieldErrors::from_service(&e)).await;
    (status, page).into_response()
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PageForm(form): PageForm<EnterpriseForm>,
) -> PageResult<Response> {
    match registry::create(&state.services, &actor, form.draft()).await {
        Ok(view) => {
            set_flash(&session, &format!("已新增企业“{}”", view.name)).await;
            Ok(Redirect::to(&format!("/registry/{}", view.id)).into_response())
        }
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Duplicate(_))) => {
            Ok(refused(&session, &actor, new_labels(), &form, e).await)
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<FormPage> {
    require_edit(&actor)?;
    let e = registry::get(&state.services, &actor, id_of(&id)?).await?;
    let form = form_of(&e);
    Ok(FormPage::new(&session, &actor, edit_labels(e.id, &e.name), &form, FieldErrors::default()).await)
}

async fn update(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(form): PageForm<EnterpriseForm>,
) -> PageResult<Response> {
    let id = id_of(&id)?;
    match registry::update(&state.services, &actor, id, form.draft()).await {
        Ok(view) => {
            set_flash(&session, &format!("已保存企业“{}”", view.name)).await;
            Ok(Redirect::to(&format!("/registry/{id}")).into_response())
        }
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Duplicate(_))) => {
            let name = if form.name.trim().is_empty() { "企业".to_string() } else { form.name.clone() };
            Ok(refused(&session, &actor, edit_labels(id, &name), &form, e).await)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Import

/// A column of the layout as the upload page describes it.
pub struct ColumnHelp {
    pub header: &'static str,
    pub required: bool,
    pub aliases: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "registry/import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
    pub columns: Vec<ColumnHelp>,
    pub modes: Vec<Choice>,
    pub dry_run: bool,
    pub error: Option<String>,
}

impl ImportPage {
    async fn new(
        session: &Session,
        actor: &Actor,
        on_existing: OnExisting,
        dry_run: bool,
        error: Option<String>,
    ) -> ImportPage {
        ImportPage {
            columns: COLUMNS
                .iter()
                .map(|c| ColumnHelp { header: c.header, required: c.required, aliases: c.aliases.join("、") })
                .collect(),
            modes: OnExisting::ALL
                .into_iter()
                .map(|m| Choice { value: m.as_str(), label: m.label(), selected: m == on_existing })
                .collect(),
            dry_run,
            error,
            chrome: chrome(session, Some(actor), "registry").await,
        }
    }
}

async fn import_page(session: Session, PageActor(actor): PageActor) -> PageResult<ImportPage> {
    require_edit(&actor)?;
    Ok(ImportPage::new(&session, &actor, OnExisting::default(), false, None).await)
}

/// Upload: the import starts in the background and the browser goes to its progress page.
async fn import_upload(
    State(state): State<AppState>,
    Extension(jobs): Extension<registry_import::ImportJobs>,
    session: Session,
    PageActor(actor): PageActor,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    require_edit(&actor)?;
    let started = match read_upload(multipart).await {
        Ok(upload) => {
            let (mode, dry) = (upload.options.on_existing, upload.options.dry_run);
            jobs.start(&state.services, &actor, upload.bytes, upload.options).map_err(|e| (e, mode, dry))
        }
        Err(e) => Err((e, OnExisting::default(), false)),
    };
    match started {
        Ok(id) => Ok(Redirect::to(&format!("/registry/import/{id}")).into_response()),
        Err((e @ (ServiceError::Invalid(_) | ServiceError::Rule(_)), mode, dry)) => {
            let status = status_of(&e);
            let page = ImportPage::new(&session, &actor, mode, dry, Some(body_of(&e).message)).await;
            Ok((status, page).into_response())
        }
        Err((e, _, _)) => Err(e.into()),
    }
}

/// A job as the progress fragment shows it.
pub struct JobDisplay {
    pub id: String,
    pub file_name: String,
    /// running | failed | refused | validated | imported
    pub state: &'static str,
    pub phase: &'static str,
    pub done: usize,
    pub total: usize,
    pub percent: usize,
    pub elapsed_secs: u64,
    pub message: String,
    pub report: Option<ImportReport>,
    pub errors: Vec<RowError>,
}

impl From<ImportJobView> for JobDisplay {
    fn from(j: ImportJobView) -> Self {
        let mut d = JobDisplay {
            id: j.id,
            file_name: j.file_name,
            state: "running",
            phase: "",
            done: 0,
            total: 0,
            percent: 0,
            elapsed_secs: j.elapsed_secs,
            message: String::new(),
            report: None,
            errors: Vec::new(),
        };
        match j.state {
            ImportJobState::Running(p) => {
                d.phase = p.phase.label();
                d.done = p.done;
                d.total = p.total;
                d.percent = p.percent();
            }
            ImportJobState::Failed { message } => {
                d.state = "failed";
                d.message = message;
            }
            ImportJobState::Finished(mut r) => {
                d.state = if r.is_refused() {
                    "refused"
                } else if r.dry_run {
                    "validated"
                } else {
                    "imported"
                };
                d.errors = std::mem::take(&mut r.errors);
                d.report = Some(r);
            }
        }
        d
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "registry/import_job.html")]
pub struct ImportJobPage {
    pub chrome: Chrome,
    pub job: JobDisplay,
}

#[derive(Template, WebTemplate)]
#[template(path = "registry/import_status.html")]
pub struct ImportStatusFragment {
    pub job: JobDisplay,
}

async fn import_job(
    Extension(jobs): Extension<registry_import::ImportJobs>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(job): PagePath<String>,
) -> PageResult<ImportJobPage> {
    let job = jobs.get(&actor, &job)?.into();
    Ok(ImportJobPage { job, chrome: chrome(&session, Some(&actor), "registry").await })
}

async fn import_status(
    Extension(jobs): Extension<registry_import::ImportJobs>,
    PageActor(actor): PageActor,
    PagePath(job): PagePath<String>,
) -> PageResult<ImportStatusFragment> {
    Ok(ImportStatusFragment { job: jobs.get(&actor, &job)?.into() })
}
