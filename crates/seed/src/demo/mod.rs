//! Demo data: the organisations of the two source notices (the Shanxi provincial bureau and its city
//! bureaus, the Datong city bureau with its county/district bureaus and the development-zone branch,
//! and the five institutions), one user for every role, and a synthetic enterprise registry of
//! Datong. Everything is created through the use cases or the store with its audit records, and
//! loading is idempotent: each step creates only what is missing, so a second load changes nothing.
//!
//! The registry is generated from a fixed seed with a small documented generator (SplitMix64), so
//! every load produces the same enterprises. Steps run in order — organisations, registry, users —
//! and a later step (the plans of both notices) is added as one more function in `load`.
//!
//! Each step is a module: `organisations`, `registry`, `users`; the plans are `crate::demo_plans`.

use choucha_domain::role::Role;
use serde::Serialize;

pub use crate::demo_plans::{
    CITY_ORG, GUOHAI_ORG, PASSWORD, PROVINCE_ORG, SHANXI_CENTRE_ORG, TIANFANGBIAO_ORG, TIANJIN51_ORG, WEINUO_ORG,
};
use choucha_service::{Result, Services};

mod organisations;
mod registry;
#[cfg(test)]
mod tests;
mod users;

use organisations::load_organisations;
pub use organisations::{DEV_ZONE_DIVISION, LOCAL_ORG};
use registry::load_registry;
pub use registry::{demo_enterprise_uscc, generate_registry};
use users::load_users;
pub use users::usernames;

/// The name the demo's audit records carry.
pub const AUDIT_NAME: &str = "demo";
/// Enterprises in the synthetic registry.
pub const ENTERPRISE_COUNT: usize = 3000;
/// Seed of the registry generator (the date of the Datong notice).
pub const SEED: u64 = 20250928;

/// A step of the load, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoProgress {
    Organisations { done: usize, total: usize },
    Enterprises { done: usize, total: usize },
    Users { done: usize, total: usize },
}

impl std::fmt::Display for DemoProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoProgress::Organisations { done, total } => write!(f, "机构 {done}/{total}"),
            DemoProgress::Enterprises { done, total } => write!(f, "企业名录 {done}/{total}"),
            DemoProgress::Users { done, total } => write!(f, "用户 {done}/{total}"),
        }
    }
}

/// A demo account as printed for people trying the system.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    /// Role codes.
    pub roles: Vec<String>,
    /// Chinese role names.
    pub role_labels: String,
    /// The organisation (or, for the enterprise user, the enterprise) the account belongs to.
    pub belongs_to: Option<String>,
    /// Whether this load created the account (false: it existed already and was left alone).
    pub created: bool,
}

/// What a load did.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// Nothing was missing: the demo had been loaded before.
    pub already_loaded: bool,
    pub organisations_created: usize,
    pub enterprises_created: usize,
    pub users_created: usize,
    /// The two notices' plans (see `demo_plans`).
    pub plans_created: usize,
    pub accounts: Vec<DemoAccount>,
    pub password: &'static str,
}

/// Load the demo data; creates only what is missing.
#[tracing::instrument(skip_all)]
pub async fn load(s: &Services, mut progress: impl FnMut(DemoProgress)) -> Result<DemoSummary> {
    let organisations_created = load_organisations(s, &mut progress).await?;
    let enterprises_created = load_registry(s, &mut progress).await?;
    let (users_created, accounts) = load_users(s, &mut progress).await?;
    let plans_created = crate::demo_plans::load_plans(s).await?.len();
    let mut accounts = accounts;
    for (username, name) in crate::demo_plans::GUOHAI_SAMPLERS {
        accounts.push(DemoAccount {
            username: username.into(),
            display_name: name.into(),
            roles: vec![Role::Sampler.as_str().into()],
            role_labels: Role::Sampler.label().into(),
            belongs_to: Some("山西国海质检技术服务有限公司（车用柴油抽样）".into()),
            created: plans_created > 0,
        });
    }
    Ok(DemoSummary {
        already_loaded: organisations_created + enterprises_created + users_created + plans_created == 0,
        organisations_created,
        enterprises_created,
        users_created,
        plans_created,
        accounts,
        password: PASSWORD,
    })
}
