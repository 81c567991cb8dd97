//! Two-factor sign-in (issue 15, item 2): enrolment with a server-drawn QR code, confirmation with
//! a code, each code accepted once, one-time recovery codes, and the reset by the security
//! administrator only; the policy that requires it of a role (no token and nothing but the
//! enrolment before it), and signing in with it (the code asked after the password, a wrong code
//! counting towards the lock). On SQLite, and on PostgreSQL with CHOUCHA_TEST_DATABASE_URL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::role::Role;
use choucha_service::auth::{self, Client, SecurityPolicy, SignIn};
use choucha_service::fixtures::{Fixture, PASSWORD, authenticator_code};
use choucha_service::second_factor;
use choucha_service::{ServiceError, personal};
use choucha_store::audit::AuditFilter;
use sea_orm::{ConnectionTrait, Statement};

/// The code an authenticator app shows `steps` time steps from now.
fn code(secret: &str, username: &str, steps: i64, fx: &Fixture) -> String {
    authenticator_code(&fx.services, secret, username, steps)
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

#[tokio::test]
async fn a_required_role_enrols_first_then_cannot_sign_in_without_the_code() {
    let fx = Fixture::new().await;
    let policy =
        SecurityPolicy { second_factor_roles: vec![Role::Regulator], ..SecurityPolicy::without_second_factor() };
    let s = &fx.services.clone().with_policy(policy);
    let here = Client { address: "10.1.1.1".into(), user_agent: "test".into() };
    let reg = fx.user("reg.two", &["regulator"], Some("dt")).await;
    fx.user("sampler.two", &["sampler"], Some("lab")).await;

    // Before enrolment: signed in, but only to enrol; no API token.
    let Ok(SignIn::Done(who)) = auth::sign_in(s, "reg.two", PASSWORD, &here).await else { panic!("signed in") };
    assert!(who.must_enrol_second_factor);
    let refused = auth::issue_token_from(s, "reg.two", PASSWORD, &here).await;
    assert!(matches!(refused, Err(ServiceError::SecondFactorEnrolmentRequired)), "{refused:?}");
    // A role the policy does not name is not asked.
    let Ok(SignIn::Done(other)) = auth::sign_in(s, "sampler.two", PASSWORD, &here).await else { panic!() };
    assert!(!other.must_enrol_second_factor);
    auth::issue_token_from(s, "sampler.two", PASSWORD, &here).await.unwrap();

    let e = second_factor::start(s, &reg).await.unwrap();
    assert_eq!(second_factor::pending(s, &reg).await.unwrap().unwrap().secret, e.secret, "shown again until confirmed");
    let recovery = second_factor::confirm(s, &reg, &code(&e.secret, "reg.two", 0, &fx)).await.unwrap();
    assert!(second_factor::pending(s, &reg).await.unwrap().is_none());

    // The password alone no longer signs in, on the page or for a token.
    let Ok(SignIn::CodeNeeded { user_id }) = auth::sign_in(s, "reg.two", PASSWORD, &here).await else {
        panic!("the code is asked for")
    };
    assert_eq!(user_id, reg.user_id);
    assert!(matches!(auth::login_from(s, "reg.two", PASSWORD, &here).await, Err(ServiceError::SecondFactorRequired)));
    let no_code = auth::issue_token_from(s, "reg.two", PASSWORD, &here).await;
    assert!(matches!(no_code, Err(ServiceError::SecondFactorRequired)), "{no_code:?}");
    let wrong = auth::finish_sign_in(s, reg.user_id, "12345x", &here).await;
    assert!(matches!(wrong, Err(ServiceError::BadSecondFactor)), "{wrong:?}");
    // With the code: signed in, and no longer asked to enrol.
    let who = auth::finish_sign_in(s, reg.user_id, &code(&e.secret, "reg.two", 1, &fx), &here).await.unwrap();
    assert!(!who.must_enrol_second_factor);
    let t = auth::issue_token_with_code(s, "reg.two", PASSWORD, Some(recovery[0].as_str()), &here).await.unwrap();
    assert_eq!(auth::actor_from_token(s, &t.token).await.unwrap().user_id, reg.user_id);
    // The same recovery code is used up.
    let again = auth::issue_token_with_code(s, "reg.two", PASSWORD, Some(recovery[0].as_str()), &here).await;
    assert!(matches!(again, Err(ServiceError::BadSecondFactor)), "{again:?}");
}

#[tokio::test]
async fn wrong_codes_after_the_right_password_lock_the_account() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let here = Client { address: "10.1.1.2".into(), user_agent: "test".into() };
    let reg = fx.user("reg.guess", &["regulator"], Some("dt")).await;
    let e = second_factor::start(s, &reg).await.unwrap();
    second_factor::confirm(s, &reg, &code(&e.secret, "reg.guess", 0, &fx)).await.unwrap();
    let right = code(&e.secret, "reg.guess", 1, &fx);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..s.policy().max_failed_sign_ins {
        let r = auth::finish_sign_in(s, reg.user_id, wrong, &here).await;
        assert!(matches!(r, Err(ServiceError::BadSecondFactor)), "{r:?}");
    }
    // Locked: the right code is refused too, and so is the password.
    let r = auth::finish_sign_in(s, reg.user_id, &right, &here).await;
    assert!(matches!(r, Err(ServiceError::BadCredentials)), "{r:?}");
    assert!(matches!(auth::sign_in(s, "reg.guess", PASSWORD, &here).await, Err(ServiceError::BadCredentials)));
    assert!(auth::lockout::locked_until(s, reg.user_id).await.unwrap().is_some());
    let f = AuditFilter { action: Some("auth.lockout".into()), ..Default::default() };
    let n = choucha_service::audit::list(s, &fx.auditor, &f, None, None).await.unwrap().items.len();
    assert_eq!(n, 1, "the lock is audited");
}
