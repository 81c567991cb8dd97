//! The in-memory list of running imports that the pages poll for progress.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use serde::Serialize;

use crate::{Actor, Result, ServiceError, Services};

use super::{ImportOptions, ImportPhase, ImportProgress, ImportReport, import};

/// An import running in the background, as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportJobView {
    pub id: String,
    pub file_name: String,
    pub dry_run: bool,
    pub state: ImportJobState,
    /// Seconds since the upload.
    pub elapsed_secs: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImportJobState {
    Running(ImportProgress),
    /// Finished: imported, validated (dry run) or refused with its row errors.
    Finished(ImportReport),
    /// The request itself failed (unreadable file, no permission, database error): the message.
    Failed {
        message: String,
    },
}

struct Job {
    owner: i64,
    file_name: String,
    dry_run: bool,
    started: Instant,
    finished: Option<Instant>,
    state: ImportJobState,
}

/// Imports running in the background, so that a page can upload a large file and then poll its
/// progress. Kept in memory: a restart loses the list (and rolls back an unfinished import, which
/// runs in one transaction).
#[derive(Clone, Default)]
pub struct ImportJobs {
    jobs: Arc<Mutex<HashMap<String, Job>>>,
}

impl std::fmt::Debug for ImportJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportJobs").finish_non_exhaustive()
    }
}

/// Finished jobs are forgotten after this long.
const KEEP_FINISHED: Duration = Duration::from_secs(3600);

impl ImportJobs {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Job>> {
        // A panic while holding the lock leaves the map usable (each entry is replaced whole).
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start importing in the background; returns the job's id. Permission is checked at once.
    pub fn start(&self, s: &Services, actor: &Actor, bytes: Vec<u8>, opts: ImportOptions) -> Result<String> {
        actor.require(Action::EditRegistry)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        {
            let mut jobs = self.lock();
            jobs.retain(|_, j| j.finished.is_none_or(|t| t.elapsed() < KEEP_FINISHED));
            if jobs.values().any(|j| j.owner == actor.user_id && j.finished.is_none()) {
                return Err(ServiceError::Rule(RuleViolation::new(
                    "import_running",
                    "您已有一个导入正在进行，请等它完成后再上传",
                )));
            }
            jobs.insert(
                id.clone(),
                Job {
                    owner: actor.user_id,
                    file_name: opts.file_name.clone(),
                    dry_run: opts.dry_run,
                    started: Instant::now(),
                    finished: None,
                    state: ImportJobState::Running(ImportProgress { phase: ImportPhase::Reading, done: 0, total: 0 }),
                },
            );
        }
        let (s, actor, jobs, job_id) = (s.clone(), actor.clone(), self.clone(), id.clone());
        tokio::spawn(async move {
            let reporter = jobs.clone();
            let rid = job_id.clone();
            let work = tokio::spawn(async move {
                import(&s, &actor, bytes, &opts, move |p| reporter.set(&rid, ImportJobState::Running(p), false)).await
            });
            let state = match work.await {
                Ok(Ok(report)) => ImportJobState::Finished(report),
                Ok(Err(e)) => ImportJobState::Failed { message: e.to_string() },
                Err(e) => ImportJobState::Failed { message: ServiceError::internal(e).to_string() },
            };
            jobs.set(&job_id, state, true);
        });
        Ok(id)
    }

    fn set(&self, id: &str, state: ImportJobState, finished: bool) {
        if let Some(j) = self.lock().get_mut(id) {
            j.state = state;
            if finished {
                j.finished = Some(Instant::now());
            }
        }
    }

    /// A job of the actor's (another user's job is not found).
    pub fn get(&self, actor: &Actor, id: &str) -> Result<ImportJobView> {
        let jobs = self.lock();
        let j = jobs.get(id).filter(|j| j.owner == actor.user_id).ok_or(ServiceError::NotFound("导入任务"))?;
        Ok(ImportJobView {
            id: id.to_string(),
            file_name: j.file_name.clone(),
            dry_run: j.dry_run,
            state: j.state.clone(),
            elapsed_secs: j.finished.unwrap_or_else(Instant::now).duration_since(j.started).as_secs(),
        })
    }
}
