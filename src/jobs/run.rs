//! Running one job: its lock taken (and renewed while the crawl goes on), a killed earlier run
//! resumed (its unfinished WARC files mended, its queue taken up), the archive run with its
//! frontier persisted, its `on_change` command run when pages' texts changed, and the run
//! recorded with its outcome.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;

use super::Job;
use super::notify::notify;
use super::store::{JobStore, Outcome, RunResult, StoreError};
use crate::archive::{self, ArchiveError, ArchiveOptions, Resume, Summary};
use crate::collection::{Archives, Collection, CollectionError, CollectionName};
use crate::crawl::FrontierLog;
use crate::frontier::{Candidate, canonical};
use crate::index::WrittenIndex;
use crate::state::runs::{self, SharedRun};
use crate::state::{StateError, hostname, worker_id};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job {0:?} is already running (another scheduler or `jobs run` holds its lock)")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Collection(#[from] CollectionError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Config(#[from] super::ConfigError),
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
}

/// A run's record, and the archive's own summary when it got that far.
#[derive(Debug)]
pub struct RunReport {
    pub result: RunResult,
    pub summary: Option<Summary>,
}

/// Takes the job's lock: free, stale, or held by a process of this machine that is gone (a
/// run killed outright leaves its lock behind; waiting out its staleness would be pointless).
pub fn lock_job(store: &dyn JobStore, job: &str, owner: &str) -> Result<bool, StoreError> {
    let now = Utc::now().timestamp();
    if store.try_lock(job, owner, now)? {
        return Ok(true);
    }
    let Some(holder) = store.lock_owner(job)? else {
        return store.try_lock(job, owner, now);
    };
    let mut parts = holder.splitn(3, ':');
    let (host, pid) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let dead = host == hostname() && !pid.is_empty() && !Path::new("/proc").join(pid).exists();
    Ok(dead && store.take_over(job, &holder, owner, now)?)
}

/// `cairn jobs run`: runs the job once now with `options`, if no one else is running it.
pub fn run_once(
    archives: &Archives,
    job: &Job,
    options: &ArchiveOptions,
    store: Arc<dyn JobStore>,
) -> Result<RunReport, JobError> {
    if job.options.state.is_some() || options.state.is_some() {
        return run_shared(archives, job, options);
    }
    let owner = worker_id();
    if !lock_job(store.as_ref(), &job.name, &owner)? {
        return Err(JobError::Busy(job.name.clone()));
    }
    let report = run_locked(archives, job, options, store.clone(), &owner);
    store.unlock(&job.name, &owner)?;
    report
}

/// Runs a job whose lock `owner` holds: records the run, renews the lock while the crawl goes
/// on.
pub fn run_locked(
    archives: &Archives,
    job: &Job,
    options: &ArchiveOptions,
    store: Arc<dyn JobStore>,
    owner: &str,
) -> Result<RunReport, JobError> {
    // Mending and waiting for the collection's lock can take a while too: the job's lock is
    // renewed from the start, or another scheduler would take it as stale.
    with_heartbeat(store.clone(), &job.name, owner, || {
        let collection = archives.collection(&job.collection);
        let resume = resume_state(&collection, job, store.as_ref())?;
        let started = Utc::now().to_rfc3339();
        let run_id = store.start_run(&job.name, &started)?;
        let resume = Resume {
            frontier_log: Some(Arc::new(StoreFrontier {
                store: store.clone(),
                job: job.name.clone(),
            })),
            ..resume
        };
        let (mut result, summary) = match archive::archive(&collection, options, resume) {
            Ok(summary) => (result_of(&summary), Some(summary)),
            Err(e) => (RunResult::bare(Outcome::Failed(e.to_string())), None),
        };
        notify_changes(job, &mut result);
        store.end_run(run_id, &Utc::now().to_rfc3339(), &result)?;
        if result.outcome == Outcome::Ok {
            store.clear_frontier(&job.name)?;
        }
        Ok(RunReport { result, summary })
    })
}

/// Runs a job whose crawl state is shared (`state = "postgres://..."`): as one worker of its
/// run, so no lock is taken (every worker that runs the job joins the same run) and the run is
/// recorded with the shared state, where `cairn jobs history` reads it. Each worker runs
/// `on_change` for the changed pages it fetched itself (workers fetch apart), and adds them,
/// and what the command did, to the shared run.
pub fn run_shared(
    archives: &Archives,
    job: &Job,
    options: &ArchiveOptions,
) -> Result<RunReport, JobError> {
    let collection = archives.collection(&job.collection);
    let (mut result, summary) = match archive::archive(&collection, options, Resume::default()) {
        Ok(summary) => (result_of(&summary), Some(summary)),
        Err(e) => (RunResult::bare(Outcome::Failed(e.to_string())), None),
    };
    notify_changes(job, &mut result);
    let run = summary.as_ref().and_then(|s| s.crawl.shared_run);
    if let Some(run) = run.filter(|_| !result.changed.is_empty()) {
        // The run this worker joined is in the state it crawled with, the command line's
        // `--state` over the job's. Its record is not worth the run: a failure is said.
        let recorded = with_shared_state(options, &job.collection, async |client, _| {
            let on_change = result.on_change.as_deref();
            Ok(runs::add_changes(client, run, &result.changed, on_change).await?)
        });
        if let Err(error) = recorded {
            tracing::warn!(%error, run, "adding the changed pages to the shared run's record");
        }
    }
    Ok(RunReport { result, summary })
}

/// Runs the job's `on_change` command, if it has one and the run changed some page's text,
/// and keeps what it did in the run's result.
fn notify_changes(job: &Job, result: &mut RunResult) {
    if let Some(command) = job
        .on_change
        .as_ref()
        .filter(|_| !result.changed.is_empty())
    {
        result.on_change = Some(notify(command, job, &result.changed));
    }
}

/// Every run of a job whose crawl state is shared, as the shared state recorded them.
pub fn shared_history(job: &Job) -> Result<Vec<SharedRun>, JobError> {
    let history = async |client: &tokio_postgres::Client, crawl: &str| {
        Ok(runs::history(client, crawl).await?)
    };
    Ok(with_shared_state(&job.options, &job.collection, history)?.unwrap_or_default())
}

/// Runs `query` on a connection to the shared state of `options`, with the name of the
/// collection's crawl there; `None` without one.
fn with_shared_state<T>(
    options: &ArchiveOptions,
    collection: &CollectionName,
    query: impl AsyncFnOnce(&tokio_postgres::Client, &str) -> Result<T, JobError>,
) -> Result<Option<T>, JobError> {
    let Some(crawl) = options
        .shared_crawl(collection)
        .map_err(ArchiveError::from)?
    else {
        return Ok(None);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ArchiveError::Runtime)?;
    runtime.block_on(async {
        let client = crawl.state.connect().await?;
        Ok(Some(query(&client, &crawl.crawl).await?))
    })
}

/// What a finished archive run counts for the job's history.
fn result_of(summary: &Summary) -> RunResult {
    let crawl = &summary.crawl;
    RunResult {
        outcome: match summary.check() {
            Ok(()) => Outcome::Ok,
            Err(failed) => Outcome::Failed(failed.to_string()),
        },
        pages: crawl.pages,
        bytes: crawl.warc_bytes,
        new_payloads: (crawl.pages + crawl.resources).saturating_sub(crawl.revisits),
        revisits: crawl.revisits,
        changed: summary.texts.changed.clone(),
        on_change: None,
    }
}

/// Runs `work` while a thread renews the job's lock every half second.
fn with_heartbeat<T>(
    store: Arc<dyn JobStore>,
    job: &str,
    owner: &str,
    work: impl FnOnce() -> T,
) -> T {
    let done = Arc::new(AtomicBool::new(false));
    let beat = {
        let (done, job, owner) = (done.clone(), job.to_string(), owner.to_string());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(500));
                // A busy database misses one beat; the lock goes stale only after many.
                let _ = store.heartbeat(&job, &owner, Utc::now().timestamp());
            }
        })
    };
    let value = work();
    done.store(true, Ordering::SeqCst);
    let _ = beat.join();
    value
}

/// The job store as the crawl's frontier log.
struct StoreFrontier {
    store: Arc<dyn JobStore>,
    job: String,
}

impl FrontierLog for StoreFrontier {
    fn admitted(&self, candidates: &[Candidate]) {
        if let Err(error) = self.store.record_frontier(&self.job, candidates) {
            tracing::warn!(job = %self.job, %error, "could not persist the frontier");
        }
    }
}

/// If an earlier run of the job was killed: its runs are marked so, its unfinished WARC files
/// mended (whole records kept), the index rebuilt, and what it had queued but not archived
/// becomes this run's frontier. Otherwise a fresh start.
fn resume_state(
    collection: &Collection,
    job: &Job,
    store: &dyn JobStore,
) -> Result<Resume, JobError> {
    let killed = store.unfinished_runs(&job.name)?;
    if killed.is_empty() {
        store.clear_frontier(&job.name)?;
        return Ok(Resume::default());
    }
    let now = Utc::now().to_rfc3339();
    for id in &killed {
        store.end_run(*id, &now, &RunResult::bare(Outcome::Killed))?;
    }
    let done = archive::mend_unfinished(collection, &job.name)?;
    let lock = collection.lock()?;
    collection.update_index(&lock, &WrittenIndex::default())?;
    drop(lock);
    let archived: HashSet<String> = done.iter().map(canonical).collect();
    let pending = store
        .load_frontier(&job.name)?
        .into_iter()
        .filter(|c| !archived.contains(&canonical(&c.url)))
        .collect();
    Ok(Resume {
        frontier_log: None,
        pending,
        done,
    })
}
