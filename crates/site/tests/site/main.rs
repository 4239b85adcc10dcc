//! Integration tests for the fixture site, over real sockets on loopback.
//!
//! One test binary with several modules (rather than one binary per file) so the workspace links
//! one executable instead of six. Every test starts its own site on a free port, so they run in
//! parallel without seeing each other's requests.

mod binary;
mod concurrency;
mod counters;
mod endless;
mod faults;
mod foreign;
mod lifecycle;
mod pages;
mod routes;
mod support;
