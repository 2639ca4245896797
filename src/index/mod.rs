//! The CDXJ index: one line per capture, `SURT TIMESTAMP {json}`, sorted, in the form pywb and
//! cdxj-indexer use (`url`, `mime`, `status`, `digest`, `length`, `offset`, `filename`), so a
//! replay tool finds any capture with one binary search and one read by offset.
//!
//! [`build`] makes the lines from WARC files; [`Index`] is the one reader of them, for export,
//! replay, archive and jobs alike; [`surt`] makes the sort keys.

mod build;
mod cdxj;
pub mod package;
mod read;
pub mod surt;

pub use build::{FileIndex, IndexRun, Unindexable, WrittenIndex, index_file, index_lines};
pub use cdxj::{Capture, LineError};
pub use read::Index;
