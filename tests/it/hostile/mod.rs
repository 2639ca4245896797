//! Hostile captures: pages written to escape the archive or exhaust it, each replayed or exported and shown to reach nothing live or to stay within its bounds.

mod limits;
