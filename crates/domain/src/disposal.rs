//! Sample disposal (样品处置, DESIGN.md rule 19): what happens to each portion of a tested sample once
//! the objection window has closed. The backup portion was provided free: returned to the enterprise
//! when the result is qualified, handed over to the bureau in charge of results when it is not. The
//! test portion was bought (rule 8): disposed of per the provincial rule, which is configurable data.
//! A disposal is due the day after the objection window closes (15 days after the recorded receipt
//! of the result, rule 18), never while an objection or re-test request is pending or accepted (the
//! backup may still be re-tested), and overdue a configured number of days after that.

use chrono::NaiveDate;

use crate::RuleViolation;
use crate::calendar::add_calendar_days;
use crate::results::objection_deadline;

crate::stored_enum! {
    /// Which portion of a sample (rule 8).
    pub enum Portion: "样品份" {
        /// 检验样品: bought, paid for.
        Test = "test", "检验样品";
        /// 备用样品: provided free.
        Backup = "backup", "备用样品";
    }
}

crate::stored_enum! {
    /// What rule 19 requires of a portion.
    pub enum RequiredDisposal: "处置要求" {
        /// Unpaid and qualified: returned to the sampled enterprise.
        ReturnToEnterprise = "return_to_enterprise", "退还被抽样单位";
        /// Unpaid and unqualified: handed over to the bureau in charge of results.
        HandOverToBureau = "hand_over_to_bureau", "交负责结果处理的市场监管部门";
        /// Paid: per the provincial rule.
        ProvincialRule = "provincial_rule", "按省局样品处置规定处置";
    }
}

/// Rule 19: a paid portion follows the provincial rule; an unpaid one is returned when qualified
/// and handed over to the bureau when not.
pub fn required_disposal(paid: bool, qualified: bool) -> RequiredDisposal {
    match (paid, qualified) {
        (true, _) => RequiredDisposal::ProvincialRule,
        (false, true) => RequiredDisposal::ReturnToEnterprise,
        (false, false) => RequiredDisposal::HandOverToBureau,
    }
}

crate::stored_enum! {
    /// How a disposal was carried out.
    pub enum DisposalMethod: "处置方式" {
        /// 退还
        Returned = "returned", "退还被抽样单位";
        /// 移交
        HandedOver = "handed_over", "移交市场监管部门";
        /// 销毁
        Destroyed = "destroyed", "销毁";
        /// 其他（按省局规定，写明方式）
        Other = "other", "其他";
    }
}

/// Whether `method` carries out what rule 19 requires of the portion. The provincial rule of paid
/// portions is free text, so any method fits it (the note says how).
pub fn check_method(required: RequiredDisposal, method: DisposalMethod) -> Result<(), RuleViolation> {
    match (required, method) {
        (RequiredDisposal::ReturnToEnterprise, DisposalMethod::Returned)
        | (RequiredDisposal::HandOverToBureau, DisposalMethod::HandedOver)
        | (RequiredDisposal::ProvincialRule, _) => Ok(()),
        (RequiredDisposal::ReturnToEnterprise, _) => Err(RuleViolation::new(
            "rule19_must_return",
            "检验结果为合格的未付费样品应在异议期满后退还被抽样单位（规则19）",
        )
        .on_field("method")),
        (RequiredDisposal::HandOverToBureau, _) => Err(RuleViolation::new(
            "rule19_must_hand_over",
            "检验结果为不合格的未付费样品应交由负责结果处理的市场监管部门依法处理，不得退还企业或自行处置（规则19）",
        )
        .on_field("method")),
    }
}

/// Where a portion stands on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisposalTiming {
    /// The result's receipt is not recorded: the objection window has not started.
    NotReceived,
    /// The objection window is still open until this day.
    WindowOpen(NaiveDate),
    /// An objection or re-test request is pending or accepted: the backup may be re-tested.
    ObjectionOpen,
    /// Due since this day.
    Due(NaiveDate),
    /// Overdue since this day.
    Overdue(NaiveDate),
}

impl DisposalTiming {
    pub fn as_str(self) -> &'static str {
        match self {
            DisposalTiming::NotReceived => "not_received",
            DisposalTiming::WindowOpen(_) => "window_open",
            DisposalTiming::ObjectionOpen => "objection_open",
            DisposalTiming::Due(_) => "due",
            DisposalTiming::Overdue(_) => "overdue",
        }
    }

    pub fn label(self) -> String {
        match self {
            DisposalTiming::NotReceived => "检验结果尚未登记签收，异议期未开始".into(),
            DisposalTiming::WindowOpen(d) => format!("异议期至{d}，期满后处置"),
            DisposalTiming::ObjectionOpen => "有异议或复检申请正在处理，暂缓处置".into(),
            DisposalTiming::Due(d) => format!("应处置（自{d}起）"),
            DisposalTiming::Overdue(d) => format!("已逾期（应于{d}前处置）"),
        }
    }

    pub fn is_due(self) -> bool {
        matches!(self, DisposalTiming::Due(_) | DisposalTiming::Overdue(_))
    }
}

/// The first day a disposal is due: the day after the objection window closes.
pub fn due_from(received_on: NaiveDate) -> NaiveDate {
    add_calendar_days(objection_deadline(received_on), 1)
}

/// Where a portion stands: due from the day after the objection window closes, overdue when not
/// done within `overdue_days` after that; not due while an objection is open.
pub fn timing(
    received_on: Option<NaiveDate>,
    objection_open: bool,
    overdue_days: u32,
    today: NaiveDate,
) -> DisposalTiming {
    let Some(received) = received_on else { return DisposalTiming::NotReceived };
    if objection_open {
        return DisposalTiming::ObjectionOpen;
    }
    let from = due_from(received);
    let last = add_calendar_days(objection_deadline(received), overdue_days);
    if today < from {
        DisposalTiming::WindowOpen(objection_deadline(received))
    } else if today > last {
        DisposalTiming::Overdue(last)
    } else {
        DisposalTiming::Due(from)
    }
}

/// Refuses a disposal that is not due yet, naming the rule.
pub fn check_due(t: DisposalTiming) -> Result<(), RuleViolation> {
    match t {
        DisposalTiming::Due(_) | DisposalTiming::Overdue(_) => Ok(()),
        DisposalTiming::NotReceived => Err(RuleViolation::new(
            "rule19_not_received",
            "检验结果尚未登记签收，异议期尚未开始，样品不能处置（规则19）",
        )),
        DisposalTiming::WindowOpen(d) => Err(RuleViolation::new(
            "rule19_window_open",
            format!("样品应在检验结果异议期满后处置（规则19）：异议期至{d}届满"),
        )),
        DisposalTiming::ObjectionOpen => Err(RuleViolation::new(
            "rule19_objection_open",
            "该样品有异议或复检申请正在处理，备用样品可能用于复检，暂不能处置（规则18、19）",
        )),
    }
}

/// The newest receipt date a disposal overdue on `today` can have: received on or before this day.
pub fn overdue_received_by(today: NaiveDate, overdue_days: u32) -> NaiveDate {
    today - chrono::Duration::days(i64::from(crate::results::OBJECTION_DAYS) + i64::from(overdue_days) + 1)
}

/// The newest receipt date a disposal due on `today` can have.
pub fn due_received_by(today: NaiveDate) -> NaiveDate {
    overdue_received_by(today, 0)
}

crate::stored_enum! {
    /// Where the disposal of a portion stands: open until it is recorded as done.
    pub enum DisposalState: "处置状态" {
        Open = "open", "待处置";
        Done = "done", "已处置";
    }
}

crate::stored_enum! {
    pub enum DisposalAction: "处置操作" {
        /// What it requires changes with a later conclusion (a corrected report, a re-test's result).
        Retarget = "retarget", "按新结论调整处置要求";
        /// Recorded as carried out.
        Record = "record", "登记处置";
    }
}

crate::workflow! {
    DisposalState, DisposalAction, "样品处置", "disposal_state",
    initial: [Open],
    table: {
        Open, Retarget => Open;
        Open, Record => Done;
    },
    refusal: |state, _action| match state {
        DisposalState::Done => Some(RuleViolation::new("disposal_done", "该样品的处置已登记，不能再更改")),
        DisposalState::Open => None,
    }
}

/// What an issued report (or its correction, rule 15) does to the disposal of a portion, given
/// the disposal that exists for that portion already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisposalFollows {
    /// No disposal yet: open one.
    Open,
    /// An open one follows the new report: retarget it to the report and its conclusion.
    Retarget(crate::workflow::Transition<DisposalState>),
    /// It is done already: what happened to the portion stays as recorded.
    Leave,
}

/// Rule 19 with rule 15: a corrected report moves an open disposal to itself with its conclusion,
/// and leaves a done one alone.
pub fn follow_report(existing: Option<DisposalState>) -> DisposalFollows {
    match existing {
        None => DisposalFollows::Open,
        Some(s) => match crate::workflow::step(s, DisposalAction::Retarget) {
            Ok(t) => DisposalFollows::Retarget(t),
            Err(_) => DisposalFollows::Leave,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn rule19_table() {
        assert_eq!(required_disposal(false, true), RequiredDisposal::ReturnToEnterprise);
        assert_eq!(required_disposal(false, false), RequiredDisposal::HandOverToBureau);
        assert_eq!(required_disposal(true, false), RequiredDisposal::ProvincialRule);
        assert_eq!(required_disposal(true, true), RequiredDisposal::ProvincialRule);
        use DisposalMethod as M;
        use RequiredDisposal as R;
        assert!(check_method(R::ReturnToEnterprise, M::Returned).is_ok());
        assert_eq!(check_method(R::ReturnToEnterprise, M::Destroyed).unwrap_err().code, "rule19_must_return");
        assert!(check_method(R::HandOverToBureau, M::HandedOver).is_ok());
        assert_eq!(check_method(R::HandOverToBureau, M::Returned).unwrap_err().code, "rule19_must_hand_over");
        for m in M::ALL {
            assert!(check_method(R::ProvincialRule, m).is_ok());
        }
    }

    #[test]
    fn due_the_day_after_the_window_and_overdue_after_the_configured_days() {
        let received = d(2025, 10, 27); // window closes 2025-11-11
        assert_eq!(timing(None, false, 30, d(2026, 1, 1)), DisposalTiming::NotReceived);
        assert_eq!(timing(Some(received), false, 30, d(2025, 11, 11)), DisposalTiming::WindowOpen(d(2025, 11, 11)));
        assert_eq!(timing(Some(received), false, 30, d(2025, 11, 12)), DisposalTiming::Due(d(2025, 11, 12)));
        assert_eq!(timing(Some(received), true, 30, d(2025, 11, 12)), DisposalTiming::ObjectionOpen);
        assert_eq!(timing(Some(received), false, 30, d(2025, 12, 11)), DisposalTiming::Due(d(2025, 11, 12)));
        assert_eq!(timing(Some(received), false, 30, d(2025, 12, 12)), DisposalTiming::Overdue(d(2025, 12, 11)));
        assert_eq!(check_due(DisposalTiming::WindowOpen(d(2025, 11, 11))).unwrap_err().code, "rule19_window_open");
        // The SQL cut-offs agree with `timing`.
        assert_eq!(due_received_by(d(2025, 11, 12)), received);
        assert_eq!(overdue_received_by(d(2025, 12, 12), 30), received);
    }
}
