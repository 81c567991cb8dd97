//! The custody chain read as holdings (issue 18): per portion, who held the sample over each
//! interval, and the gaps — a hand-over the other party has not confirmed, a seal whose state
//! changed at a hand-over, an interval with no known holder (sent and never received), time
//! running backwards. Visible as the chain is (`ViewCustody`): never to a blind tester.

use choucha_domain::access::Action;
use choucha_domain::lab::SealState;
use choucha_store::custody::{self, ConfirmationRow, CustodyRow};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::access::Ask;
use crate::custody::{custody_kind_label, portion_label};
use crate::custody_hands::{HandOverView, counter_party_label, hand_over_view};
use crate::task_context::ctx;
use crate::{Actor, Result, Services};

/// Who held a portion from one moment to the next (`to` None: still).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Holding {
    pub holder: String,
    /// False when nobody is known to hold it (sent, never received).
    pub known: bool,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

/// A gap in the chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainFlag {
    /// unconfirmed | seal_changed | no_holder | time_backwards | courier_unsigned
    pub code: String,
    pub message: String,
    pub event_id: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortionChain {
    /// test | backup | all
    pub portion: String,
    pub portion_label: String,
    pub holdings: Vec<Holding>,
    pub hand_overs: Vec<HandOverView>,
    pub flags: Vec<ChainFlag>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustodyChain {
    pub task_id: i64,
    pub portions: Vec<PortionChain>,
    /// How many gaps in all (0: every hand-over signed by both hands, seals unchanged).
    pub gaps: usize,
}

/// The chain of a task's portions, read as holdings with its gaps flagged.
pub async fn chain(s: &Services, actor: &Actor, task_id: i64) -> Result<CustodyChain> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).visible(Action::ViewCustody, "抽样任务")?;
    let db = s.store.reader();
    let events = custody::of_task(db, task_id).await?;
    let confirmations = custody::confirmations_of_task(db, task_id).await?;
    let mut names: Vec<&str> = Vec::new();
    for e in &events {
        if e.portion != "all" && !names.contains(&e.portion.as_str()) {
            names.push(e.portion.as_str());
        }
    }
    if names.is_empty() && !events.is_empty() {
        names.push("all");
    }
    let portions: Vec<PortionChain> = names
        .into_iter()
        .map(|p| {
            let mine: Vec<&CustodyRow> = events.iter().filter(|e| e.portion == p || e.portion == "all").collect();
            portion_chain(p, &mine, &confirmations)
        })
        .collect();
    let gaps = portions.iter().map(|p| p.flags.len()).sum();
    Ok(CustodyChain { task_id, portions, gaps })
}

/// Who holds the portion after event `e`: Some(holder, known), or None when it leaves custody
/// (disposed, rejected back to the team).
fn holder_after(e: &CustodyRow) -> Option<(String, bool)> {
    let custodian = |e: &CustodyRow| {
        if e.location.is_empty() || e.kind != "to_retest" {
            format!("样品管理员 {}", e.actor_name)
        } else {
            format!("样品管理员 {}（{}）", e.actor_name, e.location)
        }
    };
    Some(match e.kind.as_str() {
        "sealed" => (format!("抽样人员 {}", e.actor_name), true),
        "dispatched" | "retest_dispatched" => {
            if !e.courier_name.is_empty() {
                (format!("承运人 {}{}", e.courier_name, bracket(&e.carrier)), true)
            } else if e.mode == "carried" {
                (format!("抽样人员 {}（带回）", e.actor_name), true)
            } else if !e.carrier.is_empty() {
                (format!("承运 {}{}", e.carrier, bracket(&e.tracking_no)), true)
            } else {
                ("在途（承运人不明）".into(), false)
            }
        }
        "received" | "stored" | "returned" | "to_retest" => (custodian(e), true),
        "to_testing" => {
            (if e.to_party.is_empty() { "检验人员".into() } else { format!("检验人员 {}", e.to_party) }, true)
        }
        "kept_at_enterprise" => ("被抽样单位（经批准封存）".into(), true),
        _ => return None,
    })
}

fn bracket(s: &str) -> String {
    if s.is_empty() { String::new() } else { format!("（{s}）") }
}

fn flag(out: &mut Vec<ChainFlag>, code: &str, message: String, e: &CustodyRow) {
    out.push(ChainFlag { code: code.into(), message, event_id: e.id });
}

fn portion_chain(portion: &str, events: &[&CustodyRow], confirmations: &[ConfirmationRow]) -> PortionChain {
    let mut holdings: Vec<Holding> = Vec::new();
    let mut flags = Vec::new();
    let mut hand_overs = Vec::new();
    let mut last_at: Option<DateTime<Utc>> = None;
    let mut last_seal: Option<SealState> = None;
    for (i, e) in events.iter().enumerate() {
        let label = custody_kind_label(&e.kind);
        let confirmed = confirmations.iter().find(|c| c.event_id == e.id);
        if let Some(prev) = last_at
            && e.happened_at < prev
        {
            flag(&mut flags, "time_backwards", format!("“{label}”的时间早于上一环节，时间顺序倒置"), e);
        }
        last_at = Some(last_at.map_or(e.happened_at, |p| p.max(e.happened_at)));
        if e.seal_state != SealState::NotApplicable {
            if let Some(before) = last_seal
                && before != e.seal_state
            {
                flag(
                    &mut flags,
                    "seal_changed",
                    format!("“{label}”时封条状态由{}变为{}", before.label(), e.seal_state.label()),
                    e,
                );
            }
            last_seal = Some(e.seal_state);
        }
        if !e.counter_party.is_empty() {
            hand_overs.push(hand_over_view(e, confirmed));
            if confirmed.is_none() {
                flag(
                    &mut flags,
                    "unconfirmed",
                    format!("“{label}”尚未经{}确认", counter_party_label(&e.counter_party)),
                    e,
                );
            }
        }
        if matches!(e.kind.as_str(), "dispatched" | "retest_dispatched")
            && e.mode != "carried"
            && e.courier_signature_sha.is_empty()
        {
            flag(&mut flags, "courier_unsigned", format!("“{label}”交给承运人时没有承运人签字"), e);
        }
        if let Some(h) = holdings.last_mut()
            && h.to.is_none()
        {
            h.to = Some(e.happened_at);
        }
        match holder_after(e) {
            Some((holder, known)) => {
                let same = holdings.last().is_some_and(|h| h.holder == holder && h.to == Some(e.happened_at));
                if same {
                    if let Some(h) = holdings.last_mut() {
                        h.to = None;
                    }
                } else {
                    holdings.push(Holding { holder, known, from: e.happened_at, to: None });
                }
            }
            None => continue,
        }
        // Sent and never received: nobody is known to hold it after the carrier.
        let received_next =
            events[i + 1..].iter().any(|n| matches!(n.kind.as_str(), "received" | "rejected" | "to_retest"));
        if matches!(e.kind.as_str(), "dispatched" | "retest_dispatched") && !received_next {
            flag(&mut flags, "no_holder", format!("“{label}”后没有接收记录：样品下落不明"), e);
            if let Some(h) = holdings.last_mut() {
                h.known = h.known && !e.courier_name.is_empty();
            }
        }
    }
    PortionChain { portion: portion.into(), portion_label: portion_label(portion).into(), holdings, hand_overs, flags }
}
