//! Renders the forms of on-site sampling with the machine's fonts and reads the PDFs back with
//! `pdftotext` (poppler-utils). Without pdftotext the text checks are skipped, except under
//! `CI=true`, where they fail. The forms' data and the checks are here, the sampling record's tests in
//! `record`, the other forms' in `notices`.

#![allow(clippy::expect_used, clippy::panic)] // a failing test should panic

use choucha_documents::{
    Amount, BackupSealingNotice, ConductAnswers, ConductFeedbackForm, Correction, Enterprise, EnterpriseSignature,
    NominalProducer, PriceBasis, ProblemReport, RefusalDetermination, SamplePaymentForm, Sampler, SamplingDomain,
    SamplingKind, SamplingRecord, Satisfaction, Signature, SpotCheckNotice, backup_sealing_notice_pdf,
    conduct_feedback_form_pdf, problem_report_pdf, refusal_determination_pdf, sample_payment_form_pdf,
    sampling_record_pdf, spot_check_notice_pdf,
};
use chrono::{NaiveDate, NaiveDateTime};

#[path = "../common/mod.rs"]
mod common;
mod notices;
mod record;

use common::{RENDERER, keep, pdf_text, poppler, squeeze};

/// A 1×1 black RGB PNG.
const BLACK_PNG: [u8; 69] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0xf6, 0x17, 0x38, 0x55,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A 1×1 dark red RGB PNG (a different image, so the PDF cannot share one object for both).
const RED_PNG: [u8; 69] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0xc1, 0xc0, 0x00, 0x00, 0x02, 0x5c, 0x00, 0xc9, 0x43, 0xc8, 0x12, 0x46,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
}

fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    date(2025, 9, day).and_hms_opt(hour, minute, 0).expect("valid time")
}

fn samplers() -> Vec<Sampler> {
    vec![
        Sampler { name: "郭海峰".to_owned(), id_number: "SXGH-CY-0217".to_owned() },
        Sampler { name: "韩晓燕".to_owned(), id_number: "SXGH-CY-0305".to_owned() },
    ]
}

fn signature(signer: &str, image: Option<&[u8]>, signed_at: Option<NaiveDateTime>) -> Signature {
    Signature { signer: signer.to_owned(), image: image.map(<[u8]>::to_vec), signed_at }
}

fn sampler_signatures() -> Vec<Signature> {
    vec![signature("郭海峰", None, Some(at(3, 10, 45))), signature("韩晓燕", None, Some(at(3, 10, 46)))]
}

fn station() -> Enterprise {
    Enterprise {
        name: "大同市平城区某某加油站".to_owned(),
        uscc: "91140200MA0K1234X5".to_owned(),
        address: "山西省大同市平城区御河西路188号".to_owned(),
        licence_no: "晋成品油零售证书第1402002号".to_owned(),
        contact: "王建国".to_owned(),
        phone: "0352-5123456".to_owned(),
    }
}

const PLAN: &str = "大同市市场监督管理局2025年产品质量监督抽查计划（第四批）";
const INSTITUTION: &str = "山西国海质检技术服务有限公司";
const BUREAU: &str = "大同市市场监督管理局";
const LOCAL_BUREAU: &str = "大同市平城区市场监督管理局";

fn sampling_record() -> SamplingRecord {
    SamplingRecord {
        record_no: "SXGH-CY-2025-0415".to_owned(),
        kind: SamplingKind::SpotCheck,
        organising_bureau: BUREAU.to_owned(),
        plan: PLAN.to_owned(),
        enterprise: station(),
        producer: NominalProducer {
            name: "某某石油化工有限公司".to_owned(),
            address: "山西省太原市小店区龙城大街99号".to_owned(),
            uscc: "91140100MA0H5678Y2".to_owned(),
        },
        product_name: "车用柴油".to_owned(),
        brand: "某某石化".to_owned(),
        model: "0号 车用柴油(Ⅵ)".to_owned(),
        batch: "2025-08-28 进油批号 YJ250828-03".to_owned(),
        standard: "GB 19147-2016".to_owned(),
        grade: "合格品".to_owned(),
        sampling_base: "12000 L".to_owned(),
        test_portion_qty: "4 L".to_owned(),
        backup_portion_qty: "4 L".to_owned(),
        unit_price: Amount::from_fen(752),
        total_paid: Amount::from_fen(3_008),
        place: "加油站3号加油机（油罐2号）".to_owned(),
        domain: SamplingDomain::Circulation,
        sampled_at: at(3, 10, 30),
        test_seal_numbers: vec!["SXGH-2025-000123".to_owned(), "SXGH-2025-000124".to_owned()],
        backup_seal_numbers: vec!["SXGH-2025-000125".to_owned(), "SXGH-2025-000126".to_owned()],
        backup_kept_at: "山西国海质检技术服务有限公司样品室".to_owned(),
        sampling_institution: INSTITUTION.to_owned(),
        samplers: samplers(),
        remarks: "样品以4个1升铝制油样瓶分装，检验样品与备用样品分别封样。".to_owned(),
        sampler_signatures: sampler_signatures(),
        enterprise_signature: EnterpriseSignature::Signed(signature("王建国", None, Some(at(3, 10, 50)))),
        corrections: vec![Correction {
            field: "生产日期/批号".to_owned(),
            old_value: "2025-08-25".to_owned(),
            new_value: "2025-08-28".to_owned(),
        }],
        correction_confirmation: Some(signature("王建国", None, Some(at(3, 10, 52)))),
    }
}

fn spot_check_notice() -> SpotCheckNotice {
    SpotCheckNotice {
        notice_no: "同市监抽〔2025〕第0415号".to_owned(),
        organising_bureau: BUREAU.to_owned(),
        enterprise_name: station().name,
        enterprise_address: station().address,
        plan_title: PLAN.to_owned(),
        product_name: "车用柴油".to_owned(),
        sampling_institution: INSTITUTION.to_owned(),
        samplers: samplers(),
        contact: "李明".to_owned(),
        phone: "0352-2045678".to_owned(),
        date: date(2025, 9, 1),
    }
}

fn payment_form() -> SamplePaymentForm {
    SamplePaymentForm {
        record_no: "SXGH-CY-2025-0415".to_owned(),
        enterprise_name: station().name,
        product_name: "车用柴油".to_owned(),
        model: "0号 车用柴油(Ⅵ)".to_owned(),
        quantity: "4".to_owned(),
        unit: "升".to_owned(),
        unit_price: Amount::from_fen(752),
        price_basis: PriceBasis::MarkedPrice,
        total: Amount::from_fen(123_450),
        payer_institution: INSTITUTION.to_owned(),
        date: date(2025, 9, 3),
        payer_signatures: sampler_signatures(),
        payee_signature: Some(signature("王建国", None, None)),
    }
}

fn sealing_notice() -> BackupSealingNotice {
    BackupSealingNotice {
        notice_no: "SXGH-FC-2025-0031".to_owned(),
        record_no: "SXGH-CY-2025-0415".to_owned(),
        enterprise_name: station().name,
        enterprise_address: station().address,
        product_name: "车用柴油".to_owned(),
        model: "0号 车用柴油(Ⅵ)".to_owned(),
        batch: "YJ250828-03".to_owned(),
        backup_portion_qty: "20 L（1桶）".to_owned(),
        reason: "属易燃危险化学品，不宜长途运输".to_owned(),
        approving_bureau: BUREAU.to_owned(),
        approval_ref: "同市监质函〔2025〕87号".to_owned(),
        seal_numbers: vec!["SXGH-2025-000123".to_owned(), "SXGH-2025-000127".to_owned()],
        storage_place: "站内油品库房东侧（监控摄像头覆盖区域）".to_owned(),
        sealed_at: at(3, 11, 5),
        sampling_institution: INSTITUTION.to_owned(),
        phone: "0351-7654321".to_owned(),
        date: date(2025, 9, 3),
        sampler_signatures: sampler_signatures(),
        enterprise_signature: EnterpriseSignature::Refused {
            reason: "站长称需请示总公司，拒绝在告知单上签字".to_owned(),
            witness: Some(signature("赵立新", None, Some(at(3, 11, 20)))),
        },
    }
}

fn refusal() -> RefusalDetermination {
    RefusalDetermination {
        plan: PLAN.to_owned(),
        enterprise: station(),
        product_name: "车用柴油".to_owned(),
        sampling_institution: INSTITUTION.to_owned(),
        samplers: samplers(),
        occurred_at: at(4, 9, 15),
        place: "加油站营业室".to_owned(),
        circumstances: "抽样人员出示监督抽查通知书、身份证明和授权委托书后，站长以油价上涨为由，\
            要求按每升50元收取样品费用。\n经抽样人员说明付费规定后，仍拒绝提供样品。"
            .to_owned(),
        reasons: "明显不合理的样品价格（每升50元，标价7.52元）".to_owned(),
        witness: "李某（加油站员工）".to_owned(),
        evidence: vec![
            "抽样场所：加油站全景.jpg（2025-09-04 09:10）SHA-256 9f2c".to_owned() + &"0".repeat(60),
            "抽样过程：交涉经过.mp4（2025-09-04 09:20）SHA-256 41aa".to_owned() + &"1".repeat(60),
        ],
        sampler_signatures: sampler_signatures(),
        enterprise_signature: EnterpriseSignature::Refused {
            reason: "拒绝签字，未说明理由".to_owned(), witness: None
        },
        local_bureau: LOCAL_BUREAU.to_owned(),
        local_bureau_opinion: "经现场核实，该单位以明显不合理的样品价格阻碍抽样，认定为拒绝监督抽查。".to_owned(),
        local_bureau_signatures: vec![signature("刘振宇", None, None), signature("陈静", None, None)],
        date: date(2025, 9, 4),
    }
}

fn problem_report() -> ProblemReport {
    ProblemReport {
        report_no: "SXGH-WT-2025-0007".to_owned(),
        plan: PLAN.to_owned(),
        enterprise: Enterprise { licence_no: String::new(), ..station() },
        product_name: "车用柴油".to_owned(),
        suspected_violations: vec!["无营业执照".to_owned(), "未取得成品油零售经营批准证书".to_owned()],
        facts: "现场未能出示营业执照和成品油零售经营批准证书，\n经查询国家企业信用信息公示系统无登记信息。".to_owned(),
        evidence: "现场照片12张、执法记录仪录像1段".to_owned(),
        sampling_stopped: true,
        found_at: at(5, 14, 20),
        organising_bureau: BUREAU.to_owned(),
        local_bureau: LOCAL_BUREAU.to_owned(),
        sampling_institution: INSTITUTION.to_owned(),
        samplers: samplers(),
        sampler_signatures: sampler_signatures(),
        date: date(2025, 9, 5),
    }
}

fn feedback_form() -> ConductFeedbackForm {
    ConductFeedbackForm {
        record_no: "SXGH-CY-2025-0415".to_owned(),
        enterprise_name: station().name,
        product_name: "车用柴油".to_owned(),
        sampling_institution: INSTITUTION.to_owned(),
        sampler_names: vec!["郭海峰".to_owned(), "韩晓燕".to_owned()],
        sampled_on: date(2025, 9, 3),
        answers: ConductAnswers {
            showed_documents: Some(true),
            followed_procedure: Some(true),
            paid_for_samples: Some(true),
            charged_fees: Some(false),
            accepted_benefits: Some(false),
            courteous: Some(true),
        },
        satisfaction: Some(Satisfaction::Satisfied),
        comments: "抽样人员工作规范，无意见。".to_owned(),
        feedback_to: BUREAU.to_owned(),
        complaint_phone: "12315".to_owned(),
        enterprise_signature: Some(signature("王建国", None, None)),
        date: Some(date(2025, 9, 3)),
    }
}

/// Checks that the PDF starts like one and that its text contains every label and value.
fn assert_shows(name: &str, pdf: &[u8], expected: &[&str]) {
    assert!(pdf.starts_with(b"%PDF-"));
    keep(name, pdf);
    let Some(text) = pdf_text(pdf) else { return };
    let missing: Vec<String> =
        expected.iter().map(|needle| squeeze(needle)).filter(|needle| !text.contains(needle)).collect();
    assert!(missing.is_empty(), "{name}: PDF text lacks {missing:?}; text was:\n{text}");
}

fn enterprise_fields(enterprise: &Enterprise) -> Vec<String> {
    vec![
        enterprise.name.clone(),
        enterprise.uscc.clone(),
        enterprise.address.clone(),
        enterprise.licence_no.clone(),
        enterprise.contact.clone(),
        enterprise.phone.clone(),
    ]
}

fn sampler_fields() -> Vec<String> {
    samplers().into_iter().flat_map(|sampler| [sampler.name, sampler.id_number]).collect()
}

fn strs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}
