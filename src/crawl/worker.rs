//! A crawl as one of several workers (`--state postgres://...`): it joins the crawl's run,
//! takes its URLs from the shared frontier and gives back what it admitted, keeps its leases
//! alive, asks the shared payload index before storing a payload, adds what it stored as its
//! records reach the file, and when the frontier is empty adds its counts and ends the run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_postgres::Client;
use url::Url;

use super::{CrawlError, Summary};
use crate::frontier::{Candidate, Frontier};
use crate::state::frontier::{self as shared_frontier, Politeness};
use crate::state::payloads::{FirstStored, Outbox, StoredPayload};
use crate::state::runs::{self, WorkerCounts};
use crate::state::{SharedFrontier, SharedPayloads, StateError, StateUrl};

/// A crawl shared with other workers.
#[derive(Debug, Clone)]
pub struct SharedCrawl {
    pub state: StateUrl,
    /// Workers given the same name crawl the same run.
    pub crawl: String,
    /// How long a claimed URL stays this worker's without a renewal.
    pub lease: Duration,
    /// With `--store`: the payloads this worker stores are shared only once their files are
    /// in the bucket (see [`crate::archive`]), so no other worker's revisit names a record
    /// the bucket may never get (this one's machine lost before its upload).
    pub share_after_upload: bool,
}

/// What the fetch tasks ask the database: robots.txt other workers fetched, payloads they
/// stored.
pub struct Remote {
    client: Arc<Client>,
    run: i64,
    payloads: SharedPayloads,
}

impl Remote {
    /// The robots.txt another worker stored for the host: `None` if none has yet.
    pub async fn robots(&self, host: &str) -> Option<Option<String>> {
        shared_frontier::robots(&self.client, self.run, host)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, host, "reading robots.txt from the crawl state");
                None
            })
    }

    pub async fn store_robots(&self, host: &str, body: Option<&str>) {
        let stored = shared_frontier::store_robots(&self.client, self.run, host, body).await;
        if let Err(error) = stored {
            tracing::warn!(%error, host, "storing robots.txt in the crawl state");
        }
    }

    /// The record another worker stored this payload in, if any; a database that does not
    /// answer costs a duplicate payload, not the capture.
    pub async fn first_stored(&self, sha256: &[u8; 32]) -> Option<FirstStored> {
        self.payloads
            .first_stored(sha256)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "looking a payload up in the crawl state");
                None
            })
    }
}

/// This worker's part of the shared crawl, for the crawl loop.
pub struct Worker {
    frontier: SharedFrontier,
    /// The run, its connection and the payload index, which the fetch tasks share.
    remote: Arc<Remote>,
    outbox: Outbox,
    renewal: JoinHandle<()>,
    /// When the leases were last renewed.
    renewed: Arc<Mutex<Instant>>,
    lease: Duration,
    share_after_upload: bool,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

impl Worker {
    /// Connects, joins the crawl's run (starting it if no worker has), and starts renewing
    /// this worker's leases.
    pub async fn join(
        crawl: &SharedCrawl,
        collection: &str,
        politeness: Politeness,
    ) -> Result<(Worker, Arc<Remote>), StateError> {
        let client = Arc::new(crawl.state.connect().await?);
        let claims = crawl.state.connect().await?;
        let run = runs::join(&client, &crawl.crawl).await?;
        let owner = crate::state::worker_id();
        tracing::info!(run, worker = %owner, crawl = %crawl.crawl, "joined the shared crawl");
        let renewed = Arc::new(Mutex::new(Instant::now()));
        let renewal = tokio::spawn(renew_leases(
            client.clone(),
            Lessee {
                run,
                owner: owner.clone(),
                lease: crawl.lease,
            },
            renewed.clone(),
        ));
        let remote = Arc::new(Remote {
            client: client.clone(),
            run,
            payloads: SharedPayloads::new(client.clone(), collection.to_string()),
        });
        let worker = Worker {
            frontier: SharedFrontier::new(claims, run, owner, politeness),
            remote: remote.clone(),
            outbox: Arc::new(Mutex::new(Vec::new())),
            renewal,
            renewed,
            lease: crawl.lease,
            share_after_upload: crawl.share_after_upload,
        };
        Ok((worker, remote))
    }

    /// The run this worker joined.
    pub fn run(&self) -> i64 {
        self.remote.run
    }

    /// Where the writer puts the payloads it stored.
    pub fn outbox(&self) -> Outbox {
        self.outbox.clone()
    }

    /// What the local frontier admitted goes to the shared one.
    pub fn admit(&mut self, frontier: &mut Frontier) {
        self.frontier.admit(frontier.hand_off());
    }

    pub fn done(&mut self, url: &Url, error: Option<String>) {
        self.frontier.done(url, error);
    }

    /// The next URL to fetch, after the payloads stored since the last call are shared.
    /// A worker whose leases could not be renewed for half a lease claims no more: the others
    /// may be taking its URLs already.
    pub async fn next(&mut self, room: usize) -> Result<Option<Candidate>, CrawlError> {
        let since = self.renewed.lock().map(|t| t.elapsed()).unwrap_or_default();
        if since > self.lease / 2 {
            return Err(StateError::LeasesLost(since.as_secs()).into());
        }
        if !self.share_after_upload {
            self.share_payloads().await?;
        }
        Ok(self.frontier.next(room).await?)
    }

    pub async fn finished(&mut self) -> Result<bool, CrawlError> {
        Ok(self.frontier.finished().await?)
    }

    pub fn poll_interval(&self) -> Duration {
        self.frontier.poll_interval()
    }

    async fn share_payloads(&self) -> Result<(), StateError> {
        self.remote.payloads.add(&self.take_stored()).await
    }

    fn take_stored(&self) -> Vec<StoredPayload> {
        match self.outbox.lock() {
            Ok(mut out) => std::mem::take(&mut *out),
            Err(_) => Vec::new(),
        }
    }

    /// After the writer closed its files: the last payloads shared, this worker's counts
    /// added to the run, and the run ended if no URL is left to anyone. Returns the payloads
    /// left to share once their files are uploaded.
    pub async fn leave(self, summary: &Summary) -> Result<Vec<StoredPayload>, CrawlError> {
        let unshared = if self.share_after_upload {
            self.take_stored()
        } else {
            self.share_payloads().await?;
            Vec::new()
        };
        let counts = WorkerCounts {
            pages: summary.pages,
            bytes: summary.warc_bytes,
            new_payloads: (summary.pages + summary.resources).saturating_sub(summary.revisits),
            revisits: summary.revisits,
        };
        let (client, run) = (&self.remote.client, self.remote.run);
        runs::add_counts(client, run, counts).await?;
        if runs::end_if_done(client, run).await? {
            tracing::info!(run, "the shared crawl's frontier is empty: run ended");
        }
        Ok(unshared)
    }
}

/// Whose leases a renewal keeps alive.
struct Lessee {
    run: i64,
    owner: String,
    lease: Duration,
}

/// Renews this worker's leases every sixth of a lease, until aborted, noting when it last
/// did: a missed renewal is retried, and the worker stops claiming after half a lease
/// without one.
async fn renew_leases(client: Arc<Client>, lessee: Lessee, renewed: Arc<Mutex<Instant>>) {
    let every = (lessee.lease / 6).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let renewal =
            SharedFrontier::renew_leases(&client, lessee.run, &lessee.owner, lessee.lease).await;
        match renewal {
            Ok(_) => {
                if let Ok(mut at) = renewed.lock() {
                    *at = Instant::now();
                }
            }
            Err(error) => tracing::warn!(%error, "renewing leases"),
        }
    }
}
