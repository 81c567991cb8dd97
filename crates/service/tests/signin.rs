//! Sign-in protection, password policy and sessions through the service (issue 15): the lock after
//! consecutive failures (refusing even the right password, never telling whether a name exists),
//! the administrator's unlock, each password rule, the history of passwords, the token's life, and
//! a user's own sessions and tokens. Every failure, lock and unlock is an audit record with the
//! address. Runs on SQLite, and on PostgreSQL when CHOUCHA_TEST_DATABASE_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use choucha_service::auth::{self, Client, SecurityPolicy, lockout, own_sessions};
use choucha_service::fixtures::{Fixture, PASSWORD};
use choucha_service::sessions::SessionMeta;
use choucha_service::users::{self, NewUserInput};
use choucha_service::{ServiceError, Services};
use choucha_store::audit::{AuditFilter, AuditRow};
use chrono::Duration;

fn from(address: &str) -> Client {
    Client { address: address.into(), user_agent: "测试浏览器".into() }
}

async fn records(s: &Services, action: &str) -> Vec<AuditRow> {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    choucha_store::audit::list(s.store().reader(), &f, None, 200).await.unwrap().items
}

fn code(e: &ServiceError) -> &'static str {
    e.code()
}

#[tokio::test]
async fn five_failures_lock_the_account_even_against_the_right_password_until_unlocked() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let reg = fx.user("reg.lock", &["regulator"], Some("dt")).await;
    let wrong_name = auth::login_from(s, "nobody.here", "wrong-pass-1", &from("10.0.0.9")).await.unwrap_err();
    for _ in 0..4 {
        let e = auth::login_from(s, "reg.lock", "wrong-pass-1", &from("10.0.0.7")).await.unwrap_err();
        assert_eq!(e.to_string(), wrong_name.to_string(), "a wrong password reads like an unknown name");
    }
    // Four failures: the right password still signs in and clears the count.
    auth::login_from(s, "reg.lock", PASSWORD, &from("10.0.0.7")).await.unwrap();
    for _ in 0..5 {
        auth::login_from(s, "reg.lock", "wrong-pass-1", &from("10.0.0.7")).await.unwrap_err();
    }
    let locked = auth::login_from(s, "reg.lock", PASSWORD, &from("10.0.0.7")).await.unwrap_err();
    assert!(matches!(locked, ServiceError::BadCredentials));
    assert_eq!(locked.to_string(), wrong_name.to_string(), "the lock does not confirm the name exists");
    assert!(locked.to_string().contains("锁定"));
    assert!(auth::issue_token_from(s, "reg.lock", PASSWORD, &from("10.0.0.7")).await.is_err());
    assert!(lockout::locked_until(s, reg.user_id).await.unwrap().is_some());

    let lockouts = records(s, "auth.lockout").await;
    assert_eq!(lockouts.len(), 1);
    assert!(lockouts[0].after_json.contains("10.0.0.7"), "{}", lockouts[0].after_json);
    let failures = records(s, "auth.login_failed").await;
    assert!(failures.iter().any(|r| r.object_id == "nobody.here" && r.after_json.contains("10.0.0.9")));
    assert!(failures.iter().any(|r| r.after_json.contains("\"locked\"")), "the refused right password is recorded");

    // Only the administrator unlocks.
    let e = lockout::unlock(s, &reg, reg.user_id, &from("10.0.0.7")).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)));
    lockout::unlock(s, &fx.security, reg.user_id, &from("10.0.0.1")).await.unwrap();
    let unlocks = records(s, "auth.unlock").await;
    assert_eq!(unlocks.len(), 1);
    assert!(unlocks[0].after_json.contains("10.0.0.1"));
    auth::login_from(s, "reg.lock", PASSWORD, &from("10.0.0.7")).await.unwrap();
}

#[tokio::test]
async fn the_lock_ends_by_itself_after_its_minutes_and_the_count_is_configurable() {
    let fx = Fixture::new().await;
    let policy =
        SecurityPolicy { max_failed_sign_ins: 2, lockout_minutes: 15, ..SecurityPolicy::without_second_factor() };
    let s = &fx.services.clone().with_policy(policy);
    fx.user("reg.timed", &["regulator"], Some("dt")).await;
    for _ in 0..2 {
        auth::login_from(s, "reg.timed", "wrong-pass-1", &from("10.0.0.7")).await.unwrap_err();
    }
    assert!(auth::login(s, "reg.timed", PASSWORD).await.is_err());
    s.clock().advance_real(Duration::minutes(14));
    assert!(auth::login(s, "reg.timed", PASSWORD).await.is_err());
    s.clock().advance_real(Duration::minutes(2));
    auth::login(s, "reg.timed", PASSWORD).await.unwrap();
}

fn new_user(username: &str, password: &str) -> NewUserInput {
    NewUserInput {
        username: username.into(),
        display_name: "王监管".into(),
        password: password.into(),
        roles: vec!["regulator".into()],
        org_code: Some("dt".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn each_password_rule_refuses_and_a_good_password_passes() {
    let fx = Fixture::new().await;
    for (pw, expected) in [
        ("Short-1", "weak_password"),
        ("alllowercase-only", "weak_password"),
        ("Xx-wang.rules-2025", "password_contains_username"),
        ("Password123", "common_password"),
        ("woaini1314", "weak_password"),
    ] {
        let e = fx.create_user(new_user("wang.rules", pw)).await.unwrap_err();
        assert_eq!(code(&e), expected, "{pw}");
        assert!(e.to_string().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    }
    fx.create_user(new_user("wang.rules", "Lab-Check-2025")).await.unwrap();
}

#[tokio::test]
async fn none_of_the_last_five_passwords_comes_back_and_a_change_ends_every_session() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let reg = fx.user("reg.history", &["regulator"], Some("dt")).await;
    let token = auth::issue_token(s, "reg.history", PASSWORD).await.unwrap().token;
    s.session_save("sess-history", "{}".into(), SessionMeta { user_id: Some(reg.user_id), ..Default::default() })
        .await
        .unwrap();
    let mut current = PASSWORD.to_string();
    for n in 1..=4 {
        let next = format!("Rotate-{n}-pass");
        users::change_own_password(s, &reg, &current, &next).await.unwrap();
        current = next;
    }
    assert!(auth::actor_from_token(s, &token).await.is_err(), "the change ended the token");
    assert!(s.session_load("sess-history").await.unwrap().is_none(), "and the session");
    // The last five: the fixture's password and Rotate-1…4.
    let e = users::change_own_password(s, &reg, &current, PASSWORD).await.unwrap_err();
    assert_eq!(code(&e), "password_reused");
    let e = users::change_own_password(s, &reg, &current, "Rotate-2-pass").await.unwrap_err();
    assert_eq!(code(&e), "password_reused");
    users::change_own_password(s, &reg, &current, "Rotate-5-pass").await.unwrap();
    // Now the fixture's password is the sixth back, and may come again.
    users::change_own_password(s, &reg, "Rotate-5-pass", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn an_administrator_set_password_must_be_changed_and_the_demo_users_need_not() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let u = fx.create_user(new_user("wang.new", "Initial-Pass-1")).await.unwrap();
    let who = auth::login_from(s, "wang.new", "Initial-Pass-1", &from("10.0.0.5")).await.unwrap();
    assert!(who.must_change_password);
    users::change_own_password(s, &who.actor, "Initial-Pass-1", "Chosen-Pass-2").await.unwrap();
    assert!(!auth::signed_in(s, u.id).await.unwrap().must_change_password);
    users::reset_password(s, &fx.admin, u.id, "Reset-Pass-333").await.unwrap();
    assert!(auth::signed_in(s, u.id).await.unwrap().must_change_password, "a reset is changed again");
    // Users made by the system (fixtures, the demo's seed) are not asked.
    let plain = fx.user("reg.plain", &["regulator"], Some("dt")).await;
    assert!(!auth::signed_in(s, plain.user_id).await.unwrap().must_change_password);
    // With an expiry, an old password must be changed too.
    let expiring = fx
        .services
        .clone()
        .with_policy(SecurityPolicy { password_max_age_days: Some(90), ..SecurityPolicy::without_second_factor() });
    s.clock().advance_real(Duration::days(91));
    assert!(auth::signed_in(&expiring, plain.user_id).await.unwrap().must_change_password);
    assert!(!auth::signed_in(s, plain.user_id).await.unwrap().must_change_password, "no expiry by default");
}

#[tokio::test]
async fn a_token_lives_the_policys_minutes_and_sessions_their_idle_and_absolute_limits() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let reg = fx.user("reg.life", &["regulator"], Some("dt")).await;
    let t = auth::issue_token(s, "reg.life", PASSWORD).await.unwrap();
    let life = t.expires_at - s.clock().real_now();
    assert!(life > Duration::minutes(119) && life <= Duration::minutes(120), "{life}");
    s.clock().advance_real(Duration::minutes(119));
    auth::actor_from_token(s, &t.token).await.unwrap();
    s.clock().advance_real(Duration::minutes(2));
    assert!(matches!(auth::actor_from_token(s, &t.token).await, Err(ServiceError::Unauthenticated)));

    // Idle: 30 minutes without a request end the session; each use keeps it going.
    let meta = || SessionMeta { user_id: Some(reg.user_id), ..Default::default() };
    s.session_save("sess-idle", "{}".into(), meta()).await.unwrap();
    for _ in 0..3 {
        s.clock().advance_real(Duration::minutes(25));
        assert!(s.session_load("sess-idle").await.unwrap().is_some(), "used within 30 minutes");
    }
    s.clock().advance_real(Duration::minutes(31));
    assert!(s.session_load("sess-idle").await.unwrap().is_none(), "31 idle minutes end it");

    // Absolute: 12 hours after it began, however busy.
    s.session_save("sess-abs", "{}".into(), meta()).await.unwrap();
    for _ in 0..28 {
        s.clock().advance_real(Duration::minutes(25));
        assert!(s.session_load("sess-abs").await.unwrap().is_some());
    }
    // 11 h 40 min so far; 25 minutes more pass the 12 hours.
    s.clock().advance_real(Duration::minutes(25));
    assert!(s.session_load("sess-abs").await.unwrap().is_none(), "12 h 05 min after sign-in it is over");
}

#[tokio::test]
async fn a_user_lists_and_ends_their_own_sessions_and_tokens_only() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let reg = fx.user("reg.own", &["regulator"], Some("dt")).await;
    let other = fx.user("reg.other", &["regulator"], Some("dt")).await;
    let meta = SessionMeta { user_id: Some(reg.user_id), address: "10.1.1.1".into(), user_agent: "火狐".into() };
    s.session_save("sess-own", "{}".into(), meta).await.unwrap();
    let t = auth::issue_token_from(s, "reg.own", PASSWORD, &from("10.2.2.2")).await.unwrap();
    let mine = own_sessions::list(s, &reg, Some("sess-own")).await.unwrap();
    assert_eq!(mine.len(), 2);
    let page = mine.iter().find(|v| v.kind == "page").unwrap();
    assert!(page.current && page.address == "10.1.1.1" && page.user_agent == "火狐");
    assert!(!page.id.contains("sess-own"), "the session's secret id is not shown");
    let api = mine.iter().find(|v| v.kind == "api").unwrap();
    assert_eq!(api.address, "10.2.2.2");
    assert!(own_sessions::list(s, &other, None).await.unwrap().is_empty());
    // Another user cannot end them.
    let e = own_sessions::end(s, &other, &page.id).await.unwrap_err();
    assert!(matches!(e, ServiceError::NotFound(_)));
    own_sessions::end(s, &reg, &page.id).await.unwrap();
    own_sessions::end(s, &reg, &api.id).await.unwrap();
    assert!(s.session_load("sess-own").await.unwrap().is_none());
    assert!(auth::actor_from_token(s, &t.token).await.is_err());
    assert_eq!(records(s, "auth.session_end").await.len(), 2);
}

#[tokio::test]
async fn a_changed_security_policy_is_recorded_once_with_before_and_after() {
    let fx = Fixture::new().await;
    let first = fx.services.clone().with_policy(SecurityPolicy::default());
    assert!(auth::record_policy(&first, "serve").await.unwrap(), "the first start records the policy");
    assert!(!auth::record_policy(&first, "serve").await.unwrap(), "an unchanged policy is not recorded again");
    let changed = fx.services.clone().with_policy(SecurityPolicy { lockout_minutes: 30, ..SecurityPolicy::default() });
    assert!(auth::record_policy(&changed, "serve").await.unwrap());
    let f = AuditFilter { action: Some("security.policy".into()), ..Default::default() };
    let rows = choucha_service::audit::list(&fx.services, &fx.auditor, &f, None, None).await.unwrap().items;
    assert_eq!(rows.len(), 2);
    let before: serde_json::Value = serde_json::from_str(&rows[0].before_json).unwrap();
    let after: serde_json::Value = serde_json::from_str(&rows[0].after_json).unwrap();
    assert_eq!(before["lockout_minutes"], 15);
    assert_eq!(after["lockout_minutes"], 30);
    assert_eq!(after["second_factor_roles"].as_array().unwrap().len(), 9);
}
