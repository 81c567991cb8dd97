//! Renders the forms of on-site sampling with the machine's fonts and reads the PDFs back with
//! `pdftotext` (poppler-utils). Without pdftotext the text checks are skipped, except under
//! `CI=true`, where they fail.

#![allow(clippy::expect_used, clippy::panic)] // a failing test should panic

use std::process::Command;
use std::sync::LazyLock;

use choucha_documents::{
    Amount, BackupSealingNotice, ConductAnswers, ConductFeedbackForm, Correction, Enterprise, EnterpriseSignature,
    NominalProducer, PriceBasis, ProblemReport, RefusalDetermination, Renderer, SamplePaymentForm, Sampler,
    SamplingDomain, SamplingKind, SamplingRecord, Satisfaction, Signature, SpotCheckNotice, backup_sealing_notice_pdf,
    conduct_feedback_form_pdf, problem_report_pdf, refusal_determination_pdf, sample_payment_form_pdf,
    sampling_record_pdf, spot_check_notice_pdf,
};
use chrono::{NaiveDate, NaiveDateTime};

static RENDERER: LazyLock<Renderer> = LazyLock::new(|| match Renderer::load(&[]) {
    Ok(renderer) => renderer,
    Err(err) => panic!("{err}"),
});

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

/// Keeps the PDF for a look when `CHOUCHA_PDF_OUT` names a folder.
fn keep(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("CHOUCHA_PDF_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(name), pdf).expect("write PDF for inspection");
    }
}

/// Runs a poppler tool on the PDF; `None` when the tool is missing outside CI.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> Option<String> {
    let path = std::env::temp_dir().join(format!(
        "choucha-sampling-{}-{:?}.pdf",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, pdf).expect("write temporary PDF");
    let output =
        Command::new(tool).args(args).arg(&path).args(if tool == "pdftotext" { &["-"][..] } else { &[] }).output();
    let _ = std::fs::remove_file(&path);
    match output {
        Ok(output) => {
            assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
            Some(String::from_utf8(output.stdout).expect("poppler writes UTF-8"))
        }
        Err(err) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{tool} (poppler-utils) is required under CI: {err}")
        }
        Err(err) => {
            eprintln!("SKIPPED: {tool} (poppler-utils) not found ({err}); install it to check PDFs");
            None
        }
    }
}

/// The PDF's text with all whitespace removed (pdftotext splits CJK runs with spaces and lines).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    poppler("pdftotext", &["-raw", "-enc", "UTF-8"], pdf).map(|text| squeeze(&text))
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
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

#[test]
fn spot_check_notice_shows_every_field_and_label() {
    let notice = spot_check_notice();
    let pdf = spot_check_notice_pdf(&RENDERER, &notice).expect("render");
    let mut expected = vec![
        "产品质量监督抽查通知书",
        "编号",
        "《中华人民共和国产品质量法》《产品质量监督抽查管理暂行办法》",
        "配合抽查",
        "不得拒绝",
        "抽样、检验不收取任何费用",
        "抽样人员",
        "证件号码",
        "抽样机构",
        "联系人",
        "联系电话",
        "被抽样单位签收",
        "2025年9月1日",
    ];
    let fields = [
        notice.notice_no.clone(),
        notice.organising_bureau.clone(),
        notice.enterprise_name.clone(),
        notice.enterprise_address.clone(),
        notice.plan_title.clone(),
        notice.product_name.clone(),
        notice.sampling_institution.clone(),
        notice.contact.clone(),
        notice.phone.clone(),
    ];
    expected.extend(strs(&fields));
    let samplers = sampler_fields();
    expected.extend(strs(&samplers));
    assert_shows("spot_check_notice.pdf", &pdf, &expected);
}

#[test]
fn sampling_record_shows_every_field_and_label() {
    let record = sampling_record();
    let pdf = sampling_record_pdf(&RENDERER, &record).expect("render");
    let mut expected = vec![
        "产品质量监督抽查/复查抽样单",
        "监督抽查",
        "复查",
        "抽样单编号",
        "任务来源",
        "抽查计划",
        "被抽样单位",
        "单位名称",
        "统一社会信用代码",
        "许可证编号",
        "单位地址",
        "联系人",
        "联系电话",
        "标称生产者",
        "产品名称",
        "商标/品牌",
        "规格型号",
        "生产日期/批号",
        "执行标准",
        "质量等级",
        "抽样基数",
        "单价（元）",
        "7.52",
        "检验样品数量",
        "备用样品数量",
        "检验样品封条编号",
        "备用样品封条编号",
        "备用样品存放地点",
        "样品费用合计（元）",
        "30.08（叁拾元零捌分）",
        "抽样地点",
        "抽样领域",
        "生产",
        "流通",
        "电商",
        "抽样时间",
        "2025年9月3日10时30分",
        "抽样机构",
        "抽样人员",
        "备注",
        "更正",
        "更正项目",
        "原内容",
        "更正为",
        "以上更正经被抽样单位确认",
        "抽样人员签字",
        "被抽样单位签字",
        "2025年9月3日10时45分",
        "2025年9月3日10时52分",
    ];
    let mut fields = vec![
        record.record_no.clone(),
        record.organising_bureau.clone(),
        record.plan.clone(),
        record.producer.name.clone(),
        record.producer.address.clone(),
        record.producer.uscc.clone(),
        record.product_name.clone(),
        record.brand.clone(),
        record.model.clone(),
        record.batch.clone(),
        record.standard.clone(),
        record.grade.clone(),
        record.sampling_base.clone(),
        record.test_portion_qty.clone(),
        record.backup_portion_qty.clone(),
        record.place.clone(),
        record.backup_kept_at.clone(),
        record.sampling_institution.clone(),
        record.remarks.clone(),
    ];
    fields.extend(enterprise_fields(&record.enterprise));
    fields.extend(record.test_seal_numbers.iter().cloned());
    fields.extend(record.backup_seal_numbers.iter().cloned());
    fields.extend(sampler_fields());
    for correction in &record.corrections {
        fields.extend([correction.field.clone(), correction.old_value.clone(), correction.new_value.clone()]);
    }
    expected.extend(strs(&fields));
    assert_shows("sampling_record.pdf", &pdf, &expected);
}

#[test]
fn sampling_record_shows_a_refusal_to_sign_with_its_witness() {
    let mut record = sampling_record();
    record.kind = SamplingKind::FollowUp;
    record.domain = SamplingDomain::ECommerce;
    record.corrections.clear();
    record.correction_confirmation = None;
    record.enterprise_signature = EnterpriseSignature::Refused {
        reason: "负责人以不了解抽查程序为由拒绝签字".to_owned(),
        witness: Some(signature("平城区新建南路街道 赵立新", None, Some(at(3, 11, 0)))),
    };
    let pdf = sampling_record_pdf(&RENDERER, &record).expect("render");
    assert_shows(
        "sampling_record_refused.pdf",
        &pdf,
        &[
            "拒绝签字",
            "负责人以不了解抽查程序为由拒绝签字",
            "见证人",
            "平城区新建南路街道 赵立新",
            "2025年9月3日11时00分",
        ],
    );
    if let Some(text) = pdf_text(&pdf) {
        assert!(!text.contains("更正项目"), "no correction lines without corrections");
    }
}

#[test]
fn sampling_record_embeds_signature_images() {
    let mut record = sampling_record();
    record.sampler_signatures[0].image = Some(BLACK_PNG.to_vec());
    record.enterprise_signature = EnterpriseSignature::Signed(signature("王建国", Some(&RED_PNG), Some(at(3, 10, 50))));
    let pdf = sampling_record_pdf(&RENDERER, &record).expect("render");
    keep("sampling_record_signed.pdf", &pdf);
    let raw = String::from_utf8_lossy(&pdf);
    let images = raw.matches("/Subtype /Image").count() + raw.matches("/Subtype/Image").count();
    assert!(images >= 2, "expected two image XObjects, found {images}");
    if let Some(list) = poppler("pdfimages", &["-list"], &pdf) {
        // Two header lines, then one line per image.
        let rows = list.lines().skip(2).filter(|line| !line.trim().is_empty()).count();
        assert!(rows >= 2, "pdfimages lists {rows} images:\n{list}");
    }
    // Both signers are still named under their images.
    assert_shows("sampling_record_signed.pdf", &pdf, &["郭海峰", "王建国", "2025年9月3日10时50分"]);
}

#[test]
fn sampling_record_rejects_a_broken_signature_image() {
    let mut record = sampling_record();
    record.sampler_signatures[1].image = Some(b"not a png".to_vec());
    assert!(sampling_record_pdf(&RENDERER, &record).is_err());
}

#[test]
fn sampling_record_rejects_more_images_than_slots() {
    let mut record = sampling_record();
    record.sampler_signatures = (0..17).map(|n| signature(&format!("抽样人员{n}"), Some(&BLACK_PNG), None)).collect();
    let err = sampling_record_pdf(&RENDERER, &record).expect_err("too many images");
    assert!(err.to_string().contains("图片过多"), "{err}");
}

#[test]
fn payment_form_shows_every_field_and_label() {
    let form = payment_form();
    let pdf = sample_payment_form_pdf(&RENDERER, &form).expect("render");
    let mut expected = vec![
        "产品质量监督抽查样品付费单",
        "抽样单编号",
        "被抽样单位",
        "产品名称",
        "规格型号",
        "数量",
        "单价（元）",
        "7.52",
        "价格依据",
        "标价",
        "同类产品市场价格（无标价）",
        "金额合计（小写）",
        "¥1234.50元",
        "金额合计（大写）",
        "人民币壹仟贰佰叁拾肆元伍角整",
        "付款单位",
        "付款日期",
        "2025年9月3日",
        "经手人（抽样人员）签字",
        "收款人签字",
        "郭海峰",
        "韩晓燕",
        "王建国",
    ];
    let fields = [
        form.record_no.clone(),
        form.enterprise_name.clone(),
        form.product_name.clone(),
        form.model.clone(),
        format!("{}{}", form.quantity, form.unit),
        form.payer_institution.clone(),
    ];
    expected.extend(strs(&fields));
    assert_shows("sample_payment_form.pdf", &pdf, &expected);
}

#[test]
fn backup_sealing_notice_shows_every_field_and_label() {
    let notice = sealing_notice();
    let pdf = backup_sealing_notice_pdf(&RENDERER, &notice).expect("render");
    let mut expected = vec![
        "产品质量监督抽查样品封存和处置告知单",
        "编号",
        "被抽样单位",
        "单位地址",
        "抽样单编号",
        "产品名称",
        "规格型号",
        "生产日期/批号",
        "备用样品数量",
        "封存时间",
        "2025年9月3日11时05分",
        "封存原因",
        "批准部门",
        "批准文号",
        "封条编号",
        "存放地点",
        "告知事项",
        "不得擅自启封、转移、销毁",
        "检验结果异议期满后",
        "抽样人员签字",
        "被抽样单位签收",
        "拒绝签字",
        "见证人",
        "告知日期",
        "2025年9月3日",
        "联系电话",
    ];
    let mut fields = vec![
        notice.notice_no.clone(),
        notice.record_no.clone(),
        notice.enterprise_name.clone(),
        notice.enterprise_address.clone(),
        notice.product_name.clone(),
        notice.model.clone(),
        notice.batch.clone(),
        notice.backup_portion_qty.clone(),
        notice.reason.clone(),
        notice.approving_bureau.clone(),
        notice.approval_ref.clone(),
        notice.storage_place.clone(),
        notice.sampling_institution.clone(),
        notice.phone.clone(),
        "站长称需请示总公司，拒绝在告知单上签字".to_owned(),
        "赵立新".to_owned(),
        "郭海峰".to_owned(),
        "韩晓燕".to_owned(),
    ];
    fields.extend(notice.seal_numbers.iter().cloned());
    expected.extend(strs(&fields));
    assert_shows("backup_sealing_notice.pdf", &pdf, &expected);
}

#[test]
fn refusal_determination_shows_every_field_and_label() {
    let determination = refusal();
    let pdf = refusal_determination_pdf(&RENDERER, &determination).expect("render");
    let mut expected = vec![
        "产品质量监督抽查拒检认定表",
        "抽查计划",
        "被抽样单位",
        "统一社会信用代码",
        "许可证编号",
        "单位地址",
        "联系人",
        "联系电话",
        "抽查产品",
        "抽样机构",
        "抽样人员",
        "发生时间",
        "2025年9月4日9时15分",
        "发生地点",
        "拒检经过",
        "拒检理由",
        "抽样人员签字",
        "被抽样单位签字",
        "拒绝签字",
        "县级市场监管部门意见",
        "经办人签字",
        "（公章）",
        "2025年9月4日",
    ];
    let mut fields = vec![
        determination.plan.clone(),
        determination.product_name.clone(),
        determination.sampling_institution.clone(),
        determination.place.clone(),
        determination.reasons.clone(),
        determination.local_bureau.clone(),
        determination.local_bureau_opinion.clone(),
        "拒绝签字，未说明理由".to_owned(),
        "刘振宇".to_owned(),
        "陈静".to_owned(),
    ];
    fields.extend(determination.circumstances.lines().map(str::to_owned));
    fields.extend(enterprise_fields(&determination.enterprise));
    fields.extend(sampler_fields());
    expected.extend(strs(&fields));
    assert_shows("refusal_determination.pdf", &pdf, &expected);
}

#[test]
fn problem_report_shows_every_field_and_label() {
    let report = problem_report();
    let pdf = problem_report_pdf(&RENDERER, &report).expect("render");
    let mut expected = vec![
        "产品质量监督抽查样品问题报送单",
        "编号",
        "报送至",
        "同时报送",
        "抽查计划",
        "被抽样单位",
        "统一社会信用代码",
        "许可证编号",
        "单位地址",
        "抽查产品",
        "发现时间",
        "2025年9月5日14时20分",
        "涉嫌违法情形",
        "发现的事实",
        "证据材料",
        "处置情况",
        "已终止抽样",
        "抽样机构",
        "抽样人员",
        "抽样人员签字",
        "报送日期",
        "2025年9月5日",
    ];
    let mut fields = vec![
        report.report_no.clone(),
        report.plan.clone(),
        report.product_name.clone(),
        report.evidence.clone(),
        report.organising_bureau.clone(),
        report.local_bureau.clone(),
        report.sampling_institution.clone(),
    ];
    fields.extend(report.suspected_violations.iter().cloned());
    fields.extend(report.facts.lines().map(str::to_owned));
    fields.extend(enterprise_fields(&report.enterprise));
    fields.extend(sampler_fields());
    expected.extend(strs(&fields));
    assert_shows("problem_report.pdf", &pdf, &expected);
}

#[test]
fn conduct_feedback_form_shows_every_field_and_label() {
    let form = feedback_form();
    let pdf = conduct_feedback_form_pdf(&RENDERER, &form).expect("render");
    let mut expected = vec![
        "产品质量监督抽查工作质量及工作纪律反馈单",
        "抽样单编号",
        "被抽样单位",
        "抽查产品",
        "抽样日期",
        "抽样机构",
        "抽样人员",
        "郭海峰、韩晓燕",
        "反馈事项",
        "出示监督抽查通知书、身份证明和授权委托书",
        "是否收取检验费或其他任何费用",
        "是否有吃拿卡要、接受宴请或礼品礼金等不廉洁行为",
        "是否文明礼貌、规范执法",
        "总体评价",
        "满意",
        "基本满意",
        "不满意",
        "意见和建议",
        "被抽样单位负责人签字",
        "填写日期",
        "2025年9月3日",
        "监督电话",
        "不收取任何费用",
        "√",
    ];
    let fields = [
        form.record_no.clone(),
        form.enterprise_name.clone(),
        form.product_name.clone(),
        form.sampling_institution.clone(),
        form.comments.clone(),
        form.feedback_to.clone(),
        form.complaint_phone.clone(),
        "王建国".to_owned(),
    ];
    expected.extend(strs(&fields));
    assert_shows("conduct_feedback_form.pdf", &pdf, &expected);
}

#[test]
fn blank_conduct_feedback_form_renders() {
    let form = ConductFeedbackForm {
        answers: ConductAnswers::default(),
        satisfaction: None,
        comments: String::new(),
        enterprise_signature: None,
        date: None,
        ..feedback_form()
    };
    let pdf = conduct_feedback_form_pdf(&RENDERER, &form).expect("render");
    assert_shows("conduct_feedback_form_blank.pdf", &pdf, &["反馈事项", "填写日期", "年月日"]);
    if let Some(text) = pdf_text(&pdf) {
        assert!(!text.contains('√'), "a blank form has no ticks");
    }
}

#[test]
fn forms_print_markup_characters_literally() {
    let mut record = sampling_record();
    record.enterprise.name = r#"#set page(width: 1cm) *粗体* $x^2$"#.to_owned();
    record.remarks = r#"#panic("注入") #import "/data.json" [链接] \ 反斜杠"#.to_owned();
    record.test_seal_numbers = vec!["#(1 + 1)".to_owned(), "_下划线_ `代码` @引用 <标签>".to_owned()];
    let pdf = sampling_record_pdf(&RENDERER, &record).expect("render");
    let expected: Vec<&str> = [&record.enterprise.name, &record.remarks]
        .into_iter()
        .chain(&record.test_seal_numbers)
        .map(String::as_str)
        .collect();
    assert_shows("sampling_record_markup.pdf", &pdf, &expected);
}
