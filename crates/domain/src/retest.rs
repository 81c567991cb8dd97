//! Re-tests (复检, rule 18) and sample confirmation (后置样品确认, rule 23).
//!
//! A re-test runs on the sealed backup portion at an institution other than the first where
//! possible; its seal is photographed and checked before anything else; only the items objected to
//! are tested; its report is prepared, reviewed and approved by three people (rule 15) and its
//! conclusion is final. The applicant pays in advance and bears the cost when the re-test agrees
//! with the first result, the organising bureau when it differs.
//!
//! Sample confirmation: after testing, the testing institution sends the result and the report to
//! the nominal producer, who confirms (or denies) within a configured period that the sample is its
//! product. A denial is investigated by the organising bureau before the result is final for that
//! producer; no answer by the deadline is recorded as such.

use chrono::NaiveDate;

use crate::RuleViolation;
use crate::calendar::{TimeLimit, WorkCalendar};
use crate::implementation_rules::ItemJudgement;

crate::stored_enum! {
    /// Where a re-test stands.
    pub enum RetestState: "复检状态" {
        /// Arranged by the bureau; the backup portion is on its way to the re-test institution.
        Assigned = "assigned", "已安排，待接收备用样品";
        /// The backup arrived with its seal intact (photographed): testing the objected items.
        Testing = "testing", "复检中";
        /// The seal was found broken or not matching: the re-test can't go on (reported to the bureau).
        SealBroken = "seal_broken", "备用样品封条异常，复检中止";
        /// All objected items have results; the report is to be prepared.
        Tested = "tested", "已完成检验，待编制复检报告";
        Prepared = "prepared", "复检报告已编制，待审核";
        Reviewed = "reviewed", "复检报告已审核，待批准";
        /// The re-test report is approved: its conclusion is final.
        Concluded = "concluded", "复检结论已出具";
    }
}

crate::stored_enum! {
    /// What happens to a re-test.
    pub enum RetestAction: "复检操作" {
        /// The backup portion received with its seal checked and intact.
        ReceiveIntact = "receive_intact", "接收备用样品（封条完好）";
        /// The backup portion received with its seal broken or not matching.
        ReceiveSealBroken = "receive_seal_broken", "接收备用样品（封条异常）";
        /// The objected items' results entered.
        EnterResults = "enter_results", "录入复检结果";
        Prepare = "prepare", "编制复检报告";
        Review = "review", "审核复检报告";
        Approve = "approve", "批准复检报告";
    }
}

impl RetestAction {
    /// The receipt of the backup portion, by the state of its seal.
    pub fn receive(seal_intact: bool) -> RetestAction {
        if seal_intact { RetestAction::ReceiveIntact } else { RetestAction::ReceiveSealBroken }
    }
}

crate::workflow! {
    RetestState, RetestAction, "复检", "retest_state",
    initial: [Assigned],
    table: {
        Assigned, ReceiveIntact => Testing;
        Assigned, ReceiveSealBroken => SealBroken;
        Testing, EnterResults => Tested;
        Tested, EnterResults => Tested;
        Tested, Prepare => Prepared;
        Prepared, Review => Reviewed;
        Reviewed, Approve => Concluded;
    },
    refusal: |state, _action| {
        use RetestState as S;
        match state {
            S::Assigned => Some(RuleViolation::new(
                "rule18_seal_unchecked",
                "复检须先接收备用样品并拍照核查封条，才能检验（规则18）",
            )),
            S::SealBroken => Some(RuleViolation::new("rule18_seal_broken", "备用样品封条异常，不能用于复检（规则18）")),
            S::Concluded => Some(RuleViolation::new("rule18_final", "复检结论已出具，为最终结论，不能再更改（规则18）")),
            _ => Some(RuleViolation::new("retest_state", format!("复检当前为“{}”，不能执行此操作", state.label()))),
        }
    }
}

/// The one transition function of a re-test.
pub fn retest_transition(state: RetestState, action: RetestAction) -> Result<RetestState, RuleViolation> {
    crate::workflow::next(state, action)
}

/// A re-test is arranged on an accepted request only, once.
pub fn check_arrangeable(
    request: crate::results::ObjectionState,
    existing: Option<RetestState>,
) -> Result<(), RuleViolation> {
    if request != crate::results::ObjectionState::Accepted {
        return Err(RuleViolation::new("objection_state", "只有已受理的异议或复检申请才能安排复检"));
    }
    if existing.is_some() {
        return Err(RuleViolation::new("retest_exists", "该申请已安排复检"));
    }
    Ok(())
}

/// The bureau may close a request with a written answer only when no re-test of it is under way or
/// concluded (its conclusion is final); one stopped at a broken seal leaves the request to the bureau.
pub fn check_closable_without_retest(existing: Option<RetestState>) -> Result<(), RuleViolation> {
    match existing {
        None | Some(RetestState::SealBroken) => Ok(()),
        Some(_) => Err(RuleViolation::new(
            "retest_in_progress",
            "该申请的复检正在进行，复检结论为最终结论，不能另行办结（规则18）",
        )),
    }
}

/// Rule 18: the re-test goes to an institution other than the first where possible. Choosing the
/// first while another testing institution exists needs a stated reason.
pub fn check_retest_institution(
    first_org: i64,
    chosen_org: i64,
    another_available: bool,
    reason: &str,
) -> Result<(), RuleViolation> {
    if chosen_org == first_org && another_available && reason.trim().is_empty() {
        return Err(RuleViolation::new(
            "rule18_same_institution",
            "复检应由原检验机构以外的检验机构承担；确需由原机构承担的，请说明理由（规则18）",
        )
        .on_field("same_institution_reason"));
    }
    Ok(())
}

/// Rule 18: the applicant pays the re-test fee in advance. Parses the amount paid, in yuan (up to
/// two decimals), into fen; it must be more than zero.
pub fn parse_fee_advance(amount: &str) -> Result<i64, RuleViolation> {
    match crate::money::parse_yuan(amount) {
        Some(fen) if fen > 0 => Ok(fen),
        _ => Err(RuleViolation::new(
            "rule18_fee_advance",
            "复检费用由申请人预先支付：请填写已预付的金额（元，最多两位小数）（规则18）",
        )
        .on_field("fee_advance")),
    }
}

crate::stored_enum! {
    /// Who bears the re-test's cost.
    pub enum FeePayer: "复检费用承担方" {
        /// The re-test agrees with the first result.
        Applicant = "applicant", "复检结论与原结论一致，复检费用由申请人承担";
        /// The re-test differs: the organising bureau bears it (the advance is refunded).
        Bureau = "bureau", "复检结论与原结论不一致，复检费用由组织监督抽查的部门承担";
    }
}

/// The final result after a re-test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetestOutcome {
    /// The final conclusion: no failing item among the re-tested items and the items not objected to.
    pub qualified: bool,
    pub failing_items: Vec<String>,
    /// Every re-tested item has the judgement the first test gave it.
    pub agrees: bool,
    pub fee_payer: FeePayer,
    /// As printed on the re-test report.
    pub text: String,
}

/// The outcome of a re-test: `first` are the first report's item judgements, `retest` the re-tested
/// (objected) items' judgements. Items not re-tested keep their first judgement.
pub fn retest_outcome(first: &[(String, ItemJudgement)], retest: &[(String, ItemJudgement)]) -> RetestOutcome {
    let agrees = retest.iter().all(|(name, j)| first.iter().any(|(n, fj)| n == name && fj == j));
    let failing: Vec<String> = first
        .iter()
        .map(|(name, j)| retest.iter().find(|(n, _)| n == name).map_or((name, *j), |(n, rj)| (n, *rj)))
        .filter(|(_, j)| *j == ItemJudgement::NonConforming)
        .map(|(n, _)| n.clone())
        .collect();
    let qualified = failing.is_empty();
    let tested: Vec<&str> = retest.iter().map(|(n, _)| n.as_str()).collect();
    let text = if qualified {
        format!("经复检，{}项目符合要求，复检结论为合格。本结论为最终结论。", tested.join("、"))
    } else {
        format!("经复检，{}项目不符合要求，复检结论为不合格。本结论为最终结论。", failing.join("、"))
    };
    RetestOutcome {
        qualified,
        failing_items: failing,
        agrees,
        fee_payer: if agrees { FeePayer::Applicant } else { FeePayer::Bureau },
        text,
    }
}

crate::stored_enum! {
    /// Where a sample confirmation stands (rule 23).
    pub enum ConfirmationState: "样品确认状态" {
        /// Sent to the nominal producer, waiting for its answer.
        Awaiting = "awaiting", "待标称生产者确认";
        /// The producer confirmed the sample is its product.
        Confirmed = "confirmed", "标称生产者已确认";
        /// The producer denied it: the bureau investigates.
        Denied = "denied", "标称生产者否认，待调查核实";
        /// No answer by the deadline (recorded as such).
        Lapsed = "lapsed", "期限内未答复";
        /// The denial was investigated: the finding is recorded.
        Investigated = "investigated", "已调查核实";
    }
}

impl ConfirmationState {
    /// The result is final for the producer unless it is still awaited or a denial is being
    /// investigated.
    pub fn is_final_for_producer(self) -> bool {
        !matches!(self, ConfirmationState::Awaiting | ConfirmationState::Denied)
    }
}

crate::stored_enum! {
    /// What happens to a sample confirmation.
    pub enum ConfirmationAction: "样品确认操作" {
        Confirm = "confirm", "确认";
        Deny = "deny", "否认";
        /// The deadline passed without an answer.
        Lapse = "lapse", "记为未答复";
        /// The bureau records its investigation's finding.
        Investigate = "investigate", "记录调查核实结果";
    }
}

crate::workflow! {
    ConfirmationState, ConfirmationAction, "样品确认", "confirmation_answered",
    initial: [Awaiting],
    table: {
        Awaiting, Confirm => Confirmed;
        Awaiting, Deny => Denied;
        Awaiting, Lapse => Lapsed;
        Denied, Investigate => Investigated;
    },
    refusal: |state, action| {
        match action {
            ConfirmationAction::Investigate => Some(RuleViolation::new(
                "rule23_nothing_to_investigate",
                "只有标称生产者否认的样品确认需要调查核实（规则23）",
            )),
            _ => Some(RuleViolation::new(
                "confirmation_answered",
                format!("样品确认当前为“{}”，不能再答复", state.label()),
            )),
        }
    }
}

/// The transition of a sample confirmation; `today` against the deadline decides whether the
/// producer may still answer, and whether it may be recorded as lapsed.
pub fn confirmation_step(
    state: ConfirmationState,
    action: ConfirmationAction,
    due_on: NaiveDate,
    today: NaiveDate,
) -> Result<crate::workflow::Transition<ConfirmationState>, RuleViolation> {
    use ConfirmationAction as A;
    use ConfirmationState as S;
    match (state, action) {
        (S::Awaiting, A::Confirm | A::Deny) if today > due_on => Err(RuleViolation::new(
            "rule23_confirmation_expired",
            format!("样品确认期限已于{due_on}届满，未答复已记录（规则23）"),
        )),
        (S::Awaiting, A::Lapse) if today <= due_on => {
            Err(RuleViolation::new("rule23_not_due", format!("样品确认期限至{due_on}，尚未届满（规则23）")))
        }
        _ => crate::workflow::step(state, action),
    }
}

/// [`confirmation_step`]'s new state.
pub fn confirmation_transition(
    state: ConfirmationState,
    action: ConfirmationAction,
    due_on: NaiveDate,
    today: NaiveDate,
) -> Result<ConfirmationState, RuleViolation> {
    confirmation_step(state, action, due_on, today).map(|t| t.to())
}

/// The configured period of a sample confirmation, from the day it was sent.
pub fn confirmation_due(cal: &WorkCalendar, sent_on: NaiveDate, days: u32, working_days: bool) -> NaiveDate {
    let limit = if working_days { TimeLimit::WorkingDays(days) } else { TimeLimit::CalendarDays(days) };
    cal.deadline(sent_on, limit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ItemJudgement::{Conforming as C, NonConforming as N};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn retest_transitions_follow_the_table() {
        use RetestAction as A;
        use RetestState as S;
        let actions = [A::ReceiveIntact, A::ReceiveSealBroken, A::EnterResults, A::Prepare, A::Review, A::Approve];
        for from in S::ALL {
            for action in actions {
                let expected = match (from, action) {
                    (S::Assigned, A::ReceiveIntact) => Some(S::Testing),
                    (S::Assigned, A::ReceiveSealBroken) => Some(S::SealBroken),
                    (S::Testing | S::Tested, A::EnterResults) => Some(S::Tested),
                    (S::Tested, A::Prepare) => Some(S::Prepared),
                    (S::Prepared, A::Review) => Some(S::Reviewed),
                    (S::Reviewed, A::Approve) => Some(S::Concluded),
                    _ => None,
                };
                assert_eq!(retest_transition(from, action).ok(), expected, "{from:?} {action:?}");
            }
            assert_eq!(S::parse(from.as_str()), Some(from));
        }
        assert_eq!(retest_transition(S::Assigned, A::EnterResults).unwrap_err().code, "rule18_seal_unchecked");
        assert_eq!(retest_transition(S::SealBroken, A::EnterResults).unwrap_err().code, "rule18_seal_broken");
        assert_eq!(retest_transition(S::Concluded, A::EnterResults).unwrap_err().code, "rule18_final");
    }

    #[test]
    fn a_retest_is_arranged_once_on_an_accepted_request_and_is_not_overridden() {
        use crate::results::ObjectionState as O;
        assert!(check_arrangeable(O::Accepted, None).is_ok());
        assert_eq!(check_arrangeable(O::Pending, None).unwrap_err().code, "objection_state");
        assert_eq!(check_arrangeable(O::Accepted, Some(RetestState::Assigned)).unwrap_err().code, "retest_exists");
        assert!(check_closable_without_retest(None).is_ok());
        assert!(check_closable_without_retest(Some(RetestState::SealBroken)).is_ok());
        for st in [RetestState::Assigned, RetestState::Testing, RetestState::Concluded] {
            assert_eq!(check_closable_without_retest(Some(st)).unwrap_err().code, "retest_in_progress");
        }
    }

    #[test]
    fn the_first_institution_needs_a_reason_only_when_another_exists() {
        assert_eq!(check_retest_institution(1, 1, true, " ").unwrap_err().code, "rule18_same_institution");
        assert!(check_retest_institution(1, 1, true, "仅该机构具备该项目资质").is_ok());
        assert!(check_retest_institution(1, 1, false, "").is_ok());
        assert!(check_retest_institution(1, 2, true, "").is_ok());
    }

    #[test]
    fn the_fee_advance_is_a_positive_amount_in_yuan() {
        assert_eq!(parse_fee_advance("1200"), Ok(120000));
        assert_eq!(parse_fee_advance(" 1200.5 "), Ok(120050));
        assert_eq!(parse_fee_advance("0.01"), Ok(1));
        assert_eq!(parse_fee_advance("1,200"), Ok(120000));
        for bad in ["", "0", "0.00", "-5", "12.345", "abc", ".5"] {
            assert_eq!(parse_fee_advance(bad).unwrap_err().code, "rule18_fee_advance", "{bad:?}");
        }
    }

    #[test]
    fn a_retest_that_differs_replaces_the_conclusion_and_the_bureau_pays() {
        let first = vec![("硫含量".to_string(), N), ("十六烷值".to_string(), C)];
        let o = retest_outcome(&first, &[("硫含量".into(), C)]);
        assert!(o.qualified && !o.agrees);
        assert_eq!(o.fee_payer, FeePayer::Bureau);
        assert!(o.text.contains("合格") && o.text.contains("最终结论"), "{}", o.text);
        // Agrees: the applicant pays; still unqualified.
        let o = retest_outcome(&first, &[("硫含量".into(), N)]);
        assert!(!o.qualified && o.agrees);
        assert_eq!((o.fee_payer, o.failing_items), (FeePayer::Applicant, vec!["硫含量".to_string()]));
        // An item failing at first and not objected to stays failing.
        let first = vec![("硫含量".to_string(), N), ("闪点".to_string(), N)];
        let o = retest_outcome(&first, &[("硫含量".into(), C)]);
        assert!(!o.qualified && !o.agrees);
        assert_eq!(o.failing_items, ["闪点"]);
    }

    #[test]
    fn confirmation_transitions_respect_the_deadline() {
        use ConfirmationAction as A;
        use ConfirmationState as S;
        let due = d(2025, 11, 7);
        let (before, after) = (d(2025, 11, 7), d(2025, 11, 8));
        assert_eq!(confirmation_transition(S::Awaiting, A::Confirm, due, before), Ok(S::Confirmed));
        assert_eq!(confirmation_transition(S::Awaiting, A::Deny, due, before), Ok(S::Denied));
        assert_eq!(
            confirmation_transition(S::Awaiting, A::Deny, due, after).unwrap_err().code,
            "rule23_confirmation_expired"
        );
        assert_eq!(confirmation_transition(S::Awaiting, A::Lapse, due, before).unwrap_err().code, "rule23_not_due");
        assert_eq!(confirmation_transition(S::Awaiting, A::Lapse, due, after), Ok(S::Lapsed));
        assert_eq!(confirmation_transition(S::Denied, A::Investigate, due, after), Ok(S::Investigated));
        assert_eq!(
            confirmation_transition(S::Confirmed, A::Investigate, due, after).unwrap_err().code,
            "rule23_nothing_to_investigate"
        );
        assert_eq!(
            confirmation_transition(S::Confirmed, A::Deny, due, before).unwrap_err().code,
            "confirmation_answered"
        );
        assert!(!S::Denied.is_final_for_producer() && !S::Awaiting.is_final_for_producer());
        assert!(S::Confirmed.is_final_for_producer() && S::Lapsed.is_final_for_producer());
        for st in S::ALL {
            assert_eq!(S::parse(st.as_str()), Some(st));
        }
    }

    #[test]
    fn the_confirmation_period_counts_working_days_across_a_holiday() {
        let cal = WorkCalendar::official();
        // Sent on Tuesday 2025-09-30: the National Day holiday (10-01..10-08) doesn't count;
        // 10-11 is a make-up workday.
        assert_eq!(confirmation_due(&cal, d(2025, 9, 30), 5, true), d(2025, 10, 14));
        assert_eq!(confirmation_due(&cal, d(2025, 9, 30), 5, false), d(2025, 10, 5));
    }
}
