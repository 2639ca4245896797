//! Archiving, whole: targets checked ([`targets`]) and options checked ([`options`]) before
//! anything is fetched, then the crawl, and under the collection's lock the pages list, the
//! index, the offline copy and the rewritten posts. `cairn archive`, `cairn demo` and every
//! scheduled job run this one function.

pub mod options;
pub mod targets;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use url::Url;

use crate::article::crawled::{TextsReport, texts_of_pages};
use crate::collection::dictionary::DictionaryUse;
use crate::collection::{
    Collection, CollectionError, CollectionLock, IndexStats, PageEntry, replace_file,
};
use crate::crawl::{self, CrawlConfig, CrawlError, Failure, FrontierLog, Original};
use crate::export::{self, ExportError, ExportReport, OfflineMap, PostRewrite};
use crate::frontier::Candidate;
use crate::index::Index;
use crate::state::SharedPayloads;
use crate::state::payloads::StoredPayload;
use crate::store::{StoreError, UploadReport};
use crate::warc::record::format_warc_date;
use crate::warc::repair::{RepairError, repair};
use crate::warc::writer::DEFAULT_MAX_FILE_SIZE;
use crate::warc::{Clock, RecordIds, ZstdDictionary};

pub use options::{ArchiveOptions, OptionsError};
use targets::Input;
pub use targets::TargetError;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Crawl(#[from] CrawlError),
    #[error(transparent)]
    Collection(#[from] CollectionError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("starting the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Repair(#[from] RepairError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a run starts: fresh, or where a killed run of the same job stopped; with its frontier
/// persisted as it grows, or not.
#[derive(Default)]
pub struct Resume {
    /// Where admitted candidates are persisted, so a killed run can be resumed.
    pub frontier_log: Option<Arc<dyn FrontierLog>>,
    /// Candidates the killed run had queued but not archived.
    pub pending: Vec<Candidate>,
    /// URLs the killed run archived.
    pub done: Vec<Url>,
}

/// A rewritten post: where it went and what stayed pointing at the live web.
#[derive(Debug, Serialize)]
pub struct RewrittenPost {
    pub source: PathBuf,
    pub written: PathBuf,
    pub unresolved: Vec<String>,
}

/// What a run did: the crawl's own summary, and what followed it.
#[derive(Debug, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub crawl: crawl::Summary,
    /// The collection's index after the run, and what it could not take.
    pub index: IndexStats,
    pub offline: ExportReport,
    /// The pages' article texts: how many were made, which changed since their capture before.
    pub texts: TextsReport,
    pub posts: Vec<RewrittenPost>,
    /// With `--zstd-dictionary`: the dictionary the records were compressed with, and whether
    /// it was trained now, or why there was none.
    pub zstd_dictionary: Option<DictionaryUse>,
    /// Seconds each step after the crawl took (the crawl's own are `seconds`).
    pub phases: Phases,
    /// With `--store`: what was uploaded to the bucket.
    pub uploaded: Option<UploadReport>,
}

/// Seconds each step after the crawl took.
#[derive(Debug, Default, Serialize)]
pub struct Phases {
    /// Merging the new captures into the index.
    pub index: f64,
    /// Bringing the offline copy up to date.
    pub offline: f64,
    /// Making the texts of new page payloads, and comparing them with the capture before, on
    /// a thread beside the offline copy: the two overlap.
    pub texts: f64,
    /// Rewriting the archived posts.
    pub posts: f64,
    /// Uploading closed WARC files and their index segments (`--store`).
    pub upload: f64,
}

/// Targets that could not be archived at all: the first, and how many more.
#[derive(Debug, thiserror::Error)]
#[error("could not archive {}: {}{}", first.url, first.error, more_targets(*more))]
pub struct TargetsFailed {
    pub first: Failure,
    pub more: usize,
}

fn more_targets(more: usize) -> String {
    match more {
        0 => String::new(),
        n => format!(" (and {n} more targets)"),
    }
}

impl Summary {
    /// Whether every target was archived; single resources that failed are listed in the
    /// summary and are no failure of the run.
    pub fn check(&self) -> Result<(), TargetsFailed> {
        match self.crawl.failed_targets.split_first() {
            None => Ok(()),
            Some((first, more)) => Err(TargetsFailed {
                first: first.clone(),
                more: more.len(),
            }),
        }
    }
}

/// Archives the targets of `options` into the collection, records dated by the system clock.
pub fn archive(
    collection: &Collection,
    options: &ArchiveOptions,
    resume: Resume,
) -> Result<Summary, ArchiveError> {
    archive_at(
        collection,
        options,
        resume,
        Clock::system(),
        RecordIds::random(),
    )
}

/// As [`archive`], with the clock and record IDs given: reproducible runs for tests.
pub fn archive_at(
    collection: &Collection,
    options: &ArchiveOptions,
    resume: Resume,
    clock: Clock,
    ids: RecordIds,
) -> Result<Summary, ArchiveError> {
    let inputs = targets::parse_all(&options.targets)?;
    let store = options.store()?;
    let (config, zstd_dictionary) =
        crawl_config(collection, options, &inputs, resume, clock.clone(), ids)?;
    let shared = config.shared.clone();
    if let Some(shared) = &config.shared {
        // A worker killed here left its file `.open`; the index below takes in what it kept.
        // Under the collection's lock: another worker starting in this folder mends too.
        let _lock = collection.lock()?;
        mend_unfinished(collection, &shared.crawl)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ArchiveError::Runtime)?;
    // The crawl's coordinator runs on the runtime's workers, beside the fetches whose results
    // wake it, instead of on this thread, which each result woke with a futex call (15,103
    // calls in the crawl benchmark, 3,189 this way). A panic in it is this thread's again.
    let crawled = runtime.block_on(runtime.spawn(crawl::crawl(config)));
    let mut crawl = crawled.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;

    let lock = collection.lock()?;
    collection.append_pages(&lock, &crawl.page_entries)?;
    let started = Instant::now();
    let stats = collection.update_index(&lock, &crawl.written_index)?;
    let indexed = Instant::now();
    // Opened here, for the offline copy: the index step is the merge alone.
    let index = collection.index()?;
    let articles = targets::target_urls(&inputs);
    let beside = offline_and_texts(collection, &lock, &index, &crawl.page_entries, &articles)?;
    let (offline, report) = beside.offline;
    let exported = Instant::now();
    let archived_at = format_warc_date(clock.now());
    let posts = rewrite_posts(collection, options, &inputs, &offline, &archived_at)?;
    let rewritten = Instant::now();
    // Every closed file, not only this crawl's: what a killed run left is uploaded now.
    let uploaded = match &store {
        Some(store) => Some(store.upload(
            collection.name().as_str(),
            &collection.warc_files()?,
            &crawl.written_index,
        )?),
        None => None,
    };
    if let (Some(shared), Some(report)) = (&shared, &uploaded) {
        let stored = std::mem::take(&mut crawl.unshared_payloads);
        runtime.block_on(share_uploaded(shared, collection, stored, report))?;
    }
    // Not dropped, which waits for its idle threads to wake and end: 4.5-11 ms of the crawl
    // benchmark's archive, where this took under 0.5 ms in 12 of 14 runs. Nothing is left
    // running on it.
    runtime.shutdown_background();
    let phases = Phases {
        index: (indexed - started).as_secs_f64(),
        offline: beside.offline_took.as_secs_f64(),
        texts: beside.texts_took.as_secs_f64(),
        posts: (rewritten - exported).as_secs_f64(),
        upload: rewritten.elapsed().as_secs_f64(),
    };
    Ok(Summary {
        crawl,
        index: stats,
        offline: report,
        texts: beside.texts,
        posts,
        zstd_dictionary,
        phases,
        uploaded,
    })
}

/// The offline copy brought up to date, and the texts made beside it, each with its time.
struct Beside {
    offline: (OfflineMap, ExportReport),
    offline_took: std::time::Duration,
    texts: TextsReport,
    texts_took: std::time::Duration,
}

/// Brings the offline copy up to date while the pages' texts are made on a thread beside it:
/// the copy leaves a core free while it plans and while it writes its state, and neither
/// reads what the other writes. The archive is whole without the texts: texts that cannot be
/// made are said, not fatal.
fn offline_and_texts(
    collection: &Collection,
    lock: &CollectionLock,
    index: &Index,
    pages: &[PageEntry],
    articles: &HashSet<String>,
) -> Result<Beside, ExportError> {
    std::thread::scope(|scope| {
        let texts =
            scope.spawn(|| {
                let started = Instant::now();
                let texts = texts_of_pages(collection, lock, index, pages, articles)
                    .unwrap_or_else(|error| TextsReport {
                        failed: Some(error.to_string()),
                        ..TextsReport::default()
                    });
                (texts, started.elapsed())
            });
        let started = Instant::now();
        let offline = export::update(collection, index, &collection.offline_dir());
        let offline_took = started.elapsed();
        let (texts, texts_took) = texts
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok(Beside {
            offline: offline?,
            offline_took,
            texts,
            texts_took,
        })
    })
}

/// Everything the crawl needs, checked and typed; and with `--zstd-dictionary`, how the
/// collection's dictionary came to be used (or not).
fn crawl_config(
    collection: &Collection,
    options: &ArchiveOptions,
    inputs: &[Input],
    resume: Resume,
    clock: Clock,
    ids: RecordIds,
) -> Result<(CrawlConfig, Option<DictionaryUse>), ArchiveError> {
    let rules = options.rules()?;
    let mut fetch = options.fetch_config(collection.spool_dir())?;
    let wants_dictionary = options.wants_dictionary()?;
    let shared = options.shared_crawl(collection.name())?;
    // Checked, all of it: now the collection may be made.
    collection.create_dirs()?;
    let (zstd_dictionary, dictionary_use) = if wants_dictionary {
        collection_dictionary(collection)?
    } else {
        (None, None)
    };
    fetch.clock = clock.clone();
    let (seeds, resources) = targets::seeds_and_resources(inputs);
    let index = collection.index()?;
    let config = CrawlConfig {
        seeds,
        rules,
        fetch,
        concurrency: options.concurrency,
        per_host: options.per_host,
        delay: std::time::Duration::from_millis(options.delay),
        robots: options.robots,
        collection: collection.clone(),
        compression: options.compression,
        zstd_dictionary,
        max_file_size: DEFAULT_MAX_FILE_SIZE,
        progress: options.progress(),
        options_summary: options.summary(),
        resources,
        known_payloads: known_payloads(collection, &index),
        frontier_log: resume.frontier_log,
        resume: crawl::Resume {
            pending: resume.pending,
            done: resume.done,
        },
        clock,
        ids,
        file_tag: (options.state.is_some() || options.store.is_some()).then(crate::state::file_tag),
        shared,
    };
    Ok((config, dictionary_use))
}

/// A worker's stored payloads, shared now that their files are in the bucket (those of a
/// file the bucket refused stay this worker's own).
async fn share_uploaded(
    shared: &crawl::SharedCrawl,
    collection: &Collection,
    stored: Vec<StoredPayload>,
    report: &UploadReport,
) -> Result<(), ArchiveError> {
    let refused: Vec<&str> = report
        .refused
        .iter()
        .filter_map(|address| address.rsplit('/').next())
        .collect();
    let uploaded: Vec<StoredPayload> = stored
        .into_iter()
        .filter(|s| !refused.contains(&s.file.as_str()))
        .collect();
    let client = std::sync::Arc::new(shared.state.connect().await.map_err(CrawlError::from)?);
    SharedPayloads::new(client, collection.name().to_string())
        .add(&uploaded)
        .await
        .map_err(CrawlError::from)?;
    Ok(())
}

/// Mends the WARC files a killed writer left `.open` in the collection: every whole record
/// kept, the torn tail dropped, the file renamed without `.open`. A file whose writer still
/// lives (it holds the file's lock) is left alone, as is one whose final name is taken. Returns
/// the URLs captured in what was kept; `crawl` names the crawl in the log.
pub fn mend_unfinished(collection: &Collection, crawl: &str) -> Result<Vec<Url>, ArchiveError> {
    let mut captured = Vec::new();
    for path in collection.unfinished_warc_files()? {
        let report = match repair(&path) {
            Ok(report) => report,
            // Another file has its name: left for a person to look at, the crawl goes on.
            Err(e @ RepairError::Exists(_)) => {
                tracing::warn!(crawl, "{e}");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(why) = &report.untouched {
            tracing::warn!(crawl, file = %path.display(), "{why}");
        } else {
            tracing::info!(
                crawl,
                file = %path.display(),
                kept = report.kept_records,
                dropped_bytes = report.dropped_bytes,
                "mended an unfinished WARC file"
            );
        }
        captured.extend(report.captured.iter().filter_map(|u| Url::parse(u).ok()));
    }
    Ok(captured)
}

/// The collection's zstd dictionary, trained now if it has none and enough text records; said
/// on stderr either way, so a crawl written without one says why.
fn collection_dictionary(
    collection: &Collection,
) -> Result<(Option<ZstdDictionary>, Option<DictionaryUse>), ArchiveError> {
    let (dictionary, used) = collection.zstd_dictionary()?;
    tracing::info!("{used}");
    Ok((dictionary, Some(used)))
}

/// Payloads earlier crawls of the collection stored, so this one writes revisits for them.
fn known_payloads(
    collection: &Collection,
    index: &Index,
) -> std::collections::HashMap<[u8; 32], Original> {
    index
        .stored_payloads()
        .filter_map(|capture| {
            let date = crate::warc::record::parse_timestamp14(&capture.timestamp)?;
            let file = collection.warc_file(&capture.filename).ok()?;
            let original = Original {
                record_id: None,
                target_uri: capture.url.clone(),
                date: format_warc_date(date),
                stored_at: Some((file, capture.offset)),
            };
            Some((capture.sha256()?, original))
        })
        .collect()
}

/// Rewrites every archived post: a copy in the collection's posts folder, or the file itself
/// with `--in-place` (written beside it, then renamed over it, so it is never half-written).
fn rewrite_posts(
    collection: &Collection,
    options: &ArchiveOptions,
    inputs: &[Input],
    offline: &OfflineMap,
    archived_at: &str,
) -> Result<Vec<RewrittenPost>, ArchiveError> {
    let link_base = options
        .link_base
        .clone()
        .unwrap_or_else(|| collection.default_link_base());
    let rewrite = PostRewrite {
        link_base: &link_base,
        map: offline,
        archived_at,
        collection: collection.name().as_str(),
    };
    let mut done = Vec::new();
    for input in inputs {
        let Input::Post(post) = input else { continue };
        let (text, unresolved) = export::rewrite_post(post, &rewrite)?;
        let written = if options.in_place {
            post.path.clone()
        } else {
            collection
                .posts_dir()
                .join(post.path.file_name().unwrap_or_default())
        };
        replace_file(&written, |out| out.write_all(text.as_bytes()))?;
        done.push(RewrittenPost {
            source: post.path.clone(),
            written,
            unresolved,
        });
    }
    Ok(done)
}
