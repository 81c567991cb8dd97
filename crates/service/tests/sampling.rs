//! On-site sampling through the service layer: the record against the published rules, signatures
//! that lock it, corrections confirmed by the enterprise, refusals co-signed by the local bureau and
//! problem reports reaching both bureaus.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::sampling::RecordFields;
use choucha_service::ServiceError;
use choucha_service::draws;
use choucha_service::evidence::{self, EvidenceInput, WaiverInput};
use choucha_service::fixtures::lab_world::{Options, PNG, Stage, World, photograph, record, s, sign, world_with};
use choucha_service::sampling::{self, CorrectionInput, CosignInput, ProblemInput, RefusalInput, SignInput};

/// The lab world with its task started by the team, no record yet.
async fn started() -> World {
    world_with(Options { stage: Stage::Started, ..Default::default() }).await
}

#[tokio::test]
async fn record_is_checked_against_the_rules_signed_by_all_then_locked() {
    let w = started().await;
    let mut few = record();
    few.test_quantity = 1.0;
    few.sampling_base = 100.0;
    match sampling::save_record(s(&w), &w.s1, w.task, few).await {
        Err(ServiceError::Invalid(v)) => {
            let codes: Vec<_> = v.iter().map(|e| e.code).collect();
            assert!(codes.contains(&"rules_quantity") && codes.contains(&"rules_min_base"), "{codes:?}");
        }
        other => panic!("{other:?}"),
    }
    // Someone outside the team may not fill it.
    let outsider = w.fx.user("lab_s3", &["sampler"], Some("lab")).await;
    assert!(matches!(sampling::save_record(s(&w), &outsider, w.task, record()).await, Err(ServiceError::Forbidden(_))));

    let r = sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    assert_eq!(r.total_paid_yuan, "14.70");
    assert_eq!(r.missing.len(), 3);
    photograph(s(&w), &w.s1, w.task).await;
    let r = sampling::sign(s(&w), &w.s1, w.task, sign("self")).await.unwrap();
    assert_eq!(r.missing.len(), 2);
    // Once someone signed, the draft is no longer changed silently.
    assert!(sampling::save_record(s(&w), &w.s1, w.task, record()).await.is_err());
    sampling::sign(s(&w), &w.s2, w.task, sign("self")).await.unwrap();
    let bad = SignInput { image_png_base64: "bm90IGEgcG5n".into(), ..sign("enterprise") };
    assert!(matches!(sampling::sign(s(&w), &w.s2, w.task, bad).await, Err(ServiceError::Invalid(_))));
    let r = sampling::sign(s(&w), &w.s2, w.task, sign("enterprise")).await.unwrap();
    assert_eq!(r.state.as_str(), "signed");
    assert!(r.missing.is_empty());
    assert!(r.signatures.iter().all(|g| g.record_hash == r.record_hash));
    assert_eq!(draws::get_task(s(&w), &w.s1, w.task).await.unwrap().state.as_str(), "sampled");
    assert!(matches!(sampling::save_record(s(&w), &w.s1, w.task, record()).await, Err(ServiceError::Rule(_))));

    // A correction is a new version showing the change, valid only on the enterprise's signature.
    let mut fixed = record();
    fixed.batch = "20251009".into();
    let none = CorrectionInput { fields: fixed.clone(), reason: " ".into() };
    assert!(sampling::correct(s(&w), &w.s1, w.task, none).await.is_err());
    let c = sampling::correct(s(&w), &w.s1, w.task, CorrectionInput { fields: fixed, reason: "批号抄写错误".into() })
        .await
        .unwrap();
    assert_eq!(c.state.as_str(), "pending_confirmation");
    assert_eq!(c.changes, vec![("batch".to_string(), "20251008".to_string(), "20251009".to_string())]);
    assert!(sampling::sign(s(&w), &w.s1, w.task, sign("self")).await.is_err(), "a sampler cannot confirm it");
    let refused = SignInput { refused: true, refusal_reason: "不同意".into(), ..sign("enterprise") };
    assert!(
        sampling::sign(s(&w), &w.s1, w.task, refused).await.is_err(),
        "a refused confirmation does not make it valid"
    );
    let c = sampling::sign(s(&w), &w.s1, w.task, sign("enterprise")).await.unwrap();
    assert_eq!((c.version, c.state.as_str()), (2, "signed"));
    let versions = sampling::record_versions(s(&w), &w.regulator, w.task).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.state.as_str()).collect::<Vec<_>>(), ["signed", "superseded"]);
}

#[tokio::test]
async fn an_enterprise_refusing_to_sign_is_noted_with_reason_and_witness() {
    let w = started().await;
    sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    photograph(s(&w), &w.s1, w.task).await;
    sampling::sign(s(&w), &w.s1, w.task, sign("self")).await.unwrap();
    sampling::sign(s(&w), &w.s2, w.task, sign("self")).await.unwrap();
    let no_reason = SignInput { refused: true, ..sign("enterprise") };
    assert!(matches!(sampling::sign(s(&w), &w.s1, w.task, no_reason).await, Err(ServiceError::Invalid(_))));
    // Nobody gives a name when refusing: the refusal is the enterprise's.
    let noted = SignInput {
        name: String::new(),
        refused: true,
        refusal_reason: "负责人拒绝签字".into(),
        witness_name: "李某（加油站员工）".into(),
        witness_image_png_base64: PNG.into(),
        ..sign("enterprise")
    };
    let r = sampling::sign(s(&w), &w.s1, w.task, noted).await.unwrap();
    assert_eq!(r.state.as_str(), "signed");
    assert!(r.signatures.iter().any(|g| g.refused && g.witness_name.starts_with("李某")));
}

#[tokio::test]
async fn a_refusal_is_final_only_when_the_enterprises_county_bureau_cosigns() {
    let w = started().await;
    assert!(
        sampling::refuse(
            s(&w),
            &w.s1,
            w.task,
            RefusalInput { facts: "".into(), reasons: "认为样品价格过低".into(), witness_name: String::new() }
        )
        .await
        .is_err()
    );
    sampling::refuse(
        s(&w),
        &w.s1,
        w.task,
        RefusalInput {
            facts: "以明显不合理的价格阻碍抽样".into(),
            reasons: "认为样品价格过低".into(),
            witness_name: String::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(draws::get_task(s(&w), &w.s1, w.task).await.unwrap().state.as_str(), "refusal_pending");
    let other_county = w.fx.user("yg_reg", &["local_regulator"], Some("dt-yg")).await;
    assert!(matches!(
        sampling::cosign_refusal(s(&w), &other_county, w.task, CosignInput { opinion: "同意".into() }).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(
        sampling::cosign_refusal(s(&w), &w.regulator, w.task, CosignInput { opinion: "同意".into() }).await.is_err()
    );
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let inbox = sampling::inbox(s(&w), &county, None, None).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.kind == "refusal" && i.ref_id == w.task));
    sampling::cosign_refusal(s(&w), &county, w.task, CosignInput { opinion: "经核实，认定为拒检".into() })
        .await
        .unwrap();
    assert_eq!(draws::get_task(s(&w), &w.s1, w.task).await.unwrap().state.as_str(), "refused");
    assert!(sampling::cosign_refusal(s(&w), &county, w.task, CosignInput { opinion: "again".into() }).await.is_err());
}

#[tokio::test]
async fn a_problem_stops_sampling_and_reaches_both_bureaus() {
    let w = started().await;
    let empty = ProblemInput { violation: "".into(), facts: "".into() };
    match sampling::report_problem(s(&w), &w.s1, w.task, empty).await {
        Err(ServiceError::Invalid(v)) => assert_eq!(v.len(), 2),
        other => panic!("{other:?}"),
    }
    let p = ProblemInput { violation: "无证无照".into(), facts: "现场未能出示营业执照".into() };
    sampling::report_problem(s(&w), &w.s1, w.task, p).await.unwrap();
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    for who in [&w.regulator, &county] {
        let inbox = sampling::inbox(s(&w), who, None, None).await.unwrap();
        assert!(inbox.items.iter().any(|i| i.kind == "problem" && i.title.contains("无证无照")), "{:?}", inbox.items);
    }
    // Sampling stopped.
    assert!(sampling::save_record(s(&w), &w.s1, w.task, record()).await.is_err());
    assert!(sampling::inbox(s(&w), &w.s1, None, None).await.is_err(), "samplers have no bureau inbox");
}

fn photo(category: &str) -> EvidenceInput {
    EvidenceInput { category: category.into(), file_name: format!("{category}.jpg"), content_type: "image/jpeg".into() }
}

#[tokio::test]
async fn rule7_nobody_signs_until_the_required_evidence_is_there_or_explained() {
    let w = started().await;
    sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    let refused = |r: Result<sampling::RecordView, ServiceError>| match r {
        Err(ServiceError::Rule(v)) if v.code == "rule7_evidence" => v.message,
        other => panic!("expected rule7_evidence, got {other:?}"),
    };
    // Nothing photographed: neither a sampler nor the enterprise can sign; the message names all six.
    let m = refused(sampling::sign(s(&w), &w.s1, w.task, sign("self")).await);
    assert!(m.contains("抽样场所") && m.contains("封样") && !m.contains("文书"), "{m}");
    assert!(refused(sampling::sign(s(&w), &w.s1, w.task, sign("enterprise")).await).contains("库存数量"));
    // Five categories photographed (documents does not stand in for one): still refused, naming the sixth.
    for c in ["site", "storage", "labels", "process", "seals", "documents"] {
        evidence::add(s(&w), &w.s2, w.task, photo(c), b"\xff\xd8\xff\xe0 photo").await.unwrap();
    }
    let m = refused(sampling::sign(s(&w), &w.s1, w.task, sign("self")).await);
    assert!(m.contains("库存数量") && !m.contains("抽样场所"), "{m}");
    let list = evidence::list(s(&w), &w.s1, w.task).await.unwrap();
    assert_eq!(list.missing.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["stock"]);
    assert!(list.can_add);

    // Explaining: not by a stranger, not without a reason, not for a category that has photos or
    // that the rules do not require.
    let why = |category: &str, reason: &str| WaiverInput { category: category.into(), reason: reason.into() };
    let outsider = w.fx.user("lab_s9", &["sampler"], Some("lab")).await;
    assert!(matches!(
        evidence::explain_missing(s(&w), &outsider, w.task, why("stock", "企业不允许拍摄库存")).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        evidence::explain_missing(s(&w), &w.s1, w.task, why("stock", " ")).await,
        Err(ServiceError::Invalid(_))
    ));
    for (cat, code) in [("site", "already_present"), ("documents", "not_required")] {
        match evidence::explain_missing(s(&w), &w.s1, w.task, why(cat, "无法拍摄的原因")).await {
            Err(ServiceError::Rule(v)) => assert_eq!(v.code, code, "{cat}"),
            other => panic!("{cat}: {other:?}"),
        }
    }
    let list = evidence::explain_missing(s(&w), &w.s1, w.task, why("库存数量", "企业以商业秘密为由不允许拍摄库存"))
        .await
        .unwrap();
    assert!(list.missing.is_empty());
    assert_eq!(list.waivers[0].reason, "企业以商业秘密为由不允许拍摄库存");
    match evidence::explain_missing(s(&w), &w.s2, w.task, why("stock", "再说一次原因")).await {
        Err(ServiceError::Rule(v)) => assert_eq!(v.code, "already_explained"),
        other => panic!("{other:?}"),
    }

    // Now the record is signed and locks; the organising bureau sees the reason with the evidence,
    // and nothing more can be added.
    for (who, signer) in [(&w.s1, "self"), (&w.s2, "self"), (&w.s1, "enterprise")] {
        sampling::sign(s(&w), who, w.task, sign(signer)).await.unwrap();
    }
    let seen = evidence::list(s(&w), &w.regulator, w.task).await.unwrap();
    assert_eq!(seen.items.len(), 6);
    assert_eq!(
        seen.checklist.iter().find(|c| c.category.as_str() == "stock").unwrap().reason.as_deref(),
        Some("企业以商业秘密为由不允许拍摄库存")
    );
    assert!(!seen.can_add);
    assert!(!evidence::list(s(&w), &w.s1, w.task).await.unwrap().can_add, "locked: no more uploads");
    // The testers never see the evidence (the photos show the enterprise).
    assert!(evidence::list(s(&w), &w.t1, w.task).await.is_err());
}

#[tokio::test]
async fn rule7_the_enterprises_county_bureau_sees_the_evidence_another_county_does_not() {
    let w = started().await;
    photograph(s(&w), &w.s1, w.task).await;
    let own = w.fx.user("pc_reg7", &["local_regulator"], Some("dt-pc")).await;
    let other = w.fx.user("yg_reg7", &["local_regulator"], Some("dt-yg")).await;
    assert_eq!(evidence::list(s(&w), &own, w.task).await.unwrap().items.len(), 6);
    assert!(matches!(evidence::list(s(&w), &other, w.task).await, Err(ServiceError::NotFound(_))));
}

/// Plan B of the same bureau (dt) with one item per product, rules published, one task drawn and
/// started for each; the task ids in the order of `products`.
async fn second_plan(w: &World, products: &[&str]) -> Vec<i64> {
    use choucha_domain::implementation_rules::{Limit, RulesAction};
    use choucha_service::implementation_rules::{self as irules, RulesBody, TestItemInput};
    use choucha_service::plans::{self, ItemInput, PlanDraft, PlanInput};
    let draft = PlanDraft {
        plan: PlanInput {
            year: 2025,
            title: "2025年第二批监督抽查".into(),
            organising_org_code: Some("dt".into()),
            deadline_delivery: Some("2025-11-15".into()),
            contact_name: "质量监督科 李明".into(),
            contact_phone: "0352-5022345".into(),
            ..Default::default()
        },
        items: products
            .iter()
            .enumerate()
            .map(|(i, p)| ItemInput {
                number: (i + 1).to_string(),
                category: "机械及安防".into(),
                product: (*p).into(),
                quota: Some(5),
                scopes: "销售者".into(),
                sampling_org_code: Some("lab".into()),
                testing_org_code: Some("lab".into()),
                screening_org_code: None,
            })
            .collect(),
    };
    let plan = plans::create(s(w), &w.regulator, draft).await.unwrap();
    plans::issue(s(w), &w.regulator, plan.id).await.unwrap();
    let mut tasks = Vec::new();
    for item in &plan.items {
        let body = RulesBody {
            standards: vec!["GB 19147-2016".into()],
            test_items: vec![TestItemInput {
                name: "硫含量".into(),
                method: "GB/T 0000".into(),
                limit: Limit::Max { max: 10.0, inclusive: true },
                unit: "mg/kg".into(),
                class: None,
            }],
            test_portion: "2瓶×1L".into(),
            backup_portion: "2瓶×1L".into(),
            judgement_principle: "所检项目全部符合标准要求的，判定为合格".into(),
            quantity_unit: "L".into(),
            ..Default::default()
        };
        let r = irules::create_draft(s(w), &w.t1, item.id, body).await.unwrap();
        irules::step(s(w), &w.t1, r.id, RulesAction::Submit, None).await.unwrap();
        for a in [RulesAction::Approve, RulesAction::Publish] {
            irules::step(s(w), &w.regulator, r.id, a, None).await.unwrap();
        }
        let req = draws::DrawRequest {
            item_id: item.id,
            quota: 1,
            seed: "b".into(),
            stratified: false,
            team_size: None,
            filters: draws::DrawFilters::default(),
            risk_weights: None,
        };
        let task = draws::run(s(w), &w.regulator, req).await.unwrap().drawn[0].task_id.unwrap();
        draws::start_task(s(w), &w.s1, task).await.unwrap();
        tasks.push(task);
    }
    tasks
}

#[tokio::test]
async fn rule22_a_record_of_a_product_this_bureau_checked_within_six_months_is_refused_at_saving() {
    // Plan A's record (signed by the world) checked 示例牌 0号 车用柴油 made by the world's enterprise.
    let w = world_with(Options { more_enterprises: 2, ..Default::default() }).await;
    let tasks = second_plan(&w, &["车用柴油", "电冰箱"]).await;
    let same_producer = RecordFields { producer_uscc: w.uscc.to_lowercase(), ..record() };
    match sampling::save_record(s(&w), &w.s1, tasks[0], same_producer.clone()).await {
        Err(ServiceError::Rule(v)) => assert_eq!(v.code, "rule22_repeat", "{v:?}"),
        other => panic!("the same product again within six months: {other:?}"),
    }
    // Another model of the same producer is another product.
    let other_model = RecordFields { model: "-10号".into(), ..same_producer.clone() };
    sampling::save_record(s(&w), &w.s1, tasks[0], other_model).await.unwrap();
    // A record of another producer does not count: this seller made nothing checked before.
    sampling::save_record(s(&w), &w.s1, tasks[0], record()).await.unwrap();
    // Nor one of another product of the same producer, brand, standard and model.
    sampling::save_record(s(&w), &w.s1, tasks[1], same_producer).await.unwrap();
}

/// The field app replays writes queued on a phone: each names the record version it was based on,
/// and a write based on a record that changed on the server meanwhile is refused (never applied
/// over the team mate's version), while one based on the current version goes through.
#[tokio::test]
async fn a_queued_write_based_on_an_older_record_is_refused_as_stale() {
    let w = started().await;
    let stale = |r: Result<sampling::RecordView, ServiceError>| match r {
        Err(ServiceError::Rule(v)) => {
            assert_eq!(v.code, "stale_task");
            assert!(v.message.contains("服务器上已被修改"), "{}", v.message);
        }
        other => panic!("{other:?}"),
    };
    // The phone saw no record; a team mate saved one meanwhile.
    let theirs = sampling::save_record(s(&w), &w.s2, w.task, record()).await.unwrap();
    let mut mine = record();
    mine.batch = "20251111".into();
    stale(sampling::save_record_based_on(s(&w), &w.s1, w.task, mine.clone(), Some("")).await);
    assert_eq!(sampling::get_record(s(&w), &w.s1, w.task).await.unwrap().fields.batch, "20251008", "theirs kept");
    // Re-applied onto the server's version, it goes through.
    let r = sampling::save_record_based_on(s(&w), &w.s1, w.task, mine, Some(&theirs.record_hash)).await.unwrap();
    assert_eq!(r.fields.batch, "20251111");
    // A signature of the version the phone showed (theirs), not the current one: refused, none recorded.
    photograph(s(&w), &w.s1, w.task).await;
    stale(sampling::sign_based_on(s(&w), &w.s1, w.task, sign("self"), Some(&theirs.record_hash)).await);
    assert!(sampling::get_record(s(&w), &w.s1, w.task).await.unwrap().signatures.is_empty());
    let signed = sampling::sign_based_on(s(&w), &w.s1, w.task, sign("self"), Some(&r.record_hash)).await.unwrap();
    assert_eq!(signed.signatures.len(), 1);
}
