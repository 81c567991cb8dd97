//! The generated registry: `--enterprises` entries over all 31 provinces, written in batches.

use chrono::Duration;

use super::columns::{ENTERPRISE_COLS, PRODUCT_LINE_COLS};
use super::generator::{Gen, enterprise};
use super::reference::TRADES;
use super::sink::{Batch, Sink};
use super::{BATCH, Ctx, Progress};

/// Shanxi's operating enterprises by city (0 … 10) and trade (index in `TRADES`), for the tasks.
pub(super) type Shanxi = Vec<Vec<Vec<i64>>>;

/// Writes `enterprises` registry entries; returns Shanxi's by (city, trade).
pub(super) async fn load(
    sink: &Sink,
    g: &mut Gen,
    cx: &Ctx,
    enterprises: u64,
    progress: &Progress,
) -> anyhow::Result<Shanxi> {
    let mut shanxi: Shanxi = vec![vec![Vec::new(); TRADES.len()]; 11];
    let mut eid = sink.next_id("enterprises").await?;
    let mut batch = Batch::default();
    // The draw's product-line index (m0026, m0036), one row a line, as the registry's writes keep it.
    let mut lines = Batch::default();
    let mut names = std::collections::BTreeSet::new();
    for i in 0..enterprises {
        let e = enterprise(g, i, cx.as_of);
        for line in choucha_domain::enterprise::product_line_set(&e.product_lines) {
            lines.push(vec![
                line.clone().into(),
                e.division.clone().into(),
                eid.into(),
                e.uscc.clone().into(),
                e.name.clone().into(),
                e.kinds.into(),
                e.status.into(),
                e.size.into(),
            ]);
            names.insert(line);
        }
        if e.division.starts_with("14") {
            let city = e.division[2..4].parse::<usize>().unwrap_or(1).clamp(1, 11) - 1;
            if e.status == "operating" {
                shanxi[city][e.trade].push(eid);
            }
        }
        let created = cx.now - Duration::days(30 + g.below(3650) as i64);
        batch.push(vec![
            eid.into(),
            e.uscc.into(),
            e.name.into(),
            e.division.into(),
            e.address.into(),
            e.kinds.into(),
            e.size.into(),
            e.product_lines.into(),
            e.licence_no.into(),
            e.licence_until.into(),
            e.ccc.into(),
            e.status.into(),
            created.into(),
            created.into(),
        ]);
        eid += 1;
        if batch.len() >= BATCH {
            sink.write("enterprises", &ENTERPRISE_COLS, &batch).await?;
            sink.write("enterprise_product_lines", &PRODUCT_LINE_COLS, &lines).await?;
            progress.inc(batch.len());
            batch = Batch::default();
            lines = Batch::default();
        }
    }
    sink.write("enterprises", &ENTERPRISE_COLS, &batch).await?;
    sink.write("enterprise_product_lines", &PRODUCT_LINE_COLS, &lines).await?;
    progress.inc(batch.len());
    for name in names {
        sink.execute(&format!(
            "INSERT INTO product_line_names (name) VALUES ('{}') ON CONFLICT DO NOTHING",
            name.replace('\'', "''")
        ))
        .await?;
    }
    Ok(shanxi)
}
