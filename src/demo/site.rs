//! The seed post's source as a fixture web: the CNA article at
//! https://www.cna.com.tw/news/aopl/202303220008.aspx (built from the seed post's body, with its
//! tag links, related news and lazy carousel images), its stylesheet and script, the related
//! and tag pages, and the images on imgcdn.cna.com.tw. Every answer is a pure function of the
//! request and of the article's [`Edition`], so tests can compute what each URL's payload must
//! be: the article is served as first published, or as edited after publication (a headline
//! changed, a paragraph added, a correction appended), as news sites edit silently.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::SEED_POST;
use super::server::{Handler, HttpsFixture, Request, Step, jpeg, response};

pub const ARTICLE: &str = "https://www.cna.com.tw/news/aopl/202303220008.aspx";
pub const HOSTS: &[&str] = &["www.cna.com.tw", "imgcdn.cna.com.tw"];
/// The section front that lists the article (CNA's 國際 list): what a job watching a site
/// crawls, the articles one link away.
pub const SECTION: &str = "https://www.cna.com.tw/list/aopl.aspx";

/// The HTML part of the seed post (what follows its front matter and Markdown title).
fn seed_body() -> &'static str {
    SEED_POST
        .find("<div>")
        .map_or(SEED_POST, |start| &SEED_POST[start..])
}

/// Which version of the article the fixture serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    /// As first published: the seed post's text.
    First,
    /// Edited after publication: [`EDITED_HEADLINE`], [`ADDED_PARAGRAPH`] after the third
    /// paragraph, [`CORRECTION`] at the end.
    Edited,
}

pub const HEADLINE: &str = "習蒲強調通過和談解決烏克蘭危機 會談似未有突破";
pub const EDITED_HEADLINE: &str = "習蒲強調通過和談解決烏克蘭危機 澤倫斯基仍待北京答覆";
pub const ADDED_PARAGRAPH: &str = "克里姆林宮發言人培斯科夫晚間表示，兩國元首22日將在莫斯科郊外舉行非正式會晤，繼續討論烏克蘭問題。";
pub const CORRECTION: &str = "更正：本文稍早版本誤稱岸田文雄為日本外相，應為日本首相，特此更正。";

/// The third paragraph's end, where the edited article adds one.
const AFTER_THIRD: &str = "他是在基輔與來訪日本首相岸田文雄的聯合簡報中做此表示。</p>";

/// The article page as first published ([`article_html_in`]).
pub fn article_html() -> String {
    article_html_in(Edition::First)
}

/// The article page: the seed body in a CNA-like page, with a stylesheet, a script, a lazy
/// `<picture>` lead photo and a link out of scope.
pub fn article_html_in(edition: Edition) -> String {
    let (headline, body) = match edition {
        Edition::First => (HEADLINE, seed_body().to_string()),
        Edition::Edited => (
            EDITED_HEADLINE,
            seed_body()
                .replacen(AFTER_THIRD, &format!("{AFTER_THIRD}<p>{ADDED_PARAGRAPH}</p>"), 1)
                .replacen(
                    "<div class=\"articlekeywordGroup\">",
                    &format!("<p class=\"correction\">{CORRECTION}</p><div class=\"articlekeywordGroup\">"),
                    1,
                ),
        ),
    };
    format!(
        r#"<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8">
<title>{headline} | 國際 | 中央社 CNA</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{headline}"><meta property="og:site_name" content="中央社 CNA">
<link rel="stylesheet" href="/css/main.css?v=3"><link rel="icon" href="/favicon.ico">
<script src="/js/app.js" defer></script></head>
<body><header class="masthead"><span class="logo">中央社 CNA</span><span>國際</span></header>
<article class="centralContent"><h1>{headline}</h1><div class="updatetime">2023/3/22 00:08</div>
<figure class="lead"><picture><source data-srcset="https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230322/main.webp 1024w"><img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="https://imgcdn.cna.com.tw/www/WebPhotos/1024/20230322/main.jpg" alt="習近平與蒲亭"></picture><figcaption>中國國家主席習近平（左）與俄羅斯總統蒲亭（右）21日在克里姆林宮會談。（路透社）</figcaption></figure>
{body}
<p><a href="https://www.example.org/elsewhere">外部連結</a></p></article></body></html>"#
    )
}

/// A related or listed page: its title as the article's link names it, an image of its own
/// and a link one level deeper.
pub fn related_html(path: &str) -> String {
    let title = link_text(path).unwrap_or_else(|| format!("中央社 {path}"));
    format!(
        r#"<html><head><meta charset="utf-8"><title>{title} | 中央社 CNA</title><link rel="stylesheet" href="/css/main.css?v=3"></head><body><article class="centralContent"><h1>{title}</h1>
<img src="https://imgcdn.cna.com.tw/www/related{}.jpg" alt="{title}"><a href="/news/deeper{}.aspx">deeper</a></article></body></html>"#,
        path.replace(['/', '?', '=', '%', '.'], "_"),
        path.len()
    )
}

/// The section front: the article and a related page, as a list of headlines.
fn section_html() -> String {
    format!(
        r#"<html><head><meta charset="utf-8"><title>國際 | 中央社 CNA</title><link rel="stylesheet" href="/css/main.css?v=3"></head><body><h1>國際</h1><ul class="mainList">
<li><a href="{ARTICLE}">習近平與蒲亭會談</a></li><li><a href="/news/aopl/202303210336.aspx">國際要聞</a></li></ul></body></html>"#
    )
}

/// The text of the seed body's link to `path`, as a reader sees it: the related page's title.
fn link_text(path: &str) -> Option<String> {
    let body = seed_body();
    let at = body.find(&format!("href=\"https://www.cna.com.tw{path}\""))?;
    let rest = &body[at..];
    let inner = &rest[rest.find('>')? + 1..rest.find("</a>")?];
    // The text between tags (a `<span>` after an icon, say).
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.trim().trim_start_matches('#').to_string();
    (!text.is_empty()).then_some(text)
}

/// The site's stylesheet: a masthead, the article's type, a lead photo, the related-news
/// block and the focus carousel with their thumbnails (shown without the carousel's script).
/// The fixture's photos are 1-pixel black JPEGs: screened over a gradient, each shows as a
/// coloured picture of its size.
pub const CSS: &str = "@import url(\"/css/print.css\");
body { background: #fff url('/img/bg.png') no-repeat; margin: 0; color: #222; font: 17px/1.8 sans-serif }
.masthead { background: #0b3f7a; padding: .6em 1.2em; display: flex; gap: 2em; align-items: baseline }
.masthead span { color: #fff } .masthead .logo { font-weight: bold; font-size: 1.3em }
.centralContent { max-width: 46em; margin: 0 auto; padding: 1em 1.2em }
.centralContent h1 { font-size: 1.7em; line-height: 1.4; margin: .4em 0 .2em }
.updatetime { color: #777; font-size: .85em }
figure.lead { margin: 1em 0; background: linear-gradient(135deg, #34506b, #8aa0a8 45%, #c7a46a) }
figure.lead img { display: block; width: 100%; aspect-ratio: 16 / 9; object-fit: cover; mix-blend-mode: screen }
figure.lead figcaption { background: #f4f4f4; color: #555; font-size: .8em; padding: .4em .8em }
.correction { background: #fff6d6; border-left: 4px solid #e0a800; padding: .4em .8em }
.articlekeywordGroup { display: flex; gap: .6em; margin: 1.5em 0 } .keywordTag a { background: #eef3f8; padding: .2em .6em; border-radius: 1em; text-decoration: none }
.moreArticle { border-top: 3px solid #0b3f7a; margin: 1em 0; padding-top: .4em }
.moreArticle a.discursive { display: block; color: #0b3f7a; text-decoration: none; padding: .2em 0 }
.moreArticle svg { display: none }
#TopNews { display: grid !important; grid-template-columns: repeat(auto-fill, minmax(10em, 1fr)); gap: 1em }
.topNewsTitle a { font-weight: bold; color: #0b3f7a }
.topicItem a { color: #222; text-decoration: none; font-size: .85em; line-height: 1.4 }
.picWrap { background: linear-gradient(160deg, #5d7a8c, #b9b08f) }
.picWrap img { display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: cover; mix-blend-mode: screen }
.centralContent > img { display: block; width: 100%; aspect-ratio: 16 / 9; background: #8aa0a8 }
";

/// The answer for a request, the article as first published, as (status, content type,
/// body).
pub fn answer(host: &str, target: &str) -> (&'static str, &'static str, Vec<u8>) {
    answer_in(Edition::First, host, target)
}

/// The answer for a request with the article in `edition`.
pub fn answer_in(
    edition: Edition,
    host: &str,
    target: &str,
) -> (&'static str, &'static str, Vec<u8>) {
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
            article_html_in(edition).into_bytes(),
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
        ("www.cna.com.tw", "/list/aopl.aspx") => (
            "200 OK",
            "text/html; charset=utf-8",
            section_html().into_bytes(),
        ),
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

/// The fixture web, serving the article as first published.
pub fn start() -> std::io::Result<HttpsFixture> {
    start_editions(Arc::new(AtomicBool::new(false)))
}

/// The fixture web, serving the article edited once `edited` is set.
pub fn start_editions(edited: Arc<AtomicBool>) -> std::io::Result<HttpsFixture> {
    let handler: Handler = Arc::new(move |req: &Request| {
        let edition = if edited.load(Ordering::SeqCst) {
            Edition::Edited
        } else {
            Edition::First
        };
        let (status, content_type, body) = answer_in(edition, &req.host, &req.target);
        vec![Step::Send(response(status, content_type, &body))]
    });
    HttpsFixture::start(HOSTS, handler)
}
