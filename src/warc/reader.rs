//! A streaming reader for WARC files written by anyone: gzip (one member per record, or many
//! records per member), zstd (with or without a dictionary frame) or uncompressed; WARC/1.0 and
//! 1.1. Records come one at a time with their offset, and their blocks are streamed, so memory
//! stays flat whatever a record's size.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

use super::codec::{Compression, Unpacker};
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
}

pub struct WarcReader<R> {
    unpacker: Unpacker<R>,
    compression: Compression,
    /// The record being read, if any: its start and the block bytes not yet consumed.
    open: Option<OpenRecord>,
    records_read: u64,
}

#[derive(Debug, Clone, Copy)]
struct OpenRecord {
    offset: u64,
    starts_member: bool,
    remaining: u64,
}

impl WarcReader<File> {
    /// Opens a file, telling its compression from its first bytes.
    pub fn open(path: &Path) -> Result<WarcReader<File>, ReadError> {
        let mut file = File::open(path).map_err(|e| ReadError::io(0, e))?;
        let mut prefix = [0u8; 8];
        let n = read_up_to(&mut file, &mut prefix).map_err(|e| ReadError::io(0, e))?;
        let compression = Compression::sniff(&prefix[..n]).ok_or_else(|| ReadError::NotWarc {
            found: printable_prefix(&prefix[..n]),
        })?;
        io::Seek::rewind(&mut file).map_err(|e| ReadError::io(0, e))?;
        WarcReader::new(file, compression)
    }
}

impl WarcReader<File> {
    /// Opens a file at a record's offset (from the index), to read that record and what
    /// follows. Files that start with a zstd dictionary are read from the start up to it.
    pub fn open_at(path: &Path, offset: u64) -> Result<WarcReader<File>, ReadError> {
        let mut reader = WarcReader::open(path)?;
        let mut file = File::open(path).map_err(|e| ReadError::io(offset, e))?;
        let mut prefix = [0u8; 4];
        let n = read_up_to(&mut file, &mut prefix).map_err(|e| ReadError::io(0, e))?;
        let has_dictionary = n == 4 && u32::from_le_bytes(prefix) == 0x184D_2A5D;
        if has_dictionary {
            // The dictionary must be loaded from the start; skip forward through the stream.
            while reader.unpacker.position() < offset {
                let available = reader
                    .unpacker
                    .fill_buf()
                    .map_err(|e| ReadError::io(offset, e))?
                    .len();
                if available == 0 {
                    break;
                }
                reader.unpacker.consume(available);
            }
            return Ok(reader);
        }
        io::Seek::seek(&mut file, io::SeekFrom::Start(offset))
            .map_err(|e| ReadError::io(offset, e))?;
        let unpacker = Unpacker::new_at(file, reader.compression, offset)
            .map_err(|e| ReadError::io(offset, e))?;
        reader.unpacker = unpacker;
        Ok(reader)
    }
}

impl<R: Read> WarcReader<R> {
    pub fn new(src: R, compression: Compression) -> Result<WarcReader<R>, ReadError> {
        let unpacker = Unpacker::new(src, compression).map_err(|e| ReadError::io(0, e))?;
        Ok(WarcReader {
            unpacker,
            compression,
            open: None,
            records_read: 0,
        })
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The next record, or `None` at a clean end of file. Whatever the previous record's block
    /// left unread is skipped first.
    pub fn next_record(&mut self) -> Result<Option<Record<'_, R>>, ReadError> {
        if self.open.is_some() {
            self.finish_record()?;
        }
        let starts_member = self
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
        let first = self.records_read == 0;
        let header = read_header(&mut self.unpacker, offset, first)?;
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
        });
        self.records_read += 1;
        Ok(Some(Record {
            header,
            offset,
            reader: self,
        }))
    }

    /// Ends the current record: skips the rest of its block, checks the `CRLF CRLF` that
    /// closes it and tells where it lies in the file.
    pub fn finish_record(&mut self) -> Result<Span, ReadError> {
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
        let mut trailer = [0u8; 4];
        let n =
            read_up_to(&mut self.unpacker, &mut trailer).map_err(|e| ReadError::io(offset, e))?;
        if &trailer[..n] != b"\r\n\r\n" {
            return Err(if n < 4 {
                ReadError::Truncated {
                    offset,
                    detail: "record ends without its closing CRLF CRLF".into(),
                }
            } else {
                ReadError::Malformed {
                    offset,
                    detail: format!(
                        "block is not followed by CRLF CRLF (Content-Length wrong?); found {:?}",
                        String::from_utf8_lossy(&trailer)
                    ),
                }
            });
        }
        let ends_member = self
            .unpacker
            .at_boundary()
            .map_err(|e| ReadError::io(offset, e))?;
        let end = match self.compression {
            Compression::None => block_end,
            _ => self.unpacker.position(),
        };
        let length = (open.starts_member && ends_member).then(|| end - offset);
        Ok(Span { offset, length })
    }
}

/// Reads a record header, up to and including its blank line. `first` tells whether this is
/// meant to be the file's first record, where a wrong start means "not a WARC file at all".
pub fn read_header<B: BufRead>(src: &mut B, offset: u64, first: bool) -> Result<Header, ReadError> {
    let mut limited = src.take(MAX_HEADER_BYTES);
    let mut line = Vec::with_capacity(128);
    // Stray blank lines between records are tolerated, as warcio does.
    loop {
        line.clear();
        limited
            .read_until(b'\n', &mut line)
            .map_err(|e| ReadError::io(offset, e))?;
        if line.is_empty() {
            return Err(ReadError::Truncated {
                offset,
                detail: "file ends inside a record header".into(),
            });
        }
        if !line.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            break;
        }
    }
    let version = trim_eol(&line);
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
        if line.is_empty() {
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

/// Reads the record at `offset` of `path` (an offset from the index), with at most `limit`
/// bytes of its payload.
pub fn read_capture(path: &Path, offset: u64, limit: u64) -> Result<CaptureRecord, ReadError> {
    let reader = WarcReader::open_at(path, offset)?;
    capture_from(reader, offset, limit)
}

/// As [`read_capture`] when the index also gives the record's `length`: one read of exactly
/// those bytes, decompressed from memory. Falls back to [`read_capture`] for what that cannot
/// read alone (a record compressed with a dictionary from the file's start).
pub fn read_capture_exact(
    path: &Path,
    offset: u64,
    length: u64,
    limit: u64,
) -> Result<CaptureRecord, ReadError> {
    use std::os::unix::fs::FileExt;
    if length == 0 || length > 64 << 20 {
        return read_capture(path, offset, limit);
    }
    let file = File::open(path).map_err(|e| ReadError::io(offset, e))?;
    let mut bytes = vec![0u8; length as usize];
    file.read_exact_at(&mut bytes, offset)
        .map_err(|e| ReadError::io(offset, e))?;
    let Some(compression) = Compression::sniff(&bytes[..bytes.len().min(8)]) else {
        return read_capture(path, offset, limit);
    };
    let buffer = (length as usize).saturating_mul(4).min(256 << 10);
    let attempt = Unpacker::with_buffer(&bytes[..], compression, offset, buffer)
        .map_err(|e| ReadError::io(offset, e))
        .and_then(|unpacker| {
            let reader = WarcReader {
                unpacker,
                compression,
                open: None,
                records_read: 0,
            };
            capture_from(reader, offset, limit)
        });
    attempt.or_else(|_| read_capture(path, offset, limit))
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
fn read_http_head(block: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let ended = |head: &[u8]| head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n");
    let mut head = Vec::new();
    while !ended(&head) && head.len() < 1 << 20 {
        let available = block.fill_buf()?;
        if available.is_empty() {
            break;
        }
        let mut take = 0;
        for &b in available {
            take += 1;
            head.push(b);
            if ended(&head) {
                break;
            }
        }
        block.consume(take);
    }
    Ok(head)
}

/// Streams the payload of the record at `offset` (an offset from the index) through `f`, with
/// the record's HTTP header: memory stays flat whatever the payload's size. For records that
/// do not hold an HTTP message the header is empty and the payload is the whole block.
pub fn with_payload<T>(
    path: &Path,
    offset: u64,
    f: impl FnOnce(&[u8], &mut dyn BufRead) -> T,
) -> Result<T, ReadError> {
    let mut reader = WarcReader::open_at(path, offset)?;
    let mut record = reader.next_record()?.ok_or_else(|| ReadError::Truncated {
        offset,
        detail: "no record at this offset".into(),
    })?;
    let http = record.header.holds_http();
    let mut block = record.block();
    let head = if http {
        read_http_head(&mut block).map_err(|e| ReadError::io(offset, e))?
    } else {
        Vec::new()
    };
    Ok(f(&head, &mut block))
}

/// One record: its header, where it starts, and its block as a stream.
pub struct Record<'a, R> {
    pub header: Header,
    pub offset: u64,
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
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
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
