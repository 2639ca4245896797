//! Crawl state shared by several `cairn` processes, on one machine or many: `--state
//! postgres://...`. It owns the PostgreSQL schema and every statement run against it: the
//! runs of a crawl ([`runs`]), its frontier with leased URLs and per-host politeness that holds
//! across workers ([`frontier`]), and the collection's payload index, digest to original
//! record, that makes a payload one worker stored a revisit for every other ([`payloads`]).
//! Nothing here is needed by the embedded default (the crawl's own frontier, SQLite job state):
//! a worker is a crawl that takes its URLs from here instead of from memory.

pub mod frontier;
pub mod payloads;
pub mod runs;

use std::fmt;
use std::time::Duration;

use tokio_postgres::Client;

use crate::fetch::verified_tls_config;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use frontier::SharedFrontier;
pub use payloads::SharedPayloads;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("--state {0:?}: not a PostgreSQL URL (postgres://USER@HOST[:PORT]/DATABASE)")]
    NotPostgres(String),
    #[error("--state: {0}")]
    BadUrl(tokio_postgres::Error),
    #[error("connecting to the crawl state database {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("crawl state database: {}", with_source(.0))]
    Query(#[from] tokio_postgres::Error),
    #[error(
        "this worker's leases went unrenewed for {0} s (the crawl state database did not \
         answer): it stops, as the other workers may be taking its URLs"
    )]
    LeasesLost(u64),
}

/// Where shared state lives: a PostgreSQL URL, checked when given, its password never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct StateUrl(String);

impl StateUrl {
    pub fn parse(text: &str) -> Result<StateUrl, StateError> {
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err(StateError::NotPostgres(redacted(text)));
        }
        text.parse::<tokio_postgres::Config>()
            .map_err(StateError::BadUrl)?;
        Ok(StateUrl(text.to_string()))
    }

    /// Connects, and makes the schema if this is the first worker to come.
    pub async fn connect(&self) -> Result<Client, StateError> {
        let mut config: tokio_postgres::Config = self.0.parse().map_err(StateError::BadUrl)?;
        config.application_name("cairn");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let failed = |detail: String| StateError::Connect {
            url: self.to_string(),
            detail,
        };
        // TLS as `sslmode` asks (`prefer` by default: TLS when the server offers it), the
        // server's certificate checked against the system's roots (`SSL_CERT_FILE` adds one).
        let tls = MakeRustlsConnect::new(verified_tls_config(&[]).map_err(failed)?);
        let (client, connection) = config
            .connect(tls)
            .await
            .map_err(|e| failed(with_source(&e)))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "crawl state database connection");
            }
        });
        // Made once: the schema's `CREATE INDEX IF NOT EXISTS` takes a lock on the tables
        // even when the index is there, which would hold every worker up at each connect.
        let made: bool = client.query_one(SCHEMA_MADE, &[]).await?.get(0);
        if !made {
            client.batch_execute(SCHEMA).await?;
        }
        Ok(client)
    }
}

impl fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateUrl({})", redacted(&self.0))
    }
}

impl fmt::Display for StateUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted(&self.0))
    }
}

/// Who a worker or a lock holder is: this process, on this machine, this time.
pub fn worker_id() -> String {
    format!(
        "{}:{}:{}",
        hostname(),
        std::process::id(),
        uuid::Uuid::new_v4()
    )
}

/// This machine and process, as a WARC file name may hold them: `HOST-PID`, the host name
/// cut to letters, digits, dots and dashes.
pub fn file_tag() -> String {
    let host: String = hostname()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{host}-{}", std::process::id())
}

/// This machine's name, as the kernel has it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// An error and what caused it, in one line: tokio-postgres says "error connecting to
/// server" and keeps the reason (refused, unknown host, bad password) in its source.
fn with_source(error: &dyn std::error::Error) -> String {
    match error.source() {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

/// A URL with its password (`user:password@`) hidden, for messages and logs.
fn redacted(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if rest[..at].contains(':') => {
            let user = &rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        _ => text.to_string(),
    }
}

/// Whether the database has the schema's newest part: one an earlier cairn made gets what
/// it lacks from [`SCHEMA`], whose every statement is a no-op where its part is there.
const SCHEMA_MADE: &str = "SELECT to_regclass('cairn_payloads') IS NOT NULL AND EXISTS (
    SELECT 1 FROM pg_attribute
    WHERE attrelid = to_regclass('cairn_runs') AND attname = 'on_change' AND NOT attisdropped)";

/// The tables, made once: workers starting together serialise on an advisory lock, since
/// `CREATE ... IF NOT EXISTS` run at the same moment by two sessions can still collide. One
/// string runs as one transaction, so the lock is released when the schema is in place.
const SCHEMA: &str = "
SELECT pg_advisory_xact_lock(7358201946);
CREATE TABLE IF NOT EXISTS cairn_runs (
    id BIGSERIAL PRIMARY KEY,
    crawl TEXT NOT NULL,
    started TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended TIMESTAMPTZ,
    outcome TEXT NOT NULL DEFAULT 'running',
    workers INTEGER NOT NULL DEFAULT 0,
    pages BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0,
    new_payloads BIGINT NOT NULL DEFAULT 0,
    revisits BIGINT NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS cairn_runs_live ON cairn_runs (crawl) WHERE ended IS NULL;
ALTER TABLE cairn_runs ADD COLUMN IF NOT EXISTS changed TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE cairn_runs ADD COLUMN IF NOT EXISTS on_change TEXT[] NOT NULL DEFAULT '{}';
CREATE TABLE IF NOT EXISTS cairn_hosts (
    run BIGINT NOT NULL,
    host TEXT NOT NULL,
    next_fetch TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    robots_known BOOLEAN NOT NULL DEFAULT false,
    robots TEXT,
    PRIMARY KEY (run, host));
CREATE TABLE IF NOT EXISTS cairn_frontier (
    id BIGSERIAL PRIMARY KEY,
    run BIGINT NOT NULL,
    url_key TEXT NOT NULL,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    depth INTEGER NOT NULL,
    kind TEXT NOT NULL,
    via TEXT,
    hops TEXT NOT NULL,
    priority SMALLINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    owner TEXT,
    lease_until TIMESTAMPTZ,
    fetches INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    UNIQUE (run, url_key));
CREATE INDEX IF NOT EXISTS cairn_frontier_open
    ON cairn_frontier (run, host, priority, id) WHERE state IN ('queued', 'leased');
CREATE INDEX IF NOT EXISTS cairn_frontier_leased
    ON cairn_frontier (run, host) WHERE state = 'leased';
CREATE TABLE IF NOT EXISTS cairn_payloads (
    collection TEXT NOT NULL,
    digest BYTEA NOT NULL,
    record_id TEXT NOT NULL,
    uri TEXT NOT NULL,
    date TEXT NOT NULL,
    file TEXT NOT NULL,
    record_offset BIGINT NOT NULL,
    PRIMARY KEY (collection, digest));
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_urls_are_taken_and_passwords_are_never_shown() {
        assert!(StateUrl::parse("postgres://cairn@127.0.0.1:5432/cairn").is_ok());
        assert!(StateUrl::parse("postgresql://cairn@db/cairn?connect_timeout=3").is_ok());
        let refused = StateUrl::parse("sqlite:///tmp/x").unwrap_err().to_string();
        assert!(refused.contains("not a PostgreSQL URL"), "{refused}");
        let url = StateUrl::parse("postgres://cairn:s3cret@db:5432/cairn").unwrap();
        assert_eq!(url.to_string(), "postgres://cairn:***@db:5432/cairn");
        assert!(!format!("{url:?}").contains("s3cret"));
        let refused = StateUrl::parse("mysql://u:s3cret@db/x")
            .unwrap_err()
            .to_string();
        assert!(!refused.contains("s3cret"), "{refused}");
    }
}
