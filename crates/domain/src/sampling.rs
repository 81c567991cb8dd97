//! On-site sampling (DESIGN.md rules 2, 6, 8, 10, 11): the sampling task's state machine, the
//! sampling record (抽样单) checked against the published implementation rules, its signatures and
//! corrections.
//!
//! Task states: assigned → in_progress → sampled (record signed and locked) | refusal_pending →
//! refused (co-signed by the enterprise's local bureau, rule 11) | problem (sampling stopped and
//! reported, rule 10) | not_sampled (停业, not found…: the place goes back to the quota).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

use crate::RuleViolation;

crate::stored_enum! {
    pub enum TaskState: "抽样任务状态" {
        Assigned = "assigned", "待抽样";
        InProgress = "in_progress", "抽样中";
        Sampled = "sampled", "已抽样";
        RefusalPending = "refusal_pending", "拒检待认定";
        Refused = "refused", "拒检";
        Problem = "problem", "问题报送";
        NotSampled = "not_sampled", "未抽样";
    }
}

impl TaskState {
    /// The tasks that count against quotas and rule 5: all but the ones that ended without a
    /// sample (a problem reported, not sampled), whose place goes back to the quota.
    pub const LIVE: [TaskState; 5] =
        [TaskState::Assigned, TaskState::InProgress, TaskState::Sampled, TaskState::RefusalPending, TaskState::Refused];
}

crate::stored_enum! {
    pub enum TaskAction: "抽样任务操作" {
        Start = "start", "开始抽样";
        /// The record is signed by all and locked.
        CompleteRecord = "complete_record", "完成抽样单";
        Refuse = "refuse", "记录拒检";
        CosignRefusal = "cosign_refusal", "会同认定拒检";
        ReportProblem = "report_problem", "报送问题并终止抽样";
        MarkNotSampled = "mark_not_sampled", "记为未抽样";
    }
}

crate::workflow! {
    TaskState, TaskAction, "任务", "task_state",
    initial: [Assigned],
    table: {
        Assigned, Start => InProgress;
        InProgress, CompleteRecord => Sampled;
        InProgress, Refuse => RefusalPending;
        RefusalPending, CosignRefusal => Refused;
        Assigned, ReportProblem => Problem;
        InProgress, ReportProblem => Problem;
        Assigned, MarkNotSampled => NotSampled;
        InProgress, MarkNotSampled => NotSampled;
    }
}

/// The one transition function of a sampling task (the table above).
pub fn transition(state: TaskState, action: TaskAction) -> Result<TaskState, RuleViolation> {
    crate::workflow::next(state, action)
}

crate::stored_enum! {
    /// A version of the sampling record (rule 6): a draft changes freely until anyone signs; the
    /// last signature locks it; a correction is a new version valid once the enterprise confirms it,
    /// and it then replaces the version it corrects.
    pub enum RecordState: "抽样单状态" {
        Draft = "draft", "草稿";
        PendingConfirmation = "pending_confirmation", "更正待企业确认";
        Signed = "signed", "已签字锁定";
        Superseded = "superseded", "已被更正替代";
    }
}

crate::stored_enum! {
    pub enum RecordAction: "抽样单操作" {
        Edit = "edit", "修改";
        /// The last signature (or the enterprise's confirmation of a correction).
        Lock = "lock", "签字锁定";
        /// A confirmed correction replaces this version.
        Supersede = "supersede", "被更正替代";
    }
}

crate::workflow! {
    RecordState, RecordAction, "抽样单", "rule6_locked",
    initial: [Draft, PendingConfirmation],
    table: {
        Draft, Edit => Draft;
        Draft, Lock => Signed;
        PendingConfirmation, Lock => Signed;
        Signed, Supersede => Superseded;
    }
}

/// Quantities the published rules require (when they give numbers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordRequirements {
    pub min_test_quantity: Option<f64>,
    pub min_backup_quantity: Option<f64>,
    pub min_base: Option<f64>,
    pub unit: String,
}

/// How the price of the test portion was set (rule 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriceBasis {
    /// 标价
    #[default]
    Marked,
    /// 无标价，按同类产品市场价
    Market,
}

/// The sampling record as typed on site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordFields {
    pub product_name: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub model: String,
    /// Batch number or production date.
    #[serde(default)]
    pub batch: String,
    #[serde(default)]
    pub standard: String,
    #[serde(default)]
    pub grade: String,
    /// Nominal producer (for samples taken from sellers).
    #[serde(default)]
    pub producer_name: String,
    #[serde(default)]
    pub producer_address: String,
    #[serde(default)]
    pub producer_uscc: String,
    /// Stock on hand (sampling base), in `unit`.
    pub sampling_base: f64,
    pub test_quantity: f64,
    pub backup_quantity: f64,
    pub unit: String,
    /// Price of one unit of the test portion, yuan.
    pub unit_price: f64,
    #[serde(default)]
    pub price_basis: PriceBasis,
    pub place: String,
    /// production | circulation | e_commerce
    pub domain: String,
    /// RFC 3339 or "YYYY-MM-DD HH:MM".
    pub sampled_at: String,
    #[serde(default)]
    pub test_seals: Vec<String>,
    #[serde(default)]
    pub backup_seals: Vec<String>,
    #[serde(default)]
    pub remarks: String,
    /// 被抽样单位联系人, asked on site.
    #[serde(default)]
    pub contact_name: String,
    /// 被抽样单位联系电话.
    #[serde(default)]
    pub contact_phone: String,
}

impl RecordFields {
    /// The product's identity for rule 22 (DESIGN.md): the nominal producer's USCC as written (upper
    /// case), else the sampled enterprise's; brand, standard and model when given.
    pub fn product_key(&self, enterprise_uscc: &str, product: &str) -> crate::plan::ProductKey {
        let producer_uscc = self.producer_uscc.trim();
        let producer =
            if producer_uscc.is_empty() { enterprise_uscc.trim().to_string() } else { producer_uscc.to_uppercase() };
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        crate::plan::ProductKey {
            producer,
            product: product.to_string(),
            standard: opt(&self.standard),
            trademark: opt(&self.brand),
            model: opt(&self.model),
        }
    }

    /// Total paid for the test portion (rule 8; the backup portion is free), in fen.
    pub fn total_paid_fen(&self) -> i64 {
        (self.test_quantity * self.unit_price * 100.0).round() as i64
    }

    /// Check the record against the rules it was taken under (DESIGN.md rules 2 and 8, and the
    /// published quantities). Returns every problem.
    pub fn validate(&self, req: &RecordRequirements, samplers: usize) -> Result<(), Vec<RuleViolation>> {
        let mut e = Vec::new();
        let mut need = |ok: bool, code: &'static str, field: &'static str, msg: String| {
            if !ok {
                e.push(RuleViolation::new(code, msg).on_field(field));
            }
        };
        need(
            samplers >= crate::draw::MIN_TEAM,
            "rule2_min_samplers",
            "samplers",
            format!("抽样人员不得少于2人，本次只有{samplers}人（规则2）"),
        );
        need(!self.product_name.trim().is_empty(), "required", "product_name", "请填写产品名称".into());
        let phone = self.contact_phone.trim();
        need(
            phone.is_empty() || crate::text::is_phone(phone),
            "invalid_phone",
            "contact_phone",
            "联系电话应为电话号码，如 0352-1234567 或 13912345678".into(),
        );
        need(!self.place.trim().is_empty(), "required", "place", "请填写抽样地点".into());
        need(!self.unit.trim().is_empty(), "required", "unit", "请填写数量单位".into());
        need(
            matches!(self.domain.as_str(), "production" | "circulation" | "e_commerce"),
            "invalid_domain",
            "domain",
            "抽样领域应为生产、流通或电商".into(),
        );
        for (v, field, label) in [
            (self.sampling_base, "sampling_base", "抽样基数"),
            (self.test_quantity, "test_quantity", "检验样品数量"),
            (self.backup_quantity, "backup_quantity", "备用样品数量"),
            (self.unit_price, "unit_price", "单价"),
        ] {
            need(v.is_finite() && v >= 0.0, "invalid_number", field, format!("{label}应为不小于0的数"));
        }
        need(self.test_quantity > 0.0, "invalid_number", "test_quantity", "检验样品数量须大于0".into());
        need(
            self.unit_price > 0.0,
            "rule8_price",
            "unit_price",
            "检验样品须购买，请填写标价（无标价的填同类产品市场价）（规则8）".into(),
        );
        let u = &req.unit;
        if let Some(m) = req.min_test_quantity {
            need(
                self.test_quantity >= m,
                "rules_quantity",
                "test_quantity",
                format!("检验样品数量不得少于实施细则规定的{m}{u}"),
            );
        }
        if let Some(m) = req.min_backup_quantity {
            need(
                self.backup_quantity >= m,
                "rules_quantity",
                "backup_quantity",
                format!("备用样品数量不得少于实施细则规定的{m}{u}"),
            );
        }
        if let Some(m) = req.min_base {
            need(
                self.sampling_base >= m,
                "rules_min_base",
                "sampling_base",
                format!("抽样基数不足实施细则规定的{m}{u}，不能抽样"),
            );
        }
        need(
            self.sampling_base >= self.test_quantity + self.backup_quantity,
            "rules_min_base",
            "sampling_base",
            "抽样基数（库存）少于检验样品与备用样品之和".into(),
        );
        let seal = |v: &Vec<String>| v.iter().any(|s| !s.trim().is_empty());
        need(
            seal(&self.test_seals),
            "rule8_seals",
            "test_seals",
            "请填写检验样品的封条编号（检验样品与备用样品分别封样，规则8）".into(),
        );
        if self.backup_quantity > 0.0 {
            need(
                seal(&self.backup_seals),
                "rule8_seals",
                "backup_seals",
                "请填写备用样品的封条编号（分别封样，规则8）".into(),
            );
            let shared: Vec<&String> =
                self.test_seals.iter().filter(|s| !s.trim().is_empty() && self.backup_seals.contains(s)).collect();
            need(
                shared.is_empty(),
                "rule8_seals",
                "backup_seals",
                "检验样品与备用样品须分别封样，封条编号不能相同（规则8）".into(),
            );
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }
}

/// One changed field of a correction: (field, old, new), for the enterprise to confirm (rule 6).
pub fn diff(old: &RecordFields, new: &RecordFields) -> Vec<(String, String, String)> {
    let a = serde_json::to_value(old).unwrap_or_default();
    let b = serde_json::to_value(new).unwrap_or_default();
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return Vec::new() };
    let mut out = Vec::new();
    for (k, va) in a {
        let vb = b.get(k).cloned().unwrap_or_default();
        if *va != vb {
            out.push((k.clone(), show(va), show(&vb)));
        }
    }
    out
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Who signs a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Signer {
    Sampler(i64),
    Enterprise,
}

/// A record is complete when every sampler of the team signed, and the enterprise signed or its
/// refusal to sign is noted (rule 6). Returns what is still missing.
pub fn missing_signatures(team: &[i64], signed: &BTreeMap<Signer, bool>) -> Vec<Signer> {
    let mut out: Vec<Signer> = team.iter().map(|u| Signer::Sampler(*u)).filter(|s| !signed.contains_key(s)).collect();
    if !signed.contains_key(&Signer::Enterprise) {
        out.push(Signer::Enterprise);
    }
    out
}

pub use crate::clock::{beijing as utc_to_local, from_beijing as local_to_utc};

/// A time as typed on site (RFC 3339, or "YYYY-MM-DD HH:MM" in China's time), as China's local time.
pub fn parse_local_time(s: &str) -> Option<chrono::NaiveDateTime> {
    let t = s.trim();
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| utc_to_local(d.with_timezone(&chrono::Utc)))
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").ok())
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").ok())
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok())
}

/// Rule 16: sampling information is entered by the end of the calendar day after sampling, in
/// China's time — the deadline is midnight (00:00 +08:00) two days after the sampling date.
pub fn entry_deadline(sampled_at_local: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    let day_after_next = sampled_at_local.date() + chrono::Days::new(2);
    local_to_utc(day_after_next.and_time(chrono::NaiveTime::MIN))
}

/// Where a task stands against its rule 16 entry deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryStatus {
    pub deadline: chrono::DateTime<chrono::Utc>,
    /// The record was locked after the deadline.
    pub late: bool,
    /// The deadline passed and the record is not locked yet.
    pub overdue: bool,
}

pub fn entry_status(
    sampled_at_local: chrono::NaiveDateTime,
    locked_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> EntryStatus {
    let deadline = entry_deadline(sampled_at_local);
    EntryStatus {
        deadline,
        late: locked_at.is_some_and(|l| l >= deadline),
        overdue: locked_at.is_none() && now >= deadline,
    }
}

crate::stored_enum! {
    /// Why a drawn enterprise was not sampled; the place goes back to the quota for a redraw.
    pub enum NotSampledReason : "未抽样原因", parsed by hand {
        Closed = "closed", "停业";
        NotFound = "not_found", "查无此企业";
        NoStock = "no_stock", "无符合最低基数的库存";
        NotForSale = "not_for_sale", "非销售产品";
        /// A note is required.
        Other = "other", "其他";
    }
}

/// The stored name or the Chinese label (forms and the API accept both).
impl FromStr for NotSampledReason {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NotSampledReason::ALL.into_iter().find(|k| k.as_str() == s || k.label() == s).ok_or_else(|| {
            RuleViolation::new(
                "invalid_reason",
                format!("未抽样原因“{s}”应为停业、查无此企业、无符合最低基数的库存、非销售产品或其他"),
            )
            .on_field("reason_kind")
        })
    }
}

crate::stored_enum! {
    /// What a piece of evidence shows (the checklist of DESIGN.md rule 7 and the notices).
    pub enum EvidenceCategory : "证据类别", parsed by hand {
        Site = "site", "抽样场所";
        Storage = "storage", "贮存环境";
        Labels = "labels", "标签标识";
        Stock = "stock", "库存数量";
        Process = "process", "抽样过程";
        Seals = "seals", "封样";
        Documents = "documents", "文书";
    }
}

impl EvidenceCategory {
    /// What the notices require photographed or filmed at every sampling when the implementation
    /// rules say nothing else: the place, storage, label, stock, the sampling and the seals (the
    /// documents are photographed where there are any).
    pub const REQUIRED_BY_NOTICE: [EvidenceCategory; 6] = [
        EvidenceCategory::Site,
        EvidenceCategory::Storage,
        EvidenceCategory::Labels,
        EvidenceCategory::Stock,
        EvidenceCategory::Process,
        EvidenceCategory::Seals,
    ];
}

/// Rule 7: the required categories that have neither an item nor a recorded reason why there is
/// none, in the checklist's order. The sampling record may be signed only when this is empty.
pub fn missing_evidence(
    required: &[EvidenceCategory],
    present: &[EvidenceCategory],
    explained: &[EvidenceCategory],
) -> Vec<EvidenceCategory> {
    EvidenceCategory::ALL
        .into_iter()
        .filter(|c| required.contains(c) && !present.contains(c) && !explained.contains(c))
        .collect()
}

/// The refusal to sign while required evidence is missing (rule 7).
pub fn evidence_incomplete(missing: &[EvidenceCategory]) -> RuleViolation {
    let names: Vec<&str> = missing.iter().map(|c| c.label()).collect();
    RuleViolation::new(
        "rule7_evidence",
        format!(
            "以下证据尚未上传，也未注明无法拍摄的原因：{}。请先在“证据”一步上传照片或视频；\
             确实无法拍摄的，注明原因后再签字（规则7）",
            names.join("、")
        ),
    )
}

/// The stored name or the Chinese label.
impl FromStr for EvidenceCategory {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        EvidenceCategory::ALL.into_iter().find(|c| c.as_str() == s || c.label() == s).ok_or_else(|| {
            RuleViolation::new(
                "unknown_category",
                format!(
                    "未知的证据类别“{s}”（应为 site 抽样场所、storage 贮存环境、labels 标签标识、stock 库存数量、\
                     process 抽样过程、seals 封样 或 documents 文书）"
                ),
            )
            .on_field("category")
        })
    }
}

/// The Chinese name of a sampling-record field (a correction's changes, in pages and PDFs).
pub fn field_label(key: &str) -> &str {
    match key {
        "product_name" => "产品名称",
        "brand" => "商标",
        "model" => "规格型号",
        "batch" => "生产日期/批号",
        "standard" => "执行标准",
        "grade" => "质量等级",
        "producer_name" => "标称生产者",
        "producer_address" => "生产者地址",
        "producer_uscc" => "生产者统一社会信用代码",
        "contact_name" => "被抽样单位联系人",
        "contact_phone" => "被抽样单位联系电话",
        "sampling_base" => "抽样基数",
        "test_quantity" => "检验样品数量",
        "backup_quantity" => "备用样品数量",
        "unit" => "单位",
        "unit_price" => "单价",
        "price_basis" => "价格依据",
        "place" => "抽样地点",
        "domain" => "抽样领域",
        "sampled_at" => "抽样时间",
        "test_seals" => "检验样品封条编号",
        "backup_seals" => "备用样品封条编号",
        "remarks" => "备注",
        other => other,
    }
}

crate::stored_enum! {
    /// A request to leave the backup portion with the enterprise (rule 9): decided once by the
    /// organising bureau.
    pub enum BackupRequestState: "备用样品存放申请状态" {
        Pending = "pending", "待组织部门审批";
        Approved = "approved", "已批准";
        Denied = "denied", "未批准";
    }
}

crate::stored_enum! {
    pub enum BackupRequestAction: "备用样品存放申请操作" {
        Approve = "approve", "批准";
        Deny = "deny", "不批准";
    }
}

impl BackupRequestAction {
    pub fn decide(approve: bool) -> BackupRequestAction {
        if approve { BackupRequestAction::Approve } else { BackupRequestAction::Deny }
    }
}

crate::workflow! {
    BackupRequestState, BackupRequestAction, "备用样品存放申请", "already_decided",
    initial: [Pending],
    table: {
        Pending, Approve => Approved;
        Pending, Deny => Denied;
    }
}

crate::stored_enum! {
    /// A resumable evidence upload: open while chunks arrive, then complete (its evidence row
    /// written) or rejected (hash or type wrong).
    pub enum UploadState: "上传状态" {
        Open = "open", "上传中";
        Complete = "complete", "已完成";
        Rejected = "rejected", "已拒收";
    }
}

crate::stored_enum! {
    pub enum UploadAction: "上传操作" {
        Complete = "complete", "完成上传";
        Reject = "reject", "拒收";
    }
}

crate::workflow! {
    UploadState, UploadAction, "上传", "upload_closed",
    initial: [Open],
    table: {
        Open, Complete => Complete;
        Open, Reject => Rejected;
    }
}

#[cfg(test)]
mod tests;
