//! The archive on disk, and the one module that names its files:
//!
//! ```text
//! archives/                 Archives: the collections and the job database
//!   cairn.sqlite            job state and history
//!   demo-site/_posts/       the demo's mirror, holding the seed post
//!   COLL/                   Collection
//!     warc/                 COLL-YYYYMMDDhhmmss-NNNNN.warc.zst (".open" while written)
//!     index.cdxj            sorted, pywb-compatible CDXJ
//!     index.files           the WARC files the index holds, to update it in place
//!     pages.jsonl           one line per archived page
//!     texts.jsonl           each page payload's article text, by payload digest
//!     zstd-dictionary       what --zstd-dictionary crawls compress with, trained once
//!     offline/HOST/PATH     the static copy that opens from file://
//!     posts/                rewritten copies of archived posts
//!     .spool/               large bodies on their way into a WARC
//!     .lock                 held while the index, pages or offline copy are rewritten
//! ```
//!
//! Collection names are checked once, as a [`CollectionName`]; a [`CollectionLock`] is the
//! proof, asked for by every method that rewrites a shared file, that no other process is
//! rewriting it too. Reading captures back from the WARCs lives in [`captures`]; the zstd
//! dictionary, trained from the collection's own text records, in [`dictionary`].

pub mod captures;
pub mod dictionary;
mod import;
mod indexed;

pub use import::ImportError;

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::index::{FileIndex, Index, WrittenIndex, index_lines};
use crate::store::{Store, StoreError};
use crate::warc::writer::{OPEN_SUFFIX, is_being_written};
use crate::warc::{Compression, WriterConfig, is_archive_name};
use indexed::IndexedFiles;

const JOB_DATABASE: &str = "cairn.sqlite";
const DEMO_POSTS: &str = "demo-site/_posts";
const WARC_DIR: &str = "warc";
const INDEX: &str = "index.cdxj";
const INDEXED: &str = "index.files";
const PAGES: &str = "pages.jsonl";
const TEXTS: &str = "texts.jsonl";
const OFFLINE_DIR: &str = "offline";
const POSTS_DIR: &str = "posts";
const SPOOL_DIR: &str = ".spool";
const LOCK: &str = ".lock";
/// Sparse copies of the bucket's files, holding the records read from them.
const STORE_CACHE: &str = "store-cache";

#[derive(Debug, thiserror::Error)]
pub enum CollectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:?} is not a collection name: use letters, digits, '-', '_' and '.'")]
    BadName(String),
    #[error(
        "no collection {name:?} in {} (archive something first, or pass --archives/-c)",
        archives.display()
    )]
    Missing { name: String, archives: PathBuf },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("the index names {0:?}, which is not a file of the collection's WARC folder")]
    OutsideFile(String),
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: crate::warc::ReadError,
    },
    #[error("{url}: a revisit whose original payload is not in this collection")]
    NoPayload { url: String },
    #[error(
        "{}: {source} (move it away for the next crawl to train a new one: each WARC file \
         written with it keeps its own copy)",
        path.display()
    )]
    Dictionary {
        path: PathBuf,
        source: crate::warc::dictionary::DictionaryError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CollectionError + '_ {
    move |source| CollectionError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A collection name, checked: it becomes a folder and a file-name prefix, so it keeps to
/// letters, digits, `-`, `_` and `.`, and cannot name another folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CollectionName(String);

impl CollectionName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CollectionName {
    type Err = CollectionError;
    fn from_str(name: &str) -> Result<CollectionName, CollectionError> {
        let ok = !name.is_empty()
            && name.len() <= 100
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(CollectionName(name.to_string()))
        } else {
            Err(CollectionError::BadName(name.to_string()))
        }
    }
}

impl TryFrom<String> for CollectionName {
    type Error = CollectionError;
    fn try_from(name: String) -> Result<CollectionName, CollectionError> {
        name.parse()
    }
}

impl From<CollectionName> for String {
    fn from(name: CollectionName) -> String {
        name.0
    }
}

impl fmt::Display for CollectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The folder holding the collections (`--archives`, `./archives` by default).
#[derive(Debug, Clone)]
pub struct Archives {
    root: PathBuf,
    /// A bucket the collections' files were uploaded to (`--store`): records of files that
    /// are not here are read from it.
    store: Option<Arc<Store>>,
}

impl Archives {
    pub fn new(root: impl Into<PathBuf>) -> Archives {
        Archives {
            root: root.into(),
            store: None,
        }
    }

    /// The same folder, its collections reading from `store` the records of files they do
    /// not hold.
    pub fn with_store(self, store: Option<Arc<Store>>) -> Archives {
        Archives { store, ..self }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The collection's place, whether or not anything was archived there yet.
    pub fn collection(&self, name: &CollectionName) -> Collection {
        Collection {
            name: name.clone(),
            dir: self.root.join(name.as_str()),
            store: self.store.clone(),
        }
    }

    /// A collection that must exist already.
    pub fn open(&self, name: &CollectionName) -> Result<Collection, CollectionError> {
        let collection = self.collection(name);
        if !collection.dir.is_dir() {
            return Err(CollectionError::Missing {
                name: name.to_string(),
                archives: self.root.clone(),
            });
        }
        Ok(collection)
    }

    /// A collection, made with its WARC and spool folders if it is new.
    pub fn create(&self, name: &CollectionName) -> Result<Collection, CollectionError> {
        let collection = self.collection(name);
        collection.create_dirs()?;
        Ok(collection)
    }

    /// The collections with an index, by name.
    pub fn collections(&self) -> Vec<CollectionName> {
        self.collections_where(|c| c.has_index())
    }

    /// Every collection with a WARC folder, indexed or not: files dropped into one await
    /// their index.
    pub fn collections_with_warcs(&self) -> Vec<CollectionName> {
        self.collections_where(|c| c.warc_dir().is_dir())
    }

    fn collections_where(&self, keep: impl Fn(&Collection) -> bool) -> Vec<CollectionName> {
        let mut names: Vec<CollectionName> = fs::read_dir(&self.root)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .filter(|name| keep(&self.collection(name)))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// `archives/cairn.sqlite`, the job state; the folder is made if need be.
    pub fn job_database(&self) -> Result<PathBuf, CollectionError> {
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        Ok(self.root.join(JOB_DATABASE))
    }

    /// Where `cairn demo` writes the seed post, as a Jekyll site's `_posts` would hold it.
    pub fn demo_posts(&self) -> PathBuf {
        self.root.join(DEMO_POSTS)
    }
}

/// One archived page, as `pages.jsonl` lists it (the WACZ `pages.jsonl` fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEntry {
    pub url: String,
    /// The capture's `WARC-Date`.
    pub ts: String,
    pub title: Option<String>,
    pub status: u16,
}

/// What rebuilding an index found.
#[derive(Debug, Default, Serialize)]
pub struct IndexStats {
    pub warc_files: usize,
    pub captures: usize,
    /// Files with damage or with capture records the index cannot hold; the index holds
    /// everything else.
    pub problems: Vec<FileProblems>,
}

/// What one WARC file could not give the index.
#[derive(Debug, Serialize)]
pub struct FileProblems {
    pub path: PathBuf,
    /// Damage, with its offset: reading resumed at the next whole record, if any.
    pub damage: Vec<(u64, String)>,
    /// Capture records left out, by why, with the offset of the first.
    pub unindexed: Vec<Unindexed>,
}

#[derive(Debug, Serialize)]
pub struct Unindexed {
    pub why: String,
    pub records: usize,
    pub first_offset: u64,
}

impl IndexStats {
    /// Whether every record of every file is in the index (or is no capture).
    pub fn complete(&self) -> bool {
        self.problems.is_empty()
    }
}

impl FileProblems {
    fn unfinished(path: PathBuf) -> FileProblems {
        let message = "an unfinished WARC file no writer holds, not indexed (`cairn verify \
                       --repair` mends it)";
        FileProblems {
            path,
            damage: vec![(0, message.to_string())],
            unindexed: Vec::new(),
        }
    }

    fn new(path: PathBuf, file: FileIndex) -> FileProblems {
        let damage = file
            .damage
            .iter()
            .map(|e| (e.offset().unwrap_or(0), e.detail()))
            .collect();
        let mut unindexed: Vec<Unindexed> = Vec::new();
        let mut by_reason = std::collections::BTreeMap::new();
        for (offset, why) in file.unindexed {
            by_reason.entry(why).or_insert((0, offset)).0 += 1;
        }
        for (why, (records, first_offset)) in by_reason {
            unindexed.push(Unindexed {
                why: why.to_string(),
                records,
                first_offset,
            });
        }
        FileProblems {
            path,
            damage,
            unindexed,
        }
    }
}

/// One collection: `archives/COLL`.
#[derive(Debug, Clone)]
pub struct Collection {
    name: CollectionName,
    dir: PathBuf,
    store: Option<Arc<Store>>,
}

/// The collection's lock, held until dropped (an advisory lock on `.lock`, which the
/// operating system releases when its holder ends, however it ends).
#[derive(Debug)]
pub struct CollectionLock {
    _file: File,
}

impl Collection {
    pub fn name(&self) -> &CollectionName {
        &self.name
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn warc_dir(&self) -> PathBuf {
        self.dir.join(WARC_DIR)
    }

    /// Where bodies too large for memory wait on their way into a WARC.
    pub fn spool_dir(&self) -> PathBuf {
        self.dir.join(SPOOL_DIR)
    }

    /// The offline copy's root: `offline/HOST/PATH`.
    pub fn offline_dir(&self) -> PathBuf {
        self.dir.join(OFFLINE_DIR)
    }

    /// Where rewritten copies of archived posts go.
    pub fn posts_dir(&self) -> PathBuf {
        self.dir.join(POSTS_DIR)
    }

    pub fn index_path(&self) -> PathBuf {
        self.dir.join(INDEX)
    }

    /// Makes the WARC and spool folders, if they are not there yet.
    pub fn create_dirs(&self) -> Result<(), CollectionError> {
        for dir in [self.warc_dir(), self.spool_dir()] {
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        Ok(())
    }

    /// Where a rewritten post points into the offline copy by default: the site-absolute
    /// path it has when `archives/` sits at the root of the Jekyll site.
    pub fn default_link_base(&self) -> String {
        format!("/archives/{}/{OFFLINE_DIR}", self.name)
    }

    /// The writer's settings for this collection's WARC folder and file-name prefix.
    pub fn writer_config(&self, compression: Compression) -> WriterConfig {
        WriterConfig::new(self.warc_dir(), self.name.as_str(), compression)
    }

    /// Waits for, then takes, the collection's lock.
    pub fn lock(&self) -> Result<CollectionLock, CollectionError> {
        let (file, path) = self.lock_file()?;
        file.lock().map_err(io_err(&path))?;
        Ok(CollectionLock { _file: file })
    }

    /// The collection's lock if no other process holds it now; `None` if one does.
    pub fn try_lock(&self) -> Result<Option<CollectionLock>, CollectionError> {
        let (file, path) = self.lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(CollectionLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
        }
    }

    fn lock_file(&self) -> Result<(File, PathBuf), CollectionError> {
        fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let path = self.dir.join(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok((file, path))
    }

    /// The closed WARC files (not `.open` ones), by name.
    pub fn warc_files(&self) -> Result<Vec<PathBuf>, CollectionError> {
        self.warc_files_where(|name| !name.ends_with(OPEN_SUFFIX))
    }

    /// The WARC files still being written, or left unfinished by a writer that was killed.
    pub fn unfinished_warc_files(&self) -> Result<Vec<PathBuf>, CollectionError> {
        self.warc_files_where(|name| name.ends_with(OPEN_SUFFIX))
    }

    fn warc_files_where(
        &self,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<PathBuf>, CollectionError> {
        let dir = self.warc_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(io_err(&dir))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_some_and(|n| is_archive_name(&n) && keep(&n)) {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// The local file a capture's record is read from: the collection's own, or for a file
    /// only in its bucket, a sparse copy holding the record (see [`Store::record_file`]).
    pub fn record_file(&self, capture: &crate::index::Capture) -> Result<PathBuf, CollectionError> {
        let local = self.warc_file(&capture.filename)?;
        match &self.store {
            Some(store) if !local.exists() => Ok(store.record_file(
                self.name.as_str(),
                &capture.filename,
                capture.offset,
                capture.length,
                &self.dir.join(STORE_CACHE),
            )?),
            _ => Ok(local),
        }
    }

    /// A WARC file the index names: a plain name inside the WARC folder, nothing else.
    pub fn warc_file(&self, filename: &str) -> Result<PathBuf, CollectionError> {
        let mut components = Path::new(filename).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => Ok(self.warc_dir().join(filename)),
            _ => Err(CollectionError::OutsideFile(filename.to_string())),
        }
    }

    pub fn has_index(&self) -> bool {
        self.index_path().is_file()
    }

    /// When the index was last rewritten, to tell whether one read before is still current.
    pub fn index_modified(&self) -> Option<SystemTime> {
        fs::metadata(self.index_path()).ok()?.modified().ok()
    }

    /// The index, mapped (see [`Index::open`]); empty if none was built yet.
    pub fn index(&self) -> Result<Index, CollectionError> {
        let path = self.index_path();
        match Index::open(&path) {
            Ok(index) => Ok(index),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Rebuilds `index.cdxj` from the closed WARC files, replacing the old one whole: written
    /// under a name of this process's own, synced, then renamed over it.
    ///
    /// A damaged file does not stop the rest: the index holds every record that reads, and
    /// the stats say what was left out.
    pub fn rebuild_index(&self, lock: &CollectionLock) -> Result<IndexStats, CollectionError> {
        self.rebuild_index_with(lock, &WrittenIndex::default())
    }

    /// As [`Collection::rebuild_index`], taking the lines of the files in `written` from there.
    fn rebuild_index_with(
        &self,
        lock: &CollectionLock,
        written: &WrittenIndex,
    ) -> Result<IndexStats, CollectionError> {
        self.rebuild_index_adding(lock, written, 0, Vec::new())
    }

    /// Rebuilds the index from the WARC files here (the lines of files in `written` taken
    /// from there) and `remote_lines`, the lines of `remote_files` files held elsewhere.
    fn rebuild_index_adding(
        &self,
        lock: &CollectionLock,
        written: &WrittenIndex,
        remote_files: usize,
        remote_lines: Vec<String>,
    ) -> Result<IndexStats, CollectionError> {
        let files = self.warc_files()?;
        let held = IndexedFiles::of(&files).map_err(io_err(&self.warc_dir()))?;
        let mut run = index_lines(&files, written);
        if !remote_lines.is_empty() {
            run.lines.extend(remote_lines);
            run.lines.sort_unstable();
        }
        self.replace_index(lock, &held, |out| {
            run.lines
                .iter()
                .try_for_each(|line| writeln!(out, "{line}"))
        })?;
        self.index_stats(files.len() + remote_files, run.lines.len(), run.problems)
    }

    /// Rebuilds `index.cdxj` from the closed WARC files here and the index segments of the
    /// files in the collection's bucket that are not here (what other workers uploaded):
    /// their records are read from the bucket. Files held here are indexed from themselves.
    pub fn rebuild_index_with_store(
        &self,
        lock: &CollectionLock,
    ) -> Result<IndexStats, CollectionError> {
        let Some(store) = &self.store else {
            return self.rebuild_index(lock);
        };
        let (mut remote_files, mut remote_lines) = (0, Vec::new());
        for (file, text) in store.segments(self.name.as_str())? {
            if !self.warc_dir().join(&file).exists() {
                remote_lines.extend(text.lines().map(str::to_string));
                remote_files += 1;
            }
        }
        self.rebuild_index_adding(lock, &WrittenIndex::default(), remote_files, remote_lines)
    }

    /// Indexes what was added to the WARC folder since the index was written (a WACZ package
    /// or a WARC file dropped in), merging it in as a crawl's files are; a file changed or gone
    /// rebuilds the index. `Ok(None)` when the index is current already, and when another
    /// process holds the collection (its own index step comes after).
    pub fn index_added_files(&self) -> Result<Option<IndexStats>, CollectionError> {
        let files = self.warc_files()?;
        let current = self.has_index()
            && IndexedFiles::read(&self.dir.join(INDEXED))
                .and_then(|held| held.missing_from(&files).map(|m| m.is_empty()))
                .unwrap_or(false);
        if current || files.is_empty() {
            return Ok(None);
        }
        let Ok(lock) = self.lock() else {
            return Ok(None);
        };
        self.update_index(&lock, &WrittenIndex::default()).map(Some)
    }

    /// Brings the index up to date with the closed WARC files: the ones it lacks (a crawl's
    /// new files) are read and their captures merged into it, in one pass over the index;
    /// the collection's other WARCs are not read again. Where the index does not hold exactly
    /// the other files as they are now, it is rebuilt whole ([`Collection::rebuild_index`]).
    /// The stats count the whole index; problems are those of the files read.
    ///
    /// The lines of files in `written` (a crawl's, made as its writer wrote them) are taken
    /// from there rather than read back.
    pub fn update_index(
        &self,
        lock: &CollectionLock,
        written: &WrittenIndex,
    ) -> Result<IndexStats, CollectionError> {
        let files = self.warc_files()?;
        let missing = IndexedFiles::read(&self.dir.join(INDEXED))
            .filter(|_| self.has_index())
            .and_then(|held| held.missing_from(&files));
        let Some(missing) = missing else {
            return self.rebuild_index_with(lock, written);
        };
        let missing: Vec<PathBuf> = missing.into_iter().cloned().collect();
        let held = IndexedFiles::of(&files).map_err(io_err(&self.warc_dir()))?;
        let run = index_lines(&missing, written);
        let old = self.index_path();
        let mut captures = 0;
        self.replace_index(lock, &held, |out| {
            captures = indexed::merge_sorted(&old, &run.lines, out)?;
            Ok(())
        })?;
        self.index_stats(files.len(), captures, run.problems)
    }

    /// Replaces `index.cdxj`, and `index.files` with `held`, the files it now holds. The old
    /// `index.files` goes first: a crash between the two leaves none, and the next update
    /// rebuilds rather than trusting a list that does not match the index.
    fn replace_index(
        &self,
        _lock: &CollectionLock,
        held: &IndexedFiles,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), CollectionError> {
        let state = self.dir.join(INDEXED);
        match fs::remove_file(&state) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&state)(e)),
            _ => {}
        }
        replace_file(&self.index_path(), write)?;
        replace_file(&state, |out| held.write(out))
    }

    fn index_stats(
        &self,
        warc_files: usize,
        captures: usize,
        problems: Vec<(PathBuf, FileIndex)>,
    ) -> Result<IndexStats, CollectionError> {
        let abandoned = self.abandoned_warc_files()?;
        Ok(IndexStats {
            warc_files,
            captures,
            problems: problems
                .into_iter()
                .map(|(path, file)| FileProblems::new(path, file))
                .chain(abandoned.into_iter().map(FileProblems::unfinished))
                .collect(),
        })
    }

    /// Unfinished (`.open`) files no writer holds any more: a writer killed before it closed
    /// them, or a repair that left them as they were. An empty one is passed over: a writer
    /// creates its file and then locks it, and an index run in between found a file of its
    /// crawl unheld (CI, indexers beside an archive); an empty file holds nothing to lose.
    fn abandoned_warc_files(&self) -> Result<Vec<PathBuf>, CollectionError> {
        let mut files = self.unfinished_warc_files()?;
        files.retain(|path| {
            !is_being_written(path) && fs::metadata(path).is_ok_and(|m| m.len() > 0)
        });
        Ok(files)
    }

    /// Appends one line per page to `pages.jsonl`.
    pub fn append_pages(
        &self,
        _lock: &CollectionLock,
        pages: &[PageEntry],
    ) -> Result<(), CollectionError> {
        if pages.is_empty() {
            return Ok(());
        }
        let mut lines = String::new();
        for page in pages {
            lines.push_str(&serde_json::to_string(page).expect("a page serializes"));
            lines.push('\n');
        }
        self.append(PAGES, &lines)
    }

    /// Appends lines (each ended by a newline) to `texts.jsonl`, the side index of article
    /// texts ([`crate::article::texts`]).
    pub fn append_texts(&self, _lock: &CollectionLock, lines: &str) -> Result<(), CollectionError> {
        self.append(TEXTS, lines)
    }

    /// Appends whole lines to one of the collection's line files, in one write: a reader
    /// never sees half of what one call appends.
    fn append(&self, name: &str, lines: &str) -> Result<(), CollectionError> {
        if lines.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(name);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        // A line cut short (a full disk, a killed writer) is ended first, so the first line
        // appended now is read whole rather than glued to it.
        let cut = last_byte(&mut file)
            .map_err(io_err(&path))?
            .is_some_and(|b| b != b'\n');
        let start = if cut { "\n" } else { "" };
        file.write_all(format!("{start}{lines}").as_bytes())
            .map_err(io_err(&path))
    }

    /// `texts.jsonl` as written (bytes: a line cut inside a character must not hide the
    /// others); empty when there is none.
    pub fn texts(&self) -> Result<Vec<u8>, CollectionError> {
        let path = self.dir.join(TEXTS);
        match fs::read(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            read => read.map_err(io_err(&path)),
        }
    }

    /// The pages archived, oldest first; lines that do not parse are left out.
    pub fn pages(&self) -> Vec<PageEntry> {
        fs::read_to_string(self.dir.join(PAGES))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// The last byte of a file, `None` for an empty one.
fn last_byte(file: &mut File) -> io::Result<Option<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(None);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut byte = [0];
    file.read_exact(&mut byte)?;
    Ok(Some(byte[0]))
}

/// Writes a sibling temporary file of a name no other process uses, syncs it, and renames it
/// over `target`: readers see the old file or the new one, never a part.
pub fn replace_file(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), CollectionError> {
    replace(target, write, true)
}

/// As [`replace_file`], without the sync, for a ledger of files that are not synced either
/// (the offline copy's state): a crash can lose the files it names as well as itself, so
/// syncing it alone would promise what it cannot keep; a lost or torn ledger is only a full
/// rewrite next time. Its sync was 25 ms of the crawl benchmark's offline copy.
pub fn replace_unsynced_file(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), CollectionError> {
    replace(target, write, false)
}

fn replace(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    sync: bool,
) -> Result<(), CollectionError> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    // The file keeps its permissions (a post others read stays readable); a new one gets the
    // usual 0644 rather than a temporary file's 0600.
    let permissions = fs::metadata(target)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut temp = tempfile::Builder::new()
        .permissions(permissions)
        .tempfile_in(dir)
        .map_err(io_err(target))?;
    let mut out = io::BufWriter::with_capacity(256 << 10, temp.as_file_mut());
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(io_err(target))?;
    drop(out);
    if sync {
        temp.as_file().sync_all().map_err(io_err(target))?;
    }
    temp.persist(target).map_err(|e| io_err(target)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_once_and_files_stay_inside() {
        for bad in ["", ".hidden", "a/b", "..", "a b", &"x".repeat(101)] {
            assert!(bad.parse::<CollectionName>().is_err(), "{bad:?}");
        }
        let name: CollectionName = "cna-2023_v1.0".parse().unwrap();
        let archives = Archives::new("/tmp/archives");
        let collection = archives.collection(&name);
        assert_eq!(
            collection.warc_file("a.warc.zst").unwrap(),
            Path::new("/tmp/archives/cna-2023_v1.0/warc/a.warc.zst")
        );
        for outside in ["../a.warc", "/etc/passwd", "a/b.warc", ""] {
            assert!(collection.warc_file(outside).is_err(), "{outside:?}");
        }
    }

    #[test]
    fn the_index_is_replaced_whole_under_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let archives = Archives::new(dir.path());
        let collection = archives.create(&"c".parse().unwrap()).unwrap();
        let lock = collection.lock().unwrap();
        let stats = collection.rebuild_index(&lock).unwrap();
        assert_eq!((stats.warc_files, stats.captures), (0, 0));
        assert!(collection.has_index());
        collection
            .append_pages(
                &lock,
                &[PageEntry {
                    url: "https://a.example/".into(),
                    ts: "2023-03-22T00:08:00Z".into(),
                    title: None,
                    status: 200,
                }],
            )
            .unwrap();
        assert_eq!(collection.pages().len(), 1);
        assert_eq!(archives.collections(), vec!["c".parse().unwrap()]);
        // Only the index, its list of files and the lock: no temporary file left behind.
        let mut names: Vec<String> = fs::read_dir(collection.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ".lock",
                ".spool",
                "index.cdxj",
                "index.files",
                "pages.jsonl",
                "warc"
            ]
        );
    }
}
