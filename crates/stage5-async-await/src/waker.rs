//! The waker: what a task hands to whatever it waits on, and what that thing calls to say
//! "poll me again".
//!
//! A [`Waker`] must be `Send + Sync` (a socket's readiness, a timer, a channel on another thread
//! may each call it), so it cannot point at the task itself, which lives in `Rc`s on the loop's
//! thread. It carries the task's number instead, and finds its way to the loop:
//!
//! * on the loop's own thread, straight onto the executor's run queue (and from there, one
//!   `call_soon` per batch of wakes);
//! * from any other thread, with `call_soon_threadsafe`, which also interrupts `epoll_wait`.
//!
//! Rules kept here: a task woken many times before it runs is polled once (the `scheduled`
//! flag); waking a finished task does nothing (the executor no longer knows its number); a waker
//! may be cloned, sent to another thread, or dropped unused (it owns nothing but `Arc`s).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Wake;

use stage3_callbacks::remote::RemoteHandle;

use crate::executor::{Executor, TaskId};

/// What a waker knows: which task, whether a poll is already on its way, and how to reach the loop.
pub(crate) struct WakeHandle {
    /// The task to poll.
    pub(crate) task: TaskId,
    /// True from a wake until the poll it caused starts: the wakes in between add nothing.
    pub(crate) scheduled: AtomicBool,
    /// What every waker of one `run` shares.
    pub(crate) run: Arc<RunHandle>,
}

/// The part of a waker common to every task of one `run`: one `Arc` clone per task, not three.
pub(crate) struct RunHandle {
    /// Which `run` this is: a wake on a thread whose current `run` is another goes the remote way.
    pub(crate) run_id: u64,
    /// The way in from other threads.
    pub(crate) remote: RemoteHandle,
    /// Print wakes on stderr (`--trace`).
    pub(crate) trace: bool,
}

impl Wake for WakeHandle {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    // ANCHOR: wake
    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return; // a poll is already on its way: this wake adds nothing
        }
        let task = self.task;
        // On the loop's thread: onto the run queue.
        let home = Executor::with_current(|executor| {
            executor.run_id() == self.run.run_id && executor.schedule(task)
        });
        if self.run.trace {
            let from = if home == Some(true) { "the loop's thread" } else { "another thread" };
            eprintln!("[exec] wake task {task} from {from}");
        }
        if home == Some(true) {
            return;
        }
        // Another thread (or no loop running here): queue the poll on the loop and interrupt its
        // wait. If the loop is gone, so is the task, and there is nothing to do.
        let _ = self.run.remote.call_soon_threadsafe(move |_| {
            Executor::with_current(|executor| executor.poll_task(task));
        });
    }
    // ANCHOR_END: wake
}
