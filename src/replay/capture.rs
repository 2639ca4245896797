//! Serving one capture: the nearest to the asked time (a redirect to its exact timestamp, as
//! pywb does), as the archived bytes (`id_`) or rewritten so that every reference goes through
//! this server, with Memento headers, ranges for media, and payloads too large for memory
//! streamed from their WARC. What a payload becomes is the rewrite dispatch the offline copy
//! uses too; rewrites stream to the client as they are made, a few at a time on the blocking
//! pool, each bounded as [`crate::rewrite`] says (issue 13: a decompression bomb).
//!
//! Other tools' WARCs replay as pywb replays them: of equally near captures the URL exactly as
//! asked answers first, and a redirect to itself never answers ([`choose`]); an archived
//! redirect keeps its `Location`, pointed into the archive; payloads stored with their chunk
//! framing come de-chunked; `resource` records and records under other schemes (`urn:`,
//! `dns:`, `file:`, `metadata:`) answer with their WARC Content-Type, the latter never
//! rewritten.

use std::io::{BufRead, Write};

use axum::body::Body;
use axum::http::response::Builder;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use url::Url;

use super::Loaded;
use super::fence::{self, ArchivedField};
use super::http::{self, Asked, Validators};
use super::pages::{escape, plain};
use crate::collection::CollectionError;
use crate::collection::captures::{CaptureHead, Payload, PayloadLocation};
use crate::content::ContentKind;
use crate::content::decode_content;
use crate::extract::references::refresh_target;
use crate::index::Capture;
use crate::index::surt::surt;
use crate::rewrite::script::{MAX_SCOPED, scoped_file};
use crate::rewrite::{HtmlOptions, RewriteError, payload_kind, rewrite_payload};
use crate::warc::record::parse_timestamp14;

/// Payloads larger than this are served as they are, never rewritten.
const MAX_REWRITTEN: u64 = 32 << 20;
/// Payloads up to this size are read whole; larger ones stream from the WARC file, so memory
/// per request stays bounded whatever the record's size.
const IN_MEMORY_PAYLOAD: u64 = 8 << 20;

/// What a request asks of one URL's captures.
pub struct Wanted<'r> {
    pub timestamp: &'r str,
    pub modifier: &'r str,
    pub url: &'r str,
}

/// Seconds since the epoch of a 1- to 14-digit timestamp.
pub fn timestamp_seconds(ts: &str) -> Option<i64> {
    parse_timestamp14(ts).map(|t| t.unix_timestamp())
}

pub fn http_date(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|d| d.format(&Rfc2822).ok())
        .map(|d| d.replace("+0000", "GMT"))
        .unwrap_or_default()
}

/// `/COLL/timemap/link/URL`: every capture of the URL, as a Memento TimeMap.
pub fn timemap(loaded: &Loaded, url: &str) -> Response {
    let collection = loaded.collection.name();
    let captures = loaded.index.captures_of(url);
    if captures.is_empty() {
        return not_archived(url, collection.as_str());
    }
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

fn not_archived(url: &str, collection: &str) -> Response {
    plain(
        StatusCode::NOT_FOUND,
        &format!("{url} is not archived in {collection}"),
    )
}

/// `/COLL/TIMESTAMP[mod_]/URL`.
pub fn serve(loaded: &Loaded, wanted: &Wanted<'_>, asked: &Asked<'_>) -> Response {
    let collection = loaded.collection.name().as_str();
    let Some(seconds) = timestamp_seconds(wanted.timestamp) else {
        return plain(StatusCode::BAD_REQUEST, "not a timestamp");
    };
    let candidates = loaded.index.closest(wanted.url, seconds);
    if candidates.is_empty() {
        return not_archived(wanted.url, collection);
    }
    let Some(chosen) = choose(loaded, candidates) else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!(
                "{} is archived in {collection} only as a redirect to itself",
                wanted.url
            ),
        );
    };
    let Chosen { capture, read } = chosen;
    let capture = &capture;
    // A page goes to its capture's own address, so its relative links and the reader's
    // bookmarks name it; what a page embeds is answered at once, as near its page as it is.
    if capture.timestamp != wanted.timestamp && asked.is_navigation() {
        let stamp = format!("{}{}", capture.timestamp, wanted.modifier);
        let location = archive_path(collection, &stamp, &capture.url);
        let mut redirect = (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        redirect.headers_mut().insert(header::VARY, VARY_MODE);
        return redirect;
    }
    let read = read.unwrap_or_else(|| {
        loaded
            .collection
            .read_capture(&loaded.index, capture, IN_MEMORY_PAYLOAD)
    });
    let (head, payload) = match read {
        Ok(read) => read,
        Err(CollectionError::NoPayload { .. }) => {
            return plain(
                StatusCode::NOT_FOUND,
                "the revisit's original payload is not in this collection",
            );
        }
        Err(error) => {
            tracing::error!(collection, url = %capture.url, %error, "reading a capture");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the archived record could not be read",
            );
        }
    };
    let status = StatusCode::from_u16(head.status().unwrap_or(200)).unwrap_or(StatusCode::OK);
    let served = Served {
        collection,
        capture,
        stamp: wanted.timestamp,
        modifier: wanted.modifier,
        status,
        head: &head,
        loaded,
        asked,
    };
    // Records other tools file under their own schemes (`urn:`, `dns:`, ...) are no web
    // pages: never rewritten, whatever the modifier.
    let mut response = if wanted.modifier == "id_" || !is_web_url(&capture.url) {
        raw_response(&served, payload)
    } else {
        replayed_response(&served, payload)
    };
    memento_headers(response.headers_mut(), collection, capture);
    response.headers_mut().insert(header::VARY, VARY_MODE);
    response
}

/// A capture chosen to answer, with its record when it was read to choose it.
struct Chosen {
    capture: Capture,
    read: Option<Result<(CaptureHead, Payload), CollectionError>>,
}

/// The first candidate that is no redirect to itself: served, such a capture sends the
/// browser back to the same request, forever (an `http://` capture redirecting to its
/// `https://` twin of the same second, say). pywb's warcserver rejects these captures too and
/// tries the next (`raise_on_self_redirect`). Whether a capture redirects is in the index,
/// but where to is only in its record: redirects, and web captures the index gives no status,
/// are read to tell, and what was read is kept for serving.
fn choose(loaded: &Loaded, candidates: Vec<Capture>) -> Option<Chosen> {
    for capture in candidates {
        let may_redirect = capture.status.map_or(is_web_url(&capture.url), is_redirect);
        if !may_redirect {
            return Some(Chosen {
                capture,
                read: None,
            });
        }
        let read = loaded
            .collection
            .read_capture(&loaded.index, &capture, IN_MEMORY_PAYLOAD);
        if let Ok((head, _)) = &read
            && redirects_to_itself(&capture, head)
        {
            continue;
        }
        return Some(Chosen {
            capture,
            read: Some(read),
        });
    }
    None
}

/// A redirect a browser follows (3xx, but not 304 Not Modified).
fn is_redirect(status: u16) -> bool {
    (300..400).contains(&status) && status != 304
}

/// Whether a capture is a redirect whose `Location` has the capture's own SURT key: the
/// request it sends the browser to finds the same captures again.
fn redirects_to_itself(capture: &Capture, head: &CaptureHead) -> bool {
    head.status().is_some_and(is_redirect)
        && location_target(capture, head)
            .is_some_and(|target| surt(target.as_str()) == surt(&capture.url))
}

/// Where an archived redirect points, resolved against the capture's URL: absolute,
/// relative and protocol-relative `Location`s alike, spaces and non-ASCII percent-encoded.
fn location_target(capture: &Capture, head: &CaptureHead) -> Option<Url> {
    let location = head.http_header("location")?;
    let location = location.trim();
    if location.is_empty() {
        return None;
    }
    Url::parse(&capture.url).ok()?.join(location).ok()
}

fn is_web_url(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// `/COLL/STAMP/URL`, the URL in its serialized form (a URL archived with spaces or
/// non-ASCII in it is no valid header value as it stands).
pub(super) fn archive_path(collection: &str, stamp: &str, url: &str) -> String {
    let url = Url::parse(url).map_or_else(|_| url.to_string(), String::from);
    format!("/{collection}/{stamp}/{url}")
}

/// `Vary` of every capture's response: a navigation may be redirected where an embed of the
/// same URL is answered, and a script a page runs is scoped where one fetched is not.
const VARY_MODE: HeaderValue = HeaderValue::from_static("Sec-Fetch-Mode, Sec-Fetch-Dest");

/// A body of this server's making (a rewrite, a scoped script) is asked for again each time,
/// with its validators: a new capture or a new cairn makes it another body, and the capture's
/// date would let a browser keep it for weeks without asking.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// What every response for one capture is made from.
struct Served<'a> {
    collection: &'a str,
    capture: &'a Capture,
    /// The timestamp asked for, under which the response's references are written: what a
    /// page embeds is looked up near the page's time, whichever capture answered.
    stamp: &'a str,
    modifier: &'a str,
    status: StatusCode,
    head: &'a CaptureHead,
    /// The collection, for the banner's note on the URL's other versions.
    loaded: &'a Loaded,
    asked: &'a Asked<'a>,
}

impl Served<'_> {
    /// The response's validators; `variant` names a body that is not the archived bytes.
    fn validators(&self, variant: &str) -> Validators {
        let last_modified = self.head.http_header("last-modified");
        Validators::of(self.capture, last_modified.as_deref(), variant)
    }

    /// A response with the capture's status, the archived fields that only describe the
    /// payload, the others renamed ([`fence::archived_field`]), and `policy`, the
    /// Content-Security-Policy that fences every response of this server (`id_` included:
    /// archived pages are written by strangers). A field this server cannot send (a name or
    /// value HTTP does not allow, as some servers wrote them) is left out, rather than failing
    /// the response and losing the others, `Location` with them.
    fn builder(&self, policy: &'static str) -> Builder {
        let mut builder = Response::builder()
            .status(self.status)
            .header(header::CONTENT_SECURITY_POLICY, policy);
        let mut typed = false;
        for (name, value) in self.head.fields() {
            // One Content-Type, the one the payload was judged by: browsers take the last of
            // several, which could make a page of what was judged an image.
            if name.eq_ignore_ascii_case("content-type") && std::mem::replace(&mut typed, true) {
                continue;
            }
            let name = match fence::archived_field(&name) {
                ArchivedField::Kept => name,
                ArchivedField::Renamed => format!("{}{name}", fence::ORIGINAL_PREFIX),
                ArchivedField::Replaced => continue,
            };
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = HeaderValue::from_bytes(value.as_bytes());
            if let (Ok(name), Ok(value)) = (name, value) {
                builder = builder.header(name, value);
            }
        }
        builder
    }

    /// The archived `Location`, pointed into the archive under `stamp` (the capture's
    /// timestamp and modifier): never at the live web, whatever the modifier (pywb leaves it
    /// as archived under `id_`, which a browser would follow out of the archive).
    fn location(&self, builder: Builder, stamp: &str) -> Builder {
        match location_target(self.capture, self.head) {
            Some(target) => builder.header(
                header::LOCATION,
                format!("/{}/{stamp}/{target}", self.collection),
            ),
            None => builder,
        }
    }

    /// The archived `Refresh:` field, its URL pointed into the archive under `stamp` as
    /// `Location` is: a browser follows it as it follows a `meta refresh`, out of the archive
    /// if left alone. The URL is found as the HTML standard parses refresh content (the one
    /// parser extraction and rewriting share); a field whose URL resolves to no web URL is
    /// dropped.
    fn refresh(&self, builder: Builder, stamp: &str) -> Builder {
        let Some(content) = self.head.http_header("refresh") else {
            return builder;
        };
        let Some(range) = refresh_target(&content) else {
            // A delay alone reloads the capture itself.
            return builder.header("Refresh", content.trim());
        };
        let target = Url::parse(&self.capture.url)
            .and_then(|base| base.join(&content[range.clone()]))
            .ok()
            .filter(|target| matches!(target.scheme(), "http" | "https"));
        match target {
            Some(target) => builder.header(
                "Refresh",
                format!(
                    "{}/{}/{stamp}/{target}{}",
                    &content[..range.start],
                    self.collection,
                    &content[range.end..]
                ),
            ),
            None => builder,
        }
    }

    /// The archived redirections (`Location`, `Refresh`), pointed into the archive.
    fn redirections(&self, builder: Builder, stamp: &str) -> Builder {
        let builder = self.location(builder, stamp);
        self.refresh(builder, stamp)
    }
}

fn memento_headers(headers: &mut HeaderMap, collection: &str, capture: &Capture) {
    if let Ok(v) = HeaderValue::from_str(&http_date(capture.seconds)) {
        headers.insert("Memento-Datetime", v);
    }
    let url = &capture.url;
    let link = format!(
        "<{url}>; rel=\"original\", </{collection}/timemap/link/{url}>; rel=\"timemap\"; type=\"application/link-format\""
    );
    if let Ok(v) = HeaderValue::from_str(&link) {
        headers.insert(header::LINK, v);
    }
}

/// The archived bytes as they are (`id_`), de-chunked, with ranges for media.
fn raw_response(served: &Served<'_>, payload: Payload) -> Response {
    let validators = served.validators("");
    if served.asked.not_modified(served.status, &validators) {
        return http::not_modified_response(&validators, fence::RAW);
    }
    let mut builder = validators.apply(served.builder(fence::RAW));
    // The bytes go out as archived, so does their encoding.
    if let Some(encoding) = served.head.http_header("content-encoding")
        && let Ok(encoding) = HeaderValue::from_str(encoding.trim())
    {
        builder = builder.header(header::CONTENT_ENCODING, encoding);
    }
    let stamp = format!("{}id_", served.stamp);
    ranged(served.redirections(builder, &stamp), payload, served)
}

/// A `Range: bytes=a-b` of a 200 answered with 206 and that slice; anything else, the whole
/// payload (nothing of it for `HEAD`).
fn ranged(builder: Builder, payload: Payload, served: &Served<'_>) -> Response {
    let Some(total) = payload.size() else {
        // Too large to read whole and stored chunked: its size is known only at its end, so
        // it streams whole, with no length and no ranges.
        let body = if served.asked.is_head() {
            Body::empty()
        } else {
            stream_payload(payload.location, 0, u64::MAX)
        };
        return builder.body(body).unwrap_or_else(bad_headers);
    };
    let range = http::wanted_range(served.status, &payload, served.asked.headers);
    let builder = if served.status == StatusCode::OK {
        builder.header(header::ACCEPT_RANGES, "bytes")
    } else {
        builder
    };
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
    let body = if served.asked.is_head() {
        Body::empty()
    } else if payload.cut {
        stream_payload(payload.location, start, len)
    } else {
        let mut bytes = payload.bytes;
        bytes.truncate((start + len) as usize);
        bytes.drain(..start as usize);
        Body::from(bytes)
    };
    builder
        .header(header::CONTENT_LENGTH, len)
        .body(body)
        .unwrap_or_else(bad_headers)
}

/// `len` bytes of a record's payload from `start`, read from the WARC file as the client takes
/// them: a few chunks in memory at a time, whatever the record's size.
fn stream_payload(location: PayloadLocation, start: u64, len: u64) -> Body {
    use std::io::Read;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let send = |chunk| tx.blocking_send(chunk).is_ok();
        let copy = |payload: &mut dyn BufRead| -> std::io::Result<()> {
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
        };
        let result = location.read(copy);
        let failed = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(e) => Some(std::io::Error::other(e)),
        };
        if let Some(error) = failed {
            tracing::error!(file = %location.file.display(), %error, "streaming a payload");
            let _ = tx.blocking_send(Err(error));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

/// A capture as a browser should see it from the archive: references through this server,
/// redirects into the archive, the live web fenced off by CSP, a banner on pages.
fn replayed_response(served: &Served<'_>, payload: Payload) -> Response {
    let (collection, capture, head) = (served.collection, served.capture, served.head);
    let prefix = format!("/{collection}/{}", served.stamp);
    let base = Url::parse(&capture.url).ok();
    let content_type = head.content_type();
    let encoding = head.encoding.as_deref();
    let kind = payload_kind(content_type.as_deref(), encoding, &payload.bytes);
    if kind == ContentKind::JavaScript
        && let Some(response) = scoped_script(served, &payload)
    {
        return response;
    }
    let rewritable =
        kind.is_rewritten() && !payload.cut && (payload.bytes.len() as u64) < MAX_REWRITTEN;
    // Only a page rewritten here may run as one; anything served as archived that a browser
    // could still open as a document (too large to rewrite, mistyped, XML) is sandboxed: no
    // script, no refresh. The policy of a subresource (an image, a script) is ignored.
    let policy = if rewritable && base.is_some() {
        fence::REPLAYED
    } else {
        fence::RAW
    };
    let validators = served.validators(if rewritable {
        &served.loaded.version
    } else {
        ""
    });
    if served.asked.not_modified(served.status, &validators) {
        return http::not_modified_response(&validators, policy);
    }
    let stamp = format!("{}{}", served.stamp, served.modifier);
    let mut builder = served.redirections(validators.apply(served.builder(policy)), &stamp);
    let Some(base) = base.filter(|_| rewritable) else {
        if let Some(encoding) = encoding.and_then(|e| HeaderValue::from_str(e).ok()) {
            builder = builder.header(header::CONTENT_ENCODING, encoding);
        }
        return ranged(builder, payload, served);
    };
    builder = builder.header(header::CACHE_CONTROL, REVALIDATE);
    if served.asked.is_head() {
        return builder.body(Body::empty()).unwrap_or_else(bad_headers);
    }
    let html = kind == ContentKind::Html;
    let job = RewriteJob {
        prefix,
        base,
        banner: if html { banner(served) } else { String::new() },
        client: html.then(|| super::client::tag(collection, served.stamp, &capture.url)),
        content_type,
        encoding: head.encoding.clone(),
        payload: payload.bytes,
        url: capture.url.clone(),
    };
    builder.body(job.start()).unwrap_or_else(bad_headers)
}

/// A script the page runs, scoped to the client layer ([`crate::rewrite::script`]); `None`
/// to serve it as archived (a script fetched as data, one too large, one left unscoped).
fn scoped_script(served: &Served<'_>, payload: &Payload) -> Option<Response> {
    if payload.cut || !served.asked.runs_script() {
        return None;
    }
    let encoding = served.head.encoding.as_deref();
    let body = decode_content(&payload.bytes[..], encoding, MAX_SCOPED as u64 + 1).ok()?;
    let scoped = scoped_file(&body, served.head.content_type().as_deref())?;
    let validators = served.validators(&format!("scoped.{}", served.loaded.version));
    if served.asked.not_modified(served.status, &validators) {
        return Some(http::not_modified_response(&validators, fence::RAW));
    }
    let stamp = format!("{}{}", served.stamp, served.modifier);
    let builder = served
        .redirections(validators.apply(served.builder(fence::RAW)), &stamp)
        .header(header::CONTENT_LENGTH, scoped.len())
        .header(header::CACHE_CONTROL, REVALIDATE);
    let body = if served.asked.is_head() {
        Body::empty()
    } else {
        Body::from(scoped)
    };
    Some(builder.body(body).unwrap_or_else(bad_headers))
}

/// How many rewrites run at once, on the blocking pool: rewriting is CPU work, and each holds
/// up to lol_html's buffer and the page's largest tag. Others wait their turn.
fn rewrite_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores.clamp(2, 4))
    })
}

/// One page or stylesheet to rewrite for replay, owning what it needs off the request.
struct RewriteJob {
    /// `/COLL/TIMESTAMP`, put before every URL.
    prefix: String,
    base: Url,
    banner: String,
    client: Option<String>,
    content_type: Option<String>,
    encoding: Option<String>,
    /// The payload as stored (content encoding not undone).
    payload: Vec<u8>,
    url: String,
}

impl RewriteJob {
    /// The rewritten body, streamed to the client as it is made (a decompression bomb is never
    /// held whole), once a rewrite slot is free.
    fn start(self) -> Body {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
        tokio::spawn(async move {
            let Ok(slot) = rewrite_slots().acquire().await else {
                return;
            };
            let _ = tokio::task::spawn_blocking(move || {
                self.run(tx);
                drop(slot);
            })
            .await;
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Body::from_stream(stream)
    }

    fn run(self, tx: tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>) {
        let through_archive = |url: &Url| Some(format!("{}/{url}", self.prefix));
        let options = HtmlOptions {
            base: self.base.clone(),
            map: &through_archive,
            keep_original: false,
            promote_lazy: true,
            banner: Some(self.banner.clone()),
            client: self.client.clone(),
            fence: false,
            sprites: None,
        };
        let runtime = tokio::runtime::Handle::current();
        let mut out = ChannelWriter {
            tx: &tx,
            runtime: &runtime,
            buffer: Vec::with_capacity(CHUNK),
            sent: false,
        };
        let (ct, encoding) = (self.content_type.as_deref(), self.encoding.as_deref());
        let result = rewrite_payload(ct, encoding, &mut &self.payload[..], &mut out, &options)
            .map(|_| ())
            .and_then(|()| out.flush().map_err(RewriteError::Write));
        match result {
            // A client that stopped reading gives up its slot; its response ends in an error
            // once it reads again.
            Err(RewriteError::Write(error)) if error.kind() == std::io::ErrorKind::TimedOut => {
                tracing::warn!(url = %self.url, "the client stopped reading");
                let tx = tx.clone();
                runtime.spawn(async move { tx.send(Err(error)).await });
            }
            Ok(()) | Err(RewriteError::Write(_)) => {}
            // A page lol_html gives up on is never served as archived under the policy of a
            // rewritten page: a notice takes its place, with a link to its archived bytes,
            // which are served sandboxed.
            Err(error) if !out.sent => {
                tracing::warn!(url = %self.url, %error, "not rewritten; a notice instead");
                out.buffer.clear();
                let notice = format!(
                    "<!doctype html><p>This capture could not be rewritten safely ({}). \
                     <a href=\"{}id_/{}\">Its archived bytes</a> are served as they are, \
                     sandboxed.</p>",
                    super::pages::escape(&error.to_string()),
                    super::pages::escape(&self.prefix),
                    super::pages::escape(&self.url)
                );
                let _ = out.write_all(notice.as_bytes()).and_then(|()| out.flush());
            }
            // Past that, the response is cut short: a browser shows what came.
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "rewriting cut short");
                let _ = tx.blocking_send(Err(std::io::Error::other(error.to_string())));
            }
        }
    }
}

/// How much rewritten output is sent at a time.
const CHUNK: usize = 64 << 10;
/// How long a rewrite waits for its client to take the next chunk, holding a slot.
const CLIENT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// A writer whose bytes go to the client a chunk at a time; it fails once the client is gone
/// or has not read for [`CLIENT_PATIENCE`], which ends the rewrite.
struct ChannelWriter<'t> {
    tx: &'t tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    runtime: &'t tokio::runtime::Handle,
    buffer: Vec<u8>,
    /// Whether any of the body has gone.
    sent: bool,
}

impl Write for ChannelWriter<'_> {
    /// Takes at most a chunk at a time, so a long tag goes out in pieces, never held whole.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = bytes.len().min(CHUNK - self.buffer.len());
        self.buffer.extend_from_slice(&bytes[..n]);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.sent = true;
        let send = tokio::time::timeout(CLIENT_PATIENCE, self.tx.send(Ok(chunk)));
        match self.runtime.block_on(send) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(std::io::ErrorKind::BrokenPipe.into()),
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }
}

/// An archived header this server cannot send (a value that is no valid header value).
fn bad_headers(error: axum::http::Error) -> Response {
    tracing::error!(%error, "building the response");
    plain(StatusCode::INTERNAL_SERVER_ERROR, "bad archived headers")
}

/// The bar on top of a replayed page: what it is, when it was captured, and a link to its
/// versions when it has several.
fn banner(served: &Served<'_>) -> String {
    let capture = served.capture;
    let note = super::versions::banner_note(served.loaded, &capture.url, OffsetDateTime::now_utc());
    let versions = note.as_deref().map_or(String::new(), |note| {
        format!(
            " · <a href=\"{}\" style=\"all:initial;font:inherit;color:#00c;text-decoration:underline;cursor:pointer\">{}</a>",
            escape(&super::versions::versions_href(served.collection, &capture.url)),
            escape(note)
        )
    });
    format!(
        "<div id=\"cairn-banner\" style=\"all:initial;display:block;font:13px sans-serif;background:#ffd;border-bottom:1px solid #cc9;padding:4px 8px;color:#333\">Archived by cairn: {} · captured {}{versions}</div>",
        escape(&capture.url),
        http_date(capture.seconds)
    )
}
