//! Issue 17, the quality analysis of a 100,000-sample plan under 200 ms: the facts its figures group
//! by are kept on each laboratory sample, so every figure is one indexed `GROUP BY` over the plan's
//! samples instead of a join to the task and the registry (by division, by size), a JSON extraction
//! from the signed record (by domain) and a probe of the reports (issued) for every sample.
//!
//! - `division_code`, `size_class`: the sampled enterprise's, as registered when the sample arrived
//!   (the figures describe who was sampled, not what the registry says later);
//! - `domain`: the 领域 of the task's newest signed sampling record, followed by a later signing
//!   (a correction);
//! - `report_issued`: whether an approved report of the sample exists, followed by every write of
//!   its reports.
//!
//! Triggers keep them (on `lab_samples` inserts, `lab_reports` writes and `sampling_records`
//! signings), so every write path — the service, the bench's bulk load — keeps them in its own
//! transaction. The migration fills them for the samples already there. The index
//! (plan_id, report_issued, qualified, item_id, division_code, size_class, domain) covers the figures.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0035_sample_facts"
    }
}

const COLUMNS: [&str; 3] = [
    "ALTER TABLE lab_samples ADD COLUMN division_code VARCHAR(12) NOT NULL DEFAULT ''",
    "ALTER TABLE lab_samples ADD COLUMN size_class VARCHAR(16) NOT NULL DEFAULT ''",
    "ALTER TABLE lab_samples ADD COLUMN domain TEXT NOT NULL DEFAULT ''",
];

const INDEX: &str = "CREATE INDEX IF NOT EXISTS ix_lab_samples_facts ON lab_samples
    (plan_id, report_issued, qualified, item_id, division_code, size_class, domain)";

/// The facts of the samples already there (both databases).
const BACKFILL: &str = "UPDATE lab_samples SET
    division_code = COALESCE((SELECT e.division_code FROM sampling_tasks t JOIN enterprises e ON e.id = t.enterprise_id
        WHERE t.id = lab_samples.task_id), ''),
    size_class = COALESCE((SELECT e.size_class FROM sampling_tasks t JOIN enterprises e ON e.id = t.enterprise_id
        WHERE t.id = lab_samples.task_id), ''),
    domain = COALESCE((SELECT DOMAIN_OF(r.fields_json) FROM sampling_records r
        WHERE r.task_id = lab_samples.task_id AND r.state = 'signed' ORDER BY r.version DESC LIMIT 1), ''),
    report_issued = EXISTS (SELECT 1 FROM lab_reports p WHERE p.sample_id = lab_samples.id AND p.state = 'approved')";

const SQLITE: [&str; 6] = [
    "CREATE TRIGGER IF NOT EXISTS trg_lab_samples_facts AFTER INSERT ON lab_samples BEGIN
        UPDATE lab_samples SET
            division_code = COALESCE((SELECT e.division_code FROM sampling_tasks t JOIN enterprises e ON e.id = t.enterprise_id
                WHERE t.id = NEW.task_id), ''),
            size_class = COALESCE((SELECT e.size_class FROM sampling_tasks t JOIN enterprises e ON e.id = t.enterprise_id
                WHERE t.id = NEW.task_id), ''),
            domain = COALESCE((SELECT json_extract(r.fields_json, '$.domain') FROM sampling_records r
                WHERE r.task_id = NEW.task_id AND r.state = 'signed' ORDER BY r.version DESC LIMIT 1), ''),
            report_issued = EXISTS (SELECT 1 FROM lab_reports p WHERE p.sample_id = NEW.id AND p.state = 'approved')
        WHERE id = NEW.id;
    END",
    "CREATE TRIGGER IF NOT EXISTS trg_lab_reports_issued_insert AFTER INSERT ON lab_reports BEGIN
        UPDATE lab_samples SET report_issued = EXISTS (SELECT 1 FROM lab_reports p
            WHERE p.sample_id = NEW.sample_id AND p.state = 'approved') WHERE id = NEW.sample_id;
    END",
    "CREATE TRIGGER IF NOT EXISTS trg_lab_reports_issued_update AFTER UPDATE OF state, sample_id ON lab_reports BEGIN
        UPDATE lab_samples SET report_issued = EXISTS (SELECT 1 FROM lab_reports p
            WHERE p.sample_id = lab_samples.id AND p.state = 'approved') WHERE id IN (OLD.sample_id, NEW.sample_id);
    END",
    "CREATE TRIGGER IF NOT EXISTS trg_lab_reports_issued_delete AFTER DELETE ON lab_reports BEGIN
        UPDATE lab_samples SET report_issued = EXISTS (SELECT 1 FROM lab_reports p
            WHERE p.sample_id = OLD.sample_id AND p.state = 'approved') WHERE id = OLD.sample_id;
    END",
    "CREATE TRIGGER IF NOT EXISTS trg_sampling_records_domain_insert AFTER INSERT ON sampling_records
    WHEN NEW.state = 'signed' BEGIN
        UPDATE lab_samples SET domain = COALESCE(json_extract(NEW.fields_json, '$.domain'), '')
            WHERE task_id = NEW.task_id AND NOT EXISTS (SELECT 1 FROM sampling_records r
                WHERE r.task_id = NEW.task_id AND r.state = 'signed' AND r.version > NEW.version);
    END",
    "CREATE TRIGGER IF NOT EXISTS trg_sampling_records_domain_update AFTER UPDATE OF state ON sampling_records
    WHEN NEW.state = 'signed' BEGIN
        UPDATE lab_samples SET domain = COALESCE(json_extract(NEW.fields_json, '$.domain'), '')
            WHERE task_id = NEW.task_id AND NOT EXISTS (SELECT 1 FROM sampling_records r
                WHERE r.task_id = NEW.task_id AND r.state = 'signed' AND r.version > NEW.version);
    END",
];

const POSTGRES: [&str; 6] = [
    "CREATE OR REPLACE FUNCTION lab_sample_facts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT e.division_code, e.size_class INTO NEW.division_code, NEW.size_class
            FROM sampling_tasks t JOIN enterprises e ON e.id = t.enterprise_id WHERE t.id = NEW.task_id;
        NEW.division_code := COALESCE(NEW.division_code, '');
        NEW.size_class := COALESCE(NEW.size_class, '');
        NEW.domain := COALESCE((SELECT r.fields_json::json ->> 'domain' FROM sampling_records r
            WHERE r.task_id = NEW.task_id AND r.state = 'signed' ORDER BY r.version DESC LIMIT 1), '');
        NEW.report_issued := EXISTS (SELECT 1 FROM lab_reports p WHERE p.sample_id = NEW.id AND p.state = 'approved');
        RETURN NEW;
    END $$",
    "CREATE TRIGGER trg_lab_samples_facts BEFORE INSERT ON lab_samples
        FOR EACH ROW EXECUTE FUNCTION lab_sample_facts()",
    "CREATE OR REPLACE FUNCTION lab_sample_issued() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE lab_samples SET report_issued = EXISTS (SELECT 1 FROM lab_reports p
                WHERE p.sample_id = OLD.sample_id AND p.state = 'approved') WHERE id = OLD.sample_id;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            UPDATE lab_samples SET report_issued = EXISTS (SELECT 1 FROM lab_reports p
                WHERE p.sample_id = NEW.sample_id AND p.state = 'approved') WHERE id = NEW.sample_id;
        END IF;
        RETURN NULL;
    END $$",
    "CREATE TRIGGER trg_lab_reports_issued AFTER INSERT OR DELETE OR UPDATE OF state, sample_id ON lab_reports
        FOR EACH ROW EXECUTE FUNCTION lab_sample_issued()",
    "CREATE OR REPLACE FUNCTION lab_sample_domain() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.state = 'signed' THEN
            UPDATE lab_samples SET domain = COALESCE(NEW.fields_json::json ->> 'domain', '')
                WHERE task_id = NEW.task_id AND NOT EXISTS (SELECT 1 FROM sampling_records r
                    WHERE r.task_id = NEW.task_id AND r.state = 'signed' AND r.version > NEW.version);
        END IF;
        RETURN NULL;
    END $$",
    "CREATE TRIGGER trg_sampling_records_domain AFTER INSERT OR UPDATE OF state ON sampling_records
        FOR EACH ROW EXECUTE FUNCTION lab_sample_domain()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        let pg = m.get_database_backend() == DbBackend::Postgres;
        for col in COLUMNS {
            c.execute_unprepared(col).await?;
        }
        c.execute_unprepared(if pg {
            "ALTER TABLE lab_samples ADD COLUMN report_issued BOOLEAN NOT NULL DEFAULT false"
        } else {
            "ALTER TABLE lab_samples ADD COLUMN report_issued BOOLEAN NOT NULL DEFAULT 0"
        })
        .await?;
        let domain_of = if pg { "$1::json ->> 'domain'" } else { "json_extract($1, '$.domain')" };
        let backfill = BACKFILL.replace("DOMAIN_OF(r.fields_json)", &domain_of.replace("$1", "r.fields_json"));
        c.execute_unprepared(&backfill).await?;
        c.execute_unprepared(INDEX).await?;
        let triggers: &[&str] = if pg { &POSTGRES } else { &SQLITE };
        for t in triggers {
            c.execute_unprepared(t).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            for (t, on) in [
                ("trg_lab_samples_facts", "lab_samples"),
                ("trg_lab_reports_issued", "lab_reports"),
                ("trg_sampling_records_domain", "sampling_records"),
            ] {
                c.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t} ON {on}")).await?;
            }
            for f in ["lab_sample_facts", "lab_sample_issued", "lab_sample_domain"] {
                c.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {f}()")).await?;
            }
        } else {
            for t in [
                "trg_lab_samples_facts",
                "trg_lab_reports_issued_insert",
                "trg_lab_reports_issued_update",
                "trg_lab_reports_issued_delete",
                "trg_sampling_records_domain_insert",
                "trg_sampling_records_domain_update",
            ] {
                c.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}")).await?;
            }
        }
        c.execute_unprepared("DROP INDEX IF EXISTS ix_lab_samples_facts").await?;
        for col in ["division_code", "size_class", "domain", "report_issued"] {
            c.execute_unprepared(&format!("ALTER TABLE lab_samples DROP COLUMN {col}")).await?;
        }
        Ok(())
    }
}
