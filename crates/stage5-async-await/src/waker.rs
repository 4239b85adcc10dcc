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

use crate::executor::{Executor, TaskId};
use crate::run_handle::RunHandle;

/// What a waker knows: which task, whether a poll is already on its way, and how to reach the loop.
pub(crate) struct WakeHandle {
    /// The task to poll.
    pub(crate) task: TaskId,
    /// True from a wake until the poll it caused starts: the wakes in between add nothing.
    pub(crate) scheduled: AtomicBool,
    /// Which `run` it belongs to, the way into its loop, and `--trace`: the same for every task
    /// of a `run`, so shared (`run_handle.rs`).
    pub(crate) run: Arc<RunHandle>,
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
        crawl::timeline::task_woken(task); // `--timeline`: the wake, on the thread that made it
        // On the thread running this task's `run`: onto the run queue.
        let home = Executor::with_current(|executor| {
            executor.run_handle().same_run(&self.run) && executor.schedule(task)
        });
        if self.run.trace {
            let from = if home == Some(true) { "the loop's thread" } else { "another thread" };
            crawl::log!("[exec] wake task {task} from {from}");
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
