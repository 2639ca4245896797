//! Scheduled crawl jobs: their definitions in `cairn.toml` ([`config`]), their state and history
//! behind the narrow [`store::JobStore`] interface (SQLite in `archives/cairn.sqlite` by
//! default), one run of a job ([`run`]: its lock, the resumption of a killed run, its record),
//! and the scheduler that starts due jobs ([`schedule`]); a run whose pages' texts changed
//! runs the job's `on_change` command ([`notify`]).
//!
//! Running a job is archiving its targets with its options, the same
//! [`crate::archive::archive`] as `cairn archive`; re-crawls store unchanged payloads as
//! revisits.

pub mod config;
pub mod notify;
pub mod run;
pub mod schedule;
pub mod store;

pub use config::{ConfigError, Job, config_path, load};
pub use run::{JobError, RunReport, run_once};
pub use schedule::Scheduler;
