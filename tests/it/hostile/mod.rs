//! Hostile captures: pages written to escape the archive, take it over or exhaust it, each
//! replayed, exported or crawled, and shown to reach nothing live or to stay within bounds.

mod export;
mod limits;
mod markup;
mod network;
mod replay_fence;
