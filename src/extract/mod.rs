//! Links and requisites from HTML and CSS, with no I/O: what a page needs to render (images,
//! lazy `data-src`/`data-srcset`, `srcset`, `<picture><source>`, stylesheets and what they
//! `@import` or `url()`, scripts, frames, media and posters, icons) and where it leads (`a`,
//! `area`, `meta refresh`). Documents are decoded by their declared or sniffed charset, so Big5
//! and GBK pages yield correct links and titles; `<base href>` is honoured.
//!
//! HTML is parsed by html5ever (through scraper) and CSS tokenized by cssparser: never regular
//! expressions over markup.

use cssparser::{Parser, Token};
use encoding_rs::Encoding;
use scraper::{Html, Selector};
use url::Url;

/// What following a link means for the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// Needed to render the page: always fetched, at the page's own depth.
    Requisite,
    /// Another page: followed within `--depth` and `--scope`.
    Navigation,
    /// A `meta refresh`: followed like a redirect, at the page's own depth.
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: Url,
    pub kind: LinkKind,
    /// Where it was found, as Heritrix writes it in outlink metadata: `img/@data-src`.
    pub context: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub title: Option<String>,
    pub links: Vec<Link>,
}

/// Lazy-image attributes seen in the wild (lazysizes, owl-carousel, WordPress, jQuery lazyload).
pub const LAZY_SRC: &[&str] = &[
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-lazy",
    "data-echo",
    "data-url",
    "data-hi-res-src",
];
pub const LAZY_SRCSET: &[&str] = &["data-srcset", "data-lazy-srcset", "data-original-set"];

/// Decodes an HTML document: the charset from the HTTP header, else a byte-order mark, else a
/// `<meta>` declaration in the first 1024 bytes, else UTF-8 if it is valid, else windows-1252
/// (the HTML standard's fallback for the Western web).
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> (String, &'static Encoding) {
    let (text, used, _) = html_encoding(body, content_type).decode(body);
    (text.into_owned(), used)
}

/// The encoding [`decode_html`] would use, told from the document's start (`prefix`, the whole
/// document or its first megabyte or so): a prefix cut inside a character is still UTF-8.
pub fn html_encoding(prefix: &[u8], content_type: Option<&str>) -> &'static Encoding {
    let declared = content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    declared
        .or_else(|| Encoding::for_bom(prefix).map(|(e, _)| e))
        .or_else(|| meta_charset(&prefix[..prefix.len().min(1024)]))
        .unwrap_or_else(|| match std::str::from_utf8(prefix) {
            Err(e) if e.error_len().is_some() => encoding_rs::WINDOWS_1252,
            _ => encoding_rs::UTF_8,
        })
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// The charset of `<meta charset=...>` or `<meta http-equiv=Content-Type content=...>`,
/// parsed from the document's start (an ASCII-compatible prefix, as the standard's prescan).
fn meta_charset(prefix: &[u8]) -> Option<&'static Encoding> {
    let text = String::from_utf8_lossy(prefix);
    let doc = Html::parse_document(&text);
    let meta = Selector::parse("meta").expect("valid selector");
    for element in doc.select(&meta) {
        let el = element.value();
        let label = el.attr("charset").map(str::to_string).or_else(|| {
            el.attr("http-equiv")
                .filter(|h| h.eq_ignore_ascii_case("content-type"))
                .and_then(|_| el.attr("content"))
                .and_then(charset_param)
        });
        if let Some(encoding) = label.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
            // A page that declares UTF-16 in ASCII is not UTF-16 (HTML standard, prescan).
            return Some(
                if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
                    encoding_rs::UTF_8
                } else {
                    encoding
                },
            );
        }
    }
    None
}

/// The links and title of an HTML document fetched from `url`, in one walk over its elements.
pub fn html(body: &[u8], content_type: Option<&str>, url: &Url) -> Page {
    let (text, _) = decode_html(body, content_type);
    let doc = Html::parse_document(&text);
    let elements: Vec<scraper::ElementRef<'_>> = doc
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
        .collect();
    let base = elements
        .iter()
        .find(|e| e.value().name() == "base" && e.value().attr("href").is_some())
        .and_then(|b| url.join(b.value().attr("href")?.trim()).ok())
        .unwrap_or_else(|| url.clone());
    let mut links = Links {
        base: &base,
        out: Vec::new(),
    };
    let mut title = None;
    for element in &elements {
        let el = element.value();
        let name = el.name();
        for (tag, attr, kind, context) in ATTRIBUTES {
            if *tag == name
                && let Some(value) = el.attr(attr)
            {
                links.push(value, *kind, context);
            }
        }
        match name {
            "input"
                if !el
                    .attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("image")) => {}
            "img" | "source" | "input" => {
                for attr in LAZY_SRC {
                    if let Some(value) = el.attr(attr) {
                        links.push(value, LinkKind::Requisite, lazy_context(name, attr));
                    }
                }
                for attr in ["srcset"].iter().chain(LAZY_SRCSET) {
                    if let Some(value) = el.attr(attr) {
                        for candidate in srcset_urls(value) {
                            links.push(candidate, LinkKind::Requisite, lazy_context(name, attr));
                        }
                    }
                }
            }
            "link" if is_requisite_rel(el.attr("rel").unwrap_or("")) => {
                links.push(
                    el.attr("href").unwrap_or(""),
                    LinkKind::Requisite,
                    "link/@href",
                );
            }
            "meta" => {
                let refresh = el
                    .attr("http-equiv")
                    .is_some_and(|h| h.eq_ignore_ascii_case("refresh"));
                if let Some(target) = el.attr("content").filter(|_| refresh).and_then(refresh_url) {
                    links.push(target, LinkKind::Refresh, "meta/@content");
                }
                let property = el.attr("property").or(el.attr("name")).unwrap_or("");
                if matches!(
                    property,
                    "og:image" | "og:image:url" | "og:image:secure_url" | "twitter:image"
                ) {
                    links.push(
                        el.attr("content").unwrap_or(""),
                        LinkKind::Requisite,
                        "meta/@content",
                    );
                }
            }
            "style" => {
                let css_text: String = element.text().collect();
                for url in css_urls(&css_text) {
                    links.push(&url, LinkKind::Requisite, "style");
                }
            }
            "title" if title.is_none() => {
                let text: String = element.text().collect();
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                title = (!text.is_empty()).then_some(text);
            }
            _ => {}
        }
        if let Some(style) = el.attr("style") {
            for url in css_urls(style) {
                links.push(&url, LinkKind::Requisite, "@style");
            }
        }
    }
    Page {
        title,
        links: links.out,
    }
}

fn is_requisite_rel(rel: &str) -> bool {
    rel.split_ascii_whitespace().any(|r| {
        matches!(
            r.to_ascii_lowercase().as_str(),
            "stylesheet"
                | "icon"
                | "apple-touch-icon"
                | "apple-touch-icon-precomposed"
                | "mask-icon"
                | "preload"
                | "modulepreload"
                | "manifest"
                | "image_src"
        )
    })
}

/// Element/attribute pairs whose value is one URL.
const ATTRIBUTES: &[(&str, &str, LinkKind, &str)] = &[
    ("a", "href", LinkKind::Navigation, "a/@href"),
    ("area", "href", LinkKind::Navigation, "area/@href"),
    ("img", "src", LinkKind::Requisite, "img/@src"),
    ("script", "src", LinkKind::Requisite, "script/@src"),
    ("iframe", "src", LinkKind::Requisite, "iframe/@src"),
    ("frame", "src", LinkKind::Requisite, "frame/@src"),
    ("video", "src", LinkKind::Requisite, "video/@src"),
    ("video", "poster", LinkKind::Requisite, "video/@poster"),
    ("audio", "src", LinkKind::Requisite, "audio/@src"),
    ("source", "src", LinkKind::Requisite, "source/@src"),
    ("track", "src", LinkKind::Requisite, "track/@src"),
    ("embed", "src", LinkKind::Requisite, "embed/@src"),
    ("object", "data", LinkKind::Requisite, "object/@data"),
    ("input", "src", LinkKind::Requisite, "input/@src"),
    (
        "body",
        "background",
        LinkKind::Requisite,
        "body/@background",
    ),
    (
        "table",
        "background",
        LinkKind::Requisite,
        "table/@background",
    ),
    ("td", "background", LinkKind::Requisite, "td/@background"),
];

fn lazy_context(element: &str, attr: &str) -> &'static str {
    match (element, attr) {
        ("img", "srcset") => "img/@srcset",
        ("img", a) if a.ends_with("srcset") || a.ends_with("-set") => "img/@data-srcset",
        ("img", _) => "img/@data-src",
        (_, "srcset") => "source/@srcset",
        (_, a) if a.ends_with("srcset") || a.ends_with("-set") => "source/@data-srcset",
        _ => "source/@data-src",
    }
}

/// Collects resolved http(s) links, skipping `javascript:`, `data:`, `mailto:` and the like.
struct Links<'b> {
    base: &'b Url,
    out: Vec<Link>,
}

impl Links<'_> {
    fn push(&mut self, value: &str, kind: LinkKind, context: &'static str) {
        if let Some(url) = resolve(self.base, value) {
            let link = Link { url, kind, context };
            if !self.out.contains(&link) {
                self.out.push(link);
            }
        }
    }
}

/// An absolute http(s) URL for a reference, without its fragment; `None` for anything else.
pub fn resolve(base: &Url, reference: &str) -> Option<Url> {
    let reference = reference.trim();
    if reference.is_empty() || reference.starts_with('#') {
        return None;
    }
    let mut url = base.join(reference).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// The URLs of a `srcset` value (HTML standard, "parse a srcset attribute"): each candidate is
/// a URL and optional descriptors, separated by commas; a URL may itself contain commas.
pub fn srcset_urls(srcset: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return urls;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (candidate, after) = rest.split_at(end);
        let url = candidate.trim_end_matches(',');
        if !url.is_empty() {
            urls.push(url);
        }
        rest = if candidate.ends_with(',') {
            after
        } else {
            // Skip the descriptors, up to the comma that ends this candidate (outside parens).
            let mut depth = 0;
            let mut cut = after.len();
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth <= 0 => {
                        cut = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            &after[cut..]
        };
    }
}

/// The target of a `meta refresh` content value: `5; url=/next`.
fn refresh_url(content: &str) -> Option<&str> {
    let (_, rest) = content.split_once([';', ','])?;
    let rest = rest.trim_start();
    let rest = if rest.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("url")) {
        rest[3..].trim_start().strip_prefix('=')?.trim()
    } else {
        rest.trim()
    };
    let url = rest.trim_matches(['"', '\'']);
    (!url.is_empty()).then_some(url)
}

/// The links of a stylesheet fetched from `url`: every `url()`, `@import` and `image-set()`.
pub fn css(text: &str, url: &Url) -> Vec<Link> {
    let mut links = Links {
        base: url,
        out: Vec::new(),
    };
    for reference in css_urls(text) {
        links.push(&reference, LinkKind::Requisite, "css/url()");
    }
    links.out
}

/// The raw references in CSS text, in order, found by cssparser's tokenizer.
pub fn css_urls(text: &str) -> Vec<String> {
    css_references(text).into_iter().map(|r| r.value).collect()
}

/// How a reference is written in CSS, which decides how a replacement must be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CssSyntax {
    /// `url(x.png)`: the whole token, `url(` to `)`.
    UnquotedUrl,
    /// `"x.png"` inside `url()`, `image-set()` or after `@import`: the string with its quotes.
    QuotedString,
}

/// A reference in CSS text: its byte range, how it is written, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssReference {
    pub start: usize,
    pub end: usize,
    pub syntax: CssSyntax,
    pub value: String,
}

/// Every `url()`, `@import` and `image-set()` reference in CSS text, in order; comments and
/// other strings are not references.
pub fn css_references(text: &str) -> Vec<CssReference> {
    let mut parser = Parser::new(text);
    let mut out = Vec::new();
    collect_css_references(&mut parser, false, &mut out);
    out
}

/// Walks tokens and nested blocks. `strings_are_urls` holds inside `url(...)` and
/// `image-set(...)`, where a quoted string is a reference.
fn collect_css_references(
    parser: &mut Parser<'_>,
    strings_are_urls: bool,
    out: &mut Vec<CssReference>,
) {
    let mut after_import = false;
    loop {
        let start = parser.position().byte_index();
        let Ok(token) = parser.next_including_whitespace_and_comments() else {
            break;
        };
        let token = token.clone();
        let end = parser.position().byte_index();
        let mut reference = |syntax, value: &str| {
            out.push(CssReference {
                start,
                end,
                syntax,
                value: value.to_string(),
            })
        };
        let nested = match &token {
            Token::UnquotedUrl(url) => {
                reference(CssSyntax::UnquotedUrl, url);
                None
            }
            Token::QuotedString(s) if strings_are_urls || after_import => {
                reference(CssSyntax::QuotedString, s);
                None
            }
            Token::AtKeyword(k) if k.eq_ignore_ascii_case("import") => {
                after_import = true;
                continue;
            }
            Token::WhiteSpace(_) | Token::Comment(_) => continue,
            Token::Function(name) => {
                let name = name.to_ascii_lowercase();
                Some(matches!(
                    name.as_str(),
                    "url" | "image-set" | "-webkit-image-set" | "src"
                ))
            }
            Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock => {
                Some(false)
            }
            _ => None,
        };
        after_import = false;
        if let Some(urls) = nested {
            let _ = parser.parse_nested_block(|inner| -> Result<(), cssparser::ParseError<()>> {
                collect_css_references(inner, urls, out);
                Ok(())
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html_text: &str) -> Page {
        html(
            html_text.as_bytes(),
            Some("text/html"),
            &Url::parse("https://www.cna.com.tw/news/aopl/1.aspx").unwrap(),
        )
    }

    fn urls(page: &Page, kind: LinkKind) -> Vec<String> {
        page.links
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.url.to_string())
            .collect()
    }

    #[test]
    fn finds_lazy_images_srcsets_and_picture_sources() {
        let p = page(
            r#"<img class="owl-lazy" data-src="https://imgcdn.cna.com.tw/a.jpg" data-srcset="/b.jpg 1x, /c.jpg 2x">
               <picture><source srcset="/d.webp 480w,/e.webp 800w"><img src="/f.jpg"></picture>
               <img src="data:image/gif;base64,R0lGOD" data-lazy-src="/g.jpg">"#,
        );
        assert_eq!(
            urls(&p, LinkKind::Requisite),
            [
                "https://imgcdn.cna.com.tw/a.jpg",
                "https://www.cna.com.tw/b.jpg",
                "https://www.cna.com.tw/c.jpg",
                "https://www.cna.com.tw/d.webp",
                "https://www.cna.com.tw/e.webp",
                "https://www.cna.com.tw/f.jpg",
                "https://www.cna.com.tw/g.jpg",
            ]
        );
    }

    /// Found by fuzzing: a refresh target starting with a multi-byte character panicked.
    #[test]
    fn a_refresh_to_a_non_ascii_path_is_followed() {
        assert_eq!(refresh_url("0;ñé/next"), Some("ñé/next"));
        assert_eq!(refresh_url("0; URL=/a"), Some("/a"));
        let p = page(r#"<meta http-equiv="refresh" content="0;a頁">"#);
        assert_eq!(
            urls(&p, LinkKind::Refresh),
            ["https://www.cna.com.tw/news/aopl/a%E9%A0%81"]
        );
    }

    #[test]
    fn honours_base_and_skips_non_http() {
        let p = page(
            r##"<base href="https://other.example/dir/"><a href="x.html#top">x</a>
               <a href="javascript:void(0)">j</a><a href="mailto:a@b">m</a><a href="#frag">f</a>"##,
        );
        assert_eq!(
            urls(&p, LinkKind::Navigation),
            ["https://other.example/dir/x.html"]
        );
    }

    #[test]
    fn css_urls_imports_and_image_sets() {
        let text = r#"@import "reset.css"; @import url(print.css) print;
            .a { background: url( "bg.png" ) } .b { background-image: url(data:image/png;base64,xx) }
            @media screen { .c { background: image-set("x1.png" 1x, "x2.png" 2x) } }
            /* url(commented.png) */ .d::after { content: "not-a-url.png" }"#;
        assert_eq!(
            css_urls(text),
            [
                "reset.css",
                "print.css",
                "bg.png",
                "data:image/png;base64,xx",
                "x1.png",
                "x2.png"
            ]
        );
    }

    #[test]
    fn inline_styles_meta_refresh_and_media() {
        let p = page(
            r#"<meta http-equiv="refresh" content="0; URL='/moved.aspx'">
               <div style="background:url(/hero.jpg)"></div><style>body{background:url(/body.png)}</style>
               <video poster="/poster.jpg"><source src="/clip.mp4"></video>
               <link rel="stylesheet" href="/main.css?v=3"><link rel="canonical" href="/c">
               <script src="/app.js"></script><iframe src="/frame.html"></iframe>"#,
        );
        assert_eq!(
            urls(&p, LinkKind::Refresh),
            ["https://www.cna.com.tw/moved.aspx"]
        );
        let req = urls(&p, LinkKind::Requisite);
        for expected in [
            "https://www.cna.com.tw/hero.jpg",
            "https://www.cna.com.tw/body.png",
            "https://www.cna.com.tw/poster.jpg",
            "https://www.cna.com.tw/clip.mp4",
            "https://www.cna.com.tw/main.css?v=3",
            "https://www.cna.com.tw/app.js",
            "https://www.cna.com.tw/frame.html",
        ] {
            assert!(req.contains(&expected.to_string()), "{expected} in {req:?}");
        }
        assert!(!req.iter().any(|u| u.ends_with("/c")));
    }

    #[test]
    fn big5_and_gbk_pages_decode_links_and_titles() {
        for (label, declared_in_meta) in [("big5", true), ("gbk", false)] {
            let encoding = Encoding::for_label(label.as_bytes()).unwrap();
            let source = format!(
                "<html><head>{}<title>習近平與蒲亭會談</title></head><body><a href=\"/tag/蒲亭\">蒲亭</a></body></html>",
                if declared_in_meta {
                    format!("<meta charset=\"{label}\">")
                } else {
                    String::new()
                }
            );
            let (bytes, _, _) = encoding.encode(&source);
            let content_type = if declared_in_meta {
                "text/html".to_string()
            } else {
                format!("text/html; charset={label}")
            };
            let p = html(
                &bytes,
                Some(&content_type),
                &Url::parse("https://www.cna.com.tw/").unwrap(),
            );
            assert_eq!(p.title.as_deref(), Some("習近平與蒲亭會談"), "{label}");
            assert_eq!(
                urls(&p, LinkKind::Navigation),
                ["https://www.cna.com.tw/tag/%E8%92%B2%E4%BA%AD"],
                "{label}"
            );
        }
    }

    #[test]
    fn malformed_html_still_yields_links() {
        let p = page(
            "<html><body><div><img src=/a.png<p>unclosed <a href='/b'>b</a></td></tr><img src=\"/c.png",
        );
        let all: Vec<String> = p.links.iter().map(|l| l.url.to_string()).collect();
        assert!(
            all.contains(&"https://www.cna.com.tw/b".to_string()),
            "{all:?}"
        );
    }

    #[test]
    fn srcset_parsing_handles_commas_in_urls() {
        assert_eq!(
            srcset_urls("a.jpg 1x,b.jpg 2x, c,d.jpg 3x"),
            ["a.jpg", "b.jpg", "c,d.jpg"]
        );
        assert_eq!(srcset_urls("  single.jpg  "), ["single.jpg"]);
    }
}
