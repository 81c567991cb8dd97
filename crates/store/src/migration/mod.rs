//! Schema migrations, the same for SQLite and PostgreSQL (sea-query builds each dialect). Where the
//! two must differ, the divergent statement is kept in the migration and marked.

use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_plans;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_foundation::Migration), Box::new(m0002_plans::Migration)]
    }
}
