//! The WARC/1.1 writer: records with `sha256:` block and payload digests, each compressed alone
//! (see [`super::codec`]), into files named `PREFIX-YYYYMMDDhhmmss-NNNNN.warc.zst` that carry an
//! `.open` suffix until they are closed, start with a `warcinfo` record (after the dictionary
//! frame, when records are compressed with a zstd dictionary) and roll over at a size limit.
//! Blocks stream from a reader, so a 2 GiB record costs no more memory than a small one.
//!
//! Written by hand rather than with the `warc` crate, which lowercases and reorders header
//! names and has neither per-record compression nor digests (see the design's field notes).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::codec::{BodyIn, Buffer, Compression, RecordEncoder};
use super::dictionary::ZstdDictionary;
use super::digest::{Algorithm, BlockDigester, sha256_label};
use super::error::WriteError;
use super::record::{
    Clock, Header, RecordIds, RecordType, format_warc_date, is_http_content_type, timestamp14_of,
};

/// `.open` is appended to a file's name while it is being written (as gowarc and Heritrix do).
pub const OPEN_SUFFIX: &str = ".open";

/// WARC files roll over once they reach 1 GB, the customary size (WARC/1.1 Annex C).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1_000_000_000;

#[derive(Debug, Clone)]
pub struct WriterConfig {
    pub dir: PathBuf,
    /// The first part of every file name, usually the collection.
    pub prefix: String,
    pub compression: Compression,
    /// A file that has reached this many bytes is closed before the next record.
    pub max_file_size: u64,
    /// Fields of the `warcinfo` record that opens each file (software, operator, crawl
    /// options, ...), in order; `format` and `software` are added when absent.
    pub warcinfo: Vec<(String, String)>,
    /// Dates records and file names that bring none of their own.
    pub clock: Clock,
    /// Names records that bring no ID of their own.
    pub ids: RecordIds,
    /// Compresses every record with this dictionary (zstd only): each file then starts with
    /// the dictionary's frame, and its first record's offset is where that frame ends.
    pub zstd_dictionary: Option<ZstdDictionary>,
}

impl WriterConfig {
    pub fn new(dir: impl Into<PathBuf>, prefix: &str, compression: Compression) -> WriterConfig {
        WriterConfig {
            dir: dir.into(),
            prefix: prefix.to_string(),
            compression,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            warcinfo: Vec::new(),
            clock: Clock::system(),
            ids: RecordIds::random(),
            zstd_dictionary: None,
        }
    }
}

/// A record's block: bytes in memory, in one part or two (a response's HTTP header and the
/// payload after it), or a stream of known length that can be read twice (once to digest,
/// once to write).
pub enum Block<'a> {
    Bytes(&'a [u8]),
    Parts(&'a [u8], &'a [u8]),
    Stream {
        reader: &'a mut dyn ReadSeek,
        len: u64,
    },
}

pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A record to be written. The writer adds the version line, digests and Content-Length.
pub struct NewRecord<'a> {
    pub kind: RecordType,
    /// `None`: the writer names it (see [`WriterConfig::ids`]).
    pub id: Option<String>,
    /// `None`: the writer dates it (see [`WriterConfig::clock`]).
    pub date: Option<OffsetDateTime>,
    pub target_uri: Option<String>,
    pub content_type: Option<String>,
    /// Further fields, in the order given (`WARC-Concurrent-To`, `WARC-IP-Address`,
    /// `WARC-Refers-To-*`, `WARC-Payload-Digest` of a revisit, ...).
    pub fields: Vec<(String, String)>,
    pub block: Block<'a>,
    /// The payload's sha256 when already known (the fetcher hashes bodies as they arrive), so
    /// the writer need not hash it again.
    pub payload_sha256: Option<[u8; 32]>,
    /// The payload is compressed already (see [`crate::content::is_packed`]): the record is
    /// compressed at the fastest setting.
    pub packed: bool,
}

impl<'a> NewRecord<'a> {
    /// A record the writer will date and name, unless [`NewRecord::date`] and [`NewRecord::id`]
    /// say otherwise.
    pub fn new(kind: RecordType, block: Block<'a>) -> NewRecord<'a> {
        NewRecord {
            kind,
            id: None,
            date: None,
            target_uri: None,
            content_type: None,
            fields: Vec::new(),
            block,
            payload_sha256: None,
            packed: false,
        }
    }

    pub fn target(mut self, uri: &str) -> Self {
        self.target_uri = Some(uri.to_string());
        self
    }

    pub fn content_type(mut self, content_type: &str) -> Self {
        self.content_type = Some(content_type.to_string());
        self
    }

    pub fn field(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push((name.to_string(), value.into()));
        self
    }

    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_string());
        self
    }

    pub fn date(mut self, date: OffsetDateTime) -> Self {
        self.date = Some(date);
        self
    }

    /// Whether the block's payload is digested: not for revisits (their payload digest names
    /// the original's) nor for records that carry no payload of their own.
    fn digests_payload(&self) -> bool {
        matches!(
            self.kind,
            RecordType::Response
                | RecordType::Request
                | RecordType::Resource
                | RecordType::Conversion
        ) && !self
            .fields
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("WARC-Payload-Digest"))
    }

    fn is_http(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(is_http_content_type)
    }
}

/// Where a record landed, for the index and for revisits that will refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file's final name (without `.open`).
    pub filename: String,
    pub offset: u64,
    /// Compressed, the whole member or frame; uncompressed, up to the end of the block.
    pub length: u64,
    pub record_id: String,
    pub block_digest: String,
    pub payload_digest: Option<String>,
    /// The record's header as written, and its length, for the index to take without
    /// reading it back.
    pub header: Header,
    pub header_len: usize,
}

struct OpenWarc {
    open_path: PathBuf,
    final_path: PathBuf,
    filename: String,
    out: CountingWriter<BufWriter<File>>,
    writeback: Writeback,
}

/// Once this much more is written, the file's data is synced on a thread of its own: the
/// disk takes it while the crawl goes on, and the sync that closes the file has little left
/// to wait for (a 130 MB crawl had waited 0.2 s there; with 32 MiB steps the crawl
/// benchmark's close still waited 85 ms, with 8 MiB 17-22 ms).
const WRITEBACK_STEP: u64 = 8 << 20;

/// The file's early syncs: at most one at a time, its error kept for the close to report (the
/// kernel reports a write-back error once, to whichever sync sees it first).
#[derive(Default)]
struct Writeback {
    synced_to: u64,
    in_flight: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Writeback {
    /// Starts a sync of what is written so far, if enough is new and none is in flight.
    fn maybe_start(&mut self, out: &mut CountingWriter<BufWriter<File>>) -> io::Result<()> {
        if out.count - self.synced_to < WRITEBACK_STEP {
            return Ok(());
        }
        if self.in_flight.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        self.wait()?;
        out.inner.flush()?;
        let file = out.inner.get_ref().try_clone()?;
        let thread = std::thread::Builder::new()
            .name("cairn-warc-sync".into())
            .spawn(move || file.sync_data())?;
        self.in_flight = Some(thread);
        self.synced_to = out.count;
        Ok(())
    }

    /// Waits for the sync in flight, returning its error.
    fn wait(&mut self) -> io::Result<()> {
        match self.in_flight.take().map(|t| t.join()) {
            None => Ok(()),
            Some(Ok(synced)) => synced,
            Some(Err(_)) => Err(io::Error::other("the sync thread panicked")),
        }
    }
}

impl OpenWarc {
    /// Truncates the file to `offset`, where a failed record began: what earlier records left
    /// in the buffer is written out, what the failed one left there is dropped.
    fn rollback(&mut self, offset: u64) -> io::Result<()> {
        let buffered_from = self.out.count - self.out.inner.buffer().len() as u64;
        let file = self.out.inner.get_ref().try_clone()?;
        let torn = std::mem::replace(&mut self.out.inner, BufWriter::with_capacity(1 << 20, file));
        let (mut file, buffered) = torn.into_parts();
        let buffered = buffered.unwrap_or_else(|panicked| panicked.into_inner());
        if offset > buffered_from {
            file.seek(SeekFrom::Start(buffered_from))?;
            file.write_all(&buffered[..(offset - buffered_from) as usize])?;
        }
        file.set_len(offset)?;
        // The new buffer's handle shares this file position.
        file.seek(SeekFrom::Start(offset))?;
        self.out.count = offset;
        Ok(())
    }
}

pub struct WarcWriter {
    config: WriterConfig,
    encoder: RecordEncoder,
    current: Option<OpenWarc>,
    serial: u32,
    closed: Vec<PathBuf>,
}

impl WarcWriter {
    pub fn new(config: WriterConfig) -> Result<WarcWriter, WriteError> {
        fs::create_dir_all(&config.dir).map_err(|source| WriteError::File {
            path: config.dir.clone(),
            source,
        })?;
        let encoder = match (&config.zstd_dictionary, config.compression) {
            (None, compression) => RecordEncoder::new(compression),
            (Some(dictionary), Compression::Zstd) => {
                RecordEncoder::with_dictionary(dictionary.clone())
            }
            (Some(_), other) => return Err(WriteError::DictionaryNeedsZstd(other)),
        }
        .map_err(WriteError::Block)?;
        Ok(WarcWriter {
            config,
            encoder,
            current: None,
            serial: 0,
            closed: Vec::new(),
        })
    }

    /// Writes one record, opening (or rolling over to) a file first if needed.
    pub fn write(&mut self, mut record: NewRecord<'_>) -> Result<Written, WriteError> {
        if self
            .current
            .as_ref()
            .is_some_and(|f| f.out.count >= self.config.max_file_size)
        {
            self.close_current()?;
        }
        if self.current.is_none() {
            self.open_next()?;
        }
        // Named and dated after the file's warcinfo, for a record that brings neither: a
        // file the writer fills alone (as in tests) reads in the order of its IDs and dates.
        let id = record.id.take().unwrap_or_else(|| self.config.ids.next());
        let date = record
            .date
            .take()
            .unwrap_or_else(|| self.config.clock.now());
        let (header, digests) = prepare(&mut record, &id, date)?;
        let file = self.current.as_mut().expect("a file was just opened");
        let offset = file.out.count;
        let head = header.to_bytes();
        let body = match &mut record.block {
            Block::Bytes(bytes) => BodyIn::memory(bytes, b"", digests.body_head),
            Block::Parts(first, second) => BodyIn::memory(first, second, digests.body_head),
            Block::Stream { reader, len } => BodyIn::read(&mut *reader, *len, digests.body_head),
        };
        let result = self
            .encoder
            .encode(&mut file.out, &head, body, b"\r\n\r\n", record.packed);
        if let Err(source) = result {
            // Never leave a torn record for the next one to follow: cut the file back.
            let rolled_back = file.rollback(offset);
            return Err(WriteError::Record {
                path: file.open_path.clone(),
                source: rolled_back.err().unwrap_or(source),
            });
        }
        if let Err(source) = file.writeback.maybe_start(&mut file.out) {
            return Err(WriteError::File {
                path: file.open_path.clone(),
                source,
            });
        }
        // Uncompressed, the length stops before the closing CRLF CRLF, as warcio counts it.
        let trailer = match self.config.compression {
            Compression::None => 4,
            _ => 0,
        };
        Ok(Written {
            filename: file.filename.clone(),
            offset,
            length: file.out.count - offset - trailer,
            record_id: id,
            block_digest: digests.block,
            payload_digest: digests.payload,
            header,
            header_len: head.len(),
        })
    }

    /// Closes the file being written: flushed, synced and renamed without `.open`. Returns the
    /// paths of every file this writer has closed.
    pub fn close(mut self) -> Result<Vec<PathBuf>, WriteError> {
        self.close_current()?;
        Ok(std::mem::take(&mut self.closed))
    }

    /// Hands buffered records to the operating system (no fsync: the file is synced when it is
    /// closed), so that a killed process leaves every finished record in its `.open` file.
    pub fn flush(&mut self) -> Result<(), WriteError> {
        if let Some(file) = self.current.as_mut() {
            file.out.inner.flush().map_err(|source| WriteError::File {
                path: file.open_path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<(), WriteError> {
        let Some(mut file) = self.current.take() else {
            return Ok(());
        };
        let path = file.open_path.clone();
        let err = |source| WriteError::File {
            path: path.clone(),
            source,
        };
        file.out.inner.flush().map_err(err)?;
        file.writeback.wait().map_err(err)?;
        file.out.inner.get_ref().sync_all().map_err(err)?;
        // A file that would overwrite one already archived is left `.open` rather than lose it.
        if file.final_path.exists() {
            return Err(err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} already exists", file.final_path.display()),
            )));
        }
        fs::rename(&file.open_path, &file.final_path).map_err(err)?;
        self.closed.push(file.final_path);
        Ok(())
    }

    fn open_next(&mut self) -> Result<(), WriteError> {
        let stamp = timestamp14_of(self.config.clock.now());
        loop {
            let filename = format!(
                "{}-{}-{:05}.{}",
                self.config.prefix,
                stamp,
                self.serial,
                self.config.compression.extension()
            );
            self.serial += 1;
            let final_path = self.config.dir.join(&filename);
            let open_path = self.config.dir.join(format!("{filename}{OPEN_SUFFIX}"));
            if final_path.exists() {
                continue;
            }
            let file = match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&open_path)
            {
                Ok(file) if lock_new(&file, &open_path) => file,
                // A repair removed it, empty and not yet locked: another name.
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(WriteError::File {
                        path: open_path,
                        source,
                    });
                }
            };
            let mut out = CountingWriter {
                inner: BufWriter::with_capacity(1 << 20, file),
                count: 0,
            };
            out.write_all(self.encoder.file_start())
                .map_err(|source| WriteError::File {
                    path: open_path.clone(),
                    source,
                })?;
            self.current = Some(OpenWarc {
                open_path,
                final_path,
                filename: filename.clone(),
                out,
                writeback: Writeback::default(),
            });
            let info = warcinfo_block(&self.config.warcinfo);
            let record = NewRecord::new(RecordType::Warcinfo, Block::Bytes(&info))
                .field("WARC-Filename", filename)
                .content_type("application/warc-fields");
            self.write(record)?;
            return Ok(());
        }
    }
}

/// Locks a file just created as `path` until it is closed: repair and the index leave a file
/// alone while its writer lives. Between the file's creation and its lock, a repair may have
/// found it empty and unheld, and removed it under the lock it takes for that: the writer
/// waits for that lock, and then sees whether its file still has its name, so that it never
/// writes a crawl into a file no name reaches. A file system without locks only loses the
/// warning, so a failure to lock is no reason not to write.
fn lock_new(file: &File, path: &Path) -> bool {
    if file.lock().is_err() {
        return true;
    }
    // Only a name gone, or naming another file, says so: a file system that cannot tell is
    // written as before, not retried name after name.
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => same_inode(&open, &named),
        (Ok(_), Err(e)) => e.kind() != io::ErrorKind::NotFound,
        (Err(_), _) => true,
    }
}

/// Whether `path` still names the file open as `file`; false when either cannot be read.
pub(super) fn still_named(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => same_inode(&open, &named),
        _ => false,
    }
}

/// Whether two files' metadata are one file's.
pub(super) fn same_inode(one: &fs::Metadata, other: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    one.dev() == other.dev() && one.ino() == other.ino()
}

/// Whether a writer still holds an unfinished (`.open`) file: it keeps the file locked until
/// it closes it, and the lock goes with the writer however it ends.
pub fn is_being_written(path: &Path) -> bool {
    let file = File::open(path);
    matches!(
        file.map(|file| file.try_lock_shared()),
        Ok(Err(std::fs::TryLockError::WouldBlock))
    )
}

impl Drop for WarcWriter {
    /// A writer dropped on an error path still closes its file: every record in it is whole.
    fn drop(&mut self) {
        let _ = self.close_current();
    }
}

/// What digesting a block found.
struct Digests {
    block: String,
    payload: Option<String>,
    /// Bytes of the block that are its HTTP header (0 for blocks without one).
    body_head: u64,
}

/// Digests the block (rewinding a stream afterwards) and builds the header, fields in the
/// order warcio writes them.
fn prepare(
    record: &mut NewRecord<'_>,
    id: &str,
    date: OffsetDateTime,
) -> Result<(Header, Digests), WriteError> {
    let mut digester = BlockDigester::new(Algorithm::Sha256, record.is_http());
    if record.payload_sha256.is_some() {
        digester = digester.without_payload();
    }
    let len = match &mut record.block {
        Block::Bytes(bytes) => {
            digester.update(bytes);
            bytes.len() as u64
        }
        Block::Parts(first, second) => {
            digester.update(first);
            digester.update(second);
            (first.len() + second.len()) as u64
        }
        Block::Stream { reader, len } => {
            let start = reader.stream_position().map_err(WriteError::Block)?;
            digest_stream(&mut *reader, *len, &mut digester).map_err(WriteError::Block)?;
            reader
                .seek(SeekFrom::Start(start))
                .map_err(WriteError::Block)?;
            *len
        }
    };
    let payload_offset = digester.payload_offset();
    let body_head = payload_offset.unwrap_or(len);
    let (block_hash, payload_hash) = digester.finish();
    let payload_hash = match record.payload_sha256 {
        Some(known) => payload_offset.map(|_| known.to_vec()),
        None => payload_hash,
    };
    let digests = Digests {
        block: sha256_label(&block_hash),
        payload: payload_hash
            .filter(|_| record.digests_payload())
            .map(|h| sha256_label(&h)),
        body_head,
    };

    let mut header = Header::new("WARC/1.1");
    header.push("WARC-Type", record.kind.as_str());
    header.push("WARC-Record-ID", id);
    header.push("WARC-Date", format_warc_date(date));
    if let Some(uri) = &record.target_uri {
        header.push("WARC-Target-URI", uri.clone());
    }
    header.fields.extend(record.fields.iter().cloned());
    if let Some(ct) = &record.content_type {
        header.push("Content-Type", ct.clone());
    }
    header.push("WARC-Block-Digest", digests.block.clone());
    if let Some(digest) = &digests.payload {
        header.push("WARC-Payload-Digest", digest.clone());
    }
    header.push("Content-Length", len.to_string());
    Ok((header, digests))
}

fn digest_stream(reader: &mut dyn Read, len: u64, digester: &mut BlockDigester) -> io::Result<()> {
    // No bigger than the block, and for a block of up to 64 KiB (most are) from the thread's
    // spares: zeroing a buffer for each cost more than digesting it.
    let mut buf = Buffer::spare(len.min(256 << 10) as usize);
    let mut left = len;
    while left > 0 {
        let want = buf.len().min(left.min(usize::MAX as u64) as usize);
        let n = reader.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("block ended after {} of {len} bytes", len - left),
            ));
        }
        digester.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(())
}

/// The `application/warc-fields` block of a warcinfo record.
fn warcinfo_block(fields: &[(String, String)]) -> Vec<u8> {
    let mut all: Vec<(String, String)> = Vec::new();
    if !fields
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("software"))
    {
        all.push((
            "software".into(),
            format!("cairn/{}", env!("CARGO_PKG_VERSION")),
        ));
    }
    if !fields.iter().any(|(n, _)| n.eq_ignore_ascii_case("format")) {
        all.push(("format".into(), "WARC File Format 1.1".into()));
    }
    all.extend(fields.iter().cloned());
    let mut out = Vec::new();
    for (name, value) in all {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out
}

/// Counts the bytes written, so each record's offset and length are known without a seek.
/// `flush` is passed through only on close: encoders flush per record, and a syscall per record
/// would undo the buffering.
struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// True for a path cairn is still writing.
pub fn is_open_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "open")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn sha256(bytes: &[u8]) -> String {
        sha256_label(&Sha256::digest(bytes))
    }

    #[test]
    fn a_new_file_a_repair_took_away_before_its_lock_is_given_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.zst.open");
        let new = || {
            File::options()
                .write(true)
                .create_new(true)
                .open(&path)
                .unwrap()
        };
        // Locked as soon as it is made: a file a writer holds.
        let file = new();
        assert!(lock_new(&file, &path));
        assert!(is_being_written(&path));
        drop(file);
        fs::remove_file(&path).unwrap();

        // Made, and before its writer locks it, a repair finds it empty and unheld: it locks
        // it and removes it. The writer waits for that lock, then finds its name gone.
        let file = new();
        let repair = File::open(&path).unwrap();
        repair.try_lock().unwrap();
        let removed = path.clone();
        let remover = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            fs::remove_file(&removed).unwrap();
            drop(repair);
        });
        assert!(!lock_new(&file, &path));
        remover.join().unwrap();

        // The name taken by another file meanwhile is not this file's either.
        let file = new();
        fs::rename(&path, dir.path().join("moved")).unwrap();
        fs::write(&path, b"another").unwrap();
        assert!(!still_named(&file, &path));
    }

    /// With the clock and the record IDs given, a file is the same bytes every time: these.
    #[test]
    fn records_are_written_byte_for_byte_as_expected() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = WriterConfig::new(dir.path(), "test", Compression::None);
        let start = time::macros::datetime!(2023-03-22 00:08:00 UTC);
        config.clock = Clock::ticking(start, time::Duration::seconds(1));
        config.ids = RecordIds::sequential();
        config.warcinfo = vec![("isPartOf".into(), "test".into())];
        let mut writer = WarcWriter::new(config).unwrap();
        let post = b"---\nfrom: https://www.cna.com.tw/\n---\n";
        let record = NewRecord::new(RecordType::Resource, Block::Bytes(post))
            .target("file:///_posts/a.md")
            .content_type("text/markdown");
        let written = writer.write(record).unwrap();
        let files = writer.close().unwrap();
        assert_eq!(files, [dir.path().join("test-20230322000800-00000.warc")]);

        let info = format!(
            "software: cairn/{}\r\nformat: WARC File Format 1.1\r\nisPartOf: test\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let expected = [
            "WARC/1.1\r\n",
            "WARC-Type: warcinfo\r\n",
            "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n",
            "WARC-Date: 2023-03-22T00:08:01.000000Z\r\n",
            "WARC-Filename: test-20230322000800-00000.warc\r\n",
            "Content-Type: application/warc-fields\r\n",
            &format!("WARC-Block-Digest: {}\r\n", sha256(info.as_bytes())),
            &format!("Content-Length: {}\r\n\r\n", info.len()),
            &info,
            "\r\n\r\n",
            "WARC/1.1\r\n",
            "WARC-Type: resource\r\n",
            "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n",
            "WARC-Date: 2023-03-22T00:08:02.000000Z\r\n",
            "WARC-Target-URI: file:///_posts/a.md\r\n",
            "Content-Type: text/markdown\r\n",
            &format!("WARC-Block-Digest: {}\r\n", sha256(post)),
            &format!("WARC-Payload-Digest: {}\r\n", sha256(post)),
            &format!("Content-Length: {}\r\n\r\n", post.len()),
            std::str::from_utf8(post).unwrap(),
            "\r\n\r\n",
        ]
        .concat();
        let bytes = std::fs::read(&files[0]).unwrap();
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
        let resource_at = expected.find("WARC/1.1\r\nWARC-Type: resource").unwrap();
        assert_eq!(written.offset, resource_at as u64);
        assert_eq!(
            written.record_id,
            "<urn:uuid:00000000-0000-4000-8000-000000000002>"
        );
    }
}
