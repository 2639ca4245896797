//! `cairn jobs list|run NAME|history NAME` and `cairn schedule`: the job file loaded, one
//! library call, and what it says printed.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Result, bail};
use chrono::Utc;

use super::{Cli, JobsAction};
use crate::jobs::store::{JobStore, Outcome, SqliteStore};
use crate::jobs::{self, ConfigError, Job, Scheduler};

fn load_jobs(config: Option<&Path>) -> Result<Vec<Job>> {
    Ok(jobs::load(&jobs::config_path(config))?)
}

fn find(jobs: Vec<Job>, name: &str) -> Result<Job> {
    match jobs.into_iter().find(|j| j.name == name) {
        Some(job) => Ok(job),
        None => Err(ConfigError::NoSuchJob(name.to_string()).into()),
    }
}

fn open_store(cli: &Cli) -> Result<Arc<dyn JobStore>> {
    let path = cli.archives().job_database()?;
    Ok(Arc::new(SqliteStore::open(&path)?))
}

/// `given` tells whether `jobs run` was given an option on its command line.
pub fn jobs(
    cli: &Cli,
    config: Option<&Path>,
    action: &JobsAction,
    given: &dyn Fn(&str) -> bool,
) -> Result<()> {
    match action {
        JobsAction::List => list(cli, config),
        JobsAction::History { name } => history(cli, config, name),
        JobsAction::Run { name, overrides } => run(cli, config, name, overrides, given),
    }
}

fn list(cli: &Cli, config: Option<&Path>) -> Result<()> {
    let jobs = load_jobs(config)?;
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
            "targets": job.options.targets,
            "next_run": job.next_after(now).map(|t| t.to_rfc3339()),
            "last_outcome": last.map(|r| r.outcome),
        }));
    }
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for r in &rows {
        out!(
            "{}\t{}\t{}\tnext {}\tlast {}",
            r["name"].as_str().unwrap_or_default(),
            r["schedule"].as_str().unwrap_or_default(),
            r["collection"].as_str().unwrap_or_default(),
            r["next_run"].as_str().unwrap_or("-"),
            r["last_outcome"].as_str().unwrap_or("never run")
        );
    }
    Ok(())
}

fn history(cli: &Cli, config: Option<&Path>, name: &str) -> Result<()> {
    let job = find(load_jobs(config)?, name)?;
    if job.options.state.is_some() {
        return shared_history(cli, &job);
    }
    let rows = open_store(cli)?.history(&job.name)?;
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    out!("started\tended\toutcome\tpages\tbytes\tnew\trevisits\tchanged");
    for r in rows {
        out!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.started,
            r.ended.as_deref().unwrap_or("-"),
            r.outcome,
            r.pages,
            r.bytes,
            r.new_payloads,
            r.revisits,
            r.changed.len()
        );
        for url in &r.changed {
            out!("  text changed: {url}");
        }
        if let Some(on_change) = &r.on_change {
            out!("  on_change: {on_change}");
        }
    }
    Ok(())
}

/// The runs of a job whose state is shared, as its database has them: one row per run, with
/// how many workers took part.
fn shared_history(cli: &Cli, job: &Job) -> Result<()> {
    let rows = jobs::run::shared_history(job)?;
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    out!("started\tended\toutcome\tworkers\tpages\tbytes\tnew\trevisits\tchanged");
    for r in rows {
        out!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.started,
            r.ended.as_deref().unwrap_or("-"),
            r.outcome,
            r.workers,
            r.pages,
            r.bytes,
            r.new_payloads,
            r.revisits,
            r.changed.len()
        );
        for url in &r.changed {
            out!("  text changed: {url}");
        }
        for on_change in &r.on_change {
            out!("  on_change: {on_change}");
        }
    }
    Ok(())
}

/// One run now, for system schedulers; options given on the command line go over the job's.
fn run(
    cli: &Cli,
    config: Option<&Path>,
    name: &str,
    overrides: &crate::archive::ArchiveOptions,
    given: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let job = find(load_jobs(config)?, name)?;
    let mut options = job.options_with(overrides, given)?;
    options.no_progress |= cli.json;
    let report = jobs::run_once(&cli.archives(), &job, &options, open_store(cli)?)?;
    match &report.summary {
        Some(summary) => super::archive::print_summary(cli, summary)?,
        None if cli.json => out!("null"),
        None => {}
    }
    if let Some(on_change) = &report.result.on_change {
        say!("job {name:?}: on_change: {on_change}");
    }
    match report.result.outcome {
        Outcome::Ok => Ok(()),
        outcome => bail!("job {name:?}: {outcome}"),
    }
}

pub fn schedule(cli: &Cli, config: Option<&Path>, max_jobs: usize) -> Result<()> {
    let path = jobs::config_path(config);
    let jobs = jobs::load(&path)?;
    if jobs.is_empty() {
        bail!("{}: no [[job]] defined", path.display());
    }
    say!(
        "scheduling {} job(s) from {} (Ctrl-C stops)",
        jobs.len(),
        path.display()
    );
    let scheduler = Scheduler::new(cli.archives(), jobs, open_store(cli)?, max_jobs);
    Ok(scheduler.run_until_signalled()?)
}
