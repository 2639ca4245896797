//! Replay: a local HTTP server over the collections, with pywb's URL scheme.
//!
//! - `/` lists collections, `/COLL/` lists and searches archived pages ([`pages`]);
//! - `/COLL/TIMESTAMP/URL` serves the capture nearest to TIMESTAMP (redirecting to its exact
//!   timestamp, as pywb does), rewritten so that every link, image and stylesheet resolves
//!   through this server, with a Content-Security-Policy that keeps the page from the live web;
//! - `/COLL/TIMESTAMPid_/URL` serves the archived bytes as they are; URLs are the web's, or
//!   those other tools file records under (`urn:`, `dns:`, `file:`, `metadata:`), always
//!   served as they are;
//! - `/COLL/timemap/link/URL` is the Memento TimeMap; captures carry `Memento-Datetime` and
//!   `Link` headers ([`capture`]).
//!
//! Every response, errors and redirects included, carries the fence of [`fence`]: a
//! Content-Security-Policy, no archived field that would act on the browser, no service worker.
//!
//! Each collection's [`Index`] is read on first use and again when the file changes, once
//! however many requests wait for it; each answer is one read of one record by offset. Files
//! are only ever opened by the names the index gives, inside the collection's WARC folder,
//! and every 5xx is logged with its cause.

mod capture;
mod client;
mod fence;
mod http;
mod pages;
mod versions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use url::Url;

use crate::article::texts::TextDigests;
use crate::collection::{Archives, Collection, CollectionError, CollectionName};
use crate::index::Index;
use pages::plain;

/// A collection's index as read, and when the file was written; the digests of the article
/// texts known (not the texts: the versions pages read those they show).
pub struct Loaded {
    collection: Collection,
    modified: Option<SystemTime>,
    /// cairn's and the index's versions, for the validators of rewritten responses: a rewrite
    /// names the URL's other captures (the banner), so a new capture makes it another
    /// response, as does a new cairn.
    version: String,
    index: Index,
    digests: Mutex<TextDigests>,
}

struct Replay {
    archives: Archives,
    loaded: RwLock<HashMap<CollectionName, Arc<Loaded>>>,
    /// One gate per collection, held while its index is read: the requests that arrive while
    /// it loads wait for that one reading instead of each reading the index too. Sixteen
    /// clients' first images had replay read a 16 MB index sixteen times at once (262 MB of
    /// the server's 288 MB peak, heaptrack).
    loading: Mutex<HashMap<CollectionName, Arc<Mutex<()>>>>,
}

impl Replay {
    fn new(archives: Archives) -> Replay {
        Replay {
            archives,
            loaded: RwLock::new(HashMap::new()),
            loading: Mutex::new(HashMap::new()),
        }
    }

    /// The collection's index, read again when the file changed; `Ok(None)` for a collection
    /// that has none.
    fn loaded(&self, name: &CollectionName) -> Result<Option<Arc<Loaded>>, CollectionError> {
        let collection = self.archives.collection(name);
        if let Some(current) = self.current(name, &collection) {
            return Ok(Some(current));
        }
        // Only collections with an index get a gate: a name is anything a client sends.
        if collection.index_modified().is_none() {
            return Ok(None);
        }
        let gate = self.gate(name);
        let _loading = gate.lock().unwrap_or_else(PoisonError::into_inner);
        // Another request may have read it while this one waited.
        if let Some(current) = self.current(name, &collection) {
            return Ok(Some(current));
        }
        let Some(modified) = collection.index_modified() else {
            return Ok(None);
        };
        let index = collection.index()?;
        if index.unreadable_lines() > 0 {
            tracing::warn!(
                collection = %name,
                lines = index.unreadable_lines(),
                "index lines that are no CDXJ captures were left out"
            );
        }
        let digests = TextDigests::load(&collection).unwrap_or_else(|error| {
            tracing::warn!(collection = %name, %error, "reading the article texts");
            TextDigests::default()
        });
        let written = modified
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let version = format!("{}-{written}", env!("CARGO_PKG_VERSION"));
        let loaded = Arc::new(Loaded {
            collection,
            modified: Some(modified),
            version,
            index,
            digests: Mutex::new(digests),
        });
        if let Ok(mut cache) = self.loaded.write() {
            cache.insert(name.clone(), loaded.clone());
        }
        Ok(Some(loaded))
    }

    /// The index read before, if the file has not changed since.
    fn current(&self, name: &CollectionName, collection: &Collection) -> Option<Arc<Loaded>> {
        let modified = collection.index_modified()?;
        let cached = self.loaded.read().ok()?.get(name).cloned()?;
        (cached.modified == Some(modified)).then_some(cached)
    }

    fn gate(&self, name: &CollectionName) -> Arc<Mutex<()>> {
        let mut gates = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
        gates.entry(name.clone()).or_default().clone()
    }

    /// Answers with the collection's index, 404 if it has none, 500 if it cannot be read.
    fn with_index(
        &self,
        name: &CollectionName,
        answer: impl FnOnce(&Loaded) -> Response,
    ) -> Response {
        match self.loaded(name) {
            Ok(Some(loaded)) => answer(&loaded),
            Ok(None) => no_collection(),
            Err(error) => {
                tracing::error!(collection = %name, %error, "reading the index");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the index could not be read",
                )
            }
        }
    }
}

/// The replay router over `archives`, for `cairn replay` and for tests (`oneshot`).
pub fn router(archives: Archives) -> Router {
    let state = Arc::new(Replay::new(archives));
    Router::new()
        .route("/", get(list_collections))
        .route(client::PATH, get(client::serve))
        .route("/{collection}", get(redirect_to_listing))
        .route("/{collection}/", get(list_pages))
        .route("/{collection}/{*rest}", get(serve).post(refuse_post))
        .fallback(unknown_path)
        .layer(axum::middleware::from_fn(fence::fence))
        .with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve_forever(archives: Archives, bind: std::net::SocketAddr) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // A rewritten page streams: its last chunk would wait on the client's delayed ACK (40 ms
    // each, Nagle's algorithm; bench-replay: the article page at 413 requests/s).
    let listener = tokio::net::TcpListener::bind(bind).await?.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router(archives)).await
}

/// A form a replayed page sends (its action pointed into the archive, by the server or the
/// client layer): said plainly, rather than the browser's bare error page.
async fn refuse_post() -> Response {
    plain(
        StatusCode::METHOD_NOT_ALLOWED,
        "this page sent a form: replay sends nothing on, since an archive has no live server to take it",
    )
}

async fn unknown_path() -> Response {
    plain(StatusCode::NOT_FOUND, "no such page")
}

fn no_collection() -> Response {
    plain(StatusCode::NOT_FOUND, "no such collection")
}

async fn list_collections(State(replay): State<Arc<Replay>>) -> Response {
    pages::collections(&replay.archives)
}

/// `/COLL` to `/COLL/`, for a collection there is; anything else at the root (a browser's
/// `/favicon.ico`) is a 404 at once.
async fn redirect_to_listing(
    State(replay): State<Arc<Replay>>,
    UrlPath(collection): UrlPath<String>,
) -> Response {
    let Ok(name) = collection.parse::<CollectionName>() else {
        return no_collection();
    };
    if !replay.archives.collection(&name).dir().is_dir() {
        return no_collection();
    }
    (StatusCode::FOUND, [(header::LOCATION, format!("/{name}/"))]).into_response()
}

async fn list_pages(
    State(replay): State<Arc<Replay>>,
    UrlPath(collection): UrlPath<String>,
    uri: Uri,
) -> Response {
    let Ok(name) = collection.parse::<CollectionName>() else {
        return no_collection();
    };
    let query = uri
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        replay.with_index(&name, |loaded| pages::pages(loaded, &query))
    })
    .await
    .unwrap_or_else(|error| failed(&error))
}

fn failed(error: &tokio::task::JoinError) -> Response {
    tracing::error!(%error, "a replay task failed");
    plain(StatusCode::INTERNAL_SERVER_ERROR, "replay failed")
}

/// What the part of the path after the collection asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    TimeMap(String),
    /// `*/URL`: the URL's captures, as a calendar and a timeline.
    Versions(String),
    /// `diff[/side]/FROM/TO/URL`: what changed between two captures' texts.
    Diff {
        layout: versions::Layout,
        from: String,
        to: String,
        url: String,
    },
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
    if let Some(url) = rest.strip_prefix("*/") {
        return Some(Request::Versions(normalize_target(&with_query(url))?));
    }
    if let Some(diff) = rest.strip_prefix("diff/") {
        let (layout, diff) = match diff.strip_prefix("side/") {
            Some(diff) => (versions::Layout::SideBySide, diff),
            None => (versions::Layout::Inline, diff),
        };
        let mut parts = diff.splitn(3, '/');
        let (from, to, url) = (parts.next()?, parts.next()?, parts.next()?);
        let stamp = |t: &str| (1..=14).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
        if !stamp(from) || !stamp(to) {
            return None;
        }
        return Some(Request::Diff {
            layout,
            from: from.to_string(),
            to: to.to_string(),
            url: normalize_target(&with_query(url))?,
        });
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

/// Schemes of the URLs replay serves: the web's, and those other tools file records under
/// (wget's `metadata://` log and manifest, `urn:` page info, `dns:` lookups, `file:`
/// resources). A URL is only ever a key into the index: a `file:` URL opens no file.
const ARCHIVED_SCHEMES: [&str; 6] = ["http", "https", "metadata", "urn", "dns", "file"];

/// The archived URL a path names: absolute, of an [`ARCHIVED_SCHEMES`] scheme (`https:/x`
/// repaired, as some clients merge slashes).
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
    ARCHIVED_SCHEMES
        .contains(&url.scheme())
        .then(|| url.to_string())
}

async fn serve(
    State(replay): State<Arc<Replay>>,
    UrlPath((collection, rest)): UrlPath<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Ok(name) = collection.parse::<CollectionName>() else {
        return no_collection();
    };
    if rest == "diff" {
        return versions::comparison_form(name.as_str(), uri.query());
    }
    let Some(request) = parse_rest(&rest, uri.query()) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "expected /COLLECTION/TIMESTAMP/URL, /COLLECTION/TIMESTAMPid_/URL, /COLLECTION/*/URL, /COLLECTION/diff/FROM/TO/URL or /COLLECTION/timemap/link/URL",
        );
    };
    // Index loading and record reads are file I/O: keep them off the async workers.
    tokio::task::spawn_blocking(move || {
        replay.with_index(&name, |loaded| match &request {
            Request::TimeMap(url) => capture::timemap(loaded, url),
            Request::Versions(url) => versions::calendar(loaded, url),
            Request::Diff {
                layout,
                from,
                to,
                url,
            } => versions::comparison(loaded, *layout, from, to, url),
            Request::Capture {
                timestamp,
                modifier,
                url,
            } => {
                let wanted = capture::Wanted {
                    timestamp,
                    modifier,
                    url,
                };
                let asked = http::Asked {
                    headers: &headers,
                    method: &method,
                    modifier,
                };
                capture::serve(loaded, &wanted, &asked)
            }
        })
    })
    .await
    .unwrap_or_else(|error| failed(&error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_that_arrive_while_an_index_loads_share_one_reading() {
        let dir = tempfile::tempdir().unwrap();
        let archives = Archives::new(dir.path());
        let name: CollectionName = "default".parse().unwrap();
        let index = archives.collection(&name).index_path();
        std::fs::create_dir_all(index.parent().unwrap()).unwrap();
        // Enough lines that reading them takes a while: the requests meet while it does.
        let lines: String = (0..50_000)
            .map(|i| {
                format!(
                    "com,example)/p{i:06} 20230101000000 {{\"url\":\"http://example.com/p{i:06}\",\
                     \"mime\":\"text/html\",\"status\":\"200\",\"digest\":\"sha1:{i}\",\
                     \"length\":\"100\",\"offset\":\"{i}00\",\"filename\":\"a.warc.gz\"}}\n"
                )
            })
            .collect();
        std::fs::write(&index, lines).unwrap();
        let replay = Replay::new(archives);
        let start = std::sync::Barrier::new(8);
        let loads: Vec<Arc<Loaded>> = std::thread::scope(|scope| {
            let requests: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        replay.loaded(&name).unwrap().unwrap()
                    })
                })
                .collect();
            requests.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(loads[0].index.unreadable_lines(), 0);
        assert!(
            loads.iter().all(|load| Arc::ptr_eq(load, &loads[0])),
            "each request read the index on its own"
        );
    }

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
        // Other tools' records under their own schemes are looked up in the index, as any URL.
        for (path, target) in [
            (
                "2020id_/urn:pageinfo:http://example.com/",
                "urn:pageinfo:http://example.com/",
            ),
            ("2020id_/dns:example.com", "dns:example.com"),
            ("2020id_/file:///x.txt", "file:///x.txt"),
            (
                "2020/metadata://gnu.org/software/wget/warc/MANIFEST.txt",
                "metadata://gnu.org/software/wget/warc/MANIFEST.txt",
            ),
        ] {
            assert!(
                matches!(parse_rest(path, None), Some(Request::Capture { ref url, .. }) if url == target),
                "{path}"
            );
        }
        for bad in [
            "x/https://a.example/",
            "2023/javascript:alert(1)",
            "2023/data:text/html,x",
            "2023/../../etc/passwd",
            "123456789012345/http://a/",
            "2023",
        ] {
            assert!(parse_rest(bad, None).is_none(), "{bad}");
        }
        assert_eq!(
            capture::timestamp_seconds("2023"),
            capture::timestamp_seconds("20230101000000")
        );
        assert!(capture::timestamp_seconds("20231399000000").is_none());
    }
}
