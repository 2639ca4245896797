//! The one table of where HTML holds references, for extraction and rewriting alike: which
//! attribute of which element holds a URL, a `srcset`, CSS, or a refresh; whether the crawl
//! follows it and as what; and how its value reads (character references decoded, as a
//! browser decodes them, before any URL is resolved).

use std::ops::Range;

use lol_html::html_content::Element;

use super::LinkKind;

/// How an attribute's value holds its references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// One URL.
    Url,
    /// A `srcset`: URLs with width or density descriptors.
    Srcset,
    /// CSS declarations (`style`), whose `url()`s are references.
    Style,
    /// A `meta refresh` content: a delay, then a URL.
    Refresh,
    /// A whole HTML document (`iframe srcdoc`), whose references are read and rewritten as
    /// the page's own.
    Html,
    /// A reference that carries no archived content and only reports to or warms up the live
    /// web (`ping`, `link rel=preconnect`): never followed, removed by rewriting.
    Dropped,
}

/// An attribute holding references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The attribute's name, lowercase.
    pub attr: String,
    pub syntax: Syntax,
    /// What the crawl follows it as; `None` for references only rewritten (`link
    /// rel=canonical`, SVG `use`, ...).
    pub follow: Option<LinkKind>,
    /// A link a reader follows by clicking (`a href`, `cite`): where it was not archived, the
    /// offline copy may keep it live. Every other reference loads or acts by itself.
    pub link: bool,
}

/// An element's attributes, read from lol_html once: each name lowercase, each value as
/// written (character references not yet decoded), in the element's order. lol_html finds a
/// name by lowercasing it, encoding it again and scanning the tag, and allocates the value it
/// returns; the rewriter asked that up to a dozen times of each element, and removing an
/// attribute the element lacked made lol_html copy the others first. Read once, `cairn export`
/// of the crawl benchmark's collection took 3.98 G instructions instead of 4.16 G (callgrind),
/// its files byte for byte the same.
pub struct Attributes(Vec<(String, String)>);

impl Attributes {
    pub fn of(el: &Element<'_, '_>) -> Attributes {
        Attributes(
            el.attributes()
                .iter()
                .map(|a| (a.name(), a.value()))
                .collect(),
        )
    }

    /// The value of the first attribute named `name` (lowercase), as written: what lol_html's
    /// `get_attribute` returns.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value as a browser reads it: character references (`&amp;`, `&#39;`) decoded by
    /// the rules for attribute values (HTML standard, "character reference state").
    pub fn value(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(|raw| htmlize::unescape_attribute(raw).into_owned())
    }

    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// The names, in the element's order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Lazy-loader attributes that hold an image's URL, seen in the wild: lazysizes and most
/// loaders (`data-src`), jQuery lazyload (`data-original`), WordPress plugins (`data-lazy-src`,
/// `data-lazyload`), slick (`data-lazy`), echo.js (`data-echo`), responsive-image scripts
/// (`data-hi-res-src`, `data-low-res-src`, `data-n-src`, `data-pic`, `data-delay`), zoom
/// plugins (`data-zoom-image`, `data-full`: another size of the image), IE's `datasrc`. A
/// value that does not read as a URL (`data-delay="300"`, `data-lazyload="true"`) is no
/// reference.
pub const LAZY_SRC: &[&str] = &[
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-lazyload",
    "data-lazy",
    "data-echo",
    "data-url",
    "data-hi-res-src",
    "data-low-res-src",
    "data-n-src",
    "data-pic",
    "data-delay",
    "data-full",
    "data-zoom-image",
    "datasrc",
];
pub const LAZY_SRCSET: &[&str] = &["data-srcset", "data-lazy-srcset", "data-original-set"];
/// Of [`LAZY_SRC`], the ones that name an image on any element (a `div`'s background, a
/// custom element's picture); the others name other things there too (`data-url` a page to
/// share, `data-full` a full article), and are followed only when the value reads as an
/// image's URL ([`looks_like_an_image`]).
const LAZY_SRC_ANY_ELEMENT: &[&str] = &[
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-lazy",
    "data-echo",
    "data-hi-res-src",
];
/// Lazy background images, on any element: lazysizes' unveilhooks and vanilla-lazyload
/// (`data-bg`), theme scripts (`data-background`, `data-background-image`, `data-bg-src`).
/// The value is a URL or a CSS value with `url()`s (`url('a.jpg')`).
pub const LAZY_BACKGROUND: &[&str] = &[
    "data-bg",
    "data-background",
    "data-background-image",
    "data-bg-src",
];
/// A lazy video poster.
pub const LAZY_POSTER: &str = "data-poster";

/// Every attribute of an element (its `tag`, lowercase) that holds references, in the
/// element's order.
pub fn references(attrs: &Attributes, tag: &str) -> Vec<Reference> {
    attrs
        .names()
        .filter_map(|attr| {
            let (syntax, follow) = classify(tag, attr, attrs)?;
            Some(Reference {
                attr: attr.to_string(),
                syntax,
                follow,
                link: is_link(tag, attr),
            })
        })
        .collect()
}

/// Where an attribute of an element leads, if it holds a reference at all.
fn classify(tag: &str, attr: &str, attrs: &Attributes) -> Option<(Syntax, Option<LinkKind>)> {
    use LinkKind::{Navigation, Refresh, Requisite};
    let found = match (tag, attr) {
        // The base moves where others resolve; the caller handles it.
        ("base", _) => return None,
        // Pings report a click to a live server; they carry nothing to archive.
        (_, "ping") => (Syntax::Dropped, None),
        ("a" | "area", "href" | "xlink:href") => (Syntax::Url, Some(Navigation)),
        ("link", "href") => link_href(attrs),
        ("link", "imagesrcset") => (Syntax::Srcset, Some(Requisite)),
        // SVG: images, external `use` sprites and scripts load by themselves.
        ("image" | "use" | "script" | "feimage", "href" | "xlink:href") => {
            (Syntax::Url, Some(Requisite))
        }
        (_, "href" | "xlink:href") => (Syntax::Url, None),
        ("object", "data") => (Syntax::Url, Some(Requisite)),
        ("iframe" | "frame", "srcdoc") => (Syntax::Html, Some(Requisite)),
        // Where forms submit: rewritten, never followed (a crawl does not submit forms).
        ("form", "action") | ("button" | "input", "formaction") => (Syntax::Url, None),
        ("blockquote" | "q" | "del" | "ins", "cite") => (Syntax::Url, None),
        // Legacy plugins and the appcache manifest (pywb rewrites these too).
        ("object" | "applet", "codebase") | ("applet", "code" | "archive") => (Syntax::Url, None),
        ("param", "value") if names_a_resource(attrs) => (Syntax::Url, None),
        ("html", "manifest") | ("command" | "menuitem", "icon") => (Syntax::Url, None),
        (_, "src" | "poster" | "background") => (Syntax::Url, Some(Requisite)),
        (_, "srcset") => (Syntax::Srcset, Some(Requisite)),
        (_, a) if LAZY_SRCSET.contains(&a) => (Syntax::Srcset, Some(Requisite)),
        (_, a) if LAZY_SRC.contains(&a) => lazy_src(tag, a, attrs)?,
        (_, a) if LAZY_BACKGROUND.contains(&a) => lazy_background(a, attrs)?,
        (_, LAZY_POSTER) => (Syntax::Url, Some(Requisite)),
        (_, "style") => (Syntax::Style, Some(Requisite)),
        ("meta", "content") if is_refresh(attrs) => (Syntax::Refresh, Some(Refresh)),
        ("meta", "content") if names_an_image(attrs) => (Syntax::Url, Some(Requisite)),
        _ => return None,
    };
    Some(found)
}

/// A lazy loader's image URL: a requisite on an element that shows an image, and elsewhere
/// for the attributes that name an image anywhere, or a value that reads as an image's URL.
fn lazy_src(tag: &str, attr: &str, attrs: &Attributes) -> Option<(Syntax, Option<LinkKind>)> {
    let value = attrs.value(attr).filter(|v| looks_like_a_url(v))?;
    let image = shows_an_image(tag, attrs)
        || LAZY_SRC_ANY_ELEMENT.contains(&attr)
        || looks_like_an_image(&value);
    Some((Syntax::Url, image.then_some(LinkKind::Requisite)))
}

/// A lazy background: a URL, or CSS holding `url()`s. A value that is neither (a colour, as
/// slide shows write `data-background="#fff"` or `rgba(0,0,0,.5)`) is no reference.
fn lazy_background(attr: &str, attrs: &Attributes) -> Option<(Syntax, Option<LinkKind>)> {
    let value = attrs.value(attr)?;
    let syntax = if value.to_ascii_lowercase().contains("url(") {
        Syntax::Style
    } else if looks_like_a_url(&value) {
        Syntax::Url
    } else {
        return None;
    };
    Some((syntax, Some(LinkKind::Requisite)))
}

/// Whether an attribute value reads as a URL rather than a number, a word or a colour: one
/// token, with a path, or a file name's extension.
pub fn looks_like_a_url(value: &str) -> bool {
    let value = value.trim();
    let extension = value
        .split(['?', '#'])
        .next()
        .and_then(|path| path.rsplit_once('.'))
        .is_some_and(|(_, e)| {
            (2..=5).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphabetic())
        });
    // A path may hold parentheses (thumbor's `filters:max_age(3600)/`); a colour without one
    // (`rgba(0,0,0,.5)`) is no URL.
    !value.is_empty()
        && !value.starts_with('#')
        && !value.contains(char::is_whitespace)
        && (value.contains('/') || extension && !value.contains('('))
}

/// Elements whose lazy attributes are the image they show: `img`, `picture` sources, image
/// inputs, and custom image elements (`<amp-img>`, `<a-img>`).
pub fn shows_an_image(tag: &str, attrs: &Attributes) -> bool {
    match tag {
        "img" | "source" => true,
        "input" => is_image_input(attrs),
        custom => custom.contains('-') && (custom.ends_with("-img") || custom.ends_with("-image")),
    }
}

/// Whether a URL's path ends as an image file's does (`.jpg`, `.webp`, ...).
pub fn looks_like_an_image(value: &str) -> bool {
    let path = value.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        extension.as_deref(),
        Some(
            "jpg"
                | "jpeg"
                | "jfif"
                | "pjpeg"
                | "png"
                | "apng"
                | "gif"
                | "webp"
                | "avif"
                | "svg"
                | "bmp"
                | "ico"
                | "tif"
                | "tiff"
                | "heic"
        )
    )
}

/// A `<link href>`: a requisite to fetch, a hint that only opens connections to the live web
/// (dropped), or a reference to rewrite.
fn link_href(attrs: &Attributes) -> (Syntax, Option<LinkKind>) {
    let rel = attrs.raw("rel").unwrap_or_default();
    if is_connection_hint(rel) {
        (Syntax::Dropped, None)
    } else {
        let requisite = is_requisite_rel(rel) || is_microdata_image(attrs);
        (Syntax::Url, requisite.then_some(LinkKind::Requisite))
    }
}

/// Whether a reference is a link a reader clicks, rather than one that loads or acts by itself.
fn is_link(tag: &str, attr: &str) -> bool {
    matches!(
        (tag, attr),
        ("a" | "area", "href" | "xlink:href") | (_, "cite")
    )
}

/// `dns-prefetch` and `preconnect` name a host, not content: nothing of them is archived.
fn is_connection_hint(rel: &str) -> bool {
    rel.split_ascii_whitespace()
        .any(|r| r.eq_ignore_ascii_case("dns-prefetch") || r.eq_ignore_ascii_case("preconnect"))
}

/// A plugin `<param>` whose value is the URL of what the plugin loads.
fn names_a_resource(attrs: &Attributes) -> bool {
    let name = attrs.raw("name").unwrap_or_default();
    matches!(
        name.trim().to_ascii_lowercase().as_str(),
        "movie" | "src" | "url" | "filename" | "data" | "source"
    )
}

fn is_image_input(attrs: &Attributes) -> bool {
    attrs
        .raw("type")
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("image"))
}

fn is_refresh(attrs: &Attributes) -> bool {
    attrs
        .raw("http-equiv")
        .is_some_and(|h| h.trim().eq_ignore_ascii_case("refresh"))
}

/// `og:image` and kin: the picture a page is shared with (Open Graph, Twitter cards, the
/// older `image_src`-era names), or a microdata `itemprop=image`.
fn names_an_image(attrs: &Attributes) -> bool {
    if is_microdata_image(attrs) {
        return true;
    }
    let property = attrs
        .raw("property")
        .or_else(|| attrs.raw("name"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        property.as_str(),
        "og:image"
            | "og:image:url"
            | "og:image:secure_url"
            | "twitter:image"
            | "twitter:image:src"
            | "thumbnail"
            | "msapplication-tileimage"
    )
}

fn is_microdata_image(attrs: &Attributes) -> bool {
    attrs.raw("itemprop").is_some_and(|p| {
        p.split_ascii_whitespace()
            .any(|p| p == "image" || p == "thumbnailUrl")
    })
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

/// A value to put in an attribute, escaped so that a browser reads back exactly `value`.
pub fn escape_attribute(value: &str) -> String {
    htmlize::escape_attribute(value).into_owned()
}

/// A document held in a `data:` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDocument {
    /// `text/html` or `image/svg+xml`.
    pub mime: String,
    pub text: String,
}

/// The document a `data:` URL holds, if it is one a frame renders with references of its own
/// (`text/html`, `image/svg+xml`), read as the Fetch standard's "data: URL processor" reads
/// it: percent-decoded, then base64-decoded where the type ends in `;base64`. Its bytes are
/// read as UTF-8.
pub fn data_url_document(value: &str) -> Option<DataDocument> {
    let value = value.trim_start_matches(|c: char| c <= ' ');
    value.get(..5).filter(|s| s.eq_ignore_ascii_case("data:"))?;
    let (mime, body) = value[5..].split_once(',')?;
    let mime = mime.trim().to_ascii_lowercase();
    let (mime, base64) = match mime.strip_suffix("base64").map(str::trim_end) {
        Some(head) if head.ends_with(';') => (head.trim_end_matches(';'), true),
        _ => (mime.as_str(), false),
    };
    let essence = mime.split(';').next().unwrap_or_default().trim();
    if !matches!(essence, "text/html" | "image/svg+xml") {
        return None;
    }
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(body).collect();
    let bytes = if base64 {
        forgiving_base64(&bytes)?
    } else {
        bytes
    };
    Some(DataDocument {
        mime: essence.to_string(),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Base64 as browsers read it: ASCII whitespace ignored, padding optional.
fn forgiving_base64(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    while text.last() == Some(&b'=') {
        text.pop();
    }
    data_encoding::BASE64_NOPAD.decode(&text).ok()
}

/// Where the URL of a `meta refresh` content lies (HTML standard, "shared declarative refresh
/// steps"): `5; url=/next`, `0;URL='/next'` and `0; /next` alike.
pub fn refresh_target(content: &str) -> Option<Range<usize>> {
    let bytes = content.as_bytes();
    let skip_space = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let mut i = skip_space(0);
    let digits_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == digits_start && bytes.get(i) != Some(&b'.') {
        return None;
    }
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
    {
        i += 1;
    }
    if i < bytes.len() {
        if !matches!(bytes[i], b';' | b',') && !bytes[i].is_ascii_whitespace() {
            return None;
        }
        i = skip_space(i);
        if matches!(bytes.get(i), Some(b';' | b',')) {
            i += 1;
        }
        i = skip_space(i);
    }
    i = skip_url_label(bytes, i);
    let quote = bytes.get(i).copied().filter(|b| matches!(b, b'"' | b'\''));
    if quote.is_some() {
        i += 1;
    }
    let end = match quote {
        Some(q) => bytes[i..]
            .iter()
            .position(|&b| b == q)
            .map_or(bytes.len(), |p| i + p),
        None => bytes.len(),
    };
    let (start, end) = trim_range(content, i, end);
    (start < end).then_some(start..end)
}

/// Past `url =` (any case), as far as it matches: the standard goes on from wherever the
/// label stops matching.
fn skip_url_label(bytes: &[u8], mut i: usize) -> usize {
    for letter in [b'u', b'r', b'l'] {
        if bytes
            .get(i)
            .is_some_and(|b| b.to_ascii_lowercase() == letter)
        {
            i += 1;
        } else {
            return i;
        }
    }
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    if bytes.get(i) != Some(&b'=') {
        return i;
    }
    i += 1;
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The range without the leading and trailing C0 controls and spaces the URL parser strips
/// (and no other whitespace: a trailing no-break space is part of the URL).
fn trim_range(text: &str, start: usize, end: usize) -> (usize, usize) {
    let slice = &text[start..end];
    let stripped = |c: char| c <= ' ';
    let lead = slice.len() - slice.trim_start_matches(stripped).len();
    let trail = slice.len() - slice.trim_end_matches(stripped).len();
    (start + lead, (end - trail).max(start + lead))
}

/// The target of a `meta refresh` content, if it names one.
pub fn refresh_url(content: &str) -> Option<&str> {
    refresh_target(content).map(|range| &content[range])
}

/// Each candidate URL of a `srcset` value with its byte range (HTML standard, "parse a
/// srcset attribute"): candidates are a URL and optional descriptors, separated by commas; a
/// URL may itself contain commas. One pass, front to back, nothing held: a `srcset` can hold
/// hundreds of thousands of candidates (issue 13).
pub fn srcset_spans(srcset: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        loop {
            let rest = &srcset[pos..];
            let skipped = rest.len()
                - rest
                    .trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',')
                    .len();
            pos += skipped;
            let rest = &srcset[pos..];
            if rest.is_empty() {
                return None;
            }
            let end = rest
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            let candidate = &rest[..end];
            let url = candidate.trim_end_matches(',');
            let start = pos;
            pos += end;
            if !candidate.ends_with(',') {
                pos += descriptors_end(&srcset[pos..]);
            }
            if !url.is_empty() {
                return Some(start..start + url.len());
            }
        }
    })
}

/// The length of a candidate's descriptors, up to and with the comma that ends them (commas
/// inside parentheses do not end them).
fn descriptors_end(after: &str) -> usize {
    let mut depth = 0;
    for (i, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth <= 0 => return i + 1,
            _ => {}
        }
    }
    after.len()
}

/// The URLs of a `srcset` value.
pub fn srcset_urls(srcset: &str) -> Vec<&str> {
    srcset_spans(srcset).map(|r| &srcset[r]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The read-once attributes answer as lol_html's lookups did: names in any case found by
    /// their lowercase, the first of two alike, values as written or decoded.
    #[test]
    fn attributes_read_once_answer_as_the_tag_does() {
        let seen = std::cell::RefCell::new(Vec::new());
        let settings = lol_html::Settings::new().append_element_content_handler(
            lol_html::element!("img", |el| {
                let attrs = Attributes::of(el);
                seen.borrow_mut().push((
                    attrs.names().map(str::to_string).collect::<Vec<_>>(),
                    attrs.raw("src").map(str::to_string),
                    attrs.value("src"),
                    el.get_attribute("src"),
                    attrs.has("data-x") == el.has_attribute("data-x"),
                    attrs.value("alt"),
                ));
                Ok(())
            }),
        );
        let mut rewriter = lol_html::HtmlRewriter::new(settings, |_: &[u8]| {});
        let page = br#"<img SRC="/a?x=1&amp;y=2" Data-X src="/second" alt='&lt;&#39;'><img>"#;
        rewriter.write(page).unwrap();
        rewriter.end().unwrap();
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 2);
        let (names, raw, value, lol, has, alt) = &seen[0];
        assert_eq!(names, &["src", "data-x", "src", "alt"]);
        assert_eq!(raw.as_deref(), Some("/a?x=1&amp;y=2"));
        assert_eq!(raw, lol);
        assert_eq!(value.as_deref(), Some("/a?x=1&y=2"));
        assert!(has);
        assert_eq!(alt.as_deref(), Some("<'"));
        assert_eq!(seen[1].0, Vec::<String>::new());
    }

    #[test]
    fn refresh_contents_parse_as_the_standard_says() {
        for (content, url) in [
            ("0; URL=/a", Some("/a")),
            ("5;url='/moved.aspx'", Some("/moved.aspx")),
            ("0; http://live.example/", Some("http://live.example/")),
            ("0,  URL = \"q\" trailing", Some("q")),
            ("0;ñé/next", Some("ñé/next")),
            ("3.5 ; url=x", Some("x")),
            ("0", None),
            ("x; url=/a", None),
            ("0x /a", None),
            (".5,http://live.example/x", Some("http://live.example/x")),
            ("0 'http://live.example/q'", Some("http://live.example/q")),
            ("0; urx", Some("x")),
            ("0; url /a", Some("/a")),
            ("0;url=\"/a\u{a0}\"", Some("/a\u{a0}")),
            ("\t0\n;\x0curl\t=\r'/a'b", Some("/a")),
        ] {
            assert_eq!(refresh_url(content), url, "{content:?}");
        }
    }

    #[test]
    fn srcset_parsing_handles_commas_in_urls() {
        assert_eq!(
            srcset_urls("a.jpg 1x,b.jpg 2x, c,d.jpg 3x"),
            ["a.jpg", "b.jpg", "c,d.jpg"]
        );
        assert_eq!(srcset_urls("  single.jpg  "), ["single.jpg"]);
        assert_eq!(srcset_urls("a.jpg (w, x) 2x, b.jpg"), ["a.jpg", "b.jpg"]);
    }

    #[test]
    fn data_url_documents_read_as_fetch_reads_them() {
        for (url, document) in [
            ("data:text/html,<img src=x>", Some("<img src=x>")),
            ("  DATA:Text/HTML;charset=utf-8,%3Cp%3E", Some("<p>")),
            ("data:text/html;base64,PGI+eDwvYj4", Some("<b>x</b>")),
            ("data:text/html ; BASE64 ,PGI+ eDwv Yj4=", Some("<b>x</b>")),
            ("data:image/svg+xml,<svg/>", Some("<svg/>")),
            ("data:image/png;base64,AAAA", None),
            ("data:,text", None),
            ("https://x/", None),
        ] {
            assert_eq!(
                data_url_document(url).map(|d| d.text).as_deref(),
                document,
                "{url}"
            );
        }
    }
}
