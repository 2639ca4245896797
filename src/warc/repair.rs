//! Mending a WARC file that its writer never closed (`.open`, after a crash or a kill): every
//! whole record is kept, the torn tail is cut off, and the file is renamed without `.open`, as
//! gowarc's `mend` does. A file is never renamed over one that exists.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::codec::Compression;
use super::reader::WarcReader;
use super::writer::OPEN_SUFFIX;

#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    pub path: PathBuf,
    pub repaired: PathBuf,
    pub kept_records: u64,
    pub kept_bytes: u64,
    pub dropped_bytes: u64,
    /// Target URIs of the kept response, revisit and resource records.
    #[serde(skip)]
    pub captured: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not an unfinished WARC file (its name does not end in .open)")]
    NotOpen(PathBuf),
    #[error("{0}: already exists; the repaired file would replace it")]
    Exists(PathBuf),
}

/// Keeps the whole records of `path` (a `.open` file), truncates the rest, renames it.
pub fn repair(path: &Path) -> Result<RepairReport, RepairError> {
    let name = path.to_string_lossy();
    let Some(final_name) = name.strip_suffix(OPEN_SUFFIX) else {
        return Err(RepairError::NotOpen(path.to_path_buf()));
    };
    let repaired = PathBuf::from(final_name);
    if repaired.exists() {
        return Err(RepairError::Exists(repaired));
    }
    let io_err = |source| RepairError::Io {
        path: path.to_path_buf(),
        source,
    };
    let total = std::fs::metadata(path).map_err(io_err)?.len();
    let (kept_records, kept_bytes, captured) = whole_records(path);
    let file = OpenOptions::new().write(true).open(path).map_err(io_err)?;
    file.set_len(kept_bytes).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    drop(file);
    if kept_records == 0 {
        // Nothing whole: no WARC to keep (a WARC file holds at least one record).
        std::fs::remove_file(path).map_err(io_err)?;
    } else {
        std::fs::rename(path, &repaired).map_err(io_err)?;
    }
    Ok(RepairReport {
        path: path.to_path_buf(),
        repaired,
        kept_records,
        kept_bytes,
        dropped_bytes: total - kept_bytes,
        captured,
    })
}

/// How many records read whole from the start, where the last one ends, and what they captured.
fn whole_records(path: &Path) -> (u64, u64, Vec<String>) {
    let mut records = 0;
    let mut end = 0;
    let mut captured = Vec::new();
    let Ok(mut reader) = WarcReader::open(path) else {
        return (0, 0, captured);
    };
    let plain = reader.compression() == Compression::None;
    while let Ok(Some(mut record)) = reader.next_record() {
        // Read the block through, so a torn one shows as an error here.
        if std::io::copy(&mut record.block(), &mut std::io::sink()).is_err() {
            break;
        }
        let kind = record.header.get("WARC-Type").unwrap_or("").to_string();
        let uri = record.header.target_uri().unwrap_or("").to_string();
        drop(record);
        let Ok(span) = reader.finish_record() else {
            break;
        };
        let Some(length) = span.length else { break };
        // Uncompressed lengths stop before the record's closing CRLF CRLF.
        end = span.offset + length + if plain { 4 } else { 0 };
        records += 1;
        if matches!(kind.as_str(), "response" | "revisit" | "resource") {
            captured.push(uri);
        }
    }
    (records, end, captured)
}
