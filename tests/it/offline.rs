//! Archiving the seed post: the rewritten post and the offline copy of its source article
//! reference nothing live that was archived, and every rewritten reference names a file that
//! exists; the rewrite can run again without change or loss.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;
use url::Url;

use crate::archive::{archive_ok, index_entries};
use crate::site;
use crate::support::*;

pub const POST: &str = "2023-03-21-cna-xi-putin-talks.md";

/// A Jekyll-like site folder holding the seed post in `_posts/`.
pub fn site_with_seed_post(dir: &Path) -> PathBuf {
    let posts = dir.join("_posts");
    fs::create_dir_all(&posts).unwrap();
    let post = posts.join(POST);
    fs::write(&post, seed_post()).unwrap();
    post
}

/// Every URL-valued attribute of a document (srcset candidates split), by a regex oracle.
pub fn references(html: &str) -> Vec<(String, String)> {
    let attr =
        Regex::new(r#"\s((?:data-)?(?:src|href|srcset|original|lazy-src))="([^"]*)""#).unwrap();
    let mut out = Vec::new();
    for c in attr.captures_iter(html) {
        let name = c[1].to_string();
        if name.ends_with("srcset") {
            for candidate in c[2].split(',') {
                if let Some(url) = candidate.split_whitespace().next() {
                    out.push((name.clone(), url.to_string()));
                }
            }
        } else {
            out.push((name, c[2].to_string()));
        }
    }
    out
}

/// URLs archived with a 2xx answer (or a revisit of one).
pub fn archived_urls(archives: &Path) -> HashSet<String> {
    index_entries(archives, "default")
        .into_iter()
        .filter(|e| e.status.is_some_and(|s| (200..300).contains(&s)))
        .map(|e| e.url)
        .collect()
}

#[test]
fn the_seed_post_renders_from_local_files() {
    let fixture = site::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let post = site_with_seed_post(work.path());
    let archives = work.path().join("archives");
    archive_ok(
        &archives,
        &fixture,
        &["--no-progress"],
        &[post.to_str().unwrap()],
    );
    let archived = archived_urls(&archives);
    let offline = archives.join("default/offline");

    // The post itself is in the archive, as a resource record.
    let entries = index_entries(&archives, "default");
    assert!(
        entries
            .iter()
            .any(|e| e.url == format!("file:///_posts/{POST}")
                && e.mime.as_deref() == Some("text/markdown")),
        "post resource record"
    );

    // The rewritten post: archived references point into offline/ under the link base, and
    // the files exist; the originals stay beside them.
    let rewritten = fs::read_to_string(archives.join("default/posts").join(POST)).unwrap();
    assert!(
        rewritten.starts_with("---\nlayout: post\n"),
        "{}",
        &rewritten[..200]
    );
    assert!(rewritten.contains("\ncairn_archived_at: "));
    assert!(
        rewritten.contains(&format!("from: {}", site::ARTICLE)),
        "front matter kept"
    );
    let mut local = 0;
    for (attr, value) in references(&rewritten) {
        if attr.contains("original") {
            continue;
        }
        if let Some(path) = value.strip_prefix("/archives/default/offline/") {
            let path = percent_encoding::percent_decode_str(path.split('#').next().unwrap())
                .decode_utf8()
                .unwrap()
                .into_owned();
            assert!(offline.join(&path).is_file(), "{value} -> missing {path}");
            local += 1;
        } else if value.starts_with("http") {
            assert!(
                !archived.contains(&value),
                "{attr}={value} was archived but still points live"
            );
        }
    }
    assert!(local >= 40, "{local} references rewritten");
    assert!(rewritten.contains(&format!(
        "data-cairn-original=\"{}\"",
        "https://imgcdn.cna.com.tw/www/webphotos/WebCover/420/20230321/1200x900_065325447941.jpg"
    )));
    // The Markdown title link points into the offline copy too.
    assert!(
        rewritten
            .contains("/archives/default/offline/www.cna.com.tw/news/aopl/202303220008.aspx.html")
    );

    // The offline article: every reference to something archived is a relative path to a
    // file that exists; nothing archived is referenced live.
    let article = offline.join("www.cna.com.tw/news/aopl/202303220008.aspx.html");
    let html = fs::read_to_string(&article).unwrap();
    let mut relative = 0;
    for (attr, value) in references(&html) {
        if value.starts_with("data:") || value.starts_with('#') {
            continue;
        }
        match Url::parse(&value) {
            Ok(url) => assert!(
                !archived.contains(url.as_str()),
                "{attr}={value} archived but live"
            ),
            Err(_) => {
                let target = value.split('#').next().unwrap();
                let decoded = percent_encoding::percent_decode_str(target)
                    .decode_utf8()
                    .unwrap();
                assert!(
                    article.parent().unwrap().join(decoded.as_ref()).is_file(),
                    "{attr}={value}"
                );
                relative += 1;
            }
        }
    }
    assert!(relative >= 40, "{relative} relative references");
    let css = fs::read_dir(offline.join("www.cna.com.tw/css"))
        .unwrap()
        .count();
    assert!(css >= 2, "stylesheets exported with .css names");

    // Again, in place, twice: the second run changes nothing but the archive time.
    let in_place = work.path().join("copy.md");
    fs::copy(&post, &in_place).unwrap();
    for _ in 0..2 {
        archive_ok(
            &archives,
            &fixture,
            &["--no-progress", "--in-place"],
            &[in_place.to_str().unwrap()],
        );
    }
    let without_time = |text: &str| -> String {
        text.lines()
            .filter(|l| !l.starts_with("cairn_archived_at:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = fs::read_to_string(archives.join("default/posts").join(POST)).unwrap();
    let twice = fs::read_to_string(&in_place).unwrap();
    let (first, twice) = (without_time(&first), without_time(&twice));
    if first != twice {
        let diff = first.lines().zip(twice.lines()).find(|(a, b)| a != b);
        panic!("second rewrite changed the post; first differing lines: {diff:?}");
    }
    let raw = fs::read_to_string(&in_place).unwrap();
    assert_eq!(raw.matches("cairn_archived_at:").count(), 1);
}

#[test]
fn demo_runs_the_whole_pipeline_offline() {
    let work = tempfile::tempdir().unwrap();
    let out = cairn()
        .current_dir(work.path())
        .args(["--no-progress-placeholder"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "unknown flags are usage errors");
    let out = run_ok(cairn().current_dir(work.path()).arg("demo"));
    let text = stdout(&out);
    assert!(text.contains("file://"), "{text}");
    // It ends on the diff between the article's two captures: the fixture's edit, exactly.
    let diff = text
        .split_once("What changed in the article")
        .map(|(_, diff)| diff)
        .unwrap_or_else(|| panic!("no diff at the demo's end: {text}"));
    assert!(
        diff.contains("2 paragraphs added, 0 removed, 0 changed, title changed"),
        "{diff}"
    );
    assert!(
        diff.contains("[-會談似未有突破-]{+澤倫斯基仍待北京答覆+}"),
        "{diff}"
    );
    assert!(diff.contains("+ ¶4 {+克里姆林宮發言人培斯科夫"), "{diff}");
    assert!(diff.contains("+ ¶18 {+更正："), "{diff}");
    let archives = work.path().join("archives");
    let offline = archives.join("default/offline/www.cna.com.tw/news/aopl/202303220008.aspx.html");
    assert!(offline.is_file());
    assert!(archives.join("default/posts").join(POST).is_file());
    run_ok(cairn().arg("verify").arg(archives.join("default/warc")));
}

#[test]
fn a_folder_of_posts_is_one_crawl() {
    let fixture = site::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let first = site_with_seed_post(work.path());
    let posts = first.parent().unwrap();
    // A second post citing the same source: what they share is fetched once.
    fs::write(
        posts.join("2023-03-22-second.md"),
        format!("---\nlayout: post\ntitle: second\nfrom: {}\n---\n![photo](https://imgcdn.cna.com.tw/www/webphotos/FocusNews/20230321/66929088s.jpg)\n", site::ARTICLE),
    )
    .unwrap();
    fs::write(posts.join("notes.txt"), "not a post").unwrap();
    let archives = work.path().join("archives");
    archive_ok(
        &archives,
        &fixture,
        &["--no-progress"],
        &[posts.to_str().unwrap()],
    );
    let entries = index_entries(&archives, "default");
    let mut urls: Vec<&str> = entries.iter().map(|e| e.url.as_str()).collect();
    let total = urls.len();
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), total, "every URL captured once");
    let article_fetches = fixture
        .requested()
        .iter()
        .filter(|r| r.target == "/news/aopl/202303220008.aspx")
        .count();
    assert_eq!(article_fetches, 1);
    let second = fs::read_to_string(archives.join("default/posts/2023-03-22-second.md")).unwrap();
    assert!(
        second.contains("![photo](/archives/default/offline/imgcdn.cna.com.tw/www/webphotos/FocusNews/20230321/66929088s.jpg)"),
        "{second}"
    );
    assert!(archives.join("default/posts").join(POST).is_file());
}

/// Every file under `dir` (the state file too), by relative path, with its bytes and
/// modification time.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let modified = fs::metadata(&path).unwrap().modified().unwrap();
                let relative = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(relative, (fs::read(&path).unwrap(), modified));
            }
        }
    }
    files
}

/// The files whose bytes or time differ between two trees, and the ones only in `after`.
fn touched(
    before: &std::collections::BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)>,
    after: &std::collections::BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)>,
) -> Vec<String> {
    after
        .iter()
        .filter(|(path, file)| before.get(*path) != Some(file))
        .map(|(path, _)| path.display().to_string())
        .filter(|path| !path.ends_with(".cairn-offline.jsonl"))
        .collect()
}

/// After a crawl only what changed is written: a re-crawl of an unchanged site (all revisits)
/// writes no offline file; a page whose link now leads to something archived is written
/// again though its capture did not change; a changed page is written, and nothing else. The
/// copy kept up to date this way is byte for byte the one `cairn export` writes whole.
#[test]
fn the_offline_copy_writes_only_what_changed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::fixture::{Handler, HttpsFixture, Step, jpeg, response};

    let edited = Arc::new(AtomicBool::new(false));
    let flag = edited.clone();
    let handler: Handler = Arc::new(move |request| {
        let page =
            |body: String| vec![Step::Send(response("200 OK", "text/html", body.as_bytes()))];
        match request.target.as_str() {
            "/a.html" if flag.load(Ordering::SeqCst) => {
                page("<img src=/img/1.jpg><link rel=stylesheet href=/s.css><p>corrected</p>".into())
            }
            "/a.html" => {
                page("<img src=/img/1.jpg><link rel=stylesheet href=/s.css><p>first</p>".into())
            }
            "/b.html" => page("<a href=/c.html>c</a><img src=/img/2.jpg>".into()),
            "/c.html" => page("<p>c</p>".into()),
            "/s.css" => vec![Step::Send(response(
                "200 OK",
                "text/css",
                b"p{background:url(img/3.jpg)}",
            ))],
            path if path.starts_with("/img/") => {
                vec![Step::Send(response("200 OK", "image/jpeg", &jpeg(path)))]
            }
            _ => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
        }
    });
    let site = HttpsFixture::start(&["news.example"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    let root = archives.path();
    let offline = root.join("default/offline");
    let crawl = |targets: &[&str]| {
        let out = archive_ok(root, &site, &["--no-progress", "--depth", "0"], targets);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let a = "https://news.example/a.html";
    let b = "https://news.example/b.html";
    let c = "https://news.example/c.html";

    crawl(&[a, b]);
    let first = tree(&offline);
    let b_file = PathBuf::from("news.example/b.html");
    assert!(
        String::from_utf8_lossy(&first[&b_file].0).contains("href=\"https://news.example/c.html\"")
    );

    // The same site again: every capture a revisit, no file written.
    let out = crawl(&[a, b]);
    assert!(out.contains(", 0 written"), "{out}");
    assert_eq!(touched(&first, &tree(&offline)), Vec::<String>::new());

    // c is archived now: b's link leads to it, so b is written again, and c is new.
    let out = crawl(&[c]);
    let third = tree(&offline);
    let mut changed = touched(&first, &third);
    changed.sort();
    assert_eq!(
        changed,
        ["news.example/b.html", "news.example/c.html"],
        "{out}"
    );
    assert!(String::from_utf8_lossy(&third[&b_file].0).contains("href=\"c.html\""));

    // a was edited: only a. (A capture is dated to the second, and of two in one second the
    // latest is not told apart: the edit is captured a second later, as any re-crawl is.)
    edited.store(true, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = crawl(&[a, b]);
    let fourth = tree(&offline);
    assert_eq!(touched(&third, &fourth), ["news.example/a.html"], "{out}");

    // What `cairn export` writes whole is byte for byte the same.
    run_ok(cairn().arg("--archives").arg(root).arg("export"));
    let whole = tree(&offline);
    let bytes = |t: &std::collections::BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)>| {
        t.iter()
            .map(|(p, (b, _))| (p.clone(), b.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(bytes(&fourth), bytes(&whole));
}
