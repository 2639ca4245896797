//! The offline copy: `archives/COLL/offline/HOST/PATH` materialized from the WARCs (the latest
//! capture of each URL), every reference to an archived resource rewritten to a relative path,
//! so pages open from `file://` with the network unplugged; and the rewrite of archived posts
//! to point into it ([`post`]). Where each URL lands is [`paths`]; what a payload becomes is
//! the rewrite dispatch replay uses too ([`crate::rewrite::rewrite_document`]).

pub mod paths;
pub mod post;
mod state;
pub mod wacz;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use url::Url;

use crate::collection::{Collection, CollectionError, replace_unsynced_file};
use crate::content::{ContentKind, decoding_reader};
use crate::index::{Capture, Index};
use crate::post::PostError;
use crate::rewrite::{HtmlOptions, RewriteError, rewrite_payload};
use crate::warc::ReadError;

pub use paths::{offline_path, relative_reference};
pub use post::{PostRewrite, rewrite_post};
use state::{Made, OfflineState};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: ReadError },
    #[error(transparent)]
    Collection(#[from] CollectionError),
    #[error("{}: {source}", path.display())]
    Rewrite { path: PathBuf, source: RewriteError },
    #[error("{}: rewritten, its front matter would not parse ({source}); left as it was", path.display())]
    FrontMatter { path: PathBuf, source: PostError },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Default, Serialize)]
pub struct ExportReport {
    pub out_dir: PathBuf,
    /// The files of the copy, and of them the pages.
    pub files: usize,
    pub pages: usize,
    /// The files written this time; the others were as the copy had them.
    pub written: usize,
    /// References left pointing at the live web because nothing was archived for them.
    pub unresolved: Vec<String>,
    /// Lines of the index that are no CDXJ captures, left out.
    pub unreadable_index_lines: usize,
    /// Captures that could not be written, each with why: the rest of the copy is whole.
    pub skipped: Vec<Skipped>,
}

/// A capture the offline copy lacks, and why.
#[derive(Debug, Serialize)]
pub struct Skipped {
    pub url: String,
    pub error: String,
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
        // Copied only to drop a fragment: the rewriter asks for every reference of every page
        // (86,815 in the crawl benchmark's copy), and most have none.
        let unfragmented;
        let mut url = match url.fragment() {
            None => url,
            Some(_) => {
                let mut copy = url.clone();
                copy.set_fragment(None);
                unfragmented = copy;
                &unfragmented
            }
        };
        for _ in 0..10 {
            if let Some(path) = self.files.get(url.as_str()) {
                return Some(path);
            }
            url = self.redirects.get(url.as_str())?;
        }
        None
    }
}

/// One capture the offline copy holds: its URL, where its file goes, and its media type (a
/// revisit's is its original's).
struct Planned {
    capture: Capture,
    /// The digest of the payload the file is made from (a revisit's is its original's).
    digest: String,
    url: Url,
    relative: PathBuf,
    mime: String,
}

impl Planned {
    /// The file as the state records it, before it is written.
    fn made(&self) -> Made {
        Made {
            url: self.url.to_string(),
            path: self.relative.clone(),
            from: format!("{} {}", self.digest, self.mime),
            unresolved: Vec::new(),
            sprites: Vec::new(),
            location: None,
        }
    }
}

/// Materializes the collection's offline copy in `out_dir` from its index and WARCs, every
/// file written.
pub fn export(
    collection: &Collection,
    index: &Index,
    out_dir: &Path,
) -> Result<(OfflineMap, ExportReport), ExportError> {
    write_copy(collection, index, out_dir, None)
}

/// Brings the offline copy in `out_dir` up to date after a crawl: only the files whose
/// capture changed, or whose rewrite would now differ, are written ([`state`]); a copy cairn
/// has no record of is written whole.
pub fn update(
    collection: &Collection,
    index: &Index,
    out_dir: &Path,
) -> Result<(OfflineMap, ExportReport), ExportError> {
    let old = OfflineState::read(out_dir);
    let written = write_copy(collection, index, out_dir, old.as_ref());
    drop_aside(old);
    written
}

/// Writes the files of the copy that `old` (the copy as last written) says are out of date,
/// or all of them, on every core; then the new state.
fn write_copy(
    collection: &Collection,
    index: &Index,
    out_dir: &Path,
    old: Option<&OfflineState>,
) -> Result<(OfflineMap, ExportReport), ExportError> {
    let (map, planned, redirects) = plan(collection, index, out_dir, old)?;
    let made: Vec<Made> = planned.iter().map(Planned::made).chain(redirects).collect();
    let to_write = old.and_then(|old| state::to_write(old, &made, out_dir));
    let sprites = Sprites::new(collection, index, &map, &planned);
    let written: Vec<Option<Result<Written, ExportError>>> = planned
        .par_iter()
        .map(|file| {
            let due = to_write
                .as_ref()
                .is_none_or(|urls| urls.contains(file.url.as_str()));
            due.then(|| write_file(collection, index, &map, &sprites, file, out_dir))
        })
        .collect();

    let mut report = ExportReport {
        out_dir: out_dir.to_path_buf(),
        unreadable_index_lines: index.unreadable_lines(),
        ..ExportReport::default()
    };
    let state = new_state(made, written, old, &mut report)?;
    report.unresolved = distinct_unresolved(&state);
    fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    replace_unsynced_file(&out_dir.join(state::STATE_FILE), |out| state.write(out))?;
    drop(sprites);
    drop_aside((planned, state, to_write));
    Ok((map, report))
}

/// The copy's state after writing: each file as written now, or as `old` had it where it was
/// not due; what was written or skipped goes into `report`. A full disk ends it.
fn new_state(
    made: Vec<Made>,
    written: Vec<Option<Result<Written, ExportError>>>,
    old: Option<&OfflineState>,
    report: &mut ExportReport,
) -> Result<OfflineState, ExportError> {
    let mut state = OfflineState {
        files: HashMap::with_capacity(made.len()),
    };
    for (mut entry, outcome) in made.into_iter().zip(
        written
            .into_iter()
            .map(Some)
            .chain(std::iter::repeat_with(|| None)),
    ) {
        match outcome.flatten() {
            Some(Ok(file)) => {
                report.written += 1;
                entry.unresolved = file.unresolved;
                entry.sprites = file.sprites;
            }
            // A full disk fails every file after it: the export stops there.
            Some(Err(e)) if is_disk_full(&e) => return Err(e),
            // One capture that cannot be written (damaged, or its path taken by a folder an
            // older copy left) costs that file only, and is tried again next time.
            Some(Err(e)) => {
                report.skipped.push(Skipped {
                    url: entry.url.clone(),
                    error: e.to_string(),
                });
                continue;
            }
            // A redirect: no file to write.
            None if entry.location.is_some() => {}
            // Unchanged: as the copy had it.
            None => match old.and_then(|old| old.files.get(&entry.url)) {
                Some(before) => entry = before.clone(),
                None => continue,
            },
        }
        if entry.location.is_none() {
            report.files += 1;
            let mime = entry.from.split_once(' ').map(|(_, mime)| mime);
            if ContentKind::declared(mime) == Some(ContentKind::Html) {
                report.pages += 1;
            }
        }
        state.files.insert(entry.url.clone(), entry);
    }
    Ok(state)
}

/// Every file's references to what was not archived, each once, sorted. The same few repeat
/// on every page (a site's tag links, its other sections): the crawl benchmark's copy holds
/// 48,006 of them, 41 distinct, and sorting them all before dropping the repeats took 14 ms
/// while the other core waited.
fn distinct_unresolved(state: &OfflineState) -> Vec<String> {
    let distinct: HashSet<&str> = state
        .files
        .values()
        .flat_map(|m| m.unresolved.iter().map(String::as_str))
        .collect();
    let mut distinct: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    distinct.sort_unstable();
    distinct
}

/// Frees `value` on a pool thread, beside what follows: the plan and the state of a copy hold
/// tens of thousands of small allocations, and freeing them took 35-43 ms of the crawl
/// benchmark's archive on the thread the rest waited for.
fn drop_aside<T: Send + 'static>(value: T) {
    rayon::spawn(move || drop(value));
}

/// What writing one file left behind for the state: its references to what was not archived
/// and the sprites it took in.
struct Written {
    unresolved: Vec<String>,
    sprites: Vec<PathBuf>,
}

fn write_file(
    collection: &Collection,
    index: &Index,
    map: &OfflineMap,
    sprites: &Sprites<'_>,
    file: &Planned,
    out_dir: &Path,
) -> Result<Written, ExportError> {
    let from_dir = file.relative.parent().unwrap_or(Path::new(""));
    let to_local = |url: &Url| {
        map.file_for(url)
            .map(|target| relative_reference(from_dir, target))
    };
    let used = std::cell::RefCell::new(Vec::new());
    let sprite = |url: &Url| {
        let svg = sprites.get(url)?;
        used.borrow_mut()
            .extend(map.file_for(url).map(Path::to_path_buf));
        Some(svg)
    };
    let options = HtmlOptions {
        base: file.url.clone(),
        map: &to_local,
        keep_original: false,
        promote_lazy: true,
        banner: None,
        client: None,
        fence: true,
        sprites: Some(&sprite),
    };
    let target = out_dir.join(&file.relative);
    let left = export_capture(collection, index, &file.capture, &target, &options)?;
    let mut unresolved: Vec<String> = left.into_iter().map(String::from).collect();
    unresolved.sort();
    unresolved.dedup();
    let mut sprites = used.into_inner();
    sprites.sort();
    sprites.dedup();
    Ok(Written {
        unresolved,
        sprites,
    })
}

fn is_disk_full(error: &ExportError) -> bool {
    matches!(error, ExportError::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull)
}

/// Which file each latest capture becomes, and where archived redirects lead (each redirect
/// as the state records it). A redirect the copy already had, from the same capture, keeps
/// the target `old` records; only new ones are read.
fn plan(
    collection: &Collection,
    index: &Index,
    out_dir: &Path,
    old: Option<&OfflineState>,
) -> Result<(OfflineMap, Vec<Planned>, Vec<Made>), ExportError> {
    // Each capture is placed apart from the others, on every core: this stood between a crawl
    // and its offline copy's writing, one capture after another. The first failure in URL
    // order is the one reported, whichever thread met it first.
    let placed: Vec<Result<_, _>> = index
        .latest_per_url()
        .into_par_iter()
        .map(|capture| place(collection, index, old, capture))
        .collect();
    let placed = placed.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut map = OfflineMap::new(out_dir);
    let mut planned = Vec::new();
    let mut redirects = Vec::new();
    for placed in placed.into_iter().flatten() {
        match placed {
            Placed::File(file) => planned.push(file),
            Placed::Redirect { made, from, to } => {
                map.add_redirect(&from, to);
                redirects.push(made);
            }
        }
    }
    name_files_apart(&mut planned);
    for file in &planned {
        map.add_file(&file.url, file.relative.clone());
    }
    Ok((map, planned, redirects))
}

/// Where one latest capture goes in the copy.
enum Placed {
    File(Planned),
    Redirect { made: Made, from: Url, to: Url },
}

/// A capture's file, or its redirect's target; `None` for what the copy cannot show (a
/// revisit whose original the collection lacks, a scheme other than http(s), an error status,
/// a redirect without a target).
fn place(
    collection: &Collection,
    index: &Index,
    old: Option<&OfflineState>,
    capture: Capture,
) -> Result<Option<Placed>, ExportError> {
    let Ok(url) = Url::parse(&capture.url) else {
        return Ok(None);
    };
    let Some(stored) = index.payload_of(&capture) else {
        return Ok(None);
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Ok(None);
    }
    let status = capture.status.unwrap_or(200);
    if (300..400).contains(&status) {
        let from = format!("redirect {} {}", capture.filename, capture.offset);
        let known = old
            .and_then(|old| old.files.get(url.as_str()))
            .filter(|made| made.from == from)
            .and_then(|made| made.location.clone());
        let location = match known {
            Some(location) => Url::parse(&location).ok(),
            None => {
                let (head, _) = collection.read_capture(index, &capture, 0)?;
                head.http_header("location")
                    .and_then(|l| url.join(l.trim()).ok())
            }
        };
        return Ok(location.map(|to| Placed::Redirect {
            made: Made {
                url: url.to_string(),
                path: PathBuf::new(),
                from,
                unresolved: Vec::new(),
                sprites: Vec::new(),
                location: Some(to.to_string()),
            },
            from: url,
            to,
        }));
    }
    if !(200..300).contains(&status) {
        return Ok(None);
    }
    let mime = stored.mime.clone().unwrap_or_default();
    let digest = stored.digest.clone().unwrap_or_default();
    drop(stored);
    let relative = offline_path(&url, &mime);
    Ok(Some(Placed::File(Planned {
        capture,
        digest,
        url,
        relative,
        mime,
    })))
}

/// Gives every file a path of its own. Where one URL's file would be another's folder (a site
/// with both `/x.html` and `/x.html/y`), the folder keeps its name and the file takes a
/// suffix, so every export of the collection lays the files out the same way.
fn name_files_apart(planned: &mut [Planned]) {
    if all_apart(planned) {
        return;
    }
    let mut taken: HashSet<PathBuf> = planned
        .iter()
        .flat_map(|file| file.relative.ancestors().skip(1))
        .filter(|folder| !folder.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .collect();
    for file in planned.iter_mut() {
        file.relative = paths::unique_path(std::mem::take(&mut file.relative), &mut taken);
    }
}

/// Whether every file's path is its own already, no other file's and no folder, as on most
/// sites: checked without copying a path. Naming apart runs on one core between a crawl and
/// its offline copy, and copied every path twice.
fn all_apart(planned: &[Planned]) -> bool {
    let folders: HashSet<&Path> = planned
        .iter()
        .flat_map(|file| file.relative.ancestors().skip(1))
        .collect();
    let mut files = HashSet::with_capacity(planned.len());
    planned
        .iter()
        .all(|file| !folders.contains(file.relative.as_path()) && files.insert(&file.relative))
}

/// Writes one capture's payload to `target` (atomically), pages and stylesheets with their
/// references pointed into the offline tree. The payload streams from the WARC through the
/// rewriter to the file, so memory stays flat whatever its size. Returns the references left
/// pointing at the live web.
fn export_capture(
    collection: &Collection,
    index: &Index,
    capture: &Capture,
    target: &Path,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, ExportError> {
    let written = collection.stream_capture(index, capture, |head, body| {
        write_atomically(target, |out| {
            let content_type = head.content_type();
            let encoding = head.encoding.as_deref();
            rewrite_payload(content_type.as_deref(), encoding, body, out, options)
        })
    })?;
    written.map_err(|failure| match failure {
        Failure::Io(e) => e,
        Failure::Rewrite(RewriteError::Write(source)) => io_err(target)(source),
        Failure::Rewrite(RewriteError::Read(source)) => {
            let stored = index
                .payload_of(capture)
                .unwrap_or(std::borrow::Cow::Borrowed(capture));
            ExportError::Read {
                path: collection.warc_dir().join(&stored.filename),
                source: ReadError::io(stored.offset, source),
            }
        }
        Failure::Rewrite(source) => ExportError::Rewrite {
            path: target.to_path_buf(),
            source,
        },
    })
}

/// The archived SVG documents of the offline copy, read when a page `<use>`s one of their
/// symbols (see [`HtmlOptions::sprites`]), each once.
struct Sprites<'e> {
    collection: &'e Collection,
    index: &'e Index,
    map: &'e OfflineMap,
    by_file: HashMap<&'e Path, &'e Capture>,
    read: std::sync::Mutex<HashMap<&'e Path, Option<std::sync::Arc<str>>>>,
}

/// Sprites larger than this stay files: no real one comes near.
const MAX_SPRITE: u64 = 2 << 20;

impl<'e> Sprites<'e> {
    fn new(
        collection: &'e Collection,
        index: &'e Index,
        map: &'e OfflineMap,
        planned: &'e [Planned],
    ) -> Sprites<'e> {
        let by_file = planned
            .iter()
            .filter(|p| {
                let essence = p.mime.split(';').next().unwrap_or_default().trim();
                essence.eq_ignore_ascii_case("image/svg+xml")
                    || p.relative.extension().is_some_and(|e| e == "svg")
            })
            .map(|p| (p.relative.as_path(), &p.capture))
            .collect();
        Sprites {
            collection,
            index,
            map,
            by_file,
            read: std::sync::Mutex::default(),
        }
    }

    /// The SVG document archived for `url`, decoded; `None` if there is none, or it cannot
    /// be read whole.
    fn get(&self, url: &Url) -> Option<std::sync::Arc<str>> {
        let (&file, &capture) = self.by_file.get_key_value(self.map.file_for(url)?)?;
        let mut read = self
            .read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let text = read.entry(file).or_insert_with(|| {
            let read = self
                .collection
                .stream_capture(self.index, capture, |head, body| {
                    let mut svg = Vec::new();
                    let decoded = decoding_reader(body, head.encoding.as_deref());
                    let whole = io::Read::read_to_end(
                        &mut io::Read::take(decoded, MAX_SPRITE + 1),
                        &mut svg,
                    );
                    whole.ok().filter(|&n| n as u64 <= MAX_SPRITE).map(|_| svg)
                });
            read.ok()
                .flatten()
                .map(|svg| std::sync::Arc::from(String::from_utf8_lossy(&svg)))
        });
        text.clone()
    }
}

/// Why writing an offline file failed: the file itself, or the rewrite of what went into it.
enum Failure {
    Io(ExportError),
    Rewrite(RewriteError),
}

/// Writes `path`: a new file directly (created only if no file has the name, and removed if
/// the write fails), an existing one through a temporary file beside it, renamed over it once
/// whole, so no reader sees it half-written. The temporary file's name is unique (no archived
/// URL's file can have it). Creating the new files directly halves the operations on their
/// folder, which perf showed the writers queuing for (a folder of thousands of images).
fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, RewriteError>,
) -> Result<T, Failure> {
    match create_new(path) {
        Ok(file) => {
            let mut out = io::BufWriter::with_capacity(OUT_BUFFER, file);
            let written = write(&mut out).map_err(Failure::Rewrite).and_then(|value| {
                out.flush()
                    .map_err(|e| Failure::Rewrite(RewriteError::Write(e)))?;
                Ok(value)
            });
            if written.is_err() {
                let _ = fs::remove_file(path);
            }
            written
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => replace_atomically(path, write),
        Err(e) => Err(Failure::Io(io_err(path)(e))),
    }
}

/// The buffer an offline file is written through: most files (images) fit whole, one
/// `write` each, where the default 8 KiB took three for a 20 KB image.
const OUT_BUFFER: usize = 64 << 10;

/// Creates a file that must be new, and its folder if it has none yet: tried first without,
/// since most folders exist already (a `mkdir` that fails still locks the folder it is in).
fn create_new(path: &Path) -> io::Result<fs::File> {
    let create = || fs::File::options().write(true).create_new(true).open(path);
    match create() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            create()
        }
        created => created,
    }
}

fn replace_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, RewriteError>,
) -> Result<T, Failure> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".cairn-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(|e| Failure::Io(io_err(dir)(e)))?;
    let mut out = io::BufWriter::with_capacity(OUT_BUFFER, temp.as_file_mut());
    let value = write(&mut out).map_err(Failure::Rewrite)?;
    out.flush()
        .map_err(|e| Failure::Rewrite(RewriteError::Write(e)))?;
    drop(out);
    temp.persist(path)
        .map_err(|e| Failure::Io(io_err(path)(e.error)))?;
    Ok(value)
}
