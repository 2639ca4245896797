//! CSS rewritten token by token: only the `url()`, `@import` and `image-set()` references found
//! by [`crate::extract::css`] are replaced; every other byte stays.

use super::FENCED;
use crate::extract::{CssSyntax, css_references};

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
            // A fenced reference becomes no image at all: a browser fetches nothing for
            // `none`, where `url(about:invalid)` is a request refused (and a failed load).
            // As an `@import` or a font's `src` it makes the rule invalid, so it is dropped.
            _ if new == FENCED => out.push_str("none"),
            CssSyntax::UnquotedUrl | CssSyntax::QuotedUrl => {
                out.push_str(&format!("url({})", css_string(&new)));
            }
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
