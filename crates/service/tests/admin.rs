//! Administration through the service: users and roles, organisations, the audit chain, the
//! working-day calendar and the improvement letter's checks. Each use case is shown refusing the
//! wrong thing and allowing the right one. Runs on SQLite, and on PostgreSQL when
//! CHOUCHA_TEST_DATABASE_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use choucha_service::calendar::{self, DayInput};
use choucha_service::documents::{self, ImprovementLetterInput};
use choucha_service::fixtures::{Fixture, PASSWORD, test_uscc};
use choucha_service::organisations::{self, OrgInput};
use choucha_service::users::{self, NewUserInput, UserUpdateInput};
use choucha_service::{ServiceError, audit, auth};
use choucha_store::audit::{AuditFilter, Verification};
use choucha_store::users::UserFilter;

fn new_user(username: &str, roles: &[&str], org: Option<&str>) -> NewUserInput {
    NewUserInput {
        username: username.into(),
        display_name: format!("{username}的姓名"),
        password: "good-pass-2025".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        org_code: org.map(str::to_string),
        ..Default::default()
    }
}

/// The fields an invalid-input error names.
fn fields(e: &ServiceError) -> Vec<&str> {
    match e {
        ServiceError::Invalid(v) => v.iter().filter_map(|v| v.field.as_deref()).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

fn messages(e: &ServiceError) -> String {
    match e {
        ServiceError::Invalid(v) => v.iter().map(|v| v.message.clone()).collect::<Vec<_>>().join("；"),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn admin_creates_a_user_with_two_roles_who_can_then_sign_in() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let u = fx.create_user(new_user("wang.jc", &["tester", "sample_custodian"], Some("lab"))).await.unwrap();
    assert_eq!(u.roles, vec!["sample_custodian", "tester"]);
    assert_eq!(u.org_code.as_deref(), Some("lab"));
    assert!(u.role_labels.contains("检验人员") && u.role_labels.contains("样品管理员"));
    let actor = auth::login(s, "wang.jc", "good-pass-2025").await.unwrap();
    assert_eq!(actor.roles.len(), 2);
}

#[tokio::test]
async fn only_admins_manage_users() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let regulator = fx.user("reg", &["regulator"], Some("dt")).await;
    let e = users::create(s, &regulator, new_user("someone", &["tester"], Some("lab"))).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
    assert!(matches!(
        users::list(s, &regulator, &UserFilter::default(), None, None).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(users::get(s, &regulator, fx.admin.user_id).await, Err(ServiceError::Forbidden(_))));
    // Anyone reads their own record.
    assert_eq!(users::get(s, &regulator, regulator.user_id).await.unwrap().username, "reg");
}

#[tokio::test]
async fn a_role_that_does_not_fit_the_organisation_is_refused_on_roles() {
    let fx = Fixture::new().await;
    let e = fx.create_user(new_user("tester-in-county", &["tester"], Some("dt-pc"))).await.unwrap_err();
    assert_eq!(fields(&e), vec!["roles"]);
    assert!(messages(&e).contains("检验人员"), "{}", messages(&e));
    // The same role at an institution is fine; a local regulator fits the county bureau.
    fx.create_user(new_user("tester-in-lab", &["tester"], Some("lab"))).await.unwrap();
    fx.create_user(new_user("county-staff", &["local_regulator"], Some("dt-pc"))).await.unwrap();
}

#[tokio::test]
async fn duplicate_usernames_and_weak_passwords_are_refused() {
    let fx = Fixture::new().await;
    fx.create_user(new_user("li.si", &["sampler"], Some("lab"))).await.unwrap();
    let e = fx.create_user(new_user("li.si", &["sampler"], Some("lab"))).await.unwrap_err();
    assert_eq!(fields(&e), vec!["username"]);
    assert!(messages(&e).contains("已被使用"));

    let mut weak = new_user("zhao.liu", &["sampler"], Some("lab"));
    weak.password = "12345678".into();
    let e = fx.create_user(weak).await.unwrap_err();
    assert_eq!(fields(&e), vec!["password"]);
}

#[tokio::test]
async fn enterprise_users_need_a_valid_registered_uscc() {
    let fx = Fixture::new().await;
    let ent = fx.enterprise("大同市某某电器有限公司", "140213", "生产者", 7).await;
    let mut bad = new_user("ent-bad", &["enterprise"], None);
    let mut wrong = ent.uscc.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    bad.enterprise_uscc = Some(wrong);
    let e = fx.create_user(bad).await.unwrap_err();
    assert_eq!(fields(&e), vec!["enterprise_uscc"]);
    assert!(messages(&e).contains("校验位"), "{}", messages(&e));

    let mut unknown = new_user("ent-unknown", &["enterprise"], None);
    unknown.enterprise_uscc = Some(test_uscc("140213", 99).to_string());
    let e = fx.create_user(unknown).await.unwrap_err();
    assert!(messages(&e).contains("名录库中没有"), "{}", messages(&e));

    let mut good = new_user("ent-good", &["enterprise"], None);
    good.enterprise_uscc = Some(ent.uscc.to_lowercase());
    let u = fx.create_user(good).await.unwrap();
    assert_eq!(u.enterprise_uscc.as_deref(), Some(ent.uscc.as_str()));
    assert_eq!(u.enterprise_name.as_deref(), Some("大同市某某电器有限公司"));
}

#[tokio::test]
async fn deactivating_a_user_stops_sign_in_and_revokes_tokens() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let u = fx.create_user(new_user("leaver", &["sampler"], Some("lab"))).await.unwrap();
    let token = auth::issue_token(s, "leaver", "good-pass-2025").await.unwrap();
    let update = UserUpdateInput {
        display_name: u.display_name.clone(),
        org_code: u.org_code.clone(),
        active: false,
        ..Default::default()
    };
    let after = users::update(s, &fx.admin, u.id, update).await.unwrap();
    assert!(!after.active);
    assert!(auth::actor_from_token(s, &token.token).await.is_err());
    assert!(matches!(auth::issue_token(s, "leaver", "good-pass-2025").await, Err(ServiceError::Forbidden(_))));
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let me = users::get(s, &fx.admin, fx.admin.user_id).await.unwrap();
    let update = UserUpdateInput { display_name: me.display_name, active: false, ..Default::default() };
    let e = users::update(s, &fx.admin, me.id, update).await.unwrap_err();
    assert!(messages(&e).contains("不能停用自己"), "{}", messages(&e));
}

#[tokio::test]
async fn password_reset_revokes_tokens_and_own_change_checks_the_old_password() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let u = fx.user("forgetful", &["sampler"], Some("lab")).await;
    let token = auth::issue_token(s, "forgetful", PASSWORD).await.unwrap();
    let e = users::reset_password(s, &fx.admin, u.user_id, "short").await.unwrap_err();
    assert_eq!(fields(&e), vec!["password"]);
    users::reset_password(s, &fx.admin, u.user_id, "new-pass-2025").await.unwrap();
    assert!(auth::actor_from_token(s, &token.token).await.is_err(), "old token must stop working");
    assert!(auth::login(s, "forgetful", PASSWORD).await.is_err());

    let e = users::change_own_password(s, &u, "wrong-old-1", "another-pass-1").await.unwrap_err();
    assert_eq!(fields(&e), vec!["old_password"]);
    let e = users::change_own_password(s, &u, "new-pass-2025", "weak").await.unwrap_err();
    assert_eq!(fields(&e), vec!["new_password"]);
    users::change_own_password(s, &u, "new-pass-2025", "another-pass-1").await.unwrap();
    auth::login(s, "forgetful", "another-pass-1").await.unwrap();
}

fn org(code: &str, kind: &str, parent: Option<&str>, division: Option<&str>) -> OrgInput {
    OrgInput {
        code: code.into(),
        name: format!("{code}市场监督管理局"),
        kind: kind.into(),
        parent_code: parent.map(str::to_string),
        division_code: division.map(str::to_string),
        active: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn organisations_refuse_bad_division_codes_and_orphan_local_bureaus() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let e =
        organisations::create(s, &fx.admin, org("dt-xx", "local_bureau", Some("dt"), Some("99021"))).await.unwrap_err();
    assert_eq!(fields(&e), vec!["division_code"]);
    assert!(messages(&e).contains("6位数字"));
    let e = organisations::create(s, &fx.admin, org("dt-xx", "local_bureau", Some("dt"), Some("990212")))
        .await
        .unwrap_err();
    assert!(messages(&e).contains("省级代码"), "{}", messages(&e));

    // Without a parent, and with the empty parent a form sends.
    for parent in [None, Some("")] {
        let e = organisations::create(s, &fx.admin, org("dt-xr", "local_bureau", parent, Some("140212")))
            .await
            .unwrap_err();
        assert_eq!(fields(&e), vec!["parent_code"], "parent {parent:?}");
    }
    let ok =
        organisations::create(s, &fx.admin, org("dt-xr", "local_bureau", Some("dt"), Some("140212"))).await.unwrap();
    assert_eq!(ok.parent_id, Some(fx.city.id));

    let regulator = fx.user("reg", &["regulator"], Some("dt")).await;
    let e = organisations::create(s, &regulator, org("dt-tz", "local_bureau", Some("dt"), Some("140222")))
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)));
}

#[tokio::test]
async fn institutions_testing_need_a_qualification_number() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let mut lab = org("lab-2", "institution", None, None);
    lab.name = "大同市产品质量检验所".into();
    lab.cap_testing = true;
    let e = organisations::create(s, &fx.admin, lab.clone()).await.unwrap_err();
    assert_eq!(fields(&e), vec!["qualification_no"]);
    lab.qualification_no = Some("CMA 170412000001".into());
    let v = organisations::create(s, &fx.admin, lab).await.unwrap();
    assert_eq!(v.capabilities, "检验");
}

#[tokio::test]
async fn the_audit_log_records_user_creation_and_the_chain_verifies() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let u = fx.create_user(new_user("audited", &["sampler"], Some("lab"))).await.unwrap();
    let f = AuditFilter { action: Some("user.".into()), object_id: Some(u.id.to_string()), ..Default::default() };
    let page = audit::list(s, &fx.auditor, &f, None, None).await.unwrap();
    // Newest first: the security administrator's grant, then the system administrator's account.
    assert_eq!(page.items[0].action, "user.roles");
    let rec = &page.items[1];
    assert_eq!(rec.action, "user.create");
    assert_eq!(rec.actor_id, Some(fx.admin.user_id));
    assert!(rec.after_json.contains("\"audited\""));
    let records = audit::list(s, &fx.auditor, &AuditFilter::default(), None, Some(1)).await.unwrap().items[0].seq;
    assert_eq!(audit::verify(s, &fx.auditor).await.unwrap(), Verification::Intact { records });
    // 三权分立: the system and security administrators do not read the log.
    for other in [&fx.admin, &fx.security] {
        assert!(matches!(audit::list(s, other, &f, None, None).await, Err(ServiceError::Forbidden(_))));
        assert!(matches!(audit::verify(s, other).await, Err(ServiceError::Forbidden(_))));
    }

    let tester = fx.user("tester1", &["tester"], Some("lab")).await;
    assert!(matches!(audit::list(s, &tester, &f, None, None).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(audit::verify(s, &tester).await, Err(ServiceError::Forbidden(_))));
}

#[tokio::test]
async fn only_admins_edit_the_calendar_and_deadlines_follow_it() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let tester = fx.user("tester1", &["tester"], Some("lab")).await;
    // Across national day 2025: Thu 10-09, Fri 10-10, Sat 10-11 (make-up workday).
    let d = calendar::deadline(s, &tester, "2025-09-30", 3, true).await.unwrap();
    assert_eq!(d.deadline.to_string(), "2025-10-11");
    assert!(d.calendar_covers);
    assert_eq!(d.weekday, "星期六");

    let day = DayInput { date: "2025-10-08".into(), kind: "workday".into(), name: "测试调休".into() };
    assert!(matches!(calendar::set_day(s, &tester, day.clone()).await, Err(ServiceError::Forbidden(_))));
    calendar::set_day(s, &fx.admin, day).await.unwrap();
    let d = calendar::deadline(s, &tester, "2025-09-30", 3, true).await.unwrap();
    assert_eq!(d.deadline.to_string(), "2025-10-10");

    assert!(matches!(calendar::delete_day(s, &tester, "2025-10-08").await, Err(ServiceError::Forbidden(_))));
    calendar::delete_day(s, &fx.admin, "2025-10-08").await.unwrap();
    // 10-08 is now a plain Wednesday: a working day.
    let d = calendar::deadline(s, &tester, "2025-09-30", 1, true).await.unwrap();
    assert_eq!(d.deadline.to_string(), "2025-10-08");

    let bad = DayInput { date: "2025-13-01".into(), kind: "rest".into(), name: String::new() };
    let e = calendar::set_day(s, &fx.admin, bad).await.unwrap_err();
    assert_eq!(fields(&e), vec!["date", "kind", "name"]);

    let far = calendar::deadline(s, &tester, "2031-03-01", 5, true).await.unwrap();
    assert!(!far.calendar_covers, "no data for 2031");
}

fn letter() -> ImprovementLetterInput {
    ImprovementLetterInput {
        report_no: "SXJC-2025-0001".into(),
        product_name: "电冰箱".into(),
        inspected_unit: "某商场".into(),
        institution: "山西省检验检测中心".into(),
        failing_items: vec!["能效等级".into()],
        date: Some("2025-10-20".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn improvement_letters_need_their_fields_and_a_staff_role() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let ent = fx.enterprise("大同市某某电器有限公司", "140213", "生产者", 3).await;
    let ent_user = Fixture::make_user(s, "ent-user", "企业", &["enterprise"], None, Some(&ent.uscc)).await;
    let e = documents::improvement_letter_pdf(s, &ent_user, letter()).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
    let sampler = fx.user("sampler1", &["sampler"], Some("lab")).await;
    assert!(!documents::may_write_letters(&sampler));
    let tester = fx.user("tester1", &["tester"], Some("lab")).await;
    assert!(documents::may_write_letters(&tester));

    let empty =
        ImprovementLetterInput { failing_items: vec!["  ".into()], date: Some("明天".into()), ..Default::default() };
    let e = documents::improvement_letter_pdf(s, &tester, empty).await.unwrap_err();
    assert_eq!(fields(&e), vec!["report_no", "product_name", "inspected_unit", "institution", "failing_items", "date"]);
    assert!(messages(&e).contains("请填写报告编号"));

    let ok = documents::validate_letter(&letter(), chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()).unwrap();
    assert_eq!(ok.failing_items, vec!["能效等级"]);
    assert_eq!(documents::letter_file_name("A/B"), "产品质量改进建议书-A_B.pdf");
}

/// 三权分立 (issue 15, item 5): the system administrator creates accounts but grants no role; the
/// security administrator grants roles but creates no account; an administrator's account holds
/// that one role; every grant is audited with the roles before and after.
#[tokio::test]
async fn the_system_administrator_creates_accounts_and_the_security_administrator_grants_roles() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    // The system administrator may not give roles with the account.
    let e = users::create(s, &fx.admin, new_user("zhao", &["tester"], Some("lab"))).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(ref m) if m.contains("安全管理员")), "{e:?}");
    let u = users::create(s, &fx.admin, new_user("zhao", &[], Some("lab"))).await.unwrap();
    assert!(u.roles.is_empty());
    // An account without roles signs in but may do nothing.
    let bare = auth::login(s, "zhao", "good-pass-2025").await.unwrap();
    assert!(bare.roles.is_empty());
    // The system administrator cannot grant; the security administrator cannot create accounts.
    let grant = users::RolesInput { roles: vec!["tester".into()] };
    assert!(matches!(users::set_roles(s, &fx.admin, u.id, grant.clone()).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(
        users::create(s, &fx.security, new_user("qian", &[], Some("lab"))).await,
        Err(ServiceError::Forbidden(_))
    ));
    // A role that does not fit the organisation is refused on roles; the right one is granted.
    let e = users::set_roles(s, &fx.security, u.id, users::RolesInput { roles: vec!["regulator".into()] })
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["roles"]);
    let after = users::set_roles(s, &fx.security, u.id, grant).await.unwrap();
    assert_eq!(after.roles, vec!["tester"]);
    let f = AuditFilter { action: Some("user.roles".into()), object_id: Some(u.id.to_string()), ..Default::default() };
    let rec = audit::list(s, &fx.auditor, &f, None, None).await.unwrap().items.remove(0);
    assert_eq!(rec.actor_id, Some(fx.security.user_id));
    assert!(rec.before_json.contains("[]") && rec.after_json.contains("tester"), "{rec:?}");
    // No account holds two administrator roles, nor an administrator's role and a business one.
    for roles in [vec!["system_admin", "audit_admin"], vec!["security_admin", "regulator"]] {
        let e = users::set_roles(
            s,
            &fx.security,
            fx.admin.user_id,
            users::RolesInput { roles: roles.iter().map(|r| r.to_string()).collect() },
        )
        .await
        .unwrap_err();
        assert!(messages(&e).contains("三者分设"), "{}", messages(&e));
    }
    // The security administrator keeps their own role.
    let e =
        users::set_roles(s, &fx.security, fx.security.user_id, users::RolesInput { roles: vec![] }).await.unwrap_err();
    assert!(messages(&e).contains("不能取消自己的安全管理员角色"));
}

/// None of the three administrators runs a business action, and the audit administrator reads
/// nothing but the log.
#[tokio::test]
async fn administrators_run_no_business_and_the_auditor_reads_only_the_log() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    for admin in [&fx.admin, &fx.security, &fx.auditor] {
        let plans = choucha_service::plans::list(s, admin, &Default::default()).await;
        assert!(matches!(plans, Err(ServiceError::Forbidden(_))), "{}: {plans:?}", admin.username);
    }
    assert!(matches!(calendar::year(s, &fx.auditor, 2025).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(
        users::list(s, &fx.auditor, &UserFilter::default(), None, None).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(calendar::year(s, &fx.admin, 2025).await.is_ok());
    assert!(users::list(s, &fx.security, &UserFilter::default(), None, None).await.is_ok());
}

/// The audit administrator exports a range of days as a zip of JSON lines and a manifest that
/// places the range in the chain; the export is itself audited; nobody else may export.
#[tokio::test]
async fn the_audit_administrator_exports_a_range_of_days_as_an_archive() {
    use std::io::Read;
    let fx = Fixture::new().await;
    let s = &fx.services;
    fx.create_user(new_user("exported", &["sampler"], Some("lab"))).await.unwrap();
    let today = s.today();
    assert!(matches!(audit::export(s, &fx.admin, today, today).await, Err(ServiceError::Forbidden(_))));
    let e = audit::export(s, &fx.auditor, today, today - chrono::Duration::days(1)).await.unwrap_err();
    assert_eq!(fields(&e), vec!["to"]);
    let zip = audit::export(s, &fx.auditor, today - chrono::Duration::days(1), today).await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut lines = String::new();
    archive.by_name("audit.jsonl").unwrap().read_to_string(&mut lines).unwrap();
    let records: Vec<serde_json::Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        records.iter().any(|r| r["action"] == "user.create" && r["after_json"].as_str().unwrap().contains("exported"))
    );
    assert!(records.windows(2).all(|w| w[1]["prev_hash"] == w[0]["hash"]), "the records chain in order");
    let mut manifest = String::new();
    archive.by_name("manifest.json").unwrap().read_to_string(&mut manifest).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["records"], records.len());
    assert_eq!(manifest["last_hash"], records.last().unwrap()["hash"]);
    // A range with nothing in it is an empty archive, not an error.
    let empty = audit::export(s, &fx.auditor, today - chrono::Duration::days(30), today - chrono::Duration::days(29))
        .await
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(empty)).unwrap();
    assert_eq!(archive.by_name("audit.jsonl").unwrap().size(), 0);
    let f = AuditFilter { action: Some("audit.export".into()), ..Default::default() };
    let rec = audit::list(s, &fx.auditor, &f, None, None).await.unwrap().items.remove(0);
    assert_eq!(rec.actor_id, Some(fx.auditor.user_id));
}

#[tokio::test]
async fn a_cached_signed_in_user_sees_a_role_change_and_a_deactivation_on_the_next_request() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let u = fx.create_user(new_user("busy", &["sampler"], Some("lab"))).await.unwrap();
    // Requests in a burst read the user once (auth::actor_cache); a change still counts at once.
    for _ in 0..3 {
        let who = auth::signed_in(s, u.id).await.unwrap();
        assert_eq!(who.actor.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(), ["sampler"]);
    }
    users::set_roles(s, &fx.security, u.id, users::RolesInput { roles: vec!["tester".into()] }).await.unwrap();
    let who = auth::signed_in(s, u.id).await.unwrap();
    assert_eq!(who.actor.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(), ["tester"]);
    let update = UserUpdateInput {
        display_name: u.display_name.clone(),
        org_code: u.org_code.clone(),
        active: false,
        ..Default::default()
    };
    users::update(s, &fx.admin, u.id, update).await.unwrap();
    assert!(matches!(auth::signed_in(s, u.id).await, Err(ServiceError::Unauthenticated)));
}
