//! The crawl: the one place that wires fetch -> WARC -> extract -> frontier. It schedules
//! fetches within `--concurrency` overall and `--per-host` per host, keeps `--delay` between
//! requests to one host, honours robots.txt (archiving it), writes duplicate payloads as
//! revisits, and reports progress and a closing summary.

mod progress;
pub mod sink;
pub mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Mutex, OnceCell, Semaphore, mpsc};
use url::Url;

use crate::collection::{Collection, PageEntry};
use crate::content::ContentKind;
use crate::extract::{self, LinkKind};
use crate::fetch::{Exchange, FetchConfig, FetchError, Fetcher};
use crate::frontier::{Candidate, CandidateKind, Frontier, Refusal, Rules, Seed};
use crate::index::WrittenIndex;
use crate::state::StateError;
use crate::state::frontier::{Politeness, host_key};
use crate::warc::record::format_warc_date;
use crate::warc::{Clock, Compression, RecordIds, WriteError, WriterConfig, ZstdDictionary};

pub use progress::{ProgressMode, human_bytes};
pub use sink::Original;
use sink::{CaptureJob, Job, Sink};
pub use worker::SharedCrawl;
use worker::{Remote, Worker};

/// Documents larger than this (decoded) are stored whole but only this much is read for links:
/// a parsed page takes several times its size in memory (8 MiB is four times the largest news
/// page seen in the wild).
const MAX_PARSED_BYTES: u64 = 8 << 20;

/// Whether the crawl honours robots.txt (which it archives either way).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RobotsPolicy {
    /// Fetch nothing robots.txt disallows for cairn.
    #[default]
    Respect,
    /// Fetch it all the same.
    Ignore,
}

pub struct CrawlConfig {
    pub seeds: Vec<Seed>,
    pub rules: Rules,
    pub fetch: FetchConfig,
    pub concurrency: usize,
    pub per_host: usize,
    pub delay: Duration,
    pub robots: RobotsPolicy,
    /// Where the WARCs go.
    pub collection: Collection,
    pub compression: Compression,
    /// Compresses every record with this zstd dictionary (see [`WriterConfig`]).
    pub zstd_dictionary: Option<ZstdDictionary>,
    pub max_file_size: u64,
    pub progress: ProgressMode,
    /// The options as given, for the warcinfo record.
    pub options_summary: String,
    /// Records to store besides what is fetched (the archived post itself).
    pub resources: Vec<Resource>,
    /// Payloads the collection already holds, by sha256: fetched again, they are written as
    /// revisits.
    pub known_payloads: HashMap<[u8; 32], Original>,
    /// Where admitted candidates are persisted, so a killed crawl can resume.
    pub frontier_log: Option<Arc<dyn FrontierLog>>,
    /// What an interrupted run left: candidates to fetch still, URLs already archived.
    pub resume: Resume,
    /// Dates the records; the fetcher's clock too.
    pub clock: Clock,
    /// Names the records.
    pub ids: RecordIds,
    /// With `--state`: the crawl is one worker of several, its queue in PostgreSQL.
    pub shared: Option<SharedCrawl>,
    /// Put in every WARC file's name after the collection's: the machine and process, so
    /// files of several workers meeting in one bucket never share a name.
    pub file_tag: Option<String>,
}

/// A persistent record of the frontier (the job store, for scheduled crawls).
pub trait FrontierLog: Send + Sync {
    fn admitted(&self, candidates: &[Candidate]);
}

/// The state an interrupted crawl is resumed from.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    pub pending: Vec<Candidate>,
    pub done: Vec<Url>,
}

pub struct Resource {
    pub target_uri: String,
    pub content_type: String,
    pub block: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("writing WARC: {0}")]
    Write(#[from] WriteError),
    /// The WARC writer thread stopped; its own error comes from `Sink::finish`.
    #[error("the WARC writer stopped")]
    SinkStopped,
    #[error(transparent)]
    State(#[from] StateError),
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub url: String,
    pub error: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub pages: u64,
    pub resources: u64,
    /// Payload bytes received.
    pub bytes: u64,
    pub revisits: u64,
    pub errors: Vec<Failure>,
    /// Targets that could not be fetched at all.
    pub failed_targets: Vec<Failure>,
    /// URLs not fetched, by reason.
    pub skipped: HashMap<String, u64>,
    pub warc_files: Vec<PathBuf>,
    pub warc_records: u64,
    pub warc_bytes: u64,
    pub seconds: f64,
    #[serde(skip)]
    pub page_entries: Vec<PageEntry>,
    /// The index lines of the records written, for the index to take as they are.
    #[serde(skip)]
    pub written_index: WrittenIndex,
    /// A worker's stored payloads, to be shared once their files are uploaded.
    #[serde(skip)]
    pub unshared_payloads: Vec<crate::state::payloads::StoredPayload>,
    /// The shared run a worker took part in, where what came of its pages is added later.
    #[serde(skip)]
    pub shared_run: Option<i64>,
}

/// State shared by the fetch tasks.
struct Shared {
    fetcher: Fetcher,
    global: Semaphore,
    per_host: usize,
    delay: Duration,
    robots: RobotsPolicy,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
    events: mpsc::UnboundedSender<Event>,
    /// A worker's line to the state it shares with the others.
    remote: Option<Arc<Remote>>,
}

struct HostState {
    slots: Semaphore,
    next_start: Mutex<Instant>,
    robots: OnceCell<Option<texting_robots::Robot>>,
}

enum Event {
    Fetched(Box<Fetched>),
    /// A robots.txt exchange, to be archived, and where another worker stored its payload.
    Robots(Box<Exchange>, Option<Original>),
}

struct Fetched {
    candidate: Candidate,
    outcome: Result<Exchange, String>,
    links: Vec<extract::Link>,
    title: Option<String>,
    /// Whether the document was larger than what was read for links.
    links_cut: bool,
    /// Where another worker stored this payload already.
    stored_by_other: Option<Original>,
}

/// Runs a whole crawl and returns its summary; fails only when the archive itself cannot be
/// written (a fetch that fails is listed in the summary), or the shared state cannot be reached.
pub async fn crawl(config: CrawlConfig) -> Result<Summary, CrawlError> {
    let started = Instant::now();
    let (mut queue, remote) = match &config.shared {
        None => (Queue::Own, None),
        Some(shared) => {
            let collection = config.collection.name().to_string();
            let (worker, remote) = Worker::join(shared, &collection, politeness(&config)).await?;
            (Queue::Shared(Box::new(worker)), Some(remote))
        }
    };
    let sink = Sink::start(writer_config(&config), queue.outbox())?;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        fetcher: Fetcher::new(config.fetch.clone())?,
        global: Semaphore::new(config.concurrency.max(1)),
        per_host: config.per_host.max(1),
        delay: config.delay,
        robots: config.robots,
        hosts: Mutex::new(HashMap::new()),
        events: events_tx,
        remote,
    });
    let mut summary = Summary::default();
    let mut frontier = initial_frontier(&config, &mut summary, &mut queue);
    let mut state = CrawlState {
        sink,
        payloads: config.known_payloads,
        progress: progress::Progress::new(config.progress),
        ids: config.ids,
    };
    let outcome = run_loop(
        &mut state,
        &shared,
        &mut events,
        &mut frontier,
        &mut summary,
        LoopSettings {
            resources: config.resources,
            concurrency: config.concurrency,
            frontier_log: config.frontier_log.as_deref(),
            queue: &mut queue,
        },
    )
    .await;
    state.progress.finish();
    let report = state.sink.finish();
    match (outcome, report) {
        // The writer's own error says why it stopped.
        (Err(CrawlError::SinkStopped), Err(e)) | (Ok(()), Err(e)) => return Err(e.into()),
        (Err(e), _) => return Err(e),
        (Ok(()), Ok(report)) => {
            summary.warc_files = report.files;
            summary.warc_records = report.records;
            summary.warc_bytes = report.bytes;
            summary.written_index = report.index;
        }
    }
    if let Queue::Shared(worker) = queue {
        summary.shared_run = Some(worker.run());
        summary.unshared_payloads = worker.leave(&summary).await?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The politeness every worker of a shared crawl keeps.
fn politeness(config: &CrawlConfig) -> Politeness {
    Politeness {
        per_host: config.per_host,
        delay: config.delay,
        respect_robots: config.robots == RobotsPolicy::Respect,
        lease: config
            .shared
            .as_ref()
            .map_or(Duration::from_secs(60), |s| s.lease),
    }
}

/// The collection's writer, with the crawl's clock and IDs, and a warcinfo record naming the
/// crawl's settings.
fn writer_config(config: &CrawlConfig) -> WriterConfig {
    let mut writer = config.collection.writer_config(config.compression);
    if let Some(tag) = &config.file_tag {
        writer.prefix = format!("{}-{tag}", writer.prefix);
    }
    writer.max_file_size = config.max_file_size;
    writer.zstd_dictionary = config.zstd_dictionary.clone();
    writer.clock = config.clock.clone();
    writer.ids = config.ids.clone();
    let robots = format!("{:?}", config.robots).to_lowercase();
    writer.warcinfo = vec![
        ("isPartOf".into(), config.collection.name().to_string()),
        ("description".into(), "cairn crawl".into()),
        ("robots".into(), robots),
        (
            "http-header-user-agent".into(),
            config.fetch.user_agent.clone(),
        ),
        ("cairn-options".into(), config.options_summary.clone()),
    ];
    writer
}

/// The seeds, queued. Resuming, what the interrupted run archived is done, the targets still
/// set the scope, then what it had queued comes back as it was. A worker of a shared crawl
/// hands its seeds to the shared frontier, which keeps each URL once whoever brings it.
fn initial_frontier(config: &CrawlConfig, summary: &mut Summary, queue: &mut Queue) -> Frontier {
    let mut frontier = Frontier::new(config.rules.clone());
    for url in &config.resume.done {
        frontier.mark_seen(url);
    }
    for seed in &config.seeds {
        if let Err(refusal) = frontier.add_seed(seed.clone()) {
            note_refusal(summary, &refusal);
        }
    }
    for candidate in &config.resume.pending {
        let _ = frontier.requeue(candidate.clone());
    }
    match queue {
        Queue::Shared(worker) => worker.admit(&mut frontier),
        Queue::Own => {
            if let Some(log) = &config.frontier_log {
                log_admitted(log.as_ref(), &mut frontier);
            }
        }
    }
    frontier
}

/// Persists what the frontier admitted, for a job's crawl to resume from: a SQLite write,
/// which blocks. The crawl's coordinator is a task on the runtime's workers, so the write is
/// made with the worker's other tasks (the fetch it last started among them) handed to
/// another thread. The crawl runs on a multi-thread runtime only (`archive_at`).
fn log_admitted(log: &dyn FrontierLog, frontier: &mut Frontier) {
    let admitted = frontier.take_admitted();
    if !admitted.is_empty() {
        tokio::task::block_in_place(|| log.admitted(&admitted));
    }
}

/// Where the crawl takes the next URL to fetch: its own frontier, or, for a worker of a
/// shared crawl, the shared one (its own frontier still decides what is admitted).
enum Queue {
    Own,
    Shared(Box<Worker>),
}

impl Queue {
    async fn next(
        &mut self,
        frontier: &mut Frontier,
        room: usize,
    ) -> Result<Option<Candidate>, CrawlError> {
        match self {
            Queue::Own => Ok(frontier.pop()),
            Queue::Shared(worker) => worker.next(room).await,
        }
    }

    /// How many fetch tasks to keep: a few per connection, so the frontier's order
    /// (requisites first) still decides what is fetched next; for a worker, one per
    /// connection, since each holds a lease that counts against its host's `--per-host`.
    fn max_in_flight(&self, concurrency: usize) -> usize {
        match self {
            Queue::Own => concurrency * 4,
            Queue::Shared(_) => concurrency,
        }
    }

    /// With nothing in flight here: whether the crawl is over (for a worker, whether no URL
    /// is left to any worker).
    async fn finished(&mut self) -> Result<bool, CrawlError> {
        match self {
            Queue::Own => Ok(true),
            Queue::Shared(worker) => worker.finished().await,
        }
    }

    /// How long to wait for a fetch to end before asking the queue again: for ever when the
    /// queue is this crawl's own, since only a fetch ending can add to it.
    fn poll_interval(&self) -> Option<Duration> {
        match self {
            Queue::Own => None,
            Queue::Shared(worker) => Some(worker.poll_interval()),
        }
    }

    /// A fetch handled: what it admitted, persisted or shared, and for a worker, the URL done.
    fn handled(
        &mut self,
        frontier: &mut Frontier,
        url: &Url,
        error: Option<String>,
        log: Option<&dyn FrontierLog>,
    ) {
        match self {
            Queue::Own => {
                if let Some(log) = log {
                    log_admitted(log, frontier);
                }
            }
            Queue::Shared(worker) => {
                worker.admit(frontier);
                worker.done(url, error);
            }
        }
    }

    fn outbox(&self) -> Option<crate::state::payloads::Outbox> {
        match self {
            Queue::Own => None,
            Queue::Shared(worker) => Some(worker.outbox()),
        }
    }
}

/// What the crawl loop takes from the configuration.
struct LoopSettings<'a> {
    resources: Vec<Resource>,
    concurrency: usize,
    frontier_log: Option<&'a dyn FrontierLog>,
    queue: &'a mut Queue,
}

/// Dispatches fetches and handles their results until the queue is empty and nothing is in
/// flight.
async fn run_loop(
    state: &mut CrawlState,
    shared: &Arc<Shared>,
    events: &mut mpsc::UnboundedReceiver<Event>,
    frontier: &mut Frontier,
    summary: &mut Summary,
    settings: LoopSettings<'_>,
) -> Result<(), CrawlError> {
    let LoopSettings {
        resources,
        concurrency,
        frontier_log,
        queue,
    } = settings;
    for resource in resources {
        state
            .send(Job::Resource {
                target_uri: resource.target_uri,
                content_type: resource.content_type,
                block: resource.block,
            })
            .await?;
    }

    let max_in_flight = queue.max_in_flight(concurrency.max(1));
    let mut in_flight = 0usize;
    loop {
        while in_flight < max_in_flight {
            let Some(candidate) = queue.next(frontier, max_in_flight - in_flight).await? else {
                break;
            };
            in_flight += 1;
            tokio::spawn(fetch_task(shared.clone(), candidate));
        }
        if in_flight == 0 && queue.finished().await? {
            break;
        }
        let event = match queue.poll_interval() {
            None => events.recv().await,
            Some(wait) => match tokio::time::timeout(wait, events.recv()).await {
                Ok(event) => event,
                // Time to ask the shared queue again.
                Err(_) => continue,
            },
        };
        let Some(mut event) = event else {
            break;
        };
        // Every result already in is handled before the queue is asked again: a worker
        // sends them to the shared frontier in one statement.
        loop {
            match event {
                Event::Robots(exchange, stored_by_other) => {
                    state.archive_robots(*exchange, stored_by_other).await?;
                }
                Event::Fetched(fetched) => {
                    in_flight -= 1;
                    let url = fetched.candidate.url.clone();
                    let error = fetched.outcome.as_ref().err().cloned();
                    state.handle(*fetched, frontier, summary).await?;
                    queue.handled(frontier, &url, error, frontier_log);
                }
            }
            match events.try_recv() {
                Ok(next) => event = next,
                Err(_) => break,
            }
        }
        state.progress.update(summary, frontier.len() + in_flight);
    }
    Ok(())
}

fn note_refusal(summary: &mut Summary, refusal: &Refusal) {
    let reason = match refusal {
        Refusal::AlreadySeen => return,
        Refusal::OutOfScope => "out of scope",
        Refusal::TooDeep => "too deep",
        Refusal::Excluded => "excluded",
        Refusal::NotIncluded => "not included",
        Refusal::MaxPages => "max pages reached",
        Refusal::Trap(why) => why,
    };
    *summary.skipped.entry(reason.to_string()).or_default() += 1;
}

/// What the main loop alone owns: the sink, the payloads already stored, the display.
struct CrawlState {
    sink: Sink,
    /// sha256 of every payload stored in this crawl, for revisits.
    payloads: HashMap<[u8; 32], Original>,
    progress: progress::Progress,
    ids: RecordIds,
}

impl CrawlState {
    async fn send(&self, job: Job) -> Result<(), CrawlError> {
        self.sink
            .send(job)
            .await
            .map_err(|()| CrawlError::SinkStopped)
    }

    async fn archive_robots(
        &mut self,
        exchange: Exchange,
        stored_by_other: Option<Original>,
    ) -> Result<(), CrawlError> {
        self.capture(exchange, None, stored_by_other)
            .await
            .map(|_| ())
    }

    /// Writes one exchange: a response (or a revisit, for a non-empty payload already stored,
    /// here or by another worker) and its request, plus page metadata when given. Returns
    /// whether it was a revisit.
    async fn capture(
        &mut self,
        exchange: Exchange,
        metadata: Option<Vec<u8>>,
        stored_by_other: Option<Original>,
    ) -> Result<bool, CrawlError> {
        let response_id = self.ids.next();
        // Never de-duplicate empty payloads (nor truncated ones, which are not the resource).
        let revisit_of = if exchange.body.is_empty() || exchange.truncated.is_some() {
            None
        } else {
            match self.payloads.get(&exchange.payload_sha256) {
                Some(original) => Some(original.clone()),
                None if stored_by_other.is_some() => {
                    let original = stored_by_other.clone();
                    self.payloads
                        .extend(original.clone().map(|o| (exchange.payload_sha256, o)));
                    original
                }
                None => {
                    self.payloads.insert(
                        exchange.payload_sha256,
                        Original::stored_now(
                            response_id.clone(),
                            exchange.url.to_string(),
                            exchange.date,
                        ),
                    );
                    None
                }
            }
        };
        let revisit = revisit_of.is_some();
        self.send(Job::Capture(Box::new(CaptureJob {
            exchange,
            request_id: self.ids.next(),
            response_id,
            revisit_of,
            metadata,
        })))
        .await?;
        Ok(revisit)
    }

    async fn handle(
        &mut self,
        fetched: Fetched,
        frontier: &mut Frontier,
        summary: &mut Summary,
    ) -> Result<(), CrawlError> {
        let Fetched {
            candidate,
            outcome,
            links,
            title,
            links_cut,
            stored_by_other,
        } = fetched;
        let exchange = match outcome {
            Ok(exchange) => exchange,
            Err(error) => {
                self.failed(&candidate, error, summary);
                return Ok(());
            }
        };
        note_fetched(&candidate, &exchange, links_cut, summary);
        self.progress.fetched(&exchange);
        if exchange.is_redirect() {
            summary.resources += 1;
            if let Some(target) = exchange
                .header("location")
                .and_then(|l| extract::resolve(&exchange.url, l))
                && let Err(refusal) = frontier.add_redirect(&candidate, target)
            {
                note_refusal(summary, &refusal);
            }
            return self
                .capture_counted(exchange, None, stored_by_other, summary)
                .await;
        }
        for link in &links {
            let result = frontier.add_link(&candidate, link.url.clone(), link.kind);
            if let Err(refusal) = result {
                note_refusal(summary, &refusal);
            }
        }
        if !candidate.kind.is_page() {
            summary.resources += 1;
            return self
                .capture_counted(exchange, None, stored_by_other, summary)
                .await;
        }
        summary.pages += 1;
        summary.page_entries.push(PageEntry {
            url: candidate.url.to_string(),
            ts: format_warc_date(exchange.date),
            title,
            status: exchange.status,
        });
        let metadata = page_metadata(&candidate, &links);
        self.capture_counted(exchange, Some(metadata), stored_by_other, summary)
            .await
    }

    /// Writes an exchange, counting it among the revisits if it is one.
    async fn capture_counted(
        &mut self,
        exchange: Exchange,
        metadata: Option<Vec<u8>>,
        stored_by_other: Option<Original>,
        summary: &mut Summary,
    ) -> Result<(), CrawlError> {
        if self.capture(exchange, metadata, stored_by_other).await? {
            summary.revisits += 1;
        }
        Ok(())
    }

    /// A fetch that failed outright: listed, and for a target, a target that failed.
    fn failed(&self, candidate: &Candidate, error: String, summary: &mut Summary) {
        let failure = Failure {
            url: candidate.url.to_string(),
            error,
        };
        self.progress.failed(&failure);
        if candidate.kind == CandidateKind::Target {
            summary.failed_targets.push(failure.clone());
        }
        summary.errors.push(failure);
    }
}

/// Counts a fetch's bytes, and lists what is worth knowing of it: an error status, a page too
/// large to read whole for links.
fn note_fetched(
    candidate: &Candidate,
    exchange: &Exchange,
    links_cut: bool,
    summary: &mut Summary,
) {
    summary.bytes += exchange.body.len();
    if links_cut {
        summary.errors.push(Failure {
            url: candidate.url.to_string(),
            error: format!(
                "stored whole, but links were read from its first {} only",
                human_bytes(MAX_PARSED_BYTES)
            ),
        });
    }
    if exchange.status >= 400 {
        summary.errors.push(Failure {
            url: candidate.url.to_string(),
            error: format!("HTTP {}", exchange.status),
        });
    }
}

/// Heritrix-style page metadata: how the page was reached and what it links to.
fn page_metadata(candidate: &Candidate, links: &[extract::Link]) -> Vec<u8> {
    let mut out = String::new();
    if let Some(via) = &candidate.via {
        out.push_str(&format!("via: {via}\r\n"));
    }
    out.push_str(&format!("hops: {}\r\n", candidate.hops));
    for link in links {
        let hop = match link.kind {
            LinkKind::Requisite => 'E',
            LinkKind::Navigation => 'L',
            LinkKind::Refresh => 'R',
        };
        out.push_str(&format!("outlink: {} {hop} {}\r\n", link.url, link.context));
    }
    out.into_bytes()
}

async fn fetch_task(shared: Arc<Shared>, candidate: Candidate) {
    use futures_util::FutureExt;
    // A panic fetching or reading one URL (a bug some page found) fails that URL alone:
    // uncaught, it ended the task unseen, and the crawl waited for its result forever.
    let kept = candidate.clone();
    let fetched = std::panic::AssertUnwindSafe(fetch_candidate(&shared, candidate))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let said = panic_text(panic.as_ref());
            failed(kept, format!("internal error (a bug in cairn): {said}"))
        });
    let _ = shared.events.send(Event::Fetched(Box::new(fetched)));
}

/// What a caught panic said, when it said it in text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

/// A fetch that failed, reported beside its URL.
fn failed(candidate: Candidate, error: String) -> Fetched {
    Fetched {
        candidate,
        outcome: Err(error),
        links: Vec::new(),
        title: None,
        links_cut: false,
        stored_by_other: None,
    }
}

async fn fetch_candidate(shared: &Arc<Shared>, candidate: Candidate) -> Fetched {
    let host_key = host_key(&candidate.url);
    let host = shared.host(&host_key).await;
    let Ok(slot) = host.slots.acquire().await else {
        return failed(candidate, "crawl stopped".into());
    };
    if shared.robots == RobotsPolicy::Respect {
        let robots = host
            .robots
            .get_or_init(|| robots_of(shared, &host, &host_key, &candidate.url))
            .await;
        if let Some(robot) = robots
            && !robot.allowed(candidate.url.as_str())
        {
            return failed(candidate, "disallowed by robots.txt".into());
        }
    }
    let result = shared.fetch(&host, &candidate.url).await;
    // Parsing needs neither the host nor a network slot.
    drop(slot);
    match result {
        Ok(exchange) => {
            let (links, title, links_cut) = extract_links(&exchange);
            let stored_by_other = stored_by_other(shared, &exchange).await;
            Fetched {
                candidate,
                outcome: Ok(exchange),
                links,
                title,
                links_cut,
                stored_by_other,
            }
        }
        // A failure is reported beside its URL, which the error does not repeat.
        Err(e) => failed(candidate, e.to_string()),
    }
}

impl Shared {
    async fn host(&self, key: &str) -> Arc<HostState> {
        let mut hosts = self.hosts.lock().await;
        hosts
            .entry(key.to_string())
            .or_insert_with(|| {
                Arc::new(HostState {
                    slots: Semaphore::new(self.per_host),
                    next_start: Mutex::new(Instant::now()),
                    robots: OnceCell::new(),
                })
            })
            .clone()
    }

    /// Fetches with bounded retries and exponential backoff on connection errors and 5xx
    /// answers; every attempt waits its turn at the host. The last 5xx answer is kept, since
    /// error responses are evidence too.
    ///
    /// Each attempt holds one of the crawl's `--concurrency` slots while it fetches, and
    /// neither the backoff between attempts nor the wait for the host's `--delay` holds one:
    /// a host answering 503, or a slow-paced one, keeps its own slots, not the crawl's, as
    /// Heritrix snoozes the host's queue rather than a thread.
    async fn fetch(&self, host: &HostState, url: &Url) -> Result<Exchange, FetchError> {
        let config = self.fetcher.config();
        let mut attempt = 0;
        loop {
            let result = self.fetch_politely(host, url).await;
            if !Fetcher::is_retryable(&result) || attempt >= config.retries {
                return result;
            }
            tokio::time::sleep(config.retry_backoff * 2u32.pow(attempt)).await;
            attempt += 1;
        }
    }

    /// With `--delay`, one request at a time to a host, each starting `--delay` after the
    /// previous one ended (as wget's `--wait` and Heritrix's politeness delay).
    async fn fetch_politely(&self, host: &HostState, url: &Url) -> Result<Exchange, FetchError> {
        if self.delay.is_zero() {
            return self.fetch_in_slot(url).await;
        }
        let mut next_start = host.next_start.lock().await;
        tokio::time::sleep_until((*next_start).into()).await;
        let result = self.fetch_in_slot(url).await;
        *next_start = Instant::now() + self.delay;
        result
    }

    /// One request, in one of the crawl's `--concurrency` slots. Whoever holds a slot waits
    /// on nothing but the network, so the order host slot, `--delay`, crawl slot never cycles.
    async fn fetch_in_slot(&self, url: &Url) -> Result<Exchange, FetchError> {
        // The crawl never closes its semaphore: a closed one would limit nothing.
        let _slot = self.global.acquire().await.ok();
        self.fetcher.fetch(url).await
    }
}

/// Where another worker of a shared crawl stored this payload, if one has: asked from the
/// fetch task, so the crawl loop never waits on the database.
async fn stored_by_other(shared: &Shared, exchange: &Exchange) -> Option<Original> {
    let remote = shared.remote.as_ref()?;
    if exchange.body.is_empty() || exchange.truncated.is_some() {
        return None;
    }
    let first = remote.first_stored(&exchange.payload_sha256).await?;
    Some(Original {
        record_id: Some(first.record_id),
        target_uri: first.target_uri,
        date: first.date,
        stored_at: None,
    })
}

/// A host's robots.txt rules: for a worker of a shared crawl, as the worker that fetched it
/// stored them (the host gives one lease at a time until then, so it is fetched once); else
/// fetched, archived, and for a worker, stored for the others.
async fn robots_of(
    shared: &Shared,
    host: &HostState,
    host_key: &str,
    url: &Url,
) -> Option<texting_robots::Robot> {
    let agent = robot_agent(&shared.fetcher.config().user_agent);
    if let Some(remote) = &shared.remote
        && let Some(stored) = remote.robots(host_key).await
    {
        return texting_robots::Robot::new(agent, stored?.as_bytes()).ok();
    }
    let body = fetch_robots(shared, host, url).await;
    if let Some(remote) = &shared.remote {
        remote.store_robots(host_key, body.as_deref()).await;
    }
    texting_robots::Robot::new(agent, body?.as_bytes()).ok()
}

/// Fetches and archives a host's robots.txt; its text, or `None` if it is missing or
/// unreadable, which allows everything.
async fn fetch_robots(shared: &Shared, host: &HostState, url: &Url) -> Option<String> {
    let mut robots_url = url.clone();
    robots_url.set_path("/robots.txt");
    robots_url.set_query(None);
    let exchange = shared.fetch(host, &robots_url).await.ok()?;
    let body = if exchange.status == 200 {
        exchange
            .decoded_body(1 << 20)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    } else {
        None
    };
    let stored_by_other = stored_by_other(shared, &exchange).await;
    let _ = shared
        .events
        .send(Event::Robots(Box::new(exchange), stored_by_other));
    body
}

/// The product token robots.txt rules are matched against: `cairn`, from the User-Agent.
fn robot_agent(user_agent: &str) -> &str {
    if user_agent.contains("cairn") {
        "cairn"
    } else {
        user_agent.split(['/', ' ']).next().unwrap_or(user_agent)
    }
}

/// Links and title of an HTML page, or the links of a stylesheet or an SVG document (a
/// sprite's images, its stylesheets), and whether the document was too large to read whole
/// for them; nothing for other kinds.
fn extract_links(exchange: &Exchange) -> (Vec<extract::Link>, Option<String>, bool) {
    // Only an untyped body is read for its kind: most are images, some spooled to disk.
    let kind = ContentKind::declared(exchange.content_type())
        .unwrap_or_else(|| ContentKind::sniffed(&exchange.decoded_body(512).unwrap_or_default()));
    let svg = exchange.content_type().is_some_and(|t| {
        let essence = t.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("image/svg+xml")
    });
    if !kind.is_rewritten() && !svg {
        return (Vec::new(), None, false);
    }
    let Ok(body) = exchange.decoded_body(MAX_PARSED_BYTES) else {
        return (Vec::new(), None, false);
    };
    let cut = body.len() as u64 >= MAX_PARSED_BYTES;
    if kind == ContentKind::Css {
        let (text, _) = extract::css_text(&body, exchange.content_type());
        return (extract::css(&text, &exchange.url), None, cut);
    }
    // An SVG document's references are written as in SVG inside a page, which the page
    // reader knows; of them only what it shows is followed, not its links.
    let page = extract::html(&body, exchange.content_type(), &exchange.url);
    if svg {
        let requisites = page
            .links
            .into_iter()
            .filter(|l| l.kind == extract::LinkKind::Requisite);
        return (requisites.collect(), None, cut);
    }
    (page.links, page.title, cut)
}
