//! What every waker of one `run` shares, kept once per `run` instead of once per task.
//!
//! A waker needs three things besides its task's number: which `run` it belongs to, the way into
//! the loop from other threads, and whether to trace. They are the same for every task of a
//! `run`, so the executor builds them once, here, and each task's [`WakeHandle`] holds one `Arc`
//! of them: one clone per spawn, not three, and a smaller waker. A plainer waker would hold the
//! three itself; it would behave the same, at two more clones a spawn.
//!
//! [`WakeHandle`]: crate::waker::WakeHandle

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use stage3_callbacks::event_loop::EventLoop;
use stage3_callbacks::remote::RemoteHandle;

/// Numbers the `run`s of this process, so a waker can tell its own `run` from another. Starts at
/// 1 and only grows: a `u64` does not wrap in the life of a process.
static NEXT_RUN_ID: AtomicU64 = AtomicU64::new(1);

/// The part of a waker common to every task of one `run`.
pub(crate) struct RunHandle {
    /// Which `run` this is: a wake on a thread whose current `run` is another goes the remote way.
    run_id: u64,
    /// The way in from other threads.
    pub(crate) remote: RemoteHandle,
    /// Print wakes on stderr (`--trace`).
    pub(crate) trace: bool,
}

impl RunHandle {
    /// A new `run`'s handle, on `event_loop`, with its own number.
    pub(crate) fn new(event_loop: &EventLoop, trace: bool) -> Arc<RunHandle> {
        Arc::new(RunHandle {
            // `Relaxed`: only uniqueness matters, and every update of one atomic is kept.
            run_id: NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed),
            remote: event_loop.remote(),
            trace,
        })
    }

    /// Whether `other` belongs to the same `run` as this one.
    pub(crate) fn same_run(&self, other: &RunHandle) -> bool {
        self.run_id == other.run_id
    }
}
