//! The other forms of on-site sampling: the spot-check notice, the payment form, the backup sealing
//! notice, the refusal determination, the problem report and the conduct feedback form.

use super::*;

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
        "见证人",
        "现场证据",
        "加油站全景.jpg",
        "交涉经过.mp4",
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
        determination.witness.clone(),
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
