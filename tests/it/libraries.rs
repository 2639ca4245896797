//! A news page built as the wild builds them, with real, unmodified library files from npm:
//! jQuery 3 (a related-news list from `$.getJSON`, thumbnails built with `$('<img>')`, a share
//! link from `window.location.href`, `$(document).ready`, `$(window).on('load')`), lazysizes
//! (`data-src`, `data-srcset`, and its unveilhooks plugin's `data-bg`), the setImmediate
//! polyfill (postMessage underneath), a webpack-style runtime that reads chunks pushed before
//! it and loads one more, and top-level `const`/`let` shared between inline scripts. The page
//! is opened live first (through the fixture), then archived, with what its scripts fetch
//! captured seconds after it, and replayed in headless Chromium: it asks for the same
//! resources, each answered from the archive, no script throws, and it reads its original
//! address. The packages are installed by `scripts/test` into `target/npm-libraries/`.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::browser::artifacts;
use crate::fixture::{Handler, HttpsFixture, Request, Step, jpeg, response, response_with};
use crate::replay::ReplayServer;
use crate::support::*;

const HOST: &str = "news.example";
const PAGE: &str = "https://news.example/world/2024/05/14/harbour-reopens.html?ref=front";

/// The npm packages' files the page loads, as they are: where each is under `node_modules`,
/// and the path the site serves it at (the page asks with a `?v=` to bust caches).
const LIBRARIES: [(&str, &str); 4] = [
    (
        "jquery/dist/jquery.min.js",
        "/assets/js/vendor/jquery.min.js",
    ),
    (
        "lazysizes/lazysizes.min.js",
        "/assets/js/vendor/lazysizes.min.js",
    ),
    (
        "lazysizes/plugins/unveilhooks/ls.unveilhooks.min.js",
        "/assets/js/vendor/ls.unveilhooks.min.js",
    ),
    (
        "setimmediate/setImmediate.js",
        "/assets/js/vendor/setImmediate.js",
    ),
];

/// The article. An error monitor comes first, as a site's does; then the libraries, the
/// page's own scripts, and a webpack chunk pushed before the runtime that reads it.
const ARTICLE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour reopens after the storm | News Example</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>
  window.errors = [];
  window.onerror = function (message, source, line, column) {
    window.errors.push(message + " (" + source + ":" + line + ":" + column + ")");
  };
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window && target.tagName) {
      window.errors.push("failed to load " + target.tagName + " " +
        (target.currentSrc || target.src || target.href));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    window.errors.push("unhandled rejection: " + (event.reason && event.reason.message || event.reason));
  });
</script>
<link rel="stylesheet" href="/assets/css/site.css?v=20240514">
<script src="/assets/js/vendor/jquery.min.js?v=3.7.1"></script>
<script src="/assets/js/vendor/ls.unveilhooks.min.js?v=5.3.2" async></script>
<script src="/assets/js/vendor/lazysizes.min.js?v=5.3.2" async></script>
<script src="/assets/js/vendor/setImmediate.js?v=1.0.5"></script>
<script>
  const SITE = { name: "News Example", relatedLimit: 4 };
  let readerState = { immediate: [], chunks: [] };
</script>
<script>
  const pageInfo = {
    url: location.href,
    path: location.pathname,
    from: new URLSearchParams(location.search).get("ref"),
    section: location.pathname.split("/")[1]
  };
</script>
</head><body>
<header><a class="logo" href="/">News Example</a>
<nav><a href="/world/">World</a> <a href="/business/">Business</a></nav></header>
<article>
<h1>Harbour reopens after the storm</h1>
<p class="byline">By A. Reporter, 14 May 2024</p>
<figure><img id="lead" class="lazyload" alt="The harbour at dawn" width="800" height="450"
  src="data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="
  data-src="/media/2024/05/harbour-800.jpg"
  data-srcset="/media/2024/05/harbour-800.jpg 800w, /media/2024/05/harbour-1600.jpg 1600w"
  data-sizes="auto"></figure>
<p>The harbour reopened on Tuesday, three days after the storm closed it.</p>
<p class="share"><a id="share-twitter" href="#">Share</a>
<input id="share-url" readonly size="80"></p>
<div id="promo" class="promo lazyload" data-bg="/media/promo/subscribe-banner.jpg"
  style="height:120px"></div>
<p style="margin-top:2400px">Crews worked through the night to clear the quay.</p>
<figure><img id="crane" class="lazyload" alt="A crane on the quay" width="600" height="400"
  data-src="https://news.example/media/2024/05/harbour-crane.jpg"></figure>
</article>
<aside id="related"><h2>Related</h2><ul></ul></aside>
<section id="comments">comments loading</section>
<script>
  setImmediate(function (label) { readerState.immediate.push(label); }, "first");
  setTimeout(function () {
    setImmediate(function () { readerState.immediate.push("second"); });
  }, 0);
</script>
<script>
  $(document).ready(function () {
    var shareUrl = window.location.href.split("#")[0];
    $("#share-twitter").attr("href",
      "https://twitter.com/intent/tweet?url=" + encodeURIComponent(shareUrl));
    $("#share-url").val(shareUrl);
    readerState.ready = true;
    readerState.pageUrl = pageInfo.url;
    readerState.from = pageInfo.from;
    $.getJSON("/api/related.json", { section: pageInfo.section, limit: SITE.relatedLimit },
      function (data) {
        var $list = $("#related ul");
        $.each(data.items, function (i, item) {
          $("<li>").append(
            $("<a>").attr("href", item.url).append(
              $("<img>").attr({ src: item.image, alt: item.title, width: 160, height: 120 }),
              $("<span>").text(item.title))
          ).appendTo($list);
        });
        readerState.related = data.items.length;
      })
      .fail(function (xhr, status, error) {
        window.errors.push("related: " + status + " " + error);
      });
  });
  $(window).on("load", function () { readerState.windowLoaded = true; });
</script>
<script>
  (self.webpackChunknews_example = self.webpackChunknews_example || []).push([["article"], {
    "./src/article.js": function (module, exports, __webpack_require__) {
      readerState.chunks.push("article");
      exports.start = function () {
        return __webpack_require__.e("comments").then(function () {
          var comments = __webpack_require__("./src/comments.js");
          comments.render(document.getElementById("comments"));
          readerState.comments = comments.count;
        });
      };
    }
  }, function (__webpack_require__) {
    __webpack_require__("./src/article.js").start().catch(function (error) {
      window.errors.push("chunk: " + error.message);
    });
  }]);
</script>
<script src="/assets/js/runtime.4c1f2a.js"></script>
<footer>&copy; News Example</footer>
</body></html>
"##;

/// A webpack 5 runtime, trimmed to what the page uses: modules from chunks pushed to
/// `self.webpackChunknews_example` (before it ran or after), a public path found from its own
/// `<script>`, and a chunk loaded with a `<script>` it adds to the page.
const RUNTIME: &str = r#"(() => {
  "use strict";
  var __webpack_modules__ = {};
  var __webpack_module_cache__ = {};
  function __webpack_require__(moduleId) {
    var cachedModule = __webpack_module_cache__[moduleId];
    if (cachedModule !== undefined) return cachedModule.exports;
    var module = (__webpack_module_cache__[moduleId] = { exports: {} });
    __webpack_modules__[moduleId](module, module.exports, __webpack_require__);
    return module.exports;
  }
  __webpack_require__.m = __webpack_modules__;
  __webpack_require__.o = (obj, prop) => Object.prototype.hasOwnProperty.call(obj, prop);
  __webpack_require__.g = (function () {
    if (typeof globalThis === "object") return globalThis;
    try { return this || new Function("return this")(); }
    catch (e) { if (typeof window === "object") return window; }
  })();
  __webpack_require__.f = {};
  __webpack_require__.e = (chunkId) => Promise.all(Object.keys(__webpack_require__.f)
    .reduce((promises, key) => { __webpack_require__.f[key](chunkId, promises); return promises; }, []));
  __webpack_require__.u = (chunkId) => "" + chunkId + "." + { comments: "9e3b7d" }[chunkId] + ".chunk.js";
  (() => {
    var scriptUrl;
    if (__webpack_require__.g.importScripts) scriptUrl = __webpack_require__.g.location + "";
    var document = __webpack_require__.g.document;
    if (!scriptUrl && document) {
      if (document.currentScript && document.currentScript.tagName.toUpperCase() === "SCRIPT")
        scriptUrl = document.currentScript.src;
      if (!scriptUrl) {
        var scripts = document.getElementsByTagName("script");
        if (scripts.length) {
          var i = scripts.length - 1;
          while (i > -1 && (!scriptUrl || !/^http(s?):/.test(scriptUrl))) scriptUrl = scripts[i--].src;
        }
      }
    }
    if (!scriptUrl) throw new Error("Automatic publicPath is not supported in this browser");
    scriptUrl = scriptUrl.replace(/#.*$/, "").replace(/\?.*$/, "").replace(/\/[^\/]+$/, "/");
    __webpack_require__.p = scriptUrl;
  })();
  var inProgress = {};
  __webpack_require__.l = (url, done, key, chunkId) => {
    if (inProgress[url]) { inProgress[url].push(done); return; }
    var script = document.createElement("script");
    script.charset = "utf-8";
    script.src = url;
    inProgress[url] = [done];
    var onScriptComplete = (prev, event) => {
      script.onerror = script.onload = null;
      clearTimeout(timeout);
      var doneFns = inProgress[url];
      delete inProgress[url];
      script.parentNode && script.parentNode.removeChild(script);
      doneFns && doneFns.forEach((fn) => fn(event));
      if (prev) return prev(event);
    };
    var timeout = setTimeout(onScriptComplete.bind(null, undefined, { type: "timeout", target: script }), 120000);
    script.onerror = onScriptComplete.bind(null, script.onerror);
    script.onload = onScriptComplete.bind(null, script.onload);
    document.head.appendChild(script);
  };
  var installedChunks = { runtime: 0 };
  __webpack_require__.f.j = (chunkId, promises) => {
    var installedChunkData = __webpack_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
    if (installedChunkData !== 0) {
      if (installedChunkData) {
        promises.push(installedChunkData[2]);
      } else {
        var promise = new Promise((resolve, reject) => (installedChunkData = installedChunks[chunkId] = [resolve, reject]));
        promises.push((installedChunkData[2] = promise));
        var url = __webpack_require__.p + __webpack_require__.u(chunkId);
        var error = new Error();
        var loadingEnded = (event) => {
          if (__webpack_require__.o(installedChunks, chunkId)) {
            installedChunkData = installedChunks[chunkId];
            if (installedChunkData !== 0) installedChunks[chunkId] = undefined;
            if (installedChunkData) {
              var errorType = event && (event.type === "load" ? "missing" : event.type);
              var realSrc = event && event.target && event.target.src;
              error.message = "Loading chunk " + chunkId + " failed.\n(" + errorType + ": " + realSrc + ")";
              error.name = "ChunkLoadError";
              installedChunkData[1](error);
            }
          }
        };
        __webpack_require__.l(url, loadingEnded, "chunk-" + chunkId, chunkId);
      }
    }
  };
  var webpackJsonpCallback = (parentChunkLoadingFunction, data) => {
    var [chunkIds, moreModules, runtime] = data;
    var moduleId, chunkId, i = 0;
    if (chunkIds.some((id) => installedChunks[id] !== 0)) {
      for (moduleId in moreModules) {
        if (__webpack_require__.o(moreModules, moduleId)) __webpack_require__.m[moduleId] = moreModules[moduleId];
      }
      if (runtime) runtime(__webpack_require__);
    }
    if (parentChunkLoadingFunction) parentChunkLoadingFunction(data);
    for (; i < chunkIds.length; i++) {
      chunkId = chunkIds[i];
      if (__webpack_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) installedChunks[chunkId][0]();
      installedChunks[chunkId] = 0;
    }
  };
  var chunkLoadingGlobal = (self["webpackChunknews_example"] = self["webpackChunknews_example"] || []);
  chunkLoadingGlobal.forEach(webpackJsonpCallback.bind(null, 0));
  chunkLoadingGlobal.push = webpackJsonpCallback.bind(null, chunkLoadingGlobal.push.bind(chunkLoadingGlobal));
})();
"#;

/// The chunk the runtime loads on demand, as webpack emits one.
const COMMENTS_CHUNK: &str = r#""use strict";
(self["webpackChunknews_example"] = self["webpackChunknews_example"] || []).push([["comments"], {
  "./src/comments.js": (module, exports, __webpack_require__) => {
    readerState.chunks.push("comments");
    exports.count = 3;
    exports.render = (element) => { element.textContent = exports.count + " comments"; };
  }
}]);
"#;

/// What `$.getJSON` gets: images and links as sites write them, relative, absolute,
/// scheme-relative, and resized by a query.
const RELATED: &str = r#"{"items": [
  {"title": "Storm warning for the coast", "url": "/world/2024/05/13/storm-warning.html",
   "image": "/media/thumbs/storm-warning.jpg"},
  {"title": "Ferries keep to a new timetable", "url": "https://news.example/world/2024/05/12/ferry-timetable.html",
   "image": "https://news.example/media/thumbs/ferry-timetable.jpg"},
  {"title": "Port trade falls in April", "url": "/business/2024/05/11/port-trade.html",
   "image": "//news.example/media/thumbs/port-trade.jpg"},
  {"title": "The coastguard's long night", "url": "/world/2024/05/10/coastguard.html",
   "image": "/media/thumbs/coastguard.jpg?w=160&h=120"}
]}"#;

/// What the page's scripts fetch, none of it written in the page as the crawler reads it:
/// each captured after the page. (lazysizes picks one `data-srcset` candidate; both are kept.)
const RESOURCES: [&str; 10] = [
    "/api/related.json?section=world&limit=4",
    "/media/thumbs/storm-warning.jpg",
    "/media/thumbs/ferry-timetable.jpg",
    "/media/thumbs/port-trade.jpg",
    "/media/thumbs/coastguard.jpg?w=160&h=120",
    "/media/2024/05/harbour-800.jpg",
    "/media/2024/05/harbour-1600.jpg",
    "/media/2024/05/harbour-crane.jpg",
    "/media/promo/subscribe-banner.jpg",
    "/assets/js/comments.9e3b7d.chunk.js",
];

/// Waits for what the page builds (the related list, the lazy chunk, the immediates, the
/// lazy images and background), then reports it as JSON; a background image is decoded
/// again to read its width.
const PROBE: &str = r##"new Promise(function (resolve) {
  // A reader scrolls down to the last photo, and back.
  document.getElementById("crane").scrollIntoView();
  var deadline = Date.now() + 10000;
  var state = function () { return typeof readerState === "object" ? readerState : {}; };
  (function poll() {
    var s = state();
    var done = s.related !== undefined && s.comments !== undefined && s.windowLoaded &&
      s.immediate.length === 2 && document.querySelectorAll("img.lazyloaded").length === 2 &&
      Array.prototype.every.call(document.images, function (i) { return i.complete; }) &&
      getComputedStyle(document.getElementById("promo")).backgroundImage !== "none";
    if (done || Date.now() > deadline) { window.scrollTo(0, 0); resolve(s); }
    else { setTimeout(poll, 50); }
  })();
}).then(function (state) {
  var background = getComputedStyle(document.getElementById("promo")).backgroundImage;
  var found = /url\("?(.*?)"?\)$/.exec(background);
  var decoded = Promise.resolve(0);
  if (found) {
    var image = new Image();
    image.src = found[1];
    decoded = image.decode().then(function () { return image.naturalWidth; },
      function (error) { return "error " + error; });
  }
  return decoded.then(function (backgroundWidth) {
    var images = function (selector) {
      return Array.prototype.map.call(document.querySelectorAll(selector), function (i) {
        return { src: i.currentSrc, className: i.className, naturalWidth: i.naturalWidth,
                 sizes: i.sizes, srcset: i.getAttribute("srcset"), complete: i.complete };
      });
    };
    return JSON.stringify({
      errors: window.errors,
      state: state,
      jquery: window.jQuery && jQuery.fn.jquery,
      setImmediate: typeof window.setImmediate,
      lazySizes: typeof window.lazySizes,
      related: jQuery("#related li").length,
      relatedLinks: jQuery("#related a").length,
      thumbs: images("#related img"),
      lazy: images("#lead, #crane"),
      background: background,
      backgroundWidth: backgroundWidth,
      share: document.getElementById("share-twitter").getAttribute("href"),
      shareUrl: document.getElementById("share-url").value,
      comments: document.getElementById("comments").textContent
    });
  });
})"##;

/// The libraries' files, read from the installed packages; `None` (the test skipped) where
/// they are not installed, a failure under `scripts/test` (`CAIRN_REQUIRE_TOOLS`), as
/// [`requires`] has it.
fn installed_libraries() -> Option<Vec<(&'static str, Vec<u8>)>> {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/npm-libraries/node_modules");
    let missing: Vec<PathBuf> = LIBRARIES
        .iter()
        .map(|(file, _)| modules.join(file))
        .filter(|path| !path.is_file())
        .collect();
    if missing.is_empty() {
        return Some(
            LIBRARIES
                .iter()
                .map(|(file, served)| (*served, std::fs::read(modules.join(file)).unwrap()))
                .collect(),
        );
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    let message = format!(
        "skipped {test}: needs the npm packages jquery, lazysizes and setimmediate in \
         target/npm-libraries (scripts/test installs them); missing {missing:?}\n"
    );
    assert!(
        std::env::var_os("CAIRN_REQUIRE_TOOLS").is_none(),
        "{message}"
    );
    let _ = std::io::stderr().write_all(message.as_bytes());
    None
}

fn site(libraries: Vec<(&'static str, Vec<u8>)>) -> Handler {
    let libraries = Arc::new(libraries);
    Arc::new(move |req: &Request| {
        let path = req.target.split('?').next().unwrap_or_default();
        let send = |ct: &str, body: &[u8]| vec![Step::Send(response("200 OK", ct, body))];
        let javascript = "application/javascript; charset=utf-8";
        if let Some((_, file)) = libraries.iter().find(|(served, _)| *served == path) {
            return send(javascript, file);
        }
        match path {
            "/world/2024/05/14/harbour-reopens.html" => {
                send("text/html; charset=utf-8", ARTICLE.as_bytes())
            }
            "/assets/css/site.css" => send(
                "text/css",
                b"body { font: 16px/1.5 Georgia, serif; margin: 0 auto; max-width: 900px }\n\
                  .promo { background-size: cover }\n\
                  #related img { display: block }\n",
            ),
            "/assets/js/runtime.4c1f2a.js" => send(javascript, RUNTIME.as_bytes()),
            "/assets/js/comments.9e3b7d.chunk.js" => send(javascript, COMMENTS_CHUNK.as_bytes()),
            "/api/related.json" => send("application/json", RELATED.as_bytes()),
            "/robots.txt" => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
            p if p.starts_with("/media/") => send("image/jpeg", &jpeg(p)),
            _ => vec![Step::Send(response_with("404 Not Found", &[], b""))],
        }
    })
}

/// The page captured now, what its scripts fetch five seconds on.
fn archive_news_site(archives: &Path, fixture: &HttpsFixture) {
    let origin = format!("https://{HOST}");
    crate::scripted::archive_page_then_resources(archives, fixture, PAGE, &origin, &RESOURCES);
}

/// `scripts/browser_check.py`'s report on `url`, the probe's answer parsed.
fn open(url: &str, screenshot: &str, extra: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
    let out = run_ok(
        tool("python3")
            .arg(script)
            .arg(url)
            .arg(artifacts().join(screenshot))
            .args(extra)
            .args(["--eval", PROBE]),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let probe = serde_json::from_str(report["evals"][0].as_str().unwrap_or("null"))
        .unwrap_or_else(|e| panic!("the probe's answer: {e}\n{report:#}"));
    (report, probe)
}

/// What a page built, checked the same live and in replay.
fn assert_built(probe: &serde_json::Value, what: &str) {
    assert_eq!(probe["errors"], serde_json::json!([]), "{what}: {probe:#}");
    assert_eq!(probe["jquery"], "3.7.1", "{what}: {probe:#}");
    assert_eq!(probe["setImmediate"], "function", "{what}");
    assert_eq!(probe["lazySizes"], "object", "{what}");
    let state = &probe["state"];
    assert_eq!(state["ready"], true, "{what}: {probe:#}");
    assert_eq!(state["windowLoaded"], true, "{what}: {probe:#}");
    assert_eq!(state["related"], 4, "{what}: {probe:#}");
    assert_eq!(
        state["immediate"],
        serde_json::json!(["first", "second"]),
        "{what}"
    );
    assert_eq!(
        state["chunks"],
        serde_json::json!(["article", "comments"]),
        "{what}"
    );
    assert_eq!(state["comments"], 3, "{what}: {probe:#}");
    assert_eq!(state["from"], "front", "{what}: location.search");
    assert_eq!(
        state["pageUrl"], PAGE,
        "{what}: a top-level const read location.href"
    );
    assert_eq!(probe["related"], 4, "{what}: {probe:#}");
    assert_eq!(probe["relatedLinks"], 4, "{what}");
    assert_eq!(probe["comments"], "3 comments", "{what}");
    let thumbs = probe["thumbs"].as_array().unwrap();
    let lazy = probe["lazy"].as_array().unwrap();
    assert_eq!((thumbs.len(), lazy.len()), (4, 2), "{what}: {probe:#}");
    for image in thumbs.iter().chain(lazy) {
        assert!(
            image["naturalWidth"].as_u64().unwrap_or(0) > 0,
            "{what}: not decoded: {image}"
        );
    }
    for image in lazy {
        assert!(
            image["className"]
                .as_str()
                .is_some_and(|c| c.contains("lazyloaded")),
            "{what}: lazysizes did not load {image}"
        );
    }
    assert!(
        probe["background"]
            .as_str()
            .is_some_and(|b| b.contains("/media/promo/subscribe-banner.jpg")),
        "{what}: {probe:#}"
    );
    assert!(
        probe["backgroundWidth"].as_u64().unwrap_or(0) > 0,
        "{what}: the data-bg image: {probe:#}"
    );
    // The share link and the copy field carry the article's own address.
    let encoded: String = url::form_urlencoded::byte_serialize(PAGE.as_bytes()).collect();
    let share = probe["share"].as_str().unwrap_or_default();
    assert!(
        share.ends_with(&format!("https://twitter.com/intent/tweet?url={encoded}")),
        "{what}: {share}"
    );
    assert_eq!(probe["shareUrl"], PAGE, "{what}");
}

/// The URLs a report's requests asked for, as the live web names them: a replay address
/// (`ORIGIN/COLL/TIMESTAMP[mod_]/URL`) by its URL. Chromium's own favicon request aside.
fn asked_for(report: &serde_json::Value, replay_origin: Option<&str>) -> BTreeSet<String> {
    let archived = regex::Regex::new(r"^/default/\d{1,14}(?:[a-z]{2}_)?/(.*)$").unwrap();
    report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .filter_map(|r| match replay_origin {
            None => Some(r.to_string()),
            Some(origin) => {
                let path = r.strip_prefix(origin)?;
                Some(archived.captures(path)?[1].to_string())
            }
        })
        .filter(|r| !r.ends_with("/favicon.ico") && !r.starts_with("data:"))
        .collect()
}

#[test]
fn real_libraries_run_in_replay_as_they_ran_live() {
    if !requires(&["chromium", "python3", "python:websockets"]) {
        return;
    }
    let Some(libraries) = installed_libraries() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let (live_report, live) = {
        let fixture = HttpsFixture::start(&[HOST], site(libraries)).unwrap();
        archive_news_site(&archives, &fixture);
        let map = format!("{HOST}={}", fixture.port);
        open(PAGE, "live-libraries.png", &["--map", &map])
    };
    // The fixture is as the wild has it: live, every library ran, nothing threw.
    assert!(
        live_report["failed"].as_array().unwrap().is_empty(),
        "live: {:#}",
        live_report["failed"]
    );
    assert_built(&live, "live");
    // Live, the scripts asked for what the archive was given (lazysizes took the 800w
    // candidate of the lead photo, at its 800px).
    let live_asked = asked_for(&live_report, None);
    for path in RESOURCES.iter().filter(|p| !p.contains("-1600")) {
        let url = format!("https://{HOST}{path}");
        assert!(
            live_asked.contains(&url),
            "live: {url} was not asked for: {live_asked:#?}"
        );
    }

    let server = ReplayServer::start(&archives);
    let url = format!("{}/default/2030/{PAGE}", server.origin);
    let (report, replayed) = open(&url, "replayed-libraries.png", &[]);
    let origin = format!("{}/", server.origin);
    let escaped: Vec<&str> = report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .filter(|r| !r.starts_with(&origin) && !r.starts_with("data:"))
        .collect();
    assert!(escaped.is_empty(), "requests left the server: {escaped:?}");
    assert!(
        report["failed"].as_array().unwrap().is_empty(),
        "loads failed: {:#}",
        report["failed"]
    );
    // Only the page itself went to its capture's timestamp; everything else was answered.
    let redirects = report["redirects"].as_array().unwrap();
    assert_eq!(redirects.len(), 1, "{redirects:?}");
    assert_eq!(redirects[0]["type"], "Document", "{redirects:?}");
    let statuses = report["statuses"].as_object().unwrap();
    // (Chromium asks the server for a favicon of its own; the page names none.)
    let not_ok: Vec<_> = statuses
        .iter()
        .filter(|(url, s)| **s != 200 && !url.ends_with("/favicon.ico"))
        .collect();
    assert!(not_ok.is_empty(), "not answered 200: {not_ok:?}");
    // No script threw, and the page's scripts ended where they ended live (the state they
    // kept holds the address they read, the related count, the chunks, the immediates).
    assert_eq!(
        replayed["errors"],
        serde_json::json!([]),
        "errors in replay: {replayed:#}"
    );
    assert_eq!(replayed["state"], live["state"], "{replayed:#}");
    // The replay asked for what the live page asked for, no less, no more.
    let replay_asked = asked_for(&report, Some(&server.origin));
    assert_eq!(
        replay_asked,
        live_asked,
        "replay asked for {:?} that live did not; live for {:?} that replay did not\n\
         lazy images live: {:#}\nin replay: {:#}",
        replay_asked.difference(&live_asked).collect::<Vec<_>>(),
        live_asked.difference(&replay_asked).collect::<Vec<_>>(),
        live["lazy"],
        replayed["lazy"],
    );
    // Each was answered from the archive.
    for wanted in &live_asked {
        let served = statuses
            .iter()
            .find(|(url, _)| url.ends_with(&format!("/{wanted}")));
        assert!(
            served.is_some_and(|(_, status)| status == 200),
            "{wanted} was not loaded from the archive: {served:?}\n{statuses:#?}"
        );
    }
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 6, "{images:?}");
    for image in images {
        assert!(
            image["naturalWidth"].as_u64().unwrap_or(0) > 0,
            "broken: {image}"
        );
    }
    assert_built(&replayed, "replayed");
    assert!(
        replayed["share"]
            .as_str()
            .is_some_and(|s| s.starts_with(&format!("{}/default/", server.origin))),
        "the share link leads through the archive: {}",
        replayed["share"]
    );
}
