//! Reading captures back from the collection's WARCs, for the offline copy and for replay
//! alike: a capture's own record gives its status and headers (a revisit's own), and the
//! record that stores its payload (a revisit's original, found through the index) gives the
//! payload and its content encoding. Payloads are read whole up to a limit, or streamed;
//! either way a payload stored with its chunk framing (wget, warcprox) comes de-chunked
//! (`chunked`).

mod chunked;

use std::io::BufRead;
use std::path::PathBuf;

use super::{Collection, CollectionError};
use crate::index::{Capture, Index};
use crate::warc::ReadError;
use crate::warc::reader::{CaptureRecord, http_header_field, read_capture_exact, with_payload};
use chunked::{Dechunked, is_chunked};

/// A capture's own headers, and the content encoding of its payload.
#[derive(Debug, Clone)]
pub struct CaptureHead {
    /// The capture's own record: WARC header and HTTP header (payload left empty).
    pub record: CaptureRecord,
    /// `Content-Encoding` of the record that stores the payload.
    pub encoding: Option<String>,
}

impl CaptureHead {
    pub fn status(&self) -> Option<u16> {
        self.record.status()
    }

    pub fn http_header(&self, name: &str) -> Option<String> {
        self.record.http_header(name)
    }

    pub fn content_type(&self) -> Option<String> {
        self.http_header("content-type")
    }
}

/// How a stored payload reads, from the HTTP header of the record that stores it.
struct Framing {
    encoding: Option<String>,
    chunked: bool,
}

impl Framing {
    fn of(http_head: &[u8]) -> Framing {
        Framing {
            encoding: http_header_field(http_head, "content-encoding"),
            chunked: http_header_field(http_head, "transfer-encoding")
                .is_some_and(|te| is_chunked(&te)),
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
        let same = std::ptr::eq(stored, capture);
        let mut own = self.read_record(capture, if same { limit } else { 0 })?;
        let mut storing = if same {
            None
        } else {
            Some(self.read_record(stored, limit)?)
        };
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
                file: self.warc_file(&stored.filename)?,
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
        let own = if std::ptr::eq(stored, capture) {
            None
        } else {
            Some(self.read_record(capture, 0)?)
        };
        let file = self.warc_file(&stored.filename)?;
        let read = with_payload(&file, stored.offset, |http_head, body| {
            let record = own.unwrap_or_else(|| CaptureRecord::headers_only(http_head));
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
        let file = self.warc_file(&capture.filename)?;
        read_capture_exact(&file, capture.offset, capture.length, limit)
            .map_err(|source| CollectionError::Read { path: file, source })
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

/// The capture whose record stores this one's payload.
fn stored_by<'a>(index: &'a Index, capture: &'a Capture) -> Result<&'a Capture, CollectionError> {
    index
        .payload_of(capture)
        .ok_or_else(|| CollectionError::NoPayload {
            url: capture.url.clone(),
        })
}
