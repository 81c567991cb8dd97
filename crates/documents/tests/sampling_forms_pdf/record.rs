//! The sampling record (抽样单): every field and label, a refusal to sign, signature images.

use super::*;

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
