//! Rewriting references in HTML and CSS, with no I/O: the offline export, the post rewrite and
//! (later) replay hand in a mapping from absolute URL to the reference to put instead.
//!
//! HTML is rewritten as a stream by lol_html, in the document's own charset, so bytes that are
//! not references stay exactly as they were; CSS is tokenized by cssparser and only the
//! `url()`, `@import` and `image-set()` references are replaced.

use std::cell::RefCell;
use std::io::{BufRead, Write};

use lol_html::html_content::{ContentType, Element};
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, Settings, element, text};
use url::Url;

use crate::extract::{CssSyntax, LAZY_SRC, LAZY_SRCSET, css_references, srcset_urls};

/// Attributes holding one URL, besides the lazy-image ones.
const URL_ATTRS: &[&str] = &["href", "src", "poster", "background", "data"];

fn url_attrs() -> impl Iterator<Item = &'static str> {
    URL_ATTRS.iter().chain(LAZY_SRC).copied()
}

fn srcset_attrs() -> impl Iterator<Item = &'static str> {
    ["srcset"].iter().chain(LAZY_SRCSET).copied()
}

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
    /// Give lazy images a real `src`/`srcset` from their `data-src`/`data-srcset`.
    pub promote_lazy: bool,
    /// HTML put first in `<body>` (replay's banner naming the capture).
    pub banner: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("rewriting HTML: {0}")]
pub struct RewriteError(String);

/// Rewrites an HTML document in `encoding` (ASCII-compatible ones; others should be decoded to
/// UTF-8 first). Returns the new bytes and the references left as they were.
pub fn rewrite_html(
    body: &[u8],
    encoding: &'static encoding_rs::Encoding,
    options: &HtmlOptions<'_>,
) -> Result<(Vec<u8>, Vec<Url>), RewriteError> {
    let mut output = Vec::with_capacity(body.len() + body.len() / 8);
    let unresolved = rewrite_html_stream(&mut &body[..], &mut output, encoding, options)?;
    Ok((output, unresolved))
}

/// As [`rewrite_html`], from a reader to a writer, a buffer at a time: memory stays flat
/// whatever the document's size (a document in memory goes through in one piece).
pub fn rewrite_html_stream(
    src: &mut dyn BufRead,
    out: &mut dyn Write,
    encoding: &'static encoding_rs::Encoding,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, RewriteError> {
    let base = RefCell::new(options.base.clone());
    let unresolved = RefCell::new(Vec::new());
    let style_text = RefCell::new(String::new());
    let mut write_error = None;
    let encoding =
        AsciiCompatibleEncoding::new(encoding).unwrap_or_else(AsciiCompatibleEncoding::utf_8);
    {
        let map_one = |value: &str| -> Option<String> {
            let trimmed = value.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("data:") {
                return None;
            }
            let mut url = base.borrow().join(trimmed).ok()?;
            if !matches!(url.scheme(), "http" | "https") {
                return None;
            }
            let fragment = url.fragment().map(str::to_string);
            url.set_fragment(None);
            match (options.map)(&url) {
                Some(mut new) => {
                    if let Some(f) = fragment {
                        new.push('#');
                        new.push_str(&f);
                    }
                    Some(new)
                }
                None => {
                    unresolved.borrow_mut().push(url);
                    None
                }
            }
        };
        let settings = Settings::new()
            .with_encoding(encoding)
            .append_element_content_handler(element!("*", |el| {
                rewrite_element(el, options, &base, &map_one);
                Ok(())
            }))
            .append_element_content_handler(element!("body", |el| {
                if let Some(banner) = &options.banner {
                    el.prepend(banner, ContentType::Html);
                }
                Ok(())
            }))
            .append_element_content_handler(text!("style", |chunk| {
                style_text.borrow_mut().push_str(chunk.as_str());
                if chunk.last_in_text_node() {
                    let css = std::mem::take(&mut *style_text.borrow_mut());
                    let rewritten = rewrite_css(&css, &|r| map_one(r));
                    chunk.replace(&rewritten, ContentType::Html);
                } else {
                    chunk.remove();
                }
                Ok(())
            }));
        // lol_html's output sink cannot fail: the first write error is kept and reported.
        let mut rewriter = HtmlRewriter::new(settings, |bytes: &[u8]| {
            if write_error.is_none()
                && let Err(e) = out.write_all(bytes)
            {
                write_error = Some(e);
            }
        });
        loop {
            let chunk = match src.fill_buf() {
                Ok([]) => break,
                Ok(chunk) => chunk,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(RewriteError(format!("reading: {e}"))),
            };
            rewriter
                .write(chunk)
                .map_err(|e| RewriteError(e.to_string()))?;
            let n = chunk.len();
            src.consume(n);
        }
        rewriter.end().map_err(|e| RewriteError(e.to_string()))?;
    }
    if let Some(e) = write_error {
        return Err(RewriteError(format!("writing: {e}")));
    }
    Ok(unresolved.into_inner())
}

fn rewrite_element(
    el: &mut Element<'_, '_>,
    options: &HtmlOptions<'_>,
    base: &RefCell<Url>,
    map_one: &dyn Fn(&str) -> Option<String>,
) {
    let name = el.tag_name();
    if name == "base" {
        if let Some(href) = el.get_attribute("href") {
            // Joined first: the shared borrow must end before the base is replaced.
            let joined = base.borrow().join(href.trim());
            if let Ok(new_base) = joined {
                *base.borrow_mut() = new_base;
            }
            // Local references must not resolve against the live base.
            el.remove_attribute("href");
            let _ = el.set_attribute("data-cairn-original", &href);
        }
        return;
    }
    let mut changes: Vec<(String, String, String)> = Vec::new();
    for attr in url_attrs() {
        if attr == "data" && name != "object" {
            continue;
        }
        if let Some(value) = original(el, attr)
            && let Some(new) = map_one(&value)
        {
            changes.push((attr.to_string(), value, new));
        }
    }
    for attr in srcset_attrs() {
        if let Some(value) = original(el, attr)
            && let Some(new) = rewrite_srcset(&value, map_one)
        {
            changes.push((attr.to_string(), value, new));
        }
    }
    if let Some(style) = el.get_attribute("style") {
        let rewritten = rewrite_css(&style, &|r| map_one(r));
        if rewritten != style {
            let _ = el.set_attribute("style", &rewritten);
        }
    }
    if name == "meta" {
        let refresh = el
            .get_attribute("http-equiv")
            .is_some_and(|h| h.eq_ignore_ascii_case("refresh"));
        if let (true, Some(content)) = (refresh, el.get_attribute("content"))
            && let Some((delay, target)) = content.split_once(['='])
            && let Some(new) = map_one(target.trim_matches(['"', '\'', ' ']))
        {
            let _ = el.set_attribute("content", &format!("{delay}={new}"));
        }
    }
    if options.promote_lazy && name == "img" {
        let lazy_src = changes
            .iter()
            .find(|(a, _, _)| a != "src" && url_attrs().any(|u| u == a));
        if let Some((_, _, new)) = lazy_src.cloned() {
            changes.retain(|(a, _, _)| a != "src");
            let src = el.get_attribute("src").unwrap_or_default();
            changes.push(("src".into(), original(el, "src").unwrap_or(src), new));
        }
        let lazy_srcset = changes
            .iter()
            .find(|(a, _, _)| a != "srcset" && srcset_attrs().any(|u| u == a));
        if let Some((_, _, new)) = lazy_srcset.cloned() {
            changes.retain(|(a, _, _)| a != "srcset");
            let srcset = el.get_attribute("srcset").unwrap_or_default();
            changes.push((
                "srcset".into(),
                original(el, "srcset").unwrap_or(srcset),
                new,
            ));
        }
    }
    if !changes.is_empty() && matches!(name.as_str(), "link" | "script") {
        // Subresource integrity would reject a rewritten stylesheet.
        el.remove_attribute("integrity");
    }
    for (attr, old, new) in changes {
        let _ = el.set_attribute(&attr, &new);
        // A value that is already the rewritten one (a second run, a promoted src) is no
        // original worth keeping.
        if options.keep_original && !old.is_empty() && old != new {
            let keep = kept_original_name(el, &attr);
            if el.get_attribute(&keep).is_none() {
                let _ = el.set_attribute(&keep, &old);
            }
        }
    }
}

/// An attribute's value before cairn rewrote it: with `data-cairn-original` present, the
/// element was rewritten before, and starting from the originals makes a second run change
/// nothing and lose nothing.
fn original(el: &Element<'_, '_>, attr: &str) -> Option<String> {
    let current = el.get_attribute(attr)?;
    let kept = el.get_attribute(&kept_original_name(el, attr));
    Some(kept.unwrap_or(current))
}

/// Where an attribute's original value is kept: `data-cairn-original` for an element's one
/// reference (its `href`, else its `src`), `data-cairn-original-ATTR` for any other, so two
/// references on one element never share a kept value.
fn kept_original_name(el: &Element<'_, '_>, attr: &str) -> String {
    match attr {
        "href" => "data-cairn-original".to_string(),
        "src" if !el.has_attribute("href") => "data-cairn-original".to_string(),
        other => format!("data-cairn-original-{other}"),
    }
}

/// A srcset with each candidate URL mapped and descriptors kept; `None` if nothing changed.
fn rewrite_srcset(value: &str, map_one: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut changed = false;
    let mut out = value.to_string();
    // Replace from the end so earlier positions stay valid.
    let mut spans: Vec<(usize, &str)> = srcset_urls(value)
        .into_iter()
        .map(|u| (u.as_ptr() as usize - value.as_ptr() as usize, u))
        .collect();
    spans.reverse();
    for (start, url) in spans {
        if let Some(new) = map_one(url) {
            out.replace_range(start..start + url.len(), &new);
            changed = true;
        }
    }
    changed.then_some(out)
}

/// CSS with every `url()`, `@import` string and `image-set()` string mapped; the rest of the
/// text is left byte for byte.
pub fn rewrite_css(text: &str, map: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for reference in css_references(text) {
        let Some(new) = map(&reference.value) else {
            continue;
        };
        if reference.start < last {
            continue;
        }
        out.push_str(&text[last..reference.start]);
        match reference.syntax {
            CssSyntax::UnquotedUrl => out.push_str(&format!("url({})", css_string(&new))),
            CssSyntax::QuotedString => out.push_str(&css_string(&new)),
        }
        last = reference.end;
    }
    out.push_str(&text[last..]);
    out
}

/// A double-quoted CSS string.
fn css_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\a "),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
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
}
