//! Fetching: one HTTP/1.1 exchange at a time with hyper (rustls), captured as an [`Exchange`]
//! value that everything after this module sees. Bytes are kept as received: heads as they
//! crossed the wire ([`wire`] taps each connection between TLS and the parser; [`head`] says
//! what is stored), no automatic decompression (cairn sets `Accept-Encoding` itself), no
//! redirect following (each hop is its own exchange), bodies streamed to a spool file past
//! 1 MiB so memory stays flat. Cookies are kept for the crawl and sent as headers cairn sets
//! itself, so the request record shows them.
//!
//! Network safety lives here too: only http(s), and addresses in loopback, private, link-local
//! and unspecified ranges are refused (literally or by resolution) unless `allow_private` is
//! set; a `--resolve`/`--connect-to` mapping is the user's explicit choice for exactly the host
//! and port it names. Through `--proxy`, target names are resolved and checked here first.

mod connect;
pub mod head;
pub mod wire;

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::time::Instant;
use url::Url;

use crate::content::decode_content;
use crate::warc::Clock;
pub use connect::verified_tls_config;
use connect::{ConnectConfig, NameError, WireConnector};
use head::{
    host_header, parse_response_head, rebuilt_request_head, rebuilt_response_head,
    stored_request_head, stored_response_head,
};
use wire::Wire;

/// Bodies up to this size stay in memory; larger ones go to a spool file.
const IN_MEMORY_BODY: usize = 1 << 20;

/// `HOST:PORT` mapped to an address to connect to, from `--resolve` or `--connect-to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMapping {
    pub host: String,
    pub port: u16,
    pub connect: SocketAddr,
}

/// A `--resolve` or `--connect-to` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("--resolve {0:?}: expected HOST:PORT:ADDRESS, as curl takes it")]
    Resolve(String),
    #[error("--connect-to {0:?}: expected HOST:PORT:HOST2:PORT2, as curl takes it")]
    ConnectTo(String),
    #[error("--connect-to {spec:?}: cannot resolve {host}: {source}")]
    Unresolvable {
        spec: String,
        host: String,
        source: io::Error,
    },
}

impl HostMapping {
    /// Whether this mapping is for exactly `host:port` (brackets around an IPv6 host ignored).
    pub fn names(&self, host: &str, port: u16) -> bool {
        self.port == port
            && self
                .host
                .trim_matches(['[', ']'])
                .eq_ignore_ascii_case(host.trim_matches(['[', ']']))
    }

    /// curl's `--resolve HOST:PORT:ADDR`.
    pub fn parse_resolve(spec: &str) -> Result<HostMapping, MappingError> {
        let bad = || MappingError::Resolve(spec.to_string());
        let (host, rest) = spec.split_once(':').ok_or_else(bad)?;
        let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = addr.parse().map_err(|_| bad())?;
        Ok(HostMapping {
            host: host.to_ascii_lowercase(),
            port,
            connect: SocketAddr::new(ip, port),
        })
    }

    /// curl's `--connect-to HOST:PORT:HOST2:PORT2`; HOST2 is resolved now.
    pub fn parse_connect_to(spec: &str) -> Result<HostMapping, MappingError> {
        let bad = || MappingError::ConnectTo(spec.to_string());
        let parts: Vec<&str> = spec.splitn(3, ':').collect();
        let [host, port, target] = parts[..] else {
            return Err(bad());
        };
        let port: u16 = port.parse().map_err(|_| bad())?;
        let (target_host, target_port) = target.rsplit_once(':').ok_or_else(bad)?;
        let target_port: u16 = target_port.parse().map_err(|_| bad())?;
        let target_host = target_host.trim_start_matches('[').trim_end_matches(']');
        let connect = (target_host, target_port)
            .to_socket_addrs()
            .map_err(|source| MappingError::Unresolvable {
                spec: spec.to_string(),
                host: target_host.to_string(),
                source,
            })?
            .next()
            .ok_or_else(bad)?;
        Ok(HostMapping {
            host: host.to_ascii_lowercase(),
            port,
            connect,
        })
    }
}

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    pub timeout: Duration,
    pub max_resource_size: u64,
    pub mappings: Vec<HostMapping>,
    /// Extra trusted roots, PEM.
    pub ca_certs: Vec<Vec<u8>>,
    pub proxy: Option<String>,
    pub allow_private: bool,
    /// Where bodies larger than 1 MiB are spooled.
    pub spool_dir: PathBuf,
    /// Attempts after the first, on connection errors and 5xx answers.
    pub retries: u32,
    pub retry_backoff: Duration,
    /// Dates each exchange when its request is sent.
    pub clock: Clock,
}

impl Default for FetchConfig {
    fn default() -> FetchConfig {
        FetchConfig {
            user_agent: format!(
                "Mozilla/5.0 (compatible; cairn/{}; +https://github.com/cairn-archive/cairn)",
                env!("CARGO_PKG_VERSION")
            ),
            timeout: Duration::from_secs(30),
            max_resource_size: 1 << 30,
            mappings: Vec::new(),
            ca_certs: Vec::new(),
            proxy: None,
            allow_private: false,
            spool_dir: std::env::temp_dir(),
            retries: 2,
            retry_backoff: Duration::from_millis(500),
            clock: Clock::system(),
        }
    }
}

/// Why a fetch failed. The messages leave out the URL, which the crawl reports beside them.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("only http and https URLs are fetched")]
    Scheme(String),
    #[error("refusing {ip}, a {kind} address (pass --allow-private to allow it)")]
    Private {
        url: String,
        ip: IpAddr,
        kind: &'static str,
    },
    #[error("{detail}")]
    Network { url: String, detail: String },
    /// No address to connect to, and none to expect on a retry.
    #[error("{detail}")]
    Unresolvable { url: String, detail: String },
    #[error("spooling the body: {source}")]
    Spool { url: String, source: io::Error },
    #[error("bad fetch configuration: {0}")]
    Config(String),
}

/// What one request/response crossed the wire as.
#[derive(Debug)]
pub struct Exchange {
    pub url: Url,
    /// When the request was sent.
    pub date: OffsetDateTime,
    pub ip: Option<IpAddr>,
    /// The request as written to the connection: request line and header lines, through the
    /// blank line (a proxy's credentials left out).
    pub request_head: Vec<u8>,
    pub status: u16,
    /// The final response's status line and header lines as read from the connection, through
    /// the blank line; its `Transfer-Encoding` renamed `X-Orig-Transfer-Encoding`, since the
    /// body is stored de-chunked (see [`head`]).
    pub response_head: Vec<u8>,
    /// The fields of `response_head`, in order, names in their case, values as text.
    pub headers: Vec<(String, String)>,
    pub body: Spool,
    /// `WARC-Truncated` reason when the body was cut short: `length` or `time` or `disconnect`.
    pub truncated: Option<&'static str>,
    pub payload_sha256: [u8; 32],
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }

    /// The body with its `Content-Encoding` undone, at most `limit` bytes of it: enough to find
    /// links, never enough for a decompression bomb to exhaust memory.
    pub fn decoded_body(&self, limit: u64) -> io::Result<Vec<u8>> {
        decode_content(self.body.reader()?, self.header("content-encoding"), limit)
    }
}

/// A response body: in memory, or in an unlinked spool file.
#[derive(Debug)]
pub enum Spool {
    Memory(Vec<u8>),
    File { file: std::fs::File, len: u64 },
}

impl Spool {
    pub fn len(&self) -> u64 {
        match self {
            Spool::Memory(v) => v.len() as u64,
            Spool::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reader from the start of the body.
    pub fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Spool::Memory(v) => Box::new(&v[..]),
            Spool::File { file, len } => {
                let mut f = file.try_clone()?;
                f.seek(SeekFrom::Start(0))?;
                Box::new(f.take(*len))
            }
        })
    }
}

/// Accumulates a body as it arrives, hashing it, moving to disk past [`IN_MEMORY_BODY`].
struct SpoolWriter {
    spool: Spool,
    hash: Sha256,
    dir: PathBuf,
}

impl SpoolWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        match &mut self.spool {
            Spool::Memory(v) if v.len() + bytes.len() <= IN_MEMORY_BODY => {
                v.extend_from_slice(bytes)
            }
            Spool::Memory(v) => {
                let mut file = tempfile::tempfile_in(&self.dir)?;
                file.write_all(v)?;
                file.write_all(bytes)?;
                let len = (v.len() + bytes.len()) as u64;
                self.spool = Spool::File { file, len };
            }
            Spool::File { file, len } => {
                file.write_all(bytes)?;
                *len += bytes.len() as u64;
            }
        }
        Ok(())
    }
}

/// Cookies set during the crawl, sent back as the browser would.
type Jar = Arc<reqwest::cookie::Jar>;

pub struct Fetcher {
    client: Client<WireConnector, Empty<Bytes>>,
    /// Sent with plain-http requests through a proxy that wants credentials (https ones get
    /// them in the tunnel's `CONNECT`).
    proxy_authorization: Option<HeaderValue>,
    config: FetchConfig,
    jar: Jar,
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Result<Fetcher, FetchError> {
        // rustls with ring, the build's one crypto library (aws-lc-rs, reqwest's default, took
        // 86 of a release build's 656 CPU-seconds; ring takes 11). Installed once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let connector = WireConnector::new(&ConnectConfig {
            connect_timeout: config.timeout.min(Duration::from_secs(15)),
            mappings: &config.mappings,
            ca_certs: &config.ca_certs,
            proxy: config.proxy.as_deref(),
            allow_private: config.allow_private,
        })
        .map_err(FetchError::Config)?;
        let proxy_authorization = connector
            .proxy()
            .and_then(|p| p.authorization.as_deref())
            .and_then(|v| HeaderValue::try_from(v).ok());
        // Redirects are not followed (hyper never does): each hop is its own exchange.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(16)
            .http1_title_case_headers(true)
            .build(connector);
        Ok(Fetcher {
            client,
            proxy_authorization,
            config,
            jar: Arc::new(reqwest::cookie::Jar::default()),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetches one URL once (no redirects followed); retries are the caller's, which knows
    /// the politeness they owe the host.
    pub async fn fetch(&self, url: &Url) -> Result<Exchange, FetchError> {
        self.check_target(url)?;
        self.check_proxied(url).await?;
        self.fetch_once(url).await
    }

    /// Whether an outcome is worth another attempt: a connection error or a 5xx answer.
    pub fn is_retryable(result: &Result<Exchange, FetchError>) -> bool {
        match result {
            Ok(exchange) => exchange.status >= 500,
            Err(FetchError::Network { .. }) => true,
            Err(_) => false,
        }
    }

    /// Refuses schemes other than http(s) and literal addresses outside public ranges, unless
    /// a mapping names exactly this host and port: a mapping allows what it names and no other
    /// port of that host, nor its address on another port (issue 13).
    fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.to_string()));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        match non_public_kind(ip) {
            Some(kind) if !self.config.allow_private && !self.is_mapped(url) => {
                Err(FetchError::Private {
                    url: url.to_string(),
                    ip,
                    kind,
                })
            }
            _ => Ok(()),
        }
    }

    /// Through `--proxy` the proxy resolves the target's name, so cairn's checking resolver
    /// never sees it: the name is resolved and checked here before the request is handed
    /// over. Every address it resolves to must be public (the proxy may connect to any of
    /// them); `localhost` and names under it are loopback by name (RFC 6761, section 6.3),
    /// whatever the resolver says. Address literals were checked by [`Self::check_target`].
    ///
    /// DNS rebinding: the proxy resolves the name again and may get another answer than
    /// cairn did; checking what cairn resolves is the best a client of a proxy can do. A
    /// name cairn cannot resolve at all is handed over, since behind a proxy the proxy may be
    /// the only one that can resolve names (the proxy then fails or succeeds as it would for
    /// any client).
    async fn check_proxied(&self, url: &Url) -> Result<(), FetchError> {
        if self.config.proxy.is_none() || self.config.allow_private || self.is_mapped(url) {
            return Ok(());
        }
        let Some(url::Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        let refuse = |ip: IpAddr, kind: &'static str| FetchError::Private {
            url: url.to_string(),
            ip,
            kind,
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return Err(refuse(IpAddr::V4(Ipv4Addr::LOCALHOST), "loopback"));
        }
        let lookup = tokio::net::lookup_host((name.as_str(), 0));
        let Ok(Ok(addresses)) = tokio::time::timeout(self.config.timeout, lookup).await else {
            return Ok(());
        };
        for address in addresses {
            if let Some(kind) = non_public_kind(address.ip()) {
                return Err(refuse(address.ip(), kind));
            }
        }
        Ok(())
    }

    /// Whether a `--resolve`/`--connect-to` mapping names exactly this URL's host and port.
    fn is_mapped(&self, url: &Url) -> bool {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        self.config.mappings.iter().any(|m| m.names(host, port))
    }

    async fn fetch_once(&self, url: &Url) -> Result<Exchange, FetchError> {
        let request_headers = self.request_headers(url);
        let request = self.request(url, &request_headers)?;
        let date = self.config.clock.now();
        // One deadline for the whole exchange, the body included, as `--timeout` promises.
        let deadline = Instant::now() + self.config.timeout;
        let response = self.send(url, request, deadline).await?;
        let status = response.status().as_u16();
        let wire = response.extensions().get::<Wire>();
        let ip = wire.and_then(|w| w.remote).map(|a| a.ip());
        let (request_head, response_head) = wire_heads(url, wire, status).unwrap_or_else(|| {
            (
                rebuilt_request_head(url, &request_headers),
                rebuilt_response_head(&response),
            )
        });
        let received = parse_response_head(&response_head)
            .map(|(_, fields)| fields)
            .unwrap_or_default();
        self.jar_store(url, response.headers());

        let (spool, truncated) = self
            .receive_body(url, response.into_body(), deadline)
            .await?;
        Ok(Exchange {
            url: url.clone(),
            date,
            ip,
            request_head,
            status,
            response_head,
            headers: received,
            body: spool.spool,
            truncated,
            payload_sha256: spool.hash.finalize().into(),
        })
    }

    /// The GET cairn sends, its headers in their order; hyper-util writes the target in origin
    /// form, or in absolute form to a proxy.
    fn request(
        &self,
        url: &Url,
        headers: &[(String, String)],
    ) -> Result<hyper::Request<Empty<Bytes>>, FetchError> {
        let mut target = url.clone();
        target.set_fragment(None);
        let uri: hyper::Uri = target.as_str().parse().map_err(|e| FetchError::Network {
            url: url.to_string(),
            detail: format!("cannot be requested: {e}"),
        })?;
        let mut request = hyper::Request::new(Empty::new());
        *request.uri_mut() = uri;
        let map = request.headers_mut();
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                map.append(n, v);
            }
        }
        if url.scheme() == "http"
            && let Some(credentials) = &self.proxy_authorization
        {
            map.append(hyper::header::PROXY_AUTHORIZATION, credentials.clone());
        }
        Ok(request)
    }

    /// Sends the request and waits for the response head, until the deadline.
    async fn send(
        &self,
        url: &Url,
        request: hyper::Request<Empty<Bytes>>,
        deadline: Instant,
    ) -> Result<hyper::Response<Incoming>, FetchError> {
        let network = |detail: String| FetchError::Network {
            url: url.to_string(),
            detail,
        };
        match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(match lasting_name_error(&e) {
                Some(name) => FetchError::Unresolvable {
                    url: url.to_string(),
                    detail: name.to_string(),
                },
                None => network(error_chain(&e)),
            }),
            Err(_) => Err(network("operation timed out".into())),
        }
    }

    /// The body as it arrives, hashed and spooled past 1 MiB, up to `--max-resource-size`;
    /// what arrived before a stall or a reset is kept, with the `WARC-Truncated` reason.
    async fn receive_body(
        &self,
        url: &Url,
        mut body: Incoming,
        deadline: Instant,
    ) -> Result<(SpoolWriter, Option<&'static str>), FetchError> {
        // Sized once from Content-Length, rather than grown (and copied) chunk by chunk.
        let expected = hyper::body::Body::size_hint(&body).exact().unwrap_or(0);
        let mut spool = SpoolWriter {
            spool: Spool::Memory(Vec::with_capacity(
                expected.min(IN_MEMORY_BODY as u64) as usize
            )),
            hash: Sha256::new(),
            dir: self.config.spool_dir.clone(),
        };
        let max = self.config.max_resource_size;
        loop {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(None) => return Ok((spool, None)),
                Ok(Some(Err(_))) => return Ok((spool, Some("disconnect"))),
                Err(_) => return Ok((spool, Some("time"))),
            };
            // Trailers are not part of the payload.
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            let room = max - spool.spool.len();
            let take = (chunk.len() as u64).min(room) as usize;
            spool
                .write(&chunk[..take])
                .map_err(|source| FetchError::Spool {
                    url: url.to_string(),
                    source,
                })?;
            if take < chunk.len() || spool.spool.len() >= max {
                return Ok((spool, Some("length")));
            }
        }
    }

    /// The request headers, in the order sent (hyper writes them title-cased, as here).
    fn request_headers(&self, url: &Url) -> Vec<(String, String)> {
        let mut headers = vec![
            ("Host".to_string(), host_header(url)),
            ("User-Agent".to_string(), self.config.user_agent.clone()),
            (
                "Accept".to_string(),
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_string(),
            ),
            (
                "Accept-Encoding".to_string(),
                "gzip, deflate, br".to_string(),
            ),
            ("Accept-Language".to_string(), "*".to_string()),
        ];
        use reqwest::cookie::CookieStore;
        if let Some(cookies) = self.jar.cookies(url)
            && let Ok(value) = cookies.to_str()
        {
            headers.push(("Cookie".to_string(), value.to_string()));
        }
        headers
    }

    fn jar_store(&self, url: &Url, headers: &HeaderMap) {
        use reqwest::cookie::CookieStore;
        let mut cookies = headers.get_all(hyper::header::SET_COOKIE).iter();
        self.jar.set_cookies(&mut cookies, url);
    }
}

/// The heads the tap took for this response, as [`head`] stores them; `None`, logged, when
/// it took none or they are not this response's, and the record falls back on heads rebuilt
/// from hyper's parse.
fn wire_heads(url: &Url, wire: Option<&Wire>, status: u16) -> Option<(Vec<u8>, Vec<u8>)> {
    let heads = wire.and_then(Wire::heads);
    let tapped_status = heads
        .and_then(|h| parse_response_head(&h.response))
        .map(|(code, _)| code);
    match heads {
        Some(heads) if tapped_status == Some(status) && !heads.request.is_empty() => {
            if heads.interim > 0 {
                tracing::debug!(%url, interim = heads.interim, "interim responses left out of the record");
            }
            Some((
                stored_request_head(&heads.request),
                stored_response_head(&heads.response),
            ))
        }
        _ => {
            tracing::warn!(%url, "the wire tap has no head for this response; storing heads rebuilt from hyper's parse");
            None
        }
    }
}

/// An error and its causes on one line ("client error (Connect): tcp connect error: ...").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The lasting name error behind a request's failure, if that is what it was.
fn lasting_name_error<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e NameError> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(name) = e.downcast_ref::<NameError>().filter(|n| n.lasting) {
            return Some(name);
        }
        cause = e.source();
    }
    None
}

/// Why an address is not on the public internet, if it is not.
pub fn non_public_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || o[0] == 0 {
                Some("unspecified")
            } else if v4.is_broadcast() || v4.is_multicast() || o[0] >= 240 {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_kind(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("reserved")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_ranges() {
        for (ip, kind) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("192.168.0.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("0.0.0.0", Some("unspecified")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::1", Some("loopback")),
            ("fd00::1", Some("private")),
            ("fe80::1", Some("link-local")),
            ("93.184.216.34", None),
            ("2606:2800:220:1::1", None),
        ] {
            assert_eq!(non_public_kind(ip.parse().unwrap()), kind, "{ip}");
        }
    }

    #[test]
    fn url_spellings_of_loopback_are_literal_ips_to_the_url_parser() {
        // The WHATWG URL parser normalizes every IPv4 spelling, so one check covers them all.
        for spelling in [
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            let url = Url::parse(spelling).unwrap();
            let ip = match url.host().unwrap() {
                url::Host::Ipv4(ip) => IpAddr::V4(ip),
                url::Host::Ipv6(ip) => IpAddr::V6(ip),
                url::Host::Domain(d) => panic!("{spelling} parsed as domain {d}"),
            };
            assert_eq!(non_public_kind(ip), Some("loopback"), "{spelling}");
        }
    }

    #[test]
    fn curl_style_mappings() {
        let m = HostMapping::parse_resolve("www.cna.com.tw:443:127.0.0.1").unwrap();
        assert_eq!(m.connect, "127.0.0.1:443".parse().unwrap());
        let m = HostMapping::parse_connect_to("www.cna.com.tw:443:127.0.0.1:8443").unwrap();
        assert_eq!((m.host.as_str(), m.port), ("www.cna.com.tw", 443));
        assert_eq!(m.connect, "127.0.0.1:8443".parse().unwrap());
        assert!(HostMapping::parse_resolve("nonsense").is_err());
        assert!(HostMapping::parse_connect_to("a:1:b").is_err());
        // A mapping names one host and one port, nothing else.
        let m = HostMapping::parse_resolve("127.0.0.1:80:127.0.0.1").unwrap();
        assert!(m.names("127.0.0.1", 80));
        assert!(!m.names("127.0.0.1", 21001));
        let m = HostMapping::parse_connect_to("Mapped.Test:80:127.0.0.1:8080").unwrap();
        assert!(m.names("mapped.test", 80));
        assert!(!m.names("mapped.test", 8080));
        assert!(!m.names("127.0.0.1", 8080));
    }
}
