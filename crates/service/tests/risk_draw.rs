//! The risk-based draw (issue 18, part 4) through the service: every candidate is put in its risk
//! class from what the system knows (an unqualified result, a lapsed licence, size), places go to
//! the classes by the bureau's weights, and the record re-runs, publishes the weights and classes,
//! and a redraw replaces an enterprise from its own class. On SQLite or PostgreSQL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::draw::risk::{RiskClass, RiskWeights};
use choucha_domain::enterprise::EnterpriseDraft;
use choucha_service::draws::{self, DrawFilters, DrawRequest, RedrawRequest};
use choucha_service::fixtures::lab_world::{self, Options, World, s};
use choucha_service::fixtures::{FIXTURE_PRODUCTS, test_uscc};
use choucha_service::plans::{self, ItemInput, PlanDraft, PlanInput};
use choucha_service::{ServiceError, registry};

const LAPSED: &str = "大同市示例过期许可商店";
const LARGE: &str = "大同市示例大型商场";
const PLAIN: &str = "大同市示例便利店";

/// The world's diesel sample fails (sulfur 50 > 10); three more sellers: a lapsed licence, a large
/// one and a plain one; and a second plan (电冰箱) whose draw sees all four.
async fn setting() -> (World, i64) {
    let w = lab_world::world_with(Options::default()).await;
    let report = lab_world::issued(&w, 50.0).await;
    assert!(!report.qualified, "the first sample failed");
    let svc = s(&w);
    for (name, n, size, until) in [(LAPSED, 41, "", "2020-06-30"), (LARGE, 42, "large", ""), (PLAIN, 43, "", "")] {
        let draft = EnterpriseDraft {
            name: name.into(),
            uscc: test_uscc("140213", n).to_string(),
            division_code: "140213".into(),
            address: "大同市平城区某街".into(),
            kinds: "销售者".into(),
            size_class: size.into(),
            product_lines: FIXTURE_PRODUCTS.into(),
            licence_no: if until.is_empty() { String::new() } else { "XK05-001-00999".into() },
            licence_valid_until: until.into(),
            ..Default::default()
        };
        registry::create(svc, &w.fx.admin, draft).await.expect("registry entry");
    }
    let draft = PlanDraft {
        plan: PlanInput {
            year: 2026,
            title: "2026年电冰箱监督抽查".into(),
            organising_org_code: Some("dt".into()),
            deadline_delivery: Some("2026-11-15".into()),
            ..Default::default()
        },
        items: vec![ItemInput {
            number: "1".into(),
            category: "电子电器".into(),
            product: "电冰箱".into(),
            quota: Some(10),
            scopes: "销售者".into(),
            sampling_org_code: Some("lab".into()),
            testing_org_code: Some("lab".into()),
            screening_org_code: None,
        }],
    };
    let plan = plans::create(svc, &w.regulator, draft).await.expect("plan");
    let plan = plans::issue(svc, &w.regulator, plan.id).await.expect("issue");
    let item = plan.items[0].id;
    (w, item)
}

fn weighted(item_id: i64, quota: u32, seed: &str, weights: &[(RiskClass, u32)]) -> DrawRequest {
    DrawRequest {
        item_id,
        quota,
        seed: seed.into(),
        stratified: false,
        team_size: None,
        filters: DrawFilters::default(),
        risk_weights: Some(weights.iter().copied().collect::<RiskWeights>()),
    }
}

#[tokio::test]
async fn candidates_are_classed_from_history_licence_and_size_and_drawn_by_weight() {
    let (w, item) = setting().await;
    let svc = s(&w);
    // Only the high-risk class weighs: the enterprise whose diesel failed is drawn.
    let d = draws::run(svc, &w.regulator, weighted(item, 1, "风险加权 1", &[(RiskClass::High, 30)]))
        .await
        .expect("weighted draw");
    assert_eq!(d.algorithm, "choucha-draw-risk-v1");
    assert_eq!(d.drawn.len(), 1);
    assert_eq!(d.drawn[0].uscc, w.uscc, "the unqualified enterprise is the only high-risk one");
    assert_eq!(d.drawn[0].risk_class, Some(RiskClass::High));
    assert_eq!(d.risk_classes.get(&RiskClass::High), Some(&1));
    assert_eq!(d.risk_classes.get(&RiskClass::Elevated), Some(&1), "the lapsed licence: {:?}", d.risk_classes);
    assert_eq!(d.risk_classes.get(&RiskClass::Low), Some(&1), "the large one");
    assert_eq!(d.risk_classes.get(&RiskClass::General), Some(&1), "the plain one");
    assert!(draws::verify(svc, d.id).await.unwrap().verified, "a weighted draw re-runs from its record");

    // Next only elevated and low weigh: two places, one each (equal size × weight).
    let d2 = draws::run(
        svc,
        &w.regulator,
        weighted(item, 2, "风险加权 2", &[(RiskClass::Elevated, 10), (RiskClass::Low, 10)]),
    )
    .await
    .expect("second draw");
    let mut names: Vec<String> = d2.drawn.iter().map(|e| e.name.clone()).collect();
    names.sort();
    let mut expected = vec![LAPSED.to_string(), LARGE.to_string()];
    expected.sort();
    assert_eq!(names, expected);

    // The published record carries the weights and every candidate's class.
    draws::publish(svc, &w.regulator, d2.id).await.unwrap();
    let record = draws::published_record(svc, d2.id).await.unwrap();
    let weights = record.risk_weights.clone().expect("weights published");
    assert_eq!(weights.get(&RiskClass::Elevated), Some(&10));
    assert!(record.candidates.iter().all(|c| c.risk_class.is_some()));
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["algorithm"], "choucha-draw-risk-v1");
    assert_eq!(json["risk_weights"]["C"], 10);

    // A redraw replaces the enterprise from its own class; the plain one is left in class B.
    let lapsed = d2.drawn.iter().find(|e| e.name == LAPSED).unwrap();
    let r = draws::redraw(
        svc,
        &w.regulator,
        RedrawRequest { task_id: lapsed.task_id.unwrap(), reason: "企业已停业".into(), seed: "替补".into() },
    )
    .await;
    match r {
        Err(ServiceError::Rule(v)) => assert_eq!(v.code, "draw_no_candidates", "no other elevated-risk candidate"),
        other => panic!("the redraw must stay in the class: {other:?}"),
    }
}

#[tokio::test]
async fn weights_are_checked_and_a_uniform_draw_stays_uniform() {
    let (w, item) = setting().await;
    let svc = s(&w);
    for bad in [vec![(RiskClass::High, 0), (RiskClass::Low, 0)], vec![(RiskClass::High, 1001)]] {
        match draws::run(svc, &w.regulator, weighted(item, 1, "x", &bad)).await {
            Err(ServiceError::Invalid(v)) => assert_eq!(v[0].code, "draw_risk_weight"),
            other => panic!("weights {bad:?} must be refused: {other:?}"),
        }
    }
    // Only the organising bureau draws, weighted or not.
    let refused = draws::run(svc, &w.t1, weighted(item, 1, "x", &[(RiskClass::High, 1)])).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let mut plain = weighted(item, 4, "均匀", &[]);
    plain.risk_weights = None;
    let d = draws::run(svc, &w.regulator, plain).await.expect("uniform draw");
    assert_eq!(d.algorithm, "choucha-draw-v1");
    assert!(d.risk_weights.is_none() && d.risk_classes.is_empty());
    assert!(d.drawn.iter().all(|e| e.risk_class.is_none()));
    assert!(draws::verify(svc, d.id).await.unwrap().verified);
}
