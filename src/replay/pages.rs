//! The server's own pages: the list of collections, and a collection's archived pages with a
//! search by title and URL. Plain HTML, no script, no external asset.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::collection::{Archives, Collection, CollectionName};
use crate::warc::record::timestamp14;

/// Pages listed at most, newest first.
const MAX_LISTED: usize = 1000;

pub fn plain(status: StatusCode, message: &str) -> Response {
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

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `/`: every collection with an index.
pub fn collections(archives: &Archives) -> Response {
    let items: String = archives
        .collections()
        .iter()
        .map(|n| format!("<li><a href=\"/{0}/\">{0}</a></li>", escape(n.as_str())))
        .collect();
    html_page(
        "cairn collections",
        &format!("<h1>Collections</h1><ul>{items}</ul>"),
    )
}

/// `/COLL/?q=...`: the collection's pages, newest first, those whose title or URL holds the
/// query.
pub fn pages(collection: &Collection, query: &str) -> Response {
    let name: &CollectionName = collection.name();
    let needle = query.to_lowercase();
    let mut items = String::new();
    let pages = collection.pages();
    let matching = pages.iter().rev().filter(|page| {
        let title = page.title.as_deref().unwrap_or_default();
        needle.is_empty()
            || format!("{} {title}", page.url)
                .to_lowercase()
                .contains(&needle)
    });
    for page in matching.take(MAX_LISTED) {
        let title = page.title.as_deref().unwrap_or(&page.url);
        let ts = timestamp14(&page.ts).unwrap_or_default();
        items.push_str(&format!(
            "<li><a href=\"/{}/{}/{}\">{}</a><br><small>{} · {}</small></li>",
            escape(name.as_str()),
            ts,
            escape(&page.url),
            escape(title),
            escape(&page.url),
            ts
        ));
    }
    html_page(
        &format!("{name}: archived pages"),
        &format!(
            "<h1>{0}</h1><form><input name=q value=\"{1}\" placeholder=\"search titles and URLs\"> <button>Search</button></form><ul>{items}</ul>",
            escape(name.as_str()),
            escape(query)
        ),
    )
}
