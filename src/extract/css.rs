//! References in CSS, found by cssparser's tokenizer: every `url()`, `@import` string and
//! `image-set()` string, with its byte range and how it is written, so rewriting can replace
//! it and leave every other byte. Comments and other strings are not references.

use cssparser::{Parser, Token};

/// The raw references in CSS text, in order, found by cssparser's tokenizer.
pub fn css_urls(text: &str) -> Vec<String> {
    css_references(text).into_iter().map(|r| r.value).collect()
}

/// How a reference is written in CSS, which decides how a replacement must be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CssSyntax {
    /// `url(x.png)`: the whole token, `url(` to `)`.
    UnquotedUrl,
    /// `url("x.png")`: the whole function, `url(` to `)`, holding one string and nothing else.
    QuotedUrl,
    /// `"x.png"` inside `image-set()` or after `@import`: the string with its quotes.
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
    collect_css_references(text, &mut parser, false, &mut out);
    out
}

/// Whether `text[from..to]` is only whitespace (a range that does not read is not).
fn blank(text: &str, from: usize, to: usize) -> bool {
    text.get(from..to).is_some_and(|t| t.trim().is_empty())
}

/// Walks tokens and nested blocks. `strings_are_urls` holds inside `url(...)` and
/// `image-set(...)`, where a quoted string is a reference.
fn collect_css_references(
    text: &str,
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
            let first = out.len();
            let _ = parser.parse_nested_block(|inner| -> Result<(), cssparser::ParseError<()>> {
                collect_css_references(text, inner, urls, out);
                Ok(())
            });
            // `url("x")`, the string alone in it, is one reference, the function whole.
            let close = parser.position().byte_index();
            let is_url =
                matches!(&token, Token::Function(name) if name.eq_ignore_ascii_case("url"));
            let alone = out.len() == first + 1
                && out[first].syntax == CssSyntax::QuotedString
                && blank(text, end, out[first].start)
                && blank(text, out[first].end, close.saturating_sub(1));
            if is_url && alone {
                out[first].start = start;
                out[first].end = close;
                out[first].syntax = CssSyntax::QuotedUrl;
            }
        }
    }
}
