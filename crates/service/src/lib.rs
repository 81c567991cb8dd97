//! Use cases of Choucha: one function per user action. Every function takes the acting user
//! (`&Actor`), checks a pure permission predicate from the domain and the caller's organisation, and
//! runs its writes in one transaction together with the audit record. The API and the pages call the
//! same functions, so authorisation lives here once.

pub mod access;
pub mod actor;
pub mod analysis_texts;
pub mod announcements;
pub mod arrival;
pub mod audit;
pub mod auth;
pub mod backup_requests;
pub mod bound_volume;
pub mod calendar;
pub mod cases;
pub mod confirmations;
pub mod custody;
pub mod custody_chain;
pub mod custody_hands;
pub mod custody_sign;
pub mod disposal;
pub mod documents;
pub mod draws;
pub mod entry_deadlines;
pub mod error;
pub mod evidence;
pub mod files;
/// Fixtures for tests (worlds of bureaus, labs and users): compiled only for tests, never into the
/// binary.
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
pub mod handover;
pub mod implementation_rules;
pub mod inbox;
pub mod issue;
pub mod jobs;
pub mod lab;
pub mod national_export;
pub mod objections;
pub mod organisations;
pub mod overdue_counts;
pub mod overview;
pub mod personal;
pub mod plan_costs;
pub mod plans;
pub mod registry;
pub mod registry_import;
mod result_notice;
pub mod results;
pub mod retests;
pub mod sampling;
pub mod seals;
pub mod second_factor;
pub mod sessions;
pub mod signature;
pub mod signing;
pub mod statistics;
pub(crate) mod task_context;
pub mod task_documents;
pub mod training;
pub mod users;
pub mod verify;
pub mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use actor::Actor;
/// A page of a list, with the cursor of the next one.
pub use choucha_store::Page;
pub use error::ServiceError;
pub use write::Write;

use choucha_domain::clock::Clock;
use choucha_store::Store;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Everything a use case needs: the database, the file store (evidence, generated files), the data
/// folder (staging of uploads) and the document renderer (loaded on first use: finding fonts takes
/// ~100 ms).
#[derive(Clone)]
pub struct Services {
    /// The database: reached by the use cases of this crate; outside it only by the composition
    /// root (CLI, seed, bench) and tests, through [`Services::store`]. The web never names it
    /// (`crates/web/tests/architecture.rs`).
    store: Store,
    /// The local data folder: staging of resumable uploads, and the stored files themselves when
    /// `files` is the local store (the default).
    pub data_dir: Arc<Path>,
    /// Where stored files are kept: every read and write of a stored file goes through it.
    files: files::FileStore,
    /// Extra folders searched for fonts before the system's.
    pub font_dirs: Arc<[PathBuf]>,
    renderer: Arc<tokio::sync::OnceCell<choucha_documents::Renderer>>,
    /// Sign-in, password and session rules of the deployment (`[security]` of the configuration).
    policy: Arc<auth::SecurityPolicy>,
    /// The signed-in users of recent requests, emptied by every committed write (`auth::actor_cache`).
    actors: Arc<auth::actor_cache::ActorCache>,
    /// A training instance (`[training] enabled` or `serve --demo`): its business date may be moved
    /// (`training`). Never on production.
    training: bool,
    /// Where the institutions' SM2 key files are kept (`signing_key_dir`, by default
    /// `<data_dir>/signing`).
    signing_dir: Arc<Path>,
    /// The address people reach the system at (`public_url`): printed in the verification URL and
    /// QR code of a signed document.
    public_url: Arc<str>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").field("data_dir", &self.data_dir).field("files", &self.files).finish_non_exhaustive()
    }
}

impl Services {
    /// Services over `store`, on the store's clock (the machine's time unless the store was given
    /// one), under the production policy without a second factor required (a deployment sets its
    /// own with [`Services::with_policy`], from its configuration).
    pub fn new(store: Store, data_dir: PathBuf) -> Self {
        Self {
            store,
            files: files::FileStore::local(data_dir.clone()),
            font_dirs: Arc::from([]),
            renderer: Arc::default(),
            policy: Arc::new(auth::SecurityPolicy::without_second_factor()),
            actors: Arc::default(),
            training: false,
            signing_dir: data_dir.join("signing").into(),
            public_url: Arc::from("http://127.0.0.1:8080"),
            data_dir: data_dir.into(),
        }
    }

    /// These services with the SM2 key files in `dir`.
    pub fn with_signing_dir(mut self, dir: PathBuf) -> Self {
        self.signing_dir = dir.into();
        self
    }

    /// Where the SM2 key files are kept.
    pub fn signing_dir(&self) -> &Path {
        &self.signing_dir
    }

    /// These services reached by people at `url` (e.g. `https://choucha.example.gov.cn`).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// The public verification page of a signed document.
    pub fn verify_url(&self, token: &str) -> String {
        format!("{}/verify/{token}", self.public_url)
    }

    /// These services with their files in `files` (object storage) instead of the data folder.
    pub fn with_files(mut self, files: files::FileStore) -> Self {
        self.files = files;
        self
    }

    /// Where stored files are kept.
    pub fn files(&self) -> &files::FileStore {
        &self.files
    }

    /// These services under the security policy `policy`.
    pub fn with_policy(mut self, policy: auth::SecurityPolicy) -> Self {
        self.policy = Arc::new(policy);
        // What a signed-in user must do depends on the policy: these services keep their own.
        self.actors = Arc::default();
        self
    }

    /// These services as a training instance (`true`): the system administrator may move the
    /// business date (`training::move_forward`).
    pub fn with_training(mut self, training: bool) -> Self {
        self.training = training;
        self
    }

    /// Whether this is a training instance.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The security policy: sign-in protection, password rules, session limits.
    pub fn policy(&self) -> &auth::SecurityPolicy {
        &self.policy
    }

    /// The database, for the composition root (CLI commands, demo and bench seeding) and tests
    /// only: a use case is the way in for everything else.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Keep the query planner's statistics current (hourly, by `serve`).
    pub async fn optimize(&self) -> Result<()> {
        Ok(self.store.optimize().await?)
    }

    /// The database pools' sizes and idle connections, `(pool, size, idle)` (`/metrics`).
    pub fn pool_status(&self) -> Vec<(&'static str, u32, usize)> {
        self.store.pool_status()
    }

    /// Closes the database's connections (at the end of a CLI command or of `serve`).
    pub async fn close(self) -> Result<()> {
        self.store.close().await?;
        Ok(())
    }

    /// These services, and their store's writes, on `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.store = self.store.with_clock(clock);
        self.actors = Arc::default();
        self
    }

    /// The one clock: every instant stamped and every date counted (Beijing time); the store's,
    /// so its writes are stamped by the same clock.
    pub fn clock(&self) -> &Clock {
        self.store.clock()
    }

    /// The current instant (UTC) by the clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock().now()
    }

    /// Today's date in Beijing, by the clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock().today()
    }

    /// Moves the clock forward (or back) by `days`, for every clone of these services and their
    /// store (tests reach day 15 and day 16 of an objection window this way).
    pub fn shift_today(&self, days: i64) {
        self.clock().advance(chrono::Duration::days(days));
    }

    pub fn with_font_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.font_dirs = dirs.into();
        self
    }

    /// The PDF renderer, loaded once (off the async runtime).
    pub async fn renderer(&self) -> Result<choucha_documents::Renderer> {
        let dirs = self.font_dirs.clone();
        let r = self
            .renderer
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || choucha_documents::Renderer::load(&dirs))
                    .await
                    .map_err(ServiceError::internal)?
                    .map_err(|e| ServiceError::internal(format!("PDF renderer: {e}")))
            })
            .await?;
        Ok(r.clone())
    }
}

/// The page size of list use cases when the caller names none.
pub const DEFAULT_PAGE_LIMIT: u64 = 50;
/// The largest page size a caller may ask for.
pub const MAX_PAGE_LIMIT: u64 = 200;

/// The page size of a list use case: absent is [`DEFAULT_PAGE_LIMIT`]; 0 or above
/// [`MAX_PAGE_LIMIT`] is refused (422, field `limit`), never clamped silently.
pub fn page_limit(limit: Option<u64>) -> Result<u64> {
    match limit {
        None => Ok(DEFAULT_PAGE_LIMIT),
        Some(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ServiceError::invalid(
            choucha_domain::RuleViolation::new(
                "invalid_limit",
                format!("每页条数（limit）须在1到{MAX_PAGE_LIMIT}之间，收到{n}"),
            )
            .on_field("limit"),
        )),
    }
}
