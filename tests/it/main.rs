//! cairn's integration tests: one binary, a module per feature. External validators (warcio,
//! cdxj-indexer, fastwarc, the zstd CLI, GNU wget) are real programs, installed by
//! `scripts/test`; a missing one fails the test with a message naming it.

mod support;

pub use cairn::demo::server as fixture;
pub use cairn::demo::site;

mod archive;
mod browser;
mod faults;
mod foreign;
mod index;
mod jobs;
mod offline;
mod replay;
mod safety;
mod writer;
