//! Stage 5: async/await on a runtime of our own, on stage 3's event loop.
//!
//! Stage 4 wrote each coroutine by hand as a state machine and resumed it when the future it
//! waited on was done. Here the compiler writes the state machines (`async fn`), and the runtime
//! is what is left: an executor that polls tasks when their `Waker` is called, and futures for
//! sockets and timers whose wakers the loop's callbacks call. The loop itself is stage 3's,
//! unchanged: it is the reactor.
//!
//! | file | what it holds |
//! |---|---|
//! | [`executor`] | the task table and run queue; `run` (`run_traced` for `--trace`), `spawn`, `spawn_blocking`, `yield_now`, `gather`; re-exports `task.rs`'s `JoinHandle`, `JoinError`, `tasks_alive` and the pool's `pool_threads_alive` |
//! | `task.rs` | a task (its future, result and waiter in one place), `JoinHandle` (`abort`), `JoinError` |
//! | `waker.rs` | the `Waker`: from a wake to a poll on the loop, from any thread |
//! | `blocking.rs` | the thread pool behind `spawn_blocking` |
//! | `task_table.rs` | tuning: the task table's hasher, for task numbers |
//! | `run_handle.rs` | tuning: what every waker of one `run` shares, built once per `run` |
//! | [`net`] | `TcpStream` (`AsyncRead`/`AsyncWrite`, and `readable` to wait without a buffer) and `TcpListener` on the loop |
//! | [`time`] | `sleep` and `timeout` on the loop's timers; a token-bucket `Throttle` |
//! | `compile_fail/` | not modules: code that must not compile, run as `compile_fail` doctests (`Timeout` without `pin_project!`) |
//! | [`queue`] | a work queue with `join` |
//! | [`fetch`] | one URL: stage 1's function with `.await` where it blocked |
//! | `read_buffer.rs` | tuning: a read buffer that takes no memory while its socket waits |
//! | [`crawler`] | `--max-tasks` workers over the queue |

#![warn(missing_docs)]

mod blocking;
pub mod crawler;
pub mod executor;
pub mod fetch;
pub mod net;
pub mod queue;
mod read_buffer;
mod run_handle;
mod task;
mod task_table;
pub mod time;
mod waker;

use std::ffi::OsString;
use std::process::ExitCode;

pub use crawler::crawl;
pub use executor::{JoinError, JoinHandle, gather, run, spawn, spawn_blocking, yield_now};

/// The stage's command-line entry point; `args` includes the program name.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    crawl::config::run_stage(env!("CARGO_PKG_NAME"), ABOUT, args, stage3_callbacks::DESCRIPTORS, crawl)
}

/// What `--help` says this binary is: the stage and how it crawls.
const ABOUT: &str = "Stage 5: crawl with async/await on our own executor and stage 3's event loop";
