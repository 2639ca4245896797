//! Hostile captures: pages written to escape the archive or reach what they must not, each shown to reach nothing.

mod network;
