//! A real browser proves the offline copy: Debian's Chromium, headless and cut off from every
//! network, opens the offline article and a page wrapping the rewritten post from `file://`.
//! The test fails if any request leaves `file://` or any image fails to decode. Screenshots
//! are kept in `target/test-artifacts/`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::archive::archive;
use crate::offline::{POST, site_with_seed_post};
use crate::site;
use crate::support::*;

struct PageReport {
    requests: Vec<String>,
    images: Vec<(String, u64)>,
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn open_in_chromium(file: &Path, screenshot: &str) -> PageReport {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
    let url = url::Url::from_file_path(file).unwrap();
    let out = run_ok(
        tool("python3")
            .arg(script)
            .arg(url.as_str())
            .arg(artifacts().join(screenshot)),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    PageReport {
        requests: report["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect(),
        images: report["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["src"].as_str().unwrap_or("").to_string(),
                    i["naturalWidth"].as_u64().unwrap_or(0),
                )
            })
            .collect(),
    }
}

fn assert_offline(report: &PageReport, what: &str, min_images: usize) {
    let live: Vec<&String> = report
        .requests
        .iter()
        .filter(|r| !r.starts_with("file://") && !r.starts_with("data:"))
        .collect();
    assert!(live.is_empty(), "{what} tried to reach: {live:?}");
    let broken: Vec<&(String, u64)> = report.images.iter().filter(|(_, w)| *w == 0).collect();
    assert!(broken.is_empty(), "{what} has broken images: {broken:?}");
    assert!(
        report.images.len() >= min_images,
        "{what}: only {} images",
        report.images.len()
    );
}

#[test]
fn chromium_renders_the_offline_article_and_post_with_no_network() {
    let fixture = site::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let post = site_with_seed_post(work.path());
    let archives = work.path().join("archives");
    let out = archive(
        &archives,
        &fixture,
        &["--no-progress", "--link-base", "archives/default/offline"],
        &[post.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(fixture);

    let article = archives.join("default/offline/www.cna.com.tw/news/aopl/202303220008.aspx.html");
    let report = open_in_chromium(&article, "offline-article.png");
    assert_offline(&report, "the offline article", 17);

    // The rewritten post's body, as Jekyll would render it, in a page beside archives/.
    let rewritten = cairn::post::Post::read(&archives.join("default/posts").join(POST)).unwrap();
    let page = work.path().join("post.html");
    fs::write(
        &page,
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>post</title></head><body>{}</body></html>",
            rewritten.body_html()
        ),
    )
    .unwrap();
    let report = open_in_chromium(&page, "rewritten-post.png");
    assert_offline(&report, "the rewritten post", 16);
}
