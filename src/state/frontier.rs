//! The frontier of a crawl several workers share. A worker claims URLs with a lease (`FOR
//! UPDATE SKIP LOCKED` on the host's row, so two workers never claim from one host at once);
//! a host gives no more leases than `--per-host` over all workers, and none before its
//! next-fetch time, which `--delay` moves on as each fetch ends. A worker renews its leases
//! while it lives; a lease that expires (its worker killed) returns the URL to the queue, and
//! until then no one else fetches it. What a fetched page links to goes in with the page marked
//! done, in one statement, so the frontier is never seen empty while a page's links are in
//! flight. Which links are admitted at all (scope, depth, traps) is still each worker's own
//! [`crate::frontier::Frontier`]; the table keeps each URL once.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, IsolationLevel};
use url::Url;

use super::StateError;
use crate::frontier::{Candidate, CandidateKind, canonical};

/// A URL claimed by a worker that died is fetched by another after at most this many claims
/// in all: a URL that kills every worker that fetches it must not stop the crawl.
const MAX_CLAIMS: i32 = 3;

/// A frontier row (`q`) a worker may claim: queued, or leased to a worker whose lease expired
/// (unless it has been claimed too often). `$5` is [`MAX_CLAIMS`].
const CLAIMABLE: &str = "(q.state = 'queued'
    OR (q.state = 'leased' AND q.lease_until <= now() AND q.fetches < $5))";

/// How many more leases a host (`h`) may give: `--per-host` (`$3`), or one while its
/// robots.txt is unknown and honoured (`$2`), less the live leases it has.
const HOST_ROOM: &str = "((CASE WHEN h.robots_known OR NOT $2 THEN $3::int ELSE 1 END)
    - (SELECT count(*)::int FROM cairn_frontier l
       WHERE l.run = h.run AND l.host = h.host AND l.state = 'leased'
           AND l.lease_until > now()))";

/// The statement of [`SharedFrontier::flush`]: `$1` the run; `$2`..`$9` the admitted URLs'
/// columns (key, host, URL, depth, kind, via, hops, priority); `$10`, `$11` the keys of the
/// URLs done and their errors; `$12` this worker; `$13` the delay in seconds.
const FLUSH: &str = "WITH hosts AS (
        INSERT INTO cairn_hosts (run, host)
        SELECT DISTINCT $1::bigint, h FROM unnest($3::text[]) AS h ORDER BY 2
        ON CONFLICT DO NOTHING),
    queued AS (
        INSERT INTO cairn_frontier (run, url_key, url, host, depth, kind, via, hops, priority)
        SELECT $1, * FROM unnest($2::text[], $4::text[], $3::text[], $5::int[], $6::text[],
            $7::text[], $8::text[], $9::smallint[])
        ON CONFLICT (run, url_key) DO NOTHING),
    finished AS (
        UPDATE cairn_frontier f
        SET state = 'done', error = d.error, owner = NULL, lease_until = NULL
        FROM unnest($10::text[], $11::text[]) AS d(url_key, error)
        WHERE f.run = $1 AND f.url_key = d.url_key AND f.state = 'leased' AND f.owner = $12
        RETURNING f.host)
    UPDATE cairn_hosts SET next_fetch = now() + make_interval(secs => $13::float8)
    WHERE $13::float8 > 0 AND run = $1 AND host IN (SELECT host FROM finished)";

/// Runs a statement again when PostgreSQL chose it as the victim of a deadlock or a
/// serialization failure (each statement here is safe to repeat); other errors are returned.
async fn retrying<T, F, Fut>(mut statement: F) -> Result<T, StateError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StateError>>,
{
    let mut pause = Duration::from_millis(10);
    for _ in 0..5 {
        match statement().await {
            Err(StateError::Query(e)) if is_transient(&e) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            done => return done,
        }
    }
    statement().await
}

fn is_transient(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

/// With nothing to claim, how long a worker waits before it asks again.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Politeness and leases, the same for every worker of a crawl.
#[derive(Debug, Clone, Copy)]
pub struct Politeness {
    pub per_host: usize,
    pub delay: Duration,
    /// Whether robots.txt is honoured: until a host's is known, it gives one lease at a time,
    /// so it is fetched (and archived) once.
    pub respect_robots: bool,
    pub lease: Duration,
}

pub struct SharedFrontier {
    /// A connection of its own: claims are transactions, which no other statement may join.
    client: Client,
    run: i64,
    owner: String,
    politeness: Politeness,
    claimed: VecDeque<Candidate>,
    admitted: Vec<Candidate>,
    done: Vec<(String, Option<String>)>,
    next_claim: Instant,
}

impl SharedFrontier {
    pub fn new(client: Client, run: i64, owner: String, politeness: Politeness) -> SharedFrontier {
        SharedFrontier {
            client,
            run,
            owner,
            politeness,
            claimed: VecDeque::new(),
            admitted: Vec::new(),
            done: Vec::new(),
            next_claim: Instant::now(),
        }
    }

    /// Candidates this worker admitted, to go in with the next [`SharedFrontier::flush`].
    pub fn admit(&mut self, candidates: Vec<Candidate>) {
        self.admitted.extend(candidates);
    }

    /// A claimed URL fetched (or failed, with why), to be marked with the next flush.
    pub fn done(&mut self, url: &Url, error: Option<String>) {
        self.done.push((canonical(url), error));
    }

    /// The next URL to fetch: one claimed before, or up to `room` claimed now. `None` when
    /// nothing can be claimed yet (hosts busy or resting, or the frontier empty).
    pub async fn next(&mut self, room: usize) -> Result<Option<Candidate>, StateError> {
        if self.claimed.is_empty() {
            self.flush().await?;
            if Instant::now() >= self.next_claim {
                let claimed = self.claim(room).await?;
                // Nothing to claim: ask again after a pause, not at every fetch that ends.
                if claimed.is_empty() {
                    self.next_claim = Instant::now() + IDLE_POLL;
                }
                self.claimed.extend(claimed);
            }
        }
        Ok(self.claimed.pop_front())
    }

    /// How long to wait for a fetch to end before asking the frontier again.
    pub fn poll_interval(&self) -> Duration {
        IDLE_POLL
    }

    /// Whether the run's frontier is empty: nothing queued, nothing leased (a lease that
    /// expired is work left, for whoever claims it next). A URL claimed [`MAX_CLAIMS`] times
    /// by workers that died with it is marked done first, with why: it must not hold the run
    /// open for ever.
    pub async fn finished(&mut self) -> Result<bool, StateError> {
        self.flush().await?;
        let (client, run) = (&self.client, self.run);
        retrying(|| async move {
            client
                .execute(
                    "UPDATE cairn_frontier SET state = 'done', owner = NULL, lease_until = NULL,
                         error = 'abandoned: ' || fetches || ' workers claimed it and died'
                     WHERE run = $1 AND state = 'leased' AND lease_until <= now()
                         AND fetches >= $2",
                    &[&run, &MAX_CLAIMS],
                )
                .await?;
            let row = client
                .query_one(
                    "SELECT NOT EXISTS (SELECT 1 FROM cairn_frontier
                         WHERE run = $1 AND state IN ('queued', 'leased'))",
                    &[&run],
                )
                .await?;
            Ok(row.get(0))
        })
        .await
    }

    /// Sends what this worker admitted and finished since the last flush, in one statement:
    /// hosts registered, new URLs queued (each URL once per run), claimed ones marked done,
    /// and `--delay` started for their hosts.
    pub async fn flush(&mut self) -> Result<(), StateError> {
        if self.admitted.is_empty() && self.done.is_empty() {
            return Ok(());
        }
        // In one order, whoever sends them: two workers inserting the same URLs in opposite
        // orders deadlock.
        let rows = NewRows::of(&self.admitted);
        self.done.sort();
        let (done_keys, done_errors): (Vec<String>, Vec<Option<String>>) =
            self.done.iter().cloned().unzip();
        let delay = self.politeness.delay.as_secs_f64();
        let params: [&(dyn ToSql + Sync); 13] = [
            &self.run,
            &rows.keys,
            &rows.hosts,
            &rows.urls,
            &rows.depths,
            &rows.kinds,
            &rows.vias,
            &rows.hops,
            &rows.priorities,
            &done_keys,
            &done_errors,
            &self.owner,
            &delay,
        ];
        let client = &self.client;
        retrying(|| async { Ok(client.execute(FLUSH, &params).await?) }).await?;
        self.admitted.clear();
        self.done.clear();
        Ok(())
    }

    /// Leases up to `room` URLs: from hosts whose next fetch is due and that have leases to
    /// give, requisites before pages, older before newer; an expired lease is claimable again.
    ///
    /// Two statements in one transaction: the first locks the hosts' rows (skipping those
    /// another worker is claiming from), the second counts each host's live leases and takes
    /// its URLs. The second sees every claim committed before the locks were granted; one
    /// statement doing both would count from a snapshot older than the lock and could give a
    /// host more leases than `--per-host`.
    async fn claim(&mut self, room: usize) -> Result<Vec<Candidate>, StateError> {
        let mut pause = Duration::from_millis(10);
        loop {
            match self.try_claim(room).await {
                Err(StateError::Query(e)) if is_transient(&e) && pause < Duration::from_secs(1) => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                claimed => return claimed,
            }
        }
    }

    async fn try_claim(&mut self, room: usize) -> Result<Vec<Candidate>, StateError> {
        let per_host = if self.politeness.delay.is_zero() {
            i32::try_from(self.politeness.per_host.max(1)).unwrap_or(i32::MAX)
        } else {
            // One request at a time to a host, as without workers.
            1
        };
        let room = i64::try_from(room).unwrap_or(i64::MAX);
        let lease = self.politeness.lease.as_secs_f64();
        let respect_robots = self.politeness.respect_robots;
        // Read committed, whatever the database's default: the second statement must see
        // the claims committed while the first waited for its locks.
        let tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .await?;
        let hosts: Vec<String> = tx
            .query(
                &format!(
                    "SELECT h.host FROM cairn_hosts h
                     WHERE h.run = $1 AND h.next_fetch <= now() AND {HOST_ROOM} > 0
                         AND EXISTS (SELECT 1 FROM cairn_frontier q
                             WHERE q.run = h.run AND q.host = h.host AND {CLAIMABLE})
                     ORDER BY h.next_fetch, h.host
                     LIMIT $4
                     FOR UPDATE SKIP LOCKED"
                ),
                &[&self.run, &respect_robots, &per_host, &room, &MAX_CLAIMS],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if hosts.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let rows = tx
            .query(
                &format!(
                    "WITH ready AS (
                         SELECT h.host, {HOST_ROOM} AS room FROM cairn_hosts h
                         WHERE h.run = $1 AND h.host = ANY($6)),
                     picked AS (
                         SELECT q.id FROM ready r CROSS JOIN LATERAL (
                             SELECT id FROM cairn_frontier q
                             WHERE q.run = $1 AND q.host = r.host AND {CLAIMABLE}
                             ORDER BY q.priority, q.id
                             LIMIT greatest(r.room, 0)) q
                         LIMIT $4)
                     UPDATE cairn_frontier q
                     SET state = 'leased', owner = $7, fetches = q.fetches + 1,
                         lease_until = now() + make_interval(secs => $8::float8)
                     FROM picked WHERE q.id = picked.id AND {CLAIMABLE}
                     RETURNING q.url, q.depth, q.kind, q.via, q.hops"
                ),
                &[
                    &self.run,
                    &respect_robots,
                    &per_host,
                    &room,
                    &MAX_CLAIMS,
                    &hosts,
                    &self.owner,
                    &lease,
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(rows.iter().filter_map(candidate_of).collect())
    }

    /// Keeps this worker's leases alive: called every third of a lease while it works.
    pub async fn renew_leases(
        client: &Client,
        run: i64,
        owner: &str,
        lease: Duration,
    ) -> Result<u64, StateError> {
        Ok(client
            .execute(
                "UPDATE cairn_frontier SET lease_until = now() + make_interval(secs => $3::float8)
                 WHERE run = $1 AND owner = $2 AND state = 'leased'",
                &[&run, &owner, &lease.as_secs_f64()],
            )
            .await?)
    }
}

/// A host's robots.txt as the worker that fetched it stored it: `None` if no worker has yet,
/// `Some(None)` if it allows everything.
pub async fn robots(
    client: &Client,
    run: i64,
    host: &str,
) -> Result<Option<Option<String>>, StateError> {
    let row = client
        .query_opt(
            "SELECT robots FROM cairn_hosts WHERE run = $1 AND host = $2 AND robots_known",
            &[&run, &host],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Stores a host's robots.txt (`None`: it allows everything) for the other workers.
pub async fn store_robots(
    client: &Client,
    run: i64,
    host: &str,
    body: Option<&str>,
) -> Result<(), StateError> {
    client
        .execute(
            "UPDATE cairn_hosts SET robots_known = true, robots = $3
             WHERE run = $1 AND host = $2",
            &[&run, &host, &body],
        )
        .await?;
    Ok(())
}

/// The politeness key of a URL: its scheme and host, as the crawl's own per-host limits.
pub fn host_key(url: &Url) -> String {
    format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""))
}

/// Admitted candidates as the columns of one insert.
#[derive(Default)]
struct NewRows {
    keys: Vec<String>,
    hosts: Vec<String>,
    urls: Vec<String>,
    depths: Vec<i32>,
    kinds: Vec<&'static str>,
    vias: Vec<Option<String>>,
    hops: Vec<String>,
    priorities: Vec<i16>,
}

impl NewRows {
    /// The rows, by key.
    fn of(candidates: &[Candidate]) -> NewRows {
        let mut rows = NewRows::default();
        let mut sorted: Vec<(String, &Candidate)> =
            candidates.iter().map(|c| (canonical(&c.url), c)).collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted.dedup_by(|a, b| a.0 == b.0);
        for (key, c) in sorted {
            rows.keys.push(key);
            rows.hosts.push(host_key(&c.url));
            rows.urls.push(c.url.to_string());
            rows.depths.push(i32::try_from(c.depth).unwrap_or(i32::MAX));
            rows.kinds.push(kind_name(c.kind));
            rows.vias.push(c.via.as_ref().map(Url::to_string));
            rows.hops.push(c.hops.clone());
            // Requisites first: a page is done when what it needs is in.
            rows.priorities
                .push(i16::from(c.kind != CandidateKind::Requisite));
        }
        rows
    }
}

fn kind_name(kind: CandidateKind) -> &'static str {
    match kind {
        CandidateKind::Target => "target",
        CandidateKind::Page => "page",
        CandidateKind::Requisite => "requisite",
    }
}

fn candidate_of(row: &tokio_postgres::Row) -> Option<Candidate> {
    let kind = match row.get::<_, &str>(2) {
        "target" => CandidateKind::Target,
        "page" => CandidateKind::Page,
        _ => CandidateKind::Requisite,
    };
    Some(Candidate {
        url: Url::parse(row.get(0)).ok()?,
        depth: u32::try_from(row.get::<_, i32>(1)).unwrap_or(0),
        kind,
        via: row
            .get::<_, Option<&str>>(3)
            .and_then(|v| Url::parse(v).ok()),
        hops: row.get(4),
    })
}
