//! The laboratory rules (DESIGN.md rules 1, 12–16, 24): receipt, blind codes, separation of duties,
//! licence check, conclusion, report approval and the results deadline.
//!
//! A sample's life at the testing institution, one state per row of `lab_samples`:
//!
//! ```text
//! (dispatched task) ─receive─► rejected                        (rule 12, final)
//!                   └────────► screening ─► cleared            (rule 24: screening found nothing)
//!                   │              └─flagged─┐
//!                   └────────► accepted ◄────┘
//!                                 ├─licence failed─► stopped   (rule 14, final)
//!                                 └─first result─► testing ─complete─► tested ─report approved─► reported
//!                                                     ▲                                            │
//!                                                     └──────────── correction (rule 15) ◄─────────┘
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::RuleViolation;
use crate::calendar::WorkCalendar;
use crate::implementation_rules::ItemJudgement;

crate::stored_enum! {
    pub enum SampleState: "样品状态" {
        /// Refused at receipt (rule 12).
        Rejected = "rejected", "拒收";
        /// Waiting for the screening institution's quick result (rule 24).
        Screening = "screening", "待快速筛查";
        /// Screening found nothing: no full testing, and no report (a screening result is never one).
        Cleared = "cleared", "筛查未见异常";
        /// Received, blind-coded, awaiting testing.
        Accepted = "accepted", "待检验";
        /// Results being entered.
        Testing = "testing", "检验中";
        /// Results complete with a conclusion; awaiting the report.
        Tested = "tested", "待出具报告";
        /// The approved report is issued.
        Reported = "reported", "已出具报告";
        /// Testing stopped: the producer's licence check failed (rule 14).
        Stopped = "stopped", "终止检验";
    }
}

crate::stored_enum! {
    pub enum SampleAction: "样品操作" {
        /// Screening flagged the sample: on to full testing.
        ScreeningFlagged = "screening_flagged", "筛查发现问题，转入检验";
        /// Screening found nothing.
        ScreeningCleared = "screening_cleared", "筛查未见异常";
        /// A result entered (the first one starts testing).
        EnterResult = "enter_result", "录入检验结果";
        /// All results in: conclusion computed.
        CompleteResults = "complete_results", "完成检验";
        /// The licence check failed.
        StopUnlicensed = "stop_unlicensed", "终止检验";
        /// A report was approved.
        Report = "report", "出具报告";
        /// A correction of the issued report reopens the results (rule 15).
        Correct = "correct", "更正报告";
        /// The reviewer or approver sent the report back: the results reopen.
        SendBack = "send_back", "退回报告";
    }
}

crate::workflow! {
    SampleState, SampleAction, "样品", "sample_state",
    initial: [Accepted, Screening, Rejected],
    table: {
        Screening, ScreeningFlagged => Accepted;
        Screening, ScreeningCleared => Cleared;
        Accepted, EnterResult => Testing;
        Testing, EnterResult => Testing;
        Testing, CompleteResults => Tested;
        Accepted, StopUnlicensed => Stopped;
        Testing, StopUnlicensed => Stopped;
        Tested, Report => Reported;
        Reported, Correct => Testing;
        Tested, SendBack => Testing;
    },
    refusal: |state, action| {
        use SampleAction as A;
        use SampleState as S;
        Some(match (state, action) {
            (S::Rejected, _) => RuleViolation::new("rule12_rejected", "该样品已在接收时被拒收，不能检验（规则12）"),
            (S::Stopped, _) => RuleViolation::new("rule14_stopped", "该样品的生产者未通过许可证核查，检验已终止（规则14）"),
            (S::Screening, A::EnterResult) => {
                RuleViolation::new("rule24_screening_pending", "该样品须先完成快速筛查，筛查发现问题的才转入检验（规则24）")
            }
            (S::Cleared, _) => RuleViolation::new(
                "rule24_cleared",
                "该样品快速筛查未见异常，不转入检验；筛查结果不作为检验报告出具（规则24）",
            ),
            _ => RuleViolation::new("sample_state", format!("样品当前为“{}”，不能执行此操作", state.label())),
        })
    }
}

/// The one transition function of a sample: the new state, or the rule that refuses.
pub fn transition(state: SampleState, action: SampleAction) -> Result<SampleState, RuleViolation> {
    crate::workflow::next(state, action)
}

crate::stored_enum! {
    /// A version of a test report (rule 15): prepared, reviewed and approved by three different
    /// people; sent back from review or approval; an issued report replaced by its correction is kept.
    pub enum ReportState: "报告状态" {
        Prepared = "prepared", "已编制，待审核";
        Reviewed = "reviewed", "已审核，待批准";
        Approved = "approved", "已批准签发";
        Superseded = "superseded", "已被更正报告替代";
        Returned = "returned", "已退回，待重新编制";
    }
}

crate::stored_enum! {
    pub enum ReportAction: "报告操作" {
        Review = "review", "审核";
        Approve = "approve", "批准";
        SendBack = "send_back", "退回";
        Supersede = "supersede", "以更正报告替代";
    }
}

crate::workflow! {
    ReportState, ReportAction, "报告", "report_state",
    initial: [Prepared],
    table: {
        Prepared, Review => Reviewed;
        Reviewed, Approve => Approved;
        Prepared, SendBack => Returned;
        Reviewed, SendBack => Returned;
        Approved, Supersede => Superseded;
    },
    refusal: |state, action| {
        use ReportAction as A;
        use ReportState as S;
        Some(match (state, action) {
            (_, A::Review) => RuleViolation::new("report_state", "该报告当前不是待审核状态"),
            (S::Prepared, A::Approve) => RuleViolation::new("report_state", "报告须先经审核才能批准（规则15）"),
            (_, A::SendBack) => RuleViolation::new("report_state", "只有待审核或待批准的报告可以退回"),
            (_, A::Supersede) => RuleViolation::new("report_state", "只有已签发的报告可以更正"),
            _ => return None,
        })
    }
}

crate::stored_enum! {
    /// The producer's licence check of a sample (rule 14): required for products under 生产许可证
    /// or CCC; testing stops when it fails.
    pub enum LicenceState: "许可证核查状态" {
        NotRequired = "not_required", "不涉及许可";
        Pending = "pending", "待核查许可证";
        Confirmed = "confirmed", "许可证核查通过";
        Failed = "failed", "许可证核查未通过";
    }
}

crate::stored_enum! {
    pub enum LicenceAction: "许可证核查操作" {
        Confirm = "confirm", "核查通过";
        Fail = "fail", "核查未通过";
    }
}

crate::workflow! {
    LicenceState, LicenceAction, "许可证核查", "licence_state",
    initial: [NotRequired, Pending],
    table: {
        Pending, Confirm => Confirmed;
        Pending, Fail => Failed;
    }
}

crate::stored_enum! {
    /// The state of a portion's seal when it changes hands (rules 8, 12, 18).
    pub enum SealState: "封条状态" {
        Intact = "intact", "完好";
        Broken = "broken", "破损或不符";
        NotApplicable = "not_applicable", "不适用";
    }
}

/// A custody event that records no seal (a note, a location change) has none to check.
impl Default for SealState {
    fn default() -> Self {
        SealState::NotApplicable
    }
}

impl SealState {
    pub fn of(intact: bool) -> SealState {
        if intact { SealState::Intact } else { SealState::Broken }
    }
}

/// What the sampling record says the lab should receive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpectedSample {
    pub test_seals: Vec<String>,
    pub backup_seals: Vec<String>,
    pub test_quantity: f64,
    pub backup_quantity: f64,
    pub unit: String,
}

/// What the custodian finds on arrival.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObservedSample {
    #[serde(default)]
    pub test_seals: Vec<String>,
    #[serde(default)]
    pub backup_seals: Vec<String>,
    pub test_quantity: f64,
    pub backup_quantity: f64,
    /// Every seal unbroken.
    pub seals_intact: bool,
    /// Labels (product, batch…) agree with the sampling record.
    pub labels_match: bool,
    /// Appearance and state, as seen (and photographed).
    #[serde(default)]
    pub appearance: String,
}

fn norm(v: &[String]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.trim().to_uppercase()).filter(|s| !s.is_empty()).collect();
    v.sort();
    v
}

/// Rule 12: every way the arrived sample differs from its sampling record, in Chinese.
pub fn receipt_mismatches(expected: &ExpectedSample, seen: &ObservedSample) -> Vec<String> {
    let mut out = Vec::new();
    if !seen.seals_intact {
        out.push("封条有破损".to_string());
    }
    if norm(&expected.test_seals) != norm(&seen.test_seals) {
        out.push(format!(
            "检验样品封条编号不符（抽样单：{}；实收：{}）",
            expected.test_seals.join("、"),
            seen.test_seals.join("、")
        ));
    }
    if norm(&expected.backup_seals) != norm(&seen.backup_seals) {
        out.push(format!(
            "备用样品封条编号不符（抽样单：{}；实收：{}）",
            expected.backup_seals.join("、"),
            seen.backup_seals.join("、")
        ));
    }
    let u = &expected.unit;
    if (expected.test_quantity - seen.test_quantity).abs() > 1e-9 {
        out.push(format!("检验样品数量不符（抽样单：{}{u}；实收：{}{u}）", expected.test_quantity, seen.test_quantity));
    }
    if (expected.backup_quantity - seen.backup_quantity).abs() > 1e-9 {
        out.push(format!(
            "备用样品数量不符（抽样单：{}{u}；实收：{}{u}）",
            expected.backup_quantity, seen.backup_quantity
        ));
    }
    if !seen.labels_match {
        out.push("样品标签与抽样单记录不符".to_string());
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptDecision {
    Accept,
    Reject,
}

/// Rule 12: a sample that does not match its record is not accepted, and a rejection needs a
/// written reason.
pub fn check_receipt_decision(
    mismatches: &[String],
    decision: ReceiptDecision,
    reason: &str,
) -> Result<(), RuleViolation> {
    match decision {
        ReceiptDecision::Accept if !mismatches.is_empty() => Err(RuleViolation::new(
            "rule12_mismatch",
            format!("样品与抽样单记录不符，不能接收，应拒收并书面说明理由（规则12）：{}", mismatches.join("；")),
        )),
        ReceiptDecision::Reject if reason.trim().is_empty() => {
            Err(RuleViolation::new("rule12_reason_required", "拒收样品须书面说明理由（规则12）").on_field("reason"))
        }
        _ => Ok(()),
    }
}

/// A blind code (盲样编号, 二次编号): "M" + year + 8 characters of Crockford base32 drawn at random,
/// so nothing about the task or the enterprise can be read from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlindCode(String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl BlindCode {
    /// From 40 random bits (the caller supplies the randomness; the domain has none).
    pub fn from_random(year: i32, random: u64) -> BlindCode {
        let mut s = format!("M{year}-");
        for i in (0..8).rev() {
            s.push(CROCKFORD[((random >> (i * 5)) & 31) as usize] as char);
        }
        BlindCode(s)
    }

    pub fn parse(s: &str) -> Result<BlindCode, RuleViolation> {
        let t = s.trim().to_uppercase();
        let ok = t.len() == 14
            && t.starts_with('M')
            && t[1..5].bytes().all(|b| b.is_ascii_digit())
            && &t[5..6] == "-"
            && t[6..].bytes().all(|b| CROCKFORD.contains(&b));
        if ok {
            Ok(BlindCode(t))
        } else {
            Err(RuleViolation::new("invalid_blind_code", format!("盲样编号“{}”格式不正确", s.trim()))
                .on_field("blind_code"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlindCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a person is about to do with a sample, for the separation-of-duties check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabDuty {
    Test,
    PrepareReport,
    Review,
    Approve,
}

impl LabDuty {
    fn label(self) -> &'static str {
        match self {
            LabDuty::Test => "检验",
            LabDuty::PrepareReport => "编制报告",
            LabDuty::Review => "审核报告",
            LabDuty::Approve => "批准报告",
        }
    }
}

/// 抽检分离 (DESIGN.md rule 1): whoever sampled a sample never tests it, nor reviews or approves its report.
pub fn check_not_sampler(user_id: i64, samplers: &[i64], duty: LabDuty) -> Result<(), RuleViolation> {
    if samplers.contains(&user_id) {
        Err(RuleViolation::new(
            "rule1_sampler_conflict",
            format!("抽检分离：该样品的抽样人员不得{}该样品（规则1）", duty.label()),
        ))
    } else {
        Ok(())
    }
}

/// Rule 15: a report is prepared, reviewed and approved by three different people.
pub fn check_report_signer(
    user_id: i64,
    prepared_by: i64,
    reviewed_by: Option<i64>,
    duty: LabDuty,
) -> Result<(), RuleViolation> {
    let same = user_id == prepared_by || (duty == LabDuty::Approve && reviewed_by == Some(user_id));
    if same {
        Err(RuleViolation::new(
            "rule15_same_person",
            format!("检验报告须由三个不同的人编制、审核和批准：您已参与该报告，不能再{}（规则15）", duty.label()),
        ))
    } else {
        Ok(())
    }
}

/// The conclusion of a sample from its item judgements: qualified when no item fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conclusion {
    pub qualified: bool,
    /// The failing items' names, in the rules' order.
    pub failing_items: Vec<String>,
    /// As printed: "经抽样检验，所检项目未发现不合格。" or "经抽样检验，硫含量项目不符合…，检验结论为不合格。"
    pub text: String,
}

/// The rules' judgement principle applied to item judgements `(item name, judgement)`.
pub fn conclude(judgements: &[(String, ItemJudgement)], standards: &[String]) -> Conclusion {
    let failing: Vec<String> =
        judgements.iter().filter(|(_, j)| *j == ItemJudgement::NonConforming).map(|(n, _)| n.clone()).collect();
    let stds = standards.iter().filter(|s| !s.trim().is_empty()).cloned().collect::<Vec<_>>().join("、");
    if failing.is_empty() {
        Conclusion {
            qualified: true, failing_items: failing, text: "经抽样检验，所检项目未发现不合格。".into()
        }
    } else {
        let std_part = if stds.is_empty() { String::new() } else { format!("{stds}的要求") };
        let text = format!("经抽样检验，{}项目不符合{}，检验结论为不合格。", failing.join("、"), std_part);
        Conclusion { qualified: false, failing_items: failing, text }
    }
}

/// Rule 16: test results are entered within 3 working days after testing ends.
pub const RESULTS_ENTRY_WORKING_DAYS: u32 = 3;

/// The last day for entering the results of testing that ended on `testing_ended`.
pub fn results_due(calendar: &WorkCalendar, testing_ended: NaiveDate) -> NaiveDate {
    calendar.add_working_days(testing_ended, RESULTS_ENTRY_WORKING_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;

    #[test]
    fn transition_table() {
        use SampleAction as A;
        use SampleState as S;
        let allowed = [
            (S::Screening, A::ScreeningFlagged, S::Accepted),
            (S::Screening, A::ScreeningCleared, S::Cleared),
            (S::Accepted, A::EnterResult, S::Testing),
            (S::Testing, A::EnterResult, S::Testing),
            (S::Testing, A::CompleteResults, S::Tested),
            (S::Accepted, A::StopUnlicensed, S::Stopped),
            (S::Tested, A::Report, S::Reported),
            (S::Reported, A::Correct, S::Testing),
            (S::Tested, A::SendBack, S::Testing),
        ];
        for (from, a, to) in allowed {
            assert_eq!(transition(from, a), Ok(to), "{from:?} {a:?}");
        }
        assert_eq!(transition(S::Rejected, A::EnterResult).unwrap_err().code, "rule12_rejected");
        assert_eq!(transition(S::Stopped, A::EnterResult).unwrap_err().code, "rule14_stopped");
        assert_eq!(transition(S::Screening, A::EnterResult).unwrap_err().code, "rule24_screening_pending");
        assert_eq!(transition(S::Cleared, A::EnterResult).unwrap_err().code, "rule24_cleared");
        assert_eq!(transition(S::Accepted, A::Report).unwrap_err().code, "sample_state");
    }

    fn expected() -> ExpectedSample {
        ExpectedSample {
            test_seals: vec!["SXGH-000123".into()],
            backup_seals: vec!["SXGH-000124".into()],
            test_quantity: 2.0,
            backup_quantity: 2.0,
            unit: "L".into(),
        }
    }

    #[test]
    fn receipt_compares_seals_quantities_and_labels() {
        let ok = ObservedSample {
            test_seals: vec![" sxgh-000123".into()],
            backup_seals: vec!["SXGH-000124".into()],
            test_quantity: 2.0,
            backup_quantity: 2.0,
            seals_intact: true,
            labels_match: true,
            appearance: String::new(),
        };
        assert!(receipt_mismatches(&expected(), &ok).is_empty());
        let bad = ObservedSample { test_seals: vec!["SXGH-999".into()], test_quantity: 1.0, seals_intact: false, ..ok };
        let m = receipt_mismatches(&expected(), &bad);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(check_receipt_decision(&m, ReceiptDecision::Accept, "").unwrap_err().code, "rule12_mismatch");
        assert_eq!(
            check_receipt_decision(&m, ReceiptDecision::Reject, " ").unwrap_err().code,
            "rule12_reason_required"
        );
        assert!(check_receipt_decision(&m, ReceiptDecision::Reject, "封条破损").is_ok());
        assert!(check_receipt_decision(&[], ReceiptDecision::Accept, "").is_ok());
    }

    #[test]
    fn blind_codes_round_trip_and_differ() {
        let a = BlindCode::from_random(2025, 0x12_3456_789A);
        let b = BlindCode::from_random(2025, 0x12_3456_789B);
        assert_ne!(a, b);
        assert_eq!(BlindCode::parse(&a.as_str().to_lowercase()), Ok(a.clone()));
        assert!(BlindCode::parse("M2025-ABC").is_err());
        assert!(BlindCode::parse("X2025-ABCDEFGH").is_err());
    }

    #[test]
    fn samplers_never_test_and_three_people_sign() {
        assert_eq!(check_not_sampler(7, &[7, 8], LabDuty::Test).unwrap_err().code, "rule1_sampler_conflict");
        assert!(check_not_sampler(9, &[7, 8], LabDuty::Approve).is_ok());
        assert_eq!(check_report_signer(1, 1, None, LabDuty::Review).unwrap_err().code, "rule15_same_person");
        assert_eq!(check_report_signer(2, 1, Some(2), LabDuty::Approve).unwrap_err().code, "rule15_same_person");
        assert!(check_report_signer(3, 1, Some(2), LabDuty::Approve).is_ok());
        assert!(check_report_signer(2, 1, None, LabDuty::Review).is_ok());
    }

    #[test]
    fn conclusion_lists_failing_items() {
        let j =
            vec![("硫含量".to_string(), ItemJudgement::NonConforming), ("闪点".to_string(), ItemJudgement::Conforming)];
        let c = conclude(&j, &["GB 19147-2016".into()]);
        assert!(!c.qualified);
        assert_eq!(c.failing_items, vec!["硫含量".to_string()]);
        assert!(c.text.contains("硫含量") && c.text.contains("不合格"), "{}", c.text);
        let ok = conclude(&j[1..], &[]);
        assert!(ok.qualified);
        assert_eq!(ok.text, "经抽样检验，所检项目未发现不合格。");
    }

    #[test]
    fn results_due_three_working_days_across_national_day_2026() {
        let cal = WorkCalendar::official();
        // Testing ends Wed 2026-09-30; 10-01..10-07 are holidays; Thu 10-08, Fri 10-09 and the
        // make-up workday Sat 10-10 are the three working days.
        let end = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        assert_eq!(results_due(&cal, end), NaiveDate::from_ymd_opt(2026, 10, 10).unwrap());
        // An ordinary week: Mon → Thu.
        let mon = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        assert_eq!(results_due(&cal, mon), NaiveDate::from_ymd_opt(2026, 11, 19).unwrap());
    }
}
