//! The training clock through the service: a training instance's system administrator moves the
//! business date forward (audited, stamped by the clock every use case reads); a production
//! instance refuses (a rule, 409); nobody else may (403); the date never moves back. Runs on SQLite,
//! and on PostgreSQL when CHOUCHA_TEST_DATABASE_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use choucha_service::fixtures::Fixture;
use choucha_service::{ServiceError, audit, training};
use choucha_store::audit::AuditFilter;
use chrono::Duration;

#[tokio::test]
async fn production_refuses_to_move_the_date() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let before = s.today();
    let e = training::move_forward(s, &fx.admin, 16).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Rule(v) if v.message.contains("不是培训实例")), "{e:?}");
    assert_eq!(s.today(), before);
    assert_eq!(training::moved_today(s), None, "no banner on production");
    let view = training::view(s, &fx.admin).unwrap();
    assert!(!view.training);
}

#[tokio::test]
async fn a_training_instance_moves_forward_audited_and_only_by_the_system_administrator() {
    let mut fx = Fixture::new().await;
    fx.services = fx.services.clone().with_training(true);
    let s = &fx.services;
    let before = s.today();
    for who in [&fx.security, &fx.auditor] {
        let e = training::move_forward(s, who, 1).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
    }
    assert!(matches!(training::move_forward(s, &fx.admin, 0).await, Err(ServiceError::Invalid(_))));
    assert!(matches!(training::move_to(s, &fx.admin, before).await, Err(ServiceError::Invalid(_))));
    assert_eq!(s.today(), before);

    let after = training::move_forward(s, &fx.admin, 16).await.unwrap();
    assert_eq!(after, before + Duration::days(16));
    assert_eq!(s.today(), after, "every use case reads the moved clock");
    assert_eq!(training::moved_today(s), Some(after), "the banner's date");
    let later = training::move_to(s, &fx.admin, after + Duration::days(7)).await.unwrap();
    assert_eq!(later, after + Duration::days(7));

    let f = AuditFilter { action: Some("training.move_date".into()), ..Default::default() };
    let page = audit::list(s, &fx.auditor, &f, None, None).await.unwrap();
    assert_eq!(page.items.len(), 2, "each move is one audit record");
    let newest = &page.items[0];
    assert_eq!(newest.object_id, later.to_string());
    assert_eq!(newest.actor_id, Some(fx.admin.user_id));
    // The record after a move is stamped on the moved date (Beijing).
    let stamp = chrono::DateTime::parse_from_rfc3339(&newest.at).unwrap().with_timezone(&chrono::Utc);
    assert_eq!(choucha_domain::clock::beijing_date(stamp), after, "the second move happened on the moved date");
}
