//! Stage 1: the crawler on blocking sockets.
//!
//! Every socket call here (`connect`, `write`, `read`) puts the calling thread to sleep inside the
//! kernel until the network has something for it. While it sleeps, the thread can do nothing else,
//! so the only ways to have several requests in flight are more threads or more processes. The
//! four `--mode`s show them side by side, all printing the same report:
//!
//! | mode | concurrency | file |
//! |---|---|---|
//! | `sequential` | one request at a time | [`crawler`] |
//! | `threads` | a new OS thread per URL, at most `--max-tasks` alive | [`crawler`] |
//! | `pool` | `--max-tasks` long-lived worker threads over a shared queue | [`crawler`] |
//! | `processes` | a child process per URL, at most `--max-tasks` alive | [`process`] |
//!
//! Fetching one URL is [`fetch::fetch`]: the blocking version that every later stage rewrites.
//! Stopping on Ctrl-C is [`unblock`]: a blocked thread cannot be cancelled, only woken by taking
//! its socket (or its child process) away; [`socket`] is the `TcpStream` that makes that, and
//! `--trace`'s timings, possible.

#![warn(missing_docs)]

pub mod crawler;
pub mod fetch;
pub mod process;
pub mod socket;
pub mod unblock;

use std::ffi::OsString;
use std::process::ExitCode;

use crawl::descriptors::Needs;

use clap::{Args, ValueEnum};
use url::Url;

pub use crawler::crawl;

/// How stage 1 runs its fetches concurrently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// One request at a time on the main thread
    Sequential,
    /// A new thread per URL, at most --max-tasks alive
    Threads,
    /// --max-tasks worker threads sharing one queue
    #[default]
    Pool,
    /// A child process per URL, at most --max-tasks alive
    Processes,
}

/// Stage 1's own flags, beside the shared ones.
#[derive(Clone, Debug, Args)]
pub struct StageArgs {
    /// How to run fetches concurrently
    #[arg(long, value_enum, default_value_t = Mode::Pool)]
    pub mode: Mode,
    /// Internal: fetch this one URL, print the result as JSON, exit (used by --mode processes)
    #[arg(long, hide = true, value_name = "URL")]
    pub fetch_one: Option<Url>,
}

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let (config, stage) = match crawl::config::parse::<StageArgs>(env!("CARGO_PKG_NAME"), ABOUT, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if let Some(url) = stage.fetch_one {
        return process::child_main(&config, &url);
    }
    crawl::config::crawl_and_report(config, descriptors(stage.mode), |config| crawl(config, stage.mode))
}

/// What a crawl in `mode` opens beside what is open when it starts: a socket per request, or, for
/// a child process per request, the pipe the parent keeps plus the two it holds only while the
/// child is being started (the child's end of that pipe, and `/dev/null` for its stdin).
pub const fn descriptors(mode: Mode) -> Needs {
    match mode {
        Mode::Processes => Needs { own: 0, per_task: 3 },
        Mode::Sequential | Mode::Threads | Mode::Pool => Needs::SOCKET_PER_TASK,
    }
}

const ABOUT: &str = "Stage 1: crawl with blocking sockets (sequential, threads, a pool, or processes)";
