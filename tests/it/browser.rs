//! A real browser proves the offline copy: Debian's Chromium, headless and cut off from every
//! network, opens the offline article and a page wrapping the rewritten post from `file://`.
//! The test fails if any request leaves `file://` or any image fails to decode. Screenshots
//! are kept in `target/test-artifacts/`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::archive::archive_ok;
use crate::offline::{POST, site_with_seed_post};
use crate::site;
use crate::support::*;

struct PageReport {
    requests: Vec<String>,
    images: Vec<(String, u64)>,
}

pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn open_in_chromium(file: &Path, screenshot: &str) -> PageReport {
    let url = url::Url::from_file_path(file).unwrap();
    open_url_in_chromium(url.as_str(), screenshot)
}

fn open_url_in_chromium(url: &str, screenshot: &str) -> PageReport {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
    let out = run_ok(
        tool("python3")
            .arg(script)
            .arg(url)
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

/// Every request the page made stayed under `allowed` (or was a data: URL), every image
/// decoded, and there were at least `min_images` of them.
fn assert_contained(report: &PageReport, allowed: &str, what: &str, min_images: usize) {
    let escaped: Vec<&String> = report
        .requests
        .iter()
        .filter(|r| !r.starts_with(allowed) && !r.starts_with("data:"))
        .collect();
    assert!(
        escaped.is_empty(),
        "{what} reached beyond {allowed}: {escaped:?}"
    );
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
    if !requires(&["chromium", "python3", "python:websockets"]) {
        return;
    }
    let fixture = site::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let post = site_with_seed_post(work.path());
    let archives = work.path().join("archives");
    archive_ok(
        &archives,
        &fixture,
        &["--no-progress", "--link-base", "archives/default/offline"],
        &[post.to_str().unwrap()],
    );
    drop(fixture);

    let article = archives.join("default/offline/www.cna.com.tw/news/aopl/202303220008.aspx.html");
    let report = open_in_chromium(&article, "offline-article.png");
    assert_contained(&report, "file://", "the offline article", 17);

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
    assert_contained(&report, "file://", "the rewritten post", 16);
}

/// Serves a folder over HTTP on 127.0.0.1 (Python's http.server), stopped on drop.
struct StaticServer {
    child: std::process::Child,
    origin: String,
}

impl StaticServer {
    fn start(dir: &Path) -> StaticServer {
        use std::io::BufRead;
        let mut child = tool("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 43210 (http://127.0.0.1:43210/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .unwrap_or_else(|| panic!("http.server said {line:?}"))
            .to_string();
        StaticServer {
            child,
            origin: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_jekyll_build_renders_the_post_from_the_sites_own_files() {
    if !requires(&["jekyll", "chromium", "python3", "python:websockets"]) {
        return;
    }
    let fixture = site::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let site_dir = work.path().join("site");
    let post = site_with_seed_post(&site_dir);
    let archives = site_dir.join("archives");
    // The site's own copy: the offline tree lives inside the Jekyll source, and the post
    // (rewritten in place) points at it with the default site-absolute link base.
    archive_ok(
        &archives,
        &fixture,
        &["--no-progress", "--in-place"],
        &[post.to_str().unwrap()],
    );
    drop(fixture);
    fs::write(site_dir.join("_config.yml"), "title: mirror\nmarkdown: kramdown\nexclude: [archives/default/warc, archives/default/posts]\n").unwrap();
    fs::create_dir_all(site_dir.join("_layouts")).unwrap();
    fs::write(
        site_dir.join("_layouts/post.html"),
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{{ page.title }}</title></head><body>{{ content }}</body></html>\n",
    )
    .unwrap();
    let built = work.path().join("_site");
    run_ok(
        tool("jekyll")
            .arg("build")
            .arg("--quiet")
            .arg("--source")
            .arg(&site_dir)
            .arg("--destination")
            .arg(&built),
    );
    let page = walk(&built)
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with("cna-xi-putin-talks.html"))
        .expect("jekyll rendered the post");
    let relative = page.strip_prefix(&built).unwrap();
    let server = StaticServer::start(&built);
    let url = format!(
        "{}/{}",
        server.origin,
        relative
            .components()
            .map(|c| percent_encoding::utf8_percent_encode(
                &c.as_os_str().to_string_lossy(),
                percent_encoding::NON_ALPHANUMERIC
            )
            .to_string())
            .collect::<Vec<_>>()
            .join("/")
    );
    let report = open_url_in_chromium(&url, "jekyll-post.png");
    assert_contained(
        &report,
        &format!("{}/", server.origin),
        "the Jekyll page",
        16,
    );
    assert!(
        report
            .images
            .iter()
            .all(|(src, _)| src.starts_with(&server.origin))
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn chromium_replays_the_article_with_nothing_leaving_the_server() {
    if !requires(&["chromium", "python3", "python:websockets"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    {
        let fixture = site::start().unwrap();
        archive_ok(&archives, &fixture, &["--no-progress"], &[site::ARTICLE]);
    }
    let server = crate::replay::ReplayServer::start(&archives);
    let url = format!("{}/default/2030/{}", server.origin, site::ARTICLE);
    let report = open_url_in_chromium(&url, "replayed-article.png");
    assert_contained(
        &report,
        &format!("{}/", server.origin),
        "the replayed page",
        17,
    );
}
