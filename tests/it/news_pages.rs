//! Markup as real news pages write it (issue 14), one fixture page per construct: character
//! references in URLs and styles, `imagesrcset`, references to what was not archived, scripts
//! that call ads and trackers, `<noscript>`, lazy loaders' attributes on any element, lazy
//! containers, custom image elements, `twitter:image:src`.
//!
//! Each page is opened live (Chromium reaching only the fixture's hosts, its lazy loader
//! running), archived, then its offline copy opened from `file://` with every network path
//! closed, scrolled and waited on: the offline page shows every image it showed live, and
//! makes no request beyond its own files, no load fails and no image is broken.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::archive_ok;
use crate::fixture::{Handler, HttpsFixture, Step, jpeg, response};
use crate::support::{requires, run_ok, tool};

/// The stand-in for a lazy loader (lazysizes, jQuery lazyload, vanilla-lazyload) and for the
/// tracker every news page runs: live, it swaps each lazy attribute in; offline, it must not
/// run at all.
const LOADER: &str = r#"
document.documentElement.className = document.documentElement.className.replace('no-js', 'js');
const SRC = ['data-src', 'data-original', 'data-lazy', 'data-delay', 'datasrc', 'data-low-res-src',
  'data-hi-res-src', 'data-n-src', 'data-pic', 'data-url'];
const BG = ['data-bg', 'data-background', 'data-background-image'];
function unveil() {
  for (const el of document.querySelectorAll('*')) {
    const image = /^(IMG|SOURCE|IFRAME|VIDEO)$/.test(el.tagName);
    for (const a of SRC) if (el.hasAttribute(a) && image) { el.src = el.getAttribute(a); break; }
    for (const a of SRC) if (el.hasAttribute(a) && !image && /lazy/.test(el.className)) {
      el.style.backgroundImage = 'url("' + el.getAttribute(a) + '")'; break; }
    if (el.hasAttribute('data-srcset') && image) el.srcset = el.getAttribute('data-srcset');
    if (el.hasAttribute('data-poster')) el.poster = el.getAttribute('data-poster');
    for (const a of BG) if (el.hasAttribute(a)) {
      const v = el.getAttribute(a);
      el.style.backgroundImage = v.includes('url(') ? v : 'url("' + v + '")'; break; }
  }
}
unveil();
new Image().src = 'https://tracker.example/pixel.gif?page=' + encodeURIComponent(location.href);
fetch('https://tracker.example/collect', {method: 'POST', body: 'x'}).catch(() => {});
const gtm = document.createElement('script');
gtm.src = 'https://ads.example/gtm.js';
document.head.appendChild(gtm);
"#;

/// The stylesheet a page links with character references in its URL.
const STYLESHEET: &str = "body{margin:0;font-family:sans-serif} .hero{height:40px;background-image:url(//cdn.example/img/css-bg.jpg)} .js .after-scripts{height:40px;background-image:url(/img/js-only.jpg)}";

/// One construct: its page's name, what the page holds, the images (by file name) the
/// offline copy must show, and the files it must have captured (shown or not, as
/// `<noscript>` content or a share image).
struct Construct {
    name: &'static str,
    body: &'static str,
    shows: &'static [&'static str],
    captures: &'static [&'static str],
}

const CONSTRUCTS: &[Construct] = &[
    Construct {
        name: "references",
        body: r#"<img src="https://cdn.example/images/dims?thumbnail=450%2C&amp;image_uri=entity.jpg" alt=e>
<link rel=stylesheet href="//cdn.example/s.css?m[]=a&amp;m[]=b"><div class=hero></div>"#,
        shows: &["dims", "css-bg.jpg"],
        captures: &[],
    },
    Construct {
        name: "style",
        body: r#"<div style="height:40px;background-image:url(&apos;https://cdn.example/img/style.jpg?a=1&amp;w=800&apos;)"></div>
<div style='height:40px;background:url(&quot;/img/style2.jpg&quot;) no-repeat'></div>"#,
        shows: &["style.jpg", "style2.jpg"],
        captures: &[],
    },
    Construct {
        name: "preload",
        body: r#"<link rel=preload as=image href="/img/hero-1x.jpg" imagesrcset="/img/hero-1x.jpg 1x, /img/hero-2x.jpg 2x" imagesizes="100vw" crossorigin>
<img srcset="/img/hero-1x.jpg 1x, /img/hero-2x.jpg 2x" src="/img/hero-1x.jpg" alt=hero>"#,
        shows: &["hero-"],
        captures: &["hero-1x.jpg", "hero-2x.jpg"],
    },
    Construct {
        name: "unarchived",
        body: r#"<a href=/member/login.aspx>login</a><a href=//ads.example/landing>ad</a>
<img src=//ads.example/banner.png alt=ad><script src="https://ads.example/ad.js"></script>
<iframe src="https://ads.example/frame.html"></iframe><img src=/img/kept.jpg alt=kept>
<img srcset="/img/kept-1x.jpg 1x, https://ads.example/2x.jpg 2x" alt=k2><picture><source srcset="https://ads.example/s.webp"><img src=/img/kept-picture.jpg alt=kp></picture>
<style>@import url("https://ads.example/i.css"); @font-face{font-family:Ad;src:url(https://ads.example/f.woff2) format("woff2")}
p{font-family:Ad;background:url('https://ads.example/p.png') no-repeat}</style>
<div style="height:40px;background-image:url(//ads.example/bg.png)"></div>"#,
        shows: &["kept.jpg", "kept-1x.jpg", "kept-picture.jpg"],
        captures: &[],
    },
    Construct {
        name: "scripts",
        body: r#"<script>new Image().src='https://tracker.example/inline.gif'</script>
<script type=module>fetch('https://tracker.example/module')</script>
<link rel=modulepreload href=/module.js><link rel=preload as=script href=/lazy.js crossorigin>
<img src=/img/scripted.jpg onload="new Image().src='https://tracker.example/onload.gif'" alt=s>
<link rel=stylesheet href=/s.css><div class=after-scripts></div><script type="application/ld+json">{"@type":"NewsArticle"}</script>"#,
        shows: &["scripted.jpg", "js-only.jpg"],
        captures: &["module.js"],
    },
    Construct {
        name: "noscript",
        body: r#"<img class=lazyload data-src=/img/ns-lazy.jpg src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" alt=l>
<noscript><img src=/img/ns.jpg alt=n><picture><source srcset="/img/ns-source.webp 1x"><img src=/img/ns-picture.jpg alt=p></picture>
<link rel=stylesheet href=/ns.css></noscript>"#,
        shows: &["ns-lazy.jpg"],
        captures: &["ns.jpg", "ns-source.webp", "ns-picture.jpg", "ns.css"],
    },
    Construct {
        name: "lazy",
        body: r#"<img data-delay=/img/delay.jpg alt=a><img datasrc=/img/datasrc.jpg alt=b>
<img data-low-res-src=/img/low.jpg alt=c><img data-hi-res-src=/img/hi.jpg alt=d><img data-n-src=/img/n.jpg alt=e>
<img data-pic=/img/pic.jpg alt=f><img data-lazy=/img/slick.jpg alt=g><img data-original=/img/original.jpg alt=h>
<img src=/img/thumb.jpg data-zoom-image=/img/zoom.jpg data-full=/img/full.jpg alt=i><img data-url=/img/url.jpg alt=k>
<picture><source data-srcset="/img/source.webp 1x" type=image/webp><img data-src=/img/picture.jpg alt=l></picture>
<video data-poster=/img/poster.jpg width=80 height=40></video>
<div data-bg=/img/bg.jpg style=height:40px></div><span data-background="url('/img/background.jpg')" style=display:block;height:40px></span>
<div data-background-image="https://cdn.example/img/background-image.jpg" style=height:40px></div>"#,
        shows: &[
            "delay.jpg",
            "datasrc.jpg",
            "low.jpg",
            "hi.jpg",
            "n.jpg",
            "pic.jpg",
            "slick.jpg",
            "original.jpg",
            "thumb.jpg",
            "url.jpg",
            "source.webp",
            "poster.jpg",
            "bg.jpg",
            "background.jpg",
            "background-image.jpg",
        ],
        // Another size of the image, which a zoom shows on demand.
        captures: &["zoom.jpg", "full.jpg"],
    },
    Construct {
        name: "containers",
        body: r#"<div class="lazy-image" data-src="/img/container.jpg" style="height:40px"></div>
<span class="lazyload" data-original="/img/span.jpg" style="display:block;height:40px"></span>"#,
        shows: &["container.jpg", "span.jpg"],
        captures: &[],
    },
    Construct {
        name: "custom",
        body: r#"<amp-img src="/img/amp.jpg" srcset="/img/amp-2x.jpg 2x" width=80 height=40 layout=responsive></amp-img>
<a-img src="/img/a-img.jpg"></a-img><img src=/img/plain.jpg alt=p>"#,
        shows: &["plain.jpg"],
        captures: &["amp.jpg", "amp-2x.jpg", "a-img.jpg"],
    },
    Construct {
        name: "styles",
        body: r#"<link rel=preload as=style href=/late.css onload="this.onload=null;this.rel='stylesheet'">
<noscript><link rel=stylesheet href=/late.css></noscript>
<link rel=stylesheet href=/print.css media=print onload="this.media='all'">
<link rel=manifest href=/manifest.json><link rel=icon href=/img/icon.png>
<div class=late></div><div class=printed></div>"#,
        shows: &["late.jpg", "print-all.jpg"],
        captures: &["manifest.json"],
    },
    Construct {
        name: "sprites",
        body: r#"<svg width=20 height=20><use href="/icons.svg#logo"/></svg>
<svg width=20 height=20><use xlink:href="https://cdn.example/sprite.svg#share"></use></svg>
<svg width=20 height=20><use href="/icons.svg#menu"/></svg>
<object data="/drawing.svg" type="image/svg+xml" width=20 height=20></object>"#,
        // A `<use>` of another origin's sprite shows nothing live; offline it does.
        shows: &["in-sprite.png", "in-cdn-sprite.png", "in-drawing.png"],
        captures: &["icons.svg", "sprite.svg"],
    },
    Construct {
        name: "meta",
        body: r#"<meta name="twitter:image:src" content="https://cdn.example/img/twitter.jpg">
<meta property="og:image" content="/img/og.jpg"><meta itemprop=image content="/img/microdata.jpg">
<img src=/img/meta.jpg alt=m>"#,
        shows: &["meta.jpg"],
        captures: &["twitter.jpg", "og.jpg", "microdata.jpg"],
    },
];

fn page_html(construct: &Construct) -> String {
    format!(
        "<!DOCTYPE html><html class=no-js lang=en><head><meta charset=utf-8><title>{}</title>\
         <script src=/lazy.js defer></script></head><body>\n{}\n<p>article text</p></body></html>",
        construct.name, construct.body
    )
}

/// The news site and its CDN; `ads.example` and `tracker.example` answer nothing a crawl
/// keeps, as ad servers refusing a crawler do.
fn news_site() -> HttpsFixture {
    let handler: Handler = Arc::new(|request| {
        let path = request.target.split('?').next().unwrap_or_default();
        let found = |content_type: &str, body: &[u8]| {
            vec![Step::Send(response("200 OK", content_type, body))]
        };
        match (request.host.as_str(), path) {
            ("ads.example" | "tracker.example", _) => {
                vec![Step::Send(response("404 Not Found", "text/plain", b""))]
            }
            (_, "/lazy.js") => found("text/javascript", LOADER.as_bytes()),
            (_, "/module.js") => found("text/javascript", b"export const x = 1;"),
            (_, "/s.css" | "/ns.css") => found("text/css", STYLESHEET.as_bytes()),
            (_, "/late.css") => found(
                "text/css",
                b".late{height:40px;background:url(/img/late.jpg)}",
            ),
            (_, "/print.css") => found(
                "text/css",
                b".printed{height:40px;background:url(/img/print-all.jpg)}",
            ),
            (_, "/manifest.json") => found("application/manifest+json", br#"{"name":"news"}"#),
            (_, "/icons.svg" | "/sprite.svg") => {
                let image = if request.host == "cdn.example" {
                    "/img/in-cdn-sprite.png"
                } else {
                    "img/in-sprite.png"
                };
                let svg = format!(
                    r#"<?xml version="1.0"?><!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<symbol id="logo" viewBox="0 0 10 10"><image href="{image}" width="10" height="10"/></symbol>
<symbol id="share" viewBox="0 0 10 10"><image xlink:href="{image}" width="10" height="10"/></symbol>
<symbol id="menu" viewBox="0 0 10 10"><rect width="10" height="10"/></symbol>
<style><meta http-equiv="refresh" content="0;url=https://tracker.example/refreshed"/></style>
<script>new Image().src='https://tracker.example/sprite.gif'</script></svg>"#
                );
                found("image/svg+xml", svg.as_bytes())
            }
            (_, "/drawing.svg") => found(
                "image/svg+xml",
                br#"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="fetch('https://tracker.example/onload')">
<script>new Image().src='https://tracker.example/drawing.gif'</script>
<image href="https://tracker.example/drawing.png" width="5" height="5"/><image href="/img/in-drawing.png" width="20" height="20"/></svg>"#,
            ),
            (_, p) if p.ends_with(".html") => {
                let name = p.trim_start_matches('/').trim_end_matches(".html");
                match CONSTRUCTS.iter().find(|c| c.name == name) {
                    Some(c) => found("text/html; charset=utf-8", page_html(c).as_bytes()),
                    None => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
                }
            }
            (_, p) if p.starts_with("/img/") || p.starts_with("/images/") => {
                found("image/jpeg", &jpeg(&request.target))
            }
            _ => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
        }
    });
    HttpsFixture::start(
        &[
            "news.example",
            "cdn.example",
            "ads.example",
            "tracker.example",
        ],
        handler,
    )
    .unwrap()
}

/// What Chromium reported of one page.
pub(crate) struct Seen {
    pub(crate) requests: Vec<String>,
    pub(crate) failed: Vec<String>,
    /// `(src, naturalWidth)` of every `<img>`.
    pub(crate) images: Vec<(String, u64)>,
    /// Whether each `<img>` can be seen: displayed, not hidden, not transparent.
    pub(crate) visible: Vec<bool>,
    pub(crate) title: String,
    /// The encoding the document was read in (`document.characterSet`).
    pub(crate) charset: String,
    /// Where each link (`document.links`) leads, resolved.
    pub(crate) links: Vec<String>,
    /// The first line of each exception the page's scripts left uncaught.
    pub(crate) exceptions: Vec<String>,
    /// What was redirected: the type of each (`Document`, `Image`, ...).
    pub(crate) redirected: Vec<String>,
}

/// Opens each page in one Chromium; `mapped` hosts are reachable at the fixture's port.
pub(crate) fn open_in_chromium(
    pages: &[String],
    mapped: &[(&str, u16)],
    screenshot: &Path,
) -> Vec<Seen> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
    let mut cmd = tool("python3");
    cmd.arg(script).arg(&pages[0]).arg(screenshot);
    for page in &pages[1..] {
        cmd.arg("--visit").arg(page);
    }
    for (host, port) in mapped {
        cmd.arg("--map").arg(format!("{host}={port}"));
    }
    let report: serde_json::Value = serde_json::from_slice(&run_ok(&mut cmd).stdout).unwrap();
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    report["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|page| Seen {
            requests: strings(&page["requests"]),
            failed: strings(&page["failed"]),
            images: page["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let src = i["src"].as_str().unwrap_or_default().to_string();
                    (src, i["naturalWidth"].as_u64().unwrap_or(0))
                })
                .collect(),
            visible: page["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["visible"].as_bool().unwrap_or(false))
                .collect(),
            title: page["title"].as_str().unwrap_or_default().to_string(),
            charset: page["charset"].as_str().unwrap_or_default().to_string(),
            links: strings(&page["links"]),
            exceptions: strings(&page["exceptions"]),
            redirected: page["redirects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["type"].as_str().unwrap_or_default().to_string())
                .collect(),
        })
        .collect()
}

/// What an offline page did that it must not: a request beyond its own files, a failed
/// load, a broken image.
pub(crate) fn uncontained(offline: &Seen) -> Vec<String> {
    let mut problems = Vec::new();
    let reached: Vec<&String> = offline
        .requests
        .iter()
        .filter(|r| !r.starts_with("file:") && !r.starts_with("data:"))
        .collect();
    if !reached.is_empty() {
        problems.push(format!("requests beyond its files: {reached:?}"));
    }
    if !offline.failed.is_empty() {
        problems.push(format!("failed loads: {:?}", offline.failed));
    }
    let broken: Vec<&(String, u64)> = offline
        .images
        .iter()
        .filter(|(src, width)| !src.is_empty() && *width == 0)
        .collect();
    if !broken.is_empty() {
        problems.push(format!("broken images: {broken:?}"));
    }
    problems
}

/// The file names of the images a page loaded (`css-bg.jpg`, `dims`), from its requests that
/// did not fail.
fn images_loaded(seen: &Seen) -> BTreeSet<String> {
    let failed: BTreeSet<&str> = seen
        .failed
        .iter()
        .filter_map(|f| f.rsplit_once(": ").map(|(url, _)| url))
        .collect();
    seen.requests
        .iter()
        .filter(|r| !r.starts_with("data:") && !failed.contains(r.as_str()))
        .map(|r| file_name(r))
        .filter(|name| {
            [".jpg", ".webp", ".png"].iter().any(|e| name.ends_with(e)) || name.starts_with("dims")
        })
        .collect()
}

/// A request's last path segment, without its query: the offline copy names files from it.
fn file_name(request: &str) -> String {
    let path = request.split(['?', '#']).next().unwrap_or_default();
    let name = path.rsplit('/').next().unwrap_or_default();
    percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .to_string()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(all_files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn each_construct_shows_offline_as_it_did_live_with_no_request() {
    if !requires(&["chromium", "python3", "python:websockets"]) {
        return;
    }
    let site = news_site();
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    fs::create_dir_all(&artifacts).unwrap();
    let live_pages: Vec<String> = CONSTRUCTS
        .iter()
        .map(|c| format!("https://news.example/{}.html", c.name))
        .collect();
    let mapped = [("news.example", site.port), ("cdn.example", site.port)];
    let live = open_in_chromium(&live_pages, &mapped, &artifacts.join("news-live.png"));

    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let targets: Vec<&str> = live_pages.iter().map(String::as_str).collect();
    archive_ok(
        &archives,
        &site,
        &["--no-progress", "--depth", "0"],
        &targets,
    );
    drop(site);

    let offline_dir = archives.join("default/offline");
    let offline_pages: Vec<String> = CONSTRUCTS
        .iter()
        .map(|c| {
            let file = offline_dir.join(format!("news.example/{}.html", c.name));
            assert!(file.is_file(), "no offline copy of {}", c.name);
            url::Url::from_file_path(file).unwrap().to_string()
        })
        .collect();
    let offline = open_in_chromium(&offline_pages, &[], &artifacts.join("news-offline.png"));
    let files: Vec<String> = all_files(&offline_dir)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();

    let mut problems = Vec::new();
    for ((construct, live), offline) in CONSTRUCTS.iter().zip(&live).zip(&offline) {
        let name = construct.name;
        problems.extend(
            uncontained(offline)
                .into_iter()
                .map(|p| format!("{name}: {p}")),
        );
        let shown_live = images_loaded(live);
        let shown_offline = images_loaded(offline);
        // The offline copy names a file with a query after its path's name (`a.jpg_w=8-HASH.jpg`).
        let missing: Vec<&String> = shown_live
            .iter()
            .filter(|l| !shown_offline.iter().any(|o| o.starts_with(l.as_str())))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{name}: shown live, not offline: {missing:?} (offline: {shown_offline:?})"
            ));
        }
        for expected in construct.shows {
            if !shown_offline.iter().any(|s| s.starts_with(expected)) {
                problems.push(format!(
                    "{name}: {expected} not shown offline: {shown_offline:?}"
                ));
            }
        }
        for expected in construct.captures {
            if !files.iter().any(|f| f.starts_with(expected)) {
                problems.push(format!("{name}: {expected} not in the offline copy"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Links to what was not archived lead to the live page, as `wget -k` writes them.
    let unarchived = fs::read_to_string(offline_dir.join("news.example/unarchived.html")).unwrap();
    for link in [
        r#"href="https://news.example/member/login.aspx""#,
        r#"href="https://ads.example/landing""#,
    ] {
        assert!(unarchived.contains(link), "{link} in {unarchived}");
    }
}
