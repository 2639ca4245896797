//! `cairn archive` against the HTTPS fixture of the seed post's source: everything the article
//! needs and the related news it links to, each once with the right digest, nothing out of
//! scope, requests paired with responses, and warcio agreeing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use cairn::index::Capture;
use cairn::warc::WarcReader;
use regex::Regex;
use url::Url;

use crate::fixture::HttpsFixture;
use crate::site;
use crate::support::*;

/// Runs `cairn archive` into `archives` with the fixture's mappings.
pub fn archive(
    archives: &Path,
    fixture: &HttpsFixture,
    extra: &[&str],
    targets: &[&str],
) -> Output {
    cairn()
        .arg("--archives")
        .arg(archives)
        .arg("archive")
        .args(fixture.args())
        .args(extra)
        .args(targets)
        .output()
        .unwrap()
}

/// Runs `cairn archive` and fails the test, with cairn's stderr, if it fails.
pub fn archive_ok(
    archives: &Path,
    fixture: &HttpsFixture,
    extra: &[&str],
    targets: &[&str],
) -> Output {
    let out = archive(archives, fixture, extra, targets);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file passes `warcio check` (after the plain `zstd -d`) and `cairn verify`.
pub fn assert_valid_warcs(files: &[PathBuf]) {
    for file in files {
        let plain = file.with_extension("check.warc");
        run_ok(
            tool("zstd")
                .args(["-d", "-q", "-f"])
                .arg(file)
                .arg("-o")
                .arg(&plain),
        );
        run_ok(tool("warcio").arg("check").arg(&plain));
        run_ok(cairn().arg("verify").arg(file));
    }
}

pub fn index_entries(archives: &Path, collection: &str) -> Vec<Capture> {
    let text = fs::read_to_string(archives.join(collection).join("index.cdxj")).unwrap();
    text.lines().map(|l| Capture::parse(l).unwrap()).collect()
}

pub fn warc_files(archives: &Path, collection: &str) -> Vec<PathBuf> {
    let name = collection.parse().unwrap();
    cairn::collection::Archives::new(archives)
        .collection(&name)
        .warc_files()
        .unwrap()
}

/// The references of a document, found by a plain regular expression: an oracle independent
/// of cairn's HTML parser.
fn references(html: &str, base: &str) -> Vec<Url> {
    let attr = Regex::new(r#"(?:href|src|data-src|data-srcset)="([^"]+)""#).unwrap();
    let base = Url::parse(base).unwrap();
    attr.captures_iter(html)
        .map(|c| c[1].split_whitespace().next().unwrap_or("").to_string())
        .filter(|r| !r.starts_with("data:") && !r.starts_with('#'))
        .filter_map(|r| base.join(&r).ok())
        .collect()
}

pub fn expected_captures() -> BTreeSet<String> {
    let mut expected = BTreeSet::new();
    expected.insert(site::ARTICLE.to_string());
    for url in references(&site::article_html(), site::ARTICLE) {
        let host = url.host_str().unwrap();
        if !host.ends_with("cna.com.tw") {
            continue;
        }
        expected.insert(url.to_string());
        // Pages linked from the article bring their own requisites; their links go deeper
        // than --depth 1.
        let (_, content_type, body) = site::answer(host, &target(&url));
        if content_type.starts_with("text/html") && host == "www.cna.com.tw" {
            let html = String::from_utf8(body).unwrap();
            for inner in references(&html, url.as_str()) {
                if inner.host_str() == Some("imgcdn.cna.com.tw") {
                    expected.insert(inner.to_string());
                }
            }
        }
    }
    // What the stylesheet imports and uses.
    expected.insert("https://www.cna.com.tw/css/print.css".into());
    expected.insert("https://www.cna.com.tw/img/bg.png".into());
    expected
}

pub fn target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

#[test]
fn archives_the_article_its_requisites_and_related_news() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    let fixture = site::start().unwrap();
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress"],
        &[site::ARTICLE],
    );

    let entries = index_entries(archives.path(), "default");
    let mut captured: BTreeMap<String, Vec<&Capture>> = BTreeMap::new();
    for e in &entries {
        captured.entry(e.url.clone()).or_default().push(e);
    }
    captured.retain(|url, _| !url.ends_with("/robots.txt"));
    let expected = expected_captures();
    assert!(
        expected.len() > 40,
        "a real page: {} expected captures",
        expected.len()
    );
    let got: BTreeSet<String> = captured.keys().cloned().collect();
    assert_eq!(
        got.difference(&expected).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "captured but not expected (out of scope?)"
    );
    assert_eq!(
        expected.difference(&got).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "expected but not captured"
    );
    for (url, captures) in &captured {
        assert_eq!(captures.len(), 1, "{url} captured once");
        let parsed = Url::parse(url).unwrap();
        let (_, _, body) = site::answer(parsed.host_str().unwrap(), &target(&parsed));
        assert_eq!(
            captures[0].digest.as_deref(),
            Some(format!("sha256:{}", sha256_hex(&body)).as_str()),
            "payload digest of {url}"
        );
    }
    // Nothing beyond depth 1 was even requested.
    assert!(
        !fixture
            .requested()
            .iter()
            .any(|r| r.target.contains("deeper")),
        "depth-2 pages were fetched"
    );

    // Every response has its request, linked by WARC-Concurrent-To, for the same URL.
    let files = warc_files(archives.path(), "default");
    let mut responses = HashMap::new();
    let mut requests = HashMap::new();
    for file in &files {
        let mut reader = WarcReader::open(file).unwrap();
        while let Some(mut record) = reader.next_record().unwrap() {
            let h = record.header.clone();
            let uri = h.target_uri().unwrap_or("").to_string();
            match h.get("WARC-Type") {
                Some("response") | Some("revisit") => {
                    responses.insert(h.get("WARC-Record-ID").unwrap().to_string(), uri);
                }
                Some("request") => {
                    let mut block = String::new();
                    record.block().read_to_string(&mut block).unwrap();
                    assert!(block.starts_with("GET "), "{block}");
                    requests.insert(h.get("WARC-Concurrent-To").unwrap().to_string(), uri);
                }
                _ => {}
            }
        }
    }
    assert_eq!(responses.len(), requests.len());
    // The request record holds the headers as the server received them.
    let (_, record) = find_record(&files, "request", site::ARTICLE);
    let record = String::from_utf8(record).unwrap();
    let received = fixture
        .requested()
        .into_iter()
        .find(|r| r.target == "/news/aopl/202303220008.aspx")
        .unwrap();
    assert_eq!(record, received.head);
    for (id, uri) in &responses {
        assert_eq!(requests.get(id), Some(uri), "request for {uri}");
    }
    assert_valid_warcs(&files);

    let pages = fs::read_to_string(archives.path().join("default/pages.jsonl")).unwrap();
    let article = pages.lines().find(|l| l.contains("202303220008")).unwrap();
    assert!(
        article.contains("習蒲強調通過和談解決烏克蘭危機"),
        "{article}"
    );
}

/// The hard cases, on a host of their own.
fn edge_answer(target: &str) -> Vec<crate::fixture::Step> {
    use crate::fixture::{Step, jpeg, response, response_with};
    let html = |body: &str| response("200 OK", "text/html", body.as_bytes());
    let send = |bytes: Vec<u8>| vec![Step::Send(bytes)];
    match target {
        "/" => send(html(
            r#"<html><head><title>edge</title></head><body>
            <a href="/big5">big5</a><a href="/r1">redirects</a><a href="/gz">gzip</a>
            <a href="/chunked">chunked</a><a href="/malformed">malformed</a>
            <a href="/calendar?m=0">calendar</a><a href="/huge.bin">huge</a>
            <img src="/slow.jpg"><img src="/img/missing.jpg">
            <img src="/dup/a.jpg"><img src="/dup/b.jpg"></body></html>"#,
        )),
        "/big5" => {
            let page = "<html><head><meta charset=\"big5\"><title>中央社新聞</title></head><body><a href=\"/news/中文.aspx\">中文</a></body></html>";
            let (bytes, _, _) = encoding_rs::BIG5.encode(page);
            send(response("200 OK", "text/html", &bytes))
        }
        "/r1" => send(response_with(
            "301 Moved Permanently",
            &[("Location", "/r2")],
            b"",
        )),
        "/r2" => send(response_with(
            "302 Found",
            &[("Location", "https://edge.example.com/r3")],
            b"",
        )),
        "/r3" => send(html(
            "<html><body><img src=\"/img/after-redirect.jpg\"></body></html>",
        )),
        "/gz" => {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(b"<html><body><img src=\"/img/from-gzip.jpg\"></body></html>")
                .unwrap();
            let body = gz.finish().unwrap();
            send(response_with(
                "200 OK",
                &[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                &body,
            ))
        }
        "/chunked" => {
            let body = "<html><body><img src=\"/img/from-chunked.jpg\"></body></html>";
            let (a, b) = body.split_at(20);
            send(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                    a.len(),
                    b.len()
                )
                .into_bytes(),
            )
        }
        "/malformed" => send(html(
            "<html><body><div><p>unclosed <b><i>misnested</b></i><table><td><img src=/img/from-malformed.jpg alt=x<tr></div></span>",
        )),
        "/slow.jpg" => vec![
            Step::Pause(std::time::Duration::from_millis(1500)),
            Step::Send(response("200 OK", "image/jpeg", &jpeg("slow"))),
        ],
        "/huge.bin" => send(response(
            "200 OK",
            "application/octet-stream",
            &vec![b'z'; 300_000],
        )),
        "/img/missing.jpg" => send(response("404 Not Found", "text/html", b"gone")),
        "/dup/a.jpg" | "/dup/b.jpg" => {
            send(response("200 OK", "image/jpeg", &jpeg("the same photo")))
        }
        t if t.starts_with("/calendar?m=") => {
            let m: u64 = t["/calendar?m=".len()..].parse().unwrap_or(0);
            send(html(&format!(
                "<html><body><a href=\"/calendar?m={}\">next</a><a href=\"/calendar?m={}\">prev</a></body></html>",
                m + 1,
                m.saturating_sub(1)
            )))
        }
        t if t.starts_with("/img/") || t.starts_with("/news/") => {
            if t.ends_with(".jpg") {
                send(response("200 OK", "image/jpeg", &jpeg(t)))
            } else {
                send(html("<html><head><title>news</title></head></html>"))
            }
        }
        _ => send(response("404 Not Found", "text/plain", b"none")),
    }
}

/// The header and block of the first record of `kind` for `url`.
pub fn find_record(files: &[PathBuf], kind: &str, url: &str) -> (cairn::warc::Header, Vec<u8>) {
    for file in files {
        let mut reader = WarcReader::open(file).unwrap();
        while let Some(mut record) = reader.next_record().unwrap() {
            if record.header.get("WARC-Type") == Some(kind)
                && record.header.target_uri() == Some(url)
            {
                let mut block = Vec::new();
                record.block().read_to_end(&mut block).unwrap();
                return (record.header.clone(), block);
            }
        }
    }
    panic!("no {kind} record for {url}");
}

#[test]
fn hard_cases_are_archived_as_received() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    let handler: crate::fixture::Handler =
        std::sync::Arc::new(|req: &crate::fixture::Request| edge_answer(&req.target));
    let fixture = HttpsFixture::start(&["edge.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &[
            "--no-progress",
            "--depth",
            "500",
            "--max-resource-size",
            "100000",
            "--timeout",
            "10",
        ],
        &["https://edge.example.com/"],
    );
    let entries = index_entries(archives.path(), "default");
    let by_url: HashMap<&str, &Capture> = entries.iter().map(|e| (e.url.as_str(), e)).collect();
    let status = |url: &str| {
        by_url
            .get(url)
            .unwrap_or_else(|| panic!("{url} not captured"))
            .status
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let e = |path: &str| format!("https://edge.example.com{path}");

    // Big5: the title decodes and the Chinese link is followed.
    let pages = fs::read_to_string(archives.path().join("default/pages.jsonl")).unwrap();
    assert!(pages.contains("\"title\":\"中央社新聞\""), "{pages}");
    assert_eq!(status(&e("/news/%E4%B8%AD%E6%96%87.aspx")), "200");
    // Each redirect hop is its own capture, and the chain adds no depth.
    assert_eq!(status(&e("/r1")), "301");
    assert_eq!(status(&e("/r2")), "302");
    assert_eq!(status(&e("/r3")), "200");
    assert_eq!(status(&e("/img/after-redirect.jpg")), "200");
    // The same payload twice: the second is a revisit naming the first; empty payloads (the
    // redirects) are never de-duplicated.
    let a = by_url[e("/dup/a.jpg").as_str()];
    let b = by_url[e("/dup/b.jpg").as_str()];
    let mimes = [a.mime.as_deref(), b.mime.as_deref()];
    assert!(
        mimes.contains(&Some("warc/revisit")) && mimes.contains(&Some("image/jpeg")),
        "{mimes:?}"
    );
    assert_eq!(a.digest, b.digest);
    for redirect in ["/r1", "/r2"] {
        assert_ne!(
            by_url[e(redirect).as_str()].mime.as_deref(),
            Some("warc/revisit")
        );
    }
    // Error responses are evidence too.
    assert_eq!(status(&e("/img/missing.jpg")), "404");
    // Slow and malformed still come in.
    assert_eq!(status(&e("/slow.jpg")), "200");
    assert_eq!(status(&e("/img/from-malformed.jpg")), "200");

    // The Big5 page's offline copy keeps its charset, its link rewritten to a local file.
    let big5 = fs::read(
        archives
            .path()
            .join("default/offline/edge.example.com/big5.html"),
    )
    .unwrap();
    let (text, _, bad) = encoding_rs::BIG5.decode(&big5);
    assert!(!bad && text.contains("<title>中央社新聞</title>"), "{text}");
    assert!(
        text.contains("href=\"news/中文.aspx.html\"")
            || text.contains("href=\"news/%E4%B8%AD%E6%96%87.aspx.html\""),
        "{text}"
    );

    let files = warc_files(archives.path(), "default");
    // gzip stays gzip: the stored payload is the compressed bytes, links still found.
    let (_, block) = find_record(&files, "response", &e("/gz"));
    let text = String::from_utf8_lossy(&block);
    assert!(
        text.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{text}"
    );
    let payload = &block[block.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(&payload[..2], &[0x1f, 0x8b]);
    assert_eq!(status(&e("/img/from-gzip.jpg")), "200");
    // Chunked is stored de-chunked, its Transfer-Encoding renamed.
    let (_, block) = find_record(&files, "response", &e("/chunked"));
    let text = String::from_utf8_lossy(&block).to_ascii_lowercase();
    assert!(text.contains("x-orig-transfer-encoding: chunked"), "{text}");
    assert!(!text.contains("\r\ntransfer-encoding"), "{text}");
    assert!(
        text.ends_with("<html><body><img src=\"/img/from-chunked.jpg\"></body></html>"),
        "{text}"
    );
    assert_eq!(status(&e("/img/from-chunked.jpg")), "200");
    // Over the size limit: kept up to the limit and marked.
    let (header, block) = find_record(&files, "response", &e("/huge.bin"));
    assert_eq!(header.get("WARC-Truncated"), Some("length"));
    let payload_len = block.len() - (block.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4);
    assert_eq!(payload_len, 100_000);
    // The calendar trap is bounded.
    let calendar = entries
        .iter()
        .filter(|e| e.url.contains("/calendar"))
        .count();
    assert!((50..=101).contains(&calendar), "{calendar} calendar pages");

    assert_valid_warcs(&files);
}

#[test]
fn bad_targets_end_with_one_line_and_no_unclosed_warc() {
    let archives = tempfile::tempdir().unwrap();
    for (target, message) in [
        ("not a url", "is not a URL"),
        ("ftp://ftp.example.com/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("https://", "is not a URL"),
    ] {
        let out = cairn()
            .arg("--archives")
            .arg(archives.path())
            .args(["archive", target])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{target}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{target}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{target}: {stderr}"
        );
        assert!(
            !archives.path().join("default/warc").exists(),
            "{target} wrote nothing"
        );
    }
    // An unreachable host: the crawl runs, fails, and says so; what it wrote is whole.
    let out = cairn()
        .arg("--archives")
        .arg(archives.path())
        .args([
            "archive",
            "--no-progress",
            "--timeout",
            "3",
            "--connect-to",
            "www.cna.com.tw:443:127.0.0.1:9",
        ])
        .arg(site::ARTICLE)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: could not archive https://www.cna.com.tw/"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    for entry in fs::read_dir(archives.path().join("default/warc")).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            !path.to_string_lossy().ends_with(".open"),
            "left open: {path:?}"
        );
        run_ok(cairn().arg("verify").arg(&path));
    }
}

/// A site that sets a cookie, keeps a path from robots, fails once with 503, and counts time.
fn manners_answer(
    target: &str,
    flaky: &std::sync::atomic::AtomicUsize,
) -> Vec<crate::fixture::Step> {
    use crate::fixture::{Step, response, response_with};
    let html = |body: &str| vec![Step::Send(response("200 OK", "text/html", body.as_bytes()))];
    match target {
        "/robots.txt" => vec![Step::Send(response(
            "200 OK",
            "text/plain",
            b"User-agent: *\nDisallow: /private/\n",
        ))],
        "/" => vec![Step::Send(response_with(
            "200 OK",
            &[("Content-Type", "text/html"), ("Set-Cookie", "session=abc123; Path=/")],
            b"<a href=/a>a</a><a href=/b>b</a><a href=/c>c</a><a href=/private/secret>p</a><a href=/flaky>f</a>",
        ))],
        "/flaky" => {
            if flaky.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                vec![Step::Send(response("503 Service Unavailable", "text/plain", b"busy"))]
            } else {
                html("<title>flaky</title>")
            }
        }
        _ => html("<title>page</title>"),
    }
}

#[test]
fn cookies_robots_retries_politeness_and_reporting() {
    let flaky = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = flaky.clone();
    let handler: crate::fixture::Handler =
        std::sync::Arc::new(move |req: &crate::fixture::Request| {
            manners_answer(&req.target, &counter)
        });
    let fixture = HttpsFixture::start(&["polite.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    let out = archive_ok(
        archives.path(),
        &fixture,
        &["--delay", "150", "--json"],
        &["https://polite.example.com/"],
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(summary["pages"], 5, "{summary}");
    assert_eq!(summary["failed_targets"].as_array().unwrap().len(), 0);

    let requests = fixture.requested();
    // The cookie set by the first page goes back with later requests.
    let later = requests.iter().find(|r| r.target == "/a").unwrap();
    assert!(
        later.head.contains("Cookie: session=abc123"),
        "{}",
        later.head
    );
    // robots.txt is fetched, archived and obeyed.
    assert!(!requests.iter().any(|r| r.target.starts_with("/private/")));
    let entries = index_entries(archives.path(), "default");
    assert!(entries.iter().any(|e| e.url.ends_with("/robots.txt")));
    // The 503 was retried and the page came in.
    let flaky_entry = entries.iter().find(|e| e.url.ends_with("/flaky")).unwrap();
    assert_eq!(flaky_entry.status, Some(200));
    // --delay spaces requests to one host.
    let mut times: Vec<_> = requests.iter().map(|r| r.at).collect();
    times.sort();
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= std::time::Duration::from_millis(140),
            "requests {gap:?} apart"
        );
    }

    // Without a terminal and without --json, each fetch is a plain log line.
    let again = tempfile::tempdir().unwrap();
    let out = archive(
        again.path(),
        &fixture,
        &["--robots", "ignore"],
        &["https://polite.example.com/"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("200 https://polite.example.com/a"),
        "{stderr}"
    );
    assert!(stderr.contains("archived 6 pages"), "{stderr}");
}

/// A host that answers 503 is retried after a backoff that holds none of the crawl's
/// `--concurrency` slots: with one slot, the other host's pages come in between the
/// attempts, where before they waited for all three.
#[test]
fn a_host_backing_off_holds_no_slot_of_the_crawl() {
    use crate::fixture::{Step, response};
    let front: String = std::iter::once("<img src=https://busy.example.com/busy.jpg>".to_string())
        .chain((0..8).map(|n| format!("<a href=/p{n}>{n}</a>")))
        .collect();
    let handler: crate::fixture::Handler =
        std::sync::Arc::new(move |req: &crate::fixture::Request| {
            let (status, body) = match req.target.as_str() {
                "/busy.jpg" => ("503 Service Unavailable", "busy"),
                "/" => ("200 OK", front.as_str()),
                _ => ("200 OK", "<title>page</title>"),
            };
            vec![Step::Send(response(status, "text/html", body.as_bytes()))]
        });
    let fixture = HttpsFixture::start(&["calm.example.com", "busy.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--robots", "ignore", "--concurrency", "1"],
        &["https://calm.example.com/"],
    );

    let requests = fixture.requested();
    let busy: Vec<_> = requests
        .iter()
        .filter(|r| r.target == "/busy.jpg")
        .collect();
    assert_eq!(busy.len(), 3, "the first attempt and two retries");
    // At most three pages are queued beside the image (four fetches in flight for one
    // slot), so the others can only start after its first attempt.
    let between = requests
        .iter()
        .filter(|r| r.target.starts_with("/p") && busy[0].at < r.at && r.at < busy[1].at)
        .count();
    assert!(
        between > 0,
        "no page came in while the busy host backed off: {:?}",
        requests.iter().map(|r| &r.target).collect::<Vec<_>>()
    );
    // The last 503 is kept, as evidence of what the host answered.
    let entries = index_entries(archives.path(), "default");
    let kept = entries
        .iter()
        .find(|e| e.url.ends_with("/busy.jpg"))
        .unwrap();
    assert_eq!(kept.status, Some(503));
}

/// A page with ten photos of a realistic size, the same on every visit.
fn photo_page(target: &str) -> Vec<crate::fixture::Step> {
    use crate::fixture::{Step, response};
    let photo = |n: u32| crate::support::noise(u64::from(n), 60_000);
    match target {
        "/" => {
            let imgs: String = (0..10)
                .map(|n| format!("<img src=\"/photo{n}.jpg\">"))
                .collect();
            let text = "<p>unchanged text</p>".repeat(1500);
            vec![Step::Send(response(
                "200 OK",
                "text/html",
                format!("<html><body>{imgs}{text}</body></html>").as_bytes(),
            ))]
        }
        t if t.starts_with("/photo") => {
            let n: u32 = t
                .trim_start_matches("/photo")
                .trim_end_matches(".jpg")
                .parse()
                .unwrap_or(0);
            vec![Step::Send(response("200 OK", "image/jpeg", &photo(n)))]
        }
        _ => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
    }
}

#[test]
fn a_recrawl_of_unchanged_content_writes_revisits_only() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    let handler: crate::fixture::Handler =
        std::sync::Arc::new(|req: &crate::fixture::Request| photo_page(&req.target));
    let fixture = HttpsFixture::start(&["photos.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress"],
        &["https://photos.example.com/"],
    );
    let first = warc_files(archives.path(), "default");
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress"],
        &["https://photos.example.com/"],
    );
    let all = warc_files(archives.path(), "default");
    let second: Vec<PathBuf> = all.into_iter().filter(|f| !first.contains(f)).collect();
    assert_eq!((first.len(), second.len()), (1, 1));

    let size = |f: &PathBuf| fs::metadata(f).unwrap().len();
    let (a, b) = (size(&first[0]), size(&second[0]));
    assert!(b * 10 < a, "second crawl wrote {b} bytes, the first {a}");
    // The originals, by record ID: their target URI and date as written.
    let mut originals = std::collections::HashMap::new();
    let mut reader = WarcReader::open(&first[0]).unwrap();
    while let Some(record) = reader.next_record().unwrap() {
        if record.header.get("WARC-Type") == Some("response") {
            let field = |name| record.header.get(name).unwrap().to_string();
            let date = field("WARC-Date");
            assert_eq!(date.len(), "2026-01-01T00:00:00.000000Z".len(), "{date}");
            originals.insert(field("WARC-Record-ID"), (field("WARC-Target-URI"), date));
        }
    }
    let mut reader = WarcReader::open(&second[0]).unwrap();
    let mut revisits = 0;
    while let Some(record) = reader.next_record().unwrap() {
        let kind = record.header.get("WARC-Type").unwrap().to_string();
        let uri = record.header.target_uri().unwrap_or("").to_string();
        // Empty payloads (the 404 robots.txt) are never de-duplicated.
        let empty = record.header.get("WARC-Payload-Digest")
            == Some(&format!("sha256:{}", sha256_hex(b""))[..]);
        assert!(kind != "response" || empty, "{uri} stored again");
        if kind == "revisit" {
            // A cross-crawl revisit names its original exactly: the record ID, and the
            // target URI and date a reader looks the original up by.
            let refers_to = record.header.get("WARC-Refers-To").expect("WARC-Refers-To");
            let (target, date) = originals.get(refers_to).expect("an original's record ID");
            let field = |name| record.header.get(name).map(str::to_string);
            assert_eq!(field("WARC-Refers-To-Target-URI").as_ref(), Some(target));
            assert_eq!(field("WARC-Refers-To-Date").as_ref(), Some(date));
            revisits += 1;
        }
    }
    assert_eq!(revisits, 11, "the page and its ten photos");
    assert_valid_warcs(&second);
}
