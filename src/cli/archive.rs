//! `cairn archive TARGET...`: the options, validated into a crawl configuration before any
//! I/O, then the crawl, the index and pages.jsonl updates, and the summary.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use regex::Regex;
use url::Url;

use super::Cli;
use crate::crawl::{self, CrawlConfig, Original, ProgressMode, Resource, RobotsPolicy, Summary};
use crate::export::{ExportReport, OfflineMap, PostRewrite};
use crate::extract::LinkKind;
use crate::fetch::{FetchConfig, HostMapping};
use crate::frontier::{CandidateKind, Seed};
use crate::frontier::{Rules, Scope, TrapBounds};
use crate::post::{Post, posts_in};
use crate::warc::Compression;
use crate::warc::writer::DEFAULT_MAX_FILE_SIZE;

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// http(s) URLs, Jekyll posts (front matter with `from:`), or folders of posts.
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
    /// Rewrite each post file itself (atomically) instead of writing a copy to
    /// archives/COLL/posts/.
    #[arg(long)]
    pub in_place: bool,
    /// Prefix of the references a rewritten post gets into the offline copy.
    #[arg(long, value_name = "PREFIX")]
    pub link_base: Option<String>,
}

pub fn run(cli: &Cli, args: &ArchiveArgs) -> Result<()> {
    let summary = archive(cli, args)?;
    failed_targets_error(&summary)
}

/// An error naming the targets that could not be archived at all, if any.
pub fn failed_targets_error(summary: &Summary) -> Result<()> {
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

/// The whole of `cairn archive`: crawl, index, pages.jsonl, offline copy, posts, report.
pub fn archive(cli: &Cli, args: &ArchiveArgs) -> Result<Summary> {
    archive_with(cli, args, Resumable::default())
}

/// What a scheduled run adds to a crawl: a persistent frontier, and the state of the run it
/// resumes.
#[derive(Default)]
pub struct Resumable {
    pub frontier_log: Option<std::sync::Arc<dyn crate::crawl::FrontierLog>>,
    pub resume: Option<crate::crawl::Resume>,
}

pub fn archive_with(cli: &Cli, args: &ArchiveArgs, resumable: Resumable) -> Result<Summary> {
    let mut inputs = Vec::new();
    for target in &args.targets {
        inputs.extend(parse_target(target)?);
    }
    let mut config = crawl_config(cli, args, &inputs)?;
    config.frontier_log = resumable.frontier_log;
    config.resume = resumable.resume;
    let collection_dir = config.collection_dir.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let summary = runtime.block_on(crawl::crawl(config))?;
    append_pages(&collection_dir, &summary)?;
    let (_, captures) = crate::index::rebuild_collection_index(&collection_dir)?;
    let offline_dir = collection_dir.join("offline");
    let (offline, export) = crate::export::export(&collection_dir, &offline_dir)?;
    let posts = rewrite_posts(cli, args, &inputs, &offline)?;
    report(cli, &summary, captures, &export, &posts)?;
    Ok(summary)
}

/// Every option checked and turned into typed values before anything is fetched or written.
fn crawl_config(cli: &Cli, args: &ArchiveArgs, inputs: &[Input]) -> Result<CrawlConfig> {
    let (seeds, resources) = seeds_and_resources(inputs)?;
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
        seeds,
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
        resources,
        known_payloads: known_payloads(&cli.archives.join(&cli.collection)),
        frontier_log: None,
        resume: None,
    })
}

/// Payloads earlier crawls of the collection stored, so this one writes revisits for them.
fn known_payloads(collection_dir: &Path) -> HashMap<[u8; 32], Original> {
    let text = std::fs::read_to_string(collection_dir.join("index.cdxj")).unwrap_or_default();
    crate::index::stored_payloads(&text)
        .into_iter()
        .filter_map(|(digest, (url, ts))| {
            let date = crate::warc::record::parse_timestamp14(&ts)?;
            Some((
                digest,
                Original {
                    record_id: None,
                    target_uri: url,
                    date,
                },
            ))
        })
        .collect()
}

/// What a TARGET names.
pub enum Input {
    Url(Url),
    Post(Box<Post>),
}

/// A target: a URL, a post file or a folder of posts, or a clear reason why it is none.
fn parse_target(target: &str) -> Result<Vec<Input>> {
    let path = Path::new(target);
    let looks_like_url = target.contains("://") || target.starts_with("file:");
    if !looks_like_url && path.exists() {
        if path.is_dir() {
            let posts = posts_in(path)?;
            if posts.is_empty() {
                bail!(
                    "{target}: no posts (Markdown or HTML files with front matter) in this folder"
                );
            }
            return Ok(posts
                .into_iter()
                .map(|p| Input::Post(Box::new(p)))
                .collect());
        }
        return Ok(vec![Input::Post(Box::new(Post::read(path)?))]);
    }
    let url = Url::parse(target).with_context(|| {
        format!(
            "{target:?} is not a URL (expected http:// or https://...), a post or a folder of posts"
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!(
            "{target:?}: only http and https URLs can be archived, not {}:",
            url.scheme()
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!("{target:?} has no host");
    }
    Ok(vec![Input::Url(url)])
}

/// Where the crawl starts, and the posts themselves as records: a post's source article is a
/// target, the pages its body links to come at depth 1 (as the source's related news would),
/// and the images in it as requisites.
fn seeds_and_resources(inputs: &[Input]) -> Result<(Vec<Seed>, Vec<Resource>)> {
    let mut seeds = Vec::new();
    let mut resources = Vec::new();
    for input in inputs {
        match input {
            Input::Url(url) => seeds.push(Seed {
                url: url.clone(),
                depth: 0,
                kind: CandidateKind::Target,
            }),
            Input::Post(post) => {
                if let Some(from) = &post.from {
                    seeds.push(Seed {
                        url: from.clone(),
                        depth: 0,
                        kind: CandidateKind::Target,
                    });
                }
                for link in post.body_links() {
                    let (depth, kind) = match link.kind {
                        LinkKind::Requisite => (0, CandidateKind::Requisite),
                        _ => (1, CandidateKind::Target),
                    };
                    seeds.push(Seed {
                        url: link.url,
                        depth,
                        kind,
                    });
                }
                let is_html = post
                    .path
                    .extension()
                    .is_some_and(|e| e == "html" || e == "htm");
                resources.push(Resource {
                    target_uri: post.record_uri(),
                    content_type: if is_html {
                        "text/html; charset=utf-8"
                    } else {
                        "text/markdown; charset=utf-8"
                    }
                    .to_string(),
                    block: post.text.as_bytes().to_vec(),
                });
            }
        }
    }
    Ok((seeds, resources))
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

/// A rewritten post: where it went and what stayed pointing at the live web.
#[derive(Debug, serde::Serialize)]
struct RewrittenPost {
    source: PathBuf,
    written: PathBuf,
    unresolved: Vec<String>,
}

/// Rewrites every archived post: a copy in `archives/COLL/posts/`, or the file itself with
/// `--in-place` (written beside it, then renamed over it, so it is never half-written).
fn rewrite_posts(
    cli: &Cli,
    args: &ArchiveArgs,
    inputs: &[Input],
    offline: &OfflineMap,
) -> Result<Vec<RewrittenPost>> {
    let link_base = args
        .link_base
        .clone()
        .unwrap_or_else(|| format!("/archives/{}/offline", cli.collection));
    let archived_at = crate::warc::record::format_warc_date(time::OffsetDateTime::now_utc());
    let rewrite = PostRewrite {
        link_base: &link_base,
        map: offline,
        archived_at: &archived_at,
        collection: &cli.collection,
    };
    let mut done = Vec::new();
    for input in inputs {
        let Input::Post(post) = input else { continue };
        let (text, unresolved) = crate::export::rewrite_post(post, &rewrite)?;
        let target = if args.in_place {
            post.path.clone()
        } else {
            let dir = cli.archives.join(&cli.collection).join("posts");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.join(post.path.file_name().unwrap_or_default())
        };
        replace_atomically(&target, text.as_bytes())?;
        done.push(RewrittenPost {
            source: post.path.clone(),
            written: target,
            unresolved,
        });
    }
    Ok(done)
}

/// Writes a sibling temporary file, syncs it, and renames it over `target`.
fn replace_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing beside {}", target.display()))?;
    temp.write_all(bytes)
        .and_then(|_| temp.as_file().sync_all())
        .with_context(|| format!("writing beside {}", target.display()))?;
    temp.persist(target)
        .with_context(|| format!("replacing {}", target.display()))?;
    Ok(())
}

fn report(
    cli: &Cli,
    summary: &Summary,
    captures: usize,
    export: &ExportReport,
    posts: &[RewrittenPost],
) -> Result<()> {
    if cli.json {
        let mut value = serde_json::to_value(summary)?;
        value["index_captures"] = captures.into();
        value["offline"] = serde_json::to_value(export)?;
        value["posts"] = serde_json::to_value(posts)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let files: Vec<String> = summary
        .warc_files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let written = if files.is_empty() {
        "with no WARC file written".to_string()
    } else {
        format!("into {}", files.join(", "))
    };
    eprintln!(
        "archived {} pages and {} resources ({}, {} revisits) in {:.1} s {written}; {} errors",
        summary.pages,
        summary.resources,
        crawl::human_bytes(summary.bytes),
        summary.revisits,
        summary.seconds,
        summary.errors.len()
    );
    for failure in summary.errors.iter().take(20) {
        eprintln!("  {}: {}", failure.url, failure.error);
    }
    if summary.errors.len() > 20 {
        eprintln!("  ... and {} more (see --json)", summary.errors.len() - 20);
    }
    eprintln!(
        "offline copy: {} files ({} pages) in {}",
        export.files,
        export.pages,
        export.out_dir.display()
    );
    for post in posts {
        eprintln!(
            "post {} -> {} ({} references not archived, left as they were)",
            post.source.display(),
            post.written.display(),
            post.unresolved.len()
        );
        for url in post.unresolved.iter().take(10) {
            eprintln!("  not archived: {url}");
        }
    }
    Ok(())
}
