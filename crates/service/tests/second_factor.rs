//! Two-factor sign-in (issue 15, item 2): enrolment with a server-drawn QR code, confirmation with
//! a code, each code accepted once, one-time recovery codes, and the reset by the security
//! administrator only. On SQLite, and on PostgreSQL with CHOUCHA_TEST_DATABASE_URL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_service::fixtures::Fixture;
use choucha_service::second_factor;
use choucha_service::{ServiceError, personal};
use choucha_store::audit::AuditFilter;
use sea_orm::{ConnectionTrait, Statement};
use totp_rs::{Algorithm, Builder, Secret};

/// The code an authenticator app shows `steps` time steps from now.
fn code(secret: &str, username: &str, steps: i64, fx: &Fixture) -> String {
    let t = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).unwrap().as_bytes().to_vec())
        .with_account_name(username)
        .with_issuer(Some("Choucha"))
        .build()
        .unwrap();
    let at = fx.services.clock().real_now().timestamp() + steps * 30;
    t.generate(u64::try_from(at).unwrap()).to_string()
}

#[tokio::test]
async fn a_regulator_enrols_confirms_and_signs_in_with_each_code_once() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let reg = fx.user("reg1", &["regulator"], Some("dt")).await;
    assert!(!second_factor::status(s, &reg).await.unwrap().enrolled);

    let e = second_factor::start(s, &reg).await.unwrap();
    assert!(e.otpauth_url.starts_with("otpauth://totp/Choucha:reg1?"), "{}", e.otpauth_url);
    assert!(e.qr_png_base64.len() > 200, "a QR code drawn here");
    // The secret is stored sealed.
    let db = s.store().reader();
    let sql = format!("SELECT secret FROM second_factors WHERE user_id = {}", reg.user_id);
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let stored: String = row.try_get_by_index(0).unwrap();
    assert!(personal::is_sealed(&stored) && !stored.contains(&e.secret));
    // Not in force before it is confirmed; a wrong code does not confirm it.
    assert!(!second_factor::enrolled(s, reg.user_id).await.unwrap());
    let wrong = second_factor::confirm(s, &reg, "000000").await;
    assert!(matches!(wrong, Err(ServiceError::Invalid(_))) || code(&e.secret, "reg1", 0, &fx) == "000000");
    let recovery = second_factor::confirm(s, &reg, &code(&e.secret, "reg1", 0, &fx)).await.unwrap();
    assert_eq!(recovery.len(), second_factor::RECOVERY_CODES);
    assert!(second_factor::enrolled(s, reg.user_id).await.unwrap());
    // A second enrolment is refused while one is in force.
    assert!(matches!(second_factor::start(s, &reg).await, Err(ServiceError::Rule(_))));

    // The code of the confirmation's step is used up; the next step's is accepted, once.
    let used = second_factor::check(s, reg.user_id, "reg1", &code(&e.secret, "reg1", 0, &fx)).await;
    assert!(matches!(used, Err(ServiceError::Invalid(_))), "{used:?}");
    let next = code(&e.secret, "reg1", 1, &fx);
    second_factor::check(s, reg.user_id, "reg1", &next).await.unwrap();
    assert!(matches!(second_factor::check(s, reg.user_id, "reg1", &next).await, Err(ServiceError::Invalid(_))));
    // A code far from now is refused.
    let late = code(&e.secret, "reg1", 10, &fx);
    assert!(second_factor::check(s, reg.user_id, "reg1", &late).await.is_err());

    // A recovery code works once, typed in any case and with spaces.
    let typed = format!(" {} ", recovery[3].to_uppercase());
    second_factor::check(s, reg.user_id, "reg1", &typed).await.unwrap();
    assert!(second_factor::check(s, reg.user_id, "reg1", &recovery[3]).await.is_err());
    assert_eq!(second_factor::status(s, &reg).await.unwrap().recovery_codes_left, 9);
    let f = AuditFilter { action: Some("auth.".into()), actor_id: Some(reg.user_id), ..Default::default() };
    let actions: Vec<String> = choucha_service::audit::list(s, &fx.auditor, &f, None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.action)
        .collect();
    for a in ["auth.second_factor_start", "auth.second_factor_enrol", "auth.second_factor", "auth.recovery_code_used"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn only_the_security_administrator_resets_a_second_factor() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let reg = fx.user("reg1", &["regulator"], Some("dt")).await;
    let e = second_factor::start(s, &reg).await.unwrap();
    second_factor::confirm(s, &reg, &code(&e.secret, "reg1", 0, &fx)).await.unwrap();
    for who in [&fx.admin, &fx.auditor, &reg] {
        assert!(matches!(second_factor::reset(s, who, reg.user_id).await, Err(ServiceError::Forbidden(_))));
    }
    second_factor::reset(s, &fx.security, reg.user_id).await.unwrap();
    assert!(!second_factor::enrolled(s, reg.user_id).await.unwrap());
    // Nothing left to reset; the user enrols again.
    assert!(second_factor::reset(s, &fx.security, reg.user_id).await.is_err());
    second_factor::start(s, &reg).await.unwrap();
}
