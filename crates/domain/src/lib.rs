//! Pure domain of Choucha (产品质量监督抽查): validated values, roles and permissions, the working-day
//! calendar, the enterprise registry's value types and the audit chain's hash. No I/O, no async, no
//! database: everything here is tested with plain `cargo test` in milliseconds.

pub mod access;
pub mod announcement;
pub mod audit;
pub mod audit_checkpoint;
pub mod audit_labels;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod disposal;
pub mod division;
pub mod draw;
pub mod enterprise;
pub mod error;
pub mod ids;
pub mod implementation_rules;
pub mod lab;
pub mod money;
pub mod national_export;
pub mod organisation;
pub mod plan;
pub mod results;
pub mod retest;
pub mod role;
pub mod sampling;
pub mod signed_pdf;
pub mod text;
pub mod uscc;
pub mod workflow;

pub use error::RuleViolation;
