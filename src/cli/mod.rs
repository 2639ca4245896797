//! The command line: clap definitions, and the commands that tie the pipeline's modules
//! together. Arguments become validated values here, before any I/O; deeper modules never see
//! raw strings.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod archive;
mod demo;
mod jobs;

pub use archive::ArchiveArgs;

use crate::index;
use crate::warc::verify::{FileReport, verify_file};

#[derive(Debug, Parser)]
#[command(
    name = "cairn",
    version,
    args_override_self = true,
    about = "Archive web pages to WARC, rewrite posts to render offline, replay without the live web"
)]
pub struct Cli {
    /// Folder holding the collections.
    #[arg(long, global = true, default_value = "archives", value_name = "DIR")]
    pub archives: PathBuf,
    /// Collection to work on.
    #[arg(short = 'c', long, global = true, default_value = "default", value_name = "NAME",
          value_parser = parse_collection)]
    pub collection: String,
    /// Print a machine-readable summary on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Archive URLs: each page, everything it needs to render, and the related pages it links
    /// to (within --depth and --scope), into the collection's WARC files; then index them.
    Archive(Box<ArchiveArgs>),
    /// Scheduled crawl jobs from cairn.toml: list them, run one now, or show its history.
    Jobs {
        /// The job file (default: ./cairn.toml).
        #[arg(long, global = true, value_name = "PATH")]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Run the scheduler in the foreground: start due jobs until SIGINT or SIGTERM.
    Schedule {
        /// The job file (default: ./cairn.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Jobs running at once.
        #[arg(long, default_value_t = 2, value_name = "N")]
        max_jobs: usize,
    },
    /// Replay the archives from a local server (pywb's URL scheme): /COLL/TIMESTAMP/URL.
    Replay {
        /// Address to listen on; keep it on loopback unless you mean to share the archive.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        bind: std::net::SocketAddr,
    },
    /// The whole pipeline on the bundled seed post, with no internet: a built-in fixture serves
    /// its source article and images on 127.0.0.1, and cairn archives the post through it.
    Demo,
    /// Re-read WARC files (gzip, zstd or plain, anyone's) and check every record's structure
    /// and digests. Folders are searched recursively.
    Verify {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Mend interrupted files (FILE.open): keep every whole record, cut the torn tail,
        /// rename without .open.
        #[arg(long)]
        repair: bool,
    },
    /// Rebuild the collection's index.cdxj from its WARC files.
    Index,
    /// Materialize the collection's offline copy (archives/COLL/offline): every archived page
    /// and what it needs, rewritten to open from file:// with no network.
    Export {
        /// Where to write it instead of archives/COLL/offline.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsAction {
    List,
    /// Run one job now (for cron or systemd timers); archive options given after the name
    /// override the job's.
    Run {
        name: String,
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARCHIVE OPTIONS"
        )]
        overrides: Vec<String>,
    },
    History {
        name: String,
    },
}

/// A collection name becomes a folder and a file-name prefix: keep it to safe characters.
fn parse_collection(name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "{name:?} is not a collection name: use letters, digits, '-', '_' and '.'"
        ))
    }
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Archive(args) => archive::run(&cli, args),
        Command::Verify {
            paths,
            repair: true,
        } => repair(paths, cli.json),
        Command::Verify { paths, .. } => verify(paths, cli.json),
        Command::Index => rebuild_index(&cli),
        Command::Demo => demo::run(&cli),
        Command::Replay { bind } => replay(&cli, *bind),
        Command::Jobs { config, action } => match action {
            JobsAction::List => jobs::list(&cli, config.as_deref()),
            JobsAction::Run { name, overrides } => {
                jobs::run_once(&cli, config.as_deref(), name, overrides)
            }
            JobsAction::History { name } => jobs::history(&cli, config.as_deref(), name),
        },
        Command::Schedule { config, max_jobs } => {
            jobs::schedule(&cli, config.as_deref(), (*max_jobs).max(1))
        }
        Command::Export { out } => export(&cli, out.as_deref()),
    }
}

fn verify(paths: &[PathBuf], json: bool) -> Result<()> {
    let files = collect_warc_files(paths)?;
    if files.is_empty() {
        bail!("no WARC files found in {}", describe(paths));
    }
    let reports: Vec<FileReport> = {
        use rayon::prelude::*;
        files.par_iter().map(|p| verify_file(p)).collect()
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            print_report(report);
        }
    }
    let bad = reports.iter().filter(|r| !r.ok()).count();
    let defects: usize = reports.iter().map(|r| r.defects.len()).sum();
    let records: u64 = reports.iter().map(|r| r.records).sum();
    if bad > 0 {
        bail!("{defects} defect(s) in {bad} of {} file(s)", reports.len());
    }
    eprintln!(
        "verified {} file(s), {records} record(s): no defects",
        reports.len()
    );
    Ok(())
}

fn repair(paths: &[PathBuf], json: bool) -> Result<()> {
    let mut reports = Vec::new();
    for path in paths {
        let report = crate::warc::repair::repair(path)?;
        if !json {
            println!(
                "repaired {} -> {}: kept {} records ({} bytes), dropped {} bytes",
                report.path.display(),
                report.repaired.display(),
                report.kept_records,
                report.kept_bytes,
                report.dropped_bytes
            );
        }
        reports.push(report);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

fn print_report(report: &FileReport) {
    let path = report.path.display();
    if report.ok() {
        let types: Vec<String> = report
            .record_types
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        let mut line = format!(
            "ok {path}: {} records ({}), {} digests checked",
            report.records,
            types.join(", "),
            report.digests_checked
        );
        if report.digests_unchecked > 0 {
            line.push_str(&format!(
                ", {} in unsupported algorithms",
                report.digests_unchecked
            ));
        }
        if report.records_sharing_a_member > 0 {
            line.push_str(&format!(
                ", {} records share a compressed member (not readable alone)",
                report.records_sharing_a_member
            ));
        }
        println!("{line}");
    } else {
        for defect in &report.defects {
            println!(
                "DEFECT {path}: offset {}: {}",
                defect.offset, defect.message
            );
        }
    }
}

/// Files as given, and the WARC files (by name) found recursively in folders, in name order.
fn collect_warc_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else if crate::warc::is_warc_name(&entry.file_name().to_string_lossy()) {
            files.push(path);
        }
    }
    Ok(())
}

fn describe(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn export(cli: &Cli, out: Option<&Path>) -> Result<()> {
    let dir = collection_dir(cli)?;
    if !dir.join("index.cdxj").exists() {
        index::rebuild_collection_index(&dir)?;
    }
    let out = out.map_or_else(|| dir.join("offline"), Path::to_path_buf);
    let (_, report) = crate::export::export(&dir, &out)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        eprintln!(
            "exported {} files ({} pages) to {}; {} references not archived",
            report.files,
            report.pages,
            out.display(),
            report.unresolved.len()
        );
    }
    Ok(())
}

fn replay(cli: &Cli, bind: std::net::SocketAddr) -> Result<()> {
    let root = crate::replay::archives_root(&cli.archives)
        .with_context(|| format!("archives folder {}", cli.archives.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    eprintln!(
        "replaying {} at http://{bind}/ (Ctrl-C stops)",
        root.display()
    );
    runtime
        .block_on(crate::replay::serve_forever(root, bind))
        .with_context(|| format!("serving on {bind}"))?;
    Ok(())
}

/// `archives/COLL`, which must exist.
fn collection_dir(cli: &Cli) -> Result<PathBuf> {
    let dir = cli.archives.join(&cli.collection);
    if !dir.is_dir() {
        bail!(
            "no collection {:?} in {} (archive something first, or pass --archives/-c)",
            cli.collection,
            cli.archives.display()
        );
    }
    Ok(dir)
}

fn rebuild_index(cli: &Cli) -> Result<()> {
    let dir = collection_dir(cli)?;
    let (files, lines) = index::rebuild_collection_index(&dir)?;
    let path = dir.join("index.cdxj");
    if cli.json {
        println!(
            "{}",
            serde_json::json!({"index": path, "warc_files": files, "captures": lines})
        );
    } else {
        eprintln!(
            "indexed {files} WARC file(s): {lines} capture(s) in {}",
            path.display()
        );
    }
    Ok(())
}
