//! Replay: a local HTTP server over the collections, with pywb's URL scheme.
//!
//! - `/` lists collections, `/COLL/` lists and searches archived pages;
//! - `/COLL/TIMESTAMP/URL` serves the capture nearest to TIMESTAMP (redirecting to its exact
//!   timestamp, as pywb does), rewritten so that every link, image and stylesheet resolves
//!   through this server, with a Content-Security-Policy that keeps the page from the live web;
//! - `/COLL/TIMESTAMPid_/URL` serves the archived bytes as they are;
//! - `/COLL/timemap/link/URL` is the Memento TimeMap; captures carry `Memento-Datetime` and
//!   `Link` headers.
//!
//! Lookups go to an in-memory map of the collection's `index.cdxj`, built on first use and
//! rebuilt when the file changes; each answer is one read of one record by offset. Files are
//! only ever opened by the names the index gives, inside the collection's `warc/` folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use url::Url;

use crate::export::collection_file;
use crate::fetch::decode_content;
use crate::index::{Entry, surt::surt};
use crate::rewrite::{HtmlOptions, rewrite_css, rewrite_html};
use crate::warc::reader::{CaptureRecord, read_capture_exact};

/// Payloads larger than this are served as they are, never rewritten.
const MAX_REWRITTEN: u64 = 32 << 20;
/// Payloads up to this size are read whole; larger ones stream from the WARC file, so memory
/// per request stays bounded whatever the record's size.
const IN_MEMORY_PAYLOAD: u64 = 8 << 20;

/// Everything a capture needs to be found and served.
#[derive(Debug, Clone)]
struct Capture {
    timestamp: String,
    seconds: i64,
    url: String,
    mime: String,
    filename: String,
    offset: u64,
    length: u64,
    digest: Option<String>,
}

impl Capture {
    fn is_revisit(&self) -> bool {
        self.mime == "warc/revisit"
    }
}

/// A collection's index, in memory.
struct Collection {
    modified: Option<SystemTime>,
    /// Captures by SURT key, oldest first.
    by_key: HashMap<String, Vec<Capture>>,
    /// Where each payload digest is stored (not as a revisit), for resolving revisits.
    payloads: HashMap<String, Capture>,
}

pub struct Replay {
    archives: PathBuf,
    collections: RwLock<HashMap<String, Arc<Collection>>>,
}

/// The replay router over `archives`, for `cairn replay` and for tests (`oneshot`).
pub fn router(archives: PathBuf) -> Router {
    let state = Arc::new(Replay {
        archives,
        collections: RwLock::new(HashMap::new()),
    });
    Router::new()
        .route("/", get(list_collections))
        .route("/{collection}", get(redirect_to_listing))
        .route("/{collection}/", get(list_pages))
        .route("/{collection}/{*rest}", get(serve))
        .with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve_forever(archives: PathBuf, bind: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    axum::serve(listener, router(archives)).await
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

fn html_page(title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font:15px/1.5 sans-serif;max-width:60em;margin:2em auto}}li{{margin:.3em 0}}</style>\
         </head><body>{body}</body></html>",
        escape(title)
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A collection name as `cairn` accepts it: nothing that could name another folder.
fn valid_collection(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

async fn list_collections(State(replay): State<Arc<Replay>>) -> Response {
    let mut names: Vec<String> = std::fs::read_dir(&replay.archives)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("index.cdxj").is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| valid_collection(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let items: String = names
        .iter()
        .map(|n| format!("<li><a href=\"/{0}/\">{0}</a></li>", escape(n)))
        .collect();
    html_page(
        "cairn collections",
        &format!("<h1>Collections</h1><ul>{items}</ul>"),
    )
}

async fn redirect_to_listing(UrlPath(collection): UrlPath<String>) -> Response {
    if !valid_collection(&collection) {
        return plain(StatusCode::NOT_FOUND, "no such collection");
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("/{collection}/"))],
    )
        .into_response()
}

async fn list_pages(
    State(replay): State<Arc<Replay>>,
    UrlPath(collection): UrlPath<String>,
    uri: Uri,
) -> Response {
    if !valid_collection(&collection) || replay.collection(&collection).is_none() {
        return plain(StatusCode::NOT_FOUND, "no such collection");
    }
    let query = uri
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let pages_file = replay.archives.join(&collection).join("pages.jsonl");
    let text = std::fs::read_to_string(pages_file).unwrap_or_default();
    let needle = query.to_lowercase();
    let mut items = String::new();
    let mut shown = 0;
    for line in text.lines().rev() {
        let Ok(page) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let url = page["url"].as_str().unwrap_or_default();
        let title = page["title"].as_str().unwrap_or(url);
        let ts = page["ts"]
            .as_str()
            .and_then(crate::warc::record::timestamp14)
            .unwrap_or_default();
        if !needle.is_empty() && !format!("{url} {title}").to_lowercase().contains(&needle) {
            continue;
        }
        items.push_str(&format!(
            "<li><a href=\"/{}/{}/{}\">{}</a><br><small>{} · {}</small></li>",
            escape(&collection),
            ts,
            escape(url),
            escape(title),
            escape(url),
            ts
        ));
        shown += 1;
        if shown >= 1000 {
            break;
        }
    }
    html_page(
        &format!("{collection}: archived pages"),
        &format!(
            "<h1>{0}</h1><form><input name=q value=\"{1}\" placeholder=\"search titles and URLs\"> <button>Search</button></form><ul>{items}</ul>",
            escape(&collection),
            escape(&query)
        ),
    )
}

/// What the part of the path after the collection asks for.
enum Request {
    TimeMap(String),
    Capture {
        timestamp: String,
        modifier: String,
        url: String,
    },
}

/// Splits `TIMESTAMP[mod_]/URL` or `timemap/link/URL`; the query string belongs to the URL.
fn parse_rest(rest: &str, query: Option<&str>) -> Option<Request> {
    let with_query = |url: &str| match query {
        Some(q) => format!("{url}?{q}"),
        None => url.to_string(),
    };
    if let Some(url) = rest.strip_prefix("timemap/link/") {
        return Some(Request::TimeMap(normalize_target(&with_query(url))?));
    }
    let (stamp, url) = rest.split_once('/')?;
    let digits = stamp.bytes().take_while(u8::is_ascii_digit).count();
    let (timestamp, modifier) = stamp.split_at(digits);
    let modifier_ok = modifier.is_empty()
        || (modifier.ends_with('_')
            && modifier.len() <= 4
            && modifier[..modifier.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_alphabetic()));
    if !(1..=14).contains(&digits) || !modifier_ok {
        return None;
    }
    Some(Request::Capture {
        timestamp: timestamp.to_string(),
        modifier: modifier.to_string(),
        url: normalize_target(&with_query(url))?,
    })
}

/// The archived URL a path names: absolute http(s) only (`https:/x` repaired, as some clients
/// merge slashes).
fn normalize_target(raw: &str) -> Option<String> {
    let repaired = ["https:/", "http:/"]
        .iter()
        .find_map(|scheme| {
            raw.strip_prefix(scheme)
                .filter(|rest| !rest.starts_with('/'))
                .map(|rest| format!("{scheme}/{rest}"))
        })
        .unwrap_or_else(|| raw.to_string());
    let url = Url::parse(&repaired).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// Seconds since the epoch of a 1- to 14-digit timestamp.
fn timestamp_seconds(ts: &str) -> Option<i64> {
    crate::warc::record::parse_timestamp14(ts).map(|t| t.unix_timestamp())
}

impl Replay {
    /// The collection's index, rebuilt from `index.cdxj` when the file changed.
    fn collection(&self, name: &str) -> Option<Arc<Collection>> {
        let index = self.archives.join(name).join("index.cdxj");
        let modified = std::fs::metadata(&index).ok()?.modified().ok();
        if let Some(current) = self.collections.read().ok()?.get(name)
            && current.modified == modified
        {
            return Some(current.clone());
        }
        let text = std::fs::read_to_string(&index).ok()?;
        let collection = Arc::new(load_collection(&text, modified));
        self.collections
            .write()
            .ok()?
            .insert(name.to_string(), collection.clone());
        Some(collection)
    }
}

fn load_collection(index: &str, modified: Option<SystemTime>) -> Collection {
    let mut by_key: HashMap<String, Vec<Capture>> = HashMap::new();
    let mut payloads = HashMap::new();
    for entry in index.lines().filter_map(Entry::parse) {
        let Some(seconds) = timestamp_seconds(&entry.timestamp) else {
            continue;
        };
        let capture = Capture {
            seconds,
            url: entry.fields.url.clone(),
            mime: entry.fields.mime.clone().unwrap_or_default(),
            filename: entry.fields.filename.clone(),
            offset: entry.fields.offset.parse().unwrap_or(0),
            length: entry.fields.length.parse().unwrap_or(0),
            digest: entry.fields.digest.clone(),
            timestamp: entry.timestamp.clone(),
        };
        if !capture.is_revisit()
            && let Some(digest) = &capture.digest
        {
            payloads
                .entry(digest.clone())
                .or_insert_with(|| capture.clone());
        }
        by_key
            .entry(entry.urlkey.clone())
            .or_default()
            .push(capture);
    }
    for captures in by_key.values_mut() {
        captures.sort_by_key(|c| c.seconds);
    }
    Collection {
        modified,
        by_key,
        payloads,
    }
}

async fn serve(
    State(replay): State<Arc<Replay>>,
    UrlPath((collection, rest)): UrlPath<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !valid_collection(&collection) {
        return plain(StatusCode::NOT_FOUND, "no such collection");
    }
    let Some(request) = parse_rest(&rest, uri.query()) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "expected /COLLECTION/TIMESTAMP/URL, /COLLECTION/TIMESTAMPid_/URL or /COLLECTION/timemap/link/URL",
        );
    };
    let replay = replay.clone();
    // Index loading and record reads are file I/O: keep them off the async workers.
    tokio::task::spawn_blocking(move || {
        let Some(index) = replay.collection(&collection) else {
            return plain(StatusCode::NOT_FOUND, "no such collection");
        };
        match request {
            Request::TimeMap(url) => timemap(&collection, &index, &url),
            Request::Capture {
                timestamp,
                modifier,
                url,
            } => serve_capture(
                &replay,
                &collection,
                &index,
                &timestamp,
                &modifier,
                &url,
                &headers,
            ),
        }
    })
    .await
    .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "replay failed"))
}

fn timemap(collection: &str, index: &Collection, url: &str) -> Response {
    let Some(captures) = index.by_key.get(&surt(url)) else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("{url} is not archived in {collection}"),
        );
    };
    let mut body = format!(
        "<{url}>; rel=\"original\",\n</{collection}/timemap/link/{url}>; rel=\"self\"; type=\"application/link-format\""
    );
    for (i, c) in captures.iter().enumerate() {
        let rel = match (i, captures.len() - 1 - i) {
            (0, 0) => "first last memento",
            (0, _) => "first memento",
            (_, 0) => "last memento",
            _ => "memento",
        };
        body.push_str(&format!(
            ",\n</{collection}/{}/{}>; rel=\"{rel}\"; datetime=\"{}\"",
            c.timestamp,
            c.url,
            http_date(c.seconds)
        ));
    }
    body.push('\n');
    ([(header::CONTENT_TYPE, "application/link-format")], body).into_response()
}

fn http_date(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|d| d.format(&Rfc2822).ok())
        .map(|d| d.replace("+0000", "GMT"))
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn serve_capture(
    replay: &Replay,
    collection: &str,
    index: &Collection,
    timestamp: &str,
    modifier: &str,
    url: &str,
    request_headers: &HeaderMap,
) -> Response {
    let Some(captures) = index.by_key.get(&surt(url)) else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("{url} is not archived in {collection}"),
        );
    };
    let Some(wanted) = timestamp_seconds(timestamp) else {
        return plain(StatusCode::BAD_REQUEST, "not a timestamp");
    };
    let Some(capture) = captures.iter().min_by_key(|c| (c.seconds - wanted).abs()) else {
        return plain(StatusCode::NOT_FOUND, "not archived");
    };
    if capture.timestamp != timestamp {
        let location = format!(
            "/{collection}/{}{modifier}/{}",
            capture.timestamp, capture.url
        );
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    }
    let warc_dir = replay.archives.join(collection).join("warc");
    let source = if capture.is_revisit() {
        match capture.digest.as_ref().and_then(|d| index.payloads.get(d)) {
            Some(original) => original,
            None => {
                return plain(
                    StatusCode::NOT_FOUND,
                    "the revisit's original payload is not in this collection",
                );
            }
        }
    } else {
        capture
    };
    let read = |c: &Capture| -> Option<CaptureRecord> {
        let path = collection_file(&warc_dir, &c.filename).ok()?;
        read_capture_exact(&path, c.offset, c.length, IN_MEMORY_PAYLOAD).ok()
    };
    let unreadable = || {
        plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the archived record could not be read",
        )
    };
    let Some(mut own) = read(capture) else {
        return unreadable();
    };
    // A revisit's payload is its original's; anything else carries its own.
    // Takes the payload out of a record, noting where the whole of it lies for streaming.
    let payload_of = |c: &Capture, record: &mut CaptureRecord| {
        let size = record
            .header
            .content_length()
            .map(|n| n.saturating_sub(record.http_head.len() as u64))
            .unwrap_or(record.payload.len() as u64);
        Payload {
            encoding: record.http_header("content-encoding"),
            cut: record.cut,
            source: collection_file(&warc_dir, &c.filename)
                .ok()
                .map(|p| (p, c.offset, size)),
            bytes: std::mem::take(&mut record.payload),
        }
    };
    let payload = if std::ptr::eq(source, capture) {
        payload_of(capture, &mut own)
    } else {
        match read(source) {
            Some(mut record) => payload_of(source, &mut record),
            None => return unreadable(),
        }
    };
    let original_url = capture.url.clone();
    let status = StatusCode::from_u16(own.status().unwrap_or(200)).unwrap_or(StatusCode::OK);
    let mut response = if modifier == "id_" {
        raw_response(status, &own, payload, request_headers)
    } else {
        replayed_response(collection, capture, status, &own, payload, request_headers)
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&http_date(capture.seconds)) {
        headers.insert("Memento-Datetime", v);
    }
    let link = format!(
        "<{original_url}>; rel=\"original\", </{collection}/timemap/link/{original_url}>; rel=\"timemap\"; type=\"application/link-format\""
    );
    if let Ok(v) = HeaderValue::from_str(&link) {
        headers.insert(header::LINK, v);
    }
    response
}

/// The payload to serve, with what decides how: its content encoding, and whether it was cut
/// at the read limit.
struct Payload {
    bytes: Vec<u8>,
    encoding: Option<String>,
    cut: bool,
    /// Where the whole payload is, to stream it when it was cut: file, offset, and its size.
    source: Option<(PathBuf, u64, u64)>,
}

/// Headers of the archived response that say nothing about the bytes this server sends.
fn passes_through(name: &str) -> bool {
    !matches!(
        name.to_ascii_lowercase().as_str(),
        "content-length"
            | "transfer-encoding"
            | "x-orig-transfer-encoding"
            | "connection"
            | "keep-alive"
            | "content-security-policy"
            | "content-security-policy-report-only"
            | "strict-transport-security"
            | "set-cookie"
            | "location"
            | "content-encoding"
            | "accept-ranges"
            | "content-range"
    )
}

fn archived_headers(own: &CaptureRecord) -> Vec<(String, String)> {
    String::from_utf8_lossy(&own.http_head)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The archived bytes as they are (`id_`), with ranges for media.
fn raw_response(
    status: StatusCode,
    own: &CaptureRecord,
    payload: Payload,
    request_headers: &HeaderMap,
) -> Response {
    let mut builder = Response::builder().status(status);
    for (name, value) in archived_headers(own) {
        if passes_through(&name) || name.eq_ignore_ascii_case("content-encoding") {
            builder = builder.header(name, value);
        }
    }
    ranged(builder, payload, request_headers)
}

/// A `Range: bytes=a-b` answered with 206 and that slice; anything else, the whole payload.
fn ranged(
    builder: axum::http::response::Builder,
    payload: Payload,
    request_headers: &HeaderMap,
) -> Response {
    let streamed = payload.cut.then_some(payload.source).flatten();
    let total = match &streamed {
        Some((_, _, size)) => *size,
        None => payload.bytes.len() as u64,
    };
    let range = request_headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, total));
    let builder = builder.header(header::ACCEPT_RANGES, "bytes");
    let (builder, start, len) = match range {
        Some((start, end)) => (
            builder.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            ),
            start,
            end - start + 1,
        ),
        None => (builder, 0, total),
    };
    let body = match streamed {
        Some((path, offset, _)) => stream_payload(path, offset, start, len),
        None => {
            let mut bytes = payload.bytes;
            bytes.truncate((start + len) as usize);
            bytes.drain(..start as usize);
            Body::from(bytes)
        }
    };
    builder
        .header(header::CONTENT_LENGTH, len)
        .body(body)
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad archived headers"))
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against a payload of `total` bytes, as an inclusive
/// range; `None` for anything else (the whole payload is then served).
fn parse_range(value: &str, total: u64) -> Option<(u64, u64)> {
    let (a, b) = value.strip_prefix("bytes=")?.split_once('-')?;
    let last = total.checked_sub(1)?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => (total.saturating_sub(suffix.parse().ok()?), last),
        (a, "") => (a.parse().ok()?, last),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(last)),
    };
    (start <= end).then_some((start, end))
}

/// `len` bytes of a record's payload from `start`, read from the WARC file as the client takes
/// them: a few chunks in memory at a time, whatever the record's size.
fn stream_payload(path: PathBuf, offset: u64, start: u64, len: u64) -> Body {
    use std::io::Read;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let send = |chunk| tx.blocking_send(chunk).is_ok();
        let result = crate::warc::reader::with_payload(&path, offset, |_, payload| {
            std::io::copy(&mut payload.take(start), &mut std::io::sink())?;
            let mut left = len;
            while left > 0 {
                let available = payload.fill_buf()?;
                if available.is_empty() {
                    break;
                }
                let n = available.len().min(left.min(64 << 10) as usize);
                if !send(Ok(available[..n].to_vec())) {
                    return Ok(());
                }
                payload.consume(n);
                left -= n as u64;
            }
            Ok(())
        })
        .map_err(|e| std::io::Error::other(e.to_string()));
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

/// A capture as a browser should see it from the archive: references through this server,
/// redirects into the archive, the live web fenced off by CSP, a banner on pages.
fn replayed_response(
    collection: &str,
    capture: &Capture,
    status: StatusCode,
    own: &CaptureRecord,
    payload: Payload,
    request_headers: &HeaderMap,
) -> Response {
    let prefix = format!("/{collection}/{}", capture.timestamp);
    let base = Url::parse(&capture.url).ok();
    let through_archive = |url: &Url| Some(format!("{prefix}/{url}"));
    let mut builder = Response::builder().status(status).header(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:",
    );
    for (name, value) in archived_headers(own) {
        if passes_through(&name) {
            builder = builder.header(name, value);
        }
    }
    if let (Some(location), Some(base)) = (own.http_header("location"), &base)
        && let Ok(target) = base.join(location.trim())
    {
        builder = builder.header(header::LOCATION, format!("{prefix}/{target}"));
    }
    let encoding = payload.encoding.clone();
    let content_type = own
        .http_header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let rewritable = (content_type.contains("html") || content_type.contains("css"))
        && (payload.bytes.len() as u64) < MAX_REWRITTEN
        && !payload.cut;
    let body = match (rewritable, &base) {
        (true, Some(base)) => {
            let decoded = decode_content(&payload.bytes[..], encoding.as_deref(), MAX_REWRITTEN)
                .unwrap_or_default();
            if content_type.contains("css") {
                let text = String::from_utf8_lossy(&decoded);
                rewrite_css(&text, &|r| {
                    base.join(r).ok().and_then(|u| through_archive(&u))
                })
                .into_bytes()
            } else {
                let (_, charset) = crate::extract::decode_html(&decoded, Some(&content_type));
                let options = HtmlOptions {
                    base: base.clone(),
                    map: &through_archive,
                    keep_original: false,
                    promote_lazy: true,
                    banner: Some(banner(capture)),
                };
                match rewrite_html(&decoded, charset, &options) {
                    Ok((bytes, _)) => bytes,
                    Err(_) => decoded,
                }
            }
        }
        _ => {
            if let Some(encoding) = &encoding {
                builder = builder.header(header::CONTENT_ENCODING, encoding);
            }
            return ranged(builder, payload, request_headers);
        }
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad archived headers"))
}

fn banner(capture: &Capture) -> String {
    format!(
        "<div id=\"cairn-banner\" style=\"all:initial;display:block;font:13px sans-serif;background:#ffd;border-bottom:1px solid #cc9;padding:4px 8px;color:#333\">Archived by cairn: {} · captured {}</div>",
        escape(&capture.url),
        http_date(capture.seconds)
    )
}

/// Where the archives folder is; replay never reads outside it.
pub fn archives_root(path: &Path) -> std::io::Result<PathBuf> {
    std::fs::canonicalize(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_like_pywb() {
        match parse_rest("20230322000800/https://www.cna.com.tw/a.aspx", Some("q=1")) {
            Some(Request::Capture {
                timestamp,
                modifier,
                url,
            }) => {
                assert_eq!(
                    (timestamp.as_str(), modifier.as_str()),
                    ("20230322000800", "")
                );
                assert_eq!(url, "https://www.cna.com.tw/a.aspx?q=1");
            }
            _ => panic!("not parsed"),
        }
        assert!(matches!(
            parse_rest("2023id_/https:/example.com/x", None),
            Some(Request::Capture { ref modifier, ref url, .. }) if modifier == "id_" && url == "https://example.com/x"
        ));
        assert!(matches!(
            parse_rest("timemap/link/https://example.com/", None),
            Some(Request::TimeMap(_))
        ));
        for bad in [
            "x/https://a.example/",
            "2023/file:///etc/passwd",
            "2023/../../etc/passwd",
            "123456789012345/http://a/",
            "2023",
        ] {
            assert!(parse_rest(bad, None).is_none(), "{bad}");
        }
        assert_eq!(
            timestamp_seconds("2023"),
            timestamp_seconds("20230101000000")
        );
        assert!(timestamp_seconds("20231399000000").is_none());
    }
}
