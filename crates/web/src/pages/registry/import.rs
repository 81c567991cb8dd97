//! Import: an uploaded table imported in the background, with its progress.

use super::*;

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

pub(super) async fn import_page(session: Session, PageActor(actor): PageActor) -> PageResult<ImportPage> {
    require_edit(&actor)?;
    Ok(ImportPage::new(&session, &actor, OnExisting::default(), false, None).await)
}

/// Upload: the import starts in the background and the browser goes to its progress page.
pub(super) async fn import_upload(
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

pub(super) async fn import_job(
    Extension(jobs): Extension<registry_import::ImportJobs>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(job): PagePath<String>,
) -> PageResult<ImportJobPage> {
    let job = jobs.get(&actor, &job)?.into();
    Ok(ImportJobPage { job, chrome: chrome(&session, Some(&actor), "registry").await })
}

pub(super) async fn import_status(
    Extension(jobs): Extension<registry_import::ImportJobs>,
    PageActor(actor): PageActor,
    PagePath(job): PagePath<String>,
) -> PageResult<ImportStatusFragment> {
    Ok(ImportStatusFragment { job: jobs.get(&actor, &job)?.into() })
}
