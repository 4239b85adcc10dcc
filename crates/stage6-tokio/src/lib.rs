//! Stage 6: the stage-5 crawler on tokio.
//!
//! Stage 5 built a runtime to show what one is: an executor polling tasks when their `Waker` is
//! called, and futures for sockets and timers on stage 3's loop. This stage deletes that runtime
//! and runs the same `async fn`s on tokio, which is what production code does. `fetch.rs` and
//! `crawler.rs` differ from stage 5's only where the runtime shows through:
//!
//! ```text
//! diff -u crates/stage5-async-await/src/fetch.rs crates/stage6-tokio/src/fetch.rs
//! diff -u crates/stage5-async-await/src/crawler.rs crates/stage6-tokio/src/crawler.rs
//! ```
//!
//! It runs on tokio's current-thread runtime, one thread as in stage 5, so that the two are
//! compared like for like and the frontier can stay in an `Rc<RefCell<_>>`; [`runtime`] says why
//! not the multi-thread runtime.
//!
//! | file | what it holds |
//! |---|---|
//! | [`runtime`] | `run`: a current-thread tokio runtime and a `LocalSet` for `spawn_local` (stage 5's `executor.rs`) |
//! | [`queue`] | stage 5's work queue with `join`, on tokio's `Notify` and `watch` |
//! | [`fetch`] | one URL: stage 5's function on `tokio::net::TcpStream` and `tokio::time::timeout` (stage 5's `net.rs` and `time.rs`) |
//! | [`crawler`] | `--max-tasks` workers over the queue, spawned with `spawn_local` |

#![warn(missing_docs)]

pub mod crawler;
pub mod fetch;
pub mod queue;
mod read_buffer;
pub mod runtime;

use std::ffi::OsString;
use std::process::ExitCode;

pub use crawler::crawl;
pub use runtime::run;

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    crawl::config::run_stage(env!("CARGO_PKG_NAME"), ABOUT, args, DESCRIPTORS, crawl)
}

/// What a crawl on tokio's current-thread runtime opens beside a socket per request: three
/// descriptors, as `/proc/<pid>/fd` of a running crawl shows (two epoll instances and the eventfd
/// that wakes the I/O driver).
pub const DESCRIPTORS: crawl::descriptors::Needs = crawl::descriptors::Needs { own: 3, per_task: 1 };

/// What `--help` says this binary is: the stage and how it crawls.
const ABOUT: &str = "Stage 6: crawl with async/await on tokio's current-thread runtime";
