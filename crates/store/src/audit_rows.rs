//! The business rows whose content the audit chain vouches for (issue 13): test results, reports and
//! sampling records. A store function that writes one of these rows `touch`es it on the transaction;
//! at commit the audit record carries the hash of each touched row as it then stands in the table
//! (read back by primary key), and `audit verify --deep` re-hashes the rows and compares. Adding a
//! table is one arm in each `match` below.

use choucha_domain::audit::{AuditHash, RowHash};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::entity::{lab_report, lab_result, sampling_record};
use crate::{StoreError, id_chunks};

/// A table of business rows covered by the audit chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowTable {
    LabResult,
    LabReport,
    SamplingRecord,
}

impl RowTable {
    pub const ALL: [RowTable; 3] = [RowTable::LabResult, RowTable::LabReport, RowTable::SamplingRecord];

    pub fn table(self) -> &'static str {
        match self {
            RowTable::LabResult => "lab_results",
            RowTable::LabReport => "lab_reports",
            RowTable::SamplingRecord => "sampling_records",
        }
    }

    pub fn parse(s: &str) -> Option<RowTable> {
        RowTable::ALL.into_iter().find(|t| t.table() == s)
    }

    /// The canonical content of the rows with these ids (those that exist), by id.
    async fn load(self, db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in id_chunks(ids) {
            match self {
                RowTable::LabResult => {
                    let rows = lab_result::Entity::find().filter(lab_result::Column::Id.is_in(chunk)).all(db).await?;
                    out.extend(canonical(rows, |r| r.id)?);
                }
                RowTable::LabReport => {
                    let rows = lab_report::Entity::find().filter(lab_report::Column::Id.is_in(chunk)).all(db).await?;
                    out.extend(canonical(rows, |r| r.id)?);
                }
                RowTable::SamplingRecord => {
                    let rows = sampling_record::Entity::find()
                        .filter(sampling_record::Column::Id.is_in(chunk))
                        .all(db)
                        .await?;
                    out.extend(canonical(rows, |r| r.id)?);
                }
            }
        }
        Ok(out)
    }

    /// The next `limit` rows after `after`, by id, with their canonical content (the deep check).
    pub(crate) async fn page(
        self,
        db: &impl ConnectionTrait,
        after: i64,
        limit: u64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        match self {
            RowTable::LabResult => {
                use lab_result::Column as C;
                let rows =
                    lab_result::Entity::find().filter(C::Id.gt(after)).order_by_asc(C::Id).limit(limit).all(db).await?;
                canonical(rows, |r| r.id)
            }
            RowTable::LabReport => {
                use lab_report::Column as C;
                let rows =
                    lab_report::Entity::find().filter(C::Id.gt(after)).order_by_asc(C::Id).limit(limit).all(db).await?;
                canonical(rows, |r| r.id)
            }
            RowTable::SamplingRecord => {
                use sampling_record::Column as C;
                let rows = sampling_record::Entity::find()
                    .filter(C::Id.gt(after))
                    .order_by_asc(C::Id)
                    .limit(limit)
                    .all(db)
                    .await?;
                canonical(rows, |r| r.id)
            }
        }
    }
}

/// A row's canonical content: its model as JSON, fields in declaration order, values as read back
/// from the database (so the hash covers exactly what is stored).
fn canonical<M: Serialize>(rows: Vec<M>, id: impl Fn(&M) -> i64) -> Result<Vec<(i64, String)>, StoreError> {
    rows.into_iter()
        .map(|r| serde_json::to_string(&r).map(|s| (id(&r), s)).map_err(|e| StoreError::Corrupt(e.to_string())))
        .collect()
}

/// The hashes of the rows touched by a transaction, read back inside it (one query by primary key
/// per table); a row no longer present is recorded as deleted.
pub(crate) async fn hash_touched(
    db: &impl ConnectionTrait,
    hash: AuditHash,
    touched: &[(RowTable, i64)],
) -> Result<Vec<RowHash>, StoreError> {
    let mut out = Vec::new();
    for table in RowTable::ALL {
        let mut ids: Vec<i64> = touched.iter().filter(|(t, _)| *t == table).map(|(_, id)| *id).collect();
        if ids.is_empty() {
            continue;
        }
        ids.sort_unstable();
        ids.dedup();
        let found: std::collections::HashMap<i64, String> = table.load(db, &ids).await?.into_iter().collect();
        for id in ids {
            let h = found.get(&id).map(|c| hash.digest(c.as_bytes()));
            out.push(RowHash { table: table.table().to_string(), id, hash: h });
        }
    }
    Ok(out)
}
