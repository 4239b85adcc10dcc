//! Stage 2: nonblocking sockets, retried in a loop.
//!
//! A nonblocking socket never puts the thread to sleep. When a call cannot complete at once, it
//! fails with `WouldBlock` (`EAGAIN`: "no bytes yet" for `read`, "buffer full" for `write`) or,
//! for `connect`, `EINPROGRESS` ("the handshake has started; ask me later"). So one thread can
//! hold many requests in flight: it just has to keep asking each socket whether it can go on.
//!
//! That is all this stage does. Each fetch is an explicit state machine ([`fetch::Fetch`]:
//! starting, connecting, sending, receiving) with a `poll` that moves it on as far as it can, and
//! [`crawler::crawl`] polls every fetch in flight, over and over, until all are done. Nothing ever
//! waits, so the loop never stops asking, and the thread uses a whole core even when every socket
//! is idle: `--trace` counts the polls that ended in "not yet", and the tour's CPU column shows
//! CPU time close to wall time. Stage 3 keeps the nonblocking sockets and the states but asks the
//! kernel to wake it when a socket is ready (epoll) instead.

#![warn(missing_docs)]

pub mod crawler;
pub mod fetch;

use std::ffi::OsString;
use std::process::ExitCode;

pub use crawler::crawl;

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    crawl::config::run_stage(
        env!("CARGO_PKG_NAME"),
        ABOUT,
        args,
        crawl::descriptors::Needs::SOCKET_PER_TASK,
        crawl,
    )
}

const ABOUT: &str = "Stage 2: crawl with nonblocking sockets in a busy-polling loop";
