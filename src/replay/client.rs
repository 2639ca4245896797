//! Replay's client layer: `client.js`, served from this origin at [`PATH`] and put first in
//! every replayed page ([`tag`]), maps into the archive the URLs a page's scripts build as
//! it runs, where the server never sees them, and gives the page its original `location`
//! (with the scoping of `rewrite::script`). It is the project's own script, not pywb's
//! wombat (whose licence, the AGPL, does not fit), and it is no part of the fence: the
//! Content-Security-Policy keeps a page off the live web whatever it does to the layer.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Where the layer is served: a path no collection has (no collection's name starts with a
/// dot).
pub const PATH: &str = "/.cairn/client.js";

const SCRIPT: &str = include_str!("client.js");

pub async fn serve() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// The `<script>` that loads the layer into a page replayed from `collection` at `stamp`,
/// captured at `url`.
pub fn tag(collection: &str, stamp: &str, url: &str) -> String {
    format!(
        "<script src=\"{PATH}\" data-collection=\"{}\" data-timestamp=\"{}\" data-url=\"{}\"></script>",
        htmlize::escape_attribute(collection),
        htmlize::escape_attribute(stamp),
        htmlize::escape_attribute(url)
    )
}
