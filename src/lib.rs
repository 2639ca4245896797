//! cairn preserves what a web page depends on, to archival standards.
//!
//! ```text
//! target (URL | post.md | _posts/) -> frontier -> fetch (raw bytes kept)
//!     -> warc: request + response records, sha256 digests, one zstd frame per record
//!     -> extract links and requisites -> back to the frontier (scope, depth)
//! after the crawl: index (CDXJ) -> offline export -> post rewrite
//! replay: index lookup -> one record read by offset -> rewrite -> serve
//! ```
//!
//! Modules, in pipeline order:
//! - [`archive`]: archiving whole: targets and options checked, the crawl, then the index,
//!   pages, offline copy and posts; what `cairn archive`, the demo and every job run.
//! - [`post`]: Jekyll posts as input: front matter, `from:`, the links of the body.
//! - [`frontier`]: which URLs are fetched, in what order: scope, depth, traps.
//! - [`fetch`]: one HTTP exchange, captured as received; network safety.
//! - [`crawl`]: the loop wiring fetch, WARC writing and extraction; politeness, robots, revisits.
//! - [`warc`]: records, the writer, the reader for anyone's WARCs, verify and repair; uses
//!   nothing else here.
//! - [`content`]: what a payload is (page, stylesheet, script, image), decided once.
//! - [`extract`]: links and requisites from HTML and CSS, by the one table of references.
//! - [`index`]: SURT keys, CDXJ lines from WARCs, and the one reader of an index.
//! - [`collection`]: the archive on disk, every file name in it, its lock, reading captures back.
//! - [`rewrite`]: references in HTML and CSS replaced; the one dispatch for export and replay.
//! - [`export`]: the offline copy and the rewrite of posts into it.
//! - [`article`]: a page's main text, kept per payload; each URL's versions and their diffs.
//! - [`replay`]: the pywb-compatible replay server.
//! - [`state`]: crawl state several workers share in PostgreSQL: runs, a leased frontier,
//!   per-host politeness, the payload index.
//! - [`store`]: closed WARC files and their index segments in an S3-compatible bucket; records
//!   read back by range.
//! - [`jobs`]: scheduled crawl jobs: `cairn.toml`, runs, the scheduler, their state.
//! - [`demo`]: the bundled seed post and the HTTPS fixture web it is archived from.
//! - [`cli`]: the command line; it parses and prints, the library does the rest.

pub mod archive;
pub mod article;
pub mod cli;
pub mod collection;
pub mod content;
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
pub mod state;
pub mod store;
pub mod warc;
