//! Stage 3: one thread, an event loop, and callbacks.
//!
//! Stage 2 asked every socket "are you ready?" over and over and burned a core doing it. Here the
//! thread asks the kernel once, "wake me when any of these is ready, or when the next timer is
//! due", and sleeps until then ([`event_loop`]). When the kernel answers, the loop runs the
//! callback registered for that socket.
//!
//! The fetch itself is stage 2's state machine, unchanged but for what "not yet" does: instead of
//! returning to be asked again on the next turn, a fetch asks the loop to call it back when its
//! socket is ready. The price shows in [`fetch`]: nothing owns a fetch but the callbacks the loop
//! holds for it, so it must carry what they need (its config, a way to make them, whoever waits
//! for its result), and its result can only be handed on to a callback, never returned.
//!
//! | file | what it holds |
//! |---|---|
//! | [`event_loop`] | the loop: `register`/`modify`/`deregister`, `call_soon`, `call_later`, `cancel`, `run`, `stop` |
//! | [`remote`] | `RemoteHandle::call_soon_threadsafe`: waking the loop from another thread |
//! | [`blocking`] | `EventLoop::run_in_executor`: a blocking call (a name lookup) on another thread, a callback when it returns |
//! | [`net`] | a socket registered with the loop, whose readiness is a callback |
//! | [`fetch`] | one URL: stage 2's states, polled again by readiness and deadline callbacks |
//! | [`crawler`] | many URLs: the crawler's loop runs the event loop turn by turn, and starts fetches as others finish |
//! | [`interrupt`] | Ctrl-C: another thread wakes the loop |
//! | [`protocol`] | asyncio's higher layer, transports and protocols: `connect`, `serve`, `Transport::write`/`close` (the echo server) |

#![warn(missing_docs)]

pub mod blocking;
pub mod crawler;
pub mod event_loop;
pub mod fetch;
pub mod interrupt;
pub mod net;
pub mod protocol;
mod readiness;
pub mod remote;
mod server;
mod trace;

use std::ffi::OsString;
use std::process::ExitCode;

pub use crawler::crawl;

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    crawl::config::run_stage(env!("CARGO_PKG_NAME"), ABOUT, args, DESCRIPTORS, crawl)
}

const ABOUT: &str = "Stage 3: crawl with an epoll event loop and callbacks";

/// What a crawl on this event loop opens beside a socket per request: the poller's epoll
/// descriptor, the eventfd that wakes it from other threads, and the timerfd of its timeouts
/// (`polling` on Linux). Stages 4 and 5 run on the same loop.
pub const DESCRIPTORS: crawl::descriptors::Needs = crawl::descriptors::Needs { own: 3, per_task: 1 };
