//! Replay of what a page's scripts build (issue 19): a lead image set by a script, a
//! stylesheet and a script added to the page, markup written with `document.write`, a
//! `fetch` and an XHR of archived JSON, a font face built from that JSON, rules inserted into
//! a style sheet, a history entry, and the page reading its own `location`. In headless
//! Chromium each loads from the archive, nothing leaves the server, and only the page itself
//! is redirected to its capture's timestamp: what it embeds was captured seconds later and is
//! answered at once. Over HTTP: ranges of an archived 404, `HEAD`, and conditional requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::archive_ok;
use crate::browser::artifacts;
use crate::fixture::{Handler, HttpsFixture, Request, Step, jpeg, response, response_with};
use crate::replay::ReplayServer;
use crate::support::*;

const PAGE: &str = "https://scripted.example/news/article.html";

/// The article: every reference but the stylesheet's is built by a script as the page runs.
const ARTICLE: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><title>Scripted article</title>
<link rel="stylesheet" href="/css/site.css">
<script>
  window.seen = { href: location.href, windowHref: window.location.href,
                  origin: location.origin, url: document.URL, top: top.location.href };
  const articleConfig = { section: "news" };
  const name = "scripted-app";
  let counter = 0;
  function bump() { counter += 1; }
  window.addEventListener("message", function (e) { seen.message = e.origin + " " + e.data; });
  window.postMessage("hello", location.origin);
</script>
</head><body>
<h1>Scripted article</h1>
<img id="lead" alt="lead photo" width="40" height="30">
<div id="marker">marker</div>
<div id="painted" style="width:20px;height:20px"></div>
<p id="inserted">inserted font</p>
<p id="json"></p><p id="xhr"></p>
<script>
  seen.config = typeof articleConfig === "object" ? articleConfig.section : "lost";
  bump();
  bump();
  seen.counter = counter;
  seen.name = name;
  document.getElementById("lead").src = "/images/lead.jpg";
  var extra = document.createElement("link");
  extra.rel = "stylesheet";
  extra.href = "https://scripted.example/css/extra.css";
  document.head.appendChild(extra);
  var added = document.createElement("script");
  added.src = "//scripted.example/js/added.js";
  document.head.appendChild(added);
  document.write('<script src="/js/written.js"><\/script><img id="written" src="../images/written.jpg">');
  document.write('<img id="pieces" src="', "/images/pieces.jpg", '">');
  document.getElementById("painted").style.backgroundImage = "url(/images/painted.jpg)";
  var responsive = document.createElement("img");
  responsive.setAttribute("srcset", "/images/small.jpg 1x, /images/large.jpg 2x");
  document.body.appendChild(responsive);
  var rules = document.createElement("style");
  document.head.appendChild(rules);
  rules.sheet.insertRule("@font-face { font-family: Inserted; src: url(/fonts/inserted.ttf) }");
  rules.sheet.insertRule("#inserted { font-family: Inserted }");
  seen.json = fetch("/data/article.json")
    .then(function (r) { return r.json(); })
    .then(function (article) {
      document.getElementById("json").textContent = article.headline;
      var face = new FontFace(article.font.family, "url(" + article.font.url + ")");
      document.fonts.add(face);
      return face.load().then(function () { return face.status; },
                              function (e) { return "error " + e; });
    });
  var xhr = new XMLHttpRequest();
  xhr.open("GET", "related.json");
  xhr.onload = function () {
    document.getElementById("xhr").textContent = JSON.parse(xhr.responseText).title;
  };
  xhr.send();
  history.pushState({ page: 2 }, "", "article.html?page=2");
  seen.pushed = location.href;
  var socket = new WebSocket("wss://scripted.example/live");
  socket.onerror = function () { seen.socket = "refused"; };
</script>
</body></html>
"##;

/// The resources the scripts ask for, each captured after the page.
const RESOURCES: [&str; 15] = [
    "/css/extra.css",
    "/js/added.js",
    "/js/written.js",
    "/images/lead.jpg",
    "/images/written.jpg",
    "/images/pieces.jpg",
    "/images/painted.jpg",
    "/images/small.jpg",
    "/images/large.jpg",
    "/images/extra.jpg",
    "/fonts/inserted.ttf",
    "/fonts/archived.ttf",
    "/data/article.json",
    "/news/related.json",
    "/missing",
];

/// A real font, so a face built from it loads: the smallest TrueType file on the machine
/// (Chromium's fonts are), or none.
fn a_font() -> Option<Vec<u8>> {
    let mut fonts: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![PathBuf::from("/usr/share/fonts")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "ttf") {
                fonts.push(path);
            }
        }
    }
    fonts.sort_by_key(|f| f.metadata().map(|m| m.len()).unwrap_or(u64::MAX));
    fonts.first().and_then(|f| std::fs::read(f).ok())
}

fn site(font: Option<Vec<u8>>) -> Handler {
    let font = Arc::new(font.unwrap_or_else(|| b"no font on this machine".to_vec()));
    Arc::new(move |req: &Request| {
        let path = req.target.split('?').next().unwrap_or_default();
        let send = |ct: &str, body: &[u8]| vec![Step::Send(response("200 OK", ct, body))];
        match path {
            "/news/article.html" => send("text/html; charset=utf-8", ARTICLE.as_bytes()),
            "/css/site.css" => send("text/css", b"body { font: 16px sans-serif }"),
            "/css/extra.css" => send(
                "text/css",
                b"#marker { width: 123px; background: url(../images/extra.jpg) }",
            ),
            "/js/added.js" => send(
                "application/javascript",
                b"window.addedRan = true;\nseen.addedHref = location.href;\nconst addedConst = 7;\n",
            ),
            "/js/written.js" => send("application/javascript", b"window.writtenRan = true;\n"),
            "/data/article.json" => send(
                "application/json",
                br#"{"headline": "Headline from the archive", "font": {"family": "Archived Sans", "url": "/fonts/archived.ttf"}}"#,
            ),
            "/news/related.json" => send("application/json", br#"{"title": "Related from the archive"}"#),
            "/fonts/inserted.ttf" | "/fonts/archived.ttf" => send("font/ttf", &font),
            "/missing" => vec![Step::Send(response(
                "404 Not Found",
                "text/html",
                b"<p>archived not found page</p>",
            ))],
            "/robots.txt" => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
            p if p.starts_with("/images/") => send("image/jpeg", &jpeg(p)),
            _ => vec![Step::Send(response_with("404 Not Found", &[], b""))],
        }
    })
}

/// `page` captured now, what it embeds (`origin` + each of `resources`) five seconds on, as
/// a crawler that reached them later would have: their timestamps differ.
pub fn archive_page_then_resources(
    archives: &Path,
    fixture: &HttpsFixture,
    page: &str,
    origin: &str,
    resources: &[&str],
) {
    archive_ok(
        archives,
        fixture,
        &["--no-progress", "--depth", "0"],
        &[page],
    );
    let options = cairn::archive::ArchiveOptions {
        targets: resources
            .iter()
            .map(|path| format!("{origin}{path}"))
            .collect(),
        depth: 0,
        no_progress: true,
        ca_cert: vec![fixture.ca_pem.clone()],
        connect_to: fixture.connect_to(),
        ..Default::default()
    };
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    let collection =
        cairn::collection::Archives::new(archives).collection(&"default".parse().unwrap());
    cairn::archive::archive_at(
        &collection,
        &options,
        cairn::archive::Resume::default(),
        cairn::warc::Clock::ticking(later, time::Duration::milliseconds(1)),
        cairn::warc::RecordIds::random(),
    )
    .unwrap();
}

fn archive_scripted_site(archives: &Path, fixture: &HttpsFixture) {
    archive_page_then_resources(
        archives,
        fixture,
        PAGE,
        "https://scripted.example",
        &RESOURCES,
    );
}

#[test]
fn chromium_loads_what_scripts_build_from_the_archive() {
    if !requires(&["chromium", "python3", "python:websockets"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let font = a_font();
    let has_font = font.is_some();
    {
        let fixture = HttpsFixture::start(&["scripted.example"], site(font)).unwrap();
        archive_scripted_site(&archives, &fixture);
    }
    let server = ReplayServer::start(&archives);
    let url = format!("{}/default/2030/{PAGE}", server.origin);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
    let probe = "seen.json.then(function (font) { return JSON.stringify({ seen: seen, font: font, \
        real: window.location.href, \
        json: document.getElementById('json').textContent, \
        xhr: document.getElementById('xhr').textContent, \
        marker: getComputedStyle(document.getElementById('marker')).width, \
        added: window.addedRan === true, written: window.writtenRan === true, \
        addedConst: typeof addedConst === 'number' ? addedConst : null, \
        lead: document.getElementById('lead').naturalWidth, \
        insertedFont: document.fonts.check('12px Inserted') }); })";
    let out = run_ok(
        tool("python3")
            .arg(script)
            .arg(&url)
            .arg(artifacts().join("replayed-scripted.png"))
            .args(["--eval", probe]),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let strings = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect()
    };
    let origin = format!("{}/", server.origin);
    let escaped: Vec<String> = report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .filter(|r| !r.starts_with(&origin) && !r.starts_with("data:"))
        .map(String::from)
        .collect();
    assert!(escaped.is_empty(), "requests left the server: {escaped:?}");
    assert!(
        strings("failed").is_empty(),
        "loads failed: {:?}",
        report["failed"]
    );
    // Every archived resource the scripts asked for was answered from the archive.
    let statuses = report["statuses"].as_object().unwrap();
    // (Of the `srcset`, the browser picks the 1x candidate; `/missing` is nobody's.)
    for path in RESOURCES
        .iter()
        .filter(|p| !matches!(**p, "/missing" | "/images/large.jpg"))
    {
        let served = statuses
            .iter()
            .find(|(url, _)| url.ends_with(&format!("https://scripted.example{path}")));
        assert!(
            served.is_some_and(|(_, status)| status == 200),
            "{path} was not loaded from the archive: {served:?}\n{statuses:#?}"
        );
    }
    // Only the page itself went to its capture's timestamp.
    let redirects = report["redirects"].as_array().unwrap();
    assert_eq!(redirects.len(), 1, "{redirects:?}");
    assert_eq!(redirects[0]["type"], "Document", "{redirects:?}");
    let images = report["images"].as_array().unwrap();
    assert!(images.len() >= 3, "{images:?}");
    for image in images {
        assert!(
            image["naturalWidth"].as_u64().unwrap_or(0) > 0,
            "broken: {image}"
        );
    }

    let probe: serde_json::Value =
        serde_json::from_str(report["evals"][0].as_str().unwrap()).unwrap();
    let seen = &probe["seen"];
    assert_eq!(seen["href"], PAGE, "{probe:#}");
    assert_eq!(seen["windowHref"], PAGE);
    assert_eq!(seen["top"], PAGE);
    assert_eq!(seen["origin"], "https://scripted.example");
    assert_eq!(seen["url"], PAGE);
    assert_eq!(seen["pushed"], format!("{PAGE}?page=2"));
    assert_eq!(seen["config"], "news", "a top-level const stays global");
    assert_eq!(seen["name"], "scripted-app", "even one the window has");
    assert_eq!(
        seen["counter"], 2,
        "a let given back is the script's own binding"
    );
    assert_eq!(
        seen["message"], "https://scripted.example hello",
        "{probe:#}"
    );
    assert_eq!(seen["socket"], "refused");
    assert!(
        seen["addedHref"]
            .as_str()
            .is_some_and(|h| h.starts_with(PAGE)),
        "{probe:#}"
    );
    // The real address stays in the archive, history moved with it.
    let real = probe["real"].as_str().unwrap();
    assert!(
        real.starts_with(&format!("{}/default/", server.origin))
            && real.ends_with(&format!("/{PAGE}?page=2")),
        "{real}"
    );
    assert_eq!(probe["json"], "Headline from the archive");
    assert_eq!(probe["xhr"], "Related from the archive");
    assert_eq!(probe["marker"], "123px");
    assert_eq!(probe["added"], true);
    assert_eq!(probe["written"], true);
    assert_eq!(probe["addedConst"], 7);
    assert!(probe["lead"].as_u64().unwrap_or(0) > 0, "{probe:#}");
    if has_font {
        assert_eq!(probe["font"], "loaded", "{probe:#}");
        assert_eq!(probe["insertedFont"], true, "{probe:#}");
    } else {
        eprintln!("no TrueType font on this machine: the faces' loads were not checked");
    }
}

/// A request without following redirects: status, headers, body.
fn exchange(
    server: &ReplayServer,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let url = format!("{}{path}", server.origin);
    let client = http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = client.request(method, &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    })
}

#[test]
fn replay_answers_http_as_a_cache_and_a_player_expect() {
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    {
        let fixture = HttpsFixture::start(&["scripted.example"], site(None)).unwrap();
        archive_scripted_site(&archives, &fixture);
    }
    let server = ReplayServer::start(&archives);
    let get = reqwest::Method::GET;
    let image = "https://scripted.example/images/lead.jpg";

    // Asked at the page's time: a navigation goes to the capture's own timestamp, an embed
    // (as the browser or a modifier says) is answered at once.
    let (status, headers, _) =
        exchange(&server, get.clone(), &format!("/default/2020/{image}"), &[]);
    assert_eq!(status, 302);
    assert!(headers["vary"].to_str().unwrap().contains("Sec-Fetch-Mode"));
    let embedded = [("sec-fetch-mode", "no-cors"), ("sec-fetch-dest", "image")];
    let (status, headers, body) = exchange(
        &server,
        get.clone(),
        &format!("/default/2020/{image}"),
        &embedded,
    );
    assert_eq!(status, 200);
    assert_eq!(body, jpeg("/images/lead.jpg"));
    assert!(headers.contains_key("memento-datetime"));
    let (status, _, _) = exchange(
        &server,
        get.clone(),
        &format!("/default/2020im_/{image}"),
        &[],
    );
    assert_eq!(status, 200);

    // HEAD answers as GET, without the body.
    let exact = format!("/default/2030im_/{image}");
    let (_, got, body) = exchange(&server, get.clone(), &exact, &[]);
    let (status, head, head_body) = exchange(&server, reqwest::Method::HEAD, &exact, &[]);
    assert_eq!(status, 200);
    assert!(head_body.is_empty());
    for field in [
        "content-type",
        "content-length",
        "etag",
        "last-modified",
        "memento-datetime",
    ] {
        assert_eq!(head.get(field), got.get(field), "{field}");
    }
    assert_eq!(
        got["content-length"].to_str().unwrap(),
        body.len().to_string()
    );

    // Validators: the payload's digest and the capture's date.
    let etag = got["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("\"sha256:"), "{etag}");
    let (status, _, body) = exchange(&server, get.clone(), &exact, &[("if-none-match", &etag)]);
    assert_eq!((status, body.len()), (304, 0));
    let (status, _, _) = exchange(
        &server,
        get.clone(),
        &exact,
        &[("if-none-match", "\"other\"")],
    );
    assert_eq!(status, 200);
    let date = got["last-modified"].to_str().unwrap().to_string();
    let (status, _, _) = exchange(
        &server,
        get.clone(),
        &exact,
        &[("if-modified-since", &date)],
    );
    assert_eq!(status, 304);
    let (status, _, _) = exchange(
        &server,
        get.clone(),
        &exact,
        &[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")],
    );
    assert_eq!(status, 200);
    // A rewritten page has a validator of its own, weak: its bytes are the replay's.
    let (status, page, _) = exchange(
        &server,
        get.clone(),
        &format!("/default/2020/{PAGE}"),
        &[("sec-fetch-mode", "cors")],
    );
    assert_eq!(status, 200);
    let page_etag = page["etag"].to_str().unwrap().to_string();
    assert!(page_etag.starts_with("W/\""), "{page_etag}");
    let (status, _, _) = exchange(
        &server,
        get.clone(),
        &format!("/default/2020/{PAGE}"),
        &[("sec-fetch-mode", "cors"), ("if-none-match", &page_etag)],
    );
    assert_eq!(status, 304);

    // A range of an archived 404 is the 404, whole; of a 200, the slice.
    // (As a player asks: not a navigation.)
    let missing = "/default/2030/https://scripted.example/missing";
    let media = ("sec-fetch-mode", "no-cors");
    let (status, headers, body) = exchange(
        &server,
        get.clone(),
        missing,
        &[media, ("range", "bytes=0-3")],
    );
    assert_eq!(status, 404);
    assert!(!headers.contains_key("content-range"));
    assert!(String::from_utf8_lossy(&body).contains("archived not found page"));
    let (status, _, _) = exchange(
        &server,
        get.clone(),
        missing,
        &[media, ("if-none-match", "*")],
    );
    assert_eq!(status, 404, "an error is never 'not modified'");
    let (status, headers, body) = exchange(&server, get, &exact, &[("range", "bytes=0-3")]);
    assert_eq!(status, 206);
    assert_eq!(body, jpeg("/images/lead.jpg")[..4]);
    assert!(
        headers["content-range"]
            .to_str()
            .unwrap()
            .starts_with("bytes 0-3/")
    );
}
