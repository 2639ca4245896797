//! WACZ 1.1.1 packages (`cairn export --wacz`), the form ReplayWeb.page, pywb and Browsertrix
//! share collections in: one zip holding `archive/data.warc.gz`, `indexes/index.cdx.gz` with
//! its `index.idx`, `pages/pages.jsonl`, `datapackage.json` and `datapackage-digest.json`.
//!
//! No WACZ reader takes zstd, so every record goes into the package's WARC as its own gzip
//! member, copied byte for byte as it reads decompressed (digests, record IDs and headers as
//! they were). A package of targets (URLs, posts) holds what they need and no more: each
//! page's latest capture, what it needs to render (stylesheets and what they load, images,
//! scripts, frames), the pages it links to that were archived with theirs, redirects on the
//! way, and the original of every revisit. Without targets, the whole collection goes in. The
//! index is the compressed form wabac.js reads by ranges (gzip members of a few thousand lines
//! and the `!meta` summary of where each starts), which pywb reads as plain gzip too.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use crate::archive::targets::{Input, TargetError, parse_all, seeds_and_resources};
use crate::collection::{Collection, CollectionError};
use crate::content::{ContentKind, decoding_reader, is_packed};
use crate::extract::{self, LinkKind};
use crate::frontier::CandidateKind;
use crate::index::{Capture, Index, index_file};
use crate::warc::codec::{BodyIn, RecordEncoder};
use crate::warc::reader::copy_record;
use crate::warc::{Compression, ReadError};

#[derive(Debug, thiserror::Error)]
pub enum WaczError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: ReadError },
    #[error(transparent)]
    Collection(#[from] CollectionError),
    #[error(transparent)]
    Targets(#[from] TargetError),
    #[error("{}: {source}", path.display())]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error("{}: exists already; give the package another name", .0.display())]
    Exists(PathBuf),
    #[error("nothing archived for {0}: archive it first")]
    NothingArchived(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WaczError + '_ {
    move |source| WaczError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What went into a package.
#[derive(Debug, Serialize)]
pub struct WaczReport {
    pub path: PathBuf,
    pub pages: usize,
    pub records: usize,
    pub bytes: u64,
    /// Targets that the collection holds no capture of.
    pub not_archived: Vec<String>,
    /// Records that could not be read, each with why: the package holds everything else.
    pub skipped: Vec<String>,
}

/// The package's one WARC file, as the index and `datapackage.json` name it.
const WARC_NAME: &str = "data.warc.gz";

/// Lines per gzip member of `index.cdx.gz`: py-wacz's and pywb's ZipNum block size, so a
/// lookup reads one small member.
const INDEX_BLOCK_LINES: usize = 3000;

/// Payloads read for their links are cut here: no page or stylesheet comes near.
const MAX_PARSED: u64 = 16 << 20;

/// A page of `pages.jsonl`.
#[derive(Debug, Clone, Serialize)]
struct PackagePage {
    id: String,
    url: String,
    ts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

/// What goes into the package: each capture once, by where its record lies.
#[derive(Default)]
struct Selection {
    captures: BTreeMap<(String, u64), Capture>,
    pages: Vec<PackagePage>,
    not_archived: Vec<String>,
}

impl Selection {
    /// A capture, and for a revisit the capture that stores its payload.
    fn add(&mut self, index: &Index, capture: &Capture) {
        if let Some(stored) = index.payload_of(capture) {
            let stored = stored.into_owned();
            self.captures
                .insert((stored.filename.clone(), stored.offset), stored);
        }
        self.captures
            .insert((capture.filename.clone(), capture.offset), capture.clone());
    }
}

/// Writes the package of `targets` (URLs, posts or folders of posts; none: the whole
/// collection) to `out`, a new file.
pub fn export_wacz(
    collection: &Collection,
    index: &Index,
    targets: &[String],
    title: Option<&str>,
    out: &Path,
) -> Result<WaczReport, WaczError> {
    if out.exists() {
        return Err(WaczError::Exists(out.to_path_buf()));
    }
    let selection = if targets.is_empty() {
        whole_collection(collection, index)
    } else {
        Walk::new(collection, index).select(&parse_all(targets)?)?
    };
    if selection.captures.is_empty() {
        return Err(WaczError::NothingArchived(targets.join(", ")));
    }
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".cairn-wacz-")
        .tempdir_in(dir)
        .map_err(io_err(dir))?;
    let warc = staging.path().join(WARC_NAME);
    let skipped = write_warc(collection, &selection, &warc)?;
    let (cdx, idx) = compressed_index(&warc)?;
    let pages = pages_jsonl(&selection.pages);
    let single = (targets.len() == 1)
        .then(|| selection.pages.first())
        .flatten();
    let package = Package {
        warc: &warc,
        cdx,
        idx,
        pages,
        title: title.unwrap_or(collection.name().as_str()),
        main: single,
    };
    let bytes = write_package(&package, staging.path(), out)?;
    Ok(WaczReport {
        path: out.to_path_buf(),
        pages: selection.pages.len(),
        records: selection.captures.len() - skipped.len(),
        bytes,
        not_archived: selection.not_archived,
        skipped,
    })
}

/// Every capture of the collection, and its pages as the crawls listed them.
fn whole_collection(collection: &Collection, index: &Index) -> Selection {
    let mut selection = Selection::default();
    for capture in index.captures() {
        selection.add(index, &capture);
    }
    for page in collection.pages() {
        let ts = match time::OffsetDateTime::parse(
            &page.ts,
            &time::format_description::well_known::Rfc3339,
        ) {
            Ok(date) => rfc3339(date.unix_timestamp()),
            Err(_) => page.ts.clone(),
        };
        selection.pages.push(PackagePage {
            id: page_id(&page.url, &ts),
            url: page.url,
            ts,
            title: page.title,
        });
    }
    selection
}

/// The walk from the targets through what their captures reference, each URL once.
struct Walk<'c> {
    collection: &'c Collection,
    index: &'c Index,
    selection: Selection,
    seen: HashSet<String>,
    /// URL, depth (targets 0, the pages they link to 1) and whether it is a page.
    queue: VecDeque<(Url, u8, bool)>,
}

impl<'c> Walk<'c> {
    fn new(collection: &'c Collection, index: &'c Index) -> Walk<'c> {
        Walk {
            collection,
            index,
            selection: Selection::default(),
            seen: HashSet::new(),
            queue: VecDeque::new(),
        }
    }

    fn select(mut self, inputs: &[Input]) -> Result<Selection, WaczError> {
        let (seeds, resources) = seeds_and_resources(inputs);
        for resource in &resources {
            // The post itself, as the crawl stored it.
            if let Some(capture) = self.index.nearest(&resource.target_uri, i64::MAX) {
                self.selection.add(self.index, &capture);
            }
        }
        for seed in seeds {
            let page = seed.kind != CandidateKind::Requisite;
            self.queue
                .push_back((seed.url, seed.depth.min(1) as u8, page));
        }
        while let Some((url, depth, page)) = self.queue.pop_front() {
            self.visit(url, depth, page)?;
        }
        Ok(self.selection)
    }

    fn visit(&mut self, mut url: Url, depth: u8, page: bool) -> Result<(), WaczError> {
        url.set_fragment(None);
        if !self.seen.insert(url.to_string()) {
            return Ok(());
        }
        // The latest capture: the nearest to the far future.
        let Some(capture) = self.index.nearest(url.as_str(), i64::MAX) else {
            // A target not archived is worth saying; a page it links to often is not.
            if page && depth == 0 {
                self.selection.not_archived.push(url.to_string());
            }
            return Ok(());
        };
        self.selection.add(self.index, &capture);
        // A revisit whose original is not here, or a damaged record, has no links to follow;
        // the package writer names it if it cannot copy it either.
        let Ok((head, payload)) = self.collection.read_capture(self.index, &capture, 0) else {
            return Ok(());
        };
        let status = head.status().unwrap_or(200);
        if (300..400).contains(&status) {
            let location = head.record.http_header("location");
            if let Some(target) = location.and_then(|l| url.join(l.trim()).ok()) {
                self.queue.push_back((target, depth, page));
            }
            return Ok(());
        }
        let content_type = head.record.http_header("content-type");
        let prefix = &payload.bytes[..payload.bytes.len().min(512)];
        match ContentKind::of(content_type.as_deref(), prefix) {
            ContentKind::Html => self.html(&capture, &url, content_type, depth, page),
            ContentKind::Css => self.css(&capture, &url, depth),
            _ => Ok(()),
        }
    }

    /// A page (or a frame): listed when it is a page, what it needs queued, and at depth 0
    /// the pages it links to.
    fn html(
        &mut self,
        capture: &Capture,
        url: &Url,
        content_type: Option<String>,
        depth: u8,
        page: bool,
    ) -> Result<(), WaczError> {
        let body = self.payload(capture)?;
        let parsed = extract::html(&body, content_type.as_deref(), url);
        if page {
            let ts = rfc3339(capture.seconds);
            self.selection.pages.push(PackagePage {
                id: page_id(url.as_str(), &ts),
                url: url.to_string(),
                ts,
                title: parsed.title.clone(),
            });
        }
        for link in parsed.links {
            match link.kind {
                LinkKind::Requisite => self.queue.push_back((link.url, depth, false)),
                LinkKind::Refresh => self.queue.push_back((link.url, depth, page)),
                LinkKind::Navigation if page && depth == 0 => {
                    self.queue.push_back((link.url, 1, true))
                }
                LinkKind::Navigation => {}
            }
        }
        Ok(())
    }

    /// A stylesheet: what it loads (imports, fonts, images).
    fn css(&mut self, capture: &Capture, url: &Url, depth: u8) -> Result<(), WaczError> {
        let body = self.payload(capture)?;
        for link in extract::css(&String::from_utf8_lossy(&body), url) {
            self.queue.push_back((link.url, depth, false));
        }
        Ok(())
    }

    /// A capture's payload, content encoding undone, up to [`MAX_PARSED`] bytes.
    fn payload(&self, capture: &Capture) -> Result<Vec<u8>, WaczError> {
        let read = self
            .collection
            .stream_capture(self.index, capture, |head, body| {
                let mut bytes = Vec::new();
                let decoded = decoding_reader(body, head.encoding.as_deref());
                decoded
                    .take(MAX_PARSED)
                    .read_to_end(&mut bytes)
                    .map(|_| bytes)
            })?;
        // A payload that does not decode is packaged as it is, its links unknown.
        Ok(read.unwrap_or_default())
    }
}

/// An RFC 3339 date of seconds since the epoch, as `pages.jsonl` and `datapackage.json` want.
fn rfc3339(seconds: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    date.format(&format).unwrap_or_default()
}

/// A page's `id`: stable for one capture of one URL, as py-wacz makes them unique.
fn page_id(url: &str, ts: &str) -> String {
    let digest = Sha256::digest(format!("{ts} {url}").as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies every selected record into `path`, each its own gzip member, in the order of the
/// collection's files.
/// Returns the records that could not be read (damaged, or their file gone), each with why:
/// the package holds everything else.
fn write_warc(
    collection: &Collection,
    selection: &Selection,
    path: &Path,
) -> Result<Vec<String>, WaczError> {
    let file = File::create_new(path).map_err(io_err(path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut encoder = RecordEncoder::new(Compression::Gzip).map_err(io_err(path))?;
    let mut record = Vec::new();
    let mut skipped = Vec::new();
    for ((_, offset), capture) in &selection.captures {
        // The collection's own file, or a sparse copy of the record from its bucket.
        let source = collection.record_file(capture)?;
        record.clear();
        if let Err(e) = copy_record(&source, *offset, &mut record) {
            skipped.push(format!("{} ({}): {e}", capture.url, source.display()));
            continue;
        }
        let body = BodyIn::memory(&record, b"", 0);
        let packed = is_packed(capture.mime.as_deref(), None);
        encoder
            .encode(&mut out, b"", body, b"", packed)
            .map_err(io_err(path))?;
    }
    let file = out.into_inner().map_err(|e| io_err(path)(e.into_error()))?;
    file.sync_all().map_err(io_err(path))?;
    Ok(skipped)
}

/// The package WARC's index as `index.cdx.gz` (sorted lines, a gzip member per block) and
/// the `index.idx` summary of where each block starts.
fn compressed_index(warc: &Path) -> Result<(Vec<u8>, String), WaczError> {
    let indexed = index_file(warc);
    if let Some(damage) = indexed.damage.into_iter().next() {
        return Err(WaczError::Read {
            path: warc.to_path_buf(),
            source: damage,
        });
    }
    let mut lines: Vec<String> = indexed.captures.iter().map(Capture::to_line).collect();
    lines.sort_unstable();
    let mut cdx = Vec::new();
    let mut idx =
        String::from("!meta 0 {\"format\": \"cdxj-gzip-1.0\", \"filename\": \"index.cdx.gz\"}\n");
    for block in lines.chunks(INDEX_BLOCK_LINES) {
        let offset = cdx.len();
        let mut gz = flate2::write::GzEncoder::new(&mut cdx, flate2::Compression::new(6));
        for line in block {
            gz.write_all(line.as_bytes()).map_err(io_err(warc))?;
            gz.write_all(b"\n").map_err(io_err(warc))?;
        }
        gz.finish().map_err(io_err(warc))?;
        // The block's first key and timestamp, as a CDXJ line's first two fields.
        let key: Vec<&str> = block[0].splitn(3, ' ').take(2).collect();
        let at = json!({"offset": offset, "length": cdx.len() - offset});
        idx.push_str(&format!("{} {}\n", key.join(" "), at));
    }
    Ok((cdx, idx))
}

/// `pages.jsonl`: its header line, then a page a line.
fn pages_jsonl(pages: &[PackagePage]) -> String {
    let mut text =
        json!({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}).to_string();
    text.push('\n');
    for page in pages {
        text.push_str(&serde_json::to_string(page).unwrap_or_default());
        text.push('\n');
    }
    text
}

/// What the zip is made of.
struct Package<'a> {
    warc: &'a Path,
    cdx: Vec<u8>,
    idx: String,
    pages: String,
    title: &'a str,
    main: Option<&'a PackagePage>,
}

/// One file of the package as `datapackage.json` lists it.
#[derive(Serialize)]
struct Resource {
    name: String,
    path: String,
    hash: String,
    bytes: u64,
}

impl Resource {
    fn of(path: &str, hash: [u8; 32], bytes: u64) -> Resource {
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        Resource {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            path: path.to_string(),
            hash: format!("sha256:{hex}"),
            bytes,
        }
    }
}

/// Writes the zip in `staging`, then gives it its name (never over a file that has it).
/// Returns its size.
fn write_package(package: &Package<'_>, staging: &Path, out: &Path) -> Result<u64, WaczError> {
    let zip_path = staging.join("package.wacz");
    let zip_err = |source| WaczError::Zip {
        path: out.to_path_buf(),
        source,
    };
    let file = File::create_new(&zip_path).map_err(io_err(&zip_path))?;
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let mut resources = Vec::new();
    let warc_len = std::fs::metadata(package.warc)
        .map_err(io_err(package.warc))?
        .len();
    let mut warc = File::open(package.warc).map_err(io_err(package.warc))?;
    let path = format!("archive/{WARC_NAME}");
    resources.push(add(&mut zip, &path, &mut warc, warc_len, true).map_err(zip_err)?);
    let cdx = &package.cdx;
    let path = "indexes/index.cdx.gz";
    resources.push(add(&mut zip, path, &mut &cdx[..], cdx.len() as u64, true).map_err(zip_err)?);
    for (path, text) in [
        ("indexes/index.idx", package.idx.as_bytes()),
        ("pages/pages.jsonl", package.pages.as_bytes()),
    ] {
        resources
            .push(add(&mut zip, path, &mut &text[..], text.len() as u64, false).map_err(zip_err)?);
    }
    let manifest = datapackage(package, resources);
    let digest = Resource::of("datapackage.json", Sha256::digest(&manifest).into(), 0);
    let digest = json!({"path": "datapackage.json", "hash": digest.hash}).to_string();
    for (path, text) in [
        ("datapackage.json", &manifest[..]),
        ("datapackage-digest.json", digest.as_bytes()),
    ] {
        add(&mut zip, path, &mut &text[..], text.len() as u64, false).map_err(zip_err)?;
    }
    let file = zip.finish().map_err(zip_err)?;
    let file = file
        .into_inner()
        .map_err(|e| io_err(&zip_path)(e.into_error()))?;
    file.sync_all().map_err(io_err(&zip_path))?;
    let size = file.metadata().map_err(io_err(&zip_path))?.len();
    match std::fs::hard_link(&zip_path, out) {
        Ok(()) => Ok(size),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(WaczError::Exists(out.to_path_buf()))
        }
        Err(e) => Err(io_err(out)(e)),
    }
}

/// Adds one file to the zip, stored as it is (`stored`: WARCs and gzip indexes, which a
/// reader must reach by ranges) or deflated, and returns its listing.
fn add<W: Write + io::Seek>(
    zip: &mut zip::ZipWriter<W>,
    path: &str,
    content: &mut dyn Read,
    len: u64,
    stored: bool,
) -> zip::result::ZipResult<Resource> {
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(len >= u32::MAX as u64);
    zip.start_file(path, options)?;
    let mut hashing = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = content.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hashing.update(&buffer[..n]);
        zip.write_all(&buffer[..n])?;
        bytes += n as u64;
    }
    Ok(Resource::of(path, hashing.finalize().into(), bytes))
}

/// `datapackage.json`: the profile and version, what made it and when, the main page of a
/// package of one target, and every file with its digest and size.
fn datapackage(package: &Package<'_>, resources: Vec<Resource>) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut manifest = json!({
        "profile": "data-package",
        "wacz_version": "1.1.1",
        "title": package.title,
        "created": rfc3339(now),
        "modified": rfc3339(now),
        "software": format!("cairn {}", env!("CARGO_PKG_VERSION")),
        "resources": resources,
    });
    if let Some(main) = package.main {
        manifest["mainPageUrl"] = json!(main.url);
        manifest["mainPageDate"] = json!(main.ts);
    }
    serde_json::to_vec_pretty(&manifest).unwrap_or_default()
}
