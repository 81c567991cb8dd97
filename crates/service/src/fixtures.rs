#![allow(clippy::expect_used)]
//! Fixtures for tests of this crate and the crates above it: a small bureau tree, an institution and
//! a user of each role, created through the use cases themselves (so they are audited like any data).

use choucha_domain::enterprise::EnterpriseDraft;
use choucha_domain::uscc::Uscc;
use choucha_store::fixtures::TestDb;

use crate::organisations::{OrgInput, OrgView};
use crate::users::NewUserInput;
use crate::{Actor, Services, auth, organisations, users};

/// The password of every fixture user.
pub const PASSWORD: &str = "test-pass-2025";

pub struct Fixture {
    pub db: TestDb,
    pub services: Services,
    pub province: OrgView,
    pub city: OrgView,
    pub county: OrgView,
    pub other_county: OrgView,
    pub institution: OrgView,
    /// Unscoped system administrator (accounts, organisations, settings).
    pub admin: Actor,
    /// The security administrator (grants roles).
    pub security: Actor,
    /// The audit administrator (the audit log only).
    pub auditor: Actor,
}

fn org(code: &str, name: &str, kind: &str, parent: Option<&str>, division: Option<&str>) -> OrgInput {
    OrgInput {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        parent_code: parent.map(str::to_string),
        division_code: division.map(str::to_string),
        active: true,
        ..Default::default()
    }
}

impl Fixture {
    pub async fn new() -> Fixture {
        let db = TestDb::new().await.expect("test database");
        // Each world signs with its own key files (issue 18), in a folder of its own.
        let signing = std::env::temp_dir().join(format!("choucha-signing-{}", uuid::Uuid::new_v4().simple()));
        let services = Services::new(db.store.clone(), std::env::temp_dir()).with_signing_dir(signing);
        let s = &services;
        let province = organisations::create_as_system(
            s,
            "test",
            org("sx", "山西省市场监督管理局", "province_bureau", None, Some("140000")),
        )
        .await
        .expect("province");
        let city = organisations::create_as_system(
            s,
            "test",
            org("dt", "大同市市场监督管理局", "city_bureau", Some("sx"), Some("140200")),
        )
        .await
        .expect("city");
        let county = organisations::create_as_system(
            s,
            "test",
            org("dt-pc", "大同市平城区市场监督管理局", "local_bureau", Some("dt"), Some("140213")),
        )
        .await
        .expect("county");
        let other_county = organisations::create_as_system(
            s,
            "test",
            org("dt-yg", "大同市阳高县市场监督管理局", "local_bureau", Some("dt"), Some("140221")),
        )
        .await
        .expect("county");
        let mut inst = org("lab", "山西省检验检测中心", "institution", None, Some("140000"));
        inst.cap_sampling = true;
        inst.cap_testing = true;
        inst.qualification_no = Some("CMA 160412345678".into());
        let institution = organisations::create_as_system(s, "test", inst).await.expect("institution");
        let admin = Self::make_user(s, "admin", "系统管理员", &["system_admin"], None, None).await;
        let security = Self::make_user(s, "security", "安全管理员", &["security_admin"], None, None).await;
        let auditor = Self::make_user(s, "auditor", "审计管理员", &["audit_admin"], None, None).await;
        Fixture { db, services, province, city, county, other_county, institution, admin, security, auditor }
    }

    /// A new account with roles, as a deployment makes one (三权分立): the system administrator
    /// creates the account, the security administrator grants its roles. The first refusal is
    /// returned as it is.
    pub async fn create_user(&self, mut input: NewUserInput) -> crate::Result<users::UserView> {
        let roles = std::mem::take(&mut input.roles);
        let u = users::create(&self.services, &self.admin, input).await?;
        if roles.is_empty() {
            return Ok(u);
        }
        users::set_roles(&self.services, &self.security, u.id, users::RolesInput { roles }).await
    }

    /// Create a user through the bootstrap use case and return it as an actor.
    pub async fn make_user(
        s: &Services,
        username: &str,
        name: &str,
        roles: &[&str],
        org_code: Option<&str>,
        enterprise_uscc: Option<&str>,
    ) -> Actor {
        let u = users::create_as_system(
            s,
            "test",
            NewUserInput {
                username: username.into(),
                display_name: name.into(),
                password: PASSWORD.into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                org_code: org_code.map(str::to_string),
                enterprise_uscc: enterprise_uscc.map(str::to_string),
                ..Default::default()
            },
        )
        .await
        .expect("fixture user");
        auth::actor_for_user(s, u.id).await.expect("actor")
    }

    pub async fn user(&self, username: &str, roles: &[&str], org_code: Option<&str>) -> Actor {
        Self::make_user(&self.services, username, username, roles, org_code, None).await
    }

    /// A registry entry in `division` (a valid USCC is derived from `n`).
    pub async fn enterprise(&self, name: &str, division: &str, kinds: &str, n: u32) -> crate::registry::EnterpriseView {
        let draft = EnterpriseDraft {
            name: name.into(),
            uscc: test_uscc(division, n).to_string(),
            division_code: division.into(),
            address: format!("{division}某路{n}号"),
            kinds: kinds.into(),
            product_lines: FIXTURE_PRODUCTS.into(),
            ..Default::default()
        };
        crate::registry::create(&self.services, &self.admin, draft).await.expect("enterprise")
    }
}

/// What fixture enterprises make or sell: the products of the Datong 2025 notice, so every test plan
/// item finds them by product line.
/// The code an authenticator app shows for `secret` (base32, as enrolment gives it) `steps`
/// 30-second steps from the real now.
#[allow(clippy::expect_used)]
pub fn authenticator_code(s: &Services, secret: &str, username: &str, steps: i64) -> String {
    use totp_rs::{Algorithm, Builder, Secret};
    let t = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).expect("base32 secret").as_bytes().to_vec())
        .with_account_name(username)
        .with_issuer(Some("Choucha"))
        .build()
        .expect("TOTP");
    let at = s.clock().real_now().timestamp() + steps * 30;
    t.generate(u64::try_from(at).unwrap_or_default()).to_string()
}

pub const FIXTURE_PRODUCTS: &str = "车用柴油；电冰箱；家用电动洗衣机；羊绒针织衫；羽绒服装";

/// A valid USCC registered in `division`, distinct for each `n`.
pub fn test_uscc(division: &str, n: u32) -> Uscc {
    Uscc::from_first17(&format!("91{division}MA{n:07}")).expect("valid test uscc")
}
pub mod lab_world;

/// A fresh, empty folder of the S3-compatible test server (moto, started by scripts/test.sh and
/// named by `CHOUCHA_TEST_S3_ENDPOINT`, with the bucket `CHOUCHA_TEST_S3_BUCKET`, default
/// `choucha-test`): each call gets its own prefix. `None` (the test skips, with a notice) when the
/// server is not configured, except under `CI=true`, where a missing server fails the test.
pub fn s3_files() -> Option<crate::files::FileStore> {
    s3_config().map(|config| crate::files::FileStore::s3(&config).expect("S3 test store"))
}

/// The settings of such a fresh folder, for tests that hand them to the binary.
pub fn s3_config() -> Option<crate::files::S3Config> {
    let Some(endpoint) = std::env::var("CHOUCHA_TEST_S3_ENDPOINT").ok().filter(|e| !e.trim().is_empty()) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CHOUCHA_TEST_S3_ENDPOINT is not set: under CI the object storage tests must run (scripts/test.sh starts moto)"
        );
        eprintln!("CHOUCHA_TEST_S3_ENDPOINT not set: object storage test skipped");
        return None;
    };
    let bucket = std::env::var("CHOUCHA_TEST_S3_BUCKET").unwrap_or_else(|_| "choucha-test".into());
    Some(crate::files::S3Config {
        url: format!("s3://{bucket}/t-{}", uuid::Uuid::new_v4().simple()),
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        allow_http: true,
    })
}
