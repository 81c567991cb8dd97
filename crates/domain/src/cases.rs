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

crate::stored_enum! {
    /// Why a case is open.
    pub enum CaseKind: "案件类型" {
        /// 不合格: an unqualified issued report.
        Unqualified = "unqualified", "抽查不合格";
        /// 拒检: a final refusal.
        Refusal = "refusal", "拒绝抽查";
    }
}

crate::stored_enum! {
    pub enum CaseState: "后处理状态" {
        /// Opened: the stop order is due.
        Open = "open", "待责令停止生产销售";
        /// Stop order issued: the correction order is due.
        StopOrdered = "stop_ordered", "待责令整改";
        /// Correction ordered: the enterprise rectifies; the 复查 is due.
        CorrectionOrdered = "correction_ordered", "整改中";
        /// The enterprise's rectification report is in: the 复查 is due.
        ReportSubmitted = "report_submitted", "已提交整改报告，待复查";
        /// The 复查 failed and went up for provincial announcement: the second 复查 is due 60–90 days after.
        Escalated = "escalated", "复查不合格，已报省局公告，待再次复查";
        /// The second 复查 failed: suspension or licence revocation.
        Sanctioning = "sanctioning", "再次复查不合格，待停业整顿/吊销许可证";
        Closed = "closed", "已结案";
    }
}

impl CaseState {
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

crate::stored_enum! {
    /// A step of a case: one action of the bureau (or, for the report, the enterprise).
    pub enum CaseAction: "后处理步骤" {
        /// 责令停止生产销售.
        StopOrder = "stop_order", "责令停止生产销售";
        /// 责令整改, with its deadline.
        CorrectionOrder = "correction_order", "责令整改";
        /// 整改报告, uploaded by the enterprise.
        RectificationReport = "rectification_report", "提交整改报告";
        /// 复查 passed.
        FollowUpCheckPassed = "follow_up_check_passed", "复查合格";
        /// 复查 failed: escalated to the provincial bureau for announcement.
        FollowUpCheckFailed = "follow_up_check_failed", "复查不合格（报省局公告）";
        /// Second 复查 passed.
        SecondFollowUpCheckPassed = "second_follow_up_check_passed", "再次复查合格";
        /// Second 复查 failed.
        SecondFollowUpCheckFailed = "second_follow_up_check_failed", "再次复查不合格";
        /// 停业整顿 / 吊销许可证 decided.
        Sanction = "sanction", "停业整顿/吊销许可证";
        /// Closed for another reason (re-test qualified, enterprise closed down…).
        Close = "close", "结案";
    }
}

impl CaseAction {
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
    crate::workflow::next(state, action)
}

crate::workflow! {
    CaseState, CaseAction, "案件", "case_state",
    initial: [Open],
    table: {
        Open, StopOrder => StopOrdered;
        StopOrdered, CorrectionOrder => CorrectionOrdered;
        CorrectionOrdered, RectificationReport => ReportSubmitted;
        CorrectionOrdered, FollowUpCheckPassed => Closed;
        ReportSubmitted, FollowUpCheckPassed => Closed;
        CorrectionOrdered, FollowUpCheckFailed => Escalated;
        ReportSubmitted, FollowUpCheckFailed => Escalated;
        Escalated, SecondFollowUpCheckPassed => Closed;
        Escalated, SecondFollowUpCheckFailed => Sanctioning;
        Sanctioning, Sanction => Closed;
        Open, Close => Closed;
        StopOrdered, Close => Closed;
        CorrectionOrdered, Close => Closed;
        ReportSubmitted, Close => Closed;
        Escalated, Close => Closed;
        Sanctioning, Close => Closed;
    },
    refusal: |state, action| {
        use CaseAction as A;
        use CaseState as S;
        Some(match (state, action) {
            (S::Closed, _) => RuleViolation::new("case_closed", "该后处理案件已结案"),
            (S::Open, A::CorrectionOrder) => {
                RuleViolation::new("rule20_stop_first", "应先责令企业立即停止生产、销售同一产品，再责令整改（规则20）")
            }
            (S::Open | S::StopOrdered, a) if a.is_follow_up_check() || a == A::RectificationReport => RuleViolation::new(
                "rule20_order_first",
                "应先责令整改并明确整改期限，企业整改后再提交整改报告、组织复查（规则20）",
            ),
            (_, A::SecondFollowUpCheckPassed | A::SecondFollowUpCheckFailed) => RuleViolation::new(
                "rule20_second_follow_up_check",
                "再次复查只在复查不合格并报省局公告之后进行（规则20）",
            ),
            (_, A::Sanction) => {
                RuleViolation::new("rule20_sanction", "停业整顿、吊销许可证只在再次复查仍不合格之后作出（规则20）")
            }
            _ => RuleViolation::new("case_state", format!("案件当前为“{}”，不能执行“{}”", state.label(), action.label())),
        })
    }
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
