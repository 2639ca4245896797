//! Markup that hides references from a rewriter: forms, SVG links, `iframe srcdoc`, refresh
//! without `url=`, `<base>`, connection hints, pings, legacy plugins, `cite`, CSS imports and
//! image sets. A hostile page holding all of them, each pointing at a stand-in live server on
//! 127.0.0.1, is archived, then replayed and exported: no rewritten reference names the live
//! server, and Chromium, opening the replayed page, sends it nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::{archive, index_entries};
use crate::fixture::{Handler, HttpsFixture, Step, response};
use crate::replay::ReplayServer;
use crate::support::{TestServer, cairn, requires, run_ok, tool};

const PAGE: &str = "https://hostile.example/";

/// The hostile page, every reference at `live` (`127.0.0.1:PORT`). Paths starting `/click-`
/// are links a reader clicks, which the offline copy may leave live when not archived.
fn hostile_page(live: &str) -> String {
    r##"<!DOCTYPE html><html><head><base href="http://LIVE/base/">
<meta http-equiv="refresh" content="5; http://LIVE/refresh">
<link rel=dns-prefetch href="//LIVE"><link rel=preconnect href="http://LIVE/">
<link rel=prefetch href="http://LIVE/prefetch"><link rel=prerender href="http://LIVE/prerender">
<link rel=preload as=image href="http://LIVE/preload.png"><link rel=modulepreload href="http://LIVE/m.js">
<style>@import "http://LIVE/i.css"; @import url(http://LIVE/j.css);
b{background:image-set("http://LIVE/s1.png" 1x)} i{background:-webkit-image-set(url(http://LIVE/s2.png) 1x)}</style>
</head><body background="http://LIVE/body.png"><p>hostile</p>
<form action="http://LIVE/post"><button formaction="http://LIVE/button">b</button>
<input type=image src="http://LIVE/input.png" formaction="http://LIVE/input"></form>
<a href="http://LIVE/click-a" ping="http://LIVE/ping">a</a>
<map name=m><area href="http://LIVE/click-area" ping="http://LIVE/area-ping"></map>
<img src="relative.png" usemap="#m">
<svg><a xlink:href="http://LIVE/click-svg-xlink"><text>x</text></a><a href="http://LIVE/click-svg-a"><text>y</text></a>
<image href="http://LIVE/image.png"/><image xlink:href="http://LIVE/ximage.png"/>
<use href="http://LIVE/sprite.svg#i"/><script href="http://LIVE/svg.js"></script>
<style>@import "http://LIVE/svg.css"; rect{fill:url(http://LIVE/fill.svg#g)}</style></svg>
<iframe srcdoc="<a target=_top href='http://LIVE/click-top'>t</a><img src=&quot;http://LIVE/in-srcdoc.png&quot;><iframe srcdoc='<img src=http://LIVE/deep.png>'></iframe>"></iframe>
<iframe src="data:text/html,<img src=http://LIVE/data-iframe.png><script>fetch('http://LIVE/data-fetch')</script>"></iframe>
<object data="http://LIVE/o.svg" codebase="http://LIVE/ocb/"><param name=movie value="http://LIVE/movie.swf"></object>
<embed src="http://LIVE/e.svg"><applet code="Main.class" codebase="http://LIVE/acb/" archive="http://LIVE/a.jar"></applet>
<video poster="http://LIVE/poster.jpg"><source src="http://LIVE/v.mp4"><track src="http://LIVE/t.vtt"></video>
<picture><source srcset="http://LIVE/p.webp 1x"><img src="http://LIVE/p.jpg"></picture>
<table background="http://LIVE/table.png"><tr><td background="http://LIVE/td.png">c</td></tr></table>
<blockquote cite="http://LIVE/click-bq">q</blockquote><q cite="http://LIVE/click-q">q</q>
<del cite="http://LIVE/click-del">d</del><ins cite="http://LIVE/click-ins">i</ins>
<div style="background:url(http://LIVE/style.png)">s</div></body></html>"##
        .replace("LIVE", live)
}

/// Serves the hostile page; everything else on the archived host is missing.
fn hostile_site(page: String) -> HttpsFixture {
    let handler: Handler = Arc::new(move |request| match request.target.as_str() {
        "/" => vec![Step::Send(response("200 OK", "text/html", page.as_bytes()))],
        _ => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
    });
    HttpsFixture::start(&["hostile.example"], handler).unwrap()
}

/// Every mention of `live` in `html` that is neither inside the archive (`/TS/http://LIVE`,
/// replay) nor in a kept original (`data-cairn-original*`), nor, where `allowed` says so, a
/// path it allows; each with some context.
fn live_mentions(html: &str, live: &str, allowed: &dyn Fn(&str) -> bool) -> Vec<String> {
    let text = without_kept_originals(html);
    text.match_indices(live)
        .filter(|(i, _)| {
            let stamp = text[..*i]
                .strip_suffix("/http://")
                .and_then(|before| before.rsplit('/').next());
            let in_archive =
                stamp.is_some_and(|ts| ts.len() == 14 && ts.bytes().all(|b| b.is_ascii_digit()));
            !in_archive && !allowed(&text[i + live.len()..])
        })
        .map(|(i, _)| {
            let end = (i + live.len() + 20).min(text.len());
            text[i.saturating_sub(50)..end].to_string()
        })
        .collect()
}

/// `html` without its `data-cairn-original*` attributes, also those inside `srcdoc` values,
/// whose quotes are written as character references (`&quot;`, `&amp;quot;`).
fn without_kept_originals(html: &str) -> String {
    let mut text = html.to_string();
    while let Some(start) = text.find("data-cairn-original") {
        let end = text[start..].find('=').map_or(text.len(), |eq| {
            let value = start + eq + 1;
            let quote = match text[value..].chars().next() {
                Some('&') => text[value..]
                    .find(';')
                    .map_or("\"", |e| &text[value..=value + e]),
                Some('\'') => "'",
                _ => "\"",
            };
            let quote = quote.to_string();
            text[value + quote.len()..]
                .find(&quote)
                .map_or(text.len(), |e| value + quote.len() + e + quote.len())
        });
        text.replace_range(start..end, "");
    }
    text
}

/// Archives the hostile page; the crawl itself must not reach the live server.
fn archive_hostile(archives: &Path, live: &TestServer) {
    let site = hostile_site(hostile_page(&format!("127.0.0.1:{}", live.port)));
    // The refresh is followed as a redirect would be, and refused: the crawl reports it as
    // an error, but the page itself is archived.
    let out = archive(archives, &site, &["--no-progress"], &[PAGE]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing 127.0.0.1"), "{stderr}");
    assert!(
        index_entries(archives, "default")
            .iter()
            .any(|e| e.url == PAGE),
        "{stderr}"
    );
    assert_eq!(live.hits(), 0, "the crawl reached the live server");
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(html_files(&path));
        } else if path.extension().is_some_and(|e| e == "html") {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_replayed_hostile_page_names_nothing_live() {
    let live = TestServer::start(vec![]);
    let host = format!("127.0.0.1:{}", live.port);
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    archive_hostile(&archives, &live);

    let server = ReplayServer::start(&archives);
    let stamp = index_entries(&archives, "default")
        .into_iter()
        .find(|e| e.url == PAGE)
        .unwrap()
        .timestamp;
    let (status, _, body) = server.get(&format!("/default/{stamp}/{PAGE}"));
    assert_eq!(status, 200);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("hostile"), "{html}");
    let left = live_mentions(&html, &host, &|_| false);
    assert!(left.is_empty(), "replay left live references: {left:#?}");
    for rewritten in [
        format!(r#"action="/default/{stamp}/http://{host}/post""#),
        format!(r#"formaction="/default/{stamp}/http://{host}/button""#),
        format!(r#"content="5; /default/{stamp}/http://{host}/refresh""#),
    ] {
        assert!(html.contains(&rewritten), "{rewritten} missing from {html}");
    }
    assert!(!html.contains(" ping="), "{html}");

    // In Chromium, nothing the replayed page loads or runs reaches the live server.
    if requires(&["chromium", "python3", "python:websockets"]) {
        let shot = work.path().join("hostile.png");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
        let url = format!("{}/default/{stamp}/{PAGE}", server.origin);
        let out = run_ok(tool("python3").arg(script).arg(&url).arg(&shot));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let leaked: Vec<&serde_json::Value> = report["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                let r = r.as_str().unwrap_or_default();
                !(r.starts_with(&server.origin) || r.starts_with("data:"))
            })
            .collect();
        assert!(
            leaked.is_empty(),
            "Chromium reached beyond the replay server: {leaked:?}"
        );
        assert_eq!(live.hits(), 0, "the live server was reached from replay");
    }
}

#[test]
fn an_exported_hostile_page_names_nothing_live_but_its_links() {
    let live = TestServer::start(vec![]);
    let host = format!("127.0.0.1:{}", live.port);
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    archive_hostile(&archives, &live);

    let out = work.path().join("offline");
    run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .arg("export")
            .arg("--out")
            .arg(&out),
    );
    let pages = html_files(&out);
    assert!(!pages.is_empty(), "nothing exported");
    // Links a reader clicks may lead out of the offline copy; nothing else may.
    let clicked = |rest: &str| rest.starts_with("/click-");
    for page in pages {
        let html = fs::read_to_string(&page).unwrap();
        // What rewriting cannot see (a script's fetch) meets the page's own CSP.
        assert!(html.contains("Content-Security-Policy"), "{html}");
        let left = live_mentions(&html, &host, &clicked);
        assert!(
            left.is_empty(),
            "{} left live references: {left:#?}",
            page.display()
        );
    }
    assert_eq!(live.hits(), 0);
}
