//! The options of `cairn archive`: one definition for the command line (clap) and for jobs in
//! `cairn.toml` (serde, each keyed by its long name in snake_case), checked into a crawl
//! configuration before anything is fetched or written.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::collection::CollectionName;
use crate::crawl::{ProgressMode, RobotsPolicy, SharedCrawl};
use crate::fetch::{FetchConfig, HostMapping, MappingError};
use crate::frontier::{Rules, Scope, TrapBounds};
use crate::state::{StateError, StateUrl};
use crate::store::{Store, StoreError};
use crate::warc::Compression;

const DEPTH: u32 = 1;
const CONCURRENCY: usize = 8;
const PER_HOST: usize = 4;
const TIMEOUT_SECS: u64 = 30;
const MAX_RESOURCE_SIZE: u64 = 1 << 30;
const LEASE_SECS: u64 = 60;
const MAX_LEASE_SECS: u64 = 86_400;

/// What to archive and how. Every field is an option of `cairn archive` and a key of a
/// `[[job]]` in `cairn.toml`; a key that is none is an error.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveOptions {
    /// http(s) URLs, Jekyll posts (front matter with `from:`), or folders of posts.
    #[arg(required = true, value_name = "TARGET")]
    #[serde(deserialize_with = "one_or_many")]
    pub targets: Vec<String>,
    /// Links to follow from a target (redirects and page requisites add none).
    #[arg(long, default_value_t = DEPTH, value_name = "N")]
    pub depth: u32,
    /// Which linked pages to follow: the targets only, their hosts, their sites (registrable
    /// domains), or any.
    #[arg(long, value_enum, default_value_t = Scope::Site)]
    pub scope: Scope,
    /// Follow only pages whose URL matches (repeatable).
    #[arg(long, value_name = "REGEX")]
    #[serde(deserialize_with = "one_or_many")]
    pub include: Vec<String>,
    /// Fetch nothing whose URL matches (repeatable).
    #[arg(long, value_name = "REGEX")]
    #[serde(deserialize_with = "one_or_many")]
    pub exclude: Vec<String>,
    /// Stop queuing pages after this many.
    #[arg(long, value_name = "N")]
    #[serde(alias = "max-pages")]
    pub max_pages: Option<u64>,
    /// How each record is compressed: zstd, gzip or none.
    #[arg(long, default_value_t = Compression::Zstd, value_name = "CODEC")]
    pub compression: Compression,
    /// Compress records with the collection's zstd dictionary (archives/COLL/zstd-dictionary),
    /// trained from its text records if it has none yet; each WARC file starts with a copy.
    /// Smaller files for crawls of one site; zstd only.
    #[arg(long)]
    #[serde(alias = "zstd-dictionary")]
    pub zstd_dictionary: bool,
    /// Fetches at once, over all hosts.
    #[arg(long, default_value_t = CONCURRENCY, value_name = "N")]
    pub concurrency: usize,
    /// Fetches at once to one host.
    #[arg(long, default_value_t = PER_HOST, value_name = "N")]
    #[serde(alias = "per-host")]
    pub per_host: usize,
    /// Milliseconds between two requests to one host.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub delay: u64,
    /// Seconds a request may take, body included.
    #[arg(long, default_value_t = TIMEOUT_SECS, value_name = "SECS")]
    pub timeout: u64,
    /// Store at most this many bytes of a body (the record is marked WARC-Truncated: length).
    #[arg(long, default_value_t = MAX_RESOURCE_SIZE, value_name = "BYTES")]
    #[serde(alias = "max-resource-size")]
    pub max_resource_size: u64,
    #[arg(long, value_name = "S")]
    #[serde(alias = "user-agent")]
    pub user_agent: Option<String>,
    /// Honour robots.txt, or not (it is archived either way).
    #[arg(long, value_enum, default_value_t = RobotsPolicy::Respect)]
    pub robots: RobotsPolicy,
    /// Connect to ADDR for HOST:PORT, as curl's --resolve (repeatable); a private ADDR is
    /// allowed for exactly that HOST:PORT, no other port.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    #[serde(deserialize_with = "one_or_many")]
    pub resolve: Vec<String>,
    /// Connect to HOST2:PORT2 for HOST:PORT, as curl's --connect-to (repeatable); a private
    /// HOST2 is allowed for exactly that HOST:PORT, no other port.
    #[arg(long, value_name = "HOST:PORT:HOST2:PORT2")]
    #[serde(alias = "connect-to")]
    #[serde(deserialize_with = "one_or_many")]
    pub connect_to: Vec<String>,
    /// Also trust the root certificates in this PEM file (repeatable).
    #[arg(long, value_name = "PEM")]
    #[serde(alias = "ca-cert")]
    #[serde(deserialize_with = "one_or_many")]
    pub ca_cert: Vec<PathBuf>,
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Allow loopback, private and link-local addresses.
    #[arg(long)]
    #[serde(alias = "allow-private")]
    pub allow_private: bool,
    /// No live progress display.
    #[arg(long)]
    #[serde(alias = "no-progress")]
    pub no_progress: bool,
    /// Rewrite each post file itself (atomically) instead of writing a copy to
    /// archives/COLL/posts/.
    #[arg(long)]
    #[serde(alias = "in-place")]
    pub in_place: bool,
    /// Prefix of the references a rewritten post gets into the offline copy (default: the
    /// site-absolute /archives/COLL/offline).
    #[arg(long, value_name = "PREFIX")]
    #[serde(alias = "link-base")]
    pub link_base: Option<String>,
    /// Crawl as one of several workers sharing their frontier, politeness and payload index
    /// in this PostgreSQL database (postgres://USER@HOST[:PORT]/DATABASE): every process given
    /// the same state and collection crawls the same run.
    #[arg(long, value_name = "URL")]
    pub state: Option<String>,
    /// With --state: seconds a claimed URL stays this worker's unless renewed; a killed
    /// worker's URLs go back to the others after this.
    #[arg(long, default_value_t = LEASE_SECS, value_name = "SECS")]
    pub lease: u64,
    /// Upload every closed WARC file of the collection, with its index segment, to this
    /// S3-compatible bucket (s3://BUCKET/PREFIX; endpoint, region and credentials from the
    /// AWS_* environment variables) when the crawl ends; files already there are left alone.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

impl Default for ArchiveOptions {
    fn default() -> ArchiveOptions {
        ArchiveOptions {
            targets: Vec::new(),
            depth: DEPTH,
            scope: Scope::default(),
            include: Vec::new(),
            exclude: Vec::new(),
            max_pages: None,
            compression: Compression::default(),
            zstd_dictionary: false,
            concurrency: CONCURRENCY,
            per_host: PER_HOST,
            delay: 0,
            timeout: TIMEOUT_SECS,
            max_resource_size: MAX_RESOURCE_SIZE,
            user_agent: None,
            robots: RobotsPolicy::default(),
            resolve: Vec::new(),
            connect_to: Vec::new(),
            ca_cert: Vec::new(),
            proxy: None,
            allow_private: false,
            no_progress: false,
            in_place: false,
            link_base: None,
            state: None,
            lease: LEASE_SECS,
            store: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("no targets: give URLs, posts or folders of posts")]
    NoTargets,
    #[error("--{flag} {pattern:?} is not a valid regular expression: {source}")]
    Regex {
        flag: &'static str,
        pattern: String,
        source: regex::Error,
    },
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("--ca-cert {}: {source}", path.display())]
    CaCert {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--concurrency and --per-host must be at least 1")]
    NoConcurrency,
    #[error("--zstd-dictionary needs --compression zstd (the default), not {0}")]
    DictionaryNeedsZstd(Compression),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("--lease must be from 1 to 86400 seconds")]
    NoLease,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ArchiveOptions {
    /// Scope, depth and pattern rules for the frontier.
    pub fn rules(&self) -> Result<Rules, OptionsError> {
        if self.targets.is_empty() {
            return Err(OptionsError::NoTargets);
        }
        Ok(Rules {
            scope: self.scope,
            max_depth: self.depth,
            include: regexes(&self.include, "include")?,
            exclude: regexes(&self.exclude, "exclude")?,
            max_pages: self.max_pages,
            traps: TrapBounds::default(),
        })
    }

    /// How to fetch: timeouts, size bound, host mappings, trusted roots, proxy, safety.
    pub fn fetch_config(&self, spool_dir: PathBuf) -> Result<FetchConfig, OptionsError> {
        if self.concurrency == 0 || self.per_host == 0 {
            return Err(OptionsError::NoConcurrency);
        }
        let mut mappings = Vec::new();
        for spec in &self.resolve {
            mappings.push(HostMapping::parse_resolve(spec)?);
        }
        for spec in &self.connect_to {
            mappings.push(HostMapping::parse_connect_to(spec)?);
        }
        let mut ca_certs = Vec::new();
        for path in &self.ca_cert {
            let pem = std::fs::read(path).map_err(|source| OptionsError::CaCert {
                path: path.clone(),
                source,
            })?;
            ca_certs.push(pem);
        }
        let mut fetch = FetchConfig {
            timeout: Duration::from_secs(self.timeout.max(1)),
            max_resource_size: self.max_resource_size,
            mappings,
            ca_certs,
            proxy: self.proxy.clone(),
            allow_private: self.allow_private,
            spool_dir,
            ..FetchConfig::default()
        };
        if let Some(agent) = &self.user_agent {
            fetch.user_agent = agent.clone();
        }
        Ok(fetch)
    }

    /// Whether records are compressed with the collection's zstd dictionary; asking for one
    /// with another compression is an error.
    pub fn wants_dictionary(&self) -> Result<bool, OptionsError> {
        match (self.zstd_dictionary, self.compression) {
            (true, Compression::Zstd) | (false, _) => Ok(self.zstd_dictionary),
            (true, other) => Err(OptionsError::DictionaryNeedsZstd(other)),
        }
    }

    /// A live line on a terminal, a line per fetch otherwise, nothing with `--no-progress`.
    pub fn progress(&self) -> ProgressMode {
        if self.no_progress {
            ProgressMode::Quiet
        } else if std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        }
    }

    /// With `--state`: the crawl as one worker of several. Workers archiving into the same
    /// collection with the same state crawl one run.
    pub fn shared_crawl(
        &self,
        collection: &CollectionName,
    ) -> Result<Option<SharedCrawl>, OptionsError> {
        let Some(state) = &self.state else {
            return Ok(None);
        };
        if !(1..=MAX_LEASE_SECS).contains(&self.lease) {
            return Err(OptionsError::NoLease);
        }
        Ok(Some(SharedCrawl {
            state: StateUrl::parse(state)?,
            crawl: format!("collection {collection}"),
            lease: Duration::from_secs(self.lease),
            share_after_upload: self.store.is_some(),
        }))
    }

    /// With `--store`: the bucket the collection's files are uploaded to.
    pub fn store(&self) -> Result<Option<Store>, OptionsError> {
        Ok(self.store.as_deref().map(Store::open).transpose()?)
    }

    /// The options that shape the crawl, for the warcinfo record.
    pub fn summary(&self) -> String {
        let dictionary = if self.zstd_dictionary {
            "+dictionary"
        } else {
            ""
        };
        format!(
            "depth={} scope={:?} compression={}{dictionary} concurrency={} per-host={} delay={}ms \
             robots={:?}",
            self.depth,
            self.scope,
            self.compression,
            self.concurrency,
            self.per_host,
            self.delay,
            self.robots
        )
        .to_lowercase()
    }
}

/// A repeatable option in `cairn.toml`: a list, or one value written alone
/// (`resolve = "host:443:127.0.0.1"`), as a command line gives it once.
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: From<String> + Deserialize<'de>,
{
    struct OneOrMany<T>(std::marker::PhantomData<T>);
    impl<'de, T: From<String> + Deserialize<'de>> serde::de::Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a list of strings")
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Vec<T>, E> {
            Ok(vec![T::from(value.to_string())])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }
    }
    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
}

fn regexes(patterns: &[String], flag: &'static str) -> Result<Vec<Regex>, OptionsError> {
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|source| OptionsError::Regex {
                flag,
                pattern: pattern.clone(),
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        options: ArchiveOptions,
    }

    /// The command line's defaults are serde's: a job that names only its targets archives
    /// as `cairn archive TARGET` would.
    #[test]
    fn command_line_and_job_defaults_agree() {
        let parsed = Command::try_parse_from(["cairn", "https://a.example/"]).unwrap();
        let job: ArchiveOptions = toml::from_str("targets = [\"https://a.example/\"]").unwrap();
        assert_eq!(parsed.options, job);
        let err = toml::from_str::<ArchiveOptions>("targets = []\nwibble = 1").unwrap_err();
        assert!(err.message().contains("unknown field `wibble`"), "{err}");
        let typed: ArchiveOptions = toml::from_str(
            "scope = \"host\"\ncompression = \"gz\"\nrobots = \"ignore\"\nresolve = \"h:443:127.0.0.1\"\nper-host = 2",
        )
        .unwrap();
        assert_eq!((typed.resolve.len(), typed.per_host), (1, 2));
        assert_eq!(
            (typed.scope, typed.compression, typed.robots),
            (Scope::Host, Compression::Gzip, RobotsPolicy::Ignore)
        );
    }
}
