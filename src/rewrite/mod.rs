//! Rewriting references in HTML and CSS, with no I/O of its own: the offline copy, the post
//! rewrite and replay hand in a mapping from absolute URL to the reference to put instead, and
//! [`rewrite_document`] is the one dispatch by [`ContentKind`] both the offline copy and replay
//! use.
//!
//! HTML is rewritten as a stream by lol_html ([`html`]), CSS token by token ([`css`]); only
//! references change, every other byte stays as it was.
//!
//! What one rewrite may cost is bounded, whatever the payload decodes to (issue 13): a page is
//! rewritten for its first [`MAX_REWRITTEN_HTML`] and copied past that; lol_html holds at most
//! 16 MiB (an unfinished tag); the replacements of one document add up to at most 8 MiB, and
//! the references it reports as unresolved to 100,000.

mod css;
mod html;
pub mod script;
mod svg;

use std::cell::{Cell, RefCell};
use std::io::{self, BufRead, BufReader, Read, Write};

use url::Url;

pub use css::rewrite_css;
pub use html::{rewrite_html, rewrite_html_stream};

use html::rewrite_page_stream;

use crate::content::{ContentKind, decode_content, decoding_reader, read_as_stored};
use crate::extract::{css_text, document_encoding, header_encoding, html_encoding};

/// Stylesheets larger than this are copied as they are: no real one is.
const MAX_REWRITTEN_CSS: u64 = 16 << 20;
/// How much of a page is read to tell its encoding, as a browser's prescan would.
const ENCODING_PREFIX: u64 = 1 << 20;
/// How much of a page is rewritten: past it, the rest is left out. Rewriting is CPU work, a
/// few hundred nanoseconds an element, and a few kilobytes of gzip decode to tens of
/// megabytes of markup (issue 13: 61 KB to 30 MiB took 16 s a request); no real page needs
/// more, and markup passed on unrewritten could take the reader to the live web.
pub const MAX_REWRITTEN_HTML: u64 = 8 << 20;
/// How much text the replacements of one document's references may add up to. A page of
/// short references (`url(a)`, a `srcset` of `a 1w,` over and over) grows tenfold through
/// replay's long archive URLs, held in memory an attribute or a stylesheet at a time: past
/// this, references become [`FENCED`]. A real page of
/// [`MAX_REWRITTEN_HTML`] needs a few megabytes.
const MAX_REPLACEMENT_BYTES: usize = 8 << 20;
/// How many references one document may report as left pointing at the live web: each is a
/// parsed URL in memory, and the report is read by people.
const MAX_UNRESOLVED: usize = 100_000;
/// How much of a payload is decoded to tell an untyped one's kind.
const SNIFFED: u64 = 512;

/// How to rewrite one document.
pub struct HtmlOptions<'m> {
    /// The document's URL, against which references resolve (until a `<base href>`).
    pub base: Url,
    /// The replacement for an absolute URL (fragment removed), or `None` to leave it.
    pub map: &'m dyn Fn(&Url) -> Option<String>,
    /// Keep each rewritten attribute's original value beside it, as
    /// `data-cairn-original` (for the element's `href`, else its `src`) or
    /// `data-cairn-original-ATTR`.
    pub keep_original: bool,
    /// Do what lazy loaders do: lazy attributes become the real `src`, `srcset`, `poster`, or
    /// a `background-image`.
    pub promote_lazy: bool,
    /// HTML put first in `<body>` (replay's banner naming the capture).
    pub banner: Option<String>,
    /// Replay's client layer: its `<script>` tag, put before the page's first script,
    /// stylesheet or content, and the page's classic scripts scoped to it ([`script`]).
    pub client: Option<String>,
    /// The offline copy's fence: a reference to what was not archived that would load or act
    /// by itself (an image, a form's action, a refresh) is removed, its value kept in
    /// `data-cairn-original-ATTR` (in CSS it becomes an empty `data:` URL, in a `srcset` its
    /// candidate goes); links a reader clicks stay live. The copy is a still one: scripts
    /// become data blocks, and what they would have done for the page's look is done.
    pub fence: bool,
    /// Behind the fence, an archived SVG document by URL, decoded, for a `<use>` of one of
    /// its symbols: a browser does not load a sprite from a file, so it goes into the page.
    pub sprites: Option<&'m SpriteSource<'m>>,
}

/// An archived SVG document's text, by URL.
pub type SpriteSource<'a> = dyn Fn(&Url) -> Option<std::sync::Arc<str>> + 'a;

/// What a fenced reference becomes: a URL no browser fetches. In CSS it is written as an empty
/// `data:` URL, and a `srcset` leaves its candidate out.
pub const FENCED: &str = "about:invalid";

/// What becomes of one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mapped {
    /// Not a URL to rewrite (a fragment, `data:`, `javascript:`, unparsable).
    Leave,
    /// The replacement.
    To(String),
    /// An http(s) URL the mapping does not know (noted as unresolved), absolute, with its
    /// fragment.
    Unarchived(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("reading the document: {0}")]
    Read(io::Error),
    #[error("writing the rewritten document: {0}")]
    Write(io::Error),
    #[error("rewriting HTML: {0}")]
    Html(#[from] lol_html::errors::RewritingError),
}

/// What a stored payload is, from its `Content-Type`, its `Content-Encoding` and its first
/// bytes as stored: what replay asks before it decides to rewrite or to serve as archived.
pub fn payload_kind(content_type: Option<&str>, encoding: Option<&str>, raw: &[u8]) -> ContentKind {
    ContentKind::declared(content_type).unwrap_or_else(|| {
        ContentKind::sniffed(&decode_content(raw, encoding, SNIFFED).unwrap_or_default())
    })
}

/// A stored payload as the offline copy and replay show it: its content encoding undone, its
/// kind told from its type and first bytes, then [`rewrite_document`].
pub fn rewrite_payload(
    content_type: Option<&str>,
    encoding: Option<&str>,
    raw: &mut dyn BufRead,
    out: &mut dyn Write,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, RewriteError> {
    // A body stored as served is read from the record's own buffer: a buffer of its own,
    // zeroed as it first fills, was a seventh of the offline copy's instructions.
    let mut decoded;
    let body: &mut dyn BufRead = if read_as_stored(encoding) {
        raw
    } else {
        decoded = BufReader::with_capacity(64 << 10, decoding_reader(raw, encoding));
        &mut decoded
    };
    let prefix = body.fill_buf().map_err(RewriteError::Read)?;
    let kind = ContentKind::of(content_type, prefix);
    rewrite_document(kind, body, out, content_type, options)
}

/// The one rewrite dispatch: a page or a stylesheet with its references replaced, anything
/// else copied as it is. `body` is the payload with its content encoding undone. Returns the
/// references left as they were.
pub fn rewrite_document(
    kind: ContentKind,
    body: &mut dyn BufRead,
    out: &mut dyn Write,
    content_type: Option<&str>,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, RewriteError> {
    match kind {
        ContentKind::Html => rewrite_page(body, out, content_type, options),
        ContentKind::Css => rewrite_stylesheet(body, out, content_type, options),
        ContentKind::Image if options.fence && is_svg(content_type) => {
            rewrite_svg_document(body, out, options)
        }
        _ => copy(body, out).map(|()| Vec::new()),
    }
}

/// A page, its encoding told from its first megabyte as a browser's prescan would. A page in
/// an encoding lol_html cannot read (UTF-16, ISO-2022-JP) goes through as UTF-8, its bytes
/// kept: what cannot be read is left as it was rather than re-encoded. Its first
/// [`MAX_REWRITTEN_HTML`] are rewritten in replay and the rest is left out: past it, archived
/// markup copied as it is could navigate the reader to the live web (a `meta refresh`), and
/// no real page is that large.
fn rewrite_page(
    body: &mut dyn BufRead,
    out: &mut dyn Write,
    content_type: Option<&str>,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, RewriteError> {
    let mut prefix = Vec::new();
    body.take(ENCODING_PREFIX)
        .read_to_end(&mut prefix)
        .map_err(RewriteError::Read)?;
    let declared = html_encoding(&prefix, content_type);
    let encoding = lol_html::AsciiCompatibleEncoding::new(declared);
    // Opened from a file, a page has no header: the offline copy declares the encoding only
    // the header did, or a browser would guess it (a short Shift_JIS page reads as
    // windows-1252).
    let declare_charset = options.fence
        && encoding.is_some()
        && header_encoding(content_type).is_some_and(|h| document_encoding(&prefix) != Some(h));
    let encoding = encoding.unwrap_or_else(lol_html::AsciiCompatibleEncoding::utf_8);
    let mut src = prefix.as_slice().chain(body);
    // The offline copy (the fenced rewrite) is built once, in the background, and takes the
    // time to rewrite a page whole, in bounded memory; replay answers a request, and bounds it.
    let limit = if options.fence {
        u64::MAX
    } else {
        MAX_REWRITTEN_HTML
    };
    let mut src = (&mut src).take(limit);
    rewrite_page_stream(&mut src, out, encoding, options, declare_charset)
}

/// A stylesheet, whose references resolve against its own URL, read and written back in its
/// own encoding ([`css_text`]); one too large to be a real one is copied as it is.
fn rewrite_stylesheet(
    body: &mut dyn BufRead,
    out: &mut dyn Write,
    content_type: Option<&str>,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, RewriteError> {
    let mut bytes = Vec::new();
    body.take(MAX_REWRITTEN_CSS + 1)
        .read_to_end(&mut bytes)
        .map_err(RewriteError::Read)?;
    if bytes.len() as u64 > MAX_REWRITTEN_CSS {
        out.write_all(&bytes).map_err(RewriteError::Write)?;
        return copy(body, out).map(|()| Vec::new());
    }
    let (unresolved, spent) = (RefCell::new(Vec::new()), Cell::new(0));
    let (text, encoding) = css_text(&bytes, content_type);
    let rewritten = rewrite_css(&text, &|r| {
        let utf8 = encoding_rs::UTF_8;
        let mapped = map_reference(options.map, &options.base, utf8, r, &unresolved, &spent);
        fenced_in_css(mapped, options.fence)
    });
    out.write_all(&encoding.encode(&rewritten).0)
        .map_err(RewriteError::Write)?;
    Ok(unresolved.into_inner())
}

/// Whether a payload is typed as an SVG document.
fn is_svg(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        let essence = t.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("image/svg+xml")
    })
}

/// What the offline copy holds of an SVG document that is not well-formed, or too large to
/// read whole: an empty drawing (a browser shows nothing of a malformed one either).
const EMPTY_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";

/// An SVG document, behind the fence, re-serialised from the allow-list ([`svg`]).
fn rewrite_svg_document(
    body: &mut dyn BufRead,
    out: &mut dyn Write,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, RewriteError> {
    let mut bytes = Vec::new();
    body.take(MAX_REWRITTEN_CSS + 1)
        .read_to_end(&mut bytes)
        .map_err(RewriteError::Read)?;
    let (unresolved, spent) = (RefCell::new(Vec::new()), Cell::new(0));
    let text = String::from_utf8_lossy(&bytes);
    let svg = (bytes.len() as u64 <= MAX_REWRITTEN_CSS)
        .then(|| sanitized_svg(&text, &options.base, options, &unresolved, &spent))
        .flatten();
    let svg = svg.as_deref().unwrap_or(EMPTY_SVG);
    out.write_all(svg.as_bytes()).map_err(RewriteError::Write)?;
    Ok(unresolved.into_inner())
}

/// An SVG document whose references resolve against `base`, written back from the
/// allow-list; `None` if it is not well-formed.
fn sanitized_svg(
    text: &str,
    base: &Url,
    options: &HtmlOptions<'_>,
    unresolved: &RefCell<Vec<Url>>,
    spent: &Cell<usize>,
) -> Option<String> {
    // An SVG document is XML, read as UTF-8: its queries are written in UTF-8.
    let utf8 = encoding_rs::UTF_8;
    let map = |value: &str| map_reference(options.map, base, utf8, value, unresolved, spent);
    let href = |value: &str| match map(value) {
        Mapped::To(new) => Some(new),
        Mapped::Unarchived(_) if options.fence => None,
        Mapped::Unarchived(_) | Mapped::Leave => Some(value.to_string()),
    };
    let css = |text: &str| rewrite_css(text, &|r| fenced_in_css(map(r), options.fence));
    svg::sanitize_svg(
        text,
        &svg::SvgReferences {
            href: &href,
            css: &css,
        },
    )
}

/// What a reference in a document at `base` becomes, its query written in `query_encoding`
/// (see [`crate::extract::Base`]); an http(s) URL the mapping does not know is noted in
/// `unresolved`. A fragment stays on the new reference. `spent` counts the
/// replacements' bytes, up to [`MAX_REPLACEMENT_BYTES`] a document: past them, references
/// are fenced.
fn map_reference(
    map: &dyn Fn(&Url) -> Option<String>,
    base: &Url,
    query_encoding: &'static encoding_rs::Encoding,
    value: &str,
    unresolved: &RefCell<Vec<Url>>,
    spent: &Cell<usize>,
) -> Mapped {
    // Past the budget, a reference is fenced rather than left: an attacker who spends the
    // budget must not buy live references with it.
    if spent.get() > MAX_REPLACEMENT_BYTES {
        return Mapped::To(FENCED.to_string());
    }
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("data:") {
        return Mapped::Leave;
    }
    let Ok(mut url) = crate::extract::join_in(base, trimmed, query_encoding) else {
        return Mapped::Leave;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Mapped::Leave;
    }
    let fragment = url.fragment().map(str::to_string);
    url.set_fragment(None);
    let Some(mut new) = map(&url) else {
        let mut absolute = url.to_string();
        if let Some(f) = &fragment {
            absolute.push('#');
            absolute.push_str(f);
        }
        let mut unresolved = unresolved.borrow_mut();
        if unresolved.len() < MAX_UNRESOLVED {
            unresolved.push(url);
        }
        return Mapped::Unarchived(absolute);
    };
    if let Some(f) = fragment {
        new.push('#');
        new.push_str(&f);
    }
    spent.set(spent.get() + new.len());
    Mapped::To(new)
}

/// The replacement for a reference inside CSS or a `srcset`, where a reference cannot be
/// removed: behind the fence, what was not archived becomes [`FENCED`].
fn fenced_in_css(mapped: Mapped, fence: bool) -> Option<String> {
    match mapped {
        Mapped::To(new) => Some(new),
        Mapped::Unarchived(_) if fence => Some(FENCED.to_string()),
        Mapped::Unarchived(_) | Mapped::Leave => None,
    }
}

/// Copies what is not rewritten, telling a failed read from a failed write.
fn copy(body: &mut dyn BufRead, out: &mut dyn Write) -> Result<(), RewriteError> {
    loop {
        let chunk = match body.fill_buf() {
            Ok([]) => return Ok(()),
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RewriteError::Read(e)),
        };
        out.write_all(chunk).map_err(RewriteError::Write)?;
        let n = chunk.len();
        body.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(url: &Url) -> Option<String> {
        url.as_str()
            .strip_prefix("https://www.cna.com.tw/")
            .map(|rest| format!("local/{rest}"))
    }

    fn rewrite(html: &str, keep_original: bool) -> (String, Vec<Url>) {
        let options = HtmlOptions {
            base: Url::parse("https://www.cna.com.tw/news/a.aspx").unwrap(),
            map: &local,
            keep_original,
            promote_lazy: true,
            banner: None,
            client: None,
            fence: false,
            sprites: None,
        };
        let (bytes, unresolved) =
            rewrite_html(html.as_bytes(), encoding_rs::UTF_8, &options).unwrap();
        (String::from_utf8(bytes).unwrap(), unresolved)
    }

    /// Found by fuzzing: an element with both `href` and `src` kept one original for both, so
    /// a second run rewrote the other attribute from it.
    #[test]
    fn two_references_on_one_element_keep_their_own_originals() {
        let source = r#"<a href="https://www.cna.com.tw/a" src="https://www.cna.com.tw/b">x</a>"#;
        let (once, _) = rewrite(source, true);
        assert!(
            once.contains(r#"data-cairn-original="https://www.cna.com.tw/a""#)
                && once.contains(r#"data-cairn-original-src="https://www.cna.com.tw/b""#),
            "{once}"
        );
        let (twice, _) = rewrite(&once, true);
        assert_eq!(once, twice);
        let (once, _) = rewrite(r#"<a href="https://www.cna.com.tw/a" src>x</a>"#, true);
        assert_eq!(rewrite(&once, true).0, once);
    }

    /// Found by fuzzing: any `<base href>` panicked (the base was borrowed while replaced).
    #[test]
    fn references_after_a_base_resolve_against_it() {
        let (out, _) = rewrite(
            r#"<base href="/sub/"><img src="p.jpg"><base href><a href="x">x</a>"#,
            true,
        );
        assert!(out.contains(r#"src="local/sub/p.jpg""#), "{out}");
        assert!(out.contains(r#"href="local/sub/x""#), "{out}");
        assert!(!out.contains(r#"<base href="/sub/""#), "{out}");
    }

    #[test]
    fn css_references_are_replaced_and_the_rest_kept() {
        let css = "@import 'a.css';\n/* url(x.png) */ .b { background: url( b.png ) no-repeat; } .c{background:url(\"c.png\")}";
        let out = rewrite_css(css, &|r: &str| Some(format!("L/{r}")));
        assert_eq!(
            out,
            "@import \"L/a.css\";\n/* url(x.png) */ .b { background: url(\"L/b.png\") no-repeat; } .c{background:url(\"L/c.png\")}"
        );
    }

    #[test]
    fn html_attributes_lazy_images_and_styles() {
        let (out, unresolved) = rewrite(
            r#"<img class=lazy src="data:image/gif;base64,R0" data-src="/img/a.jpg" data-srcset="/img/a.jpg 1x, /img/b.jpg 2x"><a href="/news/b.aspx#top">b</a><a href="https://elsewhere.example/">x</a><div style="background:url(/bg.png)"></div><style>p{background:url(/p.png)}</style>"#,
            false,
        );
        assert!(out.contains(r#"src="local/img/a.jpg""#), "{out}");
        assert!(
            out.contains(r#"srcset="local/img/a.jpg 1x, local/img/b.jpg 2x""#),
            "{out}"
        );
        assert!(out.contains(r##"href="local/news/b.aspx#top""##), "{out}");
        assert!(
            out.contains(r#"style="background:url(&quot;local/bg.png&quot;)""#)
                || out.contains("url(\"local/bg.png\")"),
            "{out}"
        );
        assert!(out.contains(r#"p{background:url("local/p.png")}"#), "{out}");
        assert_eq!(unresolved.len(), 1);
        assert_eq!(unresolved[0].as_str(), "https://elsewhere.example/");
    }

    #[test]
    fn originals_are_kept_and_a_second_run_changes_nothing() {
        let source =
            r#"<p>text stays</p><img src="https://www.cna.com.tw/x.jpg"><a href="/y">y</a>"#;
        let (once, _) = rewrite(source, true);
        assert!(
            once.contains(r#"data-cairn-original="https://www.cna.com.tw/x.jpg""#),
            "{once}"
        );
        assert!(once.contains(r#"src="local/x.jpg""#), "{once}");
        let (twice, _) = rewrite(&once, true);
        assert_eq!(once, twice);
        assert!(once.starts_with("<p>text stays</p>"));
    }

    #[test]
    fn decoded_references_are_found_and_written_back_escaped() {
        let (out, unresolved) = rewrite(
            r#"<img src="/i?a=1&amp;b=2"><meta http-equiv=refresh content="0; /next?x=1&amp;y=2"><noscript><img src="/ns.jpg"></noscript>"#,
            false,
        );
        assert!(out.contains(r#"src="local/i?a=1&amp;b=2""#), "{out}");
        assert!(
            out.contains(r#"content="0; local/next?x=1&amp;y=2""#),
            "{out}"
        );
        assert!(
            out.contains(r#"<noscript><img src="local/ns.jpg"></noscript>"#),
            "{out}"
        );
        assert!(unresolved.is_empty(), "{unresolved:?}");
    }

    /// A page lol_html cannot decode (ISO-2022-JP) keeps its bytes: only references change.
    #[test]
    fn pages_in_encodings_lol_html_cannot_read_keep_their_bytes() {
        let (text, _, _) =
            encoding_rs::ISO_2022_JP.encode("<p>日本語</p><a href=\"/x\">リンク</a>");
        let options = HtmlOptions {
            base: Url::parse("https://www.cna.com.tw/").unwrap(),
            map: &local,
            keep_original: false,
            promote_lazy: true,
            banner: None,
            client: None,
            fence: false,
            sprites: None,
        };
        let mut out = Vec::new();
        let content_type = Some("text/html; charset=iso-2022-jp");
        rewrite_document(
            ContentKind::Html,
            &mut &text[..],
            &mut out,
            content_type,
            &options,
        )
        .unwrap();
        let expected = [&text[..], b""].concat();
        let expected =
            String::from_utf8_lossy(&expected).replace("href=\"/x\"", "href=\"local/x\"");
        assert_eq!(String::from_utf8_lossy(&out), expected);
        let (decoded, _, _) = encoding_rs::ISO_2022_JP.decode(&out);
        assert!(
            decoded.contains("日本語") && decoded.contains("リンク"),
            "{decoded}"
        );
    }

    /// Offline, a link to what was not archived leads to the URL the live page's link led
    /// to: on a Shift_JIS page, its query in Shift_JIS.
    #[test]
    fn unarchived_links_keep_the_query_encoding_of_their_page() {
        let (text, _, _) = encoding_rs::SHIFT_JIS.encode(
            "<a href=\"/search/?keyword=東京&amp;iref=tag\">東京</a><a href=\"/x?q=東\">x</a>",
        );
        let options = HtmlOptions {
            base: Url::parse("https://www.asahi.example/articles/a.html").unwrap(),
            map: &|url: &Url| (url.query() == Some("q=%93%8C")).then(|| "x.html".to_string()),
            keep_original: false,
            promote_lazy: true,
            banner: None,
            client: None,
            fence: true,
            sprites: None,
        };
        let (out, _) = rewrite_html(&text, encoding_rs::SHIFT_JIS, &options).unwrap();
        let (out, _, _) = encoding_rs::SHIFT_JIS.decode(&out);
        for expected in [
            r#"href="https://www.asahi.example/search/?keyword=%93%8C%8B%9E&amp;iref=tag""#,
            r#"href="x.html""#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
    }

    #[test]
    fn references_rewritten_on_any_element_that_holds_them() {
        let (out, _) = rewrite(
            r#"<amp-img srcset="/a.jpg 2x"></amp-img><div data-url="/share" data-lazy="/l.jpg"></div>"#,
            false,
        );
        assert!(out.contains(r#"srcset="local/a.jpg 2x""#), "{out}");
        assert!(out.contains(r#"data-url="local/share""#), "{out}");
        assert!(out.contains(r#"data-lazy="local/l.jpg""#), "{out}");
    }

    /// Every lazy construct of issue 14 gets what its loader would have set, offline.
    #[test]
    fn lazy_images_frames_videos_and_backgrounds_are_promoted() {
        let out = rewrite_with(
            r##"<img data-delay="/a.jpg"><img datasrc="/b.jpg"><img data-low-res-src="/c.jpg">
<img data-n-src="/d.jpg" data-lazy-srcset="/d.jpg 1x, /d2.jpg 2x"><amp-img data-pic="/e.jpg"></amp-img>
<iframe data-src="/embed.html"></iframe><video data-poster="/poster.jpg" data-src="/v.mp4"></video>
<div data-bg="/bg.jpg" style="height:10px"></div><span data-background-image="url('/bg2.jpg')"></span>
<section class="lazy-image" data-src="/container.jpg"></section><a data-src="/lightbox.jpg">a</a>
<div data-background="#fff"></div>"##,
            &local,
            true,
        );
        for expected in [
            r#"<img data-delay="local/a.jpg" src="local/a.jpg">"#,
            r#"<img datasrc="local/b.jpg" src="local/b.jpg">"#,
            r#"<img data-low-res-src="local/c.jpg" src="local/c.jpg">"#,
            r#"src="local/d.jpg" srcset="local/d.jpg 1x, local/d2.jpg 2x">"#,
            r#"<amp-img data-pic="local/e.jpg" src="local/e.jpg">"#,
            r#"<iframe data-src="local/embed.html" src="local/embed.html">"#,
            r#"poster="local/poster.jpg""#,
            r#"<video data-poster="local/poster.jpg" data-src="local/v.mp4" src="local/v.mp4""#,
            r#"style="height:10px;background-image:url(&quot;local/bg.jpg&quot;)""#,
            r#"style="background-image:url(&quot;local/bg2.jpg&quot;)""#,
            r#"style="background-image:url(&quot;local/container.jpg&quot;)""#,
            r#"<a data-src="local/lightbox.jpg">"#,
            r##"<div data-background="#fff">"##,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
        // A second run over a post, its originals kept, changes nothing more.
        let archived = |url: &Url| match url.path() {
            "/bg.jpg" | "/x.jpg" => local(url),
            _ => None,
        };
        let options = HtmlOptions {
            base: Url::parse("https://www.cna.com.tw/news/a.aspx").unwrap(),
            map: &archived,
            keep_original: true,
            promote_lazy: true,
            banner: None,
            client: None,
            fence: false,
            sprites: None,
        };
        let run = |html: &str| {
            let (bytes, _) = rewrite_html(html.as_bytes(), encoding_rs::UTF_8, &options).unwrap();
            String::from_utf8(bytes).unwrap()
        };
        let once = run(r#"<div data-bg="/bg.jpg" style="color:red"></div><img data-src="/x.jpg">"#);
        assert!(
            once.contains(r#"style="color:red;background-image:url(&quot;local/bg.jpg&quot;)""#),
            "{once}"
        );
        assert_eq!(run(&once), once);
    }

    /// Found in review: promotion that overrode a real image, lost a style, or promoted what
    /// was fenced; lazy names whose value is no URL; CORS on a media element.
    #[test]
    fn promotion_keeps_what_the_page_shows() {
        let archived = |url: &Url| match url.path() {
            "/thumb.jpg" | "/big.jpg" | "/x.jpg" | "/l.jpg" | "/h.jpg" | "/a.wav" => local(url),
            _ => None,
        };
        let out = rewrite_with(
            r#"<img src="/thumb.jpg" data-zoom-image="/big.jpg" data-full="/big.jpg">
<img data-low-res-src="/l.jpg" data-hi-res-src="/h.jpg">
<div data-bg="url('https://ads.test/x.jpg')"></div>
<div data-bg="/x.jpg" style="background-image:url(/x.jpg)"></div>
<div data-delay="300" data-lazyload="true" data-background="rgba(0,0,0,.5)"></div>
<img src="/thumb.jpg" data-delay="300"><audio crossorigin><source src="/a.wav"></audio>"#,
            &archived,
            true,
        );
        for expected in [
            r#"<img src="local/thumb.jpg" data-zoom-image="local/big.jpg" data-full="local/big.jpg">"#,
            r#"src="local/h.jpg""#,
            r#"<div data-bg="url(&quot;data:,&quot;)"></div>"#,
            r#"<div data-bg="local/x.jpg" style="background-image:url(&quot;local/x.jpg&quot;)">"#,
            r#"<div data-delay="300" data-lazyload="true" data-background="rgba(0,0,0,.5)">"#,
            r#"<img src="local/thumb.jpg" data-delay="300">"#,
            "<audio><source src=\"local/a.wav\">",
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
    }

    /// An AMP page offline: the `<img>` the runtime would put into each `<amp-img>`, and no
    /// boilerplate hiding the body for 8 seconds.
    #[test]
    fn amp_pages_show_offline() {
        let out = rewrite_with(
            r#"<style amp-boilerplate>body{animation:-amp-start 8s steps(1,end) 0s 1 normal both}</style><noscript><style amp-boilerplate>body{animation:none}</style></noscript>
<amp-img src="/a.jpg?x=1&amp;y=2" srcset="/a.jpg 768w" width="768" height="512" alt='Xi "and" Putin'></amp-img><amp-img src="https://ads.test/x.jpg" width=1 height=1></amp-img>"#,
            &local,
            true,
        );
        for expected in [
            "<style amp-boilerplate></style>",
            r#"<amp-img src="local/a.jpg?x=1&amp;y=2" srcset="local/a.jpg 768w" width="768" height="512" alt='Xi "and" Putin'><img src="local/a.jpg?x=1&amp;y=2" srcset="local/a.jpg 768w" alt="Xi &quot;and&quot; Putin" width="768" height="512" sizes="(max-width: 768px) 100vw, 768px" style="max-width:100%;height:auto"></amp-img>"#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
        assert!(
            !out.contains("-amp-start") && !out.contains("<img src=\"https://ads"),
            "{out}"
        );
    }

    /// Offline, no script runs or is fetched, no CORS load of a local file fails, and classes
    /// are as scripts would have left them.
    #[test]
    fn offline_scripts_are_data_and_local_loads_are_plain() {
        let out = rewrite_with(
            r#"<html class="no-js"><script src="/app.js" async></script><script>track()</script>
<script type="module">import "/m.js"</script><script type="application/ld+json">{"a":1}</script>
<link rel=modulepreload href="/m.js"><link rel=preload as=script href="/app.js">
<link rel=preload as=image imagesrcset="/hero.jpg 1x, /hero2.jpg 2x" href="/hero.jpg" crossorigin>
<link rel=stylesheet href="/s.css" integrity="sha384-x" crossorigin=anonymous>
<img class="lazyload fade" data-src="/l.jpg"><p class="no-js lazyloaded">"#,
            &local,
            true,
        );
        for expected in [
            r#"<html class="js">"#,
            r#"<img class="lazyloaded fade" data-src="local/l.jpg" src="local/l.jpg">"#,
            r#"<p class="no-js lazyloaded">"#,
            r#"<script src="local/app.js" async type="text/x-cairn-disabled">"#,
            r#"<script type="text/x-cairn-disabled" data-cairn-original-type="module">"#,
            r#"<script type="application/ld+json">"#,
            r#"<link rel=modulepreload data-cairn-original="/m.js">"#,
            r#"imagesrcset="local/hero.jpg 1x, local/hero2.jpg 2x" href="local/hero.jpg">"#,
            r#"<link rel=stylesheet href="local/s.css">"#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
        assert!(out.contains("script-src 'none'"), "{out}");
        assert_eq!(out.matches("text/x-cairn-disabled").count(), 3, "{out}");
        // Replay runs what the page runs, lazysizes with it.
        let replayed = rewrite_with(
            r#"<script src="/app.js"></script><img class=lazyload src=/l.jpg>"#,
            &local,
            false,
        );
        assert_eq!(
            replayed,
            r#"<script src="local/app.js"></script><img class=lazyload src="local/l.jpg">"#
        );
    }

    /// What a stylesheet's `onload` sets is set; the manifest is not fetched.
    #[test]
    fn offline_stylesheets_loaded_by_onload_apply() {
        let out = rewrite_with(
            r#"<link rel=preload as=style href=/a.css onload="this.onload=null;this.rel='stylesheet'">
<link rel=stylesheet href=/p.css media=print onload="this.media='all'"><link rel=manifest href=/m.json>
<link rel=stylesheet href=/n.css media=none onload="if(media!='all')media='all'">
<link rel=stylesheet href=/k.css media=print onload="track.media='x';window.rel='y'">"#,
            &local,
            true,
        );
        for expected in [
            r#"<link rel="stylesheet" as=style href="local/a.css""#,
            r#"<link rel=stylesheet href="local/p.css" media="all""#,
            r#"<link rel=manifest data-cairn-original="/m.json">"#,
            r#"<link rel=stylesheet href="local/n.css" media="all""#,
            r#"<link rel=stylesheet href="local/k.css" media=print"#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
    }

    /// A `<use>` of an archived sprite gets the sprite, written back from SVG's allow-list,
    /// put into the page once; nothing in a sprite breaks out of the page's `<svg>`.
    #[test]
    fn offline_sprites_are_put_into_the_page() {
        let sprite = |url: &Url| match url.path() {
            "/icons.svg" => Some(std::sync::Arc::from(
                r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><symbol id="a"><image href="/i.png"/><use href="/other.svg#c"/></symbol><script>x()</script></svg><style><meta http-equiv="refresh" content="0;url=https://live.example/"></style>"#,
            )),
            "/broken.svg" => Some(std::sync::Arc::from("<svg><symbol id=\"z\"><!--")),
            _ => None,
        };
        let options = HtmlOptions {
            base: Url::parse("https://www.cna.com.tw/news/a.aspx").unwrap(),
            map: &local,
            keep_original: false,
            promote_lazy: true,
            banner: None,
            client: None,
            fence: true,
            sprites: Some(&sprite),
        };
        let page = r#"<svg><use href="/icons.svg#a"/></svg><svg><use xlink:href="/icons.svg#b" href="/icons.svg#b"/></svg><svg><use href="/other.svg#c"/></svg><svg><use href="/broken.svg#z"/></svg>"#;
        let (bytes, _) = rewrite_html(page.as_bytes(), encoding_rs::UTF_8, &options).unwrap();
        let out = String::from_utf8(bytes).unwrap();
        assert_eq!(out.matches("<symbol").count(), 1, "{out}");
        for expected in [
            r#"<svg width="0" height="0" aria-hidden="true"><svg xmlns="http://www.w3.org/2000/svg"><symbol id="a"><image href="local/i.png"/><use/></symbol></svg></svg>"#,
            r##"<use href="#a" />"##,
            r##"<use xlink:href="#b" href="#b" />"##,
            r#"<use data-cairn-original="/other.svg#c" />"#,
            r#"<use data-cairn-original="/broken.svg#z" />"#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
        assert!(
            !out.contains("live.example") && !out.contains("x()"),
            "{out}"
        );
    }

    /// Offline, what was not archived costs no request and no failed load: CSS gets `none`,
    /// a `srcset` loses the candidate.
    #[test]
    fn fenced_css_and_srcset_candidates_fetch_nothing() {
        let archived = |url: &Url| (url.path() == "/a.jpg").then(|| "local/a.jpg".to_string());
        let out = rewrite_with(
            r#"<img srcset="https://ads.test/x.jpg 1x, /a.jpg 2x, https://ads.test/y.jpg 3x">
<img srcset="https://ads.test/x.jpg"><style>@font-face{font-family:f;src:url( "https://ads.test/f.woff2" ) format("woff2")}
p{background:url('https://ads.test/p.png') no-repeat}</style>"#,
            &archived,
            true,
        );
        for expected in [
            r#"<img srcset="local/a.jpg 2x">"#,
            r#"<img data-cairn-original-srcset="https://ads.test/x.jpg">"#,
            r#"src:url("data:,") format("woff2")"#,
            r#"p{background:url("data:,") no-repeat}"#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
    }

    /// A quoted `url()` written with character references reads as the browser reads it.
    #[test]
    fn style_attributes_with_character_references_are_rewritten() {
        let out = rewrite_with(
            r#"<div style="background-image:url(&apos;https://www.cna.com.tw/i?w=800&amp;h=1&apos;)"></div>"#,
            &local,
            true,
        );
        assert!(
            out.contains(r#"style="background-image:url(&quot;local/i?w=800&amp;h=1&quot;)""#),
            "{out}"
        );
    }

    /// Options for the site's stylesheet, its references mapped by [`local`].
    fn stylesheet_options(fence: bool) -> HtmlOptions<'static> {
        HtmlOptions {
            base: Url::parse("https://www.cna.com.tw/css/main.css").unwrap(),
            map: &local,
            keep_original: false,
            promote_lazy: true,
            banner: None,
            client: None,
            fence,
            sprites: None,
        }
    }

    #[test]
    fn the_dispatch_rewrites_pages_and_stylesheets_and_copies_the_rest() {
        let options = stylesheet_options(false);
        let run = |kind, body: &str| {
            let mut out = Vec::new();
            let left =
                rewrite_document(kind, &mut body.as_bytes(), &mut out, None, &options).unwrap();
            (String::from_utf8(out).unwrap(), left.len())
        };
        assert_eq!(
            run(
                ContentKind::Css,
                "a{background:url(../bg.png)} b{background:url(https://x.example/y.png)}"
            ),
            (
                r#"a{background:url("local/bg.png")} b{background:url(https://x.example/y.png)}"#
                    .to_string(),
                1
            )
        );
        assert_eq!(
            run(ContentKind::JavaScript, "url(../bg.png)"),
            ("url(../bg.png)".to_string(), 0)
        );
        let (page, _) = run(ContentKind::Html, "<img src=/a.jpg>");
        assert_eq!(page, r#"<img src="local/a.jpg">"#);
    }

    /// A stylesheet is read and written back in its own encoding: a Shift_JIS `能` does not
    /// escape the quote after it and hide the rule that follows, and bytes of an encoding
    /// nothing declares come back as they were.
    #[test]
    fn stylesheets_are_rewritten_in_their_own_encoding() {
        let options = stylesheet_options(true);
        let run = |body: &[u8], content_type| {
            let mut out = Vec::new();
            let kind = ContentKind::Css;
            rewrite_document(kind, &mut &body[..], &mut out, content_type, &options).unwrap();
            out
        };
        let css = "@charset \"Shift_JIS\";.new:after{content:\"新機能\"}.logo{background:url(../img/logo.png)}";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(css);
        let expected = css.replace("url(../img/logo.png)", "url(\"local/img/logo.png\")");
        let expected = encoding_rs::SHIFT_JIS.encode(&expected).0.into_owned();
        assert_eq!(run(&sjis, None), expected);
        let rule = b"@charset \"Shift_JIS\";".len();
        let header = Some("text/css; charset=shift_jis");
        assert_eq!(run(&sjis[rule..], header), expected[rule..]);
        let latin1 = b"p:before{content:\"\xe9\xa7\"} a{background:url(/a.png)}";
        assert_eq!(
            run(latin1, Some("text/css")),
            b"p:before{content:\"\xe9\xa7\"} a{background:url(\"local/a.png\")}"
        );
    }

    /// Every reference a hostile page can hide, each pointing at a stand-in live host.
    const HOSTILE: &str = r#"<html><head><base href="http://live.test/base/">
<meta http-equiv=refresh content="0; http://live.test/refresh">
<link rel=dns-prefetch href="//live.test"><link rel=preconnect href="http://live.test/">
<link rel=prefetch href="http://live.test/prefetch"><link rel=prerender href="http://live.test/prerender">
<link rel=preload as=image href="http://live.test/preload.png"><link rel=modulepreload href="http://live.test/m.js">
<style>@import "http://live.test/i.css"; @import url(http://live.test/j.css);
b{background:image-set("http://live.test/s1.png" 1x)} i{background:-webkit-image-set(url(http://live.test/s2.png) 1x)}</style>
</head><body background="http://live.test/body.png">
<form action="http://live.test/post"><button formaction="http://live.test/button">b</button>
<input type=image src="http://live.test/input.png" formaction="http://live.test/input"></form>
<a href="http://live.test/a" ping="http://live.test/ping">a</a><map><area href="/area" ping="http://live.test/areaping"></map>
<svg><a xlink:href="http://live.test/svg-xlink">x</a><a href="http://live.test/svg-a">y</a>
<image href="http://live.test/image.png"/><image xlink:href="http://live.test/ximage.png"/>
<use href="http://live.test/sprite.svg#i"/><script href="http://live.test/svg.js"></script>
<style>@import "http://live.test/svg.css";</style></svg>
<iframe srcdoc="<a target=_top href='http://live.test/top'>t</a><img src=&quot;http://live.test/in-srcdoc.png&quot;><iframe srcdoc='<img src=http://live.test/deep.png>'></iframe>"></iframe>
<object data="http://live.test/o.swf" codebase="http://live.test/ocb/"><param name=movie value="http://live.test/movie.swf"></object>
<embed src="http://live.test/e.swf"><applet code="http://live.test/A.class" codebase="http://live.test/acb/" archive="http://live.test/a.jar"></applet>
<video poster="http://live.test/poster.jpg"><source src="http://live.test/v.mp4"><track src="http://live.test/t.vtt"></video>
<picture><source srcset="http://live.test/p.webp 1x"></picture>
<table background="http://live.test/table.png"><tr><td background="http://live.test/td.png">c</td></tr></table>
<blockquote cite="http://live.test/bq">q</blockquote><q cite="http://live.test/q">q</q><del cite="http://live.test/del">d</del><ins cite="http://live.test/ins">i</ins>
<div style="background:url(http://live.test/style.png)"></div></body></html>"#;

    /// Where a rewritten document still names the live host: every mention that is neither
    /// inside the archive (`/c/1/http://live.test/...`) nor a kept original.
    fn live_mentions(out: &str) -> Vec<String> {
        let mut kept_removed = out.to_string();
        while let Some(start) = kept_removed.find("data-cairn-original") {
            let value = kept_removed[start..].find('"').map(|q| start + q + 1);
            let end = value.and_then(|v| kept_removed[v..].find('"').map(|e| v + e + 1));
            kept_removed.replace_range(start..end.unwrap_or(kept_removed.len()), "");
        }
        kept_removed
            .match_indices("live.test")
            .filter(|(i, _)| {
                let before = &kept_removed[..*i];
                !(before.ends_with("/c/1/http://") || before.ends_with("/c/1/https://"))
            })
            .map(|(i, _)| {
                kept_removed[i.saturating_sub(60)..(i + 30).min(kept_removed.len())].to_string()
            })
            .collect()
    }

    fn rewrite_with(html: &str, map: &dyn Fn(&Url) -> Option<String>, fence: bool) -> String {
        let options = HtmlOptions {
            base: Url::parse("https://www.cna.com.tw/news/a.aspx").unwrap(),
            map,
            keep_original: false,
            promote_lazy: true,
            banner: None,
            client: None,
            fence,
            sprites: None,
        };
        let (bytes, _) = rewrite_html(html.as_bytes(), encoding_rs::UTF_8, &options).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    /// Replay maps every URL into the archive: nothing of the hostile page stays live.
    #[test]
    fn replay_leaves_no_reference_of_a_hostile_page_live() {
        let through = |url: &Url| Some(format!("/c/1/{url}"));
        let out = rewrite_with(HOSTILE, &through, false);
        assert_eq!(live_mentions(&out), Vec::<String>::new(), "{out}");
        for expected in [
            r#"action="/c/1/http://live.test/post""#,
            r#"formaction="/c/1/http://live.test/button""#,
            r#"content="0; /c/1/http://live.test/refresh""#,
            r#"xlink:href="/c/1/http://live.test/svg-xlink""#,
            r#"cite="/c/1/http://live.test/q""#,
            r#"@import "/c/1/http://live.test/i.css""#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
        assert!(
            !out.contains(" ping=") && !out.contains("preconnect\" href"),
            "{out}"
        );
        assert!(out.contains("/c/1/http://live.test/deep.png"), "{out}");
    }

    /// The offline copy knows only what was archived: what was not and would load or act by
    /// itself is removed or fenced; only links a reader clicks (and `cite`) stay live.
    #[test]
    fn export_fences_every_unarchived_reference_but_links() {
        let out = rewrite_with(HOSTILE, &local, true);
        let left: Vec<String> = live_mentions(&out)
            .into_iter()
            .filter(|m| {
                ![
                    "/a\"",
                    "/svg-xlink",
                    "/svg-a",
                    "/top",
                    "/bq",
                    "/q\"",
                    "/del",
                    "/ins",
                ]
                .iter()
                .any(|link| m.contains(&format!("live.test{link}")))
            })
            .collect();
        assert_eq!(left, Vec::<String>::new(), "{out}");
        assert!(out.contains(r#"data-cairn-original-action="http://live.test/post""#));
        assert!(out.contains("background:url(&quot;data:,&quot;)"), "{out}");
        assert!(!out.contains("about:invalid"), "{out}");
        assert!(!out.contains("http-equiv=refresh content"), "{out}");
    }

    /// Issue 14: links to pages not archived, written relative or protocol-relative, would
    /// open dead `file://` paths offline; they lead to the live page by its absolute URL.
    #[test]
    fn offline_links_to_what_was_not_archived_are_absolute() {
        let nothing = |_: &Url| None;
        let out = rewrite_with(
            "<a href=/member/login.aspx?x=1#top>in</a><a href=//other.example/p>p</a>\
             <a href=#local>here</a><img src=//cdn.example/i.png>",
            &nothing,
            true,
        );
        assert!(
            out.contains(r#"href="https://www.cna.com.tw/member/login.aspx?x=1#top""#),
            "{out}"
        );
        assert!(out.contains(r#"href="https://other.example/p""#), "{out}");
        assert!(out.contains("href=#local>"), "{out}");
        assert!(!out.contains(" src="), "{out}");
    }

    #[test]
    fn a_srcdoc_is_rewritten_as_a_page_and_escaped_back() {
        let (out, _) = rewrite(
            r#"<iframe srcdoc="<img src=&quot;/a &amp; b.jpg&quot;><a href='/x'>x</a>"></iframe>"#,
            false,
        );
        assert_eq!(
            out,
            r#"<iframe srcdoc="&lt;img src=&quot;local/a%20&amp;amp;%20b.jpg&quot;&gt;&lt;a href=&quot;local/x&quot;&gt;x&lt;/a&gt;"></iframe>"#
        );
        // With originals kept inside it, a second run changes nothing.
        let (once, _) = rewrite(r#"<iframe srcdoc="<a href='/x'>x</a>"></iframe>"#, true);
        assert!(
            once.contains("data-cairn-original=&quot;/x&quot;"),
            "{once}"
        );
        assert_eq!(rewrite(&once, true).0, once);
    }

    /// Behind the fence, a stylesheet's references to what was not archived fetch nothing.
    #[test]
    fn fenced_stylesheets_fetch_nothing_unarchived() {
        let options = stylesheet_options(true);
        let css = "@import 'http://live.test/i.css'; a{background:url(../a.png)}";
        let mut out = Vec::new();
        rewrite_document(
            ContentKind::Css,
            &mut css.as_bytes(),
            &mut out,
            None,
            &options,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"@import "data:,"; a{background:url("local/a.png")}"#
        );
    }

    /// The offline copy's CSP goes first, whatever the page starts with.
    #[test]
    fn fenced_pages_start_with_the_offline_policy() {
        let through = |url: &Url| Some(format!("/c/1/{url}"));
        for (page, starts) in [
            (
                "<!DOCTYPE html><html><head><title>t</title>",
                "<!DOCTYPE html><html><meta ",
            ),
            ("<head><title>t</title>", "<head><meta "),
            ("<!doctype html><p>text", "<!doctype html><meta "),
            // Text first opens the body: the policy goes before it, into the head.
            (
                "x<script>fetch('http://live.test/')</script>",
                "<meta http-equiv=\"Content-Security-Policy\"",
            ),
        ] {
            let out = rewrite_with(page, &through, true);
            assert!(out.starts_with(starts), "{out}");
            assert_eq!(out.matches("Content-Security-Policy").count(), 1, "{out}");
            assert!(out.contains("form-action 'none'"), "{out}");
        }
        assert!(!rewrite_with("<p>x", &through, false).contains("Content-Security-Policy"));
    }

    /// Opened from a file, a page has no header: the offline copy declares the charset only
    /// the header declared, so the browser does not guess it.
    #[test]
    fn fenced_pages_declare_the_charset_only_their_header_declared() {
        let offline = |page: &str, content_type: &str, fence: bool| {
            let (bytes, _, _) = encoding_rs::EUC_JP.encode(page);
            let options = HtmlOptions {
                base: Url::parse("https://www.chiho-shimbun.example/a.html").unwrap(),
                map: &local,
                keep_original: false,
                promote_lazy: true,
                banner: None,
                client: None,
                fence,
                sprites: None,
            };
            let mut out = Vec::new();
            let kind = ContentKind::Html;
            rewrite_document(
                kind,
                &mut &bytes[..],
                &mut out,
                Some(content_type),
                &options,
            )
            .unwrap();
            encoding_rs::EUC_JP.decode(&out).0.into_owned()
        };
        let page = "<html><head><title>予算案</title></head><body><p>知事</p>";
        let out = offline(page, "text/html; charset=EUC-JP", true);
        assert!(
            out.starts_with(
                r#"<html><meta charset="EUC-JP"><meta http-equiv="Content-Security-Policy""#
            ),
            "{out}"
        );
        assert!(out.contains("<title>予算案</title>"), "{out}");
        for (page, content_type, fence) in [
            (page, "text/html; charset=EUC-JP", false),
            (page, "text/html", true),
            (
                "<meta charset=euc-jp><title>予算案</title>",
                "text/html; charset=EUC-JP",
                true,
            ),
        ] {
            let out = offline(page, content_type, fence);
            assert!(!out.contains(r#"<meta charset="EUC-JP">"#), "{out}");
        }
    }

    #[test]
    fn html_in_data_urls_is_rewritten_as_a_page() {
        let through = |url: &Url| Some(format!("/c/1/{url}"));
        let out = rewrite_with(
            r#"<iframe src="data:text/html;base64,PGltZyBzcmM9aHR0cDovL2xpdmUudGVzdC94LnBuZz4="></iframe><img src="data:image/png;base64,AAAA">"#,
            &through,
            false,
        );
        assert!(
            out.contains("data:text/html;charset=utf-8,%3Cimg%20src%3D%22%2Fc%2F1%2Fhttp%3A%2F%2Flive%2Etest%2Fx%2Epng%22%3E"),
            "{out}"
        );
        assert!(
            out.contains(r#"<img src="data:image/png;base64,AAAA">"#),
            "{out}"
        );
    }
}
