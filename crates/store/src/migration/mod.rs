//! Schema migrations, the same for SQLite and PostgreSQL (sea-query builds each dialect). Where the
//! two must differ, the divergent statement is kept in the migration and marked.

use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_plans;
mod m0003_sampling;
mod m0004_evidence;
mod m0005_custody;
mod m0006_lab;
mod m0007_handover;
mod m0008_perf;
mod m0009_report_signoff;
mod m0011_deliveries;
mod m0012_objections;
mod m0013_followup;
mod m0014_announcements;
mod m0015_retests;
mod m0016_audit_keys;
mod m0017_signin;
mod m0018_three_administrators;
mod m0019_second_factor;
mod m0020_draw_index;
mod m0021_evidence_waivers;
mod m0022_stored_signatures;
mod m0023_announcement_number;
mod m0024_document_signatures;
mod m0025_follow_up_tasks;
mod m0026_scale_side_tables;
mod m0027_job_leases;
mod m0028_seed_commitments;
mod m0029_national_export_marks;
mod m0030_overdue_counts;
mod m0031_risk_draw;
mod m0032_custody_both_hands;
mod m0034_plan_task_counts;
mod m0035_sample_facts;
mod m0036_draw_candidates;

pub use m0013_followup::NATIONAL;

/// A plain index over `cols` of `table`.
fn idx(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(*c);
    }
    i.take()
}

/// A unique index over `cols` of `table`.
fn unique(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = idx(name, table, cols);
    i.unique();
    i
}

/// A foreign key from `from.col` to `to.id`.
fn fk(name: &str, from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from, col).to(to, "id").take()
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_plans::Migration),
            Box::new(m0003_sampling::Migration),
            Box::new(m0004_evidence::Migration),
            Box::new(m0005_custody::Migration),
            Box::new(m0006_lab::Migration),
            Box::new(m0007_handover::Migration),
            Box::new(m0008_perf::Migration),
            Box::new(m0009_report_signoff::Migration),
            Box::new(m0011_deliveries::Migration),
            Box::new(m0012_objections::Migration),
            Box::new(m0013_followup::Migration),
            Box::new(m0014_announcements::Migration),
            Box::new(m0015_retests::Migration),
            Box::new(m0016_audit_keys::Migration),
            Box::new(m0017_signin::Migration),
            Box::new(m0018_three_administrators::Migration),
            Box::new(m0019_second_factor::Migration),
            Box::new(m0020_draw_index::Migration),
            Box::new(m0021_evidence_waivers::Migration),
            Box::new(m0022_stored_signatures::Migration),
            Box::new(m0023_announcement_number::Migration),
            Box::new(m0024_document_signatures::Migration),
            Box::new(m0025_follow_up_tasks::Migration),
            Box::new(m0026_scale_side_tables::Migration),
            Box::new(m0027_job_leases::Migration),
            Box::new(m0028_seed_commitments::Migration),
            Box::new(m0029_national_export_marks::Migration),
            Box::new(m0030_overdue_counts::Migration),
            Box::new(m0031_risk_draw::Migration),
            Box::new(m0032_custody_both_hands::Migration),
            Box::new(m0034_plan_task_counts::Migration),
            Box::new(m0035_sample_facts::Migration),
            Box::new(m0036_draw_candidates::Migration),
        ]
    }
}
