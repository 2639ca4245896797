//! Building index lines from WARC files. Indexing reads only record headers wherever it can: a
//! zstd record written one frame per record is read through its first block and skipped by its
//! frame length ([`crate::warc::codec::walk_zstd_frames`]); gzip must be inflated to find where
//! a member ends, so files are indexed in parallel.

use std::collections::HashMap;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::cdxj::Capture;
use crate::warc::codec::{FrameHead, walk_zstd_frames};
use crate::warc::digest::{Algorithm, BlockDigester};
use crate::warc::reader::{Span, next_whole_record, read_header};
use crate::warc::record::timestamp14;
use crate::warc::{Compression, Header, ReadError, RecordType, WarcReader, Written};

/// HTTP headers longer than this are not parsed for status and mime.
const MAX_HTTP_HEAD: usize = 64 << 10;

/// What the index learns of one record from its headers.
struct RecordHeads<'h> {
    header: &'h Header,
    http_head: Option<&'h [u8]>,
    /// The payload digest computed for a record that names none.
    computed_digest: Option<String>,
}

/// Whether a record is a capture replay serves; not requests, warcinfo, or
/// `application/warc-fields` metadata (as cdxj-indexer decides).
fn is_capture(header: &Header) -> bool {
    match header.record_type() {
        Some(RecordType::Response | RecordType::Revisit) => true,
        Some(RecordType::Resource | RecordType::Metadata) => {
            header.get("Content-Type") != Some("application/warc-fields")
        }
        _ => false,
    }
}

/// Whether the index reads a record's block as an HTTP message, for its status and type (and
/// its payload digest): responses and revisits, as cdxj-indexer reads them.
fn has_http_head(header: &Header) -> bool {
    matches!(
        header.record_type(),
        Some(RecordType::Response | RecordType::Revisit)
    ) && header.holds_http()
}

/// A capture without a `WARC-Payload-Digest` gets one computed, as cdxj-indexer does (sha1 in
/// base32, warcio's default), so that revisits and de-duplication can still refer to it.
fn needs_computed_digest(header: &Header) -> bool {
    is_capture(header)
        && header.get("WARC-Payload-Digest").is_none()
        && header.record_type() != Some(RecordType::Revisit)
}

/// Why a capture record has no line in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Unindexable {
    /// It shares a gzip member or zstd frame with the record before it, so no offset reads
    /// it alone.
    SharesMember,
    NoTargetUri,
    UnreadableDate,
}

impl std::fmt::Display for Unindexable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unindexable::SharesMember => {
                "it shares a compressed member with the record before it, so no offset reads \
                 it alone (`cairn recompress` writes the file again one record per member)"
            }
            Unindexable::NoTargetUri => "it has no WARC-Target-URI",
            Unindexable::UnreadableDate => "its WARC-Date is not a date",
        })
    }
}

impl RecordHeads<'_> {
    /// The index line for this record: `Ok(None)` if it is not a capture (see
    /// [`is_capture`]), an error if it is one the index cannot hold. A record that shares its
    /// member has no length yet (see [`SharedMembers`]).
    fn capture(&self, span: Span, filename: &str) -> Result<Option<Capture>, Unindexable> {
        let Some(kind) = self
            .header
            .record_type()
            .filter(|_| is_capture(self.header))
        else {
            return Ok(None);
        };
        let url = indexed_url(self.header.target_uri().ok_or(Unindexable::NoTargetUri)?);
        let timestamp = self
            .header
            .get("WARC-Date")
            .and_then(timestamp14)
            .ok_or(Unindexable::UnreadableDate)?;
        let http = self.http_head.and_then(parse_http_head);
        let mime = match kind {
            RecordType::Revisit => Some("warc/revisit".to_string()),
            RecordType::Response => http.as_ref().and_then(|h| h.1.clone()),
            _ => self.header.get("Content-Type").map(str::to_string),
        };
        let mut capture = Capture::new(url, timestamp).ok_or(Unindexable::UnreadableDate)?;
        capture.mime = mime.map(|m| mime_essence(&m));
        capture.status = http.map(|h| h.0);
        capture.digest = self
            .header
            .get("WARC-Payload-Digest")
            .map(str::to_string)
            .or_else(|| self.computed_digest.clone());
        capture.length = span.length.unwrap_or(0);
        capture.offset = span.offset;
        capture.filename = filename.to_string();
        Ok(Some(capture))
    }
}

/// The URL a capture is indexed under: its `WARC-Target-URI` as warcio reads it for
/// cdxj-indexer, with spaces written `%20` (warcio's `_ensure_target_uri_format`), so that the
/// `url` field and the SURT key made from it are the ones cdxj-indexer writes.
fn indexed_url(target_uri: &str) -> String {
    target_uri.replace(' ', "%20")
}

/// `text/html; charset=utf-8` -> `text/html`.
fn mime_essence(value: &str) -> String {
    value
        .split([';', ' ', '\t'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Status code and Content-Type of an HTTP response head.
fn parse_http_head(head: &[u8]) -> Option<(u16, Option<String>)> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut response = httparse::Response::new(&mut headers);
    response.parse(head).ok()?;
    let content_type = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
        .map(|h| String::from_utf8_lossy(h.value).into_owned());
    Some((response.code?, content_type))
}

/// What indexing one WARC file found.
#[derive(Debug, Default)]
pub struct FileIndex {
    /// Index lines, in file order.
    pub captures: Vec<Capture>,
    /// Capture records the index cannot hold: where each is, and why.
    pub unindexed: Vec<(u64, Unindexable)>,
    /// Damage that stopped reading: what and where. Records before it are indexed, and so
    /// are those after it from the next record that reads whole.
    pub damage: Vec<ReadError>,
}

impl FileIndex {
    fn add(&mut self, offset: u64, line: Result<Option<Capture>, Unindexable>) {
        match line {
            Ok(capture) => self.captures.extend(capture),
            Err(why) => self.unindexed.push((offset, why)),
        }
    }
}

/// Records that share a gzip member or zstd frame. The first reads alone from the member's
/// offset (decompression starts there, and the record comes first), so it is indexed with the
/// member's length once the member ends, as pywb would read it; the others cannot be.
#[derive(Default)]
struct SharedMembers {
    /// A capture opening a member that has not ended yet.
    opening: Option<Capture>,
}

impl SharedMembers {
    fn add(
        &mut self,
        index: &mut FileIndex,
        span: Span,
        line: Result<Option<Capture>, Unindexable>,
    ) {
        match line {
            Ok(Some(capture)) if span.length.is_none() => {
                if span.starts_member {
                    self.opening = Some(capture);
                } else {
                    index
                        .unindexed
                        .push((span.offset, Unindexable::SharesMember));
                }
            }
            line => index.add(span.offset, line),
        }
        if let (Some(end), true) = (span.member_end, span.length.is_none())
            && let Some(mut opening) = self.opening.take()
        {
            opening.length = end - opening.offset;
            index.captures.push(opening);
        }
    }

    /// A member the file (or its damage) ended before it ended.
    fn finish(self, index: &mut FileIndex) {
        if let Some(opening) = self.opening {
            index
                .unindexed
                .push((opening.offset, Unindexable::SharesMember));
        }
    }
}

/// Indexes one WARC file: every record that reads, resynchronising after damage as
/// `cairn verify` does.
pub fn index_file(path: &Path) -> FileIndex {
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut index = FileIndex::default();
    if crate::warc::wacz::is_wacz_name(&filename) {
        index_package(path, &filename, &mut index);
        return index;
    }
    let compression = match WarcReader::open(path) {
        Ok(reader) => reader.compression(),
        Err(damage) => {
            index.damage.push(damage);
            return index;
        }
    };
    if compression == Compression::Zstd && index_by_frames(path, &filename, &mut index) {
        return index;
    }
    let mut from = 0;
    loop {
        let read = WarcReader::open_at(path, from)
            .and_then(|reader| index_by_reading(reader, &filename, &mut index));
        let Err(damage) = read else {
            return index;
        };
        let offset = damage.offset().unwrap_or(from);
        index.damage.push(damage);
        match next_whole_record(path, compression, offset) {
            Ok(Some(next)) if next > from => from = next,
            _ => return index,
        }
    }
}

/// Indexes the WARC files a WACZ package stores, each record by its offset in the package.
fn index_package(path: &Path, filename: &str, index: &mut FileIndex) {
    let entries = match crate::warc::wacz::warc_entries(path) {
        Ok(entries) => entries,
        Err(e) => {
            let detail = e.to_string();
            index
                .damage
                .push(ReadError::Malformed { offset: 0, detail });
            return;
        }
    };
    for entry in entries {
        if !entry.stored {
            let detail = format!(
                "{} is compressed inside the package, so no offset reads its records",
                entry.name
            );
            let offset = entry.start;
            index.damage.push(ReadError::Malformed { offset, detail });
            continue;
        }
        let read = crate::warc::wacz::entry_reader(path, &entry)
            .and_then(|reader| index_by_reading(reader, filename, index));
        if let Err(damage) = read {
            index.damage.push(damage);
        }
    }
}

/// The general path: every record read in order, its block decompressed to find its end.
fn index_by_reading<R: io::Read>(
    mut reader: WarcReader<R>,
    filename: &str,
    index: &mut FileIndex,
) -> Result<(), ReadError> {
    let mut shared = SharedMembers::default();
    let result = index_records(&mut reader, filename, index, &mut shared);
    shared.finish(index);
    result
}

fn index_records<R: io::Read>(
    reader: &mut WarcReader<R>,
    filename: &str,
    index: &mut FileIndex,
    shared: &mut SharedMembers,
) -> Result<(), ReadError> {
    let mut head = Vec::new();
    while let Some(mut record) = reader.next_record()? {
        let header = std::mem::replace(&mut record.header, Header::new(""));
        head.clear();
        let http = has_http_head(&header);
        let offset = record.offset;
        if http {
            read_http_head(&mut record.block(), &mut head).map_err(|e| ReadError::io(offset, e))?;
        }
        let computed_digest = if needs_computed_digest(&header) {
            let digest = sha1_payload(&head, &mut record.block(), http);
            digest.map_err(|e| ReadError::io(offset, e))?
        } else {
            None
        };
        drop(record);
        let span = reader.finish_record()?;
        let heads = RecordHeads {
            header: &header,
            http_head: (!head.is_empty()).then_some(&head[..]),
            computed_digest,
        };
        shared.add(index, span, heads.capture(span, filename));
    }
    Ok(())
}

/// The fast path for zstd files written one frame per record. Returns false, having added
/// nothing, when the file is not laid out so (or is damaged), for the general reader to take
/// over.
fn index_by_frames(path: &Path, filename: &str, index: &mut FileIndex) -> bool {
    let mut found = FileIndex::default();
    let mut first = true;
    let mut each = |frame: FrameHead<'_>| {
        let one = one_record(&frame, first);
        first = false;
        let Some((header, header_len)) = one else {
            return false;
        };
        let heads = RecordHeads {
            header: &header,
            http_head: has_http_head(&header).then(|| &frame.head[header_len..]),
            computed_digest: None,
        };
        let span = Span::alone(frame.offset, frame.length);
        found.add(frame.offset, heads.capture(span, filename));
        true
    };
    let whole = walk_zstd_frames(path, &headers_complete, &mut each).unwrap_or(false);
    if whole {
        *index = found;
    }
    whole
}

/// The header of the record a frame holds, and its length, if the frame holds exactly one
/// record whose headers the index can take as they are.
fn one_record(frame: &FrameHead<'_>, first: bool) -> Option<(Header, usize)> {
    let header_len = blank_line(frame.head)? + 4;
    let header = read_header(&mut &frame.head[..header_len], frame.offset, first).ok()?;
    let whole = header
        .content_length()
        .is_some_and(|n| frame.content_size == header_len as u64 + n + 4);
    (whole && !needs_computed_digest(&header)).then_some((header, header_len))
}

/// The WARC header has ended, and so has the HTTP header of an HTTP block (or the head has
/// grown past what is parsed anyway).
fn headers_complete(head: &[u8]) -> bool {
    if head.len() >= MAX_HTTP_HEAD {
        return true;
    }
    let Some(warc_end) = blank_line(head).map(|i| i + 4) else {
        return false;
    };
    let http = read_header(&mut &head[..warc_end], 0, false).is_ok_and(|h| h.holds_http());
    !http || blank_line(&head[warc_end..]).is_some()
}

/// Copies the block's HTTP header (up to its blank line, at most [`MAX_HTTP_HEAD`] bytes).
fn read_http_head(block: &mut impl BufRead, head: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let chunk = block.fill_buf()?;
        if chunk.is_empty() || head.len() >= MAX_HTTP_HEAD {
            return Ok(());
        }
        let n = chunk.len().min(MAX_HTTP_HEAD - head.len());
        head.extend_from_slice(&chunk[..n]);
        block.consume(n);
        if blank_line(head).is_some() {
            return Ok(());
        }
    }
}

/// `sha1:` + base32 of the payload of a block whose first bytes are already in `head`.
fn sha1_payload(head: &[u8], rest: &mut impl BufRead, http: bool) -> io::Result<Option<String>> {
    let mut digester = BlockDigester::new(Algorithm::Sha1, http);
    digester.update(head);
    loop {
        let chunk = rest.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        digester.update(chunk);
        let n = chunk.len();
        rest.consume(n);
    }
    let payload = digester.finish().1;
    Ok(payload.map(|h| format!("sha1:{}", data_encoding::BASE32.encode(&h))))
}

static BLANK_LINE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));

/// Where the first `CRLF CRLF` (the end of a header) starts.
fn blank_line(bytes: &[u8]) -> Option<usize> {
    BLANK_LINE.find(bytes)
}

/// The index lines of the files a writer wrote, made as it wrote each record: the index takes
/// them instead of reading the files back. A file whose lines are not all known here (a
/// record only reading can index, or more lines than are kept) is left out, to be read.
#[derive(Debug, Default)]
pub struct WrittenIndex {
    files: HashMap<String, Option<Vec<String>>>,
    lines: usize,
}

/// Lines kept in memory for a crawl's files, about 300 bytes each: a bigger crawl's files are
/// read back instead.
const MAX_WRITTEN_LINES: usize = 200_000;

impl WrittenIndex {
    /// Adds a record as written: `http_head` is the HTTP header its block began with.
    pub fn add(&mut self, written: &Written, http_head: Option<&[u8]>) {
        let entry = self
            .files
            .entry(written.filename.clone())
            .or_insert_with(|| Some(Vec::new()));
        let Some(lines) = entry else {
            return;
        };
        match written_capture(written, http_head) {
            Some(None) => {}
            Some(Some(capture)) if self.lines < MAX_WRITTEN_LINES => {
                lines.push(capture.to_line());
                self.lines += 1;
            }
            _ => {
                self.lines -= lines.len();
                *entry = None;
            }
        }
    }

    /// Every line of the file of this name, if all are known.
    pub fn lines_of(&self, filename: &str) -> Option<&[String]> {
        self.files.get(filename)?.as_deref()
    }
}

/// The line a record has in the index, as reading the file would make it: `Some(None)` for a
/// record the index does not hold, `None` when only reading can tell (a capture with no
/// payload digest, one the index cannot hold, or headers longer than reading parses).
fn written_capture(written: &Written, http_head: Option<&[u8]>) -> Option<Option<Capture>> {
    let header = &written.header;
    if needs_computed_digest(header) {
        return None;
    }
    let http_head = match (has_http_head(header), http_head) {
        (false, _) => None,
        (true, Some(head)) if written.header_len + head.len() < MAX_HTTP_HEAD => Some(head),
        (true, _) => return None,
    };
    let heads = RecordHeads {
        header,
        http_head,
        computed_digest: None,
    };
    let span = Span::alone(written.offset, written.length);
    heads.capture(span, &written.filename).ok()
}

/// What indexing many files found: their lines, sorted, and what each file could not give.
#[derive(Debug, Default)]
pub struct IndexRun {
    pub lines: Vec<String>,
    /// Per file with unindexed records or damage (files that indexed cleanly are left out).
    pub problems: Vec<(PathBuf, FileIndex)>,
}

/// Indexes many files on every core, each file on one; the lines of files in `written` are
/// taken from there instead.
pub fn index_lines(paths: &[PathBuf], written: &WrittenIndex) -> IndexRun {
    let (known, unread): (Vec<&PathBuf>, Vec<&PathBuf>) = paths
        .iter()
        .partition(|path| written_lines(path, written).is_some());
    let per_file: Vec<FileIndex> = unread.par_iter().map(|p| index_file(p)).collect();
    let mut run = IndexRun::default();
    for path in known {
        let lines = written_lines(path, written).unwrap_or_default();
        run.lines.extend_from_slice(lines);
    }
    for (path, mut file) in unread.into_iter().zip(per_file) {
        run.lines.extend(file.captures.iter().map(Capture::to_line));
        if !file.unindexed.is_empty() || !file.damage.is_empty() {
            file.captures = Vec::new();
            run.problems.push((path.clone(), file));
        }
    }
    run.lines.par_sort_unstable();
    run
}

fn written_lines<'w>(path: &Path, written: &'w WrittenIndex) -> Option<&'w [String]> {
    written.lines_of(path.file_name()?.to_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written with a zstd dictionary indexes by its frames (the dictionary loaded from
    /// its first frame), into the very lines its writer's index held, offsets past the
    /// dictionary frame.
    #[test]
    fn a_dictionary_file_indexes_as_its_writer_indexed_it() {
        let dir = tempfile::tempdir().unwrap();
        let written = crate::warc::dictionary::tests::write_with_dictionary(dir.path());
        let mut while_writing = WrittenIndex::default();
        for (block, head_len, w) in &written.records {
            let head = w.header.holds_http().then(|| &block[..*head_len]);
            while_writing.add(w, head);
        }
        let filename = written.file.file_name().unwrap().to_str().unwrap();
        let mut by_frames = FileIndex::default();
        assert!(index_by_frames(&written.file, filename, &mut by_frames));
        let mut read: Vec<String> = by_frames.captures.iter().map(Capture::to_line).collect();
        read.sort();
        let mut kept = while_writing.lines_of(filename).unwrap().to_vec();
        kept.sort();
        assert_eq!(read.len(), 30, "the pages and photos, not the requests");
        assert_eq!(read, kept);
        let run = index_lines(
            std::slice::from_ref(&written.file),
            &WrittenIndex::default(),
        );
        assert_eq!(run.lines, read);
        assert!(run.problems.is_empty());
        let bytes = std::fs::read(&written.file).unwrap();
        let frame_end = 8 + u64::from(u32::from_le_bytes(bytes[4..8].try_into().unwrap()));
        let first = by_frames.captures.iter().map(|c| c.offset).min().unwrap();
        assert!(
            first > frame_end,
            "{first} lies past the dictionary frame ({frame_end})"
        );
    }
}
