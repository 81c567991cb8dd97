//! Seeding Choucha: the demo data of the two source notices, loaded through the service's use cases
//! (and the store's bulk insert for the synthetic registry, with its audit record), and the
//! benchmark's national-scale data set (`bench`, bulk-written), used by the CLI (`choucha demo`,
//! `serve --demo`, `bench-data`, `bench`). Nothing here is part of the service: the binary's use
//! cases never call it.

pub mod bench;
pub mod demo;
pub mod demo_plans;
