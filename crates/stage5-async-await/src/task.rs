//! A spawned task: its future, its result, who awaits it; and the handle that awaits it.
//!
//! One `Rc<Task<T>>` holds all of it, shared by the executor's table (as `Rc<dyn Runnable>`,
//! which forgets `T`) and by the task's [`JoinHandle`] (which knows `T`). The future itself is
//! boxed apart, because polling needs it pinned, and a box is the safe way to pin.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use crate::executor::{Executor, TaskId};
use crate::waker::WakeHandle;

// ANCHOR: task_future
/// A task's future: the caller's, made to return `Result<T, JoinError>` (panics caught).
pub(crate) type TaskFuture<T> = Pin<Box<dyn Future<Output = Result<T, JoinError>>>>;
// ANCHOR_END: task_future

/// One task. Kept small: a pending task costs this, its boxed future, its `WakeHandle` and a
/// place in the executor's table (`tour memory` measures the sum; the budget is 256 bytes).
pub(crate) struct Task<T> {
    /// The future; taken out while it is polled (so it may spawn, abort, even abort itself), and
    /// dropped the moment the task finishes or is aborted.
    future: RefCell<Option<TaskFuture<T>>>,
    /// Running, then the output (or why there is none) until the handle takes it.
    state: RefCell<State<T>>,
    /// Who is awaiting the handle.
    waiter: RefCell<Option<Waker>>,
    /// The waker's data: the task's number and its `scheduled` flag. The `Waker` itself is made
    /// from it for each poll (an `Arc` clone), rather than kept here at 16 bytes a task.
    wake: Arc<WakeHandle>,
}

/// Tasks created and not yet dropped, across every loop in the process; for leak tests.
///
/// A task is dropped once it is over and neither the executor's table nor its [`JoinHandle`]
/// holds it; after a `run` has returned and its handles are gone, anything above the count from
/// before is a task kept alive by a cycle or a forgotten handle.
pub fn tasks_alive() -> usize {
    TASKS_ALIVE.load(Ordering::Relaxed)
}

/// Raised in [`Task::new`], lowered in its `Drop`. `Relaxed` is enough: no other data is
/// published through it, no update of one atomic is ever lost whatever the ordering, and a test
/// reading it has already synchronized with the threads that ran tasks (by joining them). So it
/// costs one uncontended atomic add per spawn and per drop: nanoseconds beside a spawn.
static TASKS_ALIVE: AtomicUsize = AtomicUsize::new(0);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        TASKS_ALIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a task is in its life.
enum State<T> {
    /// Not finished: polled when woken.
    Running,
    /// Finished or aborted; the outcome waits for the handle.
    Over(Result<T, JoinError>),
    /// Finished, and the handle has taken the outcome.
    Taken,
}

/// What the executor needs of a task, whatever its output type.
pub(crate) trait Runnable {
    /// Polls the task once; true when it is over (finished now, or aborted meanwhile).
    fn poll_once(&self) -> bool;
    /// Drops the future at once and records `Cancelled`; false if it was over already.
    fn cancel(&self) -> bool;
}

impl<T> Task<T> {
    /// A task not yet polled; counted in [`tasks_alive`] until it is dropped.
    pub(crate) fn new(future: TaskFuture<T>, wake: Arc<WakeHandle>) -> Task<T> {
        TASKS_ALIVE.fetch_add(1, Ordering::Relaxed);
        Task {
            future: RefCell::new(Some(future)),
            state: RefCell::new(State::Running),
            waiter: RefCell::new(None),
            wake,
        }
    }

    /// The task's number.
    fn id(&self) -> TaskId {
        self.wake.task
    }

    /// Whether it has finished or been aborted.
    fn is_over(&self) -> bool {
        !matches!(*self.state.borrow(), State::Running)
    }

    /// Records the outcome (the first one wins) and wakes whoever awaits the handle.
    fn finish(&self, result: Result<T, JoinError>) -> bool {
        if self.is_over() {
            return false;
        }
        let how = match &result {
            Ok(_) => "done",
            Err(JoinError::Cancelled) => "cancelled",
            Err(_) => "failed",
        };
        crawl::timeline::task_ended(self.id(), how); // `--timeline`'s task events
        *self.state.borrow_mut() = State::Over(result);
        let waiter = self.waiter.borrow_mut().take();
        if let Some(waiter) = waiter {
            waiter.wake();
        }
        true
    }
}

impl<T> Runnable for Task<T> {
    // ANCHOR: poll_once
    fn poll_once(&self) -> bool {
        // From here on a wake schedules another poll, even one that comes during this poll.
        self.wake.scheduled.store(false, Ordering::Release);
        let Some(mut future) = self.future.borrow_mut().take() else { return self.is_over() };
        let waker = Waker::from(Arc::clone(&self.wake));
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(result) => {
                drop(future); // first, so its sockets close before anyone hears of the result
                self.finish(result);
                true
            }
            Poll::Pending if self.is_over() => true, // it aborted itself: `future` drops here
            Poll::Pending => {
                *self.future.borrow_mut() = Some(future);
                false
            }
        }
    }
    // ANCHOR_END: poll_once

    fn cancel(&self) -> bool {
        if self.is_over() {
            return false;
        }
        // Taken out of the cell before it drops: its drop may use the loop, even this task.
        let future = self.future.borrow_mut().take();
        drop(future);
        self.finish(Err(JoinError::Cancelled))
    }
}

/// Why a task produced no output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// It was aborted (or still pending when `run` returned).
    Cancelled,
    /// It panicked, with this message; the loop went on.
    Panicked(String),
    /// A `spawn_blocking` call that never ran: the pool had no thread, and the OS refused to
    /// start one, for this reason.
    NoThread(String),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task cancelled"),
            JoinError::Panicked(message) => write!(f, "task panicked: {message}"),
            JoinError::NoThread(why) => write!(f, "cannot start a blocking-pool thread: {why}"),
        }
    }
}

impl std::error::Error for JoinError {}

/// The text of a panic, as `JoinError::Panicked` carries it.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message.to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

/// Awaits a spawned task's output (or why there is none). Dropping it lets the task run on.
pub struct JoinHandle<T> {
    /// The task, shared with the executor's table until it is over.
    pub(crate) task: Rc<Task<T>>,
}

impl<T> JoinHandle<T> {
    /// Cancels the task: its future is dropped at once (its sockets close, its timers are
    /// cancelled), and awaiting this handle gives `Err(JoinError::Cancelled)`. Does nothing to a
    /// task that is over. A task may abort itself; its poll then ends at its next `.await`.
    pub fn abort(&self) {
        if self.task.cancel() {
            Executor::with_current(|executor| executor.forget(self.task.id()));
        }
    }

    /// Whether the task has finished (or been aborted).
    pub fn is_finished(&self) -> bool {
        self.task.is_over()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.task.state.borrow_mut();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Over(result) => Poll::Ready(result),
            // Only if polled again after returning Ready: a misuse, answered sanely.
            State::Taken => Poll::Ready(Err(JoinError::Cancelled)),
            State::Running => {
                *state = State::Running;
                *self.task.waiter.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("task", &self.task.id()).finish()
    }
}
