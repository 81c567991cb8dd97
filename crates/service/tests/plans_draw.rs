//! Plans, implementation rules and the draw through the service layer, on SQLite or PostgreSQL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::implementation_rules::{Limit, RulesAction};
use choucha_service::draws::{self, DrawFilters, DrawRequest, RedrawRequest};
use choucha_service::fixtures::Fixture;
use choucha_service::implementation_rules::{self as irules, RulesBody, TestItemInput};
use choucha_service::plans::{self, AmendmentInput, ItemInput, PlanDraft, PlanInput, QuotaChange};
use choucha_service::{Actor, ServiceError, Services};

fn item(number: &str, category: &str, product: &str, quota: Option<u32>, scopes: &str) -> ItemInput {
    ItemInput {
        number: number.into(),
        category: category.into(),
        product: product.into(),
        quota,
        scopes: scopes.into(),
        sampling_org_code: Some("lab".into()),
        testing_org_code: Some("lab".into()),
        screening_org_code: None,
    }
}

/// Datong 2025 as printed in Annex 1 (institutions simplified to the fixture's one lab).
fn datong() -> PlanDraft {
    PlanDraft {
        plan: PlanInput {
            year: 2025,
            title: "2025年车用柴油、家电产品、羊绒衫、羽绒服等质量监督抽查".into(),
            organising_org_code: Some("dt".into()),
            doc_no: String::new(),
            domains: "生产领域、流通领域".into(),
            deadline_delivery: Some("2025-11-15".into()),
            deadline_data_entry: Some("2025-11-20".into()),
            deadline_summary: Some("2025-11-20".into()),
            ..Default::default()
        },
        items: vec![
            item("1", "机械及安防", "车用柴油", Some(70), "生产者、销售者"),
            item("2", "电子电器", "电冰箱", Some(60), "生产者、销售者"),
            item("3", "电子电器", "家用电动洗衣机", None, "生产者、销售者"),
            item("4", "日用及纺织品", "羊绒针织衫", Some(60), "生产者、销售者"),
            item("5", "日用及纺织品", "羽绒服装", None, "生产者、销售者"),
        ],
    }
}

struct World {
    fx: Fixture,
    regulator: Actor,
    tester: Actor,
    sampler_a: Actor,
}

async fn world() -> World {
    let fx = Fixture::new().await;
    let regulator = fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let tester = fx.user("lab_tester", &["tester"], Some("lab")).await;
    let sampler_a = fx.user("lab_s1", &["sampler"], Some("lab")).await;
    fx.user("lab_s2", &["sampler"], Some("lab")).await;
    fx.user("lab_s3", &["sampler"], Some("lab")).await;
    World { fx, regulator, tester, sampler_a }
}

fn s(w: &World) -> &Services {
    &w.fx.services
}

fn body() -> RulesBody {
    RulesBody {
        standards: vec!["GB 19147-2016 车用柴油".into()],
        test_items: vec![
            TestItemInput {
                name: "硫含量".into(),
                method: "SH/T 0689".into(),
                limit: Limit::Max { max: 10.0, inclusive: true },
                unit: "mg/kg".into(),
                class: None,
            },
            TestItemInput {
                name: "闪点（闭口）".into(),
                method: "GB/T 261".into(),
                limit: Limit::Min { min: 60.0, inclusive: true },
                unit: "℃".into(),
                class: None,
            },
        ],
        test_portion: "1L×2瓶".into(),
        backup_portion: "1L×2瓶".into(),
        min_base: "不少于200L".into(),
        judgement_principle: "所检项目全部符合标准要求判定为合格，有一项不符合即判定为不合格".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn datong_plan_keeps_shared_quotas_and_totals_190() {
    let w = world().await;
    let v = plans::create(s(&w), &w.regulator, datong()).await.expect("create");
    assert_eq!(v.items.len(), 5);
    assert_eq!(v.total_quota, 190);
    let fridge = &v.items[1];
    let washer = &v.items[2];
    assert_eq!(fridge.group_id, washer.group_id, "电冰箱 and 洗衣机 share one quota");
    assert_eq!((fridge.group_first, washer.group_first, fridge.group_rows), (true, false, 2));
    assert_eq!(washer.group_quota, 60);
    assert_eq!(v.state.as_str(), "draft");
}

#[tokio::test]
async fn plan_validation_and_who_may_create() {
    let w = world().await;
    let mut bad = datong();
    bad.items[0].quota = None;
    bad.items[1].scopes = "批发商".into();
    bad.items[2].testing_org_code = Some("dt".into());
    match plans::create(s(&w), &w.regulator, bad).await {
        Err(ServiceError::Invalid(v)) => {
            let text: Vec<_> = v.iter().map(|e| e.message.clone()).collect();
            assert!(text.iter().any(|m| m.contains("第1个产品")), "{text:?}");
            assert!(text.iter().any(|m| m.contains("批发商")), "{text:?}");
            assert!(text.iter().any(|m| m.contains("不具备检验职能")), "{text:?}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    // The contact telephone printed on the notice must read as one; the plan keeps both fields.
    let mut phone = datong();
    phone.plan.contact_phone = "请打电话".into();
    match plans::create(s(&w), &w.regulator, phone.clone()).await {
        Err(ServiceError::Invalid(v)) => {
            assert!(v.iter().any(|e| e.field.as_deref() == Some("contact_phone")), "{v:?}")
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    phone.plan.contact_name = "质量监督科 李明".into();
    phone.plan.contact_phone = "0352-5022345".into();
    let v = plans::create(s(&w), &w.regulator, phone).await.unwrap();
    assert_eq!((v.contact_name.as_str(), v.contact_phone.as_str()), ("质量监督科 李明", "0352-5022345"));
    // A tester cannot plan; a county bureau cannot plan in the city's name.
    assert!(matches!(plans::create(s(&w), &w.tester, datong()).await, Err(ServiceError::Forbidden(_))));
}

#[tokio::test]
async fn a_draft_plan_is_deleted_by_its_bureau_with_an_audit_record_and_an_issued_one_never() {
    let w = world().await;
    let draft = plans::create(s(&w), &w.regulator, datong()).await.expect("create");
    // Not by someone who does not organise it.
    let other = w.fx.user("county_reg", &["local_regulator"], Some("dt-pc")).await;
    for who in [&w.tester, &other, &w.fx.admin] {
        let r = plans::delete_draft(s(&w), who, draft.id).await;
        assert!(matches!(r, Err(ServiceError::Forbidden(_)) | Err(ServiceError::NotFound(_))), "{r:?}");
    }
    plans::delete_draft(s(&w), &w.regulator, draft.id).await.expect("delete");
    assert!(matches!(plans::get(s(&w), &w.regulator, draft.id).await, Err(ServiceError::NotFound(_))));
    let f = choucha_store::audit::AuditFilter { action: Some("plan.delete".into()), ..Default::default() };
    let rows = choucha_service::audit::list(s(&w), &w.fx.auditor, &f, None, None).await.unwrap().items;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].before_json.contains("车用柴油"), "the record keeps the plan as it was");
    // Deleting again: not found.
    assert!(matches!(plans::delete_draft(s(&w), &w.regulator, draft.id).await, Err(ServiceError::NotFound(_))));

    // An issued plan is closed, never deleted.
    let issued = plans::create(s(&w), &w.regulator, datong()).await.expect("create");
    plans::issue(s(&w), &w.regulator, issued.id).await.expect("issue");
    let r = plans::delete_draft(s(&w), &w.regulator, issued.id).await;
    assert!(matches!(&r, Err(ServiceError::Rule(v)) if v.code == "plan_state"), "{r:?}");
    assert!(plans::get(s(&w), &w.regulator, issued.id).await.is_ok());
}

#[tokio::test]
async fn issued_plan_changes_quota_only_by_amendment() {
    let w = world().await;
    let v = plans::create(s(&w), &w.regulator, datong()).await.expect("create");
    let v = plans::issue(s(&w), &w.regulator, v.id).await.expect("issue");
    assert_eq!(v.state.as_str(), "issued");
    assert!(
        matches!(plans::update_draft(s(&w), &w.regulator, v.id, datong()).await, Err(ServiceError::Rule(r)) if r.code == "plan_state")
    );
    let no_reason =
        AmendmentInput { reason: " ".into(), changes: vec![QuotaChange { item_id: v.items[2].id, quota: 70 }] };
    assert!(plans::amend(s(&w), &w.regulator, v.id, no_reason).await.is_err());
    let ok = AmendmentInput {
        reason: "补充抽查洗衣机10批".into(),
        changes: vec![QuotaChange { item_id: v.items[2].id, quota: 70 }],
    };
    let v = plans::amend(s(&w), &w.regulator, v.id, ok).await.expect("amend");
    assert_eq!(v.total_quota, 200);
    assert_eq!(v.items[1].group_quota, 70);
    assert_eq!(v.amendments.len(), 1);
    assert_eq!(v.amendments[0].reason, "补充抽查洗衣机10批");
}

#[tokio::test]
async fn rules_lifecycle_needs_the_right_party_and_publication_is_public() {
    let w = world().await;
    let v = plans::create(s(&w), &w.regulator, datong()).await.expect("create");
    let diesel = v.items[0].id;
    // The bureau does not write the rules; the testing institution does.
    assert!(
        matches!(irules::create_draft(s(&w), &w.regulator, diesel, body()).await, Err(ServiceError::Rule(r)) if r.code == "rule3_wrong_party")
    );
    let r = irules::create_draft(s(&w), &w.tester, diesel, body()).await.expect("draft");
    let r = irules::step(s(&w), &w.tester, r.id, RulesAction::Submit, None).await.expect("submit");
    assert_eq!(r.state.as_str(), "submitted");
    // The institution cannot approve its own rules.
    assert!(irules::step(s(&w), &w.tester, r.id, RulesAction::Approve, None).await.is_err());
    irules::step(s(&w), &w.regulator, r.id, RulesAction::Approve, None).await.expect("approve");
    // Not before the plan is issued.
    assert!(irules::step(s(&w), &w.regulator, r.id, RulesAction::Publish, None).await.is_err());
    plans::issue(s(&w), &w.regulator, v.id).await.expect("issue");
    assert!(irules::get_published(s(&w), diesel).await.is_err());
    irules::step(s(&w), &w.regulator, r.id, RulesAction::Publish, None).await.expect("publish");
    let public = irules::get_published(s(&w), diesel).await.expect("public");
    assert_eq!(public.version, 1);
    assert_eq!(public.body.test_items[0].name, "硫含量");
    // A new version supersedes on publication.
    let r2 = irules::create_draft(s(&w), &w.tester, diesel, body()).await.expect("v2");
    assert_eq!(r2.version, 2);
    irules::step(s(&w), &w.tester, r2.id, RulesAction::Submit, None).await.unwrap();
    irules::step(s(&w), &w.regulator, r2.id, RulesAction::Approve, None).await.unwrap();
    irules::step(s(&w), &w.regulator, r2.id, RulesAction::Publish, None).await.unwrap();
    assert_eq!(irules::get_published(s(&w), diesel).await.unwrap().version, 2);
    let versions = irules::versions(s(&w), &w.tester, diesel).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.state.as_str()).collect::<Vec<_>>(), ["published", "superseded"]);
}

async fn issued_datong_with_registry(w: &World, n: u32) -> plans::PlanView {
    for i in 0..n {
        let division = if i % 2 == 0 { "140213" } else { "140221" };
        w.fx.enterprise(&format!("大同市示例加油站{i:03}有限公司"), division, "销售者、加油站", i + 1).await;
    }
    // Outside Datong: never a candidate of the city's plan.
    w.fx.enterprise("太原市示例石化销售有限公司", "140105", "销售者", 999).await;
    let v = plans::create(s(w), &w.regulator, datong()).await.expect("create");
    plans::issue(s(w), &w.regulator, v.id).await.expect("issue")
}

fn req(item_id: i64, quota: u32, seed: &str) -> DrawRequest {
    DrawRequest {
        item_id,
        quota,
        seed: seed.into(),
        stratified: false,
        team_size: None,
        filters: DrawFilters::default(),
        risk_weights: None,
    }
}

#[tokio::test]
async fn draw_picks_from_the_area_with_teams_and_reverifies_after_restart() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 12).await;
    let diesel = plan.items[0].id;
    let d = draws::run(s(&w), &w.regulator, req(diesel, 5, "2025-10-08 公开摇号 481516")).await.expect("draw");
    assert_eq!(d.drawn.len(), 5);
    assert_eq!(d.candidate_count, 12, "only Datong's enterprises are candidates");
    for e in &d.drawn {
        assert!(e.team.len() >= 2);
        assert!(e.uscc.starts_with("91140"));
        assert_eq!(e.task_state.map(|s| s.as_str()), Some("assigned"));
    }
    assert!(draws::verify(s(&w), d.id).await.unwrap().verified);
    // A new connection to the same database (a restart) verifies the same draw.
    let again = choucha_store::Store::connect_with(
        &w.fx.db.url,
        choucha_store::ConnectSettings {
            pg_schema: w.fx.db.pg_schema.clone(),
            max_connections: Some(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s2 = Services::new(again, std::env::temp_dir());
    assert!(draws::verify(&s2, d.id).await.unwrap().verified);
    // Tasks show in a team member's list.
    let mine = draws::my_tasks(s(&w), &w.sampler_a, None, None).await.unwrap();
    assert!(mine.items.iter().all(|t| t.team.len() >= 2));
}

#[tokio::test]
async fn a_sampler_finds_tasks_by_state_and_text_and_sees_which_are_overdue() {
    use choucha_domain::sampling::TaskState;
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 12).await;
    draws::run(s(&w), &w.regulator, req(plan.items[0].id, 4, "diesel")).await.expect("draw");
    draws::run(s(&w), &w.regulator, req(plan.items[1].id, 3, "fridge")).await.expect("draw");
    let find = |state: Option<TaskState>, text: Option<&str>| {
        let f = draws::TaskFilter { state, text: text.map(str::to_string) };
        let w = &w;
        async move { draws::my_tasks_filtered(s(w), &w.sampler_a, &f, None, Some(100)).await.unwrap().items }
    };
    let all = find(None, None).await;
    let fridges = find(None, Some("电冰箱")).await;
    assert!(!fridges.is_empty() && fridges.iter().all(|t| t.product == "电冰箱"), "by product");
    assert_eq!(fridges.len(), all.iter().filter(|t| t.product == "电冰箱").count());
    let one = &all[0].enterprise_name;
    let named = find(None, Some(one.as_str())).await;
    assert!(named.iter().all(|t| &t.enterprise_name == one) && !named.is_empty(), "by the enterprise's name");
    assert!(find(None, Some("不存在的企业名称")).await.is_empty());
    // A wildcard typed is text, not a pattern.
    assert!(find(None, Some("%")).await.len() <= all.len());
    assert_eq!(find(Some(TaskState::Assigned), None).await.len(), all.len());
    assert!(find(Some(TaskState::Sampled), None).await.is_empty());
    assert!(find(Some(TaskState::InProgress), Some("电冰箱")).await.is_empty(), "both at once");
    // Overdue: past the completion date and not yet sampled.
    let today = s(&w).today();
    for t in find(None, None).await {
        let due_passed = t.due_date.is_some_and(|d| d < today);
        assert_eq!(t.overdue, due_passed, "task {} due {:?}", t.id, t.due_date);
    }
}

#[tokio::test]
async fn worklist_views_match_the_single_task_view() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 12).await;
    let d = draws::run(s(&w), &w.regulator, req(plan.items[0].id, 6, "batched views")).await.expect("draw");
    assert_eq!(d.drawn.len(), 6);
    let page = draws::my_tasks(s(&w), &w.sampler_a, None, Some(3)).await.unwrap();
    let mut all = page.items.clone();
    let mut next = page.next.clone();
    while let Some(c) = next {
        let p = draws::my_tasks(s(&w), &w.sampler_a, Some(c.parse().unwrap()), Some(3)).await.unwrap();
        all.extend(p.items);
        next = p.next;
    }
    assert!(!all.is_empty());
    for t in &all {
        assert_eq!(t.team.len(), t.team_ids.len());
        let single = draws::get_task(s(&w), &w.sampler_a, t.id).await.unwrap();
        assert_eq!(serde_json::to_value(t).unwrap(), serde_json::to_value(&single).unwrap(), "task {}", t.id);
    }
}

#[tokio::test]
async fn draw_excludes_rule5_and_respects_shared_quota() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 6).await;
    let diesel = plan.items[0].id;
    let fridge = plan.items[1].id;
    let washer = plan.items[2].id;
    let first = draws::run(s(&w), &w.regulator, req(diesel, 6, "a")).await.expect("draw all six");
    assert_eq!(first.drawn.len(), 6);
    // Same product again: every enterprise already gives a batch of 车用柴油.
    let again = draws::preview(s(&w), &w.regulator, diesel, &DrawFilters::default()).await.unwrap();
    assert_eq!(again.candidate_count, 0);
    assert!(again.exclusions.iter().all(|e| e.rule == "rule5_same_product"));
    // A second product: allowed (2 batches in all).
    draws::run(s(&w), &w.regulator, req(fridge, 6, "b")).await.expect("second product");
    // A third product: nobody may give a third batch.
    let third = draws::preview(s(&w), &w.regulator, washer, &DrawFilters::default()).await.unwrap();
    assert_eq!(third.candidate_count, 0);
    assert!(third.exclusions.iter().all(|e| e.rule == "rule5_two_batches"), "{:?}", third.exclusions);
    // 电冰箱 + 洗衣机 share 60: 54 left for the washer.
    assert_eq!(third.remaining_quota, 54);
    assert!(matches!(draws::run(s(&w), &w.regulator, req(washer, 55, "c")).await, Err(ServiceError::Invalid(_))));
}

#[tokio::test]
async fn sampling_is_refused_until_rules_are_published() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 4).await;
    let diesel = plan.items[0].id;
    let d = draws::run(s(&w), &w.regulator, req(diesel, 4, "seed")).await.expect("draw");
    let task = d.drawn[0].task_id.unwrap();
    let members = draws::get_task(s(&w), &w.regulator, task).await.unwrap().team;
    let username = if members.contains(&"lab_s1".to_string()) {
        "lab_s1"
    } else if members.contains(&"lab_s2".to_string()) {
        "lab_s2"
    } else {
        "lab_s3"
    };
    let sampler = choucha_service::auth::login(s(&w), username, choucha_service::fixtures::PASSWORD).await.unwrap();
    match draws::start_task(s(&w), &sampler, task).await {
        Err(ServiceError::Rule(r)) => assert_eq!(r.code, "rule3_rules_unpublished"),
        other => panic!("expected rule 3 refusal, got {other:?}"),
    }
    let r = irules::create_draft(s(&w), &w.tester, diesel, body()).await.unwrap();
    irules::step(s(&w), &w.tester, r.id, RulesAction::Submit, None).await.unwrap();
    irules::step(s(&w), &w.regulator, r.id, RulesAction::Approve, None).await.unwrap();
    irules::step(s(&w), &w.regulator, r.id, RulesAction::Publish, None).await.unwrap();
    let t = draws::start_task(s(&w), &sampler, task).await.expect("start");
    assert_eq!(t.state.as_str(), "in_progress");
}

#[tokio::test]
async fn redraw_replaces_a_closed_enterprise_with_a_recorded_reason() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 5).await;
    let diesel = plan.items[0].id;
    let d = draws::run(s(&w), &w.regulator, req(diesel, 2, "seed")).await.expect("draw");
    let task = d.drawn[0].task_id.unwrap();
    let bad = RedrawRequest { task_id: task, reason: "".into(), seed: "x".into() };
    assert!(draws::redraw(s(&w), &w.regulator, bad).await.is_err());
    let r = draws::redraw(
        s(&w),
        &w.regulator,
        RedrawRequest { task_id: task, reason: "企业已停业".into(), seed: "redraw-1".into() },
    )
    .await
    .expect("redraw");
    assert_eq!(r.drawn.len(), 1);
    assert_eq!(r.reason, "企业已停业");
    assert_eq!(r.replaces_draw_id, Some(d.id));
    assert_ne!(r.drawn[0].uscc, d.drawn[0].uscc);
    assert_ne!(r.drawn[0].uscc, d.drawn[1].uscc, "an enterprise with a live batch of the product is excluded");
    assert!(draws::verify(s(&w), r.id).await.unwrap().verified);
    let old = draws::get_task(s(&w), &w.regulator, task).await.unwrap();
    assert_eq!(old.state.as_str(), "not_sampled");
}

#[tokio::test]
async fn only_the_organising_bureau_draws_and_publishes() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 3).await;
    let diesel = plan.items[0].id;
    assert!(matches!(draws::run(s(&w), &w.tester, req(diesel, 1, "s")).await, Err(ServiceError::Forbidden(_))));
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    assert!(draws::run(s(&w), &county, req(diesel, 1, "s")).await.is_err());
    let d = draws::run(s(&w), &w.regulator, req(diesel, 2, "s")).await.unwrap();
    assert!(draws::get_published(s(&w), d.id).await.is_err());
    draws::publish(s(&w), &w.regulator, d.id).await.unwrap();
    let public = draws::get_published(s(&w), d.id).await.unwrap();
    assert_eq!(public.drawn.len(), 2);
    let json = serde_json::to_value(&public).unwrap();
    for key in ["team", "task_id", "enterprise_id", "task_state"] {
        assert!(json["drawn"][0].get(key).is_none(), "{key} is not published: {json}");
    }
}

#[tokio::test]
async fn rule22_excludes_a_product_checked_within_six_months_by_the_same_or_a_higher_bureau() {
    let w = world().await;
    let first = issued_datong_with_registry(&w, 4).await;
    let d = draws::run(s(&w), &w.regulator, req(first.items[0].id, 2, "first")).await.expect("draw");
    let drawn: Vec<String> = d.drawn.iter().map(|e| e.uscc.clone()).collect();
    // The same bureau's next plan of 车用柴油: those two are excluded under rule 22.
    let second = plans::create(s(&w), &w.regulator, datong()).await.unwrap();
    let second = plans::issue(s(&w), &w.regulator, second.id).await.unwrap();
    let p = draws::preview(s(&w), &w.regulator, second.items[0].id, &DrawFilters::default()).await.unwrap();
    assert_eq!(p.candidate_count, 2);
    let excluded: Vec<_> = p.exclusions.iter().filter(|e| e.rule == "rule22_repeat").map(|e| e.uscc.clone()).collect();
    assert_eq!(excluded.len(), 2);
    assert!(drawn.iter().all(|u| excluded.contains(u)));
    // Another product of the same enterprises is not a repeat.
    let p = draws::preview(s(&w), &w.regulator, second.items[3].id, &DrawFilters::default()).await.unwrap();
    assert_eq!(p.candidate_count, 4);
}

#[tokio::test]
async fn a_sampler_who_declared_a_conflict_is_never_sent_there() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 6).await;
    let target = choucha_service::fixtures::test_uscc("140213", 1).to_string();
    let bad = draws::ConflictInput { enterprise_uscc: target.clone(), reason: " ".into() };
    assert!(draws::declare_conflict(s(&w), &w.sampler_a, bad).await.is_err());
    assert!(
        draws::declare_conflict(
            s(&w),
            &w.tester,
            draws::ConflictInput { enterprise_uscc: target.clone(), reason: "x".into() }
        )
        .await
        .is_err()
    );
    draws::declare_conflict(
        s(&w),
        &w.sampler_a,
        draws::ConflictInput { enterprise_uscc: target.clone(), reason: "近亲属在该企业任职".into() },
    )
    .await
    .unwrap();
    let d = draws::run(s(&w), &w.regulator, req(plan.items[0].id, 6, "all six")).await.unwrap();
    let there = d.drawn.iter().find(|e| e.uscc == target).expect("drawn");
    assert!(!there.team.contains(&"lab_s1".to_string()), "{:?}", there.team);
    assert_eq!(there.team.len(), 2);
}

#[tokio::test]
async fn candidates_default_to_enterprises_dealing_in_the_product() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 3).await;
    let draft = choucha_domain::enterprise::EnterpriseDraft {
        name: "大同市平城区鼎顺羊绒服饰商行".into(),
        uscc: choucha_service::fixtures::test_uscc("140213", 500).to_string(),
        kinds: "销售者".into(),
        product_lines: "羊绒针织衫；羽绒服装".into(),
        ..Default::default()
    };
    choucha_service::registry::create(s(&w), &w.fx.admin, draft).await.unwrap();
    let diesel = plan.items[0].id;
    let p = draws::preview(s(&w), &w.regulator, diesel, &DrawFilters::default()).await.unwrap();
    assert_eq!(p.candidate_count, 3, "a cashmere shop is no candidate for 车用柴油");
    let every = DrawFilters { product_line: Some(String::new()), ..Default::default() };
    assert_eq!(draws::preview(s(&w), &w.regulator, diesel, &every).await.unwrap().candidate_count, 4);
    let cashmere = plan.items[3].id;
    assert_eq!(
        draws::preview(s(&w), &w.regulator, cashmere, &DrawFilters::default()).await.unwrap().candidate_count,
        4
    );
}

#[tokio::test]
async fn a_registry_edit_of_product_lines_moves_an_enterprise_in_and_out_of_the_draw() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 3).await;
    let mut draft = choucha_domain::enterprise::EnterpriseDraft {
        name: "大同市平城区鑫源家电商行".into(),
        uscc: choucha_service::fixtures::test_uscc("140213", 501).to_string(),
        division_code: "140213".into(),
        kinds: "销售者".into(),
        product_lines: "电冰箱".into(),
        ..Default::default()
    };
    let shop = choucha_service::registry::create(s(&w), &w.fx.admin, draft.clone()).await.unwrap();
    let (diesel, fridge) = (plan.items[0].id, plan.items[1].id);
    let count = |item: i64, line: Option<&str>| {
        let f = DrawFilters { product_line: line.map(str::to_string), ..Default::default() };
        let w = &w;
        async move { draws::preview(s(w), &w.regulator, item, &f).await.unwrap().candidate_count }
    };
    assert_eq!(count(diesel, None).await, 3);
    assert_eq!(count(fridge, None).await, 4);
    // The shop starts selling diesel: a candidate at once, by the product or a part of its name.
    draft.product_lines = "电冰箱；车用柴油".into();
    choucha_service::registry::update(s(&w), &w.fx.admin, shop.id, draft.clone()).await.unwrap();
    assert_eq!(count(diesel, None).await, 4);
    assert_eq!(count(diesel, Some("柴油")).await, 4);
    assert_eq!(count(fridge, Some("冰箱")).await, 4);
    // And stops selling refrigerators.
    draft.product_lines = "车用柴油".into();
    choucha_service::registry::update(s(&w), &w.fx.admin, shop.id, draft).await.unwrap();
    assert_eq!(count(fridge, None).await, 3);
    assert_eq!(count(diesel, None).await, 4);
    // A filter naming two lines still reads the registry's text as before.
    assert_eq!(count(diesel, Some("车用柴油；电冰箱")).await, 3);
}

#[tokio::test]
async fn a_registry_edit_of_status_or_size_is_what_the_next_draw_reads() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 3).await;
    let mut draft = choucha_domain::enterprise::EnterpriseDraft {
        name: "大同市平城区顺达加油站".into(),
        uscc: choucha_service::fixtures::test_uscc("140213", 502).to_string(),
        division_code: "140213".into(),
        kinds: "销售者、加油站".into(),
        size_class: "小型".into(),
        product_lines: "车用柴油".into(),
        ..Default::default()
    };
    let station = choucha_service::registry::create(s(&w), &w.fx.admin, draft.clone()).await.unwrap();
    let diesel = plan.items[0].id;
    let count = |size: Option<&str>| {
        let f = DrawFilters { size_class: size.map(str::to_string), ..Default::default() };
        let w = &w;
        async move { draws::preview(s(w), &w.regulator, diesel, &f).await.unwrap().candidate_count }
    };
    assert_eq!(count(None).await, 4);
    assert_eq!(count(Some("小型")).await, 1);
    // Suspended: out of the next draw at once; operating again: back in.
    draft.status = "停业".into();
    choucha_service::registry::update(s(&w), &w.fx.admin, station.id, draft.clone()).await.unwrap();
    assert_eq!(count(None).await, 3);
    draft.status = "在营".into();
    choucha_service::registry::update(s(&w), &w.fx.admin, station.id, draft.clone()).await.unwrap();
    assert_eq!(count(None).await, 4);
    // Re-classed as medium-sized: the small-enterprise draw no longer sees it, the medium one does.
    draft.size_class = "中型".into();
    choucha_service::registry::update(s(&w), &w.fx.admin, station.id, draft.clone()).await.unwrap();
    assert_eq!(count(Some("小型")).await, 0);
    assert_eq!(count(Some("中型")).await, 1);
    // Renamed: a draw of every candidate records it under its new name.
    draft.name = "大同市平城区顺达能源加油站".into();
    choucha_service::registry::update(s(&w), &w.fx.admin, station.id, draft).await.unwrap();
    let f = DrawFilters { size_class: Some("中型".into()), ..Default::default() };
    let d =
        draws::run(s(&w), &w.regulator, DrawRequest { filters: f.clone(), ..req(diesel, 1, "顺达") }).await.unwrap();
    assert_eq!(d.drawn.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["大同市平城区顺达能源加油站"]);
    // The next preview excludes it (rule 5) under the new name.
    let p = draws::preview(s(&w), &w.regulator, diesel, &f).await.unwrap();
    assert_eq!(p.candidate_count, 0);
    assert_eq!(p.exclusions.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["大同市平城区顺达能源加油站"]);
}

#[tokio::test]
async fn the_implementation_scheme_is_filed_with_the_rules_but_not_published() {
    let w = world().await;
    let v = plans::create(s(&w), &w.regulator, datong()).await.unwrap();
    plans::issue(s(&w), &w.regulator, v.id).await.unwrap();
    let diesel = v.items[0].id;
    let mut b = body();
    b.scheme = "每组2人，当日送样".into();
    let r = irules::create_draft(s(&w), &w.tester, diesel, b).await.unwrap();
    for (who, action) in
        [(&w.tester, RulesAction::Submit), (&w.regulator, RulesAction::Approve), (&w.regulator, RulesAction::Publish)]
    {
        irules::step(s(&w), who, r.id, action, None).await.unwrap();
    }
    assert_eq!(irules::get(s(&w), &w.regulator, r.id).await.unwrap().body.scheme, "每组2人，当日送样");
    assert_eq!(irules::get_published(s(&w), diesel).await.unwrap().body.scheme, "", "the public sees the rules only");
    assert_eq!(irules::get(s(&w), &w.sampler_a, r.id).await.unwrap().body.scheme, "");
    assert_eq!(irules::get_published(s(&w), diesel).await.unwrap().body.test_items.len(), 2);
}

#[tokio::test]
async fn a_supermarket_exception_lets_an_enterprise_give_more_batches_with_its_reason() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 2).await;
    let (diesel, fridge, washer) = (plan.items[0].id, plan.items[1].id, plan.items[2].id);
    draws::run(s(&w), &w.regulator, req(diesel, 2, "a")).await.unwrap();
    draws::run(s(&w), &w.regulator, req(fridge, 2, "b")).await.unwrap();
    assert_eq!(draws::preview(s(&w), &w.regulator, washer, &DrawFilters::default()).await.unwrap().candidate_count, 0);
    let uscc = choucha_service::fixtures::test_uscc("140213", 1).to_string();
    let input = |reason: &str, total: u32| draws::AllowanceInput {
        plan_id: plan.id,
        enterprise_uscc: uscc.clone(),
        max_total: total,
        max_per_product: 1,
        reason: reason.into(),
    };
    assert!(matches!(draws::grant_allowance(s(&w), &w.regulator, input(" ", 4)).await, Err(ServiceError::Invalid(_))));
    assert!(matches!(
        draws::grant_allowance(s(&w), &w.regulator, input("大型超市", 1)).await,
        Err(ServiceError::Invalid(_))
    ));
    assert!(draws::grant_allowance(s(&w), &w.tester, input("大型超市", 4)).await.is_err());
    // A producer only is no shopping centre.
    w.fx.enterprise("大同市示例炼油厂", "140213", "生产者", 77).await;
    let producer = draws::AllowanceInput {
        enterprise_uscc: choucha_service::fixtures::test_uscc("140213", 77).to_string(),
        ..input("大型超市", 4)
    };
    assert!(matches!(draws::grant_allowance(s(&w), &w.regulator, producer).await, Err(ServiceError::Rule(_))));
    draws::grant_allowance(s(&w), &w.regulator, input("大型商场，经营品牌多", 4)).await.unwrap();
    let p = draws::preview(s(&w), &w.regulator, washer, &DrawFilters::default()).await.unwrap();
    let other = choucha_service::fixtures::test_uscc("140221", 2).to_string();
    assert!(!p.exclusions.iter().any(|e| e.uscc == uscc), "the enterprise with the exception may give a third batch");
    assert!(p.exclusions.iter().any(|e| e.uscc == other && e.rule == "rule5_two_batches"), "{:?}", p.exclusions);
}

/// The seed is fixed before the candidates (issue 18): a commitment publishes only its hash; the
/// next draw must use it, and its record gives the seed whose hash everyone checks.
#[tokio::test]
async fn a_committed_seed_is_secret_until_the_draw_that_must_use_it() {
    let w = world().await;
    let plan = issued_datong_with_registry(&w, 5).await;
    let diesel = plan.items[0].id;
    assert!(matches!(draws::commit_seed(s(&w), &w.tester, diesel).await, Err(ServiceError::Forbidden(_))));
    let c = draws::commit_seed(s(&w), &w.regulator, diesel).await.expect("commit");
    assert_eq!(c.seed_sha256.len(), 64);
    let again = draws::commit_seed(s(&w), &w.regulator, diesel).await.unwrap_err();
    assert!(matches!(again, ServiceError::Rule(r) if r.code == "draw_seed_committed"), "one open commitment");
    let public = draws::commitments_of_plan(s(&w), plan.id).await.unwrap();
    assert_eq!(public.len(), 1);
    assert_eq!(serde_json::to_value(&public[0]).unwrap().get("seed"), None, "the seed is not published before");
    // A typed seed is refused while the commitment is open.
    match draws::run(s(&w), &w.regulator, req(diesel, 2, "看过名单后选的种子")).await {
        Err(ServiceError::Invalid(v)) => assert_eq!(v[0].code, "draw_seed_committed"),
        other => panic!("{other:?}"),
    }
    let d = draws::run(s(&w), &w.regulator, req(diesel, 2, "")).await.expect("draw with the committed seed");
    assert_eq!(draws::seed_sha256(&d.seed), c.seed_sha256);
    let used = draws::commitments_of_plan(s(&w), plan.id).await.unwrap();
    assert_eq!(used[0].draw_id, Some(d.id));
    assert!(draws::verify(s(&w), d.id).await.unwrap().message.contains("种子与事先公示的承诺相符"));
    draws::publish(s(&w), &w.regulator, d.id).await.unwrap();
    let record = draws::published_record(s(&w), d.id).await.unwrap();
    let committed = record.seed_commitment.expect("the record names the commitment");
    assert_eq!(committed.seed_sha256, c.seed_sha256);
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("RFC 3339");
    assert!(at(&committed.committed_at) <= at(&record.drawn_at), "committed before the draw");
    // Used: the next draw may type a seed again, or commit anew.
    draws::commit_seed(s(&w), &w.regulator, diesel).await.expect("a new commitment after the draw");
}
