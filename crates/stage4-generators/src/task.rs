//! `Task`: runs a coroutine on the loop, one step each time the future it waits on is done.
//!
//! asyncio's `Task` (the 500-lines crawler's too) in a few lines: its `step` resumes the
//! coroutine; when it yields a future, the task adds itself as that future's done callback; when
//! it returns, the task's own future is done. So a task is itself a future others can wait on,
//! and the loop never knows coroutines exist: it only runs callbacks.
//!
//! [`Task::cancel`] delivers cancellation to the coroutine at its current wait (`Resume::Cancel`,
//! Python's `throw(CancelledError)`), so it can close its socket; then the coroutine is dropped
//! and the task completes as [`Cancelled`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicUsize, Ordering};

use crawl::timeline;
use stage3_callbacks::event_loop::EventLoop;

use crate::coroutine::{Coroutine, Resume, Step, Waitable};
use crate::future::Future;

/// A task's result when it was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

/// A coroutine being run by the loop. Cloning gives another handle to the same task.
pub struct Task<T> {
    inner: Rc<Inner<T>>,
}

struct Inner<T> {
    /// For `--trace`.
    id: u64,
    /// The coroutine; taken out while it runs and for good when it finishes.
    coroutine: RefCell<Option<Box<dyn Coroutine<Output = T>>>>,
    /// Done when the coroutine returns (or is cancelled).
    done: Future<Result<T, Cancelled>>,
    /// Counts waits. A done callback carries the count of its wait and is ignored if the task has
    /// moved on since (cancelled out of that wait), so one wait never resumes the task twice.
    wait: Cell<u64>,
    /// `cancel` was called and the cancelling step is scheduled.
    cancelling: Cell<bool>,
    /// Print every step on stderr.
    trace: bool,
}

/// Tasks created and not yet dropped, across every loop in the process; for leak tests.
///
/// A task lives while any clone of it does: the caller's, and the one in the done callback of
/// the future it waits on. Once a loop has run out of work and the caller's clones are gone,
/// anything above the count from before is a task in a reference cycle: one waiting forever, and
/// never cancelled, on a future that only it holds, say.
pub fn tasks_alive() -> usize {
    LIVE_TASKS.load(Ordering::Relaxed)
}

/// Up in `spawn`, down when the last clone of a task drops. `Relaxed` suffices: the count carries
/// no other data with it, read-modify-writes of one atomic are never lost under any ordering, and
/// a reader on another thread synchronizes some other way first (a `join`). One atomic add per
/// spawn and per drop, next to the several allocations of a spawn.
static LIVE_TASKS: AtomicUsize = AtomicUsize::new(0);

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        LIVE_TASKS.fetch_sub(1, Ordering::Relaxed);
        // (`try_with`: a task dropped while its thread exits may outlive the registry.)
        let _ = ALL_TASKS.try_with(|all| {
            if let Ok(mut all) = all.try_borrow_mut() {
                all.remove(&self.id);
            }
        });
    }
}

thread_local! {
    /// Task ids: for `--trace`, and the keys of `ALL_TASKS`.
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };

    /// Every task of this thread that has not been dropped, for [`cancel_all`] (asyncio's
    /// `all_tasks`). Weak: being listed must not keep a task alive.
    static ALL_TASKS: RefCell<HashMap<u64, Weak<dyn Cancel>>> = RefCell::new(HashMap::new());
}

/// A task, whatever its output type, as [`cancel_all`] needs it.
trait Cancel {
    /// As [`Task::cancel`].
    fn cancel(self: Rc<Self>) -> bool;
}

impl<T: 'static> Cancel for Inner<T> {
    fn cancel(self: Rc<Self>) -> bool {
        Task { inner: self }.cancel()
    }
}

// ANCHOR: cancel_all
/// Cancels every task of this thread that is not done (as asyncio's `run` does at shutdown with
/// `all_tasks`); returns how many. Each is resumed with `Resume::Cancel` on the loop's next turn,
/// so the loop must run again for the cancellations to play out.
pub fn cancel_all() -> usize {
    let tasks: Vec<Rc<dyn Cancel>> =
        ALL_TASKS.with_borrow(|all| all.values().filter_map(Weak::upgrade).collect());
    tasks.into_iter().filter(|task| Rc::clone(task).cancel()).count()
}
// ANCHOR_END: cancel_all

impl<T: 'static> Task<T> {
    /// Wraps `coroutine` in a task and schedules its first step (asyncio's `create_task`).
    pub fn spawn(lp: &EventLoop, coroutine: impl Coroutine<Output = T> + 'static) -> Task<T> {
        Task::spawn_traced(lp, coroutine, false)
    }

    /// As [`spawn`](Task::spawn), printing each step on stderr when `trace` is set.
    pub fn spawn_traced(
        lp: &EventLoop,
        coroutine: impl Coroutine<Output = T> + 'static,
        trace: bool,
    ) -> Task<T> {
        let id = NEXT_ID.with(|next| next.replace(next.get() + 1));
        LIVE_TASKS.fetch_add(1, Ordering::Relaxed);
        timeline::task_spawned(id, std::any::type_name_of_val(&coroutine)); // `--timeline`'s task events
        let task = Task {
            inner: Rc::new(Inner {
                id,
                coroutine: RefCell::new(Some(Box::new(coroutine))),
                done: Future::new(lp, format!("task {id}")),
                wait: Cell::new(0),
                cancelling: Cell::new(false),
                trace,
            }),
        };
        let listed: Weak<Inner<T>> = Rc::downgrade(&task.inner);
        ALL_TASKS.with_borrow_mut(|all| all.insert(id, listed));
        let first = task.clone();
        lp.call_soon(move |lp| first.step(lp, Resume::Start));
        task
    }

    // ANCHOR: step
    /// Resumes the coroutine once, then arranges for the next step. Only the task's own callbacks
    /// call this: each knows the wait it was scheduled for, and the `wait` count rejects a stale one.
    fn step(&self, lp: &EventLoop, how: Resume) {
        let Some(mut coroutine) = self.inner.coroutine.borrow_mut().take() else {
            return; // finished already
        };
        if how == Resume::Start && self.inner.cancelling.get() {
            // Cancelled before its first step: like `throw()` into a generator not yet started,
            // it never runs (it holds nothing yet, so dropping it is all the release it needs).
            self.trace(format_args!("cancelled before its first step"));
            drop(coroutine);
            timeline::task_ended(self.inner.id, "cancelled");
            let _ = self.inner.done.set_result(Err(Cancelled));
            return;
        }
        let left = coroutine.state_name();
        let stepping = timeline::task_poll(self.inner.id, "step");
        let step = coroutine.resume(lp, how);
        drop(stepping);
        if how == Resume::Cancel {
            // The coroutine has released what it holds; whatever it answered, it is over.
            self.trace(format_args!("cancelled in state {left}"));
            drop(coroutine);
            timeline::task_ended(self.inner.id, "cancelled");
            let _ = self.inner.done.set_result(Err(Cancelled));
            return;
        }
        match step {
            Step::Wait(waitable) => {
                if self.inner.trace {
                    // Only here: `describe` builds a string, too dear for every step of every task.
                    self.trace(format_args!("left state {left}, waits on {}", waitable.describe()));
                }
                let wait = self.inner.wait.get() + 1;
                self.inner.wait.set(wait);
                *self.inner.coroutine.borrow_mut() = Some(coroutine);
                let task = self.clone();
                waitable.when_done(Box::new(move |lp| {
                    if task.inner.wait.get() == wait {
                        timeline::task_woken(task.inner.id);
                        task.step(lp, Resume::Ready);
                    }
                }));
            }
            Step::Done(output) => {
                self.trace(format_args!("left state {left}, done"));
                drop(coroutine);
                // It cancelled itself in this step and then returned: an accepted cancel wins
                // (as in asyncio, and as `abort` does in stage 5).
                let result = if self.inner.cancelling.get() { Err(Cancelled) } else { Ok(output) };
                timeline::task_ended(self.inner.id, if result.is_ok() { "done" } else { "cancelled" });
                let _ = self.inner.done.set_result(result);
            }
        }
    }
    // ANCHOR_END: step

    /// Requests cancellation: the coroutine is resumed with `Resume::Cancel` on the next turn,
    /// instead of when its wait completes; one whose first step has not run is dropped unrun.
    /// A task may cancel itself: the cancel lands at the wait its current step ends at. Returns
    /// false if the task is already done; once it returns true, the task ends as [`Cancelled`]
    /// on its loop's next turn (a task whose loop is gone never runs again, cancelled or not).
    pub fn cancel(&self) -> bool {
        // Only `done` says the task is over: its coroutine is also out of its cell while its own
        // step runs, and a task cancelling itself must not be refused.
        if self.inner.done.is_done() {
            return false;
        }
        if !self.inner.cancelling.replace(true) {
            self.inner.wait.set(self.inner.wait.get() + 1); // the pending wait no longer counts
            if let Some(lp) = self.inner.done_loop() {
                let task = self.clone();
                lp.call_soon(move |lp| task.step(lp, Resume::Cancel));
            }
        }
        true
    }

    /// The task's own future: done with the coroutine's output, or `Err(Cancelled)`.
    pub fn future(&self) -> &Future<Result<T, Cancelled>> {
        &self.inner.done
    }

    /// Whether the task has finished.
    pub fn is_done(&self) -> bool {
        self.inner.done.is_done()
    }

    fn trace(&self, what: fmt::Arguments<'_>) {
        if self.inner.trace {
            crawl::log!("[task {}] {what}", self.inner.id);
        }
    }
}

impl<T: 'static> Inner<T> {
    fn done_loop(&self) -> Option<EventLoop> {
        self.done.event_loop()
    }
}

impl<T: 'static> Waitable for Task<T> {
    fn when_done(&self, callback: Box<dyn FnOnce(&EventLoop)>) {
        self.inner.done.when_done(callback);
    }

    fn describe(&self) -> String {
        format!("task {}", self.inner.id)
    }
}

impl<T> Clone for Task<T> {
    fn clone(&self) -> Self {
        Task { inner: Rc::clone(&self.inner) }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.inner.id).finish_non_exhaustive()
    }
}
