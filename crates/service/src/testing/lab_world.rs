//! A laboratory world for tests: a bureau (dt), an institution (lab) with a custodian, two testers,
//! two approvers and two samplers who also hold lab roles, a 车用柴油 plan with published rules, one
//! drawn task sampled at a seller with its record signed (or stopped earlier, `Options::stage`). Used
//! by the service and web tests; `another_task`, `sampled` and `issued_task` add more samples.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use choucha_domain::lab::{ObservedSample, ReceiptDecision};
use choucha_domain::rules::{Limit, RulesAction};
use choucha_domain::sampling::RecordFields;
use choucha_store::audit::{self, AuditActor, AuditEntry};
use choucha_store::custody::{self, NewCustodyEvent};

use crate::draws::{self, DrawFilters, DrawRequest};
use crate::implementation_rules::{self as irules, LicenceRequirement, RulesBody, TestItemInput};
use crate::lab::{self, ReceiptInput, ReceiptPhotoInput, ReportView, ResultInput, SignOffInput};
use crate::organisations::{self, OrgInput};
use crate::plans::{self, ItemInput, PlanDraft, PlanInput};
use crate::sampling::{self, SignInput};
use crate::testing::{Fixture, PASSWORD, test_uscc};
use crate::{Actor, ServiceError, Services, auth};

pub const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
pub const ENTERPRISE: &str = "大同市平城区示例加油站0";
/// The nominal producer named on the record when `Options::producer`.
pub const PRODUCER: &str = "山西示例石化有限公司";

pub struct World {
    pub fx: Fixture,
    pub regulator: Actor,
    pub custodian: Actor,
    pub t1: Actor,
    pub t2: Actor,
    pub a1: Actor,
    pub a2: Actor,
    /// Samplers of the task who also hold lab roles.
    pub s1: Actor,
    pub s2: Actor,
    pub task: i64,
    pub uscc: String,
    /// The plan, and its item (车用柴油) the task was drawn for.
    pub plan: i64,
    pub item: i64,
}

pub fn s(w: &World) -> &Services {
    &w.fx.services
}

pub fn code(e: &ServiceError) -> &str {
    e.code()
}

/// How far the world's task goes before a test takes over.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum Stage {
    /// Drawn, not started.
    Drawn,
    /// Started by the team, no record saved yet.
    Started,
    /// The record saved and signed by both samplers and the enterprise.
    #[default]
    Signed,
}

#[derive(Clone, Copy, Default)]
pub struct Options {
    pub licence: LicenceRequirement,
    /// The sampled enterprise holds a valid production licence in the registry.
    pub licensed: bool,
    pub screening: bool,
    /// The record names a nominal producer other than the seller (rule 23 applies).
    pub producer: bool,
    /// How far the world's task goes (signed by default).
    pub stage: Stage,
    /// More sellers registered in 平城区 before the draw, named as `ENTERPRISE` with 1, 2, … for 0;
    /// the draw picks one of all of them.
    pub more_enterprises: u32,
    /// The plan item's quota (10 when None).
    pub quota: Option<u32>,
    /// The clock runs from this instant on, set before anything is built (the machine's time when None).
    pub clock_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The plan's budget in yuan.
    pub budget_yuan: Option<&'static str>,
}

pub async fn world_with(opt: Options) -> World {
    let fx = Fixture::new().await;
    if let Some(at) = opt.clock_at {
        fx.services.clock().run_from(at);
    }
    let regulator = fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let custodian = fx.user("lab_keeper", &["sample_custodian"], Some("lab")).await;
    let t1 = fx.user("lab_t1", &["tester"], Some("lab")).await;
    let t2 = fx.user("lab_t2", &["tester"], Some("lab")).await;
    let a1 = fx.user("lab_a1", &["report_approver"], Some("lab")).await;
    let a2 = fx.user("lab_a2", &["report_approver"], Some("lab")).await;
    fx.user("lab_s1", &["sampler", "tester"], Some("lab")).await;
    fx.user("lab_s2", &["sampler", "report_approver"], Some("lab")).await;
    if opt.screening {
        let mut o = OrgInput {
            code: "wn".into(),
            name: "江苏威诺检测技术有限公司".into(),
            kind: "institution".into(),
            active: true,
            ..Default::default()
        };
        o.cap_screening = true;
        organisations::create_as_system(&fx.services, "test", o).await.unwrap();
        fx.user("wn_screener", &["tester"], Some("wn")).await;
    }
    if opt.licensed {
        let draft = choucha_domain::enterprise::EnterpriseDraft {
            name: ENTERPRISE.into(),
            uscc: test_uscc("140213", 1).to_string(),
            division_code: "140213".into(),
            address: "大同市平城区某路1号".into(),
            kinds: "生产者、销售者、加油站".into(),
            product_lines: crate::testing::FIXTURE_PRODUCTS.into(),
            licence_no: "XK05-001-00123".into(),
            licence_valid_until: "2030-12-31".into(),
            ..Default::default()
        };
        crate::registry::create(&fx.services, &fx.admin, draft).await.unwrap();
    } else {
        fx.enterprise(ENTERPRISE, "140213", "销售者、加油站", 1).await;
    }
    for i in 1..=opt.more_enterprises {
        let name = format!("{}{i}", ENTERPRISE.trim_end_matches('0'));
        fx.enterprise(&name, "140213", "销售者、加油站", i + 1).await;
    }
    let svc = &fx.services;
    let draft = PlanDraft {
        plan: PlanInput {
            year: 2025,
            title: "2025年车用柴油监督抽查".into(),
            organising_org_code: Some("dt".into()),
            deadline_delivery: Some("2025-11-15".into()),
            budget_yuan: opt.budget_yuan.map(str::to_string),
            ..Default::default()
        },
        items: vec![ItemInput {
            number: "1".into(),
            category: "机械及安防".into(),
            product: "车用柴油".into(),
            quota: Some(opt.quota.unwrap_or(10)),
            scopes: "销售者".into(),
            sampling_org_code: Some("lab".into()),
            testing_org_code: Some("lab".into()),
            screening_org_code: opt.screening.then(|| "wn".to_string()),
        }],
    };
    let plan = plans::create(svc, &regulator, draft).await.unwrap();
    plans::issue(svc, &regulator, plan.id).await.unwrap();
    let diesel = plan.items[0].id;
    let item = |name: &str, limit: Limit, unit: &str| TestItemInput {
        name: name.into(),
        method: "GB/T 0000".into(),
        limit,
        unit: unit.into(),
        class: None,
    };
    let body = RulesBody {
        standards: vec!["GB 19147-2016".into()],
        test_items: vec![
            item("硫含量", Limit::Max { max: 10.0, inclusive: true }, "mg/kg"),
            item("闪点（闭口）", Limit::Min { min: 60.0, inclusive: true }, "℃"),
            item("外观", Limit::EqualsText { text: "清澈透明".into() }, ""),
        ],
        test_portion: "2瓶×1L".into(),
        backup_portion: "2瓶×1L".into(),
        judgement_principle: "所检项目全部符合标准要求的，判定为合格；有一项不符合的，判定为不合格".into(),
        licence: opt.licence,
        test_quantity: Some(2.0),
        backup_quantity: Some(2.0),
        min_base_quantity: Some(200.0),
        quantity_unit: "L".into(),
        ..Default::default()
    };
    let r = irules::create_draft(svc, &t1, diesel, body).await.unwrap();
    irules::step(svc, &t1, r.id, RulesAction::Submit, None).await.unwrap();
    irules::step(svc, &regulator, r.id, RulesAction::Approve, None).await.unwrap();
    irules::step(svc, &regulator, r.id, RulesAction::Publish, None).await.unwrap();
    let d = draws::run(
        svc,
        &regulator,
        DrawRequest {
            item_id: diesel,
            quota: 1,
            seed: "s".into(),
            stratified: false,
            team_size: None,
            filters: DrawFilters::default(),
        },
    )
    .await
    .unwrap();
    let task = d.drawn[0].task_id.unwrap();
    let uscc = d.drawn[0].uscc.clone();
    let s1 = auth::login(svc, "lab_s1", PASSWORD).await.unwrap();
    let s2 = auth::login(svc, "lab_s2", PASSWORD).await.unwrap();
    if opt.stage != Stage::Drawn {
        draws::start_task(svc, &s1, task).await.unwrap();
    }
    let rec = if opt.producer {
        RecordFields {
            producer_name: PRODUCER.into(),
            producer_address: "太原市小店区某路8号".into(),
            producer_uscc: test_uscc("140105", 3).to_string(),
            ..record()
        }
    } else {
        record()
    };
    if opt.stage == Stage::Signed {
        save_and_sign(svc, &s1, &s2, task, rec).await;
    }
    World { fx, regulator, custodian, t1, t2, a1, a2, s1, s2, task, uscc, plan: plan.id, item: diesel }
}

async fn save_and_sign(svc: &Services, s1: &Actor, s2: &Actor, task: i64, rec: RecordFields) {
    sampling::save_record(svc, s1, task, rec).await.unwrap();
    for (who, signer) in [(s1, "self"), (s2, "self"), (s1, "enterprise")] {
        sampling::sign(svc, who, task, sign(signer)).await.unwrap();
    }
}

/// One more seller in 平城区 (`n` numbers its USCC), registered now and drawn alone for the world's
/// item (the draw passes over the enterprises already drawn); its task, not started.
pub async fn another_task(w: &World, name: &str, n: u32) -> i64 {
    w.fx.enterprise(name, "140213", "销售者、加油站", n).await;
    let req = DrawRequest {
        item_id: w.item,
        quota: 1,
        seed: format!("s{n}"),
        stratified: false,
        team_size: None,
        filters: DrawFilters::default(),
    };
    let d = draws::run(s(w), &w.regulator, req).await.unwrap();
    assert_eq!(d.drawn.len(), 1);
    assert_eq!(d.drawn[0].name, name);
    d.drawn[0].task_id.unwrap()
}

/// A started task's record saved as given and signed by both samplers and the enterprise.
pub async fn sampled(w: &World, task: i64, rec: RecordFields) {
    save_and_sign(s(w), &w.s1, &w.s2, task, rec).await;
}

pub async fn world() -> World {
    world_with(Options::default()).await
}

pub fn record() -> RecordFields {
    RecordFields {
        product_name: "车用柴油".into(),
        brand: "示例牌".into(),
        model: "0号".into(),
        batch: "20251008".into(),
        standard: "GB 19147-2016".into(),
        sampling_base: 12000.0,
        test_quantity: 2.0,
        backup_quantity: 2.0,
        unit: "L".into(),
        unit_price: 7.35,
        place: "加油机3号枪".into(),
        domain: "circulation".into(),
        sampled_at: "2025-10-10 10:30".into(),
        test_seals: vec!["SXGH-000123".into()],
        backup_seals: vec!["SXGH-000124".into()],
        ..Default::default()
    }
}

/// A signature drawn on a pad, for the report's prepare / review / approve.
pub fn sig() -> SignOffInput {
    SignOffInput { signature_png_base64: PNG.into() }
}

pub fn sign(signer: &str) -> SignInput {
    SignInput {
        signer: signer.into(),
        name: if signer == "enterprise" { "王站长".into() } else { String::new() },
        image_png_base64: PNG.into(),
        refused: false,
        refusal_reason: String::new(),
        witness_name: String::new(),
        witness_image_png_base64: String::new(),
    }
}

/// The sampling side's hand-over: the portions are dispatched to the testing institution.
pub async fn dispatch(s: &Services, task: i64) {
    let tx = s.store.begin().await.unwrap();
    custody::insert(
        &tx,
        NewCustodyEvent {
            task_id: task,
            portion: "all".into(),
            kind: "dispatched".into(),
            seal_state: choucha_domain::lab::SealState::Intact,
            mode: "shipped".into(),
            carrier: "EMS".into(),
            tracking_no: "EA123456789CN".into(),
            actor_name: "test".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    audit::append(
        &tx,
        &AuditActor::system("test"),
        AuditEntry::new("custody.dispatch", "sampling_task", task, serde_json::json!(null), serde_json::json!(null)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

pub fn observed() -> ObservedSample {
    ObservedSample {
        test_seals: vec!["SXGH-000123".into()],
        backup_seals: vec!["SXGH-000124".into()],
        test_quantity: 2.0,
        backup_quantity: 2.0,
        seals_intact: true,
        labels_match: true,
        appearance: "封条完好，瓶身无渗漏".into(),
    }
}

pub fn accept() -> ReceiptInput {
    ReceiptInput {
        arrived_at: None,
        delivered_by: "EMS快递员".into(),
        carrier: "EMS".into(),
        tracking_no: "EA123456789CN".into(),
        observed: observed(),
        decision: ReceiptDecision::Accept,
        reason: String::new(),
        backup_location: "样品库A区3架2层".into(),
        photos: vec![ReceiptPhotoInput {
            file_name: "seals.png".into(),
            content_type: "image/png".into(),
            data_base64: PNG.into(),
        }],
    }
}

/// Accept the world's sample; its blind code.
pub async fn accepted(w: &World) -> String {
    accepted_task(w, w.task, accept()).await
}

/// Dispatch a signed task's sample and receive it as given; its blind code.
pub async fn accepted_task(w: &World, task: i64, receipt: ReceiptInput) -> String {
    dispatch(s(w), task).await;
    lab::receive(s(w), &w.custodian, task, receipt).await.unwrap().blind_code.unwrap()
}

pub fn number(item: i32, v: f64) -> ResultInput {
    ResultInput { item_index: Some(item), value: Some(v), instrument: "XRF-01".into(), ..Default::default() }
}

pub async fn enter_all(w: &World, code: &str, sulfur: f64) {
    lab::enter_result(s(w), &w.t1, code, number(0, sulfur)).await.unwrap();
    lab::enter_result(s(w), &w.t1, code, number(1, 65.0)).await.unwrap();
    let text = ResultInput { item_index: Some(2), text: Some("清澈透明".into()), ..Default::default() };
    lab::enter_result(s(w), &w.t1, code, text).await.unwrap();
}

/// The world's sample accepted, tested (sulfur as given; above 10 fails) and its report issued by
/// t1 (prepare), a1 (review) and a2 (approve).
pub async fn issued(w: &World, sulfur: f64) -> ReportView {
    issued_task(w, w.task, accept(), sulfur).await
}

/// As `issued`, for a signed task whose sample is received as given.
pub async fn issued_task(w: &World, task: i64, receipt: ReceiptInput, sulfur: f64) -> ReportView {
    let bc = accepted_task(w, task, receipt).await;
    enter_all(w, &bc, sulfur).await;
    lab::complete_results(s(w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(w), &w.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(w), &w.a1, r.id, sig()).await.unwrap();
    lab::approve_report(s(w), &w.a2, r.id, sig()).await.unwrap()
}

/// A second testing institution (`lab2`, for re-tests) with a custodian, a tester and two approvers.
pub struct SecondLab {
    pub org_id: i64,
    pub custodian: Actor,
    pub tester: Actor,
    pub a1: Actor,
    pub a2: Actor,
}

pub async fn second_lab(w: &World) -> SecondLab {
    let o = OrgInput {
        code: "lab2".into(),
        name: "山西省产品质量监督检验研究院".into(),
        kind: "institution".into(),
        active: true,
        cap_testing: true,
        qualification_no: Some("CMA 200000000002".into()),
        ..Default::default()
    };
    let org = organisations::create_as_system(s(w), "test", o).await.unwrap();
    SecondLab {
        org_id: org.id,
        custodian: w.fx.user("lab2_keeper", &["sample_custodian"], Some("lab2")).await,
        tester: w.fx.user("lab2_t", &["tester"], Some("lab2")).await,
        a1: w.fx.user("lab2_a1", &["report_approver"], Some("lab2")).await,
        a2: w.fx.user("lab2_a2", &["report_approver"], Some("lab2")).await,
    }
}

/// A photo of a seal, as a page or API client sends it.
pub fn photo() -> ReceiptPhotoInput {
    ReceiptPhotoInput { file_name: "seal.png".into(), content_type: "image/png".into(), data_base64: PNG.into() }
}

/// The text of a PDF (whitespace removed), or None without pdftotext outside CI.
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    pdftotext(bytes, &[])
}

/// As `pdf_text`, with pdftotext's `-layout`: table rows kept together in reading order.
pub fn pdf_layout_text(bytes: &[u8]) -> Option<String> {
    pdftotext(bytes, &["-layout"])
}

fn pdftotext(bytes: &[u8], args: &[&str]) -> Option<String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    assert!(bytes.starts_with(b"%PDF"));
    let dir =
        std::env::temp_dir().join(format!("choucha-pdf-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("f.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext").args(args).arg(&file).arg("-").output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(o) => Some(String::from_utf8_lossy(&o.stdout).split_whitespace().collect()),
        Err(_) => {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "pdftotext is required under CI");
            None
        }
    }
}

/// The lab sample a report is about.
pub async fn sample_of_report(w: &World, report_id: i64) -> choucha_store::lab::SampleRow {
    let db = s(w).store.reader();
    let r = choucha_store::lab::get_report(db, report_id).await.unwrap();
    choucha_store::lab::get_sample(db, r.sample_id).await.unwrap()
}

/// The blind code of the sample a report is about.
pub async fn blind_code_of_report(w: &World, report_id: i64) -> String {
    sample_of_report(w, report_id).await.blind_code.unwrap()
}

/// The world's plan.
pub async fn plan_of(w: &World) -> i64 {
    w.plan
}

/// The world's enterprise user (`ent_user`, bound to the world's sampled enterprise).
pub async fn enterprise_user(w: &World) -> Actor {
    Fixture::make_user(s(w), "ent_user", "王站长", &["enterprise"], None, Some(&w.uscc)).await
}

/// An issued report taken through rule 18 to its end: the enterprise's receipt of the result
/// recorded today, a re-test request on 硫含量 by `owner` (the sampled enterprise's user), accepted
/// and arranged at `lab2`, the backup portion received with its seal checked and photographed, the
/// objected item re-tested (sulfur as given) and the re-test report prepared, reviewed and approved.
/// The re-test's id.
pub async fn retested(w: &World, lab2: &SecondLab, owner: &Actor, report_id: i64, sulfur: f64) -> i64 {
    use crate::objections::{self, DecisionInput, ObjectionInput};
    use crate::results::{self, DeliveryInput};
    use crate::retests::{self, AssignRetestInput, RetestReceiptInput, RetestResultsInput, SignStep};
    let svc = s(w);
    let today = svc.today();
    for d in results::of_report(svc, &w.custodian, report_id).await.unwrap() {
        if d.recipient != "enterprise" {
            continue;
        }
        let input = DeliveryInput {
            method: "ems".into(),
            tracking_no: "1190012345678".into(),
            sent_on: Some(today),
            received_on: Some(today),
            ..Default::default()
        };
        results::record_delivery(svc, &w.custodian, d.id, input).await.unwrap();
    }
    let o = objections::file(
        svc,
        owner,
        report_id,
        ObjectionInput {
            kind: "retest".into(), items: vec!["硫含量".into()], reason: "对硫含量结果有异议".into()
        },
    )
    .await
    .unwrap();
    objections::decide(svc, &w.regulator, o.id, DecisionInput { accept: true, reason: "受理".into() }).await.unwrap();
    let input = AssignRetestInput { institution_id: lab2.org_id, fee_advance: "1200".into(), ..Default::default() };
    let r = retests::assign(svc, &w.regulator, o.id, input).await.unwrap();
    let receipt =
        RetestReceiptInput { seal_intact: true, seal_note: "封条SXGH-000124完好".into(), photos: vec![photo()] };
    retests::receive(svc, &lab2.custodian, r.id, receipt).await.unwrap();
    let line = ResultInput { item_name: Some("硫含量".into()), value: Some(sulfur), ..Default::default() };
    retests::enter_results(svc, &lab2.tester, r.id, RetestResultsInput { results: vec![line] }).await.unwrap();
    retests::sign(svc, &lab2.tester, r.id, SignStep::Prepare, sig()).await.unwrap();
    retests::sign(svc, &lab2.a1, r.id, SignStep::Review, sig()).await.unwrap();
    retests::sign(svc, &lab2.a2, r.id, SignStep::Approve, sig()).await.unwrap();
    r.id
}
