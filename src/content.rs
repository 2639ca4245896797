//! What a payload is, decided in one place for the crawl, the offline copy and replay: from its
//! declared media type, and from its first bytes when it declares none (as browsers sniff an
//! untyped response, WHATWG MIME Sniffing section 7; a declared `text/plain` stays text). And
//! how its bytes read: its `Content-Encoding` undone as it is read; and whether it is stored
//! compressed already ([`is_packed`]) or is text ([`is_text`]), for the WARC writer.

use std::io::{self, Read};

/// The kinds of payload cairn treats differently: pages and stylesheets are read for links and
/// rewritten; everything else is copied as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    Html,
    Css,
    JavaScript,
    Image,
    Other,
}

impl ContentKind {
    /// The kind of a payload from its `Content-Type` (or an index's mime), and its first bytes
    /// (a few hundred are plenty, content encoding undone) for what is untyped.
    pub fn of(content_type: Option<&str>, prefix: &[u8]) -> ContentKind {
        ContentKind::declared(content_type).unwrap_or_else(|| ContentKind::sniffed(prefix))
    }

    /// The kind a media type declares; `None` for a payload that declares none, whose first
    /// bytes must tell ([`ContentKind::sniffed`]). Asked first, it spares reading them.
    pub fn declared(content_type: Option<&str>) -> Option<ContentKind> {
        match essence(content_type.unwrap_or("")).as_str() {
            "" | "unknown/unknown" | "application/unknown" | "*/*" => None,
            other => Some(ContentKind::from_essence(other)),
        }
    }

    /// The kind of an untyped payload, from its first bytes (content encoding undone).
    pub fn sniffed(prefix: &[u8]) -> ContentKind {
        if looks_like_html(prefix) {
            ContentKind::Html
        } else {
            ContentKind::Other
        }
    }

    fn from_essence(essence: &str) -> ContentKind {
        match essence {
            "text/html" | "application/xhtml+xml" => ContentKind::Html,
            "text/css" => ContentKind::Css,
            "application/javascript"
            | "text/javascript"
            | "application/x-javascript"
            | "application/ecmascript"
            | "text/ecmascript" => ContentKind::JavaScript,
            image if image.starts_with("image/") => ContentKind::Image,
            _ => ContentKind::Other,
        }
    }

    /// Whether cairn rewrites references in it.
    pub fn is_rewritten(self) -> bool {
        matches!(self, ContentKind::Html | ContentKind::Css)
    }

    /// The file-name extension a browser needs to treat a `file://` copy as this kind, for the
    /// kinds that have one extension.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            ContentKind::Html => Some("html"),
            ContentKind::Css => Some("css"),
            ContentKind::JavaScript => Some("js"),
            ContentKind::Image | ContentKind::Other => None,
        }
    }
}

/// A body with its `Content-Encoding` (gzip, deflate, br) undone, at most `limit` bytes of it.
/// A damaged encoding still yields what decoded before the damage.
pub fn decode_content(
    raw: impl Read,
    content_encoding: Option<&str>,
    limit: u64,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let _ = decoding_reader(raw, content_encoding)
        .take(limit)
        .read_to_end(&mut out);
    Ok(out)
}

/// A reader of a body with its `Content-Encoding` (gzip, deflate, br) undone as it is read;
/// an unknown encoding passes the bytes through. Damaged or cut-short compression ends the
/// body where the damage starts, as a browser shows what it could decode.
pub fn decoding_reader<'a>(
    raw: impl Read + 'a,
    content_encoding: Option<&str>,
) -> Box<dyn Read + 'a> {
    match Coding::of(content_encoding) {
        Coding::Gzip => Box::new(UntilDamage(Some(flate2::read::MultiGzDecoder::new(raw)))),
        Coding::Deflate => Box::new(UntilDamage(Some(flate2::read::ZlibDecoder::new(raw)))),
        Coding::Brotli => Box::new(UntilDamage(Some(brotli_decompressor::Decompressor::new(
            raw,
            64 << 10,
        )))),
        Coding::AsStored => Box::new(raw),
    }
}

/// Whether [`decoding_reader`] passes a body with this `Content-Encoding` through as it is.
pub fn read_as_stored(content_encoding: Option<&str>) -> bool {
    Coding::of(content_encoding) == Coding::AsStored
}

/// A `Content-Encoding` cairn undoes, or none it knows.
#[derive(PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
    AsStored,
}

impl Coding {
    fn of(content_encoding: Option<&str>) -> Coding {
        let coding = content_encoding.unwrap_or("").trim();
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            Coding::Gzip
        } else if coding.eq_ignore_ascii_case("deflate") {
            Coding::Deflate
        } else if coding.eq_ignore_ascii_case("br") {
            Coding::Brotli
        } else {
            Coding::AsStored
        }
    }
}

/// A decoder that ends, rather than fails, at its first error.
struct UntilDamage<R>(Option<R>);

impl<R: Read> Read for UntilDamage<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(decoder) = self.0.as_mut() else {
            return Ok(0);
        };
        match decoder.read(buf) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                self.0 = None;
                Ok(0)
            }
            result => result,
        }
    }
}

/// `Text/HTML; charset=utf-8` -> `text/html`.
/// Whether a payload is compressed already, by its media type or its `Content-Encoding`: a
/// JPEG, a video, a WOFF2 font, a gzip body. Compressing it again gains nothing, so the WARC
/// writer stores it at its fastest setting (a lying type costs only some compression).
pub fn is_packed(content_type: Option<&str>, content_encoding: Option<&str>) -> bool {
    let encoded = content_encoding
        .map(str::trim)
        .is_some_and(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    let essence = essence(content_type.unwrap_or(""));
    let packed_type = match essence.split_once('/') {
        Some(("video", _)) => true,
        Some(("audio", sub)) => !matches!(sub, "wav" | "x-wav" | "wave" | "vnd.wave"),
        Some(("image", sub)) => matches!(
            sub,
            "jpeg" | "pjpeg" | "png" | "gif" | "webp" | "avif" | "heic" | "heif" | "jxl" | "jp2"
        ),
        Some(("font", sub)) => matches!(sub, "woff" | "woff2"),
        Some(("application", sub)) => matches!(
            sub,
            "font-woff"
                | "zip"
                | "gzip"
                | "x-gzip"
                | "zstd"
                | "x-bzip2"
                | "x-xz"
                | "x-7z-compressed"
                | "vnd.rar"
                | "x-rar-compressed"
                | "epub+zip"
        ),
        _ => false,
    };
    encoded || packed_type
}

/// Whether a payload is text stored as it is: HTML, CSS, scripts, JSON, XML, SVG and other
/// `text/` types, with no `Content-Encoding`. What a zstd dictionary is trained on and helps:
/// a site's pages share their template, a photo shares nothing.
pub fn is_text(content_type: Option<&str>, content_encoding: Option<&str>, prefix: &[u8]) -> bool {
    if is_packed(content_type, content_encoding) {
        return false;
    }
    let essence = essence(content_type.unwrap_or(""));
    match ContentKind::of(content_type, prefix) {
        ContentKind::Html | ContentKind::Css | ContentKind::JavaScript => true,
        ContentKind::Image => essence == "image/svg+xml",
        ContentKind::Other => {
            essence.starts_with("text/")
                || essence.ends_with("+json")
                || essence.ends_with("+xml")
                || matches!(essence.as_str(), "application/json" | "application/xml")
        }
    }
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Markup at the start of a document, after any whitespace and byte-order mark.
fn looks_like_html(prefix: &[u8]) -> bool {
    let prefix = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let text = String::from_utf8_lossy(&prefix[..prefix.len().min(512)]).to_ascii_lowercase();
    let text = text.trim_start();
    text.starts_with("<!doctype html") || text.starts_with("<html") || text.contains("<head")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_payloads_are_told_by_type_or_encoding() {
        for packed in [
            "image/jpeg",
            "IMAGE/WebP; q=1",
            "video/mp4",
            "audio/mpeg",
            "font/woff2",
        ] {
            assert!(is_packed(Some(packed), None), "{packed}");
        }
        for plain in [
            "text/html",
            "image/svg+xml",
            "image/bmp",
            "audio/wav",
            "application/json",
        ] {
            assert!(!is_packed(Some(plain), None), "{plain}");
        }
        assert!(is_packed(Some("text/html"), Some("gzip")));
        assert!(is_packed(None, Some(" br ")));
        assert!(!is_packed(Some("text/css"), Some("identity")));
        assert!(!is_packed(None, Some("")));
    }

    #[test]
    fn text_is_markup_styles_scripts_and_data_stored_as_they_are() {
        for text in [
            "text/html; charset=big5",
            "text/css",
            "application/javascript",
            "application/json",
            "application/ld+json",
            "image/svg+xml",
            "text/plain",
        ] {
            assert!(is_text(Some(text), None, b""), "{text}");
        }
        for binary in [
            "image/jpeg",
            "image/bmp",
            "font/woff2",
            "application/octet-stream",
        ] {
            assert!(!is_text(Some(binary), None, b""), "{binary}");
        }
        assert!(
            !is_text(Some("text/html"), Some("gzip"), b""),
            "compressed already"
        );
        assert!(is_text(None, None, b"<!doctype html>"), "sniffed");
    }

    #[test]
    fn declared_types_win_and_untyped_markup_is_sniffed() {
        let of = ContentKind::of;
        assert_eq!(of(Some("text/html; charset=big5"), b""), ContentKind::Html);
        assert_eq!(of(Some("TEXT/CSS"), b"<html>"), ContentKind::Css);
        assert_eq!(
            of(Some("application/x-javascript"), b""),
            ContentKind::JavaScript
        );
        assert_eq!(of(Some("image/webp"), b""), ContentKind::Image);
        assert_eq!(of(None, b"  <!DOCTYPE html><p>"), ContentKind::Html);
        assert_eq!(
            of(Some("unknown/unknown"), b"\xEF\xBB\xBF<html>"),
            ContentKind::Html
        );
        let declared_text = of(Some("text/plain"), b"<html>");
        assert_eq!(
            declared_text,
            ContentKind::Other,
            "browsers show it as text"
        );
        assert_eq!(of(Some("application/json"), b"<html>"), ContentKind::Other);
    }

    #[test]
    fn cut_short_compression_yields_what_decoded() {
        use std::io::Write;
        let text = b"<html>".repeat(10_000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gzipped = gz.finish().unwrap();
        let mut decoded = Vec::new();
        decoding_reader(&gzipped[..gzipped.len() / 2], Some("gzip"))
            .read_to_end(&mut decoded)
            .unwrap();
        assert!(!decoded.is_empty() && text.starts_with(&decoded));
    }
}
