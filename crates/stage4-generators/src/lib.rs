//! Stage 4: coroutines by hand, on stage 3's event loop.
//!
//! Callbacks (stage 3) made the crawler's code follow the loop's shape instead of the task's.
//! Coroutines give the shape back: a fetch is one piece of code again, which stops at each wait
//! and is resumed where it stopped. Python did this with generators (`yield`, `send`,
//! `yield from`) plus two small classes, `Future` and `Task`. Rust has no stable generators, so
//! the stopping and resuming is written out by hand as state machines: exactly what the compiler
//! will write for us in stage 5.
//!
//! | file | what it holds |
//! |---|---|
//! | [`future`] | `Future<T>`: pending or done, `set_result`, `add_done_callback`, `result` |
//! | [`coroutine`] | the `Coroutine` trait (`resume` -> wait or done) and `yield_from!` |
//! | [`task`] | `Task`: steps a coroutine each time its future is done; `cancel` |
//! | [`net`] | stage 3's sockets, with a future for their readiness |
//! | [`fetch`] | one URL as two coroutines: `FetchOnce` (a try: stage 3's states) and `Fetch` (tries, each a task cancelled at its deadline) |
//! | [`crawler`] | a task per URL; its done callback hands the result to the crawler's loop, which starts the next |
//! | [`interrupt`] | Ctrl-C: once the crawler's loop has stopped, cancel every task and let them close their sockets |
//!
//! The event loop is stage 3's, used as a dependency and unchanged: the loop still only runs
//! callbacks; a task is a callback that resumes a coroutine.

#![warn(missing_docs)]

pub mod coroutine;
pub mod crawler;
pub mod fetch;
pub mod future;
pub mod interrupt;
pub mod net;
pub mod task;

use std::ffi::OsString;
use std::process::ExitCode;

pub use crawler::crawl;

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    crawl::config::run_stage(env!("CARGO_PKG_NAME"), ABOUT, args, stage3_callbacks::DESCRIPTORS, crawl)
}

const ABOUT: &str = "Stage 4: crawl with hand-written coroutines (Future, Task) on the event loop";
