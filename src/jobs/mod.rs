//! Scheduled crawl jobs: their definitions in `cairn.toml` ([`config`]), their state and history
//! behind the narrow [`store::JobStore`] interface (SQLite in `archives/cairn.sqlite` by
//! default), one run of a job ([`run`]: its lock, the resumption of a killed run, its record),
//! and the scheduler that starts due jobs ([`schedule`]).
//!
//! Running a job is archiving its targets with its options, the same
//! [`crate::archive::archive`] as `cairn archive`; re-crawls store unchanged payloads as
//! revisits.

pub mod config;
pub mod run;
pub mod schedule;
pub mod store;

pub use config::{ConfigError, Job, config_path, load};
pub use run::{JobError, RunReport, run_once};
pub use schedule::Scheduler;
