//! The result announcement (结果公告) of a plan: drafted by the organising bureau from its issued
//! reports and final refusals (rule 11: a co-signed refusal is published as 拒检), approved by a
//! second regulator of the same bureau, then published as a frozen snapshot. A published
//! announcement is never edited: it is withdrawn (撤回) or corrected (更正) by a new announcement
//! that replaces it, and both are recorded with who, when and why.

use chrono::NaiveDate;

use crate::RuleViolation;
use crate::results::objection_deadline;

crate::stored_enum! {
    pub enum AnnouncementState: "公告状态" {
        Draft = "draft", "草稿";
        Approved = "approved", "已审核，待发布";
        Published = "published", "已发布";
        /// Replaced by a published correction.
        Corrected = "corrected", "已更正";
        Withdrawn = "withdrawn", "已撤回";
    }
}

impl AnnouncementState {
    /// Whether the public may read it (published, and kept visible after correction or withdrawal
    /// so that the record of what was published stays public).
    pub fn is_public(self) -> bool {
        matches!(self, AnnouncementState::Published | AnnouncementState::Corrected | AnnouncementState::Withdrawn)
    }
}

crate::stored_enum! {
    pub enum AnnouncementAction: "公告操作" {
        /// Title, preface or row exclusions changed.
        Edit = "edit", "修改";
        /// A second regulator approves the draft.
        Approve = "approve", "审核通过";
        /// The approval is sent back for changes.
        Return = "return", "退回修改";
        Publish = "publish", "发布";
        Withdraw = "withdraw", "撤回";
        /// A correction replacing this announcement was published.
        Supersede = "supersede", "以更正公告替代";
    }
}

crate::workflow! {
    AnnouncementState, AnnouncementAction, "公告", "announcement_state",
    initial: [Draft],
    table: {
        Draft, Edit => Draft;
        Draft, Approve => Approved;
        Approved, Return => Draft;
        Approved, Publish => Published;
        Published, Withdraw => Withdrawn;
        Published, Supersede => Corrected;
    },
    refusal: |state, action| {
        use AnnouncementAction as A;
        use AnnouncementState as S;
        Some(match (state, action) {
            (S::Draft, A::Publish) => RuleViolation::new("announcement_not_approved", "公告须经审核后才能发布"),
            (S::Published | S::Corrected | S::Withdrawn, A::Edit) => {
                RuleViolation::new("announcement_frozen", "公告已发布，内容不能修改；如有错误请更正或撤回")
            }
            _ => RuleViolation::new("announcement_state", format!("公告当前为“{}”，不能执行此操作", state.label())),
        })
    }
}

/// The one place where the announcement's legal transitions live.
pub fn transition(state: AnnouncementState, action: AnnouncementAction) -> Result<AnnouncementState, RuleViolation> {
    crate::workflow::next(state, action)
}

/// The approver is a second person: never the one who drafted (or last edited) the announcement.
pub fn check_approver(drafted_by: i64, approver: i64) -> Result<(), RuleViolation> {
    if drafted_by == approver {
        return Err(RuleViolation::new(
            "announcement_same_person",
            "公告的起草人不能审核自己起草的公告，须由本单位另一名监管人员审核",
        ));
    }
    Ok(())
}

/// The announcement's 文号 (empty until known): at most 50 characters, a four-digit year and the
/// closing 号, as 大市监公告〔2025〕12号.
pub fn check_doc_number(n: &str) -> Result<(), RuleViolation> {
    let n = n.trim();
    if n.is_empty() {
        return Ok(());
    }
    let has_year = n.as_bytes().windows(4).any(|w| w.iter().all(u8::is_ascii_digit));
    if n.chars().count() > 50 || !has_year || !n.ends_with('号') {
        return Err(RuleViolation::new(
            "doc_number",
            "文号格式应如“大市监公告〔2025〕12号”（含四位年份，以“号”结尾，不超过50字）",
        )
        .on_field("doc_number"));
    }
    Ok(())
}

/// Why the objection window of an issued result is still open on `today` (`None`: closed): the
/// result has not reached the enterprise yet, the 15 days after its receipt have not passed, or an
/// objection or re-test request is being handled (rule 18). Publishing then needs a reason.
pub fn open_objection_window(received_on: Option<NaiveDate>, objection_open: bool, today: NaiveDate) -> Option<String> {
    if objection_open {
        return Some("异议或复检申请正在处理".into());
    }
    match received_on {
        None => Some("检验结果尚未送达被抽样单位，异议期尚未开始".into()),
        Some(r) if today <= objection_deadline(r) => {
            Some(format!("异议期至{}", objection_deadline(r).format("%Y年%m月%d日")))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn the_objection_window_is_open_until_its_deadline_and_while_an_objection_is_handled() {
        let received = d(2025, 9, 25);
        let deadline = objection_deadline(received);
        assert!(open_objection_window(None, false, d(2026, 1, 1)).unwrap_or_default().contains("尚未送达"));
        assert!(open_objection_window(Some(received), false, deadline).unwrap_or_default().contains("异议期至"));
        assert_eq!(open_objection_window(Some(received), false, deadline.succ_opt().unwrap_or_default()), None);
        assert!(open_objection_window(Some(received), true, d(2026, 6, 1)).unwrap_or_default().contains("正在处理"));
    }

    #[test]
    fn a_doc_number_has_a_year_and_ends_with_hao() {
        assert!(check_doc_number("").is_ok());
        assert!(check_doc_number("大市监公告〔2025〕12号").is_ok());
        assert!(check_doc_number("晋市监质〔2025〕3号").is_ok());
        for bad in ["12号", "大市监公告〔2025〕12", &format!("{}〔2025〕1号", "长".repeat(50))] {
            assert_eq!(check_doc_number(bad).unwrap_err().code, "doc_number", "{bad}");
        }
    }

    #[test]
    fn transition_table() {
        use AnnouncementAction as A;
        use AnnouncementState as S;
        let allowed = [
            (S::Draft, A::Edit, S::Draft),
            (S::Draft, A::Approve, S::Approved),
            (S::Approved, A::Return, S::Draft),
            (S::Approved, A::Publish, S::Published),
            (S::Published, A::Withdraw, S::Withdrawn),
            (S::Published, A::Supersede, S::Corrected),
        ];
        let actions = [A::Edit, A::Approve, A::Return, A::Publish, A::Withdraw, A::Supersede];
        for from in S::ALL {
            for a in actions {
                let expected = allowed.iter().find(|(f, x, _)| *f == from && *x == a).map(|(_, _, to)| *to);
                assert_eq!(transition(from, a).ok(), expected, "{from:?} {a:?}");
            }
        }
        assert_eq!(transition(S::Draft, A::Publish).unwrap_err().code, "announcement_not_approved");
        assert_eq!(transition(S::Published, A::Edit).unwrap_err().code, "announcement_frozen");
        assert_eq!(transition(S::Withdrawn, A::Withdraw).unwrap_err().code, "announcement_state");
    }

    #[test]
    fn the_drafter_never_approves() {
        assert_eq!(check_approver(5, 5).unwrap_err().code, "announcement_same_person");
        assert!(check_approver(5, 6).is_ok());
    }

    #[test]
    fn states_round_trip_and_public_ones() {
        for s in AnnouncementState::ALL {
            assert_eq!(s.as_str().parse::<AnnouncementState>(), Ok(s));
        }
        assert!(!AnnouncementState::Draft.is_public());
        assert!(!AnnouncementState::Approved.is_public());
        assert!(AnnouncementState::Withdrawn.is_public());
    }
}
