//! CSS rewritten token by token: only the `url()`, `@import` and `image-set()` references found
//! by [`crate::extract::css`] are replaced; every other byte stays.

use super::FENCED;

/// What a fenced reference is written as in CSS.
pub(super) const EMPTY: &str = "data:,";
/// A fenced `url()` as written.
pub(super) const FENCED_URL: &str = "url(\"data:,\")";
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
        // A fenced reference becomes an empty `data:` URL: nothing is fetched, nothing fails
        // to load (`about:invalid` is a request refused, a failed load), and every
        // declaration stays valid, so an `image-set()` or a `cursor` list keeps its other
        // entries and a shorthand its colour.
        let new = if new == FENCED {
            EMPTY.to_string()
        } else {
            new
        };
        match reference.syntax {
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
