//! The WARC layer: the record model, the writer (per-record gzip or zstd, sha256 digests, `.open`
//! files that roll over), the streaming reader for anyone's WARCs, and verification. It uses
//! nothing else in the crate, so it could become a crate of its own.

pub mod codec;
pub mod digest;
pub mod error;
pub mod reader;
pub mod record;
pub mod repair;
pub mod verify;
pub mod writer;

pub use codec::Compression;
pub use error::{ReadError, WriteError};
pub use reader::{Record, Span, WarcReader};
pub use record::{Header, RecordType};
pub use writer::{Block, NewRecord, WarcWriter, WriterConfig, Written};

/// True for a name a WARC file of any compression may have, in progress (`.open`) or not.
pub fn is_warc_name(name: &str) -> bool {
    let name = name.strip_suffix(writer::OPEN_SUFFIX).unwrap_or(name);
    [".warc", ".warc.gz", ".warc.zst"]
        .iter()
        .any(|ext| name.ends_with(ext))
}
