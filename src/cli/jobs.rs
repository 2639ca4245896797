//! `cairn jobs list|run NAME|history NAME` and `cairn schedule`: scheduled crawl jobs, each
//! run being `cairn archive` with the job's options, its state in `archives/cairn.sqlite`.
//!
//! Catch-up policy: runs missed while no scheduler was up collapse into one run when the
//! scheduler next starts (as systemd's `Persistent=true` and anacron do); a job is never run
//! twice at once, also across schedulers sharing the database.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use clap::{CommandFactory, Parser};

use super::{Cli, Command};
use crate::jobs::store::{JobStore, RunResult, SqliteStore};
use crate::jobs::{self, Job};

/// The long names of `cairn archive`'s options, which job tables may use.
fn archive_options() -> Vec<String> {
    let command = Cli::command();
    command
        .find_subcommand("archive")
        .map(|archive| {
            archive
                .get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string))
                .filter(|l| !matches!(l.as_str(), "archives" | "collection" | "json" | "help"))
                .collect()
        })
        .unwrap_or_default()
}

fn load_jobs(config: Option<&Path>) -> Result<(PathBuf, Vec<Job>)> {
    let path = jobs::config_path(config);
    let jobs = jobs::load(&path, &archive_options())?;
    Ok((path, jobs))
}

fn open_store(cli: &Cli) -> Result<SqliteStore> {
    std::fs::create_dir_all(&cli.archives)
        .with_context(|| format!("creating {}", cli.archives.display()))?;
    Ok(SqliteStore::open(&cli.archives.join("cairn.sqlite"))?)
}

/// Who holds a lock: this process, on this machine.
fn owner() -> String {
    format!(
        "{}:{}:{}",
        hostname(),
        std::process::id(),
        uuid::Uuid::new_v4()
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Takes the job's lock: free, stale, or held by a process of this machine that is gone (a
/// run killed outright leaves its lock behind; waiting out its staleness would be pointless).
fn lock_job(store: &dyn JobStore, job: &str, owner: &str) -> Result<bool> {
    let now = Utc::now().timestamp();
    if store.try_lock(job, owner, now)? {
        return Ok(true);
    }
    let Some(holder) = store.lock_owner(job)? else {
        return Ok(store.try_lock(job, owner, now)?);
    };
    let mut parts = holder.splitn(3, ':');
    let (host, pid) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let dead = host == hostname() && !pid.is_empty() && !Path::new("/proc").join(pid).exists();
    Ok(dead && store.take_over(job, &holder, owner, now)?)
}

pub fn list(cli: &Cli, config: Option<&Path>) -> Result<()> {
    let (_, jobs) = load_jobs(config)?;
    let store = open_store(cli)?;
    let now = Utc::now();
    let mut rows = Vec::new();
    for job in &jobs {
        let last = store.history(&job.name)?.pop();
        rows.push(serde_json::json!({
            "name": job.name,
            "schedule": job.schedule,
            "timezone": job.timezone.name(),
            "collection": job.collection,
            "targets": job.targets,
            "next_run": job.next_after(now).map(|t| t.to_rfc3339()),
            "last_outcome": last.map(|r| r.outcome),
        }));
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for r in &rows {
            println!(
                "{}\t{}\t{}\tnext {}\tlast {}",
                r["name"].as_str().unwrap_or_default(),
                r["schedule"].as_str().unwrap_or_default(),
                r["collection"].as_str().unwrap_or_default(),
                r["next_run"].as_str().unwrap_or("-"),
                r["last_outcome"].as_str().unwrap_or("never run")
            );
        }
    }
    Ok(())
}

pub fn history(cli: &Cli, config: Option<&Path>, name: &str) -> Result<()> {
    let (_, jobs) = load_jobs(config)?;
    if !jobs.iter().any(|j| j.name == name) {
        bail!("no job named {name:?} in the configuration");
    }
    let rows = open_store(cli)?.history(name)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("started\tended\toutcome\tpages\tbytes\tnew\trevisits");
    for r in rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.started,
            r.ended.as_deref().unwrap_or("-"),
            r.outcome,
            r.pages,
            r.bytes,
            r.new_payloads,
            r.revisits
        );
    }
    Ok(())
}

/// `cairn jobs run NAME [ARCHIVE OPTIONS...]`: one run now, for system schedulers; options
/// given here override the job's.
pub fn run_once(cli: &Cli, config: Option<&Path>, name: &str, overrides: &[String]) -> Result<()> {
    let (_, jobs) = load_jobs(config)?;
    let job = jobs
        .into_iter()
        .find(|j| j.name == name)
        .ok_or_else(|| anyhow!("no job named {name:?} in the configuration"))?;
    let store: Arc<dyn JobStore> = Arc::new(open_store(cli)?);
    let owner = owner();
    if !lock_job(store.as_ref(), &job.name, &owner)? {
        bail!("job {name:?} is already running (another scheduler or `jobs run` holds its lock)");
    }
    let result = run_locked(&cli.archives, &job, overrides, store.clone(), &owner);
    store.unlock(&job.name, &owner)?;
    let result = result?;
    if result.outcome != "ok" {
        bail!("job {name:?}: {}", result.outcome);
    }
    Ok(())
}

/// Runs a job whose lock is held: records the run, renews the lock while the crawl goes on.
fn run_locked(
    archives: &Path,
    job: &Job,
    overrides: &[String],
    store: Arc<dyn JobStore>,
    owner: &str,
) -> Result<RunResult> {
    let resume = resume_state(archives, job, store.as_ref())?;
    let started = Utc::now().to_rfc3339();
    let run_id = store.start_run(&job.name, &started)?;
    let done = Arc::new(AtomicBool::new(false));
    let beat = {
        let (store, done, job, owner) = (
            store.clone(),
            done.clone(),
            job.name.clone(),
            owner.to_string(),
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(500));
                let _ = store.heartbeat(&job, &owner, Utc::now().timestamp());
            }
        })
    };
    let resumable = super::archive::Resumable {
        frontier_log: Some(Arc::new(StoreFrontier {
            store: store.clone(),
            job: job.name.clone(),
        })),
        resume,
    };
    let outcome = archive_job(archives, job, overrides, resumable);
    done.store(true, Ordering::SeqCst);
    let _ = beat.join();
    let result = match outcome {
        Ok(summary) => RunResult {
            outcome: match super::archive::failed_targets_error(&summary) {
                Ok(()) => "ok".into(),
                Err(e) => format!("failed: {e}"),
            },
            pages: summary.pages,
            bytes: summary.warc_bytes,
            new_payloads: (summary.pages + summary.resources).saturating_sub(summary.revisits),
            revisits: summary.revisits,
        },
        Err(e) => RunResult {
            outcome: format!("failed: {e:#}"),
            ..RunResult::default()
        },
    };
    store.end_run(run_id, &Utc::now().to_rfc3339(), &result)?;
    if result.outcome == "ok" {
        store.clear_frontier(&job.name)?;
    }
    Ok(result)
}

/// The job store as the crawl's frontier log.
struct StoreFrontier {
    store: Arc<dyn JobStore>,
    job: String,
}

impl crate::crawl::FrontierLog for StoreFrontier {
    fn admitted(&self, candidates: &[crate::frontier::Candidate]) {
        if let Err(e) = self.store.record_frontier(&self.job, candidates) {
            eprintln!("job {}: could not persist the frontier: {e}", self.job);
        }
    }
}

/// If an earlier run of the job was killed: its runs are marked so, its unfinished WARC files
/// mended (whole records kept), the index rebuilt, and what it had queued but not archived
/// becomes this run's frontier. Otherwise a fresh frontier.
fn resume_state(
    archives: &Path,
    job: &Job,
    store: &dyn JobStore,
) -> Result<Option<crate::crawl::Resume>> {
    let killed = store.unfinished_runs(&job.name)?;
    if killed.is_empty() {
        store.clear_frontier(&job.name)?;
        return Ok(None);
    }
    let now = Utc::now().to_rfc3339();
    for id in &killed {
        let result = RunResult {
            outcome: "killed (resumed by the next run)".into(),
            ..RunResult::default()
        };
        store.end_run(*id, &now, &result)?;
    }
    let collection_dir = archives.join(&job.collection);
    let warc_dir = collection_dir.join("warc");
    let mut done: Vec<url::Url> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&warc_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if crate::warc::writer::is_open_file(&path) {
                let report = crate::warc::repair::repair(&path)?;
                eprintln!(
                    "job {}: mended {} ({} whole records kept, {} bytes dropped)",
                    job.name,
                    report.repaired.display(),
                    report.kept_records,
                    report.dropped_bytes
                );
                done.extend(
                    report
                        .captured
                        .iter()
                        .filter_map(|u| url::Url::parse(u).ok()),
                );
            }
        }
    }
    if collection_dir.is_dir() {
        crate::index::rebuild_collection_index(&collection_dir)?;
    }
    let archived: std::collections::HashSet<String> =
        done.iter().map(crate::frontier::canonical).collect();
    let pending = store
        .load_frontier(&job.name)?
        .into_iter()
        .filter(|c| !archived.contains(&crate::frontier::canonical(&c.url)))
        .collect();
    Ok(Some(crate::crawl::Resume { pending, done }))
}

/// The job as a `cairn archive` command line, run in this process.
fn archive_job(
    archives: &Path,
    job: &Job,
    overrides: &[String],
    resumable: super::archive::Resumable,
) -> Result<crate::crawl::Summary> {
    let mut argv: Vec<String> = vec![
        "cairn".into(),
        "--archives".into(),
        archives.display().to_string(),
        "-c".into(),
        job.collection.clone(),
        "archive".into(),
    ];
    argv.extend(job.archive_args.iter().cloned());
    argv.extend(overrides.iter().cloned());
    argv.push("--".into());
    argv.extend(job.targets.iter().cloned());
    let archive_cli = Cli::try_parse_from(&argv).map_err(|e| {
        anyhow!(
            "job {:?}: {}",
            job.name,
            e.to_string().lines().next().unwrap_or_default()
        )
    })?;
    let Command::Archive(args) = &archive_cli.command else {
        bail!("job {:?}: not an archive command", job.name);
    };
    super::archive::archive_with(&archive_cli, args, resumable)
}

/// `cairn schedule`: starts due jobs until SIGINT or SIGTERM, then lets running crawls finish.
pub fn schedule(cli: &Cli, config: Option<&Path>, max_jobs: usize) -> Result<()> {
    let (path, jobs) = load_jobs(config)?;
    if jobs.is_empty() {
        bail!("{}: no [[job]] defined", path.display());
    }
    let store: Arc<dyn JobStore> = Arc::new(open_store(cli)?);
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).context("installing signal handlers")?;
    }
    let owner = owner();
    eprintln!(
        "scheduling {} job(s) from {} (Ctrl-C stops)",
        jobs.len(),
        path.display()
    );
    let mut running: Vec<(String, std::thread::JoinHandle<()>)> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        running.retain(|(_, handle)| !handle.is_finished());
        let now = Utc::now();
        for job in &jobs {
            // A busy or failing database skips this tick for this job; the loop goes on.
            match start_if_due(
                &cli.archives,
                job,
                store.clone(),
                &owner,
                now,
                &running,
                max_jobs,
            ) {
                Ok(Some(handle)) => running.push((job.name.clone(), handle)),
                Ok(None) => {}
                Err(e) => eprintln!("job {}: {e:#}", job.name),
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "stopping: waiting for {} running job(s) to finish",
        running.len()
    );
    for (_, handle) in running {
        let _ = handle.join();
    }
    Ok(())
}

/// Starts the job in a thread of its own if it is due, not running, and its lock is free.
fn start_if_due(
    archives: &Path,
    job: &Job,
    store: Arc<dyn JobStore>,
    owner: &str,
    now: chrono::DateTime<Utc>,
    running: &[(String, std::thread::JoinHandle<()>)],
    max_jobs: usize,
) -> Result<Option<std::thread::JoinHandle<()>>> {
    let last_due = match store.last_due(&job.name)? {
        Some(t) => chrono::DateTime::from_timestamp(t, 0).unwrap_or(now),
        None => {
            // First sight of this job: its schedule starts now, nothing to catch up.
            store.set_last_due(&job.name, now.timestamp())?;
            return Ok(None);
        }
    };
    let Some(due) = job.next_after(last_due) else {
        return Ok(None);
    };
    if due > now {
        return Ok(None);
    }
    // Every run missed while down collapses into this one.
    store.set_last_due(&job.name, now.timestamp())?;
    if running.iter().any(|(name, _)| name == &job.name) || running.len() >= max_jobs {
        return Ok(None);
    }
    if !lock_job(store.as_ref(), &job.name, owner)? {
        return Ok(None);
    }
    let (archives, job, owner) = (archives.to_path_buf(), job.clone(), owner.to_string());
    Ok(Some(std::thread::spawn(move || {
        eprintln!("job {}: starting", job.name);
        match run_locked(&archives, &job, &[], store.clone(), &owner) {
            Ok(r) => eprintln!(
                "job {}: {}, {} pages, {} revisits",
                job.name, r.outcome, r.pages, r.revisits
            ),
            Err(e) => eprintln!("job {}: error: {e:#}", job.name),
        }
        let _ = store.unlock(&job.name, &owner);
    })))
}
