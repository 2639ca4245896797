//! Hostile captures: pages written to escape the archive, each replayed or exported and shown to reach nothing live.

mod markup;
