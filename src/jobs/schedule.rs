//! `cairn schedule`: starts due jobs in the foreground until SIGINT or SIGTERM, then lets the
//! running crawls finish.
//!
//! Catch-up policy: runs missed while no scheduler was up collapse into one run when the
//! scheduler next starts (as systemd's `Persistent=true` and anacron do); a job is never run
//! twice at once, also across schedulers sharing the database. A job with shared state
//! (`state = "postgres://..."`) is the exception by design: each scheduler that finds it due
//! joins its live run as one more worker (a scheduler whose clock lets it come after the run
//! ended starts a new one).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Job;
use super::run::{JobError, lock_job, run_locked, run_shared};
use super::store::JobStore;
use crate::collection::Archives;
use crate::state::worker_id;

/// How often the scheduler looks for due jobs.
const TICK: Duration = Duration::from_millis(200);

pub struct Scheduler {
    archives: Archives,
    jobs: Vec<Job>,
    store: Arc<dyn JobStore>,
    owner: String,
    max_jobs: usize,
    running: Vec<(String, JoinHandle<()>)>,
}

impl Scheduler {
    pub fn new(
        archives: Archives,
        jobs: Vec<Job>,
        store: Arc<dyn JobStore>,
        max_jobs: usize,
    ) -> Scheduler {
        Scheduler {
            archives,
            jobs,
            store,
            owner: worker_id(),
            max_jobs: max_jobs.max(1),
            running: Vec::new(),
        }
    }

    /// Starts due jobs until SIGINT or SIGTERM, then waits for the running ones.
    pub fn run_until_signalled(mut self) -> Result<(), JobError> {
        let stop = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, stop.clone()).map_err(JobError::Signals)?;
        }
        while !stop.load(Ordering::SeqCst) {
            self.tick(Utc::now());
            std::thread::sleep(TICK);
        }
        tracing::info!(
            running = self.running.len(),
            "stopping: waiting for running jobs"
        );
        for (_, handle) in self.running {
            let _ = handle.join();
        }
        Ok(())
    }

    /// Starts every job that is due now.
    fn tick(&mut self, now: DateTime<Utc>) {
        self.running.retain(|(_, handle)| !handle.is_finished());
        for i in 0..self.jobs.len() {
            // A busy or failing database skips this tick for this job; the loop goes on.
            match self.start_if_due(&self.jobs[i], now) {
                Ok(Some(handle)) => self.running.push((self.jobs[i].name.clone(), handle)),
                Ok(None) => {}
                Err(error) => tracing::warn!(job = %self.jobs[i].name, %error, "not started"),
            }
        }
    }

    /// Starts the job in a thread of its own if it is due, not running, and its lock is free.
    fn start_if_due(
        &self,
        job: &Job,
        now: DateTime<Utc>,
    ) -> Result<Option<JoinHandle<()>>, JobError> {
        let store = &self.store;
        let last_due = match store.last_due(&job.name)? {
            Some(t) => DateTime::from_timestamp(t, 0).unwrap_or(now),
            None => {
                // First sight of this job: its schedule starts now, nothing to catch up.
                store.set_last_due(&job.name, now.timestamp())?;
                return Ok(None);
            }
        };
        if job.next_after(last_due).is_none_or(|due| due > now) {
            return Ok(None);
        }
        // Every run missed while down collapses into this one.
        store.set_last_due(&job.name, now.timestamp())?;
        let busy = self.running.iter().any(|(name, _)| name == &job.name);
        if busy || self.running.len() >= self.max_jobs {
            return Ok(None);
        }
        // A job with shared state takes no lock: each scheduler's run joins the same one.
        let shared = job.options.state.is_some();
        if !shared && !lock_job(store.as_ref(), &job.name, &self.owner)? {
            return Ok(None);
        }
        let (archives, job, store, owner) = (
            self.archives.clone(),
            job.clone(),
            store.clone(),
            self.owner.clone(),
        );
        Ok(Some(std::thread::spawn(move || {
            tracing::info!(job = %job.name, "starting");
            let report = if shared {
                run_shared(&archives, &job, &job.options)
            } else {
                run_locked(&archives, &job, &job.options, store.clone(), &owner)
            };
            match report {
                Ok(report) => tracing::info!(
                    job = %job.name,
                    outcome = %report.result.outcome,
                    pages = report.result.pages,
                    revisits = report.result.revisits,
                    "finished"
                ),
                Err(error) => tracing::error!(job = %job.name, %error, "failed"),
            }
            if !shared {
                let _ = store.unlock(&job.name, &owner);
            }
        })))
    }
}
