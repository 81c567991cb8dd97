//! Issue 17, two side tables that keep per-click costs flat as history and the registry grow.
//!
//! `record_product_keys`: the product identity of each signed sampling record (producer USCC, product, standard,
//! trademark, model; DESIGN.md rule 22) in a side table indexed by (producer, product), written in the
//! transaction that signs the record. The re-check at record time then reads one producer's records of
//! one product instead of every signed record of the product in the last six months. Existing signed
//! records are backfilled here.
//!
//! `enterprise_product_lines` (product, division code, enterprise) and `product_line_names`: each
//! registry entry's product lines, one row a line, kept in step by every registry write, so a draw reads
//! the entries holding the product in its area through one index range instead of every entry of the
//! area. Backfilled from the registry.

use choucha_domain::sampling::RecordFields;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};

use super::idx;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0026_scale_side_tables"
    }
}

/// Signed records read and keyed per round of the backfill.
const BATCH: i64 = 2_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("record_product_keys")
                .if_not_exists()
                .col(big_integer("record_id").primary_key())
                .col(big_integer("task_id"))
                .col(text("producer"))
                .col(text("product"))
                .col(text("standard").default(""))
                .col(text("trademark").default(""))
                .col(text("model").default(""))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_record_product_keys_producer", "record_product_keys", &["producer", "product"])).await?;
        backfill(m).await?;

        m.create_table(
            Table::create()
                .table("enterprise_product_lines")
                .if_not_exists()
                .col(text("product"))
                .col(string_len("division_code", 6))
                .col(big_integer("enterprise_id"))
                .take(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            // Divergent (PostgreSQL only): division codes compare by code point, as in `enterprises`
            // (m0001), so a division prefix is a range of the index.
            m.get_connection()
                .execute_unprepared(
                    "ALTER TABLE enterprise_product_lines ALTER COLUMN division_code TYPE varchar(6) COLLATE \"C\"",
                )
                .await?;
        }
        m.create_index(idx(
            "ix_enterprise_product_lines_product",
            "enterprise_product_lines",
            &["product", "division_code", "enterprise_id"],
        ))
        .await?;
        m.create_index(idx("ix_enterprise_product_lines_enterprise", "enterprise_product_lines", &["enterprise_id"]))
            .await?;
        m.create_table(
            Table::create().table("product_line_names").if_not_exists().col(text("name").primary_key()).take(),
        )
        .await?;
        backfill_lines(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["product_line_names", "enterprise_product_lines", "record_product_keys"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

/// The next batch of a keyset read whose first column is the id: `sql` of the last id read, which
/// moves on to the batch's last.
async fn next_batch(
    m: &SchemaManager<'_>,
    last: &mut i64,
    sql: impl Fn(i64) -> String,
) -> Result<Vec<QueryResult>, DbErr> {
    let rows = m.get_connection().query_all_raw(Statement::from_string(m.get_database_backend(), sql(*last))).await?;
    if let Some(end) = rows.last() {
        *last = end.try_get_by_index::<i64>(0)?;
    }
    Ok(rows)
}

/// Every signed record's key, in id order, as the service writes it at signing (a record whose fields
/// do not parse has no key: the check never counted it).
async fn backfill(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut last = 0i64;
    loop {
        let rows = next_batch(m, &mut last, |last| {
            format!(
                "SELECT r.id, r.task_id, r.fields_json, e.uscc, i.product FROM sampling_records r \
                 JOIN sampling_tasks t ON t.id = r.task_id JOIN enterprises e ON e.id = t.enterprise_id \
                 JOIN plan_items i ON i.id = t.item_id \
                 WHERE r.state = 'signed' AND r.id > {last} ORDER BY r.id LIMIT {BATCH}"
            )
        })
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut q = Query::insert();
        q.into_table("record_product_keys").columns([
            "record_id",
            "task_id",
            "producer",
            "product",
            "standard",
            "trademark",
            "model",
        ]);
        let mut any = false;
        for r in &rows {
            let fields: String = r.try_get_by_index(2)?;
            let Ok(f) = serde_json::from_str::<RecordFields>(&fields) else { continue };
            let uscc: String = r.try_get_by_index(3)?;
            let product: String = r.try_get_by_index(4)?;
            let k = f.product_key(&uscc, &product);
            q.values_panic([
                r.try_get_by_index::<i64>(0)?.into(),
                r.try_get_by_index::<i64>(1)?.into(),
                k.producer.into(),
                k.product.into(),
                k.standard.unwrap_or_default().into(),
                k.trademark.unwrap_or_default().into(),
                k.model.unwrap_or_default().into(),
            ]);
            any = true;
        }
        if any {
            m.exec_stmt(q).await?;
        }
    }
}

/// Every registry entry's product lines, in id order, split as the registry splits them.
async fn backfill_lines(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut names = std::collections::BTreeSet::new();
    let mut last = 0i64;
    loop {
        let rows = next_batch(m, &mut last, |last| {
            format!(
                "SELECT id, division_code, product_lines FROM enterprises WHERE id > {last} ORDER BY id LIMIT {BATCH}"
            )
        })
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut q = Query::insert();
        q.into_table("enterprise_product_lines").columns(["product", "division_code", "enterprise_id"]);
        let mut any = false;
        for r in &rows {
            let id: i64 = r.try_get_by_index(0)?;
            let division: String = r.try_get_by_index(1)?;
            let lines: String = r.try_get_by_index(2)?;
            for line in choucha_domain::enterprise::product_line_set(&lines) {
                q.values_panic([line.clone().into(), division.clone().into(), id.into()]);
                names.insert(line);
                any = true;
            }
        }
        if any {
            m.exec_stmt(q).await?;
        }
    }
    let names: Vec<String> = names.into_iter().collect();
    for chunk in names.chunks(1000) {
        let mut q = Query::insert();
        q.into_table("product_line_names").columns(["name"]);
        for n in chunk {
            q.values_panic([n.clone().into()]);
        }
        m.exec_stmt(q).await?;
    }
    Ok(())
}
