//! Which encoding an HTML document is in, as a browser decides it: the charset of the HTTP
//! header, else a byte-order mark, else a `<meta>` declaration in the first 1024 bytes, else
//! UTF-8 if the bytes are valid UTF-8, else windows-1252 (the HTML standard's fallback for the
//! Western web).

use std::borrow::Cow;
use std::cell::Cell;

use encoding_rs::Encoding;
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, Settings, element};

use super::references::Attributes;

/// The encoding of a document, told from its start (`prefix`: the whole document, or its
/// first megabyte or so; a prefix cut inside a character is still UTF-8).
pub fn html_encoding(prefix: &[u8], content_type: Option<&str>) -> &'static Encoding {
    header_encoding(content_type)
        .or_else(|| document_encoding(prefix))
        .unwrap_or_else(|| match std::str::from_utf8(prefix) {
            Err(e) if e.error_len().is_some() => encoding_rs::WINDOWS_1252,
            _ => encoding_rs::UTF_8,
        })
}

/// The encoding the `charset` of a `Content-Type` names.
pub fn header_encoding(content_type: Option<&str>) -> Option<&'static Encoding> {
    content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
}

/// The encoding a document declares itself, by a byte-order mark or a `<meta>` in its
/// first 1024 bytes: what a browser opening it from a file, with no header, goes by.
pub fn document_encoding(prefix: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_bom(prefix)
        .map(|(e, _)| e)
        .or_else(|| meta_charset(&prefix[..prefix.len().min(1024)]))
}

/// A stylesheet's text, and the encoding it was read in, as CSS Syntax decides it: a
/// byte-order mark, the charset of the HTTP header, an `@charset` opening the file. A
/// Shift_JIS stylesheet read as UTF-8 loses more than its characters: `能` ends in the byte
/// of `\`, which escapes a string's closing quote and swallows the rules after it. Without a
/// declaration a browser goes by the referring page's encoding, which a stylesheet alone does
/// not tell: bytes that are not UTF-8 are then read as x-user-defined, each a character of its
/// own, so that writing the text back in the same encoding gives them back as they were.
pub fn css_text<'b>(
    bytes: &'b [u8],
    content_type: Option<&str>,
) -> (Cow<'b, str>, &'static Encoding) {
    let encoding = Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| header_encoding(content_type))
        .or_else(|| at_charset(bytes))
        .unwrap_or_else(|| match std::str::from_utf8(bytes) {
            Ok(_) => encoding_rs::UTF_8,
            Err(_) => encoding_rs::X_USER_DEFINED,
        });
    (encoding.decode_without_bom_handling(bytes).0, encoding)
}

/// The encoding an `@charset "...";` opening a stylesheet names, read as CSS Syntax reads it
/// (those exact bytes, nothing before them); a UTF-16 one reads as UTF-8.
fn at_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let rest = bytes.strip_prefix(b"@charset \"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    if rest.get(end + 1) != Some(&b';') {
        return None;
    }
    let encoding = Encoding::for_label(&rest[..end])?;
    Some(
        if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            encoding_rs::UTF_8
        } else {
            encoding
        },
    )
}

/// The document as bytes lol_html can parse, and their encoding: as they are in an
/// ASCII-compatible encoding, decoded to UTF-8 from any other (UTF-16).
pub fn parseable<'b>(
    body: &'b [u8],
    encoding: &'static Encoding,
) -> (Cow<'b, [u8]>, AsciiCompatibleEncoding) {
    match AsciiCompatibleEncoding::new(encoding) {
        Some(ascii) => (Cow::Borrowed(body), ascii),
        None => {
            let (text, _, _) = encoding.decode(body);
            (
                Cow::Owned(text.into_owned().into_bytes()),
                AsciiCompatibleEncoding::utf_8(),
            )
        }
    }
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// The charset of `<meta charset=...>` or `<meta http-equiv=Content-Type content=...>` in a
/// document's first bytes, as the standard's prescan finds it.
fn meta_charset(prefix: &[u8]) -> Option<&'static Encoding> {
    let found: Cell<Option<&'static Encoding>> = Cell::new(None);
    let settings = Settings::new().append_element_content_handler(element!("meta", |el| {
        if found.get().is_some() {
            return Ok(());
        }
        let attrs = Attributes::of(el);
        let label = attrs.value("charset").or_else(|| {
            attrs
                .value("http-equiv")
                .filter(|h| h.trim().eq_ignore_ascii_case("content-type"))
                .and_then(|_| attrs.value("content"))
                .and_then(|c| charset_param(&c))
        });
        found.set(label.and_then(|l| Encoding::for_label(l.trim().as_bytes())));
        Ok(())
    }));
    // Declarations are ASCII: any ASCII-compatible reading finds them.
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    let _ = rewriter.write(prefix);
    let _ = rewriter.end();
    // A page that declares UTF-16 in ASCII is not UTF-16 (HTML standard, prescan).
    found.get().map(|encoding| {
        if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            encoding_rs::UTF_8
        } else {
            encoding
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stylesheets_read_by_bom_then_header_then_at_charset() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS
            .encode("@charset \"sjis\";a:after{content:\"能\"}b{background:url(b.png)}");
        let (text, encoding) = css_text(&sjis, Some("text/css"));
        assert_eq!(encoding, encoding_rs::SHIFT_JIS);
        assert_eq!(crate::extract::css_urls(&text), ["b.png"]);
        let euc = Some("text/css; charset=euc-jp");
        assert_eq!(css_text(&sjis, euc).1, encoding_rs::EUC_JP);
        assert_eq!(
            css_text(b"\xef\xbb\xbf@charset \"sjis\";", euc).1,
            encoding_rs::UTF_8
        );
        assert_eq!(
            css_text(b"@charset \"utf-16le\";", None).1,
            encoding_rs::UTF_8
        );
        assert_eq!(css_text(b" @charset \"sjis\";", None).1, encoding_rs::UTF_8);
        assert_eq!(
            css_text("a{content:\"能\"}".as_bytes(), None).1,
            encoding_rs::UTF_8
        );
        assert_eq!(
            css_text(b"a{content:\"\x94\\\"}", None).1,
            encoding_rs::X_USER_DEFINED
        );
    }

    #[test]
    fn declared_then_bom_then_meta_then_utf8_then_windows_1252() {
        let big5 = Encoding::for_label(b"big5").unwrap();
        assert_eq!(
            html_encoding(b"", Some("text/html; charset=\"Big5\"")),
            big5
        );
        assert_eq!(html_encoding(b"<meta charset=big5>", None), big5);
        assert_eq!(
            html_encoding(
                b"<meta http-equiv=Content-Type content='text/html;charset=gbk'>",
                None
            ),
            Encoding::for_label(b"gbk").unwrap()
        );
        assert_eq!(
            html_encoding(b"<meta charset=utf-16le>", None),
            encoding_rs::UTF_8
        );
        assert_eq!(html_encoding(b"caf\xc3\xa9", None), encoding_rs::UTF_8);
        assert_eq!(
            html_encoding(b"caf\xe9 au lait", None),
            encoding_rs::WINDOWS_1252
        );
    }
}
