//! Reading captures back from the collection's WARCs, for the offline copy and for replay
//! alike: a capture's own record gives its status and headers (a revisit's own, or its
//! original's when it has none, as pywb reads one), and the record that stores its payload (a
//! revisit's original, found through the index) gives the payload and its content encoding.
//! Payloads are read whole up to a limit, or streamed; either way a payload stored with its
//! chunk framing (wget, warcprox) comes de-chunked (`chunked`).

mod chunked;

use std::borrow::Cow;
use std::io::BufRead;
use std::path::PathBuf;

use super::{Collection, CollectionError};
use crate::index::{Capture, Index};
use crate::warc::ReadError;
use crate::warc::reader::{CaptureRecord, read_capture_exact, with_payload, with_payload_exact};
use chunked::{Dechunked, is_chunked};

/// A capture's own headers, and the content encoding of its payload.
#[derive(Debug, Clone)]
pub struct CaptureHead {
    /// The capture's own record: WARC header and HTTP header (payload left empty). A revisit
    /// written without an HTTP header carries its original's.
    pub record: CaptureRecord,
    /// `Content-Encoding` of the record that stores the payload.
    pub encoding: Option<String>,
}

impl CaptureHead {
    pub fn status(&self) -> Option<u16> {
        self.record.status()
    }

    /// The fields the capture answers with, in their order: its HTTP header's (see
    /// [`http_fields`]), or for a record that holds no HTTP message (a `resource`, a
    /// `metadata` record) the one its WARC header gives, its `Content-Type`.
    pub fn fields(&self) -> Vec<(String, String)> {
        if self.record.http_head.is_empty() && !self.record.header.holds_http() {
            return self
                .record
                .header
                .get("Content-Type")
                .map(|ct| vec![("Content-Type".to_string(), ct.to_string())])
                .unwrap_or_default();
        }
        http_fields(&self.record.http_head)
    }

    /// A field the capture answers with, by case-insensitive name.
    pub fn http_header(&self, name: &str) -> Option<String> {
        field(&self.fields(), name)
    }

    pub fn content_type(&self) -> Option<String> {
        self.http_header("content-type")
    }
}

/// The fields of an HTTP header block (status line first), in their order. Read as other
/// tools write them: lines ended by CRLF or a bare LF, a folded line (obsolete line folding,
/// RFC 9112 section 5.2) joined to the field it continues, a value that is not UTF-8 read
/// byte for character (the Fetch standard's isomorphic decoding).
pub fn http_fields(head: &[u8]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let text = match std::str::from_utf8(line) {
            Ok(text) => text.to_string(),
            Err(_) => line.iter().map(|&b| char::from(b)).collect(),
        };
        if text.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(text.trim());
            }
        } else if let Some((name, value)) = text.split_once(':') {
            fields.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// The first value of a field, by case-insensitive name.
fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// How a stored payload reads, from the fields of the record that stores it.
struct Framing {
    encoding: Option<String>,
    chunked: bool,
}

impl Framing {
    fn of(http_head: &[u8]) -> Framing {
        let fields = http_fields(http_head);
        Framing {
            encoding: field(&fields, "content-encoding"),
            chunked: field(&fields, "transfer-encoding").is_some_and(|te| is_chunked(&te)),
        }
    }
}

/// A payload read into memory, or its first bytes and where the whole lies.
#[derive(Debug)]
pub struct Payload {
    /// The payload, de-chunked if it was stored chunked.
    pub bytes: Vec<u8>,
    /// Whether `bytes` stops at the read limit, short of the whole.
    pub cut: bool,
    pub location: PayloadLocation,
}

impl Payload {
    /// The payload's size as served: `None` for one cut at the read limit and stored chunked,
    /// whose size is known only once it is de-chunked to its end.
    pub fn size(&self) -> Option<u64> {
        match (self.cut, self.location.chunked) {
            (false, _) => Some(self.bytes.len() as u64),
            (true, false) => Some(self.location.size),
            (true, true) => None,
        }
    }
}

/// Where a payload lies: the record at `offset` of `file`, and the payload's size.
#[derive(Debug, Clone)]
pub struct PayloadLocation {
    pub file: PathBuf,
    pub offset: u64,
    /// The stored payload's size, chunk framing included.
    pub size: u64,
    /// Whether the payload is stored with its chunk framing.
    pub chunked: bool,
}

impl PayloadLocation {
    /// Streams the payload through `f`, de-chunked if it is stored chunked: memory stays flat
    /// whatever its size.
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn BufRead) -> T) -> Result<T, ReadError> {
        with_payload(&self.file, self.offset, |_, body| {
            if self.chunked {
                f(&mut Dechunked::new(body))
            } else {
                f(body)
            }
        })
    }
}

impl Collection {
    /// Reads a capture: its own headers, and at most `limit` bytes of its payload (before
    /// de-chunking).
    pub fn read_capture(
        &self,
        index: &Index,
        capture: &Capture,
        limit: u64,
    ) -> Result<(CaptureHead, Payload), CollectionError> {
        let stored = stored_by(index, capture)?;
        let same = matches!(stored, Cow::Borrowed(_));
        let mut own = self.read_record(capture, if same { limit } else { 0 })?;
        let mut storing = if same {
            None
        } else {
            Some(self.read_record(&stored, limit)?)
        };
        if let Some(original) = &storing {
            lend_http_head(&mut own, &original.http_head);
        }
        let holder = storing.as_mut().unwrap_or(&mut own);
        let framing = Framing::of(&holder.http_head);
        let size = holder
            .header
            .content_length()
            .map_or(holder.payload.len() as u64, |n| {
                n.saturating_sub(holder.http_head.len() as u64)
            });
        let mut bytes = std::mem::take(&mut holder.payload);
        if framing.chunked {
            bytes = dechunk(bytes);
        }
        let payload = Payload {
            bytes,
            cut: holder.cut,
            location: PayloadLocation {
                file: self.record_file(&stored)?,
                offset: stored.offset,
                size,
                chunked: framing.chunked,
            },
        };
        let head = CaptureHead {
            record: own,
            encoding: framing.encoding,
        };
        Ok((head, payload))
    }

    /// Streams a capture's payload through `f`, de-chunked, with its headers: memory stays
    /// flat whatever the payload's size. A capture that stores its own payload is read once.
    pub fn stream_capture<T>(
        &self,
        index: &Index,
        capture: &Capture,
        f: impl FnOnce(&CaptureHead, &mut dyn BufRead) -> T,
    ) -> Result<T, CollectionError> {
        let stored = stored_by(index, capture)?;
        let own = if matches!(stored, Cow::Borrowed(_)) {
            None
        } else {
            Some(self.read_record(capture, 0)?)
        };
        let file = self.record_file(&stored)?;
        let read = with_payload_exact(&file, stored.offset, stored.length, |http_head, body| {
            let mut record = own.unwrap_or_else(|| CaptureRecord::headers_only(http_head));
            lend_http_head(&mut record, http_head);
            let framing = Framing::of(http_head);
            let head = CaptureHead {
                record,
                encoding: framing.encoding,
            };
            if framing.chunked {
                f(&head, &mut Dechunked::new(body))
            } else {
                f(&head, body)
            }
        });
        read.map_err(|source| CollectionError::Read { path: file, source })
    }

    fn read_record(&self, capture: &Capture, limit: u64) -> Result<CaptureRecord, CollectionError> {
        let file = self.record_file(capture)?;
        read_capture_exact(&file, capture.offset, capture.length, limit)
            .map_err(|source| CollectionError::Read { path: file, source })
    }
}

/// A revisit written without an HTTP header (Heritrix's server-not-modified revisits, some
/// warcprox ones) answers with its original's status and fields, as pywb does.
fn lend_http_head(revisit: &mut CaptureRecord, original: &[u8]) {
    if revisit.http_head.is_empty() {
        revisit.http_head = original.to_vec();
    }
}

/// A whole payload read into memory, de-chunked.
fn dechunk(framed: Vec<u8>) -> Vec<u8> {
    use std::io::Read;
    let mut body = Vec::with_capacity(framed.len());
    match Dechunked::new(&framed[..]).read_to_end(&mut body) {
        Ok(_) => body,
        // Reading from memory does not fail; were it to, the bytes are served as stored.
        Err(_) => framed,
    }
}

/// The capture whose record stores this one's payload: borrowed when it is the capture itself.
fn stored_by<'a>(index: &Index, capture: &'a Capture) -> Result<Cow<'a, Capture>, CollectionError> {
    index
        .payload_of(capture)
        .ok_or_else(|| CollectionError::NoPayload {
            url: capture.url.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_as_other_tools_wrote_them() {
        let head = b"HTTP/1.1 302 Found\nLOCATION:\r\n  /a\r\n\tb\nX-Latin: caf\xe9\r\nno colon\r\n\r\nBody: not a field";
        assert_eq!(
            http_fields(head),
            [
                ("LOCATION".to_string(), "/a b".to_string()),
                ("X-Latin".to_string(), "caf\u{e9}".to_string()),
            ]
        );
        let framing = Framing::of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assert!(framing.chunked && framing.encoding.is_none());
    }
}
