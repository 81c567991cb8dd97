//! The result announcement (结果公告) of a plan: drafted by the organising bureau from its issued
//! reports and final refusals (rule 11: a co-signed refusal is published as 拒检), approved by a
//! second regulator of the same bureau, then published as a frozen snapshot. A published
//! announcement is never edited: it is withdrawn (撤回) or corrected (更正) by a new announcement
//! that replaces it, and both are recorded with who, when and why.

use crate::RuleViolation;

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

#[cfg(test)]
mod tests {
    use super::*;

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
