//! The keyed audit chain (issue 13): each record names its hash function and key id, and carries the
//! hashes of the business rows its transaction wrote. Records from before keep `sha256` (unkeyed)
//! and an empty key id, and stay verifiable as the chain's prefix.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0016_audit_keys"
    }
}

/// One column per statement: SQLite alters one column at a time.
const COLUMNS: [(&str, &str); 3] = [("rows_json", ""), ("hash_alg", "sha256"), ("key_id", "")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (c, default) in COLUMNS {
            m.alter_table(Table::alter().table("audit_log").add_column(text(c).default(default)).take()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (c, _) in COLUMNS {
            m.alter_table(Table::alter().table("audit_log").drop_column(c).take()).await?;
        }
        Ok(())
    }
}
