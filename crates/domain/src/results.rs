//! Delivery of results (送达, rule 17): who must receive what once a report is issued, by when
//! (rule 16: unqualified reports reach the organising bureau within 7 days; everything else by the
//! plan's delivery date), and what a recorded delivery must say (in person with the receiver's
//! signature, or by EMS with its tracking number and dates).

use chrono::NaiveDate;

use crate::RuleViolation;
use crate::calendar::add_calendar_days;

crate::stored_enum! {
    /// Who receives results.
    pub enum Recipient: "送达对象" {
        /// 被抽样单位.
        Enterprise = "enterprise", "被抽样单位";
        /// 标称生产者 of a sample taken from a seller.
        Producer = "producer", "标称生产者";
        /// The enterprise's county bureau.
        LocalBureau = "local_bureau", "被抽样单位所在地市场监管部门";
        /// 组织监督抽查的部门.
        OrganisingBureau = "organising_bureau", "组织监督抽查的部门";
    }
}

crate::stored_enum! {
    /// A document that goes with a delivery.
    pub enum DeliveredDocument: "送达文书" {
        /// 检验结果告知书.
        ResultNotice = "result_notice", "检验结果告知书";
        /// 检验报告.
        Report = "report", "检验报告";
        /// 产品质量改进建议书.
        ImprovementLetter = "improvement_letter", "产品质量改进建议书";
        /// 抽样单.
        SamplingRecord = "sampling_record", "抽样单";
    }
}

/// One delivery a report requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredDelivery {
    pub recipient: Recipient,
    pub documents: Vec<DeliveredDocument>,
    pub copies: u32,
}

/// Rule 17. Qualified: the enterprise (result notice and report) and its local bureau (report).
/// Unqualified: the enterprise, and the nominal producer when the sample was taken from a seller,
/// each with the result notice, the report, the improvement letter and the sampling record; the
/// organising bureau with 3 copies of the report.
pub fn required_deliveries(qualified: bool, producer_elsewhere: bool) -> Vec<RequiredDelivery> {
    use DeliveredDocument as D;
    let one = |recipient, documents: &[DeliveredDocument], copies| RequiredDelivery {
        recipient,
        documents: documents.to_vec(),
        copies,
    };
    if qualified {
        return vec![
            one(Recipient::Enterprise, &[D::ResultNotice, D::Report], 1),
            one(Recipient::LocalBureau, &[D::Report], 1),
        ];
    }
    let full = [D::ResultNotice, D::Report, D::ImprovementLetter, D::SamplingRecord];
    let mut out = vec![one(Recipient::Enterprise, &full, 1)];
    if producer_elsewhere {
        out.push(one(Recipient::Producer, &full, 1));
    }
    out.push(one(Recipient::OrganisingBureau, &[D::Report], 3));
    out
}

/// Unqualified reports reach the organising bureau within 7 days of issue (rule 16).
pub const ORGANISING_BUREAU_DAYS: u32 = 7;

/// When a delivery is due: 7 days after issue for the organising bureau, the plan's delivery date
/// for everyone else (none when the plan sets none).
pub fn delivery_due(recipient: Recipient, issued_on: NaiveDate, plan_deadline: Option<NaiveDate>) -> Option<NaiveDate> {
    match recipient {
        Recipient::OrganisingBureau => Some(add_calendar_days(issued_on, ORGANISING_BUREAU_DAYS)),
        _ => plan_deadline,
    }
}

crate::stored_enum! {
    /// How a delivery was made.
    pub enum DeliveryMethod: "送达方式" {
        /// 直接送达, signed for by the receiver.
        InPerson = "in_person", "直接送达";
        /// 邮寄 (EMS), with its tracking number.
        Ems = "ems", "EMS邮寄";
    }
}

/// What a recorded delivery says.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFacts<'a> {
    pub method: &'a str,
    pub tracking_no: &'a str,
    pub sent_on: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    pub receiver_name: &'a str,
    pub has_signature: bool,
}

/// Checks a delivery against its method; `issued_on` is the report's issue date, `today` China's date.
/// In person: handed over on a date (sent = received) to a named receiver who signs. EMS: a
/// tracking number and the date sent; the date received when it is known (the objection window of
/// rule 18 runs from it).
pub fn check_delivery(
    f: &DeliveryFacts<'_>,
    issued_on: NaiveDate,
    today: NaiveDate,
) -> Result<DeliveryMethod, Vec<RuleViolation>> {
    let mut errs = Vec::new();
    let Some(method) = DeliveryMethod::parse(f.method) else {
        return Err(vec![
            RuleViolation::new("invalid_method", "送达方式应为直接送达（in_person）或EMS邮寄（ems）")
                .on_field("method"),
        ]);
    };
    let required = |field: &'static str, msg: &str| RuleViolation::new("required", msg).on_field(field);
    match method {
        DeliveryMethod::InPerson => {
            if f.received_on.is_none() {
                errs.push(required("received_on", "请填写送达日期"));
            }
            if f.receiver_name.trim().is_empty() {
                errs.push(required("receiver_name", "请填写签收人姓名"));
            }
            if !f.has_signature {
                errs.push(required("receiver_signature_png_base64", "直接送达须由签收人签字"));
            }
        }
        DeliveryMethod::Ems => {
            if f.tracking_no.trim().is_empty() {
                errs.push(required("tracking_no", "EMS邮寄须填写邮件号"));
            }
            if f.sent_on.is_none() {
                errs.push(required("sent_on", "请填写寄出日期"));
            }
        }
    }
    for (field, date) in [("sent_on", f.sent_on), ("received_on", f.received_on)] {
        if let Some(d) = date {
            if d > today {
                errs.push(RuleViolation::new("future_date", "日期不能晚于今天").on_field(field));
            } else if d < issued_on {
                errs.push(RuleViolation::new("before_issue", "日期不能早于报告签发日期").on_field(field));
            }
        }
    }
    if let (Some(sent), Some(received)) = (f.sent_on, f.received_on)
        && received < sent
    {
        errs.push(RuleViolation::new("received_before_sent", "签收日期不能早于寄出日期").on_field("received_on"));
    }
    if errs.is_empty() { Ok(method) } else { Err(errs) }
}

/// Days to object or ask for a re-test after receiving the result (产品质量法 art. 15, rule 18).
pub const OBJECTION_DAYS: u32 = 15;

/// The last day an objection or re-test request may be filed: 15 days after the result was received.
pub fn objection_deadline(received_on: NaiveDate) -> NaiveDate {
    add_calendar_days(received_on, OBJECTION_DAYS)
}

/// An objection or re-test request filed `today` is in time when the result's receipt is recorded
/// and today is no later than 15 days after it; a late one is refused with the day the window closed.
pub fn check_objection_in_time(received_on: Option<NaiveDate>, today: NaiveDate) -> Result<NaiveDate, RuleViolation> {
    let Some(received) = received_on else {
        return Err(RuleViolation::new(
            "result_not_received",
            "检验结果尚未登记送达（签收日期），暂不能提出异议或复检申请；如已收到，请联系检验机构登记",
        ));
    };
    let deadline = objection_deadline(received);
    if today > deadline {
        return Err(RuleViolation::new(
            "rule18_objection_expired",
            format!(
                "异议和复检申请应在收到检验结果之日起15日内提出（规则18）：本结果于{received}收到，申请期限已于{deadline}届满"
            ),
        ));
    }
    Ok(deadline)
}

crate::stored_enum! {
    /// Where a delivery stands: opened with the report, sent (EMS on its way), received.
    pub enum DeliveryState: "送达状态" {
        Pending = "pending", "待送达";
        Sent = "sent", "已寄出，待签收";
        Received = "received", "已送达";
    }
}

crate::stored_enum! {
    /// What happens to a delivery.
    pub enum DeliveryAction: "送达操作" {
        /// Posted by EMS, receipt not yet known.
        Send = "send", "登记寄出";
        /// Received (in person, or the EMS receipt came back).
        Receive = "receive", "登记签收";
    }
}

crate::workflow! {
    DeliveryState, DeliveryAction, "送达", "delivery_state",
    initial: [Pending],
    table: {
        Pending, Send => Sent;
        Pending, Receive => Received;
        Sent, Receive => Received;
    },
    refusal: |state, action| {
        use DeliveryAction as A;
        use DeliveryState as S;
        match (state, action) {
            (S::Received, _) => Some(RuleViolation::new("already_delivered", "该送达已登记签收，不能重复登记")),
            (S::Sent, A::Send) => Some(RuleViolation::new("already_sent", "该送达已登记寄出，请登记签收日期")),
            _ => None,
        }
    }
}

/// The one transition function of a delivery: a received delivery is final.
pub fn delivery_transition(state: DeliveryState, action: DeliveryAction) -> Result<DeliveryState, RuleViolation> {
    crate::workflow::next(state, action)
}

crate::stored_enum! {
    /// Where an objection or re-test request stands.
    pub enum ObjectionState: "申请状态" {
        /// Filed, waiting for the organising bureau.
        Pending = "pending", "待组织抽查的部门处理";
        /// Accepted: handled by the bureau, by a re-test where one is arranged.
        Accepted = "accepted", "已受理";
        Rejected = "rejected", "不予受理";
        /// Its re-test is concluded (final, rule 18).
        Concluded = "concluded", "已办结";
    }
}

impl ObjectionState {
    /// Still open: the sample's backup may yet be re-tested (disposal waits, rule 19).
    pub fn is_open(self) -> bool {
        matches!(self, ObjectionState::Pending | ObjectionState::Accepted)
    }
}

crate::stored_enum! {
    /// What happens to an objection.
    pub enum ObjectionAction: "申请操作" {
        Accept = "accept", "受理";
        Reject = "reject", "不予受理";
        /// Its re-test's report was approved.
        ConcludeRetest = "conclude_retest", "完成复检";
        /// The bureau answers an accepted request in writing without a re-test (or after a re-test
        /// stopped at a broken seal).
        Close = "close", "书面答复办结";
    }
}

crate::workflow! {
    ObjectionState, ObjectionAction, "申请", "objection_state",
    initial: [Pending],
    table: {
        Pending, Accept => Accepted;
        Pending, Reject => Rejected;
        Accepted, ConcludeRetest => Concluded;
        Accepted, Close => Concluded;
    },
    refusal: |state, action| {
        use ObjectionAction as A;
        Some(match action {
            A::Accept | A::Reject => RuleViolation::new("already_decided", "该申请已处理"),
            A::ConcludeRetest | A::Close => {
                RuleViolation::new("objection_state", format!("申请当前为“{}”，不能完成复检", state.label()))
            }
        })
    }
}

/// The one transition function of an objection or re-test request.
pub fn objection_transition(state: ObjectionState, action: ObjectionAction) -> Result<ObjectionState, RuleViolation> {
    crate::workflow::next(state, action)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn qualified_results_go_to_the_enterprise_and_its_local_bureau() {
        let r = required_deliveries(true, true);
        assert_eq!(r.iter().map(|x| x.recipient).collect::<Vec<_>>(), [Recipient::Enterprise, Recipient::LocalBureau]);
        assert_eq!(r[0].documents, [DeliveredDocument::ResultNotice, DeliveredDocument::Report]);
    }

    #[test]
    fn unqualified_results_go_to_enterprise_producer_and_three_copies_to_the_organising_bureau() {
        let r = required_deliveries(false, true);
        assert_eq!(
            r.iter().map(|x| x.recipient).collect::<Vec<_>>(),
            [Recipient::Enterprise, Recipient::Producer, Recipient::OrganisingBureau]
        );
        assert_eq!(r[0].documents.len(), 4, "notice, report, improvement letter, sampling record");
        assert!(r[1].documents.contains(&DeliveredDocument::ImprovementLetter));
        assert_eq!((r[2].documents.as_slice(), r[2].copies), ([DeliveredDocument::Report].as_slice(), 3));
        // Sampled at the producer itself: nobody else to tell.
        assert_eq!(required_deliveries(false, false).len(), 2);
    }

    #[test]
    fn the_organising_bureau_is_due_seven_days_after_issue_and_the_rest_by_the_plans_date() {
        let plan = Some(d(2025, 11, 15));
        assert_eq!(delivery_due(Recipient::OrganisingBureau, d(2025, 10, 28), plan), Some(d(2025, 11, 4)));
        assert_eq!(delivery_due(Recipient::Enterprise, d(2025, 10, 28), plan), plan);
        assert_eq!(delivery_due(Recipient::Producer, d(2025, 10, 28), None), None);
    }

    #[test]
    fn an_objection_on_day_15_after_receipt_is_in_time_and_on_day_16_refused_with_the_date() {
        let received = d(2025, 10, 27);
        assert_eq!(check_objection_in_time(Some(received), d(2025, 11, 11)), Ok(d(2025, 11, 11)));
        let e = check_objection_in_time(Some(received), d(2025, 11, 12)).unwrap_err();
        assert_eq!(e.code, "rule18_objection_expired");
        assert!(e.message.contains("2025-11-11") && e.message.contains("规则18"), "{}", e.message);
        // Across a month end and a holiday: calendar days, not working days.
        assert_eq!(objection_deadline(d(2025, 9, 25)), d(2025, 10, 10));
        assert_eq!(check_objection_in_time(None, d(2025, 11, 1)).unwrap_err().code, "result_not_received");
    }

    #[test]
    fn a_delivery_is_checked_against_its_method_and_dates() {
        let issued = d(2025, 10, 20);
        let today = d(2025, 10, 25);
        let ems = DeliveryFacts { method: "ems", sent_on: Some(d(2025, 10, 21)), ..Default::default() };
        let e = check_delivery(&ems, issued, today).unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("tracking_no"));
        let ems = DeliveryFacts { tracking_no: "1190012345678", ..ems };
        assert_eq!(check_delivery(&ems, issued, today), Ok(DeliveryMethod::Ems));
        let late = DeliveryFacts { received_on: Some(d(2025, 10, 20)), ..ems.clone() };
        assert_eq!(check_delivery(&late, issued, today).unwrap_err()[0].code, "received_before_sent");
        let future = DeliveryFacts { received_on: Some(d(2025, 10, 26)), ..ems };
        assert_eq!(check_delivery(&future, issued, today).unwrap_err()[0].code, "future_date");
        let hand = DeliveryFacts { method: "in_person", received_on: Some(d(2025, 10, 22)), ..Default::default() };
        let e = check_delivery(&hand, issued, today).unwrap_err();
        assert_eq!(
            e.iter().filter_map(|v| v.field.as_deref()).collect::<Vec<_>>(),
            ["receiver_name", "receiver_signature_png_base64"]
        );
        let hand = DeliveryFacts { receiver_name: "王站长", has_signature: true, ..hand };
        assert_eq!(check_delivery(&hand, issued, today), Ok(DeliveryMethod::InPerson));
        let early = DeliveryFacts { received_on: Some(d(2025, 10, 19)), ..hand };
        assert_eq!(check_delivery(&early, issued, today).unwrap_err()[0].code, "before_issue");
        assert_eq!(
            check_delivery(&DeliveryFacts { method: "fax", ..Default::default() }, issued, today).unwrap_err()[0].code,
            "invalid_method"
        );
    }
    #[test]
    fn delivery_transitions_follow_the_table() {
        use DeliveryAction as A;
        use DeliveryState as S;
        let table = [
            (S::Pending, A::Send, Some(S::Sent)),
            (S::Pending, A::Receive, Some(S::Received)),
            (S::Sent, A::Send, None),
            (S::Sent, A::Receive, Some(S::Received)),
            (S::Received, A::Send, None),
            (S::Received, A::Receive, None),
        ];
        for (from, action, to) in table {
            assert_eq!(delivery_transition(from, action).ok(), to, "{from:?} {action:?}");
        }
        assert_eq!(delivery_transition(S::Received, A::Receive).unwrap_err().code, "already_delivered");
        for st in S::ALL {
            assert_eq!(S::parse(st.as_str()), Some(st));
        }
    }

    #[test]
    fn objection_transitions_follow_the_table() {
        use ObjectionAction as A;
        use ObjectionState as S;
        for from in S::ALL {
            for action in [A::Accept, A::Reject, A::ConcludeRetest, A::Close] {
                let expected = match (from, action) {
                    (S::Pending, A::Accept) => Some(S::Accepted),
                    (S::Pending, A::Reject) => Some(S::Rejected),
                    (S::Accepted, A::ConcludeRetest | A::Close) => Some(S::Concluded),
                    _ => None,
                };
                assert_eq!(objection_transition(from, action).ok(), expected, "{from:?} {action:?}");
            }
            assert_eq!(S::parse(from.as_str()), Some(from));
        }
        assert_eq!(objection_transition(S::Rejected, A::Accept).unwrap_err().code, "already_decided");
        assert!(S::Pending.is_open() && S::Accepted.is_open() && !S::Concluded.is_open() && !S::Rejected.is_open());
    }
}
