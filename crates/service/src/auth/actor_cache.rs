//! The signed-in user of each request (user, roles, organisation, second-factor and password state)
//! kept for a few seconds per user (issue 17), so a burst of requests reads them once.
//!
//! Staleness is bounded two ways. Within one server, every write committed through
//! [`Services::write`](crate::Services::write) empties the cache, so a role, lock, password,
//! organisation or sign-out change made here counts from the very next request. Between servers on
//! one database (a change made by another `choucha serve`, or by a CLI command) nothing is shared:
//! an entry lives at most [`TTL_SECONDS`] (5 s of the services' real time, which tests may advance), after which it is read again from the database. The session
//! or token itself is checked on every request, never cached: a revoked token or ended session is
//! refused at once everywhere.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::SignedIn;

/// How long an entry is used before it is read again (the bound between servers).
pub const TTL_SECONDS: i64 = 5;

/// Entries above this are dropped all at once (a bound on memory, never reached in normal use).
const MAX_ENTRIES: usize = 20_000;

#[derive(Default)]
pub struct ActorCache {
    entries: Mutex<HashMap<i64, (DateTime<Utc>, SignedIn)>>,
    /// Bumped by every clear: an entry read from the database before a write committed is not kept.
    generation: AtomicU64,
}

impl ActorCache {
    /// The generation to pass to [`ActorCache::put`], taken before reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The entry of `user_id` if it was read less than [`TTL_SECONDS`] before `now`.
    pub fn get(&self, user_id: i64, now: DateTime<Utc>) -> Option<SignedIn> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = |at: &DateTime<Utc>| *at <= now && now - *at < Duration::seconds(TTL_SECONDS);
        entries.get(&user_id).filter(|(at, _)| fresh(at)).map(|(_, who)| who.clone())
    }

    /// Keeps `who`, unless a write committed since `generation` was taken.
    pub fn put(&self, user_id: i64, who: &SignedIn, generation: u64, now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(user_id, (now, who.clone()));
    }

    /// Forget everything (after a committed write).
    pub fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }
}
