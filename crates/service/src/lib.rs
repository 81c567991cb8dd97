//! Use cases of Choucha: one function per user action. Every function takes the acting user
//! (`&Actor`), checks a pure permission predicate from the domain and the caller's organisation, and
//! runs its writes in one transaction together with the audit record. The API and the pages call the
//! same functions, so authorisation lives here once.

pub mod actor;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod error;
pub mod organisations;
pub mod registry;
pub mod testing;
pub mod users;

use std::path::PathBuf;

pub use actor::Actor;
pub use error::ServiceError;

use choucha_store::Store;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Everything a use case needs: the database and the data folder (evidence, generated files).
#[derive(Clone, Debug)]
pub struct Services {
    pub store: Store,
    pub data_dir: PathBuf,
}

impl Services {
    pub fn new(store: Store, data_dir: PathBuf) -> Self {
        Self { store, data_dir }
    }
}

/// Page size bounds for list use cases.
pub fn clamp_limit(limit: Option<u64>) -> u64 {
    limit.unwrap_or(50).clamp(1, 200)
}
