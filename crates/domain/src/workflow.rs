//! Workflows as data: every state machine of Choucha is a [`Workflow`], an enum of states with a
//! `const` table of its legal transitions. The table is the only place a transition is decided:
//! [`step`] reads it (and builds the refusal for everything it does not list), and the exhaustive
//! tests of each machine walk it (every state × every action, reachability, and a written-out
//! picture a change must update on purpose).
//!
//! A [`Transition`] can only be built by [`step`]: the store's state-changing writes take one and
//! run `UPDATE … SET state = to WHERE id = ? AND state = from`, so a row moves only along the table,
//! and a concurrent change (zero rows) is a conflict, never a silent overwrite.
//!
//! Stored enums (states, kinds, methods…) are declared with [`stored_enum!`](crate::stored_enum):
//! one line per variant gives its stored name (database and API), its Chinese label, `ALL`,
//! `FromStr`, `Display`, serde, the OpenAPI schema and (feature `sea-orm`) the database column type.

use std::fmt::Debug;

use crate::RuleViolation;

/// Declares a stored enum. Each variant is `Variant = "stored_name", "中文名称";`.
///
/// `enum Name : "名称" { … }` parses only stored names (`FromStr` refuses anything else with
/// `invalid_value`). `enum Name : "名称", parsed by hand { … }` leaves `FromStr` to the caller, for
/// values typed by people or read from spreadsheets, which accept labels and synonyms.
#[macro_export]
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal, parsed by hand {
            $( $(#[$vmeta:meta])* $variant:ident = $stored:literal, $label:literal; )+
        }
    ) => {
        $crate::stored_enum!(@names $(#[$meta])* $vis enum $name : $what {
            $( $(#[$vmeta])* $variant = $stored, $label; )+
        });
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $stored:literal, $label:literal; )+
        }
    ) => {
        $crate::stored_enum!(@names $(#[$meta])* $vis enum $name : $what {
            $( $(#[$vmeta])* $variant = $stored, $label; )+
        });

        impl std::str::FromStr for $name {
            type Err = $crate::RuleViolation;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or_else(|| {
                    $crate::RuleViolation::new("invalid_value", format!("未知的{}“{}”", $what, s))
                })
            }
        }
    };
    (
        @names
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $stored:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveValueType))]
        #[cfg_attr(feature = "sea-orm", sea_orm(value_type = "String"))]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $stored)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; <[&str]>::len(&[$($stored),+])] = [$($name::$variant),+];

            /// The stored name (database column, API value).
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $stored,)+ }
            }

            /// The Chinese name shown to people.
            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// What the value names ("抽样任务状态"), for messages.
            pub const WHAT: &'static str = $what;

            /// Parse a stored name; `None` for anything else.
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|k| k.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A state machine: its states (`Self`), its actions, and the table of legal transitions.
pub trait Workflow: Copy + Eq + Debug + 'static {
    type Action: Copy + Eq + Debug + 'static;
    /// What the machine is about ("抽样任务"), for messages.
    const NAME: &'static str;
    /// The code of a refusal by state ("task_state").
    const CODE: &'static str;
    /// Every state.
    const STATES: &'static [Self];
    /// Every action.
    const ACTIONS: &'static [Self::Action];
    /// The states a new row may start in.
    const INITIAL: &'static [Self];
    /// `(from, action, to)`: the legal transitions, and the only ones.
    const TABLE: &'static [(Self, Self::Action, Self)];

    fn state_name(self) -> &'static str;
    fn state_label(self) -> &'static str;
    fn action_label(action: Self::Action) -> &'static str;

    /// The refusal of an action the table does not allow from `self`. Machines override it where a
    /// numbered rule explains the refusal better than the state does.
    fn refusal(self, action: Self::Action) -> RuleViolation {
        RuleViolation::new(
            Self::CODE,
            format!("{}当前为“{}”，不能{}", Self::NAME, self.state_label(), Self::action_label(action)),
        )
    }
}

/// A legal move of one row from one state to another. Only [`step`] builds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<S> {
    from: S,
    to: S,
}

impl<S: Workflow> Transition<S> {
    pub fn from(&self) -> S {
        self.from
    }
    pub fn to(&self) -> S {
        self.to
    }
}

/// The transition the table allows for `action` from `from`, or the machine's refusal.
pub fn step<S: Workflow>(from: S, action: S::Action) -> Result<Transition<S>, RuleViolation> {
    S::TABLE
        .iter()
        .find(|(f, a, _)| *f == from && *a == action)
        .map(|&(_, _, to)| Transition { from, to })
        .ok_or_else(|| from.refusal(action))
}

/// The state after `action` from `from`, or the refusal (for checks that write nothing).
pub fn next<S: Workflow>(from: S, action: S::Action) -> Result<S, RuleViolation> {
    step(from, action).map(|t| t.to)
}

/// Whether the table allows `action` from `from`.
pub fn allows<S: Workflow>(from: S, action: S::Action) -> bool {
    S::TABLE.iter().any(|(f, a, _)| *f == from && *a == action)
}

/// The table, one line per transition: `from --action--> to` with the stored state names and the
/// action's Debug name. The tests of each machine compare it to a written-out picture.
pub fn picture<S: Workflow>() -> String {
    S::TABLE.iter().map(|(f, a, t)| format!("{} --{:?}--> {}\n", f.state_name(), a, t.state_name())).collect()
}

/// Implements [`Workflow`] for a state enum declared with [`stored_enum!`](crate::stored_enum)
/// and an action enum with a `label()`.
#[macro_export]
macro_rules! workflow {
    (
        $state:ident, $action:ident, $name:literal, $code:literal,
        initial: [$($init:ident),+ $(,)?],
        table: { $( $from:ident, $act:ident => $to:ident; )+ }
        $(, refusal: $refusal:expr)?
    ) => {
        /// A new row starts in the first initial state.
        impl Default for $state {
            fn default() -> Self {
                [$($state::$init),+][0]
            }
        }

        impl $crate::workflow::Workflow for $state {
            type Action = $action;
            const NAME: &'static str = $name;
            const CODE: &'static str = $code;
            const STATES: &'static [Self] = &$state::ALL;
            const ACTIONS: &'static [$action] = &$action::ALL;
            const INITIAL: &'static [Self] = &[$($state::$init),+];
            const TABLE: &'static [(Self, $action, Self)] = &[$( ($state::$from, $action::$act, $state::$to) ),+];
            fn state_name(self) -> &'static str {
                self.as_str()
            }
            fn state_label(self) -> &'static str {
                self.label()
            }
            fn action_label(action: $action) -> &'static str {
                action.label()
            }
            $(
                fn refusal(self, action: $action) -> $crate::RuleViolation {
                    let f: fn($state, $action) -> Option<$crate::RuleViolation> = $refusal;
                    f(self, action).unwrap_or_else(|| {
                        $crate::RuleViolation::new(
                            $code,
                            format!("{}当前为“{}”，不能{}", $name, self.label(), action.label()),
                        )
                    })
                }
            )?
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The properties every machine must have, checked over every state × every action: the table is
    /// deterministic, every pair it does not list is refused with a Chinese message, every state is
    /// reachable from an initial one, and every action is used. Panics with the first breach (for the
    /// tests of each machine).
    pub fn check_machine<S: Workflow>() {
        use std::collections::BTreeSet;
        for (i, (f, a, _)) in S::TABLE.iter().enumerate() {
            assert!(
                !S::TABLE[..i].iter().any(|(f2, a2, _)| f2 == f && a2 == a),
                "{}: {:?} from {:?} listed twice",
                S::NAME,
                a,
                f
            );
        }
        for &s in S::STATES {
            for &a in S::ACTIONS {
                match S::TABLE.iter().find(|(f, x, _)| *f == s && *x == a) {
                    Some(&(_, _, to)) => assert_eq!(step(s, a).map(|t| t.to()), Ok(to)),
                    None => {
                        let e = step(s, a).expect_err("not in the table, must be refused");
                        assert!(e.message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}", e.message);
                    }
                }
            }
        }
        let mut reached: BTreeSet<&'static str> = S::INITIAL.iter().map(|s| s.state_name()).collect();
        loop {
            let before = reached.len();
            for (f, _, t) in S::TABLE {
                if reached.contains(f.state_name()) {
                    reached.insert(t.state_name());
                }
            }
            if reached.len() == before {
                break;
            }
        }
        for s in S::STATES {
            assert!(reached.contains(s.state_name()), "{}: state {:?} is unreachable", S::NAME, s);
        }
        for a in S::ACTIONS {
            assert!(S::TABLE.iter().any(|(_, x, _)| x == a), "{}: action {:?} is never allowed", S::NAME, a);
        }
    }

    /// Every machine of Choucha, its exhaustive check and its table written out: a change of a table
    /// must change its picture here, on purpose.
    macro_rules! machines {
        ($( $test:ident: $state:ty => $picture:expr; )+) => {
            $(
                #[test]
                fn $test() {
                    check_machine::<$state>();
                    assert_eq!(picture::<$state>(), $picture, "the table of {} changed", <$state as Workflow>::NAME);
                    for s in <$state>::ALL {
                        assert_eq!(<$state>::parse(s.as_str()), Some(s));
                        assert_eq!(s.to_string().parse::<$state>(), Ok(s));
                        assert!(!s.label().is_empty());
                    }
                    assert_eq!("no_such_state".parse::<$state>().unwrap_err().code, "invalid_value");
                }
            )+
        };
    }

    machines! {
        plan: crate::plan::PlanState => concat!(
            "draft --Issue--> issued\n",
            "issued --Close--> closed\n",
        );
        rules: crate::implementation_rules::RulesState => concat!(
            "draft --Edit--> draft\n",
            "draft --Submit--> submitted\n",
            "submitted --Return--> draft\n",
            "submitted --Approve--> approved\n",
            "approved --Publish--> published\n",
            "published --Supersede--> superseded\n",
        );
        task: crate::sampling::TaskState => concat!(
            "assigned --Start--> in_progress\n",
            "in_progress --CompleteRecord--> sampled\n",
            "in_progress --Refuse--> refusal_pending\n",
            "refusal_pending --CosignRefusal--> refused\n",
            "assigned --ReportProblem--> problem\n",
            "in_progress --ReportProblem--> problem\n",
            "assigned --MarkNotSampled--> not_sampled\n",
            "in_progress --MarkNotSampled--> not_sampled\n",
        );
        record: crate::sampling::RecordState => concat!(
            "draft --Edit--> draft\n",
            "draft --Lock--> signed\n",
            "pending_confirmation --Lock--> signed\n",
            "signed --Supersede--> superseded\n",
        );
        backup_request: crate::sampling::BackupRequestState => concat!(
            "pending --Approve--> approved\n",
            "pending --Deny--> denied\n",
        );
        upload: crate::sampling::UploadState => concat!(
            "open --Complete--> complete\n",
            "open --Reject--> rejected\n",
        );
        sample: crate::lab::SampleState => concat!(
            "screening --ScreeningFlagged--> accepted\n",
            "screening --ScreeningCleared--> cleared\n",
            "accepted --EnterResult--> testing\n",
            "testing --EnterResult--> testing\n",
            "testing --CompleteResults--> tested\n",
            "accepted --StopUnlicensed--> stopped\n",
            "testing --StopUnlicensed--> stopped\n",
            "tested --Report--> reported\n",
            "reported --Correct--> testing\n",
            "tested --SendBack--> testing\n",
        );
        licence: crate::lab::LicenceState => concat!(
            "pending --Confirm--> confirmed\n",
            "pending --Fail--> failed\n",
        );
        report: crate::lab::ReportState => concat!(
            "prepared --Review--> reviewed\n",
            "reviewed --Approve--> approved\n",
            "prepared --SendBack--> returned\n",
            "reviewed --SendBack--> returned\n",
            "approved --Supersede--> superseded\n",
        );
        delivery: crate::results::DeliveryState => concat!(
            "pending --Send--> sent\n",
            "pending --Receive--> received\n",
            "sent --Receive--> received\n",
        );
        objection: crate::results::ObjectionState => concat!(
            "pending --Accept--> accepted\n",
            "pending --Reject--> rejected\n",
            "accepted --ConcludeRetest--> concluded\n",
            "accepted --Close--> concluded\n",
        );
        retest: crate::retest::RetestState => concat!(
            "assigned --ReceiveIntact--> testing\n",
            "assigned --ReceiveSealBroken--> seal_broken\n",
            "testing --EnterResults--> tested\n",
            "tested --EnterResults--> tested\n",
            "tested --Prepare--> prepared\n",
            "prepared --Review--> reviewed\n",
            "reviewed --Approve--> concluded\n",
        );
        confirmation: crate::retest::ConfirmationState => concat!(
            "awaiting --Confirm--> confirmed\n",
            "awaiting --Deny--> denied\n",
            "awaiting --Lapse--> lapsed\n",
            "denied --Investigate--> investigated\n",
        );
        disposal: crate::disposal::DisposalState => concat!(
            "open --Retarget--> open\n",
            "open --Record--> done\n",
        );
        case: crate::cases::CaseState => concat!(
            "open --StopOrder--> stop_ordered\n",
            "stop_ordered --CorrectionOrder--> correction_ordered\n",
            "correction_ordered --RectificationReport--> report_submitted\n",
            "correction_ordered --FollowUpCheckPassed--> closed\n",
            "report_submitted --FollowUpCheckPassed--> closed\n",
            "correction_ordered --FollowUpCheckFailed--> escalated\n",
            "report_submitted --FollowUpCheckFailed--> escalated\n",
            "escalated --SecondFollowUpCheckPassed--> closed\n",
            "escalated --SecondFollowUpCheckFailed--> sanctioning\n",
            "sanctioning --Sanction--> closed\n",
            "open --Close--> closed\n",
            "stop_ordered --Close--> closed\n",
            "correction_ordered --Close--> closed\n",
            "report_submitted --Close--> closed\n",
            "escalated --Close--> closed\n",
            "sanctioning --Close--> closed\n",
        );
        announcement: crate::announcement::AnnouncementState => concat!(
            "draft --Edit--> draft\n",
            "draft --Approve--> approved\n",
            "approved --Return--> draft\n",
            "approved --Publish--> published\n",
            "published --Withdraw--> withdrawn\n",
            "published --Supersede--> corrected\n",
        );
    }
}
