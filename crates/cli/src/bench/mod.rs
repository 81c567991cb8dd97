//! Scale: `choucha bench-data` generates a synthetic national-scale deployment, `choucha bench`
//! measures it through our layers beside a bare baseline (docs/PERFORMANCE.md).

pub mod bare;
pub mod data;
pub mod run;
pub mod sink;
