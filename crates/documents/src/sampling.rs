//! The official forms of on-site sampling (抽样文书): their data and their PDFs. Each form is a
//! typed struct, serialised to `/data.json` and laid out by `templates/<form>.typ`.
//!
//! Handwritten signatures are optional PNG images ([`Signature::image`]). They never enter the
//! JSON: each render hands them to the template as the fixed virtual files `/sig0.png`,
//! `/sig1.png`, … in the order they appear on the form, and the signature's JSON object gets an
//! `image` key naming its file. A form can carry at most 16 signature images.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::Value;

use crate::pdf::image_path;
use crate::{Amount, DocumentError, Renderer, Template};

/// 抽样人员: a sampler and the number of the identity document shown to the enterprise
/// (执法证/工作证/身份证号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sampler {
    /// 姓名.
    pub name: String,
    /// 证件号码.
    pub id_number: String,
}

/// One signature box: who signs, an optional handwritten signature and when it was signed.
/// Without an image the box is left blank above the printed name, to be signed on paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// The signer's name, printed under the signature.
    pub signer: String,
    /// The handwritten signature as PNG bytes (not serialised; passed to the template as a file).
    #[serde(skip)]
    pub image: Option<Vec<u8>>,
    /// 签字时间, shown as 2025年9月3日 10时30分.
    pub signed_at: Option<NaiveDateTime>,
}

/// The enterprise's signature on a sampling form, or its refusal to sign (抽样文书应当经被抽样
/// 生产者、销售者签字；拒绝签字的，抽样人员应当注明情况，必要时邀请见证人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EnterpriseSignature {
    /// The enterprise's representative signed.
    Signed(Signature),
    /// 拒绝签字: the sampler notes the reason; a witness may sign.
    Refused {
        /// What the representative said or did, as noted by the samplers.
        reason: String,
        /// 见证人, when one was invited.
        witness: Option<Signature>,
    },
}

/// 更正: a field of the form corrected after it was filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    /// The corrected field, e.g. 生产日期.
    pub field: String,
    /// 原内容.
    pub old_value: String,
    /// 更正为.
    pub new_value: String,
}

/// 被抽样单位: the producer or seller where the sample is taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enterprise {
    /// 单位名称.
    pub name: String,
    /// 统一社会信用代码.
    pub uscc: String,
    /// 单位地址.
    pub address: String,
    /// 生产许可证/经营许可证编号 (may be empty).
    pub licence_no: String,
    /// 联系人.
    pub contact: String,
    /// 联系电话.
    pub phone: String,
}

/// 标称生产者: the producer named on the product or its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NominalProducer {
    /// 名称.
    pub name: String,
    /// 地址.
    pub address: String,
    /// 统一社会信用代码 (may be empty when unknown).
    pub uscc: String,
}

/// 抽样领域.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplingDomain {
    /// 生产领域.
    Production,
    /// 流通领域.
    Circulation,
    /// 电子商务.
    ECommerce,
}

/// Whether a sampling is the spot check itself or a follow-up check (复查) after rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplingKind {
    /// 监督抽查.
    SpotCheck,
    /// 复查.
    FollowUp,
}

/// Where the price of a bought test portion comes from: the product's marked price, or the market
/// price of similar products when it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceBasis {
    /// 标价.
    MarkedPrice,
    /// 同类产品市场价格.
    MarketPrice,
}

/// 产品质量监督抽查通知书, shown to the enterprise before sampling and left with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpotCheckNotice {
    /// 通知书编号.
    pub notice_no: String,
    /// 组织监督抽查的部门 (issues the notice).
    pub organising_bureau: String,
    /// 被抽样单位名称.
    pub enterprise_name: String,
    /// 被抽样单位地址.
    pub enterprise_address: String,
    /// 抽查计划, e.g. 大同市市场监督管理局2025年产品质量监督抽查计划（第四批）.
    pub plan_title: String,
    /// 抽查产品.
    pub product_name: String,
    /// 抽样机构.
    pub sampling_institution: String,
    /// 抽样人员 (at least two).
    pub samplers: Vec<Sampler>,
    /// 组织部门联系人 (may be empty).
    pub contact: String,
    /// 组织部门联系电话/监督电话 (may be empty).
    pub phone: String,
    /// The notice's date; also the PDF's date.
    pub date: NaiveDate,
}

/// 产品质量监督抽查/复查抽样单.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamplingRecord {
    /// 抽样单编号.
    pub record_no: String,
    /// 监督抽查 or 复查.
    pub kind: SamplingKind,
    /// 任务来源: the organising bureau.
    pub organising_bureau: String,
    /// 抽查计划.
    pub plan: String,
    /// 被抽样单位.
    pub enterprise: Enterprise,
    /// 标称生产者.
    pub producer: NominalProducer,
    /// 产品名称.
    pub product_name: String,
    /// 商标/品牌.
    pub brand: String,
    /// 规格型号.
    pub model: String,
    /// 生产日期/批号.
    pub batch: String,
    /// 执行标准.
    pub standard: String,
    /// 质量等级.
    pub grade: String,
    /// 抽样基数 (stock at sampling, with unit).
    pub sampling_base: String,
    /// 检验样品数量 (with unit).
    pub test_portion_qty: String,
    /// 备用样品数量 (with unit).
    pub backup_portion_qty: String,
    /// 单价.
    pub unit_price: Amount,
    /// 样品费用合计 (paid for the test portion).
    pub total_paid: Amount,
    /// 抽样地点.
    pub place: String,
    /// 抽样领域.
    pub domain: SamplingDomain,
    /// 抽样时间.
    pub sampled_at: NaiveDateTime,
    /// 检验样品封条编号.
    pub test_seal_numbers: Vec<String>,
    /// 备用样品封条编号.
    pub backup_seal_numbers: Vec<String>,
    /// 备用样品存放地点 (e.g. 检验机构样品室, or the enterprise's warehouse when approved).
    pub backup_kept_at: String,
    /// 抽样机构.
    pub sampling_institution: String,
    /// 抽样人员.
    pub samplers: Vec<Sampler>,
    /// 备注 (may be empty).
    pub remarks: String,
    /// 抽样人员签字, one box per sampler.
    pub sampler_signatures: Vec<Signature>,
    /// 被抽样单位签字, or its refusal.
    pub enterprise_signature: EnterpriseSignature,
    /// 更正 lines (may be empty).
    pub corrections: Vec<Correction>,
    /// The enterprise's confirmation of the corrections (更正确认).
    pub correction_confirmation: Option<Signature>,
}

/// 产品质量监督抽查样品付费单: the samplers buy the test portion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamplePaymentForm {
    /// 抽样单编号.
    pub record_no: String,
    /// 被抽样单位 (payee).
    pub enterprise_name: String,
    /// 产品名称.
    pub product_name: String,
    /// 规格型号.
    pub model: String,
    /// 数量, e.g. 4.
    pub quantity: String,
    /// 计量单位, e.g. 升.
    pub unit: String,
    /// 单价.
    pub unit_price: Amount,
    /// Whether the unit price is the marked price or the market price.
    pub price_basis: PriceBasis,
    /// 金额合计.
    pub total: Amount,
    /// 付款单位 (the sampling institution).
    pub payer_institution: String,
    /// 付款日期; also the PDF's date.
    pub date: NaiveDate,
    /// 抽样人员（经手人）签字.
    pub payer_signatures: Vec<Signature>,
    /// 收款人 (the enterprise's representative), or none to sign on paper.
    pub payee_signature: Option<Signature>,
}

/// 产品质量监督抽查样品封存和处置告知单: the backup portion stays sealed at the enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupSealingNotice {
    /// 告知单编号.
    pub notice_no: String,
    /// 抽样单编号.
    pub record_no: String,
    /// 被抽样单位名称.
    pub enterprise_name: String,
    /// 被抽样单位地址.
    pub enterprise_address: String,
    /// 产品名称.
    pub product_name: String,
    /// 规格型号.
    pub model: String,
    /// 生产日期/批号.
    pub batch: String,
    /// 备用样品数量 (with unit).
    pub backup_portion_qty: String,
    /// Why the backup stays at the enterprise (不易运输、价值昂贵…).
    pub reason: String,
    /// The bureau that approved keeping it there.
    pub approving_bureau: String,
    /// 批准文号/审批编号.
    pub approval_ref: String,
    /// 封条编号.
    pub seal_numbers: Vec<String>,
    /// 存放地点.
    pub storage_place: String,
    /// 封存时间.
    pub sealed_at: NaiveDateTime,
    /// 抽样机构.
    pub sampling_institution: String,
    /// 抽样机构联系电话.
    pub phone: String,
    /// 告知日期; also the PDF's date.
    pub date: NaiveDate,
    /// 抽样人员签字.
    pub sampler_signatures: Vec<Signature>,
    /// 被抽样单位签收, or its refusal.
    pub enterprise_signature: EnterpriseSignature,
}

/// 产品质量监督抽查拒检认定表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusalDetermination {
    /// 抽查计划.
    pub plan: String,
    /// 被抽样单位.
    pub enterprise: Enterprise,
    /// 抽查产品.
    pub product_name: String,
    /// 抽样机构.
    pub sampling_institution: String,
    /// 抽样人员.
    pub samplers: Vec<Sampler>,
    /// 发生时间.
    pub occurred_at: NaiveDateTime,
    /// 发生地点.
    pub place: String,
    /// 拒检经过 (what happened). Line breaks start new paragraphs.
    pub circumstances: String,
    /// 拒检理由 (the enterprise's stated reasons). Line breaks start new paragraphs.
    pub reasons: String,
    /// 见证人 (name and capacity), empty when there was none.
    pub witness: String,
    /// 现场证据: one line per photo or video (category, file name, time, SHA-256).
    pub evidence: Vec<String>,
    /// 抽样人员签字.
    pub sampler_signatures: Vec<Signature>,
    /// 被抽样单位签字, or its refusal.
    pub enterprise_signature: EnterpriseSignature,
    /// The county (district) bureau that co-determines the refusal.
    pub local_bureau: String,
    /// 县级市场监管部门意见.
    pub local_bureau_opinion: String,
    /// 县级市场监管部门人员签字.
    pub local_bureau_signatures: Vec<Signature>,
    /// 认定日期; also the PDF's date.
    pub date: NaiveDate,
}

/// 产品质量监督抽查样品问题报送单: sampling stopped on a suspected violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemReport {
    /// 报送单编号.
    pub report_no: String,
    /// 抽查计划.
    pub plan: String,
    /// 被抽样单位.
    pub enterprise: Enterprise,
    /// 抽查产品.
    pub product_name: String,
    /// 涉嫌违法情形, e.g. 无营业执照, 未取得生产许可证.
    pub suspected_violations: Vec<String>,
    /// 发现的事实. Line breaks start new paragraphs.
    pub facts: String,
    /// 证据材料 (photos, video…; may be empty).
    pub evidence: String,
    /// 是否已终止抽样.
    pub sampling_stopped: bool,
    /// 发现时间.
    pub found_at: NaiveDateTime,
    /// 报送：组织监督抽查的部门.
    pub organising_bureau: String,
    /// 同时报送：被抽样单位所在地市场监管部门.
    pub local_bureau: String,
    /// 抽样机构.
    pub sampling_institution: String,
    /// 抽样人员.
    pub samplers: Vec<Sampler>,
    /// 抽样人员签字.
    pub sampler_signatures: Vec<Signature>,
    /// 报送日期; also the PDF's date.
    pub date: NaiveDate,
}

/// The answers of the conduct feedback form; `None` leaves both boxes empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConductAnswers {
    /// 是否出示监督抽查通知书、身份证明和授权委托书.
    pub showed_documents: Option<bool>,
    /// 是否按实施细则抽样、封样.
    pub followed_procedure: Option<bool>,
    /// 是否按规定支付检验样品费用.
    pub paid_for_samples: Option<bool>,
    /// 是否收取检验费或其他任何费用.
    pub charged_fees: Option<bool>,
    /// 是否有吃拿卡要、接受宴请或礼品礼金等不廉洁行为.
    pub accepted_benefits: Option<bool>,
    /// 是否文明礼貌、规范执法.
    pub courteous: Option<bool>,
}

/// 总体评价.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 满意.
    Satisfied,
    /// 基本满意.
    Fair,
    /// 不满意.
    Dissatisfied,
}

/// 产品质量监督抽查工作质量及工作纪律反馈单, left with the enterprise to fill in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConductFeedbackForm {
    /// 抽样单编号.
    pub record_no: String,
    /// 被抽样单位.
    pub enterprise_name: String,
    /// 抽查产品.
    pub product_name: String,
    /// 抽样机构.
    pub sampling_institution: String,
    /// 抽样人员姓名.
    pub sampler_names: Vec<String>,
    /// 抽样日期.
    pub sampled_on: NaiveDate,
    /// The ticked answers (all `None` for a blank form).
    pub answers: ConductAnswers,
    /// 总体评价 (none for a blank form).
    pub satisfaction: Option<Satisfaction>,
    /// 意见和建议 (may be empty).
    pub comments: String,
    /// 反馈至: the organising bureau.
    pub feedback_to: String,
    /// 监督电话.
    pub complaint_phone: String,
    /// 被抽样单位负责人签字, or none to sign on paper.
    pub enterprise_signature: Option<Signature>,
    /// 填写日期 (none for a blank form).
    pub date: Option<NaiveDate>,
}

/// Collects the signature images of one render and names their virtual files in the data.
pub(crate) struct Images<'a> {
    list: Vec<&'a [u8]>,
}

impl<'a> Images<'a> {
    pub(crate) fn new() -> Images<'a> {
        Images { list: Vec::new() }
    }

    /// Gives `signature`'s image (if any) the next slot and writes its path as `image` into the
    /// JSON object at `pointer`.
    pub(crate) fn attach(&mut self, data: &mut Value, pointer: &str, signature: Option<&'a Signature>) {
        let Some(image) = signature.and_then(|signature| signature.image.as_deref()) else { return };
        let path = image_path(self.list.len());
        self.list.push(image);
        if let Some(Value::Object(object)) = data.pointer_mut(pointer) {
            object.insert("image".to_owned(), path.map_or(Value::Null, |path| Value::String(path.to_owned())));
        }
    }

    fn attach_all(&mut self, data: &mut Value, field: &str, signatures: &'a [Signature]) {
        for (index, signature) in signatures.iter().enumerate() {
            self.attach(data, &format!("/{field}/{index}"), Some(signature));
        }
    }

    fn attach_enterprise(&mut self, data: &mut Value, field: &str, signature: &'a EnterpriseSignature) {
        match signature {
            EnterpriseSignature::Signed(signature) => self.attach(data, &format!("/{field}"), Some(signature)),
            EnterpriseSignature::Refused { witness, .. } => {
                self.attach(data, &format!("/{field}/witness"), witness.as_ref());
            }
        }
    }

    pub(crate) fn render(
        self,
        renderer: &Renderer,
        template: Template,
        data: &Value,
    ) -> Result<Vec<u8>, DocumentError> {
        renderer.render_pdf_with_images(template, data, &self.list)
    }
}

/// Renders the 产品质量监督抽查通知书.
///
/// # Errors
/// See [`Renderer::render_pdf`].
pub fn spot_check_notice_pdf(renderer: &Renderer, notice: &SpotCheckNotice) -> Result<Vec<u8>, DocumentError> {
    renderer.render_pdf(Template::SpotCheckNotice, &serde_json::to_value(notice)?)
}

/// Renders the 产品质量监督抽查/复查抽样单 with its signature images.
///
/// # Errors
/// See [`Renderer::render_pdf_with_images`].
pub fn sampling_record_pdf(renderer: &Renderer, record: &SamplingRecord) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(record)?;
    let mut images = Images::new();
    images.attach_all(&mut data, "sampler_signatures", &record.sampler_signatures);
    images.attach_enterprise(&mut data, "enterprise_signature", &record.enterprise_signature);
    images.attach(&mut data, "/correction_confirmation", record.correction_confirmation.as_ref());
    images.render(renderer, Template::SamplingRecord, &data)
}

/// Renders the 产品质量监督抽查样品付费单 with the total in figures and in capital numerals.
///
/// # Errors
/// See [`Renderer::render_pdf_with_images`].
pub fn sample_payment_form_pdf(renderer: &Renderer, form: &SamplePaymentForm) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(form)?;
    let mut images = Images::new();
    images.attach_all(&mut data, "payer_signatures", &form.payer_signatures);
    images.attach(&mut data, "/payee_signature", form.payee_signature.as_ref());
    images.render(renderer, Template::SamplePaymentForm, &data)
}

/// Renders the 产品质量监督抽查样品封存和处置告知单.
///
/// # Errors
/// See [`Renderer::render_pdf_with_images`].
pub fn backup_sealing_notice_pdf(renderer: &Renderer, notice: &BackupSealingNotice) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(notice)?;
    let mut images = Images::new();
    images.attach_all(&mut data, "sampler_signatures", &notice.sampler_signatures);
    images.attach_enterprise(&mut data, "enterprise_signature", &notice.enterprise_signature);
    images.render(renderer, Template::BackupSealingNotice, &data)
}

/// Renders the 产品质量监督抽查拒检认定表.
///
/// # Errors
/// See [`Renderer::render_pdf_with_images`].
pub fn refusal_determination_pdf(
    renderer: &Renderer,
    determination: &RefusalDetermination,
) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(determination)?;
    let mut images = Images::new();
    images.attach_all(&mut data, "sampler_signatures", &determination.sampler_signatures);
    images.attach_enterprise(&mut data, "enterprise_signature", &determination.enterprise_signature);
    images.attach_all(&mut data, "local_bureau_signatures", &determination.local_bureau_signatures);
    images.render(renderer, Template::RefusalDetermination, &data)
}

/// Renders the 产品质量监督抽查样品问题报送单.
///
/// # Errors
/// See [`Renderer::render_pdf_with_images`].
pub fn problem_report_pdf(renderer: &Renderer, report: &ProblemReport) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(report)?;
    let mut images = Images::new();
    images.attach_all(&mut data, "sampler_signatures", &report.sampler_signatures);
    images.render(renderer, Template::ProblemReport, &data)
}

/// Renders the 产品质量监督抽查工作质量及工作纪律反馈单 (blank answers give empty boxes).
///
/// # Errors
/// See [`Renderer::render_pdf_with_images`].
pub fn conduct_feedback_form_pdf(renderer: &Renderer, form: &ConductFeedbackForm) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(form)?;
    let mut images = Images::new();
    images.attach(&mut data, "/enterprise_signature", form.enterprise_signature.as_ref());
    images.render(renderer, Template::ConductFeedbackForm, &data)
}
