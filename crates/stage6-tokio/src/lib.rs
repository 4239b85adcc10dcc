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
//! not the multi-thread runtime. `--mode multi-thread` runs the crawler on that one too, to show
//! what it demands ([`multi_thread`]).
//!
//! | file | what it holds |
//! |---|---|
//! | [`runtime`] | `run`: a current-thread tokio runtime and a `LocalSet` for `spawn_local` (stage 5's `executor.rs`) |
//! | [`queue`] | stage 5's work queue with `join`, on tokio's `Notify` and `watch` |
//! | [`fetch`] | one URL: stage 5's function on `tokio::net::TcpStream` and `tokio::time::timeout` (stage 5's `net.rs` and `time.rs`) |
//! | [`crawler`] | `--max-tasks` workers over the queue, spawned with `spawn_local` |
//! | [`multi_thread`] | `--mode multi-thread`: the same workers on the multi-thread runtime, spawned with `tokio::spawn`, sharing `Arc`s and a `Mutex` |

#![warn(missing_docs)]

pub mod crawler;
pub mod fetch;
pub mod multi_thread;
pub mod queue;
mod read_buffer;
pub mod runtime;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

pub use crawler::crawl;
pub use runtime::run;

/// Which of tokio's runtimes the crawl runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// One thread, tasks spawned with spawn_local (as stage 5)
    #[default]
    CurrentThread,
    /// A worker thread per core, tasks spawned with tokio::spawn (Send + 'static)
    MultiThread,
}

/// Stage 6's own flag, beside the shared ones.
#[derive(Clone, Copy, Debug, Args)]
pub struct StageArgs {
    /// Which tokio runtime to crawl on
    #[arg(long, value_enum, default_value_t = Mode::CurrentThread)]
    pub mode: Mode,
}

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let (config, stage) = match crawl::config::parse::<StageArgs>(env!("CARGO_PKG_NAME"), ABOUT, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    match stage.mode {
        Mode::CurrentThread => crawl::config::crawl_and_report(config, DESCRIPTORS, crawl),
        Mode::MultiThread => crawl::config::crawl_and_report(config, DESCRIPTORS, multi_thread::crawl),
    }
}

/// What a crawl on either of tokio's runtimes opens beside a socket per request: three
/// descriptors, as `/proc/<pid>/fd` of a running crawl shows (two epoll instances and the eventfd
/// that wakes the I/O driver; the multi-thread runtime's workers share them).
pub const DESCRIPTORS: crawl::descriptors::Needs = crawl::descriptors::Needs { own: 3, per_task: 1 };

/// What `--help` says this binary is: the stage and how it crawls.
const ABOUT: &str =
    "Stage 6: crawl with async/await on tokio (its current-thread runtime, or --mode multi-thread)";
