//! Hostile captures: pages written by an attacker, archived, then replayed in headless
//! Chromium (or fetched), each test showing that a server standing in for the live web on
//! 127.0.0.1, which Chromium could reach if the fence failed, received nothing.

mod replay_fence;
