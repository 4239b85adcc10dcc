//! Stage 3: one thread, an event loop, and callbacks.
//!
//! Stage 2 asked every socket "are you ready?" over and over and burned a core doing it. Here the
//! thread asks the kernel once, "wake me when any of these is ready, or when the next timer is
//! due", and sleeps until then ([`event_loop`]). When the kernel answers, the loop runs the
//! callback registered for that socket. Connections are driven by [`protocol`]s that react to
//! bytes, as in asyncio.
//!
//! The price shows in [`fetch`]: what was one straight-line function in stage 1 is now state
//! split across callbacks (`connection_made`, `data_received`, a timer, a retry scheduled with
//! `call_soon`), and errors can no longer be returned, only passed along as values.
//!
//! | file | what it holds |
//! |---|---|
//! | [`event_loop`] | the loop: `register`/`modify`/`deregister`, `call_soon`, `call_later`, `cancel`, `run`, `stop`, a `Send` handle |
//! | [`remote`] | `RemoteHandle::call_soon_threadsafe`: waking the loop from another thread |
//! | [`protocol`] | transports and protocols: `connect`, `serve`, `Transport::write`/`close` |
//! | [`fetch`] | one URL as a protocol, with a timeout timer and retries |
//! | [`crawler`] | many URLs: callbacks that start fetches as others finish |

pub mod crawler;
pub mod event_loop;
pub mod fetch;
pub mod protocol;
pub mod remote;
mod trace;

use std::ffi::OsString;
use std::process::ExitCode;

pub use crawler::crawl;

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    crawl::config::run_stage(env!("CARGO_PKG_NAME"), ABOUT, args, crawl)
}

const ABOUT: &str = "Stage 3: crawl with an epoll event loop and callbacks";
