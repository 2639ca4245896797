//! What a payload is, decided in one place for the crawl, the offline copy and replay: from its
//! declared media type, and from its first bytes when the type is missing or says only "text"
//! (as browsers sniff an untyped response, WHATWG MIME Sniffing section 7).

/// The kinds of payload cairn treats differently: pages and stylesheets are read for links and
/// rewritten; scripts and images are copied as they are, but named by their kind.
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
    /// (a few hundred are plenty) for what is untyped.
    pub fn of(content_type: Option<&str>, prefix: &[u8]) -> ContentKind {
        let essence = essence(content_type.unwrap_or(""));
        match essence.as_str() {
            "" | "text/plain" | "unknown/unknown" => {
                if looks_like_html(prefix) {
                    ContentKind::Html
                } else {
                    ContentKind::Other
                }
            }
            other => ContentKind::from_essence(other),
        }
    }

    /// The kind a media type declares, sniffing nothing.
    pub fn declared(content_type: &str) -> ContentKind {
        ContentKind::from_essence(&essence(content_type))
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
}

/// `Text/HTML; charset=utf-8` -> `text/html`.
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
            of(Some("text/plain"), b"\xEF\xBB\xBF<html>"),
            ContentKind::Html
        );
        assert_eq!(of(Some("text/plain"), b"just text"), ContentKind::Other);
        assert_eq!(of(Some("application/json"), b"<html>"), ContentKind::Other);
    }
}
