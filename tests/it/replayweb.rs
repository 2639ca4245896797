//! ReplayWeb.page itself opens the package `cairn export --wacz` writes of the seed article
//! (issue 16): its built files, as `scripts/test` unpacks them from npm, and the package served
//! from 127.0.0.1 as any static host serves them (byte ranges: wabac.js reads the zip by
//! ranges), opened in Debian's headless Chromium. The archived article must show its headline
//! with every image decoded, and no request may leave 127.0.0.1. The screenshot,
//! `target/test-artifacts/replayweb-article.png`, is kept for the README.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::archive::archive_ok;
use crate::browser::artifacts;
use crate::site;
use crate::support::{requires, run_ok, tool};
use crate::wacz::export_wacz;

/// Where `scripts/test` unpacks the pinned ReplayWeb.page package.
fn replaywebpage() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/replaywebpage")
}

/// A file the host serves: its path, content type and bytes.
type File = (&'static str, &'static str, Vec<u8>);

/// One request the host saw: method, request target, `Range` header, status answered.
#[derive(Debug, Clone)]
struct Hit {
    method: String,
    target: String,
    range: Option<String>,
    status: u16,
}

/// A static host on 127.0.0.1: GET and HEAD by path (the query ignored), byte ranges answered
/// `206` with `Content-Range`. Chromium's proxy points here too (loopback itself is never
/// proxied), so a request in proxy form or a `CONNECT` is one that tried to leave 127.0.0.1:
/// it is recorded and refused. Stopped on drop.
struct StaticHost {
    port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
}

impl StaticHost {
    fn start(files: Vec<File>) -> StaticHost {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopping, files) = (hits.clone(), stop.clone(), Arc::new(files));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (log, files) = (log.clone(), files.clone());
                std::thread::spawn(move || serve_static(conn, &files, &log));
            }
        });
        StaticHost { port, hits, stop }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for StaticHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Answers the requests of one connection (kept alive, as a browser expects of a host).
fn serve_static(conn: TcpStream, files: &[File], log: &Mutex<Vec<Hit>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut range = None;
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("range")
            {
                range = Some(value.trim().to_string());
            }
            line.clear();
        }
        let mut words = request_line.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let (status, head, body) = answer(method, target, range.as_deref(), files);
        log.lock().unwrap().push(Hit {
            method: method.to_string(),
            target: target.to_string(),
            range,
            status,
        });
        let sent = conn.write_all(head.as_bytes()).and_then(|()| {
            if method == "HEAD" {
                Ok(())
            } else {
                conn.write_all(body)
            }
        });
        if sent.is_err() || head.contains("Connection: close") {
            return;
        }
    }
}

/// Status, head and body for one request.
fn answer<'a>(
    method: &str,
    target: &str,
    range: Option<&str>,
    files: &'a [File],
) -> (u16, String, &'a [u8]) {
    let refuse = |status: u16, reason: &str| {
        let head =
            format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        (status, head, &b""[..])
    };
    // Proxy form (`GET http://host/`) or a tunnel (`CONNECT host:443`): leaving 127.0.0.1.
    if !target.starts_with('/') || method == "CONNECT" {
        return refuse(403, "Forbidden");
    }
    if method != "GET" && method != "HEAD" {
        return refuse(405, "Method Not Allowed");
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let path = if path == "/" { "/index.html" } else { path };
    let Some((_, content_type, bytes)) = files.iter().find(|(p, _, _)| *p == path) else {
        return refuse(404, "Not Found");
    };
    let len = bytes.len();
    let (status, reason, start, end) = match range.map_or(Part::Whole, |r| byte_range(r, len)) {
        Part::Whole => (200, "OK", 0, len),
        Part::Bytes(start, end) => (206, "Partial Content", start, end),
        Part::Unsatisfiable => {
            let head = [
                "HTTP/1.1 416 Range Not Satisfiable",
                &format!("Content-Range: bytes */{len}"),
                "Content-Length: 0\r\n\r\n",
            ];
            return (416, head.join("\r\n"), &b""[..]);
        }
    };
    let mut head = vec![
        format!("HTTP/1.1 {status} {reason}"),
        format!("Content-Type: {content_type}"),
        format!("Content-Length: {}", end - start),
        "Accept-Ranges: bytes".to_string(),
        "Cache-Control: no-store".to_string(),
    ];
    if status == 206 {
        head.push(format!("Content-Range: bytes {start}-{}/{len}", end - 1));
    }
    head.push("\r\n".to_string());
    (status, head.join("\r\n"), &bytes[start..end])
}

/// What a `Range` header asks of a file.
enum Part {
    /// The whole file, `200`: no range, or one this host does not take (several ranges, another
    /// unit), which RFC 9110 allows a server to ignore.
    Whole,
    /// Bytes `start..end`, `206`.
    Bytes(usize, usize),
    /// Nothing of the file, `416`.
    Unsatisfiable,
}

/// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range of a `len`-byte file.
fn byte_range(header: &str, len: usize) -> Part {
    let Some((first, last)) = header
        .strip_prefix("bytes=")
        .filter(|spec| !spec.contains(','))
        .and_then(|spec| spec.split_once('-'))
    else {
        return Part::Whole;
    };
    let number = |s: &str| s.trim().parse::<usize>().ok();
    let (start, end) = match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            Some(n) => (len.saturating_sub(n), len),
            None => return Part::Whole,
        },
        (first, last) => match (number(first), last) {
            (Some(start), "") => (start, len),
            (Some(start), last) => match number(last) {
                Some(last) => (start, (last + 1).min(len)),
                None => return Part::Whole,
            },
            (None, _) => return Part::Whole,
        },
    };
    if start >= end {
        return Part::Unsatisfiable;
    }
    Part::Bytes(start, end)
}

#[test]
fn the_static_host_answers_ranges_as_wabac_js_asks_them() {
    let part = |header: &str| match byte_range(header, 100) {
        Part::Whole => "whole".to_string(),
        Part::Bytes(start, end) => format!("{start}..{end}"),
        Part::Unsatisfiable => "416".to_string(),
    };
    assert_eq!(part("bytes=0-9"), "0..10");
    assert_eq!(part("bytes=90-"), "90..100");
    assert_eq!(part("bytes=95-200"), "95..100");
    // The zip's end, asked for with more than the file holds, as wabac.js does first.
    assert_eq!(part("bytes=-65558"), "0..100");
    assert_eq!(part("bytes=-10"), "90..100");
    assert_eq!(part("bytes=100-"), "416");
    assert_eq!(part("bytes=0-1,5-6"), "whole");
    assert_eq!(part("items=0-1"), "whole");
}

#[test]
fn replaywebpage_shows_the_article_from_cairn_s_package_with_every_image_and_no_network() {
    if !requires(&["chromium", "python3", "python:websockets", "replaywebpage"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("archives");
    {
        let fixture = site::start().unwrap();
        archive_ok(&archives, &fixture, &["--no-progress"], &[site::ARTICLE]);
    }
    let package = dir.path().join("article.wacz");
    run_ok(export_wacz(&archives, &package).arg(site::ARTICLE));
    // The capture the package names as its main page, at its 14-digit time.
    let manifest: serde_json::Value =
        serde_json::from_slice(&crate::wacz::entries(&package)["datapackage.json"].0).unwrap();
    assert_eq!(manifest["mainPageUrl"], site::ARTICLE);
    let ts: String = manifest["mainPageDate"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    assert_eq!(ts.len(), 14, "{}", manifest["mainPageDate"]);

    let app = replaywebpage();
    let read = |name: &str| std::fs::read(app.join(name)).unwrap();
    let host = StaticHost::start(vec![
        (
            "/index.html",
            "text/html; charset=utf-8",
            read("index.html"),
        ),
        ("/ui.js", "application/javascript", read("ui.js")),
        ("/sw.js", "application/javascript", read("sw.js")),
        (
            "/article.wacz",
            "application/octet-stream",
            std::fs::read(&package).unwrap(),
        ),
    ]);
    // ReplayWeb.page's own link form: the archive in `source`, the page and time in the hash.
    let url = format!(
        "{origin}/?source={wacz}#{hash}",
        origin = host.origin(),
        wacz = urlencoded(&format!("{}/article.wacz", host.origin())),
        hash = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("view", "replay")
            .append_pair("url", site::ARTICLE)
            .append_pair("ts", &ts)
            .finish(),
    );
    let headline = "習蒲強調通過和談解決烏克蘭危機 會談似未有突破";
    assert!(site::article_html().contains(&format!("<h1>{headline}</h1>")));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/replayweb_check.py");
    let out = run_within(
        tool("python3")
            .arg(script)
            .arg(&url)
            .arg(artifacts().join("replayweb-article.png"))
            .args(["--proxy", &host.port.to_string(), "--text", headline])
            .args(["--timeout", "60"]),
        Duration::from_secs(120),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = host.hits();
    let summary = || {
        format!(
            "console: {:#}\nfailed: {:#}\nstate: {:#}\nhost saw: {hits:#?}",
            report["console"], report["failed"], report["state"]
        )
    };

    // The archived article, in ReplayWeb.page's replay frame, with its headline.
    assert_eq!(
        report["timed_out"],
        false,
        "ReplayWeb.page did not show the article's headline with its images loaded within 60 s\n{}",
        summary()
    );
    let doc = &report["state"]["doc"];
    let frame = doc["url"].as_str().unwrap();
    assert!(
        frame.starts_with(&format!("{}/w/", host.origin())) && frame.ends_with(site::ARTICLE),
        "replay frame at {frame}"
    );
    assert!(frame.contains(&ts), "{frame} is not the capture at {ts}");
    assert_eq!(doc["textFound"], true);
    assert!(
        doc["title"].as_str().unwrap().starts_with(headline),
        "{}",
        doc["title"]
    );

    // Every image decoded, but for the page's own placeholder of a lazy image (a data: URL
    // that decodes nowhere, the real image in data-src): the article's script swaps in none,
    // so it showed no differently live. What a lazy loader would ask for instead, asked for
    // in the replay frame, decodes from the package.
    let images = doc["images"].as_array().unwrap();
    let article = site::article_html();
    let placeholder = |i: &serde_json::Value| {
        let src = i["src"].as_str().unwrap_or("");
        src.starts_with("data:")
            && i["dataSrc"].is_string()
            && article.contains(&format!(" src=\"{src}\""))
    };
    let decoded = |i: &serde_json::Value, src: &str| {
        i[src]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("{}/w/", host.origin()))
            && i["naturalWidth"].as_u64().unwrap_or(0) > 0
            && i["complete"] != false
    };
    let broken: Vec<&serde_json::Value> = images
        .iter()
        .filter(|i| !placeholder(i) && !decoded(i, "src"))
        .collect();
    assert!(
        broken.is_empty(),
        "images not decoded: {broken:#?}\n{}",
        summary()
    );
    let lazy = report["state"]["lazy"].as_array().unwrap();
    let lazy_broken: Vec<&serde_json::Value> = lazy.iter().filter(|i| !decoded(i, "src")).collect();
    assert!(
        lazy_broken.is_empty(),
        "lazy images not decoded: {lazy_broken:#?}\n{}",
        summary()
    );
    for image in article_image_urls() {
        let shown = images
            .iter()
            .any(|i| decoded(i, "src") && i["src"].as_str().unwrap().ends_with(&image));
        let lazily = lazy.iter().any(|i| {
            i["dataSrc"] == image.as_str() && i["src"].as_str().unwrap().ends_with(&image)
        });
        assert!(
            shown || lazily,
            "{image} is not shown from the package: {images:#?}\nlazy: {lazy:#?}"
        );
    }

    // Nothing left 127.0.0.1: not the page, its frames or its workers (as DevTools saw
    // them), nor any other part of the browser (as the proxy saw them), but for the few
    // Google hosts Debian's Chromium calls at start-up whatever its flags.
    let left: Vec<&str> = report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .filter(|u| {
            !(u.starts_with(&format!("{}/", host.origin()))
                || u.starts_with("data:")
                || u.starts_with("blob:")
                || u.starts_with("about:"))
        })
        .collect();
    assert!(left.is_empty(), "requests beyond 127.0.0.1: {left:#?}");
    let proxied: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.method == "CONNECT" || !h.target.starts_with('/'))
        .filter(|h| !chromium_start_up_call(&h.target))
        .collect();
    assert!(
        proxied.is_empty(),
        "requests beyond 127.0.0.1: {proxied:#?}"
    );

    // wabac.js read the package by ranges, as from any static host.
    assert!(
        hits.iter()
            .any(|h| h.target == "/article.wacz" && h.status == 206 && h.range.is_some()),
        "{hits:#?}"
    );
}

/// Runs a command to its end, as [`run_ok`] does, but kills it after `limit`: the script bounds
/// its own wait for the page, this bounds the rest (a browser that hangs).
fn run_within(cmd: &mut std::process::Command, limit: Duration) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} still ran after {limit:?}, killed; stderr: {}",
                String::from_utf8_lossy(&std::fs::read(&err_path).unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = std::process::Output {
        status,
        stdout: std::fs::read(out_path).unwrap(),
        stderr: std::fs::read(err_path).unwrap(),
    };
    crate::support::assert_succeeded(cmd, out)
}

/// The images on imgcdn.cna.com.tw the article's `<img>` elements name, in `src` or, for a
/// lazy one, in `data-src`.
fn article_image_urls() -> BTreeSet<String> {
    let html = site::article_html();
    let pattern =
        regex::Regex::new(r#"<img[^>]*\s(?:data-)?src="(https://imgcdn\.cna\.com\.tw/[^"]+)""#)
            .unwrap();
    let urls: BTreeSet<String> = pattern
        .captures_iter(&html)
        .map(|c| c[1].to_string())
        .collect();
    assert!(urls.len() >= 17, "{urls:?}");
    urls
}

/// A call Debian's Chromium makes for itself whatever its flags (design notes): its clock,
/// updates, sign-in, autofill and optimisation hints, by exact host name (a page's own request
/// for any other Google host still counts).
fn chromium_start_up_call(target: &str) -> bool {
    let host = target
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split([':', '/'])
        .next()
        .unwrap_or("");
    [
        "accounts.google.com",
        "clients2.google.com",
        "content-autofill.googleapis.com",
        "optimizationguide-pa.googleapis.com",
        "update.googleapis.com",
    ]
    .contains(&host)
}

fn urlencoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
