//! The offline copy: `archives/COLL/offline/HOST/PATH` materialized from the WARCs (the latest
//! capture of each URL), every reference to an archived resource rewritten to a relative path,
//! so pages open from `file://` with the network unplugged; and the rewrite of archived posts
//! to point into it.
//!
//! File names are safe and collision-free for any URL: query strings become a readable part
//! plus a hash, non-ASCII is kept as UTF-8, long names are cut and hashed, and every file is
//! named with the extension of its type, since browsers decide by the name how to treat a
//! `file://` resource (Chromium ignores a stylesheet not named `.css`).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::extract::html_encoding;
use crate::fetch::decoding_reader;
use crate::index::Entry;
use crate::post::Post;
use crate::rewrite::{HtmlOptions, rewrite_css, rewrite_html, rewrite_html_stream};
use crate::warc::ReadError;
use crate::warc::reader::{http_header_field, read_capture, with_payload};

/// Stylesheets larger than this are copied as they are (pages stream through the rewriter).
const MAX_REWRITTEN_CSS: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: ReadError },
    #[error("{0}")]
    Rewrite(#[from] crate::rewrite::RewriteError),
    #[error("{path}: rewritten, its front matter would not parse ({detail}); left as it was")]
    FrontMatter { path: PathBuf, detail: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Default, Serialize)]
pub struct ExportReport {
    pub out_dir: PathBuf,
    pub files: usize,
    pub pages: usize,
    /// References left pointing at the live web because nothing was archived for them.
    pub unresolved: Vec<String>,
}

/// One archived URL and where its capture lies.
#[derive(Debug, Clone)]
struct Capture {
    url: Url,
    status: u16,
    mime: String,
    filename: String,
    offset: u64,
    /// For a revisit: the capture that holds the payload.
    payload_from: Option<(String, u64)>,
}

/// What the export knows: which URL became which file, and where redirects lead.
pub struct OfflineMap {
    pub out_dir: PathBuf,
    files: HashMap<String, PathBuf>,
    redirects: HashMap<String, Url>,
}

impl OfflineMap {
    pub fn new(out_dir: &Path) -> OfflineMap {
        OfflineMap {
            out_dir: out_dir.to_path_buf(),
            files: HashMap::new(),
            redirects: HashMap::new(),
        }
    }

    /// Records that `url` was exported to `path` (relative to the offline root).
    pub fn add_file(&mut self, url: &Url, path: PathBuf) {
        self.files.insert(url.to_string(), path);
    }

    /// Records that `url` was archived as a redirect to `target`.
    pub fn add_redirect(&mut self, url: &Url, target: Url) {
        self.redirects.insert(url.to_string(), target);
    }

    /// The file (relative to the offline root) holding a URL, following archived redirects.
    pub fn file_for(&self, url: &Url) -> Option<&Path> {
        let mut url = url.clone();
        url.set_fragment(None);
        for _ in 0..10 {
            if let Some(path) = self.files.get(url.as_str()) {
                return Some(path);
            }
            url = self.redirects.get(url.as_str())?.clone();
        }
        None
    }
}

/// Materializes `collection_dir/offline` (or `out_dir`) from the collection's index and WARCs.
pub fn export(
    collection_dir: &Path,
    out_dir: &Path,
) -> Result<(OfflineMap, ExportReport), ExportError> {
    let index_path = collection_dir.join("index.cdxj");
    let text = fs::read_to_string(&index_path).map_err(io_err(&index_path))?;
    let captures = latest_captures(&text);
    let warc_dir = collection_dir.join("warc");

    let mut map = OfflineMap::new(out_dir);
    let mut taken = HashSet::new();
    let mut exported = Vec::new();
    for capture in captures.values() {
        if (300..400).contains(&capture.status) {
            let head = read_record(&warc_dir, &capture.filename, capture.offset, 0)?.0;
            if let Some(location) = http_header_field(&head, "location")
                && let Ok(target) = capture.url.join(location.trim())
            {
                map.add_redirect(&capture.url, target);
            }
        } else if (200..300).contains(&capture.status) {
            let path = unique_path(offline_path(&capture.url, &capture.mime), &mut taken);
            map.add_file(&capture.url, path);
            exported.push(capture);
        }
    }

    let mut report = ExportReport {
        out_dir: out_dir.to_path_buf(),
        ..ExportReport::default()
    };
    let mut unresolved = HashSet::new();
    for capture in exported {
        let relative = map.files[capture.url.as_str()].clone();
        let from_dir = relative.parent().unwrap_or(Path::new(""));
        let to_local = |url: &Url| {
            map.file_for(url)
                .map(|target| relative_reference(from_dir, target))
        };
        if capture.mime.contains("html") {
            report.pages += 1;
        }
        let left = export_capture(&warc_dir, capture, &out_dir.join(&relative), &to_local)?;
        unresolved.extend(left.into_iter().map(String::from));
        report.files += 1;
    }
    report.unresolved = unresolved.into_iter().collect();
    report.unresolved.sort();
    Ok((map, report))
}

/// The latest capture of each http(s) URL in the index, revisits pointed at their payload.
fn latest_captures(index: &str) -> HashMap<String, Capture> {
    let entries: Vec<Entry> = index.lines().filter_map(Entry::parse).collect();
    let mut originals: HashMap<&str, (String, u64)> = HashMap::new();
    for e in &entries {
        if e.fields.mime.as_deref() != Some("warc/revisit")
            && let (Some(digest), Ok(offset)) = (&e.fields.digest, e.fields.offset.parse())
        {
            originals
                .entry(digest.as_str())
                .or_insert((e.fields.filename.clone(), offset));
        }
    }
    let mut latest: HashMap<String, (String, Capture)> = HashMap::new();
    for e in &entries {
        let Ok(url) = Url::parse(&e.fields.url) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let revisit = e.fields.mime.as_deref() == Some("warc/revisit");
        let payload_from = if revisit {
            match e.fields.digest.as_deref().and_then(|d| originals.get(d)) {
                Some(original) => Some(original.clone()),
                None => continue,
            }
        } else {
            None
        };
        let capture = Capture {
            url: url.clone(),
            status: e
                .fields
                .status
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(200),
            mime: e.fields.mime.clone().unwrap_or_default(),
            filename: e.fields.filename.clone(),
            offset: e.fields.offset.parse().unwrap_or(0),
            payload_from,
        };
        let key = url.to_string();
        let newer = latest.get(&key).is_none_or(|(ts, _)| e.timestamp >= *ts);
        if newer {
            latest.insert(key, (e.timestamp.clone(), capture));
        }
    }
    // A revisit's mime is warc/revisit; the type of what it stands for is its original's.
    let by_location: HashMap<(String, u64), String> = latest
        .values()
        .filter(|(_, c)| c.payload_from.is_none())
        .map(|(_, c)| ((c.filename.clone(), c.offset), c.mime.clone()))
        .collect();
    latest
        .into_iter()
        .map(|(k, (_, mut c))| {
            if let Some(from) = &c.payload_from {
                c.mime = by_location
                    .get(from)
                    .cloned()
                    .unwrap_or_else(|| mime_from_entries(&entries, from));
            }
            (k, c)
        })
        .collect()
}

fn mime_from_entries(entries: &[Entry], (filename, offset): &(String, u64)) -> String {
    entries
        .iter()
        .find(|e| &e.fields.filename == filename && e.fields.offset == offset.to_string())
        .and_then(|e| e.fields.mime.clone())
        .unwrap_or_default()
}

/// Writes one capture's payload to `target` (atomically), pages and stylesheets with their
/// references pointed into the offline tree. The payload streams from the WARC through the
/// rewriter to the file, so memory stays flat whatever its size. Returns the references left
/// pointing at the live web.
fn export_capture(
    warc_dir: &Path,
    capture: &Capture,
    target: &Path,
    to_local: &dyn Fn(&Url) -> Option<String>,
) -> Result<Vec<Url>, ExportError> {
    // A revisit's own header says what it was; its payload lies in the original's record.
    let revisit_head = match capture.payload_from {
        Some(_) => Some(read_record(warc_dir, &capture.filename, capture.offset, 0)?.0),
        None => None,
    };
    let (file, offset) = capture
        .payload_from
        .clone()
        .unwrap_or_else(|| (capture.filename.clone(), capture.offset));
    let path = collection_file(warc_dir, &file)?;
    let mime = capture.mime.as_str();
    write_atomically(target, |out| {
        let mut out = Watched { out, failed: None };
        let out = &mut out;
        let result = with_payload(&path, offset, |payload_head, payload| {
            let head = revisit_head.as_deref().unwrap_or(payload_head);
            let content_type = http_header_field(head, "content-type");
            let encoding = http_header_field(payload_head, "content-encoding");
            let mut body = decoding_reader(payload, encoding.as_deref());
            if mime.contains("html") {
                rewrite_page(
                    &mut body,
                    out,
                    content_type.as_deref(),
                    &capture.url,
                    to_local,
                )
            } else if mime.contains("css") {
                rewrite_stylesheet(&mut body, out, &capture.url, to_local).map(|()| Vec::new())
            } else {
                io::copy(&mut body, out).map(|_| Vec::new())
            }
        });
        // An error met while copying is the offline file's when writing it failed.
        result.map_err(|source| match out.failed.take() {
            Some(kind) => ExportError::Io {
                path: target.to_path_buf(),
                source: io::Error::from(kind),
            },
            None => ExportError::Read {
                path: path.clone(),
                source,
            },
        })
    })
}

/// A writer that notes how writing failed, if it did.
struct Watched<'a> {
    out: &'a mut dyn Write,
    failed: Option<io::ErrorKind>,
}

impl Write for Watched<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.out
            .write(bytes)
            .inspect_err(|e| self.failed = Some(e.kind()))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out
            .flush()
            .inspect_err(|e| self.failed = Some(e.kind()))
    }
}

/// A page, its encoding told from its first megabyte as a browser's prescan would.
fn rewrite_page(
    body: &mut dyn Read,
    out: &mut dyn Write,
    content_type: Option<&str>,
    url: &Url,
    to_local: &dyn Fn(&Url) -> Option<String>,
) -> io::Result<Vec<Url>> {
    let mut prefix = Vec::new();
    Read::take(&mut *body, 1 << 20).read_to_end(&mut prefix)?;
    let options = HtmlOptions {
        base: url.clone(),
        map: to_local,
        keep_original: false,
        promote_lazy: true,
        banner: None,
    };
    let encoding = html_encoding(&prefix, content_type);
    let mut src = io::BufReader::with_capacity(64 << 10, prefix.as_slice().chain(body));
    rewrite_html_stream(&mut src, out, encoding, &options).map_err(io::Error::other)
}

/// A stylesheet; one too large to be a real one is copied as it is.
fn rewrite_stylesheet(
    body: &mut dyn Read,
    out: &mut dyn Write,
    url: &Url,
    to_local: &dyn Fn(&Url) -> Option<String>,
) -> io::Result<()> {
    let mut bytes = Vec::new();
    Read::take(&mut *body, MAX_REWRITTEN_CSS + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_REWRITTEN_CSS {
        out.write_all(&bytes)?;
        return io::copy(body, out).map(|_| ());
    }
    let text = String::from_utf8_lossy(&bytes);
    let rewritten = rewrite_css(&text, &|r| url.join(r).ok().and_then(|u| to_local(&u)));
    out.write_all(rewritten.as_bytes())
}

/// One record's HTTP header and raw payload (at most `limit` bytes of it).
fn read_record(
    warc_dir: &Path,
    filename: &str,
    offset: u64,
    limit: u64,
) -> Result<(Vec<u8>, Vec<u8>), ExportError> {
    let path = collection_file(warc_dir, filename)?;
    let record =
        read_capture(&path, offset, limit).map_err(|source| ExportError::Read { path, source })?;
    Ok((record.http_head, record.payload))
}

/// A WARC file the index names, which must be a plain name inside the collection's folder.
pub fn collection_file(warc_dir: &Path, filename: &str) -> Result<PathBuf, ExportError> {
    let plain = Path::new(filename).components().count() == 1
        && matches!(
            Path::new(filename).components().next(),
            Some(Component::Normal(_))
        );
    if !plain {
        return Err(ExportError::Io {
            path: warc_dir.join(filename),
            source: std::io::Error::other("index names a file outside the collection"),
        });
    }
    Ok(warc_dir.join(filename))
}

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
    }
    path.push(safe_segment(&name));
    path
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
fn unique_path(path: PathBuf, taken: &mut HashSet<PathBuf>) -> PathBuf {
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

/// The extension a file of this type must carry; empty when any will do.
fn extension_for(mime: &str) -> &'static str {
    match mime.trim().to_ascii_lowercase().as_str() {
        "text/html" | "application/xhtml+xml" => "html",
        "text/css" => "css",
        "application/javascript" | "text/javascript" | "application/x-javascript" => "js",
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

fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let temp = path.with_extension("cairn-tmp");
    let mut out = io::BufWriter::new(fs::File::create(&temp).map_err(io_err(&temp))?);
    let result = write(&mut out).and_then(|value| {
        out.flush().map_err(io_err(&temp))?;
        Ok(value)
    });
    drop(out);
    match result {
        Ok(value) => {
            fs::rename(&temp, path).map_err(io_err(path))?;
            Ok(value)
        }
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// How a rewritten post points into the offline tree.
pub struct PostRewrite<'a> {
    /// Prefix of every rewritten reference: `/archives/COLL/offline` by default.
    pub link_base: &'a str,
    pub map: &'a OfflineMap,
    /// When and where, for the front matter.
    pub archived_at: &'a str,
    pub collection: &'a str,
}

/// The post with every reference to an archived resource pointing into the offline tree (the
/// original kept beside it as `data-cairn-original`), and its front matter noting when and
/// where it was archived. Running it on its own output changes nothing more.
pub fn rewrite_post(
    post: &Post,
    rewrite: &PostRewrite<'_>,
) -> Result<(String, Vec<String>), ExportError> {
    let link_base = rewrite.link_base.trim_end_matches('/');
    let to_local = |url: &Url| {
        rewrite.map.file_for(url).map(|path| {
            let encoded = relative_reference(Path::new(""), path);
            format!("{link_base}/{encoded}")
        })
    };
    let base = post.from.clone().unwrap_or_else(crate::post::site_root);
    let options = HtmlOptions {
        base,
        map: &to_local,
        keep_original: true,
        promote_lazy: true,
        banner: None,
    };
    // Markdown links keep their Markdown form (a renderer may treat a line differently once it
    // holds HTML); inline and block HTML goes through the HTML rewriter.
    let (body, mut unresolved) = rewrite_markdown_links(post.body(), &to_local);
    let (bytes, left) = rewrite_html(body.as_bytes(), encoding_rs::UTF_8, &options)?;
    unresolved.extend(left);
    let body = String::from_utf8_lossy(&bytes).into_owned();

    let front = &post.text[post.front_matter.clone()];
    let kept: Vec<&str> = front
        .lines()
        .filter(|l| !l.starts_with("cairn_archived_at:") && !l.starts_with("cairn_collection:"))
        .collect();
    let mut out = String::with_capacity(post.text.len() + body.len() / 4);
    out.push_str("---\n");
    for line in kept {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("cairn_archived_at: {}\n", rewrite.archived_at));
    out.push_str(&format!("cairn_collection: {}\n", rewrite.collection));
    out.push_str("---\n");
    // A value spread over lines under one of cairn's keys would be cut in two above: check
    // that the new front matter reads, rather than hand Jekyll a post it cannot build.
    Post::parse(&post.path, out.clone()).map_err(|e| ExportError::FrontMatter {
        path: post.path.clone(),
        detail: e.to_string(),
    })?;
    out.push_str(&body);
    let mut left: Vec<String> = unresolved.into_iter().map(String::from).collect();
    left.sort();
    left.dedup();
    Ok((out, left))
}

/// Points Markdown links and images `[text](https://...)` at their local copies, keeping the
/// original in a comment right after (`<!-- cairn-original: URL -->`), which every renderer
/// drops. Code spans and relative links are left as written; a link rewritten before carries a
/// local URL and is left alone, so a second run changes nothing.
fn rewrite_markdown_links(
    markdown: &str,
    to_local: &dyn Fn(&Url) -> Option<String>,
) -> (String, Vec<Url>) {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut unresolved = Vec::new();
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        let (Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. })) =
            event
        else {
            continue;
        };
        let Ok(mut url) = Url::parse(&dest_url) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let fragment = url.fragment().map(str::to_string);
        url.set_fragment(None);
        let Some(mut local) = to_local(&url) else {
            unresolved.push(url);
            continue;
        };
        if let Some(f) = fragment {
            local = format!("{local}#{f}");
        }
        let source = &markdown[range.clone()];
        let Some(at) = source.rfind(&format!("({dest_url}")) else {
            continue;
        };
        let start = range.start + at + 1;
        edits.push((start..start + dest_url.len(), local));
        let comment = format!("<!-- cairn-original: {dest_url} -->");
        if !markdown[range.end..].starts_with(&comment) {
            edits.push((range.end..range.end, comment));
        }
    }
    let mut out = String::with_capacity(markdown.len() + edits.len() * 64);
    let mut last = 0;
    for (range, text) in edits {
        if range.start < last {
            continue;
        }
        out.push_str(&markdown[last..range.start]);
        out.push_str(&text);
        last = range.end;
    }
    out.push_str(&markdown[last..]);
    (out, unresolved)
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

    #[test]
    fn markdown_links_point_local_keep_their_form_and_stay_put_on_a_second_run() {
        let md = "[標題](https://a.example/x#top)\n------\n![pic](https://a.example/p.jpg) `[c](https://a.example/c)` [rel](/local) [gone](https://b.example/)";
        let local =
            |u: &Url| (u.host_str() == Some("a.example")).then(|| format!("/off{}", u.path()));
        let (once, unresolved) = rewrite_markdown_links(md, &local);
        assert!(
            once.starts_with(
                "[標題](/off/x#top)<!-- cairn-original: https://a.example/x#top -->\n------"
            ),
            "{once}"
        );
        assert!(
            once.contains("![pic](/off/p.jpg)<!-- cairn-original: https://a.example/p.jpg -->"),
            "{once}"
        );
        assert!(
            once.contains("`[c](https://a.example/c)`") && once.contains("[rel](/local)"),
            "{once}"
        );
        assert_eq!(unresolved.len(), 1);
        let (twice, _) = rewrite_markdown_links(&once, &local);
        assert_eq!(once, twice);
    }

    fn post_rewrite(map: &OfflineMap) -> PostRewrite<'_> {
        PostRewrite {
            link_base: "/off",
            map,
            archived_at: "2026-11-26T00:00:00Z",
            collection: "default",
        }
    }

    /// Found by fuzzing: front matter that is not a mapping, and cairn's own keys with a value
    /// spread over lines, gave posts whose front matter no longer parsed.
    #[test]
    fn a_rewritten_post_always_parses_and_a_second_rewrite_changes_nothing() {
        let path = Path::new("_posts/p.md");
        let mut map = OfflineMap::new(Path::new("offline"));
        map.add_file(
            &Url::parse("https://a.example/x").unwrap(),
            "a/x.html".into(),
        );
        for scalar in ["---\nN\n---", "---\nNA \n---\ndiv>\n", "---\n- a\n---\n"] {
            let err = Post::parse(path, scalar.into()).unwrap_err();
            assert!(err.to_string().contains("not a mapping"), "{err}");
        }
        let split = "---\ncairn_archived_at: |\n  a\n  b\n---\nbody\n";
        let post = Post::parse(path, split.into()).unwrap();
        let err = rewrite_post(&post, &post_rewrite(&map)).unwrap_err();
        assert!(err.to_string().contains("left as it was"), "{err}");
        for text in [
            "---\n---",
            "---\ntitle: x\n---",
            "---\ntitle: x\ncairn_collection: old\n---\n[a](https://a.example/x) <img src=https://a.example/x>\n",
            "---\n---\n<a href=\"http:.\" src>",
        ] {
            let post = Post::parse(path, text.into()).unwrap();
            let (once, _) = rewrite_post(&post, &post_rewrite(&map)).unwrap();
            let post = Post::parse(path, once.clone()).unwrap();
            let (twice, _) = rewrite_post(&post, &post_rewrite(&map)).unwrap();
            assert_eq!(once, twice, "{text:?}");
        }
    }
}
