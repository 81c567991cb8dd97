//! Personal data at rest (issue 15, item 8): a user's phone and identity-document numbers are held
//! SM4-GCM encrypted in the database, read back whole by who edits the user, masked in lists, and
//! rows written in plain text before are sealed at start-up. On SQLite, and on PostgreSQL with
//! CHOUCHA_TEST_DATABASE_URL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_service::fixtures::Fixture;
use choucha_service::users::{self, NewUserInput, UserFilter};
use choucha_service::{ServiceError, personal};
use sea_orm::{ConnectionTrait, Statement};

const PHONE: &str = "13912345678";
const ID: &str = "140202199001011234";

async fn stored(fx: &Fixture, id: i64) -> (String, String) {
    let db = fx.services.store().reader();
    let sql = format!("SELECT phone, id_card_no FROM users WHERE id = {id}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap())
}

#[tokio::test]
async fn phone_and_identity_numbers_are_stored_encrypted_and_shown_masked_in_lists() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let input = NewUserInput {
        username: "zhang.sampler".into(),
        display_name: "张抽样".into(),
        password: "good-pass-2025".into(),
        roles: vec!["sampler".into()],
        org_code: Some("lab".into()),
        phone: PHONE.into(),
        id_card_no: ID.into(),
        ..Default::default()
    };
    let u = fx.create_user(input).await.unwrap();
    let (phone, id) = stored(&fx, u.id).await;
    for (raw, plain) in [(&phone, PHONE), (&id, ID)] {
        assert!(personal::is_sealed(raw), "{raw}");
        assert!(!raw.contains(plain) && !raw.contains(&plain[plain.len() - 4..]), "{raw}");
    }
    // The same number sealed twice differs (a fresh nonce each time).
    assert_ne!(personal::seal(s, PHONE).unwrap(), personal::seal(s, PHONE).unwrap());
    // Whoever edits the user reads it whole; the list shows it masked.
    let one = users::get(s, &fx.admin, u.id).await.unwrap();
    assert_eq!((one.phone.as_str(), one.id_card_no.as_str()), (PHONE, ID));
    let filter = UserFilter { q: Some("zhang".into()), ..Default::default() };
    let listed = users::list(s, &fx.admin, &filter, None, None).await.unwrap().items.remove(0);
    assert_eq!(listed.phone, "139****5678");
    assert_eq!(listed.id_card_no, "1402**********1234");

    // A ciphertext changed in the database does not open: an error, never wrong data.
    let mut tampered = phone.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let sql = format!("UPDATE users SET phone = '{tampered}' WHERE id = {}", u.id);
    s.store().reader().execute_unprepared(&sql).await.unwrap();
    assert!(matches!(users::get(s, &fx.admin, u.id).await, Err(ServiceError::Internal(_))));
}

#[tokio::test]
async fn numbers_stored_in_plain_text_before_are_sealed_at_start_up() {
    let fx = Fixture::new().await;
    let s = &fx.services;
    let u = fx.user("legacy", &["sampler"], Some("lab")).await;
    let sql = format!("UPDATE users SET phone = '{PHONE}', id_card_no = '{ID}' WHERE id = {}", u.user_id);
    s.store().reader().execute_unprepared(&sql).await.unwrap();
    // Read as it is meanwhile.
    assert_eq!(users::get(s, &fx.admin, u.user_id).await.unwrap().phone, PHONE);
    assert!(personal::seal_stored(s).await.unwrap() >= 1);
    let (phone, id) = stored(&fx, u.user_id).await;
    assert!(personal::is_sealed(&phone) && personal::is_sealed(&id));
    let one = users::get(s, &fx.admin, u.user_id).await.unwrap();
    assert_eq!((one.phone.as_str(), one.id_card_no.as_str()), (PHONE, ID));
    // Nothing left: a second run seals nothing.
    assert_eq!(personal::seal_stored(s).await.unwrap(), 0);
}
