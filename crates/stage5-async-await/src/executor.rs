//! The executor: tasks are `Future`s, polled when their `Waker` says so, on stage 3's loop.
//!
//! Stage 4's `Task` resumed a hand-written coroutine whenever the future it waited on was done.
//! Here the compiler writes the coroutine (an `async fn` is a state machine with a `poll`
//! method), and the "future it waits on" is replaced by a [`Waker`](std::task::Waker):
//! whatever the task waits for (a socket, a timer, another task, a thread) keeps the waker and
//! calls `wake()` when the task should be polled again. Waking schedules the task's poll on the loop:
//!
//! * from the loop's own thread, with `call_soon`;
//! * from any other thread, with `call_soon_threadsafe`, which also interrupts `epoll_wait`.
//!
//! Rules every waker here keeps: waking a finished or aborted task does nothing; a task woken
//! many times before it runs is polled once; a waker may be cloned, sent to another thread, or
//! dropped unused. An aborted task's future is dropped at once (closing its sockets), and a panic
//! inside a task is caught and reported through its [`JoinHandle`]; the loop goes on.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::{Context, Poll};

use crawl::timeline;
use futures::FutureExt;
use stage3_callbacks::event_loop::EventLoop;

use crate::blocking::BlockingPool;
pub use crate::blocking::pool_threads_alive;
use crate::run_handle::RunHandle;
pub use crate::task::{JoinError, JoinHandle, tasks_alive};
use crate::task::{Runnable, Task, panic_message};
use crate::task_table::TaskTable;
use crate::waker::WakeHandle;

// ANCHOR: current
thread_local! {
    /// The executor of the `run` in progress on this thread.
    static CURRENT: RefCell<Option<Rc<Executor>>> = const { RefCell::new(None) };
}
// ANCHOR_END: current

/// A task's number, unique within one `run`.
pub(crate) type TaskId = u64;

/// The tasks of one `run`, and the loop they run on.
pub(crate) struct Executor {
    /// Stage 3's loop: the reactor (I/O and timers) and the scheduler (`call_soon`).
    event_loop: EventLoop,
    /// Every task not yet finished or aborted, by number: a `HashMap` (`task_table.rs` tunes its
    /// hasher).
    tasks: RefCell<TaskTable>,
    /// Tasks woken on the loop's thread since the last batch was polled, in wake order. A task
    /// is in it at most once: its waker's `scheduled` flag keeps it out until its poll starts.
    run_queue: RefCell<VecDeque<TaskId>>,
    /// Whether a `call_soon` to poll the run queue is already scheduled.
    batch_scheduled: Cell<bool>,
    /// The next task's number.
    next_id: Cell<TaskId>,
    /// What every waker of this `run` shares, `--trace` included (built once: `run_handle.rs`).
    run: Arc<RunHandle>,
    /// The threads of `spawn_blocking`, started on first use and joined when `run` ends.
    blocking: BlockingPool,
}

impl Executor {
    /// An executor with no tasks yet, on `event_loop`.
    fn new(event_loop: EventLoop, trace: bool) -> Executor {
        let run = RunHandle::new(&event_loop, trace);
        Executor {
            event_loop,
            tasks: RefCell::new(TaskTable::default()),
            run_queue: RefCell::new(VecDeque::new()),
            batch_scheduled: Cell::new(false),
            next_id: Cell::new(1),
            run,
            blocking: BlockingPool::default(),
        }
    }

    // ANCHOR: current_lookup
    /// Runs `f` with this thread's executor, if a `run` is in progress.
    pub(crate) fn with_current<R>(f: impl FnOnce(&Rc<Executor>) -> R) -> Option<R> {
        let executor = CURRENT.with(|current| current.borrow().clone())?;
        Some(f(&executor))
    }

    /// Runs `f` with this thread's executor; panics outside `run`, as tokio does outside a runtime.
    pub(crate) fn current<R>(f: impl FnOnce(&Rc<Executor>) -> R) -> R {
        Executor::with_current(f).expect("this must be called inside stage5_async_await::run")
    }
    // ANCHOR_END: current_lookup

    /// The loop of the current `run`.
    pub(crate) fn event_loop(&self) -> &EventLoop {
        &self.event_loop
    }

    /// What the wakers of this `run` share; a waker compares it with its own.
    pub(crate) fn run_handle(&self) -> &RunHandle {
        &self.run
    }

    /// Prints `what` on stderr under `--trace`; `format_args!` formats nothing unless it is on.
    fn trace(&self, what: fmt::Arguments<'_>) {
        if self.run.trace {
            crawl::log!("[exec] {what}");
        }
    }

    // ANCHOR: spawn_boxed
    /// Spawns `future` with its panic caught: a panic becomes the task's `JoinError::Panicked`.
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_task(Box::pin(catch_panics(future)))
    }
    // ANCHOR_END: spawn_boxed

    // ANCHOR: spawn
    /// Makes `future` a task: a number, a waker, a place in the table, and a first poll.
    fn spawn_task<T: 'static>(&self, future: crate::task::TaskFuture<T>) -> JoinHandle<T> {
        let id = self.next_id.replace(self.next_id.get() + 1);
        let wake = Arc::new(WakeHandle {
            task: id,
            scheduled: AtomicBool::new(true), // the first poll is scheduled below
            run: Arc::clone(&self.run),
        });
        let task = Rc::new(Task::new(future, wake));
        self.tasks.borrow_mut().insert(id, Rc::clone(&task) as Rc<dyn Runnable>);
        self.trace(format_args!("spawn task {id}"));
        timeline::task_spawned(id, "task"); // `--timeline`'s task events (`spawn` names the future)
        self.schedule(id);
        JoinHandle { task }
    }
    // ANCHOR_END: spawn

    // ANCHOR: schedule
    /// Queues a poll of `task` for the loop's next turn; always true (for the waker's `&&`).
    pub(crate) fn schedule(&self, task: TaskId) -> bool {
        self.run_queue.borrow_mut().push_back(task);
        if !self.batch_scheduled.replace(true) {
            self.event_loop.call_soon(|_| {
                Executor::with_current(|executor| executor.poll_queued());
            });
        }
        true
    }

    /// Polls the tasks queued before this batch began. Those woken meanwhile (a task that
    /// yields, a task woken by another) go into the next batch, on the next turn, after the loop
    /// has looked at I/O and timers again: no task can starve the others or the sockets.
    fn poll_queued(&self) {
        self.batch_scheduled.set(false);
        let queued = self.run_queue.borrow().len();
        for _ in 0..queued {
            let Some(task) = self.run_queue.borrow_mut().pop_front() else { break };
            self.poll_task(task);
        }
    }
    // ANCHOR_END: schedule

    // ANCHOR: poll_task
    /// Polls a task once. A task that finished or was aborted is simply not found.
    pub(crate) fn poll_task(&self, id: TaskId) {
        let Some(task) = self.tasks.borrow().get(&id).cloned() else { return };
        self.trace(format_args!("poll task {id}"));
        let _polling = timeline::task_poll(id, "poll");
        if task.poll_once() {
            self.tasks.borrow_mut().remove(&id);
            self.trace(format_args!("task {id} finished"));
        }
    }
    // ANCHOR_END: poll_task

    /// Takes an aborted task out of the table (its future is already dropped).
    pub(crate) fn forget(&self, id: TaskId) {
        self.trace(format_args!("abort task {id}"));
        let task = self.tasks.borrow_mut().remove(&id);
        drop(task); // outside the borrow
    }

    /// Cancels every task left (asyncio.run cancels the tasks still pending when main returns).
    fn cancel_all(&self) {
        let tasks: Vec<Rc<dyn Runnable>> = self.tasks.borrow_mut().drain().map(|(_, task)| task).collect();
        for task in tasks {
            task.cancel();
        }
    }
}

/// `future`, with a panic in its `poll` caught and turned into `JoinError::Panicked`.
///
/// Combinators, not an `async move` block: a block would keep `future` twice, once as the value
/// it captured and once inside the `CatchUnwind` it moved it into (rustc does not overlap the
/// two), doubling every task's size.
fn catch_panics<F: Future>(future: F) -> impl Future<Output = Result<F::Output, JoinError>> {
    AssertUnwindSafe(future)
        .catch_unwind()
        .map(|output| output.map_err(|payload| JoinError::Panicked(panic_message(&*payload))))
}

// ANCHOR: spawn_current
/// Runs `future` as a task of the current `run` (asyncio's `create_task`).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Executor::current(|executor| executor.spawn(future))
}
// ANCHOR_END: spawn_current

// ANCHOR: spawn_blocking
/// Runs the blocking `f` on a pool thread and gives a handle to await its value (asyncio's
/// `loop.run_in_executor(None, f)`). The loop's thread stays free for the other tasks.
///
/// A panic in `f` is caught and reported as `JoinError::Panicked`. `abort` stops the wait, not the
/// call: a thread cannot be interrupted, so `f` runs to the end and its value is dropped. If the
/// pool has no thread and the OS refuses to start one, `f` never runs: `JoinError::NoThread`.
pub fn spawn_blocking<T, F>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (sender, receiver) = futures::channel::oneshot::channel();
    Executor::current(|executor| {
        // The pool thread sends the outcome; that wakes the task below from the pool's thread.
        let submitted = executor.blocking.submit(f, move |outcome| {
            let _ = sender.send(outcome); // the task may have been aborted: nobody to tell
        });
        executor.spawn_task(Box::pin(async move {
            submitted.map_err(|e| JoinError::NoThread(e.to_string()))?;
            match receiver.await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(payload)) => Err(JoinError::Panicked(panic_message(&*payload))),
                Err(_dropped_unrun) => Err(JoinError::Cancelled),
            }
        }))
    })
}
// ANCHOR_END: spawn_blocking

// ANCHOR: run
/// Runs `future` to completion on a new event loop, with every task it spawns (asyncio's `run`).
/// When it completes, the tasks still running are dropped, which cancels them. A loop that cannot
/// be created (no file descriptor left) leaves nothing to run: one line on stderr and exit status 1.
pub fn run<F>(future: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    run_traced(future, false)
}

/// As [`run`], printing spawns, polls, wakes and completions on stderr when `trace` is set.
pub fn run_traced<F>(future: F, trace: bool) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
{
    let event_loop = crawl::or_exit(EventLoop::new(), "cannot create the event loop");
    let executor = Rc::new(Executor::new(event_loop.clone(), trace));
    let _current = CurrentGuard::enter(Rc::clone(&executor));
    let output = Rc::new(RefCell::new(None));
    let main = executor.spawn(future);
    let main_output = Rc::clone(&output);
    executor.spawn(async move {
        *main_output.borrow_mut() = Some(main.await);
        Executor::current(|executor| executor.event_loop().stop());
    });
    event_loop.run().expect("the event loop failed");
    let output = output.borrow_mut().take();
    match output {
        Some(Ok(output)) => output,
        Some(Err(JoinError::Panicked(message))) => panic!("the main future panicked: {message}"),
        Some(Err(JoinError::Cancelled)) => panic!("the main future was aborted"),
        Some(Err(JoinError::NoThread(_))) => unreachable!("the main future is not a blocking call"),
        None => panic!("the event loop ran out of work before the main future finished"),
    }
}
// ANCHOR_END: run

// ANCHOR: current_guard
/// Makes an executor current for one `run`, and on the way out (also by panic) drops its tasks
/// while it is still current (their drops may deregister sockets) and then clears it.
struct CurrentGuard(Rc<Executor>);

impl CurrentGuard {
    /// Makes `executor` this thread's current one; panics if a `run` is already in progress.
    fn enter(executor: Rc<Executor>) -> CurrentGuard {
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            assert!(current.is_none(), "stage5_async_await::run cannot be nested");
            *current = Some(Rc::clone(&executor));
        });
        CurrentGuard(executor)
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        self.0.cancel_all();
        self.0.blocking.shut_down();
        CURRENT.with(|current| current.borrow_mut().take());
    }
}
// ANCHOR_END: current_guard

/// Lets other tasks run before this one goes on: it wakes itself and returns `Pending` once.
pub async fn yield_now() {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if std::mem::replace(&mut self.0, true) {
                return Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldNow(false).await
}

/// Awaits every handle and returns each task's result, errors included, in the order given
/// (asyncio's `gather(..., return_exceptions=True)`).
pub async fn gather<T>(handles: Vec<JoinHandle<T>>) -> Vec<Result<T, JoinError>> {
    futures::future::join_all(handles).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catching_panics_does_not_copy_the_future() {
        let future = async {
            let bytes = [7u8; 500];
            std::future::ready(()).await;
            bytes[250]
        };
        let alone = std::mem::size_of_val(&future);
        let caught = std::mem::size_of_val(&catch_panics(future));
        // An `async move` block around `catch_unwind` held the future twice.
        assert!(caught <= alone + 16, "{caught} bytes for a {alone}-byte future");
    }
}
