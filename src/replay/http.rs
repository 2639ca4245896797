//! The HTTP semantics of a capture's response, as a browser and its cache rely on them: whether
//! a request is a navigation (only a navigation is redirected to the nearest capture's exact
//! timestamp, as pywb does; an image, a script or a `fetch` is answered from the nearest
//! capture at once), `HEAD`, ranges (only of a capture that answered 200: a `Range` on an
//! archived 404 gets the 404), and validators: an `ETag` made of the payload's digest and a
//! `Last-Modified` that is the archived one or else the capture's date, so `If-None-Match` and
//! `If-Modified-Since` are answered 304 without a body.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::response::Builder;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;

use crate::collection::captures::Payload;
use crate::index::Capture;

/// pywb's modifiers for what a page embeds: images, scripts, stylesheets, objects and media.
/// A request under one is never redirected, whatever the browser says of it.
const EMBED_MODIFIERS: [&str; 4] = ["im_", "js_", "cs_", "oe_"];

/// What the request asks beyond its URL.
pub struct Asked<'r> {
    pub headers: &'r HeaderMap,
    pub method: &'r Method,
    pub modifier: &'r str,
}

impl Asked<'_> {
    /// Whether the browser is opening a document (a page, a frame), not loading something a
    /// page embeds or fetches. Browsers say so in `Sec-Fetch-Mode` (sent to every trustworthy
    /// origin, loopback included); where they do not, only an embed modifier tells.
    pub fn is_navigation(&self) -> bool {
        if EMBED_MODIFIERS.contains(&self.modifier) {
            return false;
        }
        match self.headers.get("sec-fetch-mode") {
            Some(mode) => mode.as_bytes() == b"navigate",
            None => true,
        }
    }

    /// Whether the script asked for is one a page runs (its bindings are then scoped, see
    /// `rewrite::script`), not one a page fetches as data.
    pub fn runs_script(&self) -> bool {
        self.modifier == "js_"
            || self
                .headers
                .get("sec-fetch-dest")
                .is_some_and(|dest| dest.as_bytes() == b"script")
    }

    pub fn is_head(&self) -> bool {
        self.method == Method::HEAD
    }

    /// A 304 for a request whose validators match the response's: `If-None-Match` first and
    /// alone when sent (RFC 9110, 13.2.2), else `If-Modified-Since`. Only a 2xx capture is
    /// ever "not modified".
    pub fn not_modified(&self, status: StatusCode, validators: &Validators) -> bool {
        if !status.is_success() || !matches!(*self.method, Method::GET | Method::HEAD) {
            return false;
        }
        if let Some(tags) = self.headers.get(header::IF_NONE_MATCH) {
            return tags
                .to_str()
                .is_ok_and(|tags| matches_any(tags, &validators.etag));
        }
        let since = self
            .headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        since.is_some_and(|since| validators.last_modified <= since)
    }
}

/// Whether a list of entity tags (or `*`) holds `etag`, by the weak comparison
/// `If-None-Match` uses: `W/` is ignored on both sides.
fn matches_any(tags: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let wanted = opaque(etag);
    tags.split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == wanted)
}

/// What a cache revalidates a capture's response with.
pub struct Validators {
    /// A quoted entity tag: strong for the archived bytes, weak for a rewrite of them.
    pub etag: String,
    pub last_modified: SystemTime,
    /// Whether `Last-Modified` must be added: the capture's date, where the archived response
    /// sent none (or none a date).
    pub add_last_modified: bool,
}

impl Validators {
    /// The validators of `capture` as served: the payload's digest (else the record's place,
    /// which is as unique), marked with `variant` and weak for a rewritten body.
    pub fn of(capture: &Capture, archived_last_modified: Option<&str>, variant: &str) -> Self {
        let tag: String = capture
            .digest
            .clone()
            .unwrap_or_else(|| format!("{}@{}", capture.filename, capture.offset))
            .chars()
            .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\'))
            .collect();
        let etag = if variant.is_empty() {
            format!("\"{tag}\"")
        } else {
            format!("W/\"{tag}.{variant}\"")
        };
        let archived =
            archived_last_modified.and_then(|v| httpdate::parse_http_date(v.trim()).ok());
        let captured = UNIX_EPOCH + Duration::from_secs(capture.seconds.max(0).unsigned_abs());
        Validators {
            etag,
            last_modified: archived.unwrap_or(captured),
            add_last_modified: archived.is_none(),
        }
    }

    /// The validator fields on a response.
    pub fn apply(&self, mut builder: Builder) -> Builder {
        builder = builder.header(header::ETAG, &self.etag);
        if self.add_last_modified {
            builder = builder.header(
                header::LAST_MODIFIED,
                httpdate::fmt_http_date(self.last_modified),
            );
        }
        builder
    }
}

/// A 304 with the validators, and none of the payload's fields.
pub fn not_modified_response(validators: &Validators, policy: &'static str) -> Response {
    let builder = Response::builder()
        .status(StatusCode::NOT_MODIFIED)
        .header(header::CONTENT_SECURITY_POLICY, policy);
    validators
        .apply(builder)
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against a payload of `total` bytes, as an inclusive
/// range; `None` for anything else (the whole payload is then served).
pub fn parse_range(value: &str, total: u64) -> Option<(u64, u64)> {
    let (a, b) = value.strip_prefix("bytes=")?.split_once('-')?;
    let last = total.checked_sub(1)?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => (total.saturating_sub(suffix.parse().ok()?), last),
        (a, "") => (a.parse().ok()?, last),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(last)),
    };
    (start <= end).then_some((start, end))
}

/// The range a request asks of a payload: only of a capture that answered 200 (a range of an
/// archived 404 would make a 206 of an error page).
pub fn wanted_range(
    status: StatusCode,
    payload: &Payload,
    headers: &HeaderMap,
) -> Option<(u64, u64)> {
    if status != StatusCode::OK {
        return None;
    }
    let total = payload.size()?;
    headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn asked<'r>(headers: &'r HeaderMap, modifier: &'r str) -> Asked<'r> {
        Asked {
            headers,
            method: &Method::GET,
            modifier,
        }
    }

    #[test]
    fn only_navigations_are_redirected() {
        let mut headers = HeaderMap::new();
        assert!(
            asked(&headers, "").is_navigation(),
            "no word from the browser"
        );
        assert!(!asked(&headers, "im_").is_navigation());
        headers.insert("sec-fetch-mode", HeaderValue::from_static("no-cors"));
        assert!(!asked(&headers, "").is_navigation());
        headers.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
        assert!(asked(&headers, "").is_navigation());
        assert!(!asked(&headers, "js_").is_navigation());
    }

    #[test]
    fn validators_answer_conditional_requests() {
        let capture = Capture {
            urlkey: "com,example)/".into(),
            timestamp: "20240102030405".into(),
            seconds: 1_704_164_645,
            url: "https://example.com/".into(),
            mime: None,
            status: Some(200),
            digest: Some("sha256:ABC".into()),
            length: 1,
            offset: 0,
            filename: "a.warc.zst".into(),
        };
        let raw = Validators::of(&capture, None, "");
        assert_eq!(raw.etag, "\"sha256:ABC\"");
        assert!(raw.add_last_modified);
        let rewritten = Validators::of(&capture, Some("Mon, 01 Jan 2024 00:00:00 GMT"), "r1");
        assert_eq!(rewritten.etag, "W/\"sha256:ABC.r1\"");
        assert!(!rewritten.add_last_modified);

        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", \"sha256:ABC\""),
        );
        assert!(asked(&headers, "").not_modified(StatusCode::OK, &raw));
        assert!(!asked(&headers, "").not_modified(StatusCode::NOT_FOUND, &raw));
        assert!(!asked(&headers, "").not_modified(StatusCode::OK, &rewritten));
        // If-None-Match decides alone, even with a date that would match.
        headers.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Tue, 02 Jan 2024 03:04:05 GMT"),
        );
        assert!(!asked(&headers, "").not_modified(StatusCode::OK, &rewritten));
        headers.remove(header::IF_NONE_MATCH);
        assert!(asked(&headers, "").not_modified(StatusCode::OK, &raw));
        headers.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Tue, 02 Jan 2024 03:04:04 GMT"),
        );
        assert!(!asked(&headers, "").not_modified(StatusCode::OK, &raw));
        assert!(asked(&headers, "").not_modified(StatusCode::OK, &rewritten));
    }

    #[test]
    fn ranges_parse_as_rfc_9110_writes_them() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=0-1", 0), None);
    }
}
