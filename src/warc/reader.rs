//! A streaming reader for WARC files written by anyone: gzip (one member per record, or many
//! records per member), zstd (with or without a dictionary frame) or uncompressed; WARC/1.0 and
//! 1.1. Records come one at a time with their offset, and their blocks are streamed, so memory
//! stays flat whatever a record's size.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

use super::arc;
use super::codec::{Buffer, Compression, Unpacker};
use super::dictionary::{DICT_FRAME_MAGIC, Decoding, file_dictionary, le32};
use super::error::ReadError;
use super::record::Header;

/// A WARC header larger than this is treated as damage rather than buffered.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Where a record lies in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Offset of the gzip member or zstd frame (or, uncompressed, the first byte) that holds
    /// the record's start.
    pub offset: u64,
    /// Compressed bytes from `offset` to the end of the record's last member. `None` when the
    /// record does not end its member (several records share one gzip member), so it cannot
    /// be read alone.
    pub length: Option<u64>,
    /// Whether the record starts its member, and where in the file its member ends if the
    /// record ends it: the first record of a shared member reads alone from its offset too,
    /// up to the member's end.
    pub starts_member: bool,
    pub member_end: Option<u64>,
}

impl Span {
    /// A record alone in its member or frame, `length` bytes from `offset`.
    pub fn alone(offset: u64, length: u64) -> Span {
        Span {
            offset,
            length: Some(length),
            starts_member: true,
            member_end: Some(offset + length),
        }
    }
}

pub struct WarcReader<R> {
    unpacker: Unpacker<R>,
    compression: Compression,
    /// The record being read, if any: its start and the block bytes not yet consumed.
    open: Option<OpenRecord>,
    records_read: u64,
    warnings: Vec<Warning>,
    /// Whether the records read so far are ARC records.
    reads_arc: bool,
}

/// A departure from the format that readers accept (warcio and FastWARC both do), noted with
/// the offset of its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub offset: u64,
    pub message: String,
}

#[derive(Debug, Clone, Copy)]
struct OpenRecord {
    offset: u64,
    starts_member: bool,
    remaining: u64,
    /// Where the record starts in the decompressed stream.
    start: u64,
    /// An ARC record, closed by one newline rather than `CRLF CRLF`.
    arc: bool,
}

/// A record read whole, up to and with the `CRLF CRLF` after its block; where it ends in the
/// file is yet to be asked ([`WarcReader::span_of`]), which may read on.
#[derive(Debug, Clone, Copy)]
pub struct Closed {
    pub offset: u64,
    /// Where the record starts and ends in the decompressed stream (after its trailer).
    pub start: u64,
    pub end: u64,
    starts_member: bool,
    block_end: u64,
    /// Where the record's member ended, when reading its trailer looked past that end.
    member_end: Option<u64>,
}

impl WarcReader<File> {
    /// Opens a file, telling its compression from its first bytes.
    pub fn open(path: &Path) -> Result<WarcReader<File>, ReadError> {
        let (mut file, compression, _) = open_sniffed(path)?;
        io::Seek::rewind(&mut file).map_err(|e| ReadError::io(0, e))?;
        WarcReader::new(file, compression)
    }
}

/// What one record read from its offset is given to decompress into: a record is mostly a
/// few kilobytes, and each read pays for its buffers (replay and the offline copy read
/// thousands), where a whole-file read wants large ones.
const RECORD_BUFFER: usize = 32 << 10;

/// A file opened, its compression told from its first bytes (returned too). A zip (a WACZ
/// package) is let through, as plain, for [`sniff_at`] to tell at a record's offset.
fn open_sniffed(path: &Path) -> Result<(File, Compression, [u8; 8]), ReadError> {
    let mut file = File::open(path).map_err(|e| ReadError::io(0, e))?;
    let mut prefix = [0u8; 8];
    let n = read_up_to(&mut file, &mut prefix).map_err(|e| ReadError::io(0, e))?;
    // An empty file reads as one without records, as warcio and FastWARC read it.
    let sniffed = if n == 0 || super::wacz::is_zip_prefix(&prefix[..n]) {
        Some(Compression::None)
    } else {
        Compression::sniff(&prefix[..n])
    };
    let compression = sniffed.ok_or_else(|| ReadError::NotWarc {
        found: printable_prefix(&prefix[..n]),
    })?;
    Ok((file, compression, prefix))
}

/// The compression of what starts at `offset` of a file.
fn sniff_at(file: &File, offset: u64) -> Result<Compression, ReadError> {
    use std::os::unix::fs::FileExt;
    let mut prefix = [0u8; 8];
    let n = file
        .read_at(&mut prefix, offset)
        .map_err(|e| ReadError::io(offset, e))?;
    Compression::sniff(&prefix[..n]).ok_or_else(|| ReadError::NotWarc {
        found: printable_prefix(&prefix[..n]),
    })
}

impl WarcReader<File> {
    /// Opens a file at a record's offset (from the index), to read that record and what
    /// follows. A file that starts with a zstd dictionary is read from the offset too, with
    /// the dictionary read from its start (once per file; see
    /// [`super::dictionary::file_dictionary`]).
    pub fn open_at(path: &Path, offset: u64) -> Result<WarcReader<File>, ReadError> {
        WarcReader::open_at_buffered(path, offset, RECORD_BUFFER)
    }

    /// As [`WarcReader::open_at`], with buffers of `buffer` bytes.
    fn open_at_buffered(
        path: &Path,
        offset: u64,
        buffer: usize,
    ) -> Result<WarcReader<File>, ReadError> {
        let (mut file, mut compression, prefix) = open_sniffed(path)?;
        if super::wacz::is_zip_prefix(&prefix) {
            // A WARC file stored in a WACZ package: what the offset starts tells.
            compression = sniff_at(&file, offset)?;
        }
        // Read from its start, a file loads its dictionary as it goes.
        let dictionary = match le32(&prefix) {
            DICT_FRAME_MAGIC if offset > 0 => dictionary_for(path, &file, offset)?,
            _ => None,
        };
        io::Seek::seek(&mut file, io::SeekFrom::Start(offset))
            .map_err(|e| ReadError::io(offset, e))?;
        let unpacker = match &dictionary {
            Some(dictionary) => Unpacker::zstd_at(file, offset, buffer, Some(dictionary)),
            None => Unpacker::with_buffer(file, compression, offset, buffer),
        }
        .map_err(|e| ReadError::io(offset, e))?;
        Ok(WarcReader::with_unpacker(unpacker, compression))
    }
}

/// The dictionary of a zstd file read from `offset`, if the file starts with one; an offset
/// inside the dictionary frame is no record's.
fn dictionary_for(path: &Path, file: &File, offset: u64) -> Result<Option<Decoding>, ReadError> {
    let Some(found) = file_dictionary(path, file).map_err(|e| ReadError::io(0, e))? else {
        return Ok(None);
    };
    if offset < found.frame_end {
        return Err(ReadError::Malformed {
            offset,
            detail: format!(
                "no record starts here: the zstd dictionary frame runs to offset {}",
                found.frame_end
            ),
        });
    }
    Ok(Some(found.decoding))
}

impl<R: Read> WarcReader<R> {
    pub fn new(src: R, compression: Compression) -> Result<WarcReader<R>, ReadError> {
        let unpacker = Unpacker::new(src, compression).map_err(|e| ReadError::io(0, e))?;
        Ok(WarcReader::with_unpacker(unpacker, compression))
    }

    /// A reader of `src`, which starts at `offset` of its file (a WARC file stored in a WACZ
    /// package): offsets it reports are the file's.
    pub fn new_at(
        src: R,
        compression: Compression,
        offset: u64,
    ) -> Result<WarcReader<R>, ReadError> {
        let unpacker =
            Unpacker::new_at(src, compression, offset).map_err(|e| ReadError::io(offset, e))?;
        Ok(WarcReader::with_unpacker(unpacker, compression))
    }

    fn with_unpacker(unpacker: Unpacker<R>, compression: Compression) -> WarcReader<R> {
        WarcReader {
            unpacker,
            compression,
            open: None,
            records_read: 0,
            warnings: Vec::new(),
            reads_arc: false,
        }
    }

    /// What was tolerated so far, oldest first; taking them leaves none.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// How many decompressed bytes were read: at the end, the stream's length.
    pub fn decompressed_position(&self) -> u64 {
        self.unpacker.decompressed_position()
    }

    /// The next record, or `None` at a clean end of file. Whatever the previous record's block
    /// left unread is skipped first.
    pub fn next_record(&mut self) -> Result<Option<Record<'_, R>>, ReadError> {
        if self.open.is_some() {
            self.finish_record()?;
        }
        let starts_member = self.unpacker.at_member_start()
            || self
                .unpacker
                .at_boundary()
                .map_err(|e| ReadError::io(self.unpacker.position(), e))?;
        let offset_hint = self.unpacker.position();
        let at_eof = self
            .unpacker
            .fill_buf()
            .map_err(|e| ReadError::io(offset_hint, e))?
            .is_empty();
        if at_eof {
            return Ok(None);
        }
        let offset = self.unpacker.member_start();
        let start = self.unpacker.decompressed_position();
        let first = self.records_read == 0;
        let header = read_header(&mut self.unpacker, offset, first)?;
        // An ARC header line is taken only in an ARC file (one read from its start begins
        // with one), never as a stray line inside a WARC file.
        if arc::is_arc(&header) && !first && !self.reads_arc {
            return Err(ReadError::Malformed {
                offset,
                detail: "expected a WARC version line, found an ARC header line".into(),
            });
        }
        self.reads_arc |= arc::is_arc(&header);
        let remaining = header
            .content_length()
            .ok_or_else(|| ReadError::Malformed {
                offset,
                detail: "missing or unreadable Content-Length".into(),
            })?;
        self.open = Some(OpenRecord {
            offset,
            starts_member,
            remaining,
            start,
            arc: arc::is_arc(&header),
        });
        self.records_read += 1;
        Ok(Some(Record {
            header,
            offset,
            block_start: self.unpacker.decompressed_position(),
            reader: self,
        }))
    }

    /// Ends the current record: skips the rest of its block, checks the `CRLF CRLF` that
    /// closes it and tells where it lies in the file.
    pub fn finish_record(&mut self) -> Result<Span, ReadError> {
        let closed = self.close_record()?;
        self.span_of(closed)
    }

    /// Skips the rest of the current record's block and the `CRLF CRLF` after it: once this
    /// succeeds the record was read whole, whatever follows it.
    pub fn close_record(&mut self) -> Result<Closed, ReadError> {
        let Some(open) = self.open else {
            return Err(ReadError::Malformed {
                offset: self.unpacker.position(),
                detail: "no record is open".into(),
            });
        };
        let offset = open.offset;
        let mut rest = BlockReader {
            unpacker: &mut self.unpacker,
            remaining: &mut self.open,
        };
        io::copy(&mut rest, &mut io::sink()).map_err(|e| ReadError::io(offset, e))?;
        self.open = None;
        // Uncompressed, a record's length stops at the end of its block, as warcio (and so
        // cdxj-indexer and pywb) count it; compressed, it runs to the end of its member.
        let block_end = self.unpacker.position();
        let member_end = self.skip_trailer(offset, open.arc)?;
        Ok(Closed {
            offset,
            start: open.start,
            end: self.unpacker.decompressed_position(),
            starts_member: open.starts_member,
            block_end,
            member_end,
        })
    }

    /// Where a closed record lies: for a compressed file this asks whether the record ended
    /// its member, which reads on to the member's end (and fails if the file is torn there).
    pub fn span_of(&mut self, closed: Closed) -> Result<Span, ReadError> {
        let member_end = self.member_end(&closed)?;
        let end = match self.compression {
            Compression::None => Some(closed.block_end),
            _ => member_end,
        };
        let length = end
            .filter(|_| closed.starts_member)
            .map(|end| end - closed.offset);
        Ok(Span {
            offset: closed.offset,
            length,
            starts_member: closed.starts_member,
            member_end: member_end.filter(|_| self.compression != Compression::None),
        })
    }

    /// Where in the file the member or frame that a closed record ended in ends, if the record
    /// ended it (`None` when the next record shares it); uncompressed, where the next record
    /// may start.
    pub fn member_end(&mut self, closed: &Closed) -> Result<Option<u64>, ReadError> {
        if closed.member_end.is_some() {
            return Ok(closed.member_end);
        }
        let ends_member = self
            .unpacker
            .at_boundary()
            .map_err(|e| ReadError::io(closed.offset, e))?;
        Ok(ends_member.then(|| self.unpacker.position()))
    }

    /// Consumes line ends that follow a record's trailer inside its member (or, uncompressed,
    /// before the next record or the end of the file), as warcio and FastWARC skip them: so a
    /// member stays the record's own, and a file may end in blank lines.
    fn skip_blank_lines(&mut self, offset: u64) -> Result<(), ReadError> {
        let compressed = self.compression != Compression::None;
        let io_err = |e| ReadError::io(offset, e);
        loop {
            // A member torn past the record is for the next read to report, not this record.
            if compressed && self.unpacker.at_boundary().unwrap_or(true) {
                return Ok(());
            }
            match self.unpacker.peek(1).map_err(io_err)?.first() {
                Some(b'\r' | b'\n') => self.unpacker.consume(1),
                _ => return Ok(()),
            }
        }
    }

    /// Consumes the `CRLF CRLF` after a block, which may run on into the next member. A record
    /// followed by fewer line ends, or by bare `LF`s, at the end of the file or its member or
    /// before the next `WARC/` line, is read with a warning, as warcio and FastWARC read it;
    /// anything else means the block was not as long as its Content-Length said. Returns where
    /// the record's member ended if reading looked past that end.
    fn skip_trailer(&mut self, offset: u64, arc: bool) -> Result<Option<u64>, ReadError> {
        let io_err = |e| ReadError::io(offset, e);
        let compressed = self.compression != Compression::None;
        let mut seen = Vec::with_capacity(4);
        let mut member_end = None;
        let mut next = Vec::new();
        // An ARC record ends in one newline, which some writers leave out.
        let expected = if arc { 1 } else { 4 };
        while seen.len() < expected {
            member_end = match compressed.then(|| self.unpacker.at_boundary()) {
                Some(Ok(true)) => Some(self.unpacker.position()),
                // The member is torn past the block: the trailer is all there is to read.
                Some(Err(_)) => break,
                _ => None,
            };
            // Damage in the next member is the next record's to report.
            next = match self.unpacker.peek(5) {
                Ok(bytes) => bytes.to_vec(),
                Err(_) if member_end.is_some() => Vec::new(),
                Err(e) => return Err(io_err(e)),
            };
            match next.first() {
                Some(&b @ (b'\r' | b'\n')) => {
                    seen.push(b);
                    self.unpacker.consume(1);
                }
                _ => break,
            }
        }
        if seen == b"\r\n\r\n" || arc {
            let member_end = member_end.filter(|_| seen.is_empty());
            if member_end.is_none() {
                self.skip_blank_lines(offset)?;
            }
            return Ok(member_end);
        }
        let tolerated = member_end.is_some()
            || next.is_empty()
            || b"WARC/".starts_with(&next)
            || seen.len() == 4;
        if !tolerated {
            return Err(ReadError::Malformed {
                offset,
                detail: format!(
                    "block is not followed by CRLF CRLF (Content-Length wrong?); found {:?}",
                    String::from_utf8_lossy(&[&seen[..], &next].concat())
                ),
            });
        }
        self.warnings.push(Warning {
            offset,
            message: format!(
                "record is followed by {:?}, not CRLF CRLF",
                String::from_utf8_lossy(&seen)
            ),
        });
        Ok(member_end)
    }
}

/// After damage at `damaged`, the offset of the next record that reads whole, if any: each
/// place past it where a member, frame or (uncompressed) `WARC/` line starts is tried in turn,
/// as a reader that resynchronises would. Finding none means the damage runs to the end.
pub fn next_whole_record(
    path: &Path,
    compression: Compression,
    damaged: u64,
) -> io::Result<Option<u64>> {
    let signature: &[u8] = match compression {
        Compression::None => b"WARC/",
        Compression::Gzip => &[0x1f, 0x8b, 0x08],
        Compression::Zstd => &[0x28, 0xb5, 0x2f, 0xfd],
    };
    let mut file = File::open(path)?;
    let dictionary = match compression {
        Compression::Zstd => file_dictionary(path, &file)?.map(|found| found.decoding),
        _ => None,
    };
    let finder = memchr::memmem::Finder::new(signature);
    let mut chunk = vec![0u8; 1 << 20];
    let mut base = damaged + 1;
    loop {
        io::Seek::seek(&mut file, io::SeekFrom::Start(base))?;
        let n = read_up_to(&mut file, &mut chunk)?;
        for at in finder.find_iter(&chunk[..n]) {
            let candidate = base + at as u64;
            if reads_whole_record_at(&file, compression, dictionary.as_ref(), candidate) {
                return Ok(Some(candidate));
            }
        }
        if n < chunk.len() {
            return Ok(None);
        }
        // Overlap the chunks by a signature's length, so none is missed across the seam.
        base += (n - signature.len()) as u64;
    }
}

/// Whether a whole record (header, block and closing line ends) reads from `offset`, with
/// the file's zstd dictionary if it has one.
fn reads_whole_record_at(
    file: &File,
    compression: Compression,
    dictionary: Option<&Decoding>,
    offset: u64,
) -> bool {
    let attempt = || -> Result<(), ReadError> {
        let mut src = file;
        io::Seek::seek(&mut src, io::SeekFrom::Start(offset))
            .map_err(|e| ReadError::io(offset, e))?;
        let unpacker = match dictionary {
            Some(dictionary) => Unpacker::zstd_at(src, offset, 16 << 10, Some(dictionary)),
            None => Unpacker::with_buffer(src, compression, offset, 16 << 10),
        }
        .map_err(|e| ReadError::io(offset, e))?;
        let mut reader = WarcReader {
            unpacker,
            compression,
            open: None,
            records_read: 1,
            warnings: Vec::new(),
            reads_arc: false,
        };
        let mut record = reader.next_record()?.ok_or(ReadError::Truncated {
            offset,
            detail: String::new(),
        })?;
        io::copy(&mut record.block(), &mut io::sink()).map_err(|e| ReadError::io(offset, e))?;
        reader.close_record().map(drop)
    };
    attempt().is_ok()
}

/// Reads a header's first line into `line`, past stray blank lines between records (warcio
/// tolerates them too).
fn read_first_line(
    src: &mut impl BufRead,
    line: &mut Vec<u8>,
    offset: u64,
) -> Result<(), ReadError> {
    loop {
        line.clear();
        src.read_until(b'\n', line)
            .map_err(|e| ReadError::io(offset, e))?;
        // A version line the file cuts short (`WARC/1.` and no more) is a truncation.
        let cut = !line.ends_with(b"\n")
            && (line.starts_with(b"WARC/") || b"WARC/".starts_with(&line[..line.len().min(5)]));
        if line.is_empty() || cut {
            return Err(ReadError::Truncated {
                offset,
                detail: "file ends inside a record header".into(),
            });
        }
        if !line.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            return Ok(());
        }
    }
}

/// Reads a record header, up to and including its blank line. `first` tells whether this is
/// meant to be the file's first record, where a wrong start means "not a WARC file at all".
pub fn read_header<B: BufRead>(src: &mut B, offset: u64, first: bool) -> Result<Header, ReadError> {
    let mut limited = src.take(MAX_HEADER_BYTES);
    let mut line = Vec::with_capacity(128);
    read_first_line(&mut limited, &mut line, offset)?;
    let version = trim_eol(&line);
    if !version.starts_with(b"WARC/")
        && let Some(header) = arc::header_from_line(&String::from_utf8_lossy(version))
    {
        return Ok(header);
    }
    if !version.starts_with(b"WARC/") {
        return Err(if first {
            ReadError::NotWarc {
                found: printable_prefix(version),
            }
        } else {
            ReadError::Malformed {
                offset,
                detail: format!(
                    "expected a WARC version line, found {:?}",
                    printable_prefix(version)
                ),
            }
        });
    }
    let mut header = Header::new(&String::from_utf8_lossy(version));
    loop {
        line.clear();
        limited
            .read_until(b'\n', &mut line)
            .map_err(|e| ReadError::io(offset, e))?;
        if !line.ends_with(b"\n") {
            let detail = if limited.limit() == 0 {
                format!("record header exceeds {MAX_HEADER_BYTES} bytes")
            } else {
                "file ends inside a record header".into()
            };
            return Err(ReadError::Truncated { offset, detail });
        }
        let text = trim_eol(&line);
        if text.is_empty() {
            return Ok(header);
        }
        if matches!(text[0], b' ' | b'\t') {
            // A folded continuation line (WARC/1.1 section 4, as in RFC 2616).
            let Some(last) = header.fields.last_mut() else {
                return Err(ReadError::Malformed {
                    offset,
                    detail: "header starts with a continuation line".into(),
                });
            };
            last.1.push(' ');
            last.1.push_str(String::from_utf8_lossy(text).trim());
            continue;
        }
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            return Err(ReadError::Malformed {
                offset,
                detail: format!("header line without a colon: {:?}", printable_prefix(text)),
            });
        };
        let name = String::from_utf8_lossy(&text[..colon]).trim().to_string();
        let value = String::from_utf8_lossy(&text[colon + 1..])
            .trim()
            .to_string();
        header.fields.push((name, value));
    }
}

/// A capture read alone from its offset: the WARC header, the HTTP header that opens the block
/// (for `application/http` blocks), and the payload that follows, cut at a limit.
#[derive(Debug, Clone)]
pub struct CaptureRecord {
    pub header: Header,
    /// The status line and headers up to the blank line; empty for blocks without them.
    pub http_head: Vec<u8>,
    pub payload: Vec<u8>,
    /// Whether the payload was cut at the limit.
    pub cut: bool,
}

impl CaptureRecord {
    /// A record known only by its HTTP header (the WARC header left empty).
    pub fn headers_only(http_head: &[u8]) -> CaptureRecord {
        CaptureRecord {
            header: Header::new(""),
            http_head: http_head.to_vec(),
            payload: Vec::new(),
            cut: false,
        }
    }

    /// A field of the HTTP header, by case-insensitive name.
    pub fn http_header(&self, name: &str) -> Option<String> {
        http_header_field(&self.http_head, name)
    }

    /// The HTTP status code, if the block has an HTTP header.
    pub fn status(&self) -> Option<u16> {
        let text = String::from_utf8_lossy(&self.http_head);
        text.split_whitespace().nth(1)?.parse().ok()
    }
}

/// A field of an HTTP header block (status line first), by case-insensitive name.
pub fn http_header_field(head: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    text.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Copies the record at `offset` of `path` (an offset from the index) into `out` as it reads
/// decompressed: byte for byte from its header to the end of its trailer, so digests and
/// every header stay as written. Returns how many bytes. The record is read through once to
/// find its end, then copied.
pub fn copy_record(path: &Path, offset: u64, out: &mut dyn io::Write) -> Result<u64, ReadError> {
    let mut reader = WarcReader::open_at(path, offset)?;
    if reader.next_record()?.is_none() {
        return Err(ReadError::Truncated {
            offset,
            detail: "no record at this offset".into(),
        });
    }
    let closed = reader.close_record()?;
    let mut again = WarcReader::open_at(path, offset)?;
    let io_err = |e| ReadError::io(offset, e);
    let skip = closed.start.saturating_sub(again.decompressed_position());
    io::copy(&mut (&mut again.unpacker).take(skip), &mut io::sink()).map_err(io_err)?;
    let len = closed.end - closed.start;
    let copied = io::copy(&mut (&mut again.unpacker).take(len), out).map_err(io_err)?;
    if copied < len {
        return Err(ReadError::Truncated {
            offset,
            detail: "the record ended early on a second read".into(),
        });
    }
    Ok(copied)
}

/// The header of the record at `offset` of `path`, its block left unread: what a revisit needs
/// of its original (its record ID and date), read through buffers of a page, where a whole
/// record's read fills 32 KiB ones (a re-crawl reads one for every payload it meets again).
pub fn read_record_header(path: &Path, offset: u64) -> Result<Header, ReadError> {
    let mut reader = WarcReader::open_at_buffered(path, offset, 4096)?;
    let record = reader.next_record()?.ok_or_else(|| ReadError::Truncated {
        offset,
        detail: "no record at this offset".into(),
    })?;
    Ok(record.header)
}

/// Reads the record at `offset` of `path` (an offset from the index), with at most `limit`
/// bytes of its payload.
pub fn read_capture(path: &Path, offset: u64, limit: u64) -> Result<CaptureRecord, ReadError> {
    let reader = WarcReader::open_at(path, offset)?;
    capture_from(reader, offset, limit)
}

/// As [`read_capture`] when the index also gives the record's `length`: one read of exactly
/// those bytes, decompressed from memory (with the file's dictionary, if its frame names one).
/// Falls back to [`read_capture`] for what that cannot read alone.
pub fn read_capture_exact(
    path: &Path,
    offset: u64,
    length: u64,
    limit: u64,
) -> Result<CaptureRecord, ReadError> {
    let exact = exact_reader(path, offset, length)?;
    match exact.and_then(|reader| capture_from(reader, offset, limit).ok()) {
        Some(capture) => Ok(capture),
        None => read_capture(path, offset, limit),
    }
}

/// Records larger than this are streamed from the file rather than read whole.
const EXACT_MAX: u64 = 64 << 20;

/// A reader over exactly the `length` bytes of the record at `offset`, read in one `pread`;
/// `None` when the index gave no length, a length past [`EXACT_MAX`], or bytes that are no
/// compressed record. One read and a buffer sized to the record, where opening the file at
/// the offset costs a seek, a sniff of the file's start and two 32 KiB buffers: the offline
/// copy reads ten thousand small records in a row.
pub(super) fn exact_reader(
    path: &Path,
    offset: u64,
    length: u64,
) -> Result<Option<WarcReader<io::Cursor<Buffer>>>, ReadError> {
    use std::os::unix::fs::FileExt;
    if length == 0 || length > EXACT_MAX {
        return Ok(None);
    }
    let file = File::open(path).map_err(|e| ReadError::io(offset, e))?;
    let mut bytes = Buffer::spare(length as usize);
    file.read_exact_at(&mut bytes, offset)
        .map_err(|e| ReadError::io(offset, e))?;
    let Some(compression) = Compression::sniff(&bytes[..bytes.len().min(8)]) else {
        return Ok(None);
    };
    // A frame that names a dictionary ID was compressed with the file's dictionary (the
    // warc-zstd spec has every frame of a dictionary file name it).
    let names_dictionary = compression == Compression::Zstd
        && zstd::zstd_safe::get_dict_id_from_frame(&bytes).is_some();
    let dictionary = if names_dictionary {
        // None: the frame names a dictionary the file lacks, for the general path to report.
        let Some(dictionary) = dictionary_for(path, &file, offset)? else {
            return Ok(None);
        };
        Some(dictionary)
    } else {
        None
    };
    // Buffers no bigger than the record, from the thread's spares: the output streams.
    let buffer = (length as usize).min(64 << 10);
    let source = io::Cursor::new(bytes);
    let unpacker = match &dictionary {
        Some(dictionary) => Unpacker::zstd_at(source, offset, buffer, Some(dictionary)),
        None => Unpacker::with_buffer(source, compression, offset, buffer),
    };
    Ok(unpacker
        .ok()
        .map(|unpacker| WarcReader::with_unpacker(unpacker, compression)))
}

fn capture_from<R: Read>(
    mut reader: WarcReader<R>,
    offset: u64,
    limit: u64,
) -> Result<CaptureRecord, ReadError> {
    let mut record = reader.next_record()?.ok_or_else(|| ReadError::Truncated {
        offset,
        detail: "no record at this offset".into(),
    })?;
    let header = record.header.clone();
    let http = header.holds_http();
    let mut block = record.block();
    let http_head = if http {
        read_http_head(&mut block).map_err(|e| ReadError::io(offset, e))?
    } else {
        Vec::new()
    };
    let mut payload = Vec::new();
    (&mut block)
        .take(limit)
        .read_to_end(&mut payload)
        .map_err(|e| ReadError::io(offset, e))?;
    let cut = !block
        .fill_buf()
        .map_err(|e| ReadError::io(offset, e))?
        .is_empty();
    Ok(CaptureRecord {
        header,
        http_head,
        payload,
        cut,
    })
}

/// Reads a block's HTTP header: up to and with the blank line that ends it (at most 1 MiB).
/// Some tools wrote heads with bare LF line ends: a blank line is LF LF there.
pub(super) fn read_http_head(block: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while head.len() < 1 << 20 {
        let available = block.fill_buf()?;
        if available.is_empty() {
            break;
        }
        // Only a line feed ends a head; only the head is copied out of the chunk (perf:
        // byte by byte, this was 2% of an offline copy).
        let end = memchr::memchr_iter(b'\n', available)
            .map(|i| i + 1)
            .find(|&end| ends_a_head(&head, &available[..end]));
        let take = end.unwrap_or(available.len());
        head.extend_from_slice(&available[..take]);
        block.consume(take);
        if end.is_some() {
            break;
        }
    }
    Ok(head)
}

/// Whether the head read so far, then `chunk`, ends with a blank line: `CRLF CRLF`, or `LF LF`
/// where line ends are bare.
fn ends_a_head(before: &[u8], chunk: &[u8]) -> bool {
    let mut last = before.iter().chain(chunk).rev().copied();
    matches!(
        (last.next(), last.next(), last.next(), last.next()),
        (Some(b'\n'), Some(b'\n'), ..) | (Some(b'\n'), Some(b'\r'), Some(b'\n'), Some(b'\r'))
    )
}

/// Streams the payload of the record at `offset` (an offset from the index) through `f`, with
/// the record's HTTP header: memory stays flat whatever the payload's size. For records that
/// do not hold an HTTP message the header is empty and the payload is the whole block.
pub fn with_payload<T>(
    path: &Path,
    offset: u64,
    f: impl FnOnce(&[u8], &mut dyn BufRead) -> T,
) -> Result<T, ReadError> {
    let reader = WarcReader::open_at(path, offset)?;
    payload_from(reader, offset, f).map_err(|(e, _)| e)
}

/// As [`with_payload`] when the index also gives the record's `length` (see [`exact_reader`]);
/// what cannot be read alone is streamed from the file as [`with_payload`] does.
pub fn with_payload_exact<T>(
    path: &Path,
    offset: u64,
    length: u64,
    f: impl FnOnce(&[u8], &mut dyn BufRead) -> T,
) -> Result<T, ReadError> {
    let Some(reader) = exact_reader(path, offset, length)? else {
        return with_payload(path, offset, f);
    };
    // The WARC header and the HTTP head are decoded before `f` is called: a record that needs
    // more than its own bytes fails there, with `f` given back for the file to be read.
    match payload_from(reader, offset, f) {
        Ok(value) => Ok(value),
        Err((_, Some(f))) => with_payload(path, offset, f),
        Err((e, None)) => Err(e),
    }
}

/// Reads the next record's heads from `reader` and streams its payload through `f`; on an
/// error before `f` is called, `f` comes back with it.
#[allow(clippy::type_complexity)]
fn payload_from<R: Read, T, F: FnOnce(&[u8], &mut dyn BufRead) -> T>(
    mut reader: WarcReader<R>,
    offset: u64,
    f: F,
) -> Result<T, (ReadError, Option<F>)> {
    let mut record = match reader.next_record() {
        Ok(Some(record)) => record,
        Ok(None) => {
            let detail = "no record at this offset".into();
            return Err((ReadError::Truncated { offset, detail }, Some(f)));
        }
        Err(e) => return Err((e, Some(f))),
    };
    let http = record.header.holds_http();
    let mut block = record.block();
    let head = if http {
        match read_http_head(&mut block) {
            Ok(head) => head,
            Err(e) => return Err((ReadError::io(offset, e), Some(f))),
        }
    } else {
        Vec::new()
    };
    Ok(f(&head, &mut block))
}

/// One record: its header, where it starts, and its block as a stream.
pub struct Record<'a, R> {
    pub header: Header,
    pub offset: u64,
    /// Where the block starts in the decompressed stream (the header's end).
    pub block_start: u64,
    reader: &'a mut WarcReader<R>,
}

impl<R: Read> Record<'_, R> {
    /// The block, read up to its Content-Length.
    pub fn block(&mut self) -> BlockReader<'_, R> {
        BlockReader {
            unpacker: &mut self.reader.unpacker,
            remaining: &mut self.reader.open,
        }
    }
}

/// A record's block: at most Content-Length bytes; an error if the file ends before that.
pub struct BlockReader<'a, R> {
    unpacker: &'a mut Unpacker<R>,
    remaining: &'a mut Option<OpenRecord>,
}

impl<R: Read> BufRead for BlockReader<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let remaining = self.remaining.map_or(0, |o| o.remaining);
        if remaining == 0 {
            return Ok(&[]);
        }
        let available = self.unpacker.fill_buf()?;
        if available.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("file ends {remaining} bytes before the end of the record block"),
            ));
        }
        let n = available
            .len()
            .min(remaining.min(usize::MAX as u64) as usize);
        Ok(&available[..n])
    }

    fn consume(&mut self, amt: usize) {
        self.unpacker.consume(amt);
        if let Some(open) = self.remaining.as_mut() {
            open.remaining -= amt as u64;
        }
    }
}

impl<R: Read> Read for BlockReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        super::codec::read_buffered(self, buf)
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn read_up_to(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..])? {
            0 => break,
            read => n += read,
        }
    }
    Ok(n)
}

/// The first bytes of something that is not what was expected, fit for a one-line message.
fn printable_prefix(bytes: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(&bytes[..bytes.len().min(24)])
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head split anywhere, its blank line too, ends where its blank line does, and what
    /// follows is left for the payload.
    #[test]
    fn a_head_ends_at_its_first_blank_line_however_it_arrives() {
        for (block, head) in [
            (&b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n\n\nbody\r\n\r\n"[..], 25),
            (b"HTTP/1.0 200 OK\nA: b\n\nbody", 22),
            (b"HTTP/1.1 200 OK\r\nA: b\r\n", 23),
            (b"\n\nbody", 2),
            (b"HTTP/1.1 200 OK\r\nA: b\r\n\nbody", 24),
            (b"", 0),
        ] {
            for capacity in [1, 2, 3, 5, 64] {
                let mut reader = io::BufReader::with_capacity(capacity, block);
                let read = read_http_head(&mut reader).unwrap();
                assert_eq!(read, &block[..head], "capacity {capacity}");
                let mut rest = Vec::new();
                reader.read_to_end(&mut rest).unwrap();
                assert_eq!(rest, &block[head..], "capacity {capacity}");
            }
        }
    }
}
