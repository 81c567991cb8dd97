//! Issue 17, overdue work in `/metrics`: the counts of overdue duties (rule 16 entries, results,
//! deliveries, sample confirmations, disposals, case steps) are computed by a periodic job in one
//! server of the deployment and kept in `overdue_counts`, one row a kind, so every server's
//! `/metrics` reads a few rows per scrape instead of counting over the history.
//!
//! The indexes let each count read only the open work past its deadline (a range of an index on
//! the state and the due day), never the finished history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0030_overdue_counts"
    }
}

/// (name, table, columns) of the indexes the overdue counts read through.
const INDEXES: [(&str, &str, &[&str]); 6] = [
    ("ix_sampling_tasks_state", "sampling_tasks", &["state", "id"]),
    ("ix_lab_samples_state_due", "lab_samples", &["state", "results_due"]),
    ("ix_deliveries_state_due", "deliveries", &["state", "due_on"]),
    ("ix_confirmations_state_due", "sample_confirmations", &["state", "due_on"]),
    ("ix_disposals_state", "disposals", &["state", "id"]),
    // Closed cases have no due day: the range below a day holds open cases only.
    ("ix_cases_due", "cases", &["due_on", "state"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("overdue_counts")
                .if_not_exists()
                .col(string_len("kind", 32).primary_key())
                .col(big_integer("total"))
                // Unix seconds (real time) of the count.
                .col(big_integer("counted_at"))
                .to_owned(),
        )
        .await?;
        for (name, table, cols) in INDEXES {
            let mut i = Index::create();
            i.name(name).table(Alias::new(table)).if_not_exists();
            for c in cols {
                i.col(Alias::new(*c));
            }
            m.create_index(i.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).if_exists().to_owned()).await?;
        }
        m.drop_table(Table::drop().table("overdue_counts").if_exists().to_owned()).await
    }
}
