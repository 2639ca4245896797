//! cairn preserves what a web page depends on, to archival standards.
//!
//! ```text
//! target (URL | post.md | _posts/) -> frontier -> fetch (raw bytes kept)
//!     -> warc: request + response records, sha256 digests, one zstd frame per record
//!     -> extract links and requisites -> back to the frontier (scope, depth)
//! after the crawl: index (CDXJ) -> offline export -> post rewrite
//! replay: CDXJ lookup -> one record read by offset -> rewrite -> serve
//! ```
//!
//! Modules, in pipeline order:
//! - [`warc`]: records, the writer, the streaming reader, verification; uses nothing else here.
//! - [`index`]: SURT keys and the sorted, pywb-compatible CDXJ index.
//! - [`cli`]: the command line, the only module that knows every other.

pub mod cli;
pub mod crawl;
pub mod demo;
pub mod export;
pub mod extract;
pub mod fetch;
pub mod frontier;
pub mod index;
pub mod jobs;
pub mod post;
pub mod replay;
pub mod rewrite;
pub mod warc;
