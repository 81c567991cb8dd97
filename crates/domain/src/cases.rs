//! Post-processing cases (后处理, DESIGN.md rule 20; Measures arts. 44–49): one case per
//! unqualified result or final refusal, run by the enterprise's local bureau. The time limits are a
//! versioned rule set (`CaseLimits`), data chosen per province or bureau; a case keeps the version it
//! was opened under.
//!
//! ```text
//! open ─stop order─► stop_ordered ─correction order─► correction_ordered ─rectification report─► report_submitted
//!                                                        │        └──────────────┬─────────────────────┘
//!                                                        │              复查 passed │ 复查 failed
//!                                                        │                         ▼            ▼
//!                                                        │                      closed ◄─── escalated (provincial announcement)
//!                                                        │                         ▲      second 复查 (60–90 days) failed
//!                                                        │                         │            ▼
//!                                                        │                         └─ sanction ─ sanctioning (停业整顿/吊销)
//! any open state ─close (re-test qualified, enterprise closed down…)─► closed
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::RuleViolation;
use crate::calendar::{TimeLimit, WorkCalendar};

/// The time limits of post-processing, one version of a rule set. `None` means the rule sets no
/// limit for that step (it is due at once and tracked without a date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseLimits {
    /// From the case's opening (the bureau's receipt of the notice) to the stop order.
    #[serde(default)]
    pub stop_order_within: Option<TimeLimit>,
    /// From the stop order to the correction order.
    #[serde(default)]
    pub correction_order_within: Option<TimeLimit>,
    /// From the correction order to the end of rectification.
    pub rectify_within: TimeLimit,
    /// From the correction order to the follow-up check (复查).
    #[serde(default)]
    pub follow_up_check_within: Option<TimeLimit>,
    /// From the escalation of a failed 复查: the second 复查 no earlier than …
    pub second_follow_up_check_after: TimeLimit,
    /// … and no later than.
    pub second_follow_up_check_within: TimeLimit,
}

impl CaseLimits {
    /// 《产品质量监督抽查管理暂行办法》(2019): 60 days to correct, 复查 within 75 days of the order,
    /// a second 复查 60–90 days after a failed one is announced.
    pub fn measures_2019() -> CaseLimits {
        CaseLimits {
            stop_order_within: None,
            correction_order_within: None,
            rectify_within: TimeLimit::CalendarDays(60),
            follow_up_check_within: Some(TimeLimit::CalendarDays(75)),
            second_follow_up_check_after: TimeLimit::CalendarDays(60),
            second_follow_up_check_within: TimeLimit::CalendarDays(90),
        }
    }

    /// The 2015 national rule still applied by some provinces: start within 5 working days, order
    /// within 5 working days, 30 days to rectify.
    pub fn rule_2015() -> CaseLimits {
        CaseLimits {
            stop_order_within: Some(TimeLimit::WorkingDays(5)),
            correction_order_within: Some(TimeLimit::WorkingDays(5)),
            rectify_within: TimeLimit::CalendarDays(30),
            follow_up_check_within: None,
            second_follow_up_check_after: TimeLimit::CalendarDays(60),
            second_follow_up_check_within: TimeLimit::CalendarDays(90),
        }
    }

    /// A rule set must be coherent: the second 复查's window must not end before it starts.
    pub fn validate(&self) -> Result<(), RuleViolation> {
        let days = |t: TimeLimit| match t {
            TimeLimit::CalendarDays(n) | TimeLimit::WorkingDays(n) => n,
        };
        if days(self.rectify_within) == 0 {
            return Err(RuleViolation::new("invalid_limits", "整改期限应大于0天").on_field("limits"));
        }
        if days(self.second_follow_up_check_within) < days(self.second_follow_up_check_after) {
            return Err(RuleViolation::new("invalid_limits", "再次复查的最迟期限不能早于最早期限").on_field("limits"));
        }
        Ok(())
    }
}

/// Why a case is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    /// 不合格: an unqualified issued report.
    Unqualified,
    /// 拒检: a final refusal.
    Refusal,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Unqualified => "unqualified",
            CaseKind::Refusal => "refusal",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            CaseKind::Unqualified => "抽查不合格",
            CaseKind::Refusal => "拒绝抽查",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Opened: the stop order is due.
    Open,
    /// Stop order issued: the correction order is due.
    StopOrdered,
    /// Correction ordered: the enterprise rectifies; the 复查 is due.
    CorrectionOrdered,
    /// The enterprise's rectification report is in: the 复查 is due.
    ReportSubmitted,
    /// The 复查 failed and went up for provincial announcement: the second 复查 is due 60–90 days after.
    Escalated,
    /// The second 复查 failed: suspension or licence revocation.
    Sanctioning,
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 7] = [
        CaseState::Open,
        CaseState::StopOrdered,
        CaseState::CorrectionOrdered,
        CaseState::ReportSubmitted,
        CaseState::Escalated,
        CaseState::Sanctioning,
        CaseState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::StopOrdered => "stop_ordered",
            CaseState::CorrectionOrdered => "correction_ordered",
            CaseState::ReportSubmitted => "report_submitted",
            CaseState::Escalated => "escalated",
            CaseState::Sanctioning => "sanctioning",
            CaseState::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseState::Open => "待责令停止生产销售",
            CaseState::StopOrdered => "待责令整改",
            CaseState::CorrectionOrdered => "整改中",
            CaseState::ReportSubmitted => "已提交整改报告，待复查",
            CaseState::Escalated => "复查不合格，已报省局公告，待再次复查",
            CaseState::Sanctioning => "再次复查不合格，待停业整顿/吊销许可证",
            CaseState::Closed => "已结案",
        }
    }

    /// The step the bureau owes in this state.
    pub fn next_step_label(self) -> &'static str {
        match self {
            CaseState::Open => "责令停止生产销售",
            CaseState::StopOrdered => "责令整改",
            CaseState::CorrectionOrdered | CaseState::ReportSubmitted => "复查",
            CaseState::Escalated => "再次复查",
            CaseState::Sanctioning => "停业整顿/吊销许可证",
            CaseState::Closed => "",
        }
    }
}

impl FromStr for CaseState {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| RuleViolation::new("invalid_state", format!("未知的后处理状态“{s}”")))
    }
}

/// A step of a case: one action of the bureau (or, for the report, the enterprise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    /// 责令停止生产销售.
    StopOrder,
    /// 责令整改, with its deadline.
    CorrectionOrder,
    /// 整改报告, uploaded by the enterprise.
    RectificationReport,
    /// 复查 passed.
    FollowUpCheckPassed,
    /// 复查 failed: escalated to the provincial bureau for announcement.
    FollowUpCheckFailed,
    /// Second 复查 passed.
    SecondFollowUpCheckPassed,
    /// Second 复查 failed.
    SecondFollowUpCheckFailed,
    /// 停业整顿 / 吊销许可证 decided.
    Sanction,
    /// Closed for another reason (re-test qualified, enterprise closed down…).
    Close,
}

impl CaseAction {
    pub const ALL: [CaseAction; 9] = [
        CaseAction::StopOrder,
        CaseAction::CorrectionOrder,
        CaseAction::RectificationReport,
        CaseAction::FollowUpCheckPassed,
        CaseAction::FollowUpCheckFailed,
        CaseAction::SecondFollowUpCheckPassed,
        CaseAction::SecondFollowUpCheckFailed,
        CaseAction::Sanction,
        CaseAction::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::StopOrder => "stop_order",
            CaseAction::CorrectionOrder => "correction_order",
            CaseAction::RectificationReport => "rectification_report",
            CaseAction::FollowUpCheckPassed => "follow_up_check_passed",
            CaseAction::FollowUpCheckFailed => "follow_up_check_failed",
            CaseAction::SecondFollowUpCheckPassed => "second_follow_up_check_passed",
            CaseAction::SecondFollowUpCheckFailed => "second_follow_up_check_failed",
            CaseAction::Sanction => "sanction",
            CaseAction::Close => "close",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseAction::StopOrder => "责令停止生产销售",
            CaseAction::CorrectionOrder => "责令整改",
            CaseAction::RectificationReport => "提交整改报告",
            CaseAction::FollowUpCheckPassed => "复查合格",
            CaseAction::FollowUpCheckFailed => "复查不合格（报省局公告）",
            CaseAction::SecondFollowUpCheckPassed => "再次复查合格",
            CaseAction::SecondFollowUpCheckFailed => "再次复查不合格",
            CaseAction::Sanction => "停业整顿/吊销许可证",
            CaseAction::Close => "结案",
        }
    }

    pub fn parse(s: &str) -> Option<CaseAction> {
        CaseAction::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }

    /// A 复查 step: a re-sampling and test, recorded with its result and report number (free to the
    /// enterprise, rule 21).
    pub fn is_follow_up_check(self) -> bool {
        matches!(
            self,
            CaseAction::FollowUpCheckPassed
                | CaseAction::FollowUpCheckFailed
                | CaseAction::SecondFollowUpCheckPassed
                | CaseAction::SecondFollowUpCheckFailed
        )
    }
}

/// The one transition function of a case: the new state, or the rule that refuses.
pub fn transition(state: CaseState, action: CaseAction) -> Result<CaseState, RuleViolation> {
    use CaseAction as A;
    use CaseState as S;
    let next = match (state, action) {
        (S::Open, A::StopOrder) => Some(S::StopOrdered),
        (S::StopOrdered, A::CorrectionOrder) => Some(S::CorrectionOrdered),
        (S::CorrectionOrdered, A::RectificationReport) => Some(S::ReportSubmitted),
        (S::CorrectionOrdered | S::ReportSubmitted, A::FollowUpCheckPassed) => Some(S::Closed),
        (S::CorrectionOrdered | S::ReportSubmitted, A::FollowUpCheckFailed) => Some(S::Escalated),
        (S::Escalated, A::SecondFollowUpCheckPassed) => Some(S::Closed),
        (S::Escalated, A::SecondFollowUpCheckFailed) => Some(S::Sanctioning),
        (S::Sanctioning, A::Sanction) => Some(S::Closed),
        (s, A::Close) if s != S::Closed => Some(S::Closed),
        _ => None,
    };
    next.ok_or_else(|| match (state, action) {
        (S::Closed, _) => RuleViolation::new("case_closed", "该后处理案件已结案"),
        (S::Open, A::CorrectionOrder) => {
            RuleViolation::new("rule20_stop_first", "应先责令企业立即停止生产、销售同一产品，再责令整改（规则20）")
        }
        (S::Open | S::StopOrdered, a) if a.is_follow_up_check() || a == A::RectificationReport => RuleViolation::new(
            "rule20_order_first",
            "应先责令整改并明确整改期限，企业整改后再提交整改报告、组织复查（规则20）",
        ),
        (_, A::SecondFollowUpCheckPassed | A::SecondFollowUpCheckFailed) => {
            RuleViolation::new("rule20_second_follow_up_check", "再次复查只在复查不合格并报省局公告之后进行（规则20）")
        }
        (_, A::Sanction) => {
            RuleViolation::new("rule20_sanction", "停业整顿、吊销许可证只在再次复查仍不合格之后作出（规则20）")
        }
        _ => RuleViolation::new("case_state", format!("案件当前为“{}”，不能执行“{}”", state.label(), action.label())),
    })
}

/// The deadlines of an open case, computed from its rule set and the dates of its steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseDeadlines {
    /// The stop order (when the rule set limits it).
    pub stop_order_due: Option<NaiveDate>,
    /// The correction order.
    pub correction_order_due: Option<NaiveDate>,
    /// The end of rectification (the enterprise's report is due by then).
    pub rectify_due: Option<NaiveDate>,
    /// The 复查.
    pub follow_up_check_due: Option<NaiveDate>,
    /// The second 复查: no earlier than …
    pub second_follow_up_check_from: Option<NaiveDate>,
    /// … and no later than.
    pub second_follow_up_check_due: Option<NaiveDate>,
}

/// The dates a case's deadlines run from.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseDates {
    pub opened_on: Option<NaiveDate>,
    pub stop_ordered_on: Option<NaiveDate>,
    pub correction_ordered_on: Option<NaiveDate>,
    pub escalated_on: Option<NaiveDate>,
}

pub fn deadlines(limits: &CaseLimits, cal: &WorkCalendar, d: CaseDates) -> CaseDeadlines {
    let after = |start: Option<NaiveDate>, limit: Option<TimeLimit>| match (start, limit) {
        (Some(s), Some(l)) => Some(cal.deadline(s, l)),
        _ => None,
    };
    CaseDeadlines {
        stop_order_due: after(d.opened_on, limits.stop_order_within),
        correction_order_due: after(d.stop_ordered_on, limits.correction_order_within),
        rectify_due: after(d.correction_ordered_on, Some(limits.rectify_within)),
        follow_up_check_due: after(d.correction_ordered_on, limits.follow_up_check_within),
        second_follow_up_check_from: after(d.escalated_on, Some(limits.second_follow_up_check_after)),
        second_follow_up_check_due: after(d.escalated_on, Some(limits.second_follow_up_check_within)),
    }
}

/// The deadline of the step the bureau owes in `state` (what "overdue" is measured against). With no
/// 复查 limit in the rule set, the 复查 is due when rectification ends.
pub fn bureau_due(state: CaseState, dl: &CaseDeadlines) -> Option<NaiveDate> {
    match state {
        CaseState::Open => dl.stop_order_due,
        CaseState::StopOrdered => dl.correction_order_due,
        CaseState::CorrectionOrdered | CaseState::ReportSubmitted => dl.follow_up_check_due.or(dl.rectify_due),
        CaseState::Escalated => dl.second_follow_up_check_due,
        CaseState::Sanctioning | CaseState::Closed => None,
    }
}

/// A second 复查 outside 60–90 days (per the rule set) after the escalation is refused.
pub fn check_second_follow_up_check_window(dl: &CaseDeadlines, on: NaiveDate) -> Result<(), RuleViolation> {
    if let Some(from) = dl.second_follow_up_check_from
        && on < from
    {
        return Err(RuleViolation::new(
            "rule20_second_follow_up_check_early",
            format!("再次复查应在复查不合格公告后规定期限内进行，最早于{from}（规则20）"),
        )
        .on_field("happened_on"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::calendar::WorkCalendar;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn transition_table() {
        use CaseAction as A;
        use CaseState as S;
        let allowed = [
            (S::Open, A::StopOrder, S::StopOrdered),
            (S::StopOrdered, A::CorrectionOrder, S::CorrectionOrdered),
            (S::CorrectionOrdered, A::RectificationReport, S::ReportSubmitted),
            (S::CorrectionOrdered, A::FollowUpCheckPassed, S::Closed),
            (S::ReportSubmitted, A::FollowUpCheckPassed, S::Closed),
            (S::CorrectionOrdered, A::FollowUpCheckFailed, S::Escalated),
            (S::ReportSubmitted, A::FollowUpCheckFailed, S::Escalated),
            (S::Escalated, A::SecondFollowUpCheckPassed, S::Closed),
            (S::Escalated, A::SecondFollowUpCheckFailed, S::Sanctioning),
            (S::Sanctioning, A::Sanction, S::Closed),
        ];
        for from in CaseState::ALL {
            for a in CaseAction::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, x, _)| *f == from && *x == a)
                    .map(|(_, _, to)| *to)
                    .or((a == A::Close && from != S::Closed).then_some(S::Closed));
                assert_eq!(transition(from, a).ok(), expected, "{from:?} {a:?}");
            }
        }
        assert_eq!(transition(S::Open, A::CorrectionOrder).unwrap_err().code, "rule20_stop_first");
        assert_eq!(transition(S::StopOrdered, A::FollowUpCheckPassed).unwrap_err().code, "rule20_order_first");
        assert_eq!(
            transition(S::ReportSubmitted, A::SecondFollowUpCheckFailed).unwrap_err().code,
            "rule20_second_follow_up_check"
        );
        assert_eq!(transition(S::Escalated, A::Sanction).unwrap_err().code, "rule20_sanction");
        assert_eq!(transition(S::Closed, A::Close).unwrap_err().code, "case_closed");
    }

    #[test]
    fn the_2019_measures_give_60_days_to_correct_and_75_to_follow_up_check() {
        let cal = WorkCalendar::official();
        let l = CaseLimits::measures_2019();
        let dates = CaseDates {
            opened_on: Some(d(2025, 11, 3)),
            stop_ordered_on: Some(d(2025, 11, 3)),
            correction_ordered_on: Some(d(2025, 11, 4)),
            escalated_on: None,
        };
        let dl = deadlines(&l, &cal, dates);
        assert_eq!(dl.stop_order_due, None);
        assert_eq!(dl.rectify_due, Some(d(2026, 1, 3)));
        assert_eq!(dl.follow_up_check_due, Some(d(2026, 1, 18)));
        assert_eq!(bureau_due(CaseState::ReportSubmitted, &dl), Some(d(2026, 1, 18)));
        let dl = deadlines(&l, &cal, CaseDates { escalated_on: Some(d(2026, 2, 1)), ..dates });
        assert_eq!(
            (dl.second_follow_up_check_from, dl.second_follow_up_check_due),
            (Some(d(2026, 4, 2)), Some(d(2026, 5, 2)))
        );
        assert_eq!(
            check_second_follow_up_check_window(&dl, d(2026, 4, 1)).unwrap_err().code,
            "rule20_second_follow_up_check_early"
        );
        assert!(check_second_follow_up_check_window(&dl, d(2026, 4, 2)).is_ok());
    }

    #[test]
    fn the_2015_rule_counts_working_days_across_national_day() {
        let cal = WorkCalendar::official();
        let l = CaseLimits::rule_2015();
        // Opened Tuesday 2025-09-30: 10-01..10-08 are holidays, 10-11 (Saturday) a make-up workday.
        let dl = deadlines(&l, &cal, CaseDates { opened_on: Some(d(2025, 9, 30)), ..Default::default() });
        assert_eq!(dl.stop_order_due, Some(d(2025, 10, 14)));
        assert_eq!(bureau_due(CaseState::Open, &dl), Some(d(2025, 10, 14)));
        let dl = deadlines(
            &l,
            &cal,
            CaseDates {
                stop_ordered_on: Some(d(2025, 10, 13)),
                correction_ordered_on: Some(d(2025, 10, 14)),
                ..Default::default()
            },
        );
        assert_eq!(dl.correction_order_due, Some(d(2025, 10, 20)));
        assert_eq!(dl.rectify_due, Some(d(2025, 11, 13)));
        // No 复查 limit in 2015: due when rectification ends.
        assert_eq!(bureau_due(CaseState::CorrectionOrdered, &dl), Some(d(2025, 11, 13)));
        assert!(l.validate().is_ok() && CaseLimits::measures_2019().validate().is_ok());
    }
}
