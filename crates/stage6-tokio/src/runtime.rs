//! The runtime: tokio's current-thread scheduler and a `LocalSet`, where stage 5 had its own
//! executor (`executor.rs`) on stage 3's loop.
//!
//! Stage 5's `run` made a loop and an executor, and ran one future to completion together with
//! every task it spawned. tokio's parts for the same job:
//!
//! * a current-thread [`Runtime`]: one thread polls the tasks and, when none is ready, waits in
//!   epoll for I/O or the next timer; its I/O and time "drivers" are stage 3's loop grown up;
//! * a [`LocalSet`]: tasks that never leave this thread, spawned with `spawn_local`, so they may
//!   hold `Rc` and `RefCell` just as stage 5's tasks do.
//!
//! Why not tokio's default, the multi-thread runtime: there a task may move to another worker
//! thread between two polls, so `tokio::spawn` takes only `Send` futures. The crawler's frontier
//! would have to become `Arc<Mutex<_>>`, as in stage 1's thread pool, and the comparison with
//! stage 5 would be several threads against one. A crawler waits on the network, not on the CPU,
//! so one thread is plenty, and on one thread stage 5 and stage 6 differ only in whose runtime
//! runs the same futures.
//!
//! `--trace`: tokio does not print its polls and wakes (the `tracing` crate and `tokio-console`
//! are its tools for that). What it reports without unstable features is the moment the thread
//! parks to wait for I/O or a timer, and the moment it wakes up; `--trace` prints those, and
//! `--timeline` draws them (asleep in the poller, then a burst of polls). For the timeline's
//! task events, [`spawn_local`] and [`spawn`] wrap each task in `crawl::timeline::traced`.

use std::future::Future;

use crawl::timeline;
use tokio::runtime::{Builder, Runtime};
use tokio::task::{JoinHandle, LocalSet};

// ANCHOR: run
/// Runs `future` to completion on a new current-thread runtime, with every task it spawns with
/// `spawn_local` (asyncio's `run`). When it completes, the tasks still running are dropped,
/// which cancels them. A runtime that cannot be created (no file descriptor left) leaves nothing
/// to run: one line on stderr and exit status 1.
pub fn run<F: Future>(future: F) -> F::Output {
    run_traced(future, false)
}

/// As [`run`], printing on stderr each time the thread parks and unparks when `trace` is set.
pub fn run_traced<F: Future>(future: F, trace: bool) -> F::Output {
    let runtime = runtime(trace);
    let tasks = LocalSet::new();
    let output = tasks.block_on(&runtime, future);
    drop(tasks); // the tasks left are dropped here, while the runtime they registered with lives
    // Not a plain drop, which would wait for every `spawn_blocking` call still running, such as
    // a name lookup that a timeout gave up on: those threads are left to end on their own.
    runtime.shutdown_background();
    output
}
// ANCHOR_END: run

/// Runs `future` on a new multi-thread runtime: its tasks, spawned with `tokio::spawn`, are
/// polled by a worker thread per core and may move between them from one poll to the next. So
/// they, and `future`, must be `Send` (see `multi_thread.rs`). Ends as [`run`] does.
pub fn run_multi_thread<F>(future: F, trace: bool) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = runtime_of(Builder::new_multi_thread(), trace);
    let output = runtime.block_on(future);
    runtime.shutdown_background(); // as in `run`
    output
}

/// A current-thread runtime with its I/O and time drivers: without them, tokio's sockets and
/// timers panic on first use.
fn runtime(trace: bool) -> Runtime {
    runtime_of(Builder::new_current_thread(), trace)
}

/// `builder`'s runtime, with its I/O and time drivers and the `--trace` and `--timeline` hooks.
fn runtime_of(mut builder: Builder, trace: bool) -> Runtime {
    builder.enable_all();
    if trace || timeline::enabled() {
        builder.on_thread_park(move || {
            if trace {
                crawl::log!("[tokio] park: no task is ready; wait for I/O or a timer");
            }
            timeline::end(); // the burst of polls since the thread woke
            timeline::begin(timeline::ASLEEP, false);
        });
        builder.on_thread_unpark(move || {
            if trace {
                crawl::log!("[tokio] unpark");
            }
            timeline::end(); // the sleep
            timeline::begin("polls", true);
        });
    }
    crawl::or_exit(builder.build(), "cannot create the tokio runtime")
}

/// tokio's `spawn_local`, with the task's events (spawn, polls, wakes, end) recorded for
/// `--timeline`: tokio reports them only with its unstable features.
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    tokio::task::spawn_local(timeline::traced(future))
}

/// tokio's `spawn`, recorded as [`spawn_local`] is.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(timeline::traced(future))
}
