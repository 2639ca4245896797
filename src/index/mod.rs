//! The CDXJ index: one line per capture, `SURT TIMESTAMP {json}`, sorted, in the form pywb and
//! cdxj-indexer use (`url`, `mime`, `status`, `digest`, `length`, `offset`, `filename`), so a
//! replay tool finds any capture with one binary search and one read by offset.
//!
//! Indexing reads only record headers wherever it can: a zstd record written one frame per
//! record is read through its first block and skipped by its frame length; gzip must be
//! inflated to find where a member ends, so files are indexed in parallel.

pub mod surt;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::warc::digest::{Algorithm, BlockDigester};
use crate::warc::reader::{Span, read_header};
use crate::warc::{Compression, Header, ReadError, RecordType, WarcReader};

/// HTTP headers longer than this are not parsed for status and mime.
const MAX_HTTP_HEAD: usize = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: ReadError },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The JSON part of a CDXJ line, its fields in pywb's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Fields {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub digest: Option<String>,
    pub length: String,
    pub offset: String,
    pub filename: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub urlkey: String,
    pub timestamp: String,
    pub fields: Fields,
}

impl Entry {
    pub fn to_line(&self) -> String {
        let json = serde_json::to_string(&self.fields).expect("CDXJ fields serialize");
        format!("{} {} {}", self.urlkey, self.timestamp, json)
    }

    pub fn parse(line: &str) -> Option<Entry> {
        let (urlkey, rest) = line.split_once(' ')?;
        let (timestamp, json) = rest.split_once(' ')?;
        Some(Entry {
            urlkey: urlkey.to_string(),
            timestamp: timestamp.to_string(),
            fields: serde_json::from_str(json).ok()?,
        })
    }
}

/// What the index learns of one record from its headers.
struct Capture<'h> {
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

/// A capture without a `WARC-Payload-Digest` gets one computed, as cdxj-indexer does (sha1 in
/// base32, warcio's default), so that revisits and de-duplication can still refer to it.
fn needs_computed_digest(header: &Header) -> bool {
    is_capture(header)
        && header.get("WARC-Payload-Digest").is_none()
        && header.record_type() != Some(RecordType::Revisit)
}

impl Capture<'_> {
    /// The index line for this record, or `None` if it is not a capture (see [`is_capture`]).
    fn entry(&self, span: Span, filename: &str) -> Option<Entry> {
        if !is_capture(self.header) {
            return None;
        }
        let kind = self.header.record_type()?;
        let content_type = self.header.get("Content-Type");
        let url = self.header.target_uri()?.to_string();
        let timestamp = crate::warc::record::timestamp14(self.header.get("WARC-Date")?)?;
        let http = self.http_head.and_then(parse_http_head);
        let mime = match kind {
            RecordType::Revisit => Some("warc/revisit".to_string()),
            RecordType::Response => http.as_ref().and_then(|h| h.1.clone()),
            _ => content_type.map(str::to_string),
        }
        .map(|m| mime_essence(&m));
        Some(Entry {
            urlkey: surt::surt(&url),
            timestamp,
            fields: Fields {
                url,
                mime,
                status: http.map(|h| h.0.to_string()),
                digest: self
                    .header
                    .get("WARC-Payload-Digest")
                    .map(str::to_string)
                    .or_else(|| self.computed_digest.clone()),
                length: span.length?.to_string(),
                offset: span.offset.to_string(),
                filename: filename.to_string(),
            },
        })
    }
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

fn is_http_block(header: &Header) -> bool {
    matches!(
        header.record_type(),
        Some(RecordType::Response | RecordType::Revisit)
    ) && header
        .get("Content-Type")
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/http"))
}

/// Index lines for one WARC file, in file order.
pub fn index_file(path: &Path) -> Result<Vec<Entry>, IndexError> {
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read_err = |source| IndexError::Read {
        path: path.to_path_buf(),
        source,
    };
    let reader = WarcReader::open(path).map_err(read_err)?;
    if reader.compression() == Compression::Zstd {
        drop(reader);
        if let Some(entries) = zstd_frames::index(path, &filename)? {
            return Ok(entries);
        }
        return index_by_reading(WarcReader::open(path).map_err(read_err)?, &filename)
            .map_err(read_err);
    }
    index_by_reading(reader, &filename).map_err(read_err)
}

/// The general path: every record read in order, its block decompressed to find its end.
fn index_by_reading<R: io::Read>(
    mut reader: WarcReader<R>,
    filename: &str,
) -> Result<Vec<Entry>, ReadError> {
    let mut entries = Vec::new();
    let mut head = Vec::new();
    while let Some(mut record) = reader.next_record()? {
        let header = std::mem::replace(&mut record.header, Header::new(""));
        head.clear();
        let http = is_http_block(&header);
        let offset = record.offset;
        if http {
            read_http_head(&mut record.block(), &mut head).map_err(|e| ReadError::io(offset, e))?;
        }
        let computed_digest = if needs_computed_digest(&header) {
            let digest = sha1_payload(&head, &mut record.block(), http);
            Some(digest.map_err(|e| ReadError::io(offset, e))?)
        } else {
            None
        };
        drop(record);
        let span = reader.finish_record()?;
        let capture = Capture {
            header: &header,
            http_head: (!head.is_empty()).then_some(&head[..]),
            computed_digest: computed_digest.flatten(),
        };
        entries.extend(capture.entry(span, filename));
    }
    Ok(entries)
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
static APPLICATION_HTTP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"application/http"));

/// Where the first `CRLF CRLF` (the end of a header) starts.
fn blank_line(bytes: &[u8]) -> Option<usize> {
    BLANK_LINE.find(bytes)
}

/// Indexes many files on every core, each file on one, and returns the lines sorted.
pub fn index_files(paths: &[PathBuf]) -> Result<Vec<String>, IndexError> {
    let per_file: Vec<Vec<Entry>> = paths
        .par_iter()
        .map(|p| index_file(p))
        .collect::<Result<_, _>>()?;
    let mut lines: Vec<String> = per_file
        .into_iter()
        .flatten()
        .map(|e| e.to_line())
        .collect();
    lines.par_sort_unstable();
    Ok(lines)
}

/// The sha256 payloads an index names (not as revisits), each with the URL and timestamp of
/// its first capture: what a new crawl of the collection need not store again.
pub fn stored_payloads(index: &str) -> HashMap<[u8; 32], (String, String)> {
    let mut payloads = HashMap::new();
    for entry in index.lines().filter_map(Entry::parse) {
        if entry.fields.mime.as_deref() == Some("warc/revisit") {
            continue;
        }
        let Some(hex) = entry
            .fields
            .digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
        else {
            continue;
        };
        let Ok(bytes) = data_encoding::HEXLOWER_PERMISSIVE.decode(hex.as_bytes()) else {
            continue;
        };
        let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            continue;
        };
        payloads
            .entry(key)
            .or_insert((entry.fields.url.clone(), entry.timestamp.clone()));
    }
    payloads
}

/// The closed WARC files of a folder (not `.open` ones), by name.
pub fn warc_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let path = entry?.path();
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                if name.is_some_and(|n| {
                    crate::warc::is_warc_name(&n) && !n.ends_with(crate::warc::writer::OPEN_SUFFIX)
                }) {
                    files.push(path);
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    files.sort();
    Ok(files)
}

/// Rebuilds `COLL/index.cdxj` from `COLL/warc/`, replacing the old index atomically.
pub fn rebuild_collection_index(collection_dir: &Path) -> Result<(usize, usize), IndexError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| IndexError::Io { path, source }
    };
    let warc_dir = collection_dir.join("warc");
    let files = warc_files(&warc_dir).map_err(io_err(&warc_dir))?;
    let lines = index_files(&files)?;
    let target = collection_dir.join("index.cdxj");
    let temp = collection_dir.join("index.cdxj.tmp");
    let mut out = io::BufWriter::new(File::create(&temp).map_err(io_err(&temp))?);
    for line in &lines {
        writeln!(out, "{line}").map_err(io_err(&temp))?;
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(io_err(&temp))?;
    fs::rename(&temp, &target).map_err(io_err(&target))?;
    Ok((files.len(), lines.len()))
}

/// The fast path for zstd files written one frame per record: each frame is walked by its
/// block headers (RFC 8878 section 3.1.1), and only its first block or so is decompressed,
/// which holds the WARC and HTTP headers when the writer flushed a block there. The file is
/// read through a small buffer and skipped with seeks, so memory stays flat however large it is
/// (a memory map would bring the whole file into the process's resident set). Only the framing
/// is parsed here; decompression is libzstd's.
mod zstd_frames {
    use std::io::{BufReader, Read};

    use super::*;
    use zstd::stream::raw::{Decoder, Operation};
    use zstd::zstd_safe::{self, InBuffer, OutBuffer};

    const ZSTD_MAGIC: u32 = 0xFD2F_B528;
    const DICT_FRAME_MAGIC: u32 = 0x184D_2A5D;

    /// `Ok(None)` when the file is not laid out one frame per record (or is damaged): the
    /// caller then reads it the general way, which also reports any damage properly.
    pub fn index(path: &Path, filename: &str) -> Result<Option<Vec<Entry>>, IndexError> {
        let io_err = |source| IndexError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let mut walker = Walker {
            src: BufReader::with_capacity(16 << 10, file),
            pos: 0,
            len,
        };
        match walker.index(filename) {
            Ok(entries) => Ok(entries),
            // Damage is for the general reader to report with its offset.
            Err(_) => Ok(None),
        }
    }

    struct Walker {
        src: BufReader<File>,
        pos: u64,
        len: u64,
    }

    impl Walker {
        fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
            self.src.read_exact(buf)?;
            self.pos += buf.len() as u64;
            Ok(())
        }

        fn skip(&mut self, n: u64) -> io::Result<()> {
            if self.pos + n > self.len {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.src.seek_relative(n as i64)?;
            self.pos += n;
            Ok(())
        }

        fn u32(&mut self) -> io::Result<u32> {
            let mut b = [0u8; 4];
            self.read_exact(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }

        fn index(&mut self, filename: &str) -> io::Result<Option<Vec<Entry>>> {
            let mut decoder = Decoder::new()?;
            let mut entries = Vec::new();
            let mut head = Vec::with_capacity(16 << 10);
            while self.pos < self.len {
                let start = self.pos;
                let magic = self.u32()?;
                if magic == DICT_FRAME_MAGIC {
                    // Dictionary files are rare; the general reader loads the dictionary.
                    return Ok(None);
                }
                if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                    let size = self.u32()?;
                    self.skip(size as u64)?;
                    continue;
                }
                if magic != ZSTD_MAGIC {
                    return Ok(None);
                }
                decoder.reinit()?;
                let Some((content_size, header_len)) = self.frame(&mut decoder, &mut head)? else {
                    return Ok(None);
                };
                let mut header_src = &head[..];
                let Ok(header) = read_header(&mut header_src, start, entries.is_empty()) else {
                    return Ok(None);
                };
                // One record per frame, or the general reader must follow it across frames.
                let one_record = header
                    .content_length()
                    .is_some_and(|n| content_size == header_len as u64 + n + 4);
                if !one_record || needs_computed_digest(&header) {
                    return Ok(None);
                }
                let capture = Capture {
                    header: &header,
                    http_head: is_http_block(&header).then(|| &head[header_len..]),
                    computed_digest: None,
                };
                let span = Span {
                    offset: start,
                    length: Some(self.pos - start),
                };
                entries.extend(capture.entry(span, filename));
            }
            Ok(Some(entries))
        }

        /// Walks one frame (its magic already read): decompresses blocks into `head` until the
        /// WARC header and any HTTP header are out, skips the other blocks by their sizes.
        /// Returns the frame's content size and the WARC header's length.
        fn frame(
            &mut self,
            decoder: &mut Decoder<'_>,
            head: &mut Vec<u8>,
        ) -> io::Result<Option<(u64, usize)>> {
            head.clear();
            let mut descriptor = [0u8; 1];
            self.read_exact(&mut descriptor)?;
            let d = descriptor[0];
            let single_segment = d & 0x20 != 0;
            let checksum = d & 0x04 != 0;
            let dict_id_len = [0, 1, 2, 4][(d & 0x03) as usize];
            let fcs_len = match d >> 6 {
                0 if single_segment => 1,
                0 => 0,
                1 => 2,
                2 => 4,
                _ => 8,
            };
            let rest_len = usize::from(!single_segment) + dict_id_len + fcs_len;
            let mut header = vec![0u8; 5 + rest_len];
            header[..4].copy_from_slice(&ZSTD_MAGIC.to_le_bytes());
            header[4] = d;
            self.read_exact(&mut header[5..])?;
            let Ok(Some(content_size)) = zstd_safe::get_frame_content_size(&header) else {
                return Ok(None);
            };
            let mut decoding = feed(decoder, &header, head)?;
            loop {
                let mut block = [0u8; 3];
                self.read_exact(&mut block)?;
                let raw = u32::from_le_bytes([block[0], block[1], block[2], 0]);
                let last = raw & 1 != 0;
                let size = (raw >> 3) as u64;
                let stored = match (raw >> 1) & 3 {
                    0 | 2 => size,
                    1 => 1,
                    _ => return Ok(None),
                };
                if decoding {
                    let mut bytes = vec![0u8; 3 + stored as usize];
                    bytes[..3].copy_from_slice(&block);
                    self.read_exact(&mut bytes[3..])?;
                    feed(decoder, &bytes, head)?;
                    decoding = !headers_complete(head);
                } else {
                    self.skip(stored)?;
                }
                if last {
                    break;
                }
            }
            if checksum {
                self.skip(4)?;
            }
            let warc_end = blank_line(head).map(|i| i + 4);
            Ok(warc_end.map(|end| (content_size, end)))
        }
    }

    /// Feeds compressed bytes to the decoder, appending what it yields to `head`; returns
    /// whether more is wanted (headers incomplete and under the size bound).
    fn feed(decoder: &mut Decoder<'_>, bytes: &[u8], head: &mut Vec<u8>) -> io::Result<bool> {
        let mut input = InBuffer::around(bytes);
        loop {
            head.reserve(64 << 10);
            let before = (input.pos(), head.len());
            decoder.run(&mut input, &mut OutBuffer::around_pos(head, head.len()))?;
            let progressed = (input.pos(), head.len()) != before;
            if input.pos() == bytes.len() && head.len() < head.capacity() || !progressed {
                break;
            }
        }
        Ok(!headers_complete(head))
    }

    /// The WARC header has ended, and so has the HTTP header of an HTTP block (or the head
    /// has grown past what is parsed anyway).
    fn headers_complete(head: &[u8]) -> bool {
        if head.len() >= MAX_HTTP_HEAD {
            return true;
        }
        let Some(warc_end) = blank_line(head).map(|i| i + 4) else {
            return false;
        };
        let http = APPLICATION_HTTP.find(&head[..warc_end]).is_some();
        !http || blank_line(&head[warc_end..]).is_some()
    }
}
