//! The one write path: `Services::write(who)` opens a transaction in someone's name; the change
//! runs on it (it dereferences to the store's [`Tx`]); `commit(entry)` appends the audit record and
//! commits. A write cannot commit without its record (the store refuses an unaudited commit too),
//! and the record always names the one who opened the write.

use std::sync::Arc;

use choucha_store::Tx;
use choucha_store::audit::{AuditActor, AuditEntry};

use crate::auth::actor_cache::ActorCache;
use crate::{Actor, Result, Services};

/// Who a write is in the name of: a user, or the system (sweeps, bootstrap).
pub trait WriteAs {
    fn audit_actor(self) -> AuditActor;
}

impl WriteAs for &Actor {
    fn audit_actor(self) -> AuditActor {
        Actor::audit_actor(self)
    }
}

impl WriteAs for AuditActor {
    fn audit_actor(self) -> AuditActor {
        self
    }
}

impl WriteAs for &AuditActor {
    fn audit_actor(self) -> AuditActor {
        self.clone()
    }
}

/// An open write: a transaction and the one it is in the name of. Dropping it rolls back.
pub struct Write {
    tx: Tx,
    who: AuditActor,
    /// Emptied once the write commits: a change of a user, role, organisation or session counts
    /// from the next request (`auth::actor_cache`).
    actors: Arc<ActorCache>,
}

impl std::ops::Deref for Write {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl Write {
    /// The transaction as a plain connection, for store reads inside the write that take any
    /// connection (`&impl ConnectionTrait`).
    pub fn conn(&self) -> &sea_orm::DatabaseTransaction {
        &self.tx
    }

    /// One more audit record in this write (a write that changes several objects records each);
    /// the records are chained at commit, in order.
    pub fn audit(&self, entry: AuditEntry) {
        self.tx.record(self.who.clone(), entry);
    }

    /// Appends the write's (last) audit record and commits.
    pub async fn commit(self, entry: AuditEntry) -> Result<()> {
        self.tx.record(self.who, entry);
        self.tx.commit().await?;
        self.actors.clear();
        Ok(())
    }

    /// Commits a write whose records were all appended with [`Write::audit`] (a write over a list
    /// that may turn out to hold several objects). The store refuses it when none was.
    pub async fn commit_recorded(self) -> Result<()> {
        self.tx.commit().await?;
        self.actors.clear();
        Ok(())
    }

    /// Gives up the write: nothing of it is kept.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl Services {
    /// Opens a write in the name of `who` (an [`Actor`] or a system [`AuditActor`]).
    pub async fn write(&self, who: impl WriteAs) -> Result<Write> {
        Ok(Write { tx: self.store.begin().await?, who: who.audit_actor(), actors: self.actors.clone() })
    }
}
