//! Fetching: one HTTP/1.1 exchange at a time with reqwest (rustls), captured as an [`Exchange`]
//! value that everything after this module sees. Bytes are kept as received: no automatic
//! decompression (cairn sets `Accept-Encoding` itself), no redirect following (each hop is its
//! own exchange), bodies streamed to a spool file past 1 MiB so memory stays flat. Cookies are
//! kept for the crawl and sent as headers cairn sets itself, so the request record shows them.
//!
//! Network safety lives here too: only http(s), and addresses in loopback, private, link-local
//! and unspecified ranges are refused (literally or by resolution) unless `allow_private` is
//! set; hosts mapped with `--resolve`/`--connect-to` are the user's explicit choice.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use crate::content::decode_content;
use crate::warc::Clock;

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
    /// The request as sent: request line and headers, ending with the blank line.
    pub request_head: Vec<u8>,
    pub status: u16,
    /// The response's status line and headers, ending with the blank line; a chunked
    /// `Transfer-Encoding` is renamed `X-Orig-Transfer-Encoding`, since the body is stored
    /// de-chunked.
    pub response_head: Vec<u8>,
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
    client: reqwest::Client,
    config: FetchConfig,
    jar: Jar,
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Result<Fetcher, FetchError> {
        // rustls with ring, the build's one crypto library (aws-lc-rs, reqwest's default, took
        // 86 of a release build's 656 CPU-seconds; ring takes 11). Installed once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(15)))
            .http1_only()
            .http1_title_case_headers()
            .pool_max_idle_per_host(16)
            .dns_resolver(Arc::new(SafeResolver {
                allow_private: config.allow_private,
            }));
        for mapping in &config.mappings {
            builder = builder.resolve(&mapping.host, mapping.connect);
        }
        for pem in &config.ca_certs {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| FetchError::Config(format!("--ca-cert: {e}")))?;
            builder = builder.tls_certs_merge(certs);
        }
        builder = match &config.proxy {
            Some(proxy) => builder.proxy(
                reqwest::Proxy::all(proxy)
                    .map_err(|e| FetchError::Config(format!("--proxy: {e}")))?,
            ),
            None => builder.no_proxy(),
        };
        let client = builder
            .build()
            .map_err(|e| FetchError::Config(error_chain(&e)))?;
        Ok(Fetcher {
            client,
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

    /// Refuses schemes other than http(s) and literal addresses outside public ranges.
    fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.to_string()));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        let mapped = self.config.mappings.iter().any(|m| {
            url.host_str()
                .is_some_and(|h| h.trim_matches(['[', ']']) == m.host)
        });
        match non_public_kind(ip) {
            Some(kind) if !self.config.allow_private && !mapped => Err(FetchError::Private {
                url: url.to_string(),
                ip,
                kind,
            }),
            _ => Ok(()),
        }
    }

    async fn fetch_once(&self, url: &Url) -> Result<Exchange, FetchError> {
        let network = |detail: String| FetchError::Network {
            url: url.to_string(),
            detail,
        };
        let request_headers = self.request_headers(url);
        let request_head = request_head(url, &request_headers);
        let mut headers = HeaderMap::new();
        for (name, value) in &request_headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                headers.append(n, v);
            }
        }
        let date = self.config.clock.now();
        let mut response = self
            .client
            .get(url.as_str())
            .headers(headers)
            .send()
            .await
            .map_err(|e| match lasting_name_error(&e) {
                Some(name) => FetchError::Unresolvable {
                    url: url.to_string(),
                    detail: name.to_string(),
                },
                None => network(error_chain(&e.without_url())),
            })?;
        let status = response.status().as_u16();
        let ip = response.remote_addr().map(|a| a.ip());
        let (response_head, received) = response_head(&response);
        self.jar_store(url, response.headers());

        let (spool, truncated) = self.receive_body(url, &mut response).await?;
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

    /// The body as it arrives, hashed and spooled past 1 MiB, up to `--max-resource-size`;
    /// what arrived before a stall or a reset is kept, with the `WARC-Truncated` reason.
    async fn receive_body(
        &self,
        url: &Url,
        response: &mut reqwest::Response,
    ) -> Result<(SpoolWriter, Option<&'static str>), FetchError> {
        let mut spool = SpoolWriter {
            spool: Spool::Memory(Vec::new()),
            hash: Sha256::new(),
            dir: self.config.spool_dir.clone(),
        };
        let max = self.config.max_resource_size;
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok((spool, None)),
                Err(e) if e.is_timeout() => return Ok((spool, Some("time"))),
                Err(_) => return Ok((spool, Some("disconnect"))),
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
        let mut cookies = headers.get_all(reqwest::header::SET_COOKIE).iter();
        self.jar.set_cookies(&mut cookies, url);
    }
}

fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn request_head(url: &Url, headers: &[(String, String)]) -> Vec<u8> {
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut head = format!("GET {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The status line and headers as received (names as hyper hands them: lowercase), with a
/// chunked `Transfer-Encoding` renamed since the stored body is de-chunked.
fn response_head(response: &reqwest::Response) -> (Vec<u8>, Vec<(String, String)>) {
    let status = response.status();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    let mut received = Vec::new();
    for (name, value) in response.headers() {
        let name = if name == reqwest::header::TRANSFER_ENCODING {
            "x-orig-transfer-encoding"
        } else {
            name.as_str()
        };
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
        received.push((name.to_string(), header_text(value.as_bytes())));
    }
    head.extend_from_slice(b"\r\n");
    (head, received)
}

/// A header value as text: UTF-8 as it is; anything else (Latin-1 from older servers) with
/// its non-ASCII bytes percent-escaped, as browsers escape a `Location`, so no byte is lost to
/// a replacement character. The record keeps the bytes as sent either way.
fn header_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(text) => text.to_string(),
        Err(_) => percent_encoding::percent_encode(value, percent_encoding::CONTROLS).to_string(),
    }
}

/// reqwest's error and its causes on one line ("error sending request: connection refused").
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

/// Why a name gave no address to connect to; `lasting` when asking again soon cannot help
/// (no such name, or only addresses cairn refuses), so the fetch is not retried.
#[derive(Debug)]
struct NameError {
    detail: String,
    lasting: bool,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for NameError {}

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

/// Resolves names as the system does, then drops addresses outside public ranges unless
/// private ones are allowed: a public name that resolves inward (DNS rebinding) is refused, and
/// the connection uses only the addresses checked here.
struct SafeResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for SafeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| NameError {
                    // getaddrinfo tells a passing failure (EAI_AGAIN) only by its message.
                    lasting: !e.to_string().contains("Temporary failure"),
                    detail: format!("{host}: {e}"),
                })?
                .collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| allow_private || non_public_kind(a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                let found = addrs
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                return Err(NameError {
                    lasting: true,
                    detail: format!(
                        "{host} resolves to {found}, not a public address (pass --allow-private to allow it)"
                    ),
                }
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
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
    }
}
