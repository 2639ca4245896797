//! `cairn archive` against the HTTPS fixture of the seed post's source: everything the article
//! needs and the related news it links to, each once with the right digest, nothing out of
//! scope, requests paired with responses, and warcio agreeing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use cairn::index::Entry;
use cairn::warc::WarcReader;
use regex::Regex;
use url::Url;

use crate::fixture::HttpsFixture;
use crate::site;
use crate::support::*;

/// Runs `cairn archive` into `archives` with the fixture's mappings.
pub fn archive(archives: &Path, fixture: &HttpsFixture, extra: &[&str], targets: &[&str]) -> Output {
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

pub fn index_entries(archives: &Path, collection: &str) -> Vec<Entry> {
    let text = fs::read_to_string(archives.join(collection).join("index.cdxj")).unwrap();
    text.lines().map(|l| Entry::parse(l).unwrap()).collect()
}

pub fn warc_files(archives: &Path, collection: &str) -> Vec<PathBuf> {
    cairn::index::warc_files(&archives.join(collection).join("warc")).unwrap()
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

fn expected_captures() -> BTreeSet<String> {
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

fn target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

#[test]
fn archives_the_article_its_requisites_and_related_news() {
    let fixture = site::start();
    let archives = tempfile::tempdir().unwrap();
    let out = archive(archives.path(), &fixture, &["--no-progress"], &[site::ARTICLE]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let entries = index_entries(archives.path(), "default");
    let mut captured: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
    for e in &entries {
        captured.entry(e.fields.url.clone()).or_default().push(e);
    }
    captured.retain(|url, _| !url.ends_with("/robots.txt"));
    let expected = expected_captures();
    assert!(expected.len() > 40, "a real page: {} expected captures", expected.len());
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
            captures[0].fields.digest.as_deref(),
            Some(format!("sha256:{}", sha256_hex(&body)).as_str()),
            "payload digest of {url}"
        );
    }
    // Nothing beyond depth 1 was even requested.
    assert!(
        !fixture.requested().iter().any(|r| r.target.contains("deeper")),
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
    for (id, uri) in &responses {
        assert_eq!(requests.get(id), Some(uri), "request for {uri}");
    }
    for file in &files {
        let plain = file.with_extension("check.warc");
        run_ok(tool("zstd").args(["-d", "-q", "-f"]).arg(file).arg("-o").arg(&plain));
        let out = run_ok(tool("warcio").args(["check"]).arg(&plain));
        assert!(out.status.success());
    }

    let pages = fs::read_to_string(archives.path().join("default/pages.jsonl")).unwrap();
    let article = pages.lines().find(|l| l.contains("202303220008")).unwrap();
    assert!(article.contains("習蒲強調通過和談解決烏克蘭危機"), "{article}");
}
