//! The fence around the replay origin. Archived pages are written by strangers, some hostile,
//! and every one of them runs on this one origin: whatever one capture may do there (register a
//! service worker, set a cookie, wipe storage, frame a raw copy of itself) it does to every
//! other capture. So every response carries a Content-Security-Policy, and the archived
//! response's own fields reach the browser only when they describe the bytes and nothing more.
//!
//! - Replayed pages ([`REPLAYED`]) may run their scripts against this server only. Workers are
//!   forbidden (`worker-src` governs service worker registration in Chromium and Firefox, and
//!   falls back to `script-src`, then `default-src`, which allows `'self'`); `form-action`,
//!   `base-uri` and `frame-ancestors` are set because they do not fall back to `default-src`.
//!   `connect-src` does, so `fetch`, WebSocket and `sendBeacon` reach this server only.
//! - Raw bytes (`id_`, [`RAW`]) are sandboxed with no script and an opaque origin: a page that
//!   frames its own raw copy gets a frame that can neither run code nor touch its parent.
//! - This server's own pages, errors and redirects ([`OWN`]) need no script at all.
//! - A request for a service worker script (`Service-Worker: script`) is refused: no archived
//!   script becomes one, whatever its CSP or headers.
//! - Archived fields that would act on the browser (`Set-Cookie`, `Service-Worker-Allowed`,
//!   `Clear-Site-Data`, `Link` preloads, CORS, reporting endpoints, ...) are kept for the reader
//!   under `X-Archive-Orig-NAME`, as pywb keeps them ([`ArchivedField`]).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::pages::plain;

/// Directives every policy of this origin carries: the ones that do not fall back to
/// `default-src`, and workers (a service worker registered from any capture would answer for
/// all of them).
macro_rules! fenced {
    ($($directive:literal),*) => {
        concat!(
            $($directive, "; ",)*
            "worker-src 'none'; form-action 'self'; base-uri 'self'; frame-ancestors 'self'"
        )
    };
}

/// What replayed pages may load and run: only this server, inline code and data.
pub const REPLAYED: &str = fenced!("default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:");

/// Archived bytes as they are: loadable as a subresource of a replayed page (the policy of a
/// script or an image does not apply to it), but as a document sandboxed, with no script and
/// an opaque origin.
pub const RAW: &str = concat!(
    fenced!("default-src 'self' 'unsafe-inline' data: blob:"),
    "; sandbox"
);

/// This server's own pages (lists, errors, redirects): no script, nothing from elsewhere; a
/// form (the page search) may be sent.
pub const OWN: &str = concat!(
    fenced!(
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src 'self' data:"
    ),
    "; sandbox allow-forms"
);

/// Prefix under which archived fields that would act on the browser are kept, as pywb names
/// them.
pub const ORIGINAL_PREFIX: &str = "X-Archive-Orig-";

/// Around every request to the replay origin: service worker scripts refused, and a response
/// that carries no policy of its own gets [`OWN`], the strictest.
pub async fn fence(request: Request, next: Next) -> Response {
    if wants_service_worker(&request) {
        let mut refused = plain(
            StatusCode::FORBIDDEN,
            "no archived script may become a service worker",
        );
        set_policy(&mut refused, OWN);
        return refused;
    }
    let mut response = next.run(request).await;
    if !response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        set_policy(&mut response, OWN);
    }
    // A payload is what its one Content-Type says, never what a browser would sniff it to be
    // (untyped markup sniffed as a page would run unrewritten).
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Browsers send `Service-Worker: script` when fetching a script to register (and update) a
/// service worker; nothing this server serves is meant to be one.
fn wants_service_worker(request: &Request) -> bool {
    request.headers().contains_key("service-worker")
}

fn set_policy(response: &mut Response, policy: &'static str) {
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
}

/// What becomes of one field of the archived response.
#[derive(Debug, PartialEq, Eq)]
pub enum ArchivedField {
    /// Sent as archived: it describes the payload and does nothing else.
    Kept,
    /// Sent as `X-Archive-Orig-NAME`: what it would do to the browser is not the archive's to
    /// do (cookies, workers, caching and connection policy, CORS, reporting, the archived
    /// page's own CSP).
    Renamed,
    /// Not sent: it framed the archived bytes on the wire (this server frames its own), or
    /// this server writes it anew (`Location` and `Refresh`, pointed into the archive).
    Replaced,
}

/// An allow-list, not a block-list: fields browsers learn to act on tomorrow are renamed today.
pub fn archived_field(name: &str) -> ArchivedField {
    match name.to_ascii_lowercase().as_str() {
        "content-type"
        | "content-language"
        | "content-disposition"
        | "last-modified"
        | "x-content-type-options" => ArchivedField::Kept,
        "content-length"
        | "transfer-encoding"
        | "x-orig-transfer-encoding"
        | "trailer"
        | "connection"
        | "keep-alive"
        | "content-encoding"
        | "accept-ranges"
        | "content-range"
        | "location"
        | "refresh" => ArchivedField::Replaced,
        _ => ArchivedField::Renamed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_carries_the_directives_without_fallback() {
        for policy in [REPLAYED, RAW, OWN] {
            for directive in [
                "worker-src 'none'",
                "form-action 'self'",
                "base-uri 'self'",
                "frame-ancestors 'self'",
            ] {
                assert!(policy.contains(directive), "{policy} lacks {directive}");
            }
        }
        assert!(RAW.ends_with("; sandbox") && !RAW.contains("allow-"));
        assert!(!REPLAYED.contains("sandbox"));
    }

    #[test]
    fn fields_that_act_on_the_browser_are_renamed() {
        for name in [
            "Service-Worker-Allowed",
            "Set-Cookie",
            "Clear-Site-Data",
            "Link",
            "Content-Security-Policy",
            "Strict-Transport-Security",
            "Access-Control-Allow-Origin",
            "Alt-Svc",
            "Report-To",
            "NEL",
            "Origin-Agent-Cluster",
            "Cache-Control",
            "X-Made-Up",
        ] {
            assert_eq!(archived_field(name), ArchivedField::Renamed, "{name}");
        }
        assert_eq!(archived_field("content-type"), ArchivedField::Kept);
        assert_eq!(archived_field("Refresh"), ArchivedField::Replaced);
    }
}
