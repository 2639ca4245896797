//! What can be wrong with a WARC file, with the offset of the record where it was found.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a WARC file (it starts with {found:?})")]
    NotWarc { found: String },
    #[error("offset {offset}: truncated: {detail}")]
    Truncated { offset: u64, detail: String },
    #[error("offset {offset}: malformed record: {detail}")]
    Malformed { offset: u64, detail: String },
    #[error("offset {offset}: corrupt compressed data: {detail}")]
    Corrupt { offset: u64, detail: String },
    #[error("offset {offset}: {source}")]
    Io { offset: u64, source: io::Error },
}

impl ReadError {
    /// Classifies an I/O error met while reading the record at `offset`: a premature end is a
    /// truncation and undecodable bytes are corruption; anything else is the disk's doing.
    pub fn io(offset: u64, err: io::Error) -> ReadError {
        match err.kind() {
            io::ErrorKind::UnexpectedEof => ReadError::Truncated {
                offset,
                detail: err.to_string(),
            },
            io::ErrorKind::InvalidData => ReadError::Corrupt {
                offset,
                detail: err.to_string(),
            },
            _ => ReadError::Io {
                offset,
                source: err,
            },
        }
    }

    /// The message without its leading offset, for reports that carry the offset apart.
    pub fn detail(&self) -> String {
        let text = self.to_string();
        match text.split_once(": ") {
            Some((head, rest)) if head.starts_with("offset ") => rest.to_string(),
            _ => text,
        }
    }

    pub fn offset(&self) -> Option<u64> {
        match self {
            ReadError::NotWarc { .. } => Some(0),
            ReadError::Truncated { offset, .. }
            | ReadError::Malformed { offset, .. }
            | ReadError::Corrupt { offset, .. }
            | ReadError::Io { offset, .. } => Some(*offset),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: io::Error,
    },
    #[error("writing record to {path}: {source}")]
    Record {
        path: std::path::PathBuf,
        source: io::Error,
    },
    #[error("reading the block of a record to write: {0}")]
    Block(io::Error),
    #[error("a zstd dictionary needs zstd compression, not {0}")]
    DictionaryNeedsZstd(super::Compression),
}
