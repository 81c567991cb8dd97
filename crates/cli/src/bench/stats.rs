//! What `choucha bench` measures and prints: nearest-rank percentiles of timed calls, one line per
//! operation (ours beside the baseline) and the Markdown table.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub n: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    /// Requests per second (HTTP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps: Option<f64>,
}

impl Stats {
    pub(super) fn of(mut d: Vec<Duration>) -> Stats {
        d.sort();
        let ms = |x: Duration| x.as_secs_f64() * 1000.0;
        let rank = |p: f64| {
            if d.is_empty() {
                return 0.0;
            }
            let i = ((p * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1;
            ms(d[i])
        };
        let mean = if d.is_empty() { 0.0 } else { d.iter().map(|x| ms(*x)).sum::<f64>() / d.len() as f64 };
        Stats { n: d.len(), p50_ms: rank(0.50), p95_ms: rank(0.95), p99_ms: rank(0.99), mean_ms: mean, rps: None }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub operation: String,
    pub ours: Stats,
    pub baseline: Option<Stats>,
    pub note: String,
}

/// Time `n` calls of `f` (after `warmup` untimed calls); `f` gets the call's index.
pub(super) async fn measure<F, Fut, T>(warmup: usize, n: usize, mut f: F) -> anyhow::Result<Stats>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    for i in 0..warmup {
        f(i).await?;
    }
    let mut d = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(warmup + i).await?;
        d.push(t.elapsed());
    }
    Ok(Stats::of(d))
}

pub(super) fn push(lines: &mut Vec<Line>, op: &str, ours: Stats, baseline: Option<Stats>, note: &str) {
    eprintln!("  {op}: p50 {:.2} ms", ours.p50_ms);
    lines.push(Line { operation: op.into(), ours, baseline, note: note.into() });
}

pub(super) fn print_table(backend: &str, lines: &[Line]) {
    println!("\n{backend}");
    println!(
        "| operation | ours p50 | p95 | p99 | baseline p50 | p95 | p99 | ratio p50 | ratio p95 | note |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for l in lines {
        let o = &l.ours;
        let (b50, b95, b99, r50, r95) = match &l.baseline {
            Some(b) => (
                format!("{:.2}", b.p50_ms),
                format!("{:.2}", b.p95_ms),
                format!("{:.2}", b.p99_ms),
                ratio(o.p50_ms, b.p50_ms),
                ratio(o.p95_ms, b.p95_ms),
            ),
            None => ("—".into(), "—".into(), "—".into(), "—".into(), "—".into()),
        };
        let note = match (o.rps, l.baseline.as_ref().and_then(|b| b.rps)) {
            (Some(a), Some(b)) => format!("{:.0} req/s vs {:.0} req/s ({:.0}%); {}", a, b, 100.0 * a / b, l.note),
            _ => l.note.clone(),
        };
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {b50} | {b95} | {b99} | {r50} | {r95} | {note} |",
            l.operation, o.p50_ms, o.p95_ms, o.p99_ms
        );
    }
}

/// The size of a bench's data set: registry entries and sampling tasks.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Size {
    pub enterprises: i64,
    pub samples: i64,
}

/// The two-size table: each operation's p50 and p95 in this run beside another run's (`--compare`,
/// its `--json` file, made on a data set of another size), and how much it grew. A per-click cost
/// that does not grow with history stays near 1.0×.
pub(super) fn comparison_table(size: Size, lines: &[Line], other: &serde_json::Value) -> anyhow::Result<String> {
    let other_size: Size = serde_json::from_value(other.get("size").cloned().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("对比文件缺少数据规模（size）：{e}"))?;
    let other_lines: Vec<serde_json::Value> =
        other.get("lines").and_then(|l| l.as_array()).cloned().unwrap_or_default();
    let p = |l: &serde_json::Value, k: &str| l.get("ours").and_then(|o| o.get(k)).and_then(serde_json::Value::as_f64);
    let label = |s: Size| format!("{} enterprises, {} samples", s.enterprises, s.samples);
    let mut out = format!(
        "\n| operation | p50 at {a} | p95 | p50 at {b} | p95 | growth p50 | growth p95 |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        a = label(other_size),
        b = label(size)
    );
    for l in lines {
        let Some(o) = other_lines.iter().find(|x| x.get("operation").and_then(|v| v.as_str()) == Some(&l.operation))
        else {
            continue;
        };
        let (Some(o50), Some(o95)) = (p(o, "p50_ms"), p(o, "p95_ms")) else { continue };
        out.push_str(&format!(
            "| {} | {o50:.2} | {o95:.2} | {:.2} | {:.2} | {} | {} |\n",
            l.operation,
            l.ours.p50_ms,
            l.ours.p95_ms,
            ratio(l.ours.p50_ms, o50),
            ratio(l.ours.p95_ms, o95)
        ));
    }
    Ok(out)
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{:.1}×", a / b) } else { "—".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_sizes_side_by_side_with_the_growth() {
        let line = |op: &str, ms: u64| Line {
            operation: op.into(),
            ours: Stats::of(vec![Duration::from_millis(ms)]),
            baseline: None,
            note: String::new(),
        };
        let small = Size { enterprises: 1_000, samples: 2_000 };
        let other =
            serde_json::json!({"backend": "SQLite", "size": small, "lines": [line("worklist", 4), line("gone", 1)]});
        let big = Size { enterprises: 10_000, samples: 20_000 };
        let t = comparison_table(big, &[line("worklist", 6), line("new", 9)], &other).unwrap();
        assert!(t.contains("p50 at 1000 enterprises, 2000 samples"), "{t}");
        assert!(t.contains("| worklist | 4.00 | 4.00 | 6.00 | 6.00 | 1.5× | 1.5× |"), "{t}");
        assert!(!t.contains("| new |") && !t.contains("| gone |"), "only operations measured in both: {t}");
        assert!(comparison_table(big, &[], &serde_json::json!({"lines": []})).is_err(), "a file without its size");
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = Stats::of((1..=100).map(Duration::from_millis).collect());
        assert_eq!((s.p50_ms, s.p95_ms, s.p99_ms), (50.0, 95.0, 99.0));
    }
}
