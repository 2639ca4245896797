//! The WARC layer: the record model, the writer (per-record gzip or zstd, optionally with a zstd
//! dictionary, sha256 digests, `.open` files that roll over), the streaming reader for anyone's
//! WARCs (and ARCs), and verification. It uses nothing else in the crate, so it could become a
//! crate of its own.

pub mod arc;
pub mod codec;
pub mod dictionary;
pub mod digest;
pub mod error;
pub mod reader;
pub mod recompress;
pub mod record;
pub mod repair;
pub mod verify;
pub mod wacz;
pub mod writer;

pub use codec::Compression;
pub use dictionary::ZstdDictionary;
pub use error::{ReadError, WriteError};
pub use reader::{Record, Span, WarcReader};
pub use record::{Clock, Header, RecordIds, RecordType};
pub use writer::{Block, NewRecord, ReadSeek, WarcWriter, WriterConfig, Written};

use std::io;
use std::path::{Path, PathBuf};

/// True for a name a WARC file of any compression may have, in progress (`.open`) or not, or
/// an ARC file (read as WARC records; see [`arc`]).
pub fn is_warc_name(name: &str) -> bool {
    let name = name.strip_suffix(writer::OPEN_SUFFIX).unwrap_or(name);
    [
        ".warc",
        ".warc.gz",
        ".warc.zst",
        ".arc",
        ".arc.gz",
        ".arc.zst",
    ]
    .iter()
    .any(|ext| name.ends_with(ext))
}

/// Whether a file name is a WARC or ARC file's, or a WACZ package's (which holds WARC files).
pub fn is_archive_name(name: &str) -> bool {
    is_warc_name(name) || wacz::is_wacz_name(name)
}

/// Files as given, and the WARC files (by name) found recursively in folders, in name order.
pub fn find_warc_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, (PathBuf, io::Error)> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| (path.clone(), e))?;
        if meta.is_dir() {
            walk(path, &mut files).map_err(|e| (path.clone(), e))?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else if is_archive_name(&entry.file_name().to_string_lossy()) {
            files.push(path);
        }
    }
    Ok(())
}
