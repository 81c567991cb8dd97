//! The risk class of each candidate of a risk-weighted draw, from what the system knows of it
//! (choucha_domain::draw::risk): unqualified results and refusals of the last three years, licence
//! expiry and size.

use choucha_domain::draw::Candidate;
use choucha_domain::draw::risk::{self, HISTORY_YEARS, RiskFactors};
use choucha_store::draw_risk;
use chrono::Months;
use std::collections::HashMap;

use crate::{Result, Services};

/// Puts every candidate in its class.
pub(super) async fn classify(
    s: &Services,
    candidates: &mut [Candidate],
    by_uscc: &HashMap<String, (i64, String)>,
) -> Result<()> {
    let now = s.now();
    let since = now.checked_sub_months(Months::new(12 * HISTORY_YEARS)).unwrap_or(now);
    let ids: Vec<i64> = candidates.iter().filter_map(|c| by_uscc.get(&c.uscc).map(|e| e.0)).collect();
    let facts = draw_risk::risk_facts(s.store.reader(), &ids, since).await?;
    let today = s.today();
    for c in candidates.iter_mut() {
        let f = by_uscc.get(&c.uscc).and_then(|e| facts.get(&e.0)).cloned().unwrap_or_default();
        let factors = RiskFactors {
            unqualified: f.results.iter().any(|q| !q),
            refused: f.refused,
            licence_lapsed: f.licence_valid_until.is_some_and(|d| d < today),
            qualified_history: !f.results.is_empty() && f.results.iter().all(|q| *q),
            large: f.size_class.as_deref() == Some(choucha_domain::enterprise::SizeClass::Large.as_str()),
        };
        c.risk_class = Some(risk::classify(factors));
    }
    Ok(())
}
