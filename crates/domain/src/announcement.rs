//! The result announcement (结果公告) of a plan: drafted by the organising bureau from its issued
//! reports and final refusals (rule 11: a co-signed refusal is published as 拒检), approved by a
//! second regulator of the same bureau, then published as a frozen snapshot. A published
//! announcement is never edited: it is withdrawn (撤回) or corrected (更正) by a new announcement
//! that replaces it, and both are recorded with who, when and why.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::RuleViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementState {
    Draft,
    Approved,
    Published,
    /// Replaced by a published correction.
    Corrected,
    Withdrawn,
}

impl AnnouncementState {
    pub const ALL: [AnnouncementState; 5] = [
        AnnouncementState::Draft,
        AnnouncementState::Approved,
        AnnouncementState::Published,
        AnnouncementState::Corrected,
        AnnouncementState::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementState::Draft => "draft",
            AnnouncementState::Approved => "approved",
            AnnouncementState::Published => "published",
            AnnouncementState::Corrected => "corrected",
            AnnouncementState::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AnnouncementState::Draft => "草稿",
            AnnouncementState::Approved => "已审核，待发布",
            AnnouncementState::Published => "已发布",
            AnnouncementState::Corrected => "已更正",
            AnnouncementState::Withdrawn => "已撤回",
        }
    }

    /// Whether the public may read it (published, and kept visible after correction or withdrawal
    /// so that the record of what was published stays public).
    pub fn is_public(self) -> bool {
        matches!(self, AnnouncementState::Published | AnnouncementState::Corrected | AnnouncementState::Withdrawn)
    }
}

impl FromStr for AnnouncementState {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AnnouncementState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| RuleViolation::new("invalid_state", format!("未知的公告状态“{s}”")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnouncementAction {
    /// Title, preface or row exclusions changed.
    Edit,
    /// A second regulator approves the draft.
    Approve,
    /// The approval is sent back for changes.
    Return,
    Publish,
    Withdraw,
    /// A correction replacing this announcement was published.
    Supersede,
}

/// The one place where the announcement's legal transitions live.
pub fn transition(state: AnnouncementState, action: AnnouncementAction) -> Result<AnnouncementState, RuleViolation> {
    use AnnouncementAction as A;
    use AnnouncementState as S;
    let next = match (state, action) {
        (S::Draft, A::Edit) => Some(S::Draft),
        (S::Draft, A::Approve) => Some(S::Approved),
        (S::Approved, A::Return) => Some(S::Draft),
        (S::Approved, A::Publish) => Some(S::Published),
        (S::Published, A::Withdraw) => Some(S::Withdrawn),
        (S::Published, A::Supersede) => Some(S::Corrected),
        _ => None,
    };
    next.ok_or_else(|| match (state, action) {
        (S::Draft, A::Publish) => RuleViolation::new("announcement_not_approved", "公告须经审核后才能发布"),
        (S::Published | S::Corrected | S::Withdrawn, A::Edit) => {
            RuleViolation::new("announcement_frozen", "公告已发布，内容不能修改；如有错误请更正或撤回")
        }
        _ => RuleViolation::new("announcement_state", format!("公告当前为“{}”，不能执行此操作", state.label())),
    })
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
