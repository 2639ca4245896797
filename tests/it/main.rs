//! cairn's integration tests: one binary, a module per feature. External validators (warcio,
//! cdxj-indexer, fastwarc, the zstd CLI, GNU wget), Chromium, Jekyll and ReplayWeb.page are
//! real programs, installed by `scripts/test`. Where one is missing, a plain `cargo test` skips
//! the tests that need it and names it ([`support::requires`]); under `scripts/test` it is a
//! failure.

// A scenario reads best as one story, start to end; the 80-line bound is for `src/`.
#![allow(clippy::too_many_lines)]

mod support;

pub use cairn::demo::server as fixture;
pub use cairn::demo::site;

mod archive;
mod browser;
mod dictionary;
mod faults;
mod foreign;
mod hostile;
mod index;
mod interop;
mod jobs;
mod libraries;
mod news_pages;
mod offline;
mod peers;
mod replay;
mod replayweb;
mod safety;
mod scripted;
mod versions;
mod wacz;
mod wild_news;
mod wire;
mod workers;
mod writer;
