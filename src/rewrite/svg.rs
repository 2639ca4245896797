//! SVG as the offline copy holds it, re-serialised from an allow-list rather than copied: an
//! SVG document opened by itself (an `<object>`, a frame) runs its scripts and loads what it
//! names, and a sprite put into a page is read there by the HTML parser, where markup that is
//! not balanced SVG would break out of it. So the document is parsed as XML (quick-xml), and
//! only drawing elements are written back, balanced, with escaped text and attributes: no
//! script, `foreignObject`, animation (which can set a link), event handler, `xml:base` or
//! comment survives; references go through the caller's mapping and `<style>` text through
//! the CSS rewriter. A document that is not well-formed XML is refused (`None`): a browser
//! shows nothing of it either.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};

/// The elements written back: SVG's shapes, text, structure, paint servers and filters.
const DRAWING: &[&str] = &[
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "title",
    "desc",
    "switch",
    "view",
    "style",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "image",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "linearGradient",
    "radialGradient",
    "stop",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feImage",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
];

/// Elements dropped but whose content is kept: a link's drawing shows, the link goes.
const UNWRAPPED: &[&str] = &["a"];

/// How deep elements may nest: no drawing comes near, and the stack stays small.
const MAX_DEPTH: usize = 256;

/// What the caller decides for references.
pub struct SvgReferences<'a> {
    /// A reference (an `href` that is not `#fragment`) mapped: its replacement, or `None` to
    /// drop the attribute (nothing archived, behind the fence).
    pub href: &'a dyn Fn(&str) -> Option<String>,
    /// CSS text (a `<style>`, a `style` attribute, a `fill="url(...)"`) with its
    /// references rewritten.
    pub css: &'a dyn Fn(&str) -> String,
}

/// The document's root `<svg>` and what it holds, written back from the allow-list; `None` if
/// it is not well-formed XML or has no `<svg>` root.
pub fn sanitize_svg(text: &str, references: &SvgReferences<'_>) -> Option<String> {
    let mut reader = Reader::from_str(text);
    let mut out = String::with_capacity(text.len());
    // The open elements written back; `None` for one left out (its end tag is not written).
    let mut open: Vec<Option<String>> = Vec::new();
    // How many dropped elements enclose this point: everything inside one is left out.
    let mut dropped = 0usize;
    let mut rooted = false;
    loop {
        let event = reader.read_event().ok()?;
        let inside_style = open.last().and_then(Option::as_deref) == Some("style");
        match event {
            // Inside a dropped element: only its nesting is followed (`<x/>` needs no end).
            Event::Start(_) if dropped > 0 => dropped += 1,
            Event::Empty(_) if dropped > 0 => {}
            Event::End(_) if dropped > 0 => dropped -= 1,
            Event::Start(e) => {
                let name = element_name(&e)?;
                if !rooted && name != "svg" {
                    return None;
                }
                rooted = true;
                if open.len() >= MAX_DEPTH {
                    return None;
                }
                match keep(&name) {
                    Keep::Write => {
                        write_start(&mut out, &name, &e, references, false)?;
                        open.push(Some(name));
                    }
                    Keep::Unwrap => open.push(None),
                    Keep::Drop => dropped = 1,
                }
            }
            Event::Empty(e) => {
                let name = element_name(&e)?;
                if !rooted && name != "svg" {
                    return None;
                }
                rooted = true;
                if keep(&name) == Keep::Write {
                    write_start(&mut out, &name, &e, references, true)?;
                }
            }
            Event::End(_) => {
                if let Some(name) = open.pop()? {
                    out.push_str("</");
                    out.push_str(&name);
                    out.push('>');
                }
            }
            Event::Text(t) if rooted && dropped == 0 => {
                let text = t.xml10_content();
                push_text(&mut out, &text, inside_style, references);
            }
            Event::CData(t) if rooted && dropped == 0 => {
                let text = t.into_inner().into_owned();
                push_text(&mut out, &text, inside_style, references);
            }
            Event::GeneralRef(r) if rooted && dropped == 0 => {
                if let Some(c) = resolve(&r) {
                    push_text(&mut out, &c.to_string(), inside_style, references);
                }
            }
            Event::Eof => break,
            // Comments, declarations, processing instructions: not written.
            _ => {}
        }
        if rooted && open.is_empty() && dropped == 0 {
            break;
        }
    }
    // The root closed (or the document ended, when the parser holds it unbalanced: refused).
    (rooted && open.is_empty()).then_some(out)
}

#[derive(PartialEq, Eq)]
enum Keep {
    Write,
    Unwrap,
    Drop,
}

fn keep(name: &str) -> Keep {
    let local = name.rsplit(':').next().unwrap_or(name);
    if name.contains(':') && !name.starts_with("svg:") {
        Keep::Drop
    } else if DRAWING.contains(&local) {
        Keep::Write
    } else if UNWRAPPED.contains(&local) {
        Keep::Unwrap
    } else {
        Keep::Drop
    }
}

fn element_name(e: &BytesStart<'_>) -> Option<String> {
    let name = e.name().as_ref().to_string();
    let name = name.strip_prefix("svg:").unwrap_or(&name).to_string();
    Some(name)
}

/// A start tag with the attributes that may stay, references mapped, values escaped.
fn write_start(
    out: &mut String,
    name: &str,
    e: &BytesStart<'_>,
    references: &SvgReferences<'_>,
    empty: bool,
) -> Option<()> {
    out.push('<');
    out.push_str(name);
    for attribute in e.attributes().with_checks(false) {
        let attribute = attribute.ok()?;
        let key: &str = attribute.key.as_ref();
        let Ok(value) = attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
            continue;
        };
        let Some(value) = attribute_value(name, key, value, references) else {
            continue;
        };
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        out.push_str(&escape(value.as_ref()));
        out.push('"');
    }
    out.push_str(if empty { "/>" } else { ">" });
    Some(())
}

/// What an attribute holds once written back; `None` to leave it out.
fn attribute_value<'v>(
    element: &str,
    key: &str,
    value: Cow<'v, str>,
    references: &SvgReferences<'_>,
) -> Option<Cow<'v, str>> {
    let lower = key.to_ascii_lowercase();
    let local = lower.rsplit(':').next().unwrap_or(&lower);
    // Handlers run script; `xml:base` moves where references resolve; a key that is not a
    // plain XML name could be read otherwise by an HTML parser.
    if local.starts_with("on") || lower == "xml:base" || !is_plain_name(key) {
        return None;
    }
    if local == "href" {
        let trimmed = value.trim();
        if trimmed.starts_with('#') {
            return Some(value);
        }
        // A `<use>` of another file: a browser loads none from a file.
        if element == "use" {
            return None;
        }
        return (references.href)(trimmed).map(Cow::Owned);
    }
    if local == "style" || value.to_ascii_lowercase().contains("url(") {
        return Some(Cow::Owned((references.css)(&value)));
    }
    Some(value)
}

fn is_plain_name(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
}

fn push_text(out: &mut String, text: &str, inside_style: bool, references: &SvgReferences<'_>) {
    if inside_style {
        out.push_str(&escape((references.css)(text).as_str()));
    } else {
        out.push_str(&escape(text));
    }
}

/// A character or predefined entity reference as the character it names.
fn resolve(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match r.as_ref() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanitize(text: &str) -> Option<String> {
        let href = |v: &str| (!v.contains("live")).then(|| format!("local/{v}"));
        let css = |c: &str| c.replace("http://live/x.png", "data:,");
        sanitize_svg(
            text,
            &SvgReferences {
                href: &href,
                css: &css,
            },
        )
    }

    #[test]
    fn drawing_stays_and_everything_that_acts_goes() {
        let out = sanitize(
            r##"<?xml version="1.0"?><!DOCTYPE svg><!-- c --><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="x()">
<symbol id="a" viewBox="0 0 1 1"><image href="i.png" xlink:href="http://live/i.png"/><path d="M0 0" fill="url(#g)"/></symbol>
<script>fetch('http://live/')</script><foreignObject><div>html</div></foreignObject>
<set attributeName="href" to="http://live/"/><a href="http://live/"><rect width="1" onclick="y()"/></a>
<use href="#a"/><use href="other.svg#b"/><style><![CDATA[.st0{fill:url(http://live/x.png)} a>b{}]]></style>
<text>Tom &amp; Jerry &#x3C;3</text></svg><p>after</p>"##,
        )
        .unwrap();
        assert_eq!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<symbol id="a" viewBox="0 0 1 1"><image href="local/i.png"/><path d="M0 0" fill="url(#g)"/></symbol>

<rect width="1"/>
<use href="#a"/><use/><style>.st0{fill:url(data:,)} a&gt;b{}</style>
<text>Tom &amp; Jerry &lt;3</text></svg>"##
        );
    }

    /// What would break out of a page's `<svg>` is text, escaped, or not written at all.
    #[test]
    fn nothing_escapes_the_root() {
        let out = sanitize(
            r#"<svg><symbol id="a"/></svg><style><meta http-equiv="refresh" content="0;url=http://live/"></style>"#,
        )
        .unwrap();
        assert_eq!(out, r#"<svg><symbol id="a"/></svg>"#);
        let out = sanitize(
            r#"<svg><style>&lt;/style&gt;&lt;img src=x&gt;</style><title>&lt;p&gt;</title></svg>"#,
        )
        .unwrap();
        assert_eq!(
            out,
            "<svg><style>&lt;/style&gt;&lt;img src=x&gt;</style><title>&lt;p&gt;</title></svg>"
        );
        for refused in [
            "<svg><g></svg>",
            "<svg><!--",
            "<svg><g a=\"1></g></svg>",
            "<html><svg/></html>",
            "not xml",
        ] {
            assert_eq!(sanitize(refused), None, "{refused}");
        }
    }
}
