//! The server's own pages: the list of collections, and a collection's archived pages by host
//! with a search by title and URL. Plain HTML, no script, no external asset.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use std::collections::BTreeMap;
use std::fmt::Write as _;

use url::Url;

use super::Loaded;
use crate::article::history::readable_timestamp;
use crate::collection::{Archives, CollectionName, PageEntry};
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

pub fn html_page(title: &str, body: &str) -> Response {
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

/// `/COLL/?q=...`: the collection's pages whose title or URL holds the query, grouped by
/// host, each with its latest capture and a link to all its versions.
pub fn pages(loaded: &Loaded, query: &str) -> Response {
    let name: &CollectionName = loaded.collection.name();
    let needle = query.to_lowercase();
    let matching = latest_pages(loaded.collection.pages())
        .into_iter()
        .filter(|page| {
            let title = page.title.as_deref().unwrap_or_default();
            needle.is_empty()
                || format!("{} {title}", page.url)
                    .to_lowercase()
                    .contains(&needle)
        })
        .take(MAX_LISTED);
    let mut hosts: BTreeMap<String, Vec<PageEntry>> = BTreeMap::new();
    for page in matching {
        let host = Url::parse(&page.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        hosts.entry(host).or_default().push(page);
    }
    let listed: usize = hosts.values().map(Vec::len).sum();
    let mut groups = String::new();
    for (host, pages) in &hosts {
        let _ = write!(
            groups,
            "<h2>{} <small>({})</small></h2><ul>",
            escape(host),
            crate::article::counted(pages.len(), "page")
        );
        for page in pages {
            groups.push_str(&page_item(loaded, name, page));
        }
        groups.push_str("</ul>");
    }
    html_page(
        &format!("{name}: archived pages"),
        &format!(
            "<h1>{0}</h1><form><input name=q value=\"{1}\" placeholder=\"search titles and URLs\"> <button>Search</button></form><p>{listed} pages on {2} hosts.</p>{groups}",
            escape(name.as_str()),
            escape(query),
            hosts.len()
        ),
    )
}

/// One page: its title, linked to its latest capture, and its captures' count, linked to its
/// versions.
fn page_item(loaded: &Loaded, name: &CollectionName, page: &PageEntry) -> String {
    let title = page.title.as_deref().unwrap_or(&page.url);
    let ts = timestamp14(&page.ts).unwrap_or_default();
    let captures = loaded.index.captures_of(&page.url).len();
    format!(
        "<li><a href=\"/{c}/{ts}/{u}\">{}</a><br><small>{} · {} · <a href=\"/{c}/*/{u}\">{captures} captures</a></small></li>",
        escape(title),
        escape(&page.url),
        readable_timestamp(&ts),
        c = escape(name.as_str()),
        u = escape(&page.url),
    )
}

/// Each URL's latest line of `pages.jsonl`, newest first.
fn latest_pages(pages: Vec<PageEntry>) -> Vec<PageEntry> {
    let mut seen = std::collections::HashSet::new();
    pages
        .into_iter()
        .rev()
        .filter(|page| seen.insert(page.url.clone()))
        .collect()
}
