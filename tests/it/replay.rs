//! `cairn replay` with no fixture server running: the seed article replays with its text and
//! images, the nearest of two captures is chosen, a revisit resolves, unknown URLs are 404s,
//! traversal is refused, and in Chromium the replayed page reaches nothing but the server.

use std::path::Path;
use std::sync::Arc;

use crate::archive::{archive_ok, index_entries};
use crate::fixture::{Handler, HttpsFixture, Request, Step, jpeg, response};
use crate::site;
use crate::support::http_client;

/// The replay router on a port of its own, in a runtime of its own.
pub struct ReplayServer {
    pub origin: String,
    runtime: tokio::runtime::Runtime,
}

impl ReplayServer {
    pub fn start(archives: &Path) -> ReplayServer {
        let (runtime, listener) = crate::support::loopback_listener(2);
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let router = cairn::replay::router(cairn::collection::Archives::new(archives));
        runtime.spawn(async move { axum::serve(listener, router).await });
        ReplayServer { origin, runtime }
    }

    /// GET a path (redirects followed): status, headers, body.
    pub fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let url = format!("{}{path}", self.origin);
        self.runtime.block_on(async {
            let client = http_client().build().unwrap();
            let response = client.get(&url).send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.bytes().await.unwrap().to_vec())
        })
    }

    pub fn status(&self, path: &str) -> u16 {
        self.get(path).0
    }
}

fn attribute_values(html: &str, attr: &str) -> Vec<String> {
    let pattern = regex::Regex::new(&format!(r#"\s{attr}="([^"]*)""#)).unwrap();
    pattern
        .captures_iter(html)
        .map(|c| c[1].to_string())
        .collect()
}

#[test]
fn the_archive_replays_offline() {
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    {
        let fixture = site::start().unwrap();
        archive_ok(
            &archives,
            &fixture,
            &["--no-progress", "--depth", "0"],
            &[site::ARTICLE],
        );
        // A second crawl an hour on: the clock is the library's to set, so no test waits.
        let options = cairn::archive::ArchiveOptions {
            targets: vec![site::ARTICLE.to_string()],
            depth: 0,
            no_progress: true,
            ca_cert: vec![fixture.ca_pem.clone()],
            connect_to: fixture.connect_to(),
            ..Default::default()
        };
        let an_hour_on = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        let collection =
            cairn::collection::Archives::new(&archives).collection(&"default".parse().unwrap());
        cairn::archive::archive_at(
            &collection,
            &options,
            cairn::archive::Resume::default(),
            cairn::warc::Clock::ticking(an_hour_on, time::Duration::milliseconds(1)),
            cairn::warc::RecordIds::random(),
        )
        .unwrap();
        // Two images with one payload: the second is a revisit.
        let same: Handler = Arc::new(|req: &Request| match req.target.as_str() {
            "/" => vec![Step::Send(response(
                "200 OK",
                "text/html",
                b"<img src=/a.jpg><img src=/b.jpg><a href=/moved>m</a><a href=/big.bin>b</a>",
            ))],
            "/moved" => vec![Step::Send(crate::fixture::response_with(
                "301 Moved Permanently",
                &[("Location", "/")],
                b"",
            ))],
            "/big.bin" => vec![Step::Send(response(
                "200 OK",
                "application/octet-stream",
                &big_payload(),
            ))],
            "/robots.txt" => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
            _ => vec![Step::Send(response("200 OK", "image/jpeg", &jpeg("twin")))],
        });
        let twins = HttpsFixture::start(&["twins.example.com"], same).unwrap();
        archive_ok(
            &archives,
            &twins,
            &["--no-progress"],
            &["https://twins.example.com/"],
        );
    }
    // From here on no fixture is running: everything comes from the WARCs.
    let server = ReplayServer::start(&archives);
    let entries = index_entries(&archives, "default");
    let mut article_stamps: Vec<String> = entries
        .iter()
        .filter(|e| e.url == site::ARTICLE)
        .map(|e| e.timestamp.clone())
        .collect();
    article_stamps.sort();
    assert_eq!(article_stamps.len(), 2, "two crawls");

    let (status, headers, body) =
        server.get(&format!("/default/{}/{}", article_stamps[0], site::ARTICLE));
    assert_eq!(status, 200);
    assert!(headers.contains_key("memento-datetime") && headers.contains_key("link"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("強調通過和談解決烏克蘭危機"));
    let mut images = 0;
    for src in attribute_values(&html, "src")
        .iter()
        .chain(&attribute_values(&html, "data-src"))
    {
        // (Inline images, and the replay's own client layer.)
        if src.starts_with("data:") || src == "/.cairn/client.js" {
            continue;
        }
        assert!(
            src.starts_with("/default/"),
            "{src} does not go through the server"
        );
        let original = src.splitn(4, '/').nth(3).unwrap();
        let url = url::Url::parse(original).unwrap();
        if url.host_str() == Some("imgcdn.cna.com.tw") {
            let (status, _, bytes) = server.get(src);
            assert_eq!(status, 200, "{src}");
            assert_eq!(bytes, jpeg(url.path()), "{src}: the archived bytes");
            images += 1;
        }
    }
    assert!(images >= 16, "{images} images replayed");

    // The nearest capture: a time after the second crawl picks the second, one before the
    // first picks the first.
    let later = "2099";
    let earlier = "2001";
    assert_eq!(
        reqwest_no_redirect(&server, &format!("/default/{earlier}/{}", site::ARTICLE)),
        format!("/default/{}/{}", article_stamps[0], site::ARTICLE)
    );
    let (status, _, _) = server.get(&format!("/default/{later}/{}", site::ARTICLE));
    assert_eq!(status, 200);
    let redirect = reqwest_no_redirect(&server, &format!("/default/{later}/{}", site::ARTICLE));
    assert_eq!(
        redirect,
        format!("/default/{}/{}", article_stamps[1], site::ARTICLE)
    );
    let timemap = String::from_utf8(
        server
            .get(&format!("/default/timemap/link/{}", site::ARTICLE))
            .2,
    )
    .unwrap();
    assert_eq!(timemap.matches("memento\"").count(), 2, "{timemap}");

    // The revisit serves its original's payload.
    let revisit = entries
        .iter()
        .find(|e| e.mime.as_deref() == Some("warc/revisit"))
        .expect("a revisit");
    let (status, _, bytes) = server.get(&format!("/default/{}/{}", revisit.timestamp, revisit.url));
    assert_eq!((status, bytes), (200, jpeg("twin")));
    let (status, _, raw) = server.get(&format!(
        "/default/{}id_/{}",
        revisit.timestamp, revisit.url
    ));
    assert_eq!((status, raw), (200, jpeg("twin")));

    // The collection lists its pages, and finds them by title.
    let (status, _, listing) = server.get("/default/?q=%E7%BF%92%E8%92%B2");
    let listing = String::from_utf8(listing).unwrap();
    assert_eq!(status, 200);
    assert!(
        listing.contains(&format!("/{}", site::ARTICLE)) && listing.contains("習蒲強調"),
        "{listing}"
    );
    let (_, _, none) = server.get("/default/?q=no-such-title");
    assert!(!String::from_utf8(none).unwrap().contains(site::ARTICLE));
    let (status, _, collections) = server.get("/");
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(collections)
            .unwrap()
            .contains("href=\"/default/\"")
    );

    // Unknown, malformed and hostile paths.
    assert_eq!(
        server.status("/default/2023/https://www.cna.com.tw/never-archived"),
        404
    );
    assert_eq!(server.status("/nosuch/2023/https://www.cna.com.tw/"), 404);
    for hostile in [
        "/default/2023/file:///etc/passwd",
        "/default/..%2f..%2fetc%2fpasswd",
        "/default/2023/..%2f..%2f..%2fetc%2fpasswd",
        "/..%2fdefault/2023/https://www.cna.com.tw/",
        "/default/99999999999999999/https://www.cna.com.tw/",
        "/default/notatime/https://www.cna.com.tw/",
    ] {
        let status = server.status(hostile);
        assert!((400..500).contains(&status), "{hostile}: {status}");
    }
    // Ranges, for media.
    let url = format!("/default/{}id_/{}", revisit.timestamp, revisit.url);
    let partial = server.runtime.block_on(async {
        let response = http_client()
            .build()
            .unwrap()
            .get(format!("{}{url}", server.origin))
            .header("Range", "bytes=0-9")
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.bytes().await.unwrap().to_vec(),
        )
    });
    assert_eq!(partial, (206, jpeg("twin")[..10].to_vec()));

    // A redirect replays as a redirect into the archive.
    let urls: Vec<&str> = entries.iter().map(|e| e.url.as_str()).collect();
    let moved = entries
        .iter()
        .find(|e| e.url.ends_with("/moved"))
        .unwrap_or_else(|| panic!("{urls:?}"));
    let location = reqwest_no_redirect(
        &server,
        &format!("/default/{}/{}", moved.timestamp, moved.url),
    );
    assert_eq!(
        location,
        format!("/default/{}/https://twins.example.com/", moved.timestamp)
    );

    // A payload larger than what replay holds in memory streams, whole or by range.
    let big = entries
        .iter()
        .find(|e| e.url.ends_with("/big.bin"))
        .unwrap();
    let path = format!("/default/{}id_/{}", big.timestamp, big.url);
    let (status, _, bytes) = server.get(&path);
    assert_eq!(status, 200);
    assert!(
        bytes == big_payload(),
        "streamed payload differs ({} bytes)",
        bytes.len()
    );
    let tail = server.runtime.block_on(async {
        let response = http_client()
            .build()
            .unwrap()
            .get(format!("{}{path}", server.origin))
            .header("Range", "bytes=-100")
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.bytes().await.unwrap().to_vec(),
        )
    });
    assert_eq!(tail, (206, big_payload()[(12 << 20) - 100..].to_vec()));
}

/// Larger than replay reads into memory, so it streams.
fn big_payload() -> Vec<u8> {
    (0..12u32 << 20).map(|i| (i % 251) as u8).collect()
}

fn reqwest_no_redirect(server: &ReplayServer, path: &str) -> String {
    server.runtime.block_on(async {
        let client = http_client()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        let response = client
            .get(format!("{}{path}", server.origin))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        response.headers()["location"].to_str().unwrap().to_string()
    })
}

#[test]
fn warcs_from_other_tools_replay_once_indexed() {
    let work = tempfile::tempdir().unwrap();
    let warc_dir = work.path().join("others/warc");
    std::fs::create_dir_all(&warc_dir).unwrap();
    for name in ["warcio-sample.warc.gz", "wget-sample.warc.gz"] {
        std::fs::copy(
            crate::support::fixture("warc").join(name),
            warc_dir.join(name),
        )
        .unwrap();
    }
    crate::support::run_ok(
        crate::support::cairn()
            .arg("--archives")
            .arg(work.path())
            .args(["-c", "others", "index"]),
    );
    let server = ReplayServer::start(work.path());
    // warcio's capture of the article, and wget's of a page and its stylesheet.
    let (status, _, body) = server.get(&format!("/others/2026/{}", site::ARTICLE));
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("習蒲"));
    let (status, _, body) = server.get("/others/2026/http://127.0.0.1:8765/index.html");
    assert_eq!(status, 200);
    let page = String::from_utf8_lossy(&body);
    assert!(
        page.contains("/others/") && page.contains("http://127.0.0.1:8765/s.css"),
        "{page}"
    );
    let (status, _, css) = server.get("/others/2026id_/http://127.0.0.1:8765/s.css");
    assert_eq!((status, css), (200, b"body{color:red}".to_vec()));
}

/// What replaying other tools' WARCs is tested with: the WARC files `write` leaves in a
/// collection's WARC folder, indexed by `cairn index`, and replay over them. The folder lives
/// as long as the server.
struct OtherTools {
    server: ReplayServer,
    _work: tempfile::TempDir,
}

impl OtherTools {
    fn replay(write: impl FnOnce(&Path)) -> OtherTools {
        let work = tempfile::tempdir().unwrap();
        let warc_dir = work.path().join("others/warc");
        std::fs::create_dir_all(&warc_dir).unwrap();
        write(&warc_dir);
        crate::support::run_ok(
            crate::support::cairn()
                .arg("--archives")
                .arg(work.path())
                .args(["-c", "others", "index"]),
        );
        OtherTools {
            server: ReplayServer::start(work.path()),
            _work: work,
        }
    }

    /// GET a path, following at most `hops` redirects (none: a redirect is the answer):
    /// status, headers and body, or why not.
    fn follow(
        &self,
        path: &str,
        hops: usize,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), String> {
        let policy = match hops {
            0 => reqwest::redirect::Policy::none(),
            hops => reqwest::redirect::Policy::limited(hops),
        };
        self.server.runtime.block_on(async {
            let client = http_client().redirect(policy).build().unwrap();
            let url = format!("{}{path}", self.server.origin);
            let response = client
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{path}: {e}"))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            Ok((status, headers, body.to_vec()))
        })
    }

    /// GET a path without following a redirect: status, and the `Location` if any.
    fn redirect(&self, path: &str) -> (u16, Option<String>) {
        self.server.runtime.block_on(async {
            let client = http_client()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let response = client
                .get(format!("{}{path}", self.server.origin))
                .send()
                .await
                .unwrap();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (response.status().as_u16(), location)
        })
    }
}

/// Writes `records` into the gzipped WARC `path` with warcio. `records` is Python calling
/// `response(url, date, status, headers, body)`, `resource(url, date, content_type, body)`
/// and `metadata(url, date, content_type, body)`; bodies are written as given, so chunk
/// framing stays in the record as wget and warcprox keep it.
fn warcio_warc(path: &Path, records: &str) {
    let script = format!(
        r#"
import gzip, io, sys
from warcio.warcwriter import WARCWriter
from warcio.statusandheaders import StatusAndHeaders
out = open(sys.argv[1], "wb")
w = WARCWriter(out, gzip=True, warc_version="1.1")
def record(url, kind, date, body, **more):
    w.write_record(w.create_warc_record(url, kind, payload=io.BytesIO(body), length=len(body),
        warc_headers_dict={{"WARC-Date": date}}, **more))
def response(url, date, status, headers, body):
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    record(url, "response", date, body, http_headers=http)
def resource(url, date, content_type, body):
    record(url, "resource", date, body, warc_content_type=content_type)
def metadata(url, date, content_type, body):
    record(url, "metadata", date, body, warc_content_type=content_type)
def chunked(body, size):
    framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return framed + b"0\r\n\r\n"
{records}
out.close()
"#
    );
    crate::support::run_ok(
        crate::support::tool("python3")
            .args(["-c", &script])
            .arg(path),
    );
}

/// One uncompressed WARC/1.0 record written byte by byte, for what warcio would tidy up on
/// the way in (HTTP heads with bare LF line ends, folded header lines).
fn raw_record(kind: &str, url: &str, date: &str, fields: &[(&str, &str)], block: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {url}\r\nWARC-Date: {date}\r\nWARC-Record-ID: <urn:uuid:{}>\r\n",
        uuid::Uuid::new_v4()
    );
    for (name, value) in fields {
        header.push_str(&format!("{name}: {value}\r\n"));
    }
    header.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    [header.as_bytes(), block, b"\r\n\r\n"].concat()
}

/// Python's bytes literal for `bytes`.
fn py_bytes(bytes: &[u8]) -> String {
    let escaped: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
    format!("b\"{escaped}\"")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// `body` framed in chunks of `size` bytes, as it crossed the wire.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut framed = Vec::new();
    for chunk in body.chunks(size) {
        framed.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
    }
    framed.extend_from_slice(b"0\r\n\r\n");
    framed
}

const TS: &str = "20200101000000";
const DATE: &str = "2020-01-01T00:00:00Z";

#[test]
fn chunked_bodies_replay_dechunked() {
    if !crate::support::requires(&["python3", "python:warcio"]) {
        return;
    }
    let page = b"<html><body><a href=\"/next\">next</a> a chunked page</body></html>";
    // Chunk extensions, and a trailer after the last chunk.
    let mut framed_page = b"10;name=value\r\n".to_vec();
    framed_page.extend_from_slice(&page[..16]);
    framed_page.extend_from_slice(b"\r\n");
    framed_page.extend_from_slice(&chunked(&page[16..], 7));
    framed_page.truncate(framed_page.len() - 2);
    framed_page.extend_from_slice(b"Expires: never\r\n\r\n");
    let css = b"body{background:url(/bg.png)}";
    let big: Vec<u8> = (0..9u32 << 20).map(|i| (i % 251) as u8).collect();
    let te =
        |ct: &str| format!("[(\"Content-Type\", \"{ct}\"), (\"Transfer-Encoding\", \"chunked\")]");
    let records = format!(
        "response('http://example.com/page.html', '{DATE}', '200 OK', {}, {})\n\
         response('http://example.com/s.css', '{DATE}', '200 OK', [(\"Content-Type\", \"text/css\"), (\"Content-Encoding\", \"gzip\"), (\"Transfer-Encoding\", \"chunked\")], {})\n\
         response('http://example.com/broken.txt', '{DATE}', '200 OK', {}, b'zz\\r\\nnot chunked at all')\n\
         response('http://example.com/cut.txt', '{DATE}', '200 OK', {}, b'a\\r\\nabc')\n\
         big = (bytes(range(251)) * ((9 << 20) // 251 + 1))[:9 << 20]\n\
         response('http://example.com/big.bin', '{DATE}', '200 OK', {}, chunked(big, 65536))\n",
        te("text/html"),
        py_bytes(&framed_page),
        py_bytes(&chunked(&gzip(css), 5)),
        te("text/plain"),
        te("text/plain"),
        te("application/octet-stream"),
    );
    let others = OtherTools::replay(|dir| warcio_warc(&dir.join("chunked.warc.gz"), &records));

    // Rewritten and raw, the page is its de-chunked bytes; no framing, no trailer.
    let (status, headers, body) = others
        .follow(&format!("/others/{TS}/http://example.com/page.html"), 0)
        .unwrap();
    let html = String::from_utf8(body).unwrap();
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("href=\"/others/{TS}/http://example.com/next\"")),
        "{html}"
    );
    assert!(
        html.contains("a chunked page</body>") && !html.contains("Expires"),
        "{html}"
    );
    assert!(headers.contains_key("content-security-policy"));
    let (_, headers, raw) = others
        .follow(&format!("/others/{TS}id_/http://example.com/page.html"), 0)
        .unwrap();
    assert_eq!(raw, page);
    assert_eq!(headers["content-length"], page.len().to_string().as_str());
    assert!(!headers.contains_key("transfer-encoding"), "{headers:?}");

    // Chunked and gzip: de-chunked, then decoded to be rewritten; `id_` keeps the gzip.
    let (_, _, body) = others
        .follow(&format!("/others/{TS}/http://example.com/s.css"), 0)
        .unwrap();
    let rewritten = String::from_utf8(body).unwrap();
    assert!(
        rewritten.contains(&format!("/others/{TS}/http://example.com/bg.png")),
        "{rewritten}"
    );
    let (_, headers, raw) = others
        .follow(&format!("/others/{TS}id_/http://example.com/s.css"), 0)
        .unwrap();
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(gunzip(&raw), css);

    // Damaged framing is served as stored (what a cut-short chunk holds, as warcio does).
    for (url, expected) in [
        ("broken.txt", &b"zz\r\nnot chunked at all"[..]),
        ("cut.txt", b"abc"),
    ] {
        for stamp in [TS.to_string(), format!("{TS}id_")] {
            let (status, _, body) = others
                .follow(&format!("/others/{stamp}/http://example.com/{url}"), 0)
                .unwrap();
            assert_eq!((status, body.as_slice()), (200, expected), "{stamp} {url}");
        }
    }

    // Larger than replay reads into memory: de-chunked as it streams.
    for stamp in [TS.to_string(), format!("{TS}id_")] {
        let (status, _, body) = others
            .follow(&format!("/others/{stamp}/http://example.com/big.bin"), 0)
            .unwrap();
        assert_eq!(status, 200);
        assert!(
            body == big,
            "{stamp}: {} bytes, not the de-chunked payload",
            body.len()
        );
    }
}

#[test]
fn redirects_to_themselves_never_loop() {
    if !crate::support::requires(&["python3", "python:warcio"]) {
        return;
    }
    let later = "2020-01-01T00:00:05Z";
    let records = format!(
        "response('http://example.com/', '{DATE}', '301 Moved Permanently', [('Location', 'https://example.com/')], b'')\n\
         response('https://example.com/', '{DATE}', '200 OK', [('Content-Type', 'text/plain')], b'the https page')\n\
         response('http://example.org/', '{DATE}', '302 Found', [('Location', 'https://example.org/')], b'')\n\
         response('https://example.org/', '{later}', '200 OK', [('Content-Type', 'text/plain')], b'five seconds on')\n\
         response('http://example.net/a', '{DATE}', '302 Found', [('Location', '/a')], b'')\n"
    );
    let others = OtherTools::replay(|dir| warcio_warc(&dir.join("redirects.warc.gz"), &records));
    // The http capture redirects to its https twin of the same second: whichever is asked
    // for, at the exact second or not, raw or rewritten, the twin answers within a few hops.
    for url in ["http://example.com/", "https://example.com/"] {
        for stamp in [TS, "2020", "2019", &format!("{TS}id_"), "2020id_"] {
            let path = format!("/others/{stamp}/{url}");
            let (status, _, body) = others.follow(&path, 5).unwrap();
            assert_eq!(
                (status, body.as_slice()),
                (200, &b"the https page"[..]),
                "{path}"
            );
        }
    }
    // The exact URL asked for is preferred among the spellings of one SURT key.
    assert_eq!(
        others.redirect("/others/2019/https://example.com/"),
        (302, Some(format!("/others/{TS}/https://example.com/")))
    );
    // The twin five seconds on, from its redirect's second or its own.
    for url in ["http://example.org/", "https://example.org/"] {
        for stamp in [TS, "20200101000005"] {
            let path = format!("/others/{stamp}/{url}");
            let (status, _, body) = others.follow(&path, 5).unwrap();
            assert_eq!(
                (status, body.as_slice()),
                (200, &b"five seconds on"[..]),
                "{path}"
            );
        }
    }
    // Archived only as a redirect to itself: not found, rather than a loop.
    let (status, location) = others.redirect(&format!("/others/{TS}/http://example.net/a"));
    assert_eq!((status, location), (404, None));
}

#[test]
fn archived_redirects_keep_their_location() {
    if !crate::support::requires(&["python3", "python:warcio"]) {
        return;
    }
    // Every redirect status, with absolute, relative and protocol-relative Locations.
    let mut records = String::new();
    let mut expected = Vec::new();
    for status in [301, 302, 303, 307, 308] {
        for (kind, location, target) in [
            (
                "absolute",
                "https://example.org/there".to_string(),
                "https://example.org/there".to_string(),
            ),
            (
                "relative",
                format!("../to/{status}?q=1"),
                format!("http://example.com/relative/to/{status}?q=1"),
            ),
            (
                "protocol",
                "//cdn.example.com/x".to_string(),
                "http://cdn.example.com/x".to_string(),
            ),
        ] {
            let url = format!("http://example.com/{kind}/from/{status}");
            records.push_str(&format!(
                "response('{url}', '{DATE}', '{status} Moved', [('Location', '{location}')], b'')\n"
            ));
            expected.push((url, status, target));
        }
    }
    // What other tools write that warcio would tidy: written byte by byte.
    let http = [("Content-Type", "application/http; msgtype=response")];
    let empty_sha1 = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ";
    let http_empty = [http[0], ("WARC-Payload-Digest", empty_sha1)];
    let response = |url: &str, fields: &[(&str, &str)], block: &[u8]| {
        raw_record("response", url, DATE, fields, block)
    };
    let by_hand = [
        // Bare LF line ends; the body after the head must survive too.
        response(
            "http://example.com/lf",
            &http,
            b"HTTP/1.1 302 Found\nLocation: /lf-target\nContent-Type: text/html\n\n<p>moved by lf</p>",
        ),
        response(
            "http://example.com/lf-page",
            &http,
            b"HTTP/1.0 200 OK\nContent-Type: text/plain\n\nlf body",
        ),
        // A folded field, the name in capitals.
        response(
            "http://example.com/folded",
            &http,
            b"HTTP/1.1 301 Moved\r\nLOCATION:\r\n  http://example.com/unfolded\r\n\r\n",
        ),
        // Spaces and non-ASCII, and fields no HTTP library would send (a control byte, a
        // name with a space): left out, not the response.
        response(
            "http://example.com/odd",
            &http,
            "HTTP/1.1 302 Found\r\nX-Bad: a\x01b\r\nBad Name: x\r\nlocation:  /caf\u{e9} au lait \r\n\r\n"
                .as_bytes(),
        ),
        // A stranger's empty payload, listed first in the index...
        response(
            "http://stranger.ae/",
            &http_empty,
            b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n",
        ),
        // ...and a revisit without an HTTP header of an empty-bodied redirect: it answers
        // with the redirect's status and Location, not the stranger's.
        response(
            "http://example.com/revisited",
            &http_empty,
            b"HTTP/1.1 302 Found\r\nLocation: /revisited-target\r\n\r\n",
        ),
        raw_record(
            "revisit",
            "http://example.com/revisited",
            "2020-01-02T00:00:00Z",
            &[
                (
                    "WARC-Profile",
                    "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
                ),
                ("WARC-Refers-To-Target-URI", "http://example.com/revisited"),
                ("WARC-Payload-Digest", empty_sha1),
            ],
            b"",
        ),
    ]
    .concat();
    let others = OtherTools::replay(|dir| {
        warcio_warc(&dir.join("redirects.warc.gz"), &records);
        std::fs::write(dir.join("by-hand.warc"), by_hand).unwrap();
    });
    expected.extend([
        (
            "http://example.com/lf".to_string(),
            302,
            "http://example.com/lf-target".to_string(),
        ),
        (
            "http://example.com/folded".to_string(),
            301,
            "http://example.com/unfolded".to_string(),
        ),
        (
            "http://example.com/odd".to_string(),
            302,
            "http://example.com/caf%C3%A9%20au%20lait".to_string(),
        ),
    ]);
    for (url, status, target) in &expected {
        for modifier in ["", "id_"] {
            let path = format!("/others/{TS}{modifier}/{url}");
            let location = format!("/others/{TS}{modifier}/{target}");
            assert_eq!(others.redirect(&path), (*status, Some(location)), "{path}");
        }
    }
    let (status, _, body) = others
        .follow(&format!("/others/{TS}id_/http://example.com/lf"), 0)
        .unwrap();
    assert_eq!((status, body.as_slice()), (302, &b"<p>moved by lf</p>"[..]));
    let (status, headers, body) = others
        .follow(&format!("/others/{TS}/http://example.com/lf-page"), 0)
        .unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"lf body"[..]));
    assert_eq!(headers["content-type"], "text/plain");
    let (_, headers, _) = others
        .follow(&format!("/others/{TS}/http://example.com/odd"), 0)
        .unwrap();
    assert!(!headers.contains_key("x-bad"), "{headers:?}");
    for modifier in ["", "id_"] {
        let path = format!("/others/20200102000000{modifier}/http://example.com/revisited");
        let location =
            format!("/others/20200102000000{modifier}/http://example.com/revisited-target");
        assert_eq!(others.redirect(&path), (302, Some(location)), "{path}");
    }
}

#[test]
fn resource_records_serve_their_content_type() {
    if !crate::support::requires(&["python3", "python:warcio"]) {
        return;
    }
    let records = format!(
        "resource('http://example.com/notes.md', '{DATE}', 'text/markdown; charset=utf-8', b'# notes')\n\
         resource('http://example.com/page.html', '{DATE}', 'text/html', b'<a href=\"/next\">next</a>')\n"
    );
    let others = OtherTools::replay(|dir| warcio_warc(&dir.join("resources.warc.gz"), &records));
    for modifier in ["", "id_"] {
        let path = format!("/others/{TS}{modifier}/http://example.com/notes.md");
        let (status, headers, body) = others.follow(&path, 0).unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"# notes"[..]), "{path}");
        assert_eq!(
            headers["content-type"], "text/markdown; charset=utf-8",
            "{path}"
        );
        assert!(headers.contains_key("content-security-policy"), "{path}");
        let path = format!("/others/{TS}{modifier}/http://example.com/page.html");
        let (_, headers, _) = others.follow(&path, 0).unwrap();
        assert_eq!(headers["content-type"], "text/html", "{path}");
    }
    // Typed as a page, a resource is rewritten as one.
    let (_, _, body) = others
        .follow(&format!("/others/{TS}/http://example.com/page.html"), 0)
        .unwrap();
    let html = String::from_utf8(body).unwrap();
    assert!(
        html.contains(&format!("href=\"/others/{TS}/http://example.com/next\"")),
        "{html}"
    );
    let (_, _, raw) = others
        .follow(&format!("/others/{TS}id_/http://example.com/page.html"), 0)
        .unwrap();
    assert_eq!(raw, b"<a href=\"/next\">next</a>");
}

#[test]
fn records_under_other_schemes_replay_raw() {
    if !crate::support::requires(&["python3", "python:warcio"]) {
        return;
    }
    let manifest = "metadata://gnu.org/software/wget/warc/MANIFEST.txt";
    let records = format!(
        "resource('urn:pageinfo:http://example.com/', '{DATE}', 'application/json', b'{{\"url\": \"http://example.com/\"}}')\n\
         resource('dns:example.com', '{DATE}', 'text/dns', b'20200101000000\\nexample.com. 300 IN A 93.184.216.34\\n')\n\
         resource('file:///x.txt', '{DATE}', 'text/plain', b'a local file')\n\
         resource('{manifest}', '{DATE}', 'text/plain', b'<html>wget manifest</html>')\n\
         metadata('metadata://example.com/crawl-log', '{DATE}', 'text/plain', b'the log')\n\
         response('http://gnu.org/software/wget/warc/MANIFEST.txt', '{DATE}', '200 OK', [('Content-Type', 'text/plain')], b'a web page of the same SURT key')\n"
    );
    let others = OtherTools::replay(|dir| warcio_warc(&dir.join("schemes.warc.gz"), &records));
    for (url, content_type, body) in [
        (
            "urn:pageinfo:http://example.com/",
            "application/json",
            &b"{\"url\": \"http://example.com/\"}"[..],
        ),
        (
            "dns:example.com",
            "text/dns",
            b"20200101000000\nexample.com. 300 IN A 93.184.216.34\n",
        ),
        ("file:///x.txt", "text/plain", b"a local file"),
        (manifest, "text/plain", b"<html>wget manifest</html>"),
        ("metadata://example.com/crawl-log", "text/plain", b"the log"),
    ] {
        // Raw whatever the modifier: never rewritten, no banner, no link resolved.
        for modifier in ["id_", ""] {
            let path = format!("/others/{TS}{modifier}/{url}");
            let (status, headers, served) = others.follow(&path, 0).unwrap();
            assert_eq!((status, served.as_slice()), (200, body), "{path}");
            assert_eq!(headers["content-type"], content_type, "{path}");
            assert!(headers.contains_key("content-security-policy"), "{path}");
        }
        // The nearest capture, as for any URL.
        let (status, location) = others.redirect(&format!("/others/2019id_/{url}"));
        assert_eq!(
            (status, location),
            (302, Some(format!("/others/{TS}id_/{url}")))
        );
    }
    // The web page sharing the manifest's SURT key answers for the web URL only.
    let (_, _, page) = others
        .follow(
            &format!("/others/{TS}id_/http://gnu.org/software/wget/warc/MANIFEST.txt"),
            0,
        )
        .unwrap();
    assert_eq!(page, b"a web page of the same SURT key");
    // Only the index is asked: a file that exists is not one that was archived.
    assert_eq!(
        others
            .follow(&format!("/others/{TS}id_/file:///etc/passwd"), 0)
            .unwrap()
            .0,
        404
    );
    assert_eq!(
        others
            .follow(&format!("/others/{TS}id_/dns:example.org"), 0)
            .unwrap()
            .0,
        404
    );
}
