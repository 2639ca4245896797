//! `cairn demo`: the whole pipeline on the bundled seed post with no internet. A built-in
//! fixture serves the post's source article, its related pages and images over HTTPS on
//! 127.0.0.1 (under their real names, with a CA made at start), cairn archives the post through
//! it, writes the offline copy and the rewritten post, and says how to open them.
//!
//! The same fixture serves the integration tests, so what the demo shows is what is tested.

pub mod server;
pub mod site;

/// The real post the project starts from (`shared/seeds/`).
pub const SEED_POST: &str = include_str!("2023-03-21-cna-xi-putin-talks.md");
pub const SEED_POST_NAME: &str = "2023-03-21-cna-xi-putin-talks.md";
