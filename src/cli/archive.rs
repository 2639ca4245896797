//! `cairn archive TARGET...`: the options, validated into a crawl configuration before any
//! I/O, then the crawl, the index and pages.jsonl updates, and the summary.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use regex::Regex;
use url::Url;

use super::Cli;
use crate::crawl::{self, CrawlConfig, ProgressMode, RobotsPolicy, Summary};
use crate::fetch::{FetchConfig, HostMapping};
use crate::frontier::{Rules, Scope, TrapBounds};
use crate::warc::Compression;
use crate::warc::writer::DEFAULT_MAX_FILE_SIZE;

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// http(s) URLs to archive.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Links to follow from a target (redirects and page requisites add none).
    #[arg(long, default_value_t = 1)]
    pub depth: u32,
    /// Which linked pages to follow: the targets only, their hosts, their sites (registrable
    /// domains), or any.
    #[arg(long, default_value = "site", value_parser = clap::value_parser!(Scope))]
    pub scope: Scope,
    /// Follow only pages whose URL matches (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub include: Vec<String>,
    /// Fetch nothing whose URL matches (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,
    /// Stop queuing pages after this many.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,
    #[arg(long, default_value = "zstd", value_parser = clap::value_parser!(Compression))]
    pub compression: Compression,
    /// Fetches at once, over all hosts.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
    /// Fetches at once to one host.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub per_host: usize,
    /// Milliseconds between two requests to one host.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub delay: u64,
    /// Seconds a request may take, body included.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Store at most this many bytes of a body (the record is marked WARC-Truncated: length).
    #[arg(long, default_value_t = 1 << 30, value_name = "BYTES")]
    pub max_resource_size: u64,
    #[arg(long, value_name = "S")]
    pub user_agent: Option<String>,
    #[arg(long, default_value = "respect", value_parser = clap::value_parser!(RobotsPolicy))]
    pub robots: RobotsPolicy,
    /// Connect to ADDR for HOST:PORT, as curl's --resolve (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Connect to HOST2:PORT2 for HOST:PORT, as curl's --connect-to (repeatable).
    #[arg(long, value_name = "HOST:PORT:HOST2:PORT2")]
    pub connect_to: Vec<String>,
    /// Also trust the root certificates in this PEM file (repeatable).
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Vec<PathBuf>,
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Allow loopback, private and link-local addresses.
    #[arg(long)]
    pub allow_private: bool,
    /// No live progress display.
    #[arg(long)]
    pub no_progress: bool,
}

pub fn run(cli: &Cli, args: &ArchiveArgs) -> Result<()> {
    let config = crawl_config(cli, args)?;
    let collection_dir = config.collection_dir.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let summary = runtime.block_on(crawl::crawl(config))?;
    append_pages(&collection_dir, &summary)?;
    let (_, captures) = crate::index::rebuild_collection_index(&collection_dir)?;
    report(cli, &summary, captures)?;
    if let Some(first) = summary.failed_targets.first() {
        let more = summary.failed_targets.len() - 1;
        let others = if more > 0 {
            format!(" (and {more} more targets)")
        } else {
            String::new()
        };
        bail!("could not archive {}: {}{others}", first.url, first.error);
    }
    Ok(())
}

/// Every option checked and turned into typed values before anything is fetched or written.
fn crawl_config(cli: &Cli, args: &ArchiveArgs) -> Result<CrawlConfig> {
    let targets = args
        .targets
        .iter()
        .map(|t| parse_target(t))
        .collect::<Result<Vec<_>>>()?;
    let regexes = |patterns: &[String], flag: &str| -> Result<Vec<Regex>> {
        patterns
            .iter()
            .map(|p| {
                Regex::new(p)
                    .with_context(|| format!("{flag} {p:?} is not a valid regular expression"))
            })
            .collect()
    };
    let mut mappings = Vec::new();
    for spec in &args.resolve {
        mappings.push(HostMapping::parse_resolve(spec).map_err(anyhow::Error::msg)?);
    }
    for spec in &args.connect_to {
        mappings.push(HostMapping::parse_connect_to(spec).map_err(anyhow::Error::msg)?);
    }
    let ca_certs = args
        .ca_cert
        .iter()
        .map(|p| std::fs::read(p).with_context(|| format!("--ca-cert {}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    if args.concurrency == 0 || args.per_host == 0 {
        bail!("--concurrency and --per-host must be at least 1");
    }
    let collection_dir = cli.archives.join(&cli.collection);
    let spool_dir = collection_dir.join(".spool");
    std::fs::create_dir_all(&spool_dir)
        .with_context(|| format!("creating {}", spool_dir.display()))?;
    let mut fetch = FetchConfig {
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_resource_size: args.max_resource_size,
        mappings,
        ca_certs,
        proxy: args.proxy.clone(),
        allow_private: args.allow_private,
        spool_dir,
        ..FetchConfig::default()
    };
    if let Some(agent) = &args.user_agent {
        fetch.user_agent = agent.clone();
    }
    let progress = if args.no_progress || cli.json {
        ProgressMode::Quiet
    } else if std::io::stderr().is_terminal() {
        ProgressMode::Bar
    } else {
        ProgressMode::Lines
    };
    Ok(CrawlConfig {
        targets,
        rules: Rules {
            scope: args.scope,
            max_depth: args.depth,
            include: regexes(&args.include, "--include")?,
            exclude: regexes(&args.exclude, "--exclude")?,
            max_pages: args.max_pages,
            traps: TrapBounds::default(),
        },
        fetch,
        concurrency: args.concurrency,
        per_host: args.per_host,
        delay: Duration::from_millis(args.delay),
        robots: args.robots,
        collection_dir,
        collection: cli.collection.clone(),
        compression: args.compression,
        max_file_size: DEFAULT_MAX_FILE_SIZE,
        progress,
        options_summary: options_summary(args),
        resources: Vec::new(),
    })
}

/// A target URL, or a clear reason why it is not one.
fn parse_target(target: &str) -> Result<Url> {
    let url = Url::parse(target)
        .with_context(|| format!("{target:?} is not a URL (expected http:// or https://...)"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!(
            "{target:?}: only http and https URLs can be archived, not {}:",
            url.scheme()
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!("{target:?} has no host");
    }
    Ok(url)
}

fn options_summary(args: &ArchiveArgs) -> String {
    format!(
        "depth={} scope={:?} compression={} concurrency={} per-host={} delay={}ms robots={:?}",
        args.depth,
        args.scope,
        args.compression.name(),
        args.concurrency,
        args.per_host,
        args.delay,
        args.robots
    )
    .to_lowercase()
}

/// One JSON line per archived page, appended to `pages.jsonl`.
fn append_pages(collection_dir: &std::path::Path, summary: &Summary) -> Result<()> {
    if summary.page_entries.is_empty() {
        return Ok(());
    }
    let path = collection_dir.join("pages.jsonl");
    let mut lines = String::new();
    for page in &summary.page_entries {
        lines.push_str(&serde_json::to_string(page)?);
        lines.push('\n');
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("{}", path.display()))?;
    file.write_all(lines.as_bytes())
        .with_context(|| format!("{}", path.display()))?;
    Ok(())
}

fn report(cli: &Cli, summary: &Summary, captures: usize) -> Result<()> {
    if cli.json {
        let mut value = serde_json::to_value(summary)?;
        value["index_captures"] = captures.into();
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let files: Vec<String> = summary
        .warc_files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    eprintln!(
        "archived {} pages and {} resources ({}, {} revisits) in {:.1} s into {}; {} errors",
        summary.pages,
        summary.resources,
        crawl::human_bytes(summary.bytes),
        summary.revisits,
        summary.seconds,
        files.join(", "),
        summary.errors.len()
    );
    for failure in summary.errors.iter().take(20) {
        eprintln!("  {}: {}", failure.url, failure.error);
    }
    if summary.errors.len() > 20 {
        eprintln!("  ... and {} more (see --json)", summary.errors.len() - 20);
    }
    Ok(())
}
