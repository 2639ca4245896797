//! Links and requisites from HTML and CSS, with no I/O: what a page needs to render (images,
//! lazy `data-src`/`data-srcset`, `srcset`, `<picture><source>`, stylesheets and what they
//! `@import` or `url()`, scripts, frames, media and posters, icons) and where it leads (`a`,
//! `area`, `meta refresh`). Documents are read in their declared or sniffed charset, so Big5
//! and GBK pages yield correct links and titles; `<base href>` is honoured; `<noscript>` is
//! read as markup, as a browser without scripts reads it.
//!
//! HTML is tokenized by lol_html, the parser the rewriter uses, through the one table of
//! [`references`]: extraction and rewriting see the same references, decoded the same way. CSS
//! is tokenized by cssparser ([`css`]): never regular expressions over markup.

/// More attributes than any real element has: an element with more is read for none of its
/// references (and rewriting drops its tag), so that a tag of a million attributes, each
/// looked up among all the others, costs nothing.
pub const MAX_ATTRIBUTES: usize = 256;

pub mod charset;
pub mod css;
pub mod references;

use std::cell::RefCell;
use std::collections::HashSet;

use encoding_rs::Encoding;
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, Settings, element, text};
use url::Url;

pub use charset::{css_text, document_encoding, header_encoding, html_encoding};
pub use css::{CssReference, CssSyntax, css_references, css_urls};
use references::{Attributes, Syntax};
pub use references::{LAZY_SRC, LAZY_SRCSET, refresh_url, srcset_urls};

/// How deep `<noscript>` inside `<noscript>` text is read as markup.
pub const MAX_NOSCRIPT_DEPTH: usize = 2;
/// How deep documents inside attributes (`iframe srcdoc`) are read and rewritten; a deeper
/// one is dropped by rewriting, so no depth hides a reference.
pub const MAX_NESTED_DEPTH: usize = 4;

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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    pub url: Url,
    pub kind: LinkKind,
    /// Where it was found, as Heritrix writes it in outlink metadata: `img/@data-src`.
    pub context: String,
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub title: Option<String>,
    pub links: Vec<Link>,
    /// The links so far, to keep each once in time linear in their number (a `srcset` can
    /// hold hundreds of thousands, issue 13).
    seen: HashSet<Link>,
}

impl Page {
    fn push(&mut self, url: Option<Url>, kind: LinkKind, context: &str) {
        if let Some(url) = url {
            let link = Link {
                url,
                kind,
                context: context.to_string(),
            };
            if self.seen.insert(link.clone()) {
                self.links.push(link);
            }
        }
    }
}

/// The links and title of an HTML document fetched from `url`.
pub fn html(body: &[u8], content_type: Option<&str>, url: &Url) -> Page {
    let declared = html_encoding(body, content_type);
    let (bytes, encoding) = charset::parseable(body, declared);
    let mut page = Page::default();
    let base = Base::of_document(url, declared);
    read_markup(&bytes, encoding, base, 0, &mut page);
    page
}

/// Where relative references resolve: the document's URL until the first `<base href>`, and
/// that base from then on (browsers honour only the first). An HTML attribute's URL writes
/// its query in the document's encoding (HTML standard, "encoding-parsing a URL"): on a Big5
/// page, `?q=蒲亭` asks for the Big5 bytes, as a browser does; CSS asks in UTF-8.
#[derive(Debug, Clone)]
pub struct Base {
    pub url: Url,
    moved: bool,
    query_encoding: &'static Encoding,
}

impl Base {
    /// The base of a UTF-8 document.
    pub fn new(url: &Url) -> Base {
        Base::of_document(url, encoding_rs::UTF_8)
    }

    /// The base of a document in `encoding` (UTF-16 documents ask in UTF-8).
    pub fn of_document(url: &Url, encoding: &'static Encoding) -> Base {
        Base {
            url: url.clone(),
            moved: false,
            query_encoding: encoding.output_encoding(),
        }
    }

    /// The base a document held in this one's attribute (`srcdoc`, a `data:` frame) starts
    /// from: the same URL, in UTF-8, as such a document is.
    pub fn for_nested(&self) -> Base {
        Base {
            query_encoding: encoding_rs::UTF_8,
            ..self.clone()
        }
    }

    /// The encoding an HTML attribute's URL writes its query in.
    pub fn query_encoding(&self) -> &'static Encoding {
        self.query_encoding
    }

    /// A reference in an HTML attribute, resolved as the document's browser resolves it.
    pub fn join(&self, reference: &str) -> Result<Url, url::ParseError> {
        join_in(&self.url, reference, self.query_encoding)
    }

    /// As [`Base::join`], an absolute http(s) URL without its fragment; `None` for anything
    /// else.
    pub fn resolve(&self, reference: &str) -> Option<Url> {
        absolute(reference, |r| self.join(r))
    }

    /// Takes a `<base href>` value, if it is the first.
    pub fn set(&mut self, href: &str) {
        if !self.moved
            && let Ok(url) = self.join(href.trim())
        {
            self.url = url;
            self.moved = true;
        }
    }
}

/// `reference` resolved against `base`, its query written in `encoding`.
pub fn join_in(
    base: &Url,
    reference: &str,
    encoding: &'static Encoding,
) -> Result<Url, url::ParseError> {
    if let Some(url) = absolute_parsed(reference) {
        return Ok(url);
    }
    if encoding == encoding_rs::UTF_8 {
        return base.join(reference);
    }
    // What the encoding cannot hold it writes as a character reference, as browsers do.
    let encode: &dyn Fn(&str) -> std::borrow::Cow<'_, [u8]> = &|text| encoding.encode(text).0;
    Url::options()
        .base_url(Some(base))
        .encoding_override(Some(encode))
        .parse(reference)
}

/// How many absolute references each thread keeps parsed ([`absolute_parsed`]); past it the
/// memo starts over. A news site's pages share most of theirs (menus, tag links, the same
/// photos): the crawl benchmark's 2,000 pages hold 86,815 references, 8,342 distinct.
const PARSED_MEMO: usize = 1024;
/// The longest reference the memo takes: real ones are far shorter, and a hostile page's
/// megabyte URLs would otherwise be kept, a thousand of them on each thread that met them
/// (replay rewrites on the runtime's blocking pool, which has many).
const PARSED_MEMO_KEY: usize = 512;

thread_local! {
    static PARSED: RefCell<std::collections::HashMap<Box<str>, Url>> = RefCell::default();
}

/// An absolute `http://` or `https://` reference in ASCII, parsed once per thread: it resolves
/// the same against any base, and in any document encoding (its query has nothing to encode).
/// Joining was most of what resolving a reference cost, on both the crawl's link reader and
/// the rewriter. A std map with a memo cleared when full, rather than an LRU crate: the
/// references repeat within a site, and a hostile page gains nothing by flooding it (its keys
/// are hashed with SipHash, and the memo holds at most [`PARSED_MEMO`] of at most
/// [`PARSED_MEMO_KEY`] bytes).
fn absolute_parsed(reference: &str) -> Option<Url> {
    let absolute = reference.starts_with("https://") || reference.starts_with("http://");
    if !absolute || !reference.is_ascii() || reference.len() > PARSED_MEMO_KEY {
        return None;
    }
    PARSED.with_borrow_mut(|memo| {
        if let Some(url) = memo.get(reference) {
            return Some(url.clone());
        }
        let url = Url::parse(reference).ok()?;
        if memo.len() >= PARSED_MEMO {
            memo.clear();
        }
        memo.insert(reference.into(), url.clone());
        Some(url)
    })
}

/// Reads a document's references into `page`; `<noscript>` text is read the same way, up to
/// [`MAX_NOSCRIPT_DEPTH`] deep.
fn read_markup(
    bytes: &[u8],
    encoding: AsciiCompatibleEncoding,
    base: Base,
    depth: usize,
    page: &mut Page,
) {
    let reading = Reading {
        base: RefCell::new(base),
        page: RefCell::new(std::mem::take(page)),
        style: RefCell::default(),
        noscript: RefCell::default(),
        title: RefCell::default(),
        depth,
    };
    {
        let settings = Settings::new()
            .with_encoding(encoding)
            .append_element_content_handler(element!("*", |el| {
                reading.element(el);
                Ok(())
            }))
            .append_element_content_handler(text!("title", |chunk| {
                reading.title(chunk.as_str(), chunk.last_in_text_node());
                Ok(())
            }))
            .append_element_content_handler(text!("style", |chunk| {
                reading.style(chunk.as_str(), chunk.last_in_text_node());
                Ok(())
            }))
            .append_element_content_handler(text!("noscript", |chunk| {
                reading.noscript(chunk.as_str(), chunk.last_in_text_node());
                Ok(())
            }));
        let mut reader = HtmlRewriter::new(settings, |_: &[u8]| {});
        // Malformed markup yields what parsed before it; lol_html stops only on memory limits.
        let _ = reader.write(bytes);
        let _ = reader.end();
    }
    *page = reading.page.into_inner();
}

/// The state of one reading, shared by lol_html's handlers.
struct Reading {
    base: RefCell<Base>,
    page: RefCell<Page>,
    style: RefCell<String>,
    noscript: RefCell<String>,
    title: RefCell<String>,
    depth: usize,
}

impl Reading {
    fn element(&self, el: &lol_html::html_content::Element<'_, '_>) {
        // An element without attributes (most of an article) holds no reference.
        if el.attributes().is_empty() || el.attributes().len() > MAX_ATTRIBUTES {
            return;
        }
        let tag = el.tag_name();
        let attrs = Attributes::of(el);
        if tag == "base" {
            if let Some(href) = attrs.value("href") {
                self.base.borrow_mut().set(&href);
            }
            return;
        }
        let mut documents = Vec::new();
        let base = self.base.borrow();
        let mut page = self.page.borrow_mut();
        for reference in references::references(&attrs, &tag) {
            let (Some(kind), Some(value)) = (reference.follow, attrs.value(&reference.attr)) else {
                continue;
            };
            let context = format!("{tag}/@{}", reference.attr);
            match reference.syntax {
                Syntax::Url => match references::data_url_document(&value) {
                    Some(document) => documents.push(document.text),
                    None => page.push(base.resolve(&value), kind, &context),
                },
                Syntax::Srcset => {
                    for url in srcset_urls(&value) {
                        page.push(base.resolve(url), kind, &context);
                    }
                }
                Syntax::Style => {
                    for url in css_urls(&value) {
                        page.push(resolve(&base.url, &url), kind, "@style");
                    }
                }
                Syntax::Refresh => {
                    if let Some(url) = refresh_url(&value) {
                        page.push(base.resolve(url), kind, &context);
                    }
                }
                Syntax::Html => documents.push(value),
                Syntax::Dropped => {}
            }
        }
        drop(page);
        for document in documents {
            self.nested(&document);
        }
    }

    /// A document inside an attribute (`iframe srcdoc`), read as the page's own: its
    /// references resolve against the page's base, as a browser resolves them.
    fn nested(&self, markup: &str) {
        if self.depth < MAX_NESTED_DEPTH {
            let base = self.base.borrow().for_nested();
            let mut page = self.page.borrow_mut();
            let utf8 = AsciiCompatibleEncoding::utf_8();
            read_markup(markup.as_bytes(), utf8, base, self.depth + 1, &mut page);
        }
    }

    fn title(&self, text: &str, last: bool) {
        let mut page = self.page.borrow_mut();
        if page.title.is_some() {
            return;
        }
        self.title.borrow_mut().push_str(text);
        if last {
            let title = std::mem::take(&mut *self.title.borrow_mut());
            // Title text is RCDATA: character references in it are the author's, decoded.
            let title = htmlize::unescape(title);
            let words: Vec<&str> = title.split_whitespace().collect();
            page.title = Some(words.join(" ")).filter(|t| !t.is_empty());
        }
    }

    fn style(&self, text: &str, last: bool) {
        self.style.borrow_mut().push_str(text);
        if last {
            let css = std::mem::take(&mut *self.style.borrow_mut());
            let base = self.base.borrow();
            let mut page = self.page.borrow_mut();
            for url in css_urls(&css) {
                page.push(resolve(&base.url, &url), LinkKind::Requisite, "style");
            }
        }
    }

    /// `<noscript>` content is text to a parser with scripting on; a browser without scripts
    /// renders it as markup, so its images and stylesheets are read as markup too.
    fn noscript(&self, text: &str, last: bool) {
        self.noscript.borrow_mut().push_str(text);
        if last && self.depth < MAX_NOSCRIPT_DEPTH {
            let markup = std::mem::take(&mut *self.noscript.borrow_mut());
            let base = self.base.borrow().clone();
            let mut page = self.page.borrow_mut();
            let utf8 = AsciiCompatibleEncoding::utf_8();
            read_markup(markup.as_bytes(), utf8, base, self.depth + 1, &mut page);
        }
    }
}

/// An absolute http(s) URL for a reference, without its fragment; `None` for anything else.
pub fn resolve(base: &Url, reference: &str) -> Option<Url> {
    absolute(reference, |r| base.join(r))
}

/// A reference `join`ed, if it is an http(s) URL, without its fragment.
fn absolute(
    reference: &str,
    join: impl FnOnce(&str) -> Result<Url, url::ParseError>,
) -> Option<Url> {
    let reference = reference.trim();
    if reference.is_empty() || reference.starts_with('#') {
        return None;
    }
    let mut url = join(reference).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// The links of a stylesheet fetched from `url`: every `url()`, `@import` and `image-set()`.
pub fn css(text: &str, url: &Url) -> Vec<Link> {
    let mut page = Page::default();
    for reference in css_urls(text) {
        page.push(resolve(url, &reference), LinkKind::Requisite, "css/url()");
    }
    page.links
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
            let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
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

    /// A browser writes an HTML attribute's query in the page's encoding, and CSS's, a
    /// path's and a `srcdoc` document's in UTF-8: the crawl asks for what it would.
    #[test]
    fn queries_are_written_in_the_page_encoding_as_browsers_write_them() {
        let source = "<meta charset=big5><a href=\"/search?q=蒲亭\">蒲亭</a><img srcset=\"/i?t=蒲 1x\">\
            <a href=\"/tag/蒲亭\">t</a><div style=\"background:url(/bg?t=蒲)\"></div>\
            <iframe srcdoc=\"<a href=/in?q=蒲>x</a>\"></iframe>";
        let (bytes, _, _) = encoding_rs::BIG5.encode(source);
        let p = html(
            &bytes,
            Some("text/html"),
            &Url::parse("https://www.cna.com.tw/").unwrap(),
        );
        let all: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
        for expected in [
            "https://www.cna.com.tw/search?q=%BBZ%ABF",
            "https://www.cna.com.tw/i?t=%BBZ",
            "https://www.cna.com.tw/tag/%E8%92%B2%E4%BA%AD",
            "https://www.cna.com.tw/bg?t=%E8%92%B2",
            "https://www.cna.com.tw/in?q=%E8%92%B2",
        ] {
            assert!(all.contains(&expected), "{expected} in {all:?}");
        }
    }

    /// An absolute reference resolves from the memo exactly as joined against any base, in
    /// any document encoding; what the memo does not take (a query to encode, a reference
    /// relative to its base despite its scheme, a long one) is joined as before; and the memo
    /// stays bounded however many distinct references a thread meets.
    #[test]
    fn absolute_references_resolve_from_the_memo_as_they_join() {
        let bases = [
            "https://www.cna.com.tw/news/1.aspx",
            "http://example.com/a/b",
        ];
        let references = [
            "https://imgcdn.cna.com.tw/www/1200x900_065325447941.jpg",
            "https://www.cna.com.tw/tag/hysearchws.aspx?q=%E8%92%B2%E4%BA%AD#top",
            "http://EXAMPLE.com:80/./a/../b?x=1&y",
            "https://example.com/p?q=蒲亭",
            "http:relative/to/the/base",
            "https://exa mple.com/",
        ];
        for base in bases.map(|b| Url::parse(b).unwrap()) {
            for encoding in [
                encoding_rs::UTF_8,
                encoding_rs::BIG5,
                encoding_rs::SHIFT_JIS,
            ] {
                let encode: &dyn Fn(&str) -> std::borrow::Cow<'_, [u8]> =
                    &|text| encoding.encode(text).0;
                for reference in references {
                    let joined = Url::options()
                        .base_url(Some(&base))
                        .encoding_override(Some(encode))
                        .parse(reference);
                    for _ in 0..2 {
                        assert_eq!(join_in(&base, reference, encoding), joined, "{reference}");
                    }
                }
            }
        }
        for n in 0..PARSED_MEMO + 10 {
            absolute_parsed(&format!("https://example.com/{n}"));
        }
        assert!(PARSED.with_borrow(|memo| memo.len()) <= PARSED_MEMO);
        let long = format!("https://example.com/{}", "x".repeat(PARSED_MEMO_KEY));
        let base = Url::parse(bases[0]).unwrap();
        assert_eq!(join_in(&base, &long, encoding_rs::UTF_8), Url::parse(&long));
        assert!(PARSED.with_borrow(|memo| !memo.contains_key(long.as_str())));
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
    fn attribute_values_are_read_as_a_browser_reads_them() {
        let p = page(
            r#"<img src="https://o.aolcdn.com/images/dims?thumbnail=450%2C&amp;image_uri=x&#x26;y=1">
               <link rel=stylesheet href="//s1.lemde.fr/a.css?m[]=a&amp;m[]=b">
               <div style="background-image:url(&apos;/bg.jpg?a=1&amp;w=800&apos;)"></div>
               <a href="/p?a=1&copy=2">legacy reference before = stays</a>"#,
        );
        let all: Vec<String> = p.links.iter().map(|l| l.url.to_string()).collect();
        for expected in [
            "https://o.aolcdn.com/images/dims?thumbnail=450%2C&image_uri=x&y=1",
            "https://s1.lemde.fr/a.css?m[]=a&m[]=b",
            "https://www.cna.com.tw/bg.jpg?a=1&w=800",
            "https://www.cna.com.tw/p?a=1&copy=2",
        ] {
            assert!(all.contains(&expected.to_string()), "{expected} in {all:?}");
        }
    }

    #[test]
    fn titles_read_as_text_with_references_decoded() {
        let p = page("<title>\n  Tom &amp; Jerry &#8211; news </title><title>second</title>");
        assert_eq!(p.title.as_deref(), Some("Tom & Jerry \u{2013} news"));
    }

    #[test]
    fn noscript_custom_elements_and_lazy_divs_are_read() {
        let p = page(
            r#"<noscript><img src="/fallback.jpg"><link rel="stylesheet" href="/ns.css"></noscript>
               <amp-img src="/amp.jpg" srcset="/amp-2x.jpg 2x"></amp-img><div class="lazy" data-src="/div-bg.jpg"></div><div data-lazy="/slick.jpg"></div>
               <link rel="preload" as="image" imagesrcset="/hero-1x.jpg 1x, /hero-2x.jpg 2x">
               <svg><image href="/chart.png"/><a xlink:href="/svg-link">s</a></svg>
               <link rel="canonical" href="/canonical"><div data-url="/not-an-image"></div>"#,
        );
        let req = urls(&p, LinkKind::Requisite);
        for expected in [
            "https://www.cna.com.tw/fallback.jpg",
            "https://www.cna.com.tw/ns.css",
            "https://www.cna.com.tw/amp.jpg",
            "https://www.cna.com.tw/amp-2x.jpg",
            "https://www.cna.com.tw/slick.jpg",
            "https://www.cna.com.tw/div-bg.jpg",
            "https://www.cna.com.tw/hero-2x.jpg",
            "https://www.cna.com.tw/chart.png",
        ] {
            assert!(req.contains(&expected.to_string()), "{expected} in {req:?}");
        }
        assert_eq!(
            urls(&p, LinkKind::Navigation),
            ["https://www.cna.com.tw/svg-link"]
        );
        let all: Vec<String> = p.links.iter().map(|l| l.url.to_string()).collect();
        assert!(
            !all.iter()
                .any(|u| u.ends_with("/canonical") || u.ends_with("/not-an-image"))
        );
    }

    /// Issue 14's lazy attributes, on any element, whenever they name an image.
    #[test]
    fn lazy_attributes_on_any_element_are_read_when_they_name_an_image() {
        let p = page(
            r##"<img data-delay="/delay.jpg"><img datasrc="/datasrc.jpg"><img data-low-res-src="/low.jpg">
               <img data-hi-res-src="/hi.jpg"><span data-n-src="/n.jpg"></span><div data-pic="/pic.jpg"></div>
               <video data-poster="/poster.jpg"></video><div data-bg="/bg.jpg"></div>
               <section data-background="url(&quot;/bg2.jpg&quot;)"></section><div data-background-image="/bg3.webp"></div>
               <a data-full="/full.jpg" data-zoom-image="/zoom.jpg">z</a><div data-url="/share-me.jpg"></div>
               <div class="lazy-image" data-src="/container.jpg" data-srcset="/c1.jpg 1x, /c2.jpg 2x"></div>
               <a-img src="/a-img.jpg"></a-img><meta name="twitter:image:src" content="/tw.jpg">
               <meta itemprop="image" content="/micro.jpg"><link itemprop="thumbnailUrl" href="/thumb.jpg">
               <div data-background="#ffffff"></div><div data-bg="white"></div>
               <a data-full="/full-story.html">more</a><div data-url="/article/1"></div>"##,
        );
        let req = urls(&p, LinkKind::Requisite);
        for expected in [
            "delay.jpg",
            "datasrc.jpg",
            "low.jpg",
            "hi.jpg",
            "n.jpg",
            "pic.jpg",
            "poster.jpg",
            "bg.jpg",
            "bg2.jpg",
            "bg3.webp",
            "full.jpg",
            "zoom.jpg",
            "share-me.jpg",
            "container.jpg",
            "c2.jpg",
            "a-img.jpg",
            "tw.jpg",
            "micro.jpg",
            "thumb.jpg",
        ] {
            let url = format!("https://www.cna.com.tw/{expected}");
            assert!(req.contains(&url), "{url} in {req:?}");
        }
        let all: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
        for unexpected in ["ffffff", "/white", "full-story", "/article/1"] {
            assert!(
                !all.iter().any(|u| u.contains(unexpected)),
                "{unexpected} in {all:?}"
            );
        }
    }

    #[test]
    fn srcdoc_svg_and_legacy_references_are_read_and_pings_are_not() {
        let page = page(
            r#"<iframe srcdoc="<img src=&quot;/in-srcdoc.png&quot;>"></iframe><svg><image xlink:href="/svg.png"/><script href="/svg.js"></script></svg><object data="/o.swf"></object><a href="/n" ping="/ping">n</a><link rel=preconnect href="https://cdn.example/"><form action="/post"></form>"#,
        );
        let requisites = urls(&page, LinkKind::Requisite);
        for expected in ["/in-srcdoc.png", "/svg.png", "/svg.js", "/o.swf"] {
            assert!(
                requisites.iter().any(|u| u.ends_with(expected)),
                "{expected} in {requisites:?}"
            );
        }
        let all: Vec<&str> = page.links.iter().map(|l| l.url.as_str()).collect();
        assert!(
            !all.iter()
                .any(|u| u.ends_with("/ping") || u.contains("cdn.example") || u.ends_with("/post")),
            "{all:?}"
        );
    }
}
