//! `choucha bench` as CI runs it: a tiny `bench-data` on SQLite, then `bench` with few iterations.
//! It must print its table with every row — each operation beside its baseline where it has one,
//! over HTTP as well — and leave the draw's data as it found it (the draws are taken back), so a
//! second run does not run out. No timing is asserted.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::Output;

mod common;
use common::{TempDir, output, scalar};

/// The draws and tasks of the plan the bench draws from.
const DRAWN: &str = "SELECT (SELECT COUNT(*) FROM draws d JOIN plans p ON p.id = d.plan_id WHERE p.title = '基准数据：大同市随机抽取计划') \
     * 1000000 + (SELECT COUNT(*) FROM sampling_tasks t JOIN plans p ON p.id = t.plan_id WHERE p.title = '基准数据：大同市随机抽取计划')";

fn assert_ok(o: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{what} failed ({:?})\nstdout:\n{stdout}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

/// Every row of the table (wrk's throughput row aside: wrk is an external program, run by hand).
const ROWS: [(&str, bool); 20] = [
    ("registry search, name prefix (50 rows)", true),
    ("registry search, USCC", true),
    ("sampler's worklist, first page (50)", true),
    ("tester's worklist, own samples (50)", true),
    ("lab worklist, institution (50)", true),
    ("plan dashboard (plan view with progress)", true),
    ("plan summary aggregate (per item × state, signed)", true),
    ("plan figures (statistics::plan_figures)", false),
    ("quality analysis figures (statistics::quality_analysis)", false),
    ("summary table XLSX (statistics::summary_xlsx)", false),
    ("draw preview (candidates + exclusions)", true),
    ("draw of 100 with exclusions (creates 100 tasks)", true),
    ("create a sampling record + audit record", true),
    ("sampling record PDF (抽样单)", false),
    ("test report PDF (检验报告)", false),
    ("HTTP click: GET /api/v1/tasks (sampler's worklist, 50)", true),
    ("HTTP click: GET /api/v1/plans/{id} (plan dashboard)", true),
    ("HTTP click: GET /api/v1/enterprises (name prefix, 50 rows)", true),
    ("HTTP click: PUT /api/v1/tasks/{id}/record (create a sampling record)", true),
    // The two-size table of `--compare`.
    ("| operation | p50 at ", false),
];

#[tokio::test]
async fn bench_prints_every_row_on_a_tiny_data_set_and_leaves_the_draws_data_as_found() {
    let dir = TempDir::new("bench-smoke");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let data = dir.data();
    let data = data.to_str().unwrap();
    let db = ["--database-url", url.as_str(), "--data-dir", data];
    let load = [&db[..], &["bench-data", "--enterprises", "3000", "--samples", "3000", "--seed", "smoke"]].concat();
    assert_ok(&output(&load), "bench-data");
    let drawn = scalar(&url, DRAWN).await;
    let first = dir.path().join("first.json");
    let first = first.to_str().unwrap();
    let run = |extra: &[&str]| {
        let args = [&db[..], &["bench", "--iterations", "3", "--warmup", "1", "--http-seconds", "1"], extra].concat();
        // `http` names wrk's row too: only the per-click HTTP rows are asked for.
        let only = "search,worklist,dashboard,summary,draw,record,pdf,http-clicks";
        output(&[&args[..], &["--only", only]].concat())
    };
    assert_ok(&run(&["--json", first]), "first bench");
    // Again, against the first run: the draws found their pool as the first run left it.
    let table = assert_ok(&run(&["--compare", first]), "second bench");
    for (row, baseline) in ROWS {
        let line = table.lines().find(|l| l.contains(row)).unwrap_or_else(|| panic!("no row “{row}”:\n{table}"));
        if row.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | operation | ours p50 | p95 | p99 | baseline p50 | … : the baseline's cell has a figure or —.
        assert_eq!(cells[5] != "—", baseline, "baseline of “{row}”: {line}");
    }
    assert_eq!(scalar(&url, DRAWN).await, drawn, "every measured draw was taken back");
}
