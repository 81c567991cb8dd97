//! Scale: `choucha bench-data` generates a synthetic national-scale deployment (`choucha_seed::bench`),
//! `choucha bench` measures it through our layers beside a bare baseline (docs/PERFORMANCE.md).

pub mod bare;
mod clicks;
pub mod data;
pub mod run;
mod stats;
mod wrk;
