//! The seed post's source as a fixture web: the CNA article at
//! https://www.cna.com.tw/news/aopl/202303220008.aspx (built from the seed post's body, with its
//! tag links, related news and lazy carousel images), its stylesheet and script, the related
//! and tag pages, and the images on imgcdn.cna.com.tw. Every answer is a pure function of the
//! request, so tests can compute what each URL's payload must be.

use std::sync::Arc;

use super::SEED_POST;
use super::server::{Handler, HttpsFixture, Request, Step, jpeg, response};

pub const ARTICLE: &str = "https://www.cna.com.tw/news/aopl/202303220008.aspx";
pub const HOSTS: &[&str] = &["www.cna.com.tw", "imgcdn.cna.com.tw"];

/// The HTML part of the seed post (what follows its front matter and Markdown title).
fn seed_body() -> &'static str {
    SEED_POST
        .find("<div>")
        .map_or(SEED_POST, |start| &SEED_POST[start..])
}

/// The article page: the seed body in a CNA-like page, with a stylesheet, a script, a lazy
/// `<picture>` and a link out of scope.
pub fn article_html() -> String {
    format!(
        r#"<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8">
<title>習蒲強調通過和談解決烏克蘭危機 會談似未有突破 | 國際 | 中央社 CNA</title>
<link rel="stylesheet" href="/css/main.css?v=3"><link rel="icon" href="/favicon.ico">
<script src="/js/app.js" defer></script></head>
<body><article class="centralContent"><h1>習蒲強調通過和談解決烏克蘭危機 會談似未有突破</h1>
<figure><picture><source data-srcset="https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230322/main.webp 1024w"><img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230322/main.jpg" alt="習近平與蒲亭"></picture></figure>
{}
<p><a href="https://www.example.org/elsewhere">外部連結</a></p></article></body></html>"#,
        seed_body()
    )
}

/// A related or listed page: a title, an image of its own and a link one level deeper.
pub fn related_html(path: &str) -> String {
    format!(
        r#"<html><head><meta charset="utf-8"><title>related {path}</title></head><body>
<img src="https://imgcdn.cna.com.tw/www/related{}.jpg"><a href="/news/deeper{}.aspx">deeper</a></body></html>"#,
        path.replace(['/', '?', '=', '%', '.'], "_"),
        path.len()
    )
}

pub const CSS: &str =
    "@import url(\"/css/print.css\");\nbody { background: #fff url('/img/bg.png') no-repeat }\n";

/// The answer for a request, as (status, content type, body).
pub fn answer(host: &str, target: &str) -> (&'static str, &'static str, Vec<u8>) {
    let host = host.split(':').next().unwrap_or(host);
    match (host, target) {
        ("www.cna.com.tw", "/robots.txt") => (
            "200 OK",
            "text/plain",
            b"User-agent: *\nDisallow: /private/\n".to_vec(),
        ),
        ("www.cna.com.tw", "/news/aopl/202303220008.aspx") => (
            "200 OK",
            "text/html; charset=utf-8",
            article_html().into_bytes(),
        ),
        ("www.cna.com.tw", "/css/main.css?v=3") => ("200 OK", "text/css", CSS.as_bytes().to_vec()),
        ("www.cna.com.tw", "/css/print.css") => (
            "200 OK",
            "text/css",
            b"@media print { nav { display: none } }".to_vec(),
        ),
        ("www.cna.com.tw", "/js/app.js") => (
            "200 OK",
            "application/javascript",
            b"document.documentElement.className += ' js';".to_vec(),
        ),
        ("www.cna.com.tw", "/img/bg.png") | ("www.cna.com.tw", "/favicon.ico") => {
            ("200 OK", "image/jpeg", jpeg(target))
        }
        ("www.cna.com.tw", t)
            if t.starts_with("/news/") || t.starts_with("/tag/") || t.starts_with("/list/") =>
        {
            (
                "200 OK",
                "text/html; charset=utf-8",
                related_html(t).into_bytes(),
            )
        }
        ("imgcdn.cna.com.tw", "/robots.txt") => {
            ("404 Not Found", "text/plain", b"no robots here".to_vec())
        }
        ("imgcdn.cna.com.tw", t) if t.ends_with(".jpg") || t.ends_with(".webp") => {
            ("200 OK", "image/jpeg", jpeg(t))
        }
        _ => ("404 Not Found", "text/html", b"<h1>not found</h1>".to_vec()),
    }
}

pub fn start() -> std::io::Result<HttpsFixture> {
    let handler: Handler = Arc::new(|req: &Request| {
        let (status, content_type, body) = answer(&req.host, &req.target);
        vec![Step::Send(response(status, content_type, &body))]
    });
    HttpsFixture::start(HOSTS, handler)
}
