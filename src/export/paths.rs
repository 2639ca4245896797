//! Where each URL lands in the offline copy: `offline/HOST/PATH`, safe and collision-free for
//! any URL (query strings become a readable part plus a hash, non-ASCII is kept as UTF-8, long
//! names are cut and hashed), every file named with the extension of its type, since browsers
//! decide by the name how to treat a `file://` resource (Chromium ignores a stylesheet not
//! named `.css`); and the relative references between those files.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use sha2::{Digest, Sha256};
use url::Url;

use crate::content::ContentKind;

/// Characters escaped in a relative reference to an offline file.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\'')
    .add(b'\\');

/// A reference from a file in `from_dir` to `target`, both relative to the offline root:
/// `../imgcdn.cna.com.tw/a.jpg`, each segment percent-encoded.
pub fn relative_reference(from_dir: &Path, target: &Path) -> String {
    let from: Vec<Component<'_>> = from_dir.components().collect();
    let to: Vec<Component<'_>> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    for c in &to[common..] {
        let segment = c.as_os_str().to_string_lossy();
        parts.push(utf8_percent_encode(&segment, PATH_SEGMENT).to_string());
    }
    parts.join("/")
}

/// `offline/HOST/PATH` for a URL: `www.cna.com.tw/news/aopl/202303220008.aspx.html`.
pub fn offline_path(url: &Url, mime: &str) -> PathBuf {
    let mut path = PathBuf::new();
    let host = match url.port() {
        Some(port) => format!("{}_{port}", url.host_str().unwrap_or("host")),
        None => url.host_str().unwrap_or("host").to_string(),
    };
    path.push(safe_segment(&host));
    let mut segments: Vec<String> = url
        .path_segments()
        .map(|s| s.map(decode_segment).collect())
        .unwrap_or_default();
    if segments.last().is_none_or(|s| s.is_empty()) {
        segments.pop();
        segments.push("index".into());
    }
    let mut name = segments.pop().unwrap_or_else(|| "index".into());
    for dir in segments.iter().filter(|s| !s.is_empty()) {
        path.push(safe_segment(dir));
    }
    if let Some(query) = url.query() {
        let readable: String = decode_segment(query).chars().take(40).collect();
        name = format!("{name}_{readable}-{}", short_hash(query));
    }
    let extension = extension_for(mime);
    let has_extension = extension.is_empty()
        || name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| extension_matches(ext, extension));
    if !has_extension {
        name = format!("{name}.{extension}");
    } else if extension.is_empty() && opens_as_document(&name) {
        // Copied as archived, not rewritten: named `.html`, a frame would open it from
        // `file://` as a page, with no fence, and it could reach the live web.
        name.push_str(".bin");
    }
    path.push(safe_segment(&name));
    path
}

/// A file name a browser opens as a document (markup it would run) by its extension.
fn opens_as_document(name: &str) -> bool {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        extension.as_deref(),
        Some("html" | "htm" | "xhtml" | "xht" | "shtml" | "xml" | "xsl" | "xslt" | "mht" | "mhtml")
    )
}

/// A path segment percent-decoded to text where it is valid UTF-8.
fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .unwrap_or_else(|_| segment.to_string())
}

/// A file name safe on any file system: no separators, controls or reserved characters, not
/// `.` or `..`, and at most 150 bytes (cut and hashed beyond).
fn safe_segment(segment: &str) -> String {
    let mut out: String = segment
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '%' | '#' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    if out.is_empty() || out == "." || out == ".." {
        out = format!("_{out}");
    }
    if out.len() > 150 {
        let hash = short_hash(segment);
        let extension = out
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .filter(|e| e.len() <= 10);
        let mut cut = 120;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out = match extension {
            Some(ext) => format!("{out}-{hash}.{ext}"),
            None => format!("{out}-{hash}"),
        };
    }
    out
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    data_encoding::HEXLOWER.encode(&digest[..4])
}

/// Two URLs that would land on one path (`/a` as a file and `/a/` as a folder's index, say)
/// get distinct names.
pub fn unique_path(path: PathBuf, taken: &mut HashSet<PathBuf>) -> PathBuf {
    if taken.insert(path.clone()) {
        return path;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
    for n in 2.. {
        let candidate = path.with_file_name(format!("{stem}~{n}.{ext}"));
        if taken.insert(candidate.clone()) {
            return candidate;
        }
    }
    unreachable!("some suffix is free")
}

/// The extension a file of this type must carry; empty when any will do. Pages, stylesheets
/// and scripts take their kind's ([`ContentKind::extension`]); the rest, their media type's.
fn extension_for(mime: &str) -> &'static str {
    if let Some(extension) = ContentKind::declared(Some(mime)).and_then(ContentKind::extension) {
        return extension;
    }
    match mime.trim().to_ascii_lowercase().as_str() {
        "application/json" => "json",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "image/avif" => "avif",
        "image/x-icon" | "image/vnd.microsoft.icon" => "ico",
        "font/woff2" => "woff2",
        "font/woff" | "application/font-woff" => "woff",
        "video/mp4" => "mp4",
        "audio/mpeg" => "mp3",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "",
    }
}

fn extension_matches(ext: &str, wanted: &str) -> bool {
    let ext = ext.to_ascii_lowercase();
    ext == wanted
        || matches!(
            (wanted, ext.as_str()),
            ("html", "htm") | ("jpg", "jpeg") | ("js", "mjs")
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(url: &str, mime: &str) -> String {
        offline_path(&Url::parse(url).unwrap(), mime)
            .display()
            .to_string()
    }

    #[test]
    fn paths_carry_the_type_extension_and_stay_safe() {
        assert_eq!(
            path(
                "https://www.cna.com.tw/news/aopl/202303220008.aspx",
                "text/html"
            ),
            "www.cna.com.tw/news/aopl/202303220008.aspx.html"
        );
        assert_eq!(
            path("https://a.example/", "text/html"),
            "a.example/index.html"
        );
        assert_eq!(
            path("https://a.example/img/x.JPG", "image/jpeg"),
            "a.example/img/x.JPG"
        );
        let css = path("https://www.cna.com.tw/css/main.css?v=3", "text/css");
        assert!(
            css.starts_with("www.cna.com.tw/css/main.css_v=3-") && css.ends_with(".css"),
            "{css}"
        );
        let tag = path(
            "https://www.cna.com.tw/tag/hysearchws.aspx?q=%E8%92%B2%E4%BA%AD",
            "text/html",
        );
        assert!(tag.contains("q=蒲亭") && tag.ends_with(".html"), "{tag}");
        assert_ne!(
            path("https://a.example/s?q=1", "text/html"),
            path("https://a.example/s?q=2", "text/html")
        );
        let long = path(
            &format!("https://a.example/{}.png", "x".repeat(400)),
            "image/png",
        );
        assert!(long.len() < 200 && long.ends_with(".png"), "{long}");
        // The URL parser resolves dot segments, encoded ones too: nothing climbs out.
        assert_eq!(
            path("https://a.example/a/../../b/%2e%2e/c", "text/plain"),
            "a.example/c.txt"
        );
    }

    #[test]
    fn relative_references_climb_and_encode() {
        assert_eq!(
            relative_reference(
                Path::new("www.cna.com.tw/news/aopl"),
                Path::new("imgcdn.cna.com.tw/a b.jpg")
            ),
            "../../../imgcdn.cna.com.tw/a%20b.jpg"
        );
        assert_eq!(
            relative_reference(Path::new("a/b"), Path::new("a/b/c.css")),
            "c.css"
        );
        assert_eq!(
            relative_reference(Path::new("a"), Path::new("a/q#1.html")),
            "q%231.html"
        );
    }
}
