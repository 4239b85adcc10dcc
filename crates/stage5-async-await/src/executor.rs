//! The executor: tasks are `Future`s, polled when their `Waker` says so, on stage 3's loop.
//!
//! Stage 4's `Task` resumed a hand-written coroutine whenever the future it waited on was done.
//! Here the compiler writes the coroutine (an `async fn` is a state machine with a `poll`
//! method), and the "future it waits on" is replaced by a [`Waker`]: whatever the task waits
//! for (a socket, a timer, another task, a thread) keeps the waker and calls `wake()` when the
//! task should be polled again. Waking schedules the task's poll on the loop:
//!
//! * from the loop's own thread, with `call_soon`;
//! * from any other thread, with `call_soon_threadsafe`, which also interrupts `epoll_wait`.
//!
//! Rules every waker here keeps: waking a finished or aborted task does nothing; a task woken
//! many times before it runs is polled once; a waker may be cloned, sent to another thread, or
//! dropped unused. An aborted task's future is dropped at once (closing its sockets), and a panic
//! inside a task is caught and reported through its [`JoinHandle`]; the loop goes on.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};

use futures::FutureExt;
use stage3_callbacks::event_loop::EventLoop;
use stage3_callbacks::remote::RemoteHandle;

use crate::blocking::BlockingPool;

thread_local! {
    /// The executor of the `run` in progress on this thread.
    static CURRENT: RefCell<Option<Rc<Executor>>> = const { RefCell::new(None) };
}

/// A task's number, unique within one `run`.
type TaskId = u64;

/// The tasks of one `run`, and the loop they run on.
pub(crate) struct Executor {
    /// Stage 3's loop: the reactor (I/O and timers) and the scheduler (`call_soon`).
    event_loop: EventLoop,
    /// Every task not yet finished or aborted.
    tasks: RefCell<HashMap<TaskId, Rc<TaskCell>>>,
    /// The next task's number.
    next_id: Cell<TaskId>,
    /// `--trace`: print spawns, polls, wakes and completions on stderr.
    trace: Cell<bool>,
    /// The threads of `spawn_blocking`, started on first use and joined when `run` ends.
    blocking: BlockingPool,
}

/// One task.
struct TaskCell {
    /// The future; taken out while it is polled (so it may spawn, abort, even abort itself).
    future: RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>,
    /// The task's waker, made once; every clone of it shares the `scheduled` flag.
    waker: Waker,
    /// The same waker's data.
    wake: Arc<WakeHandle>,
}

/// What a waker knows: which task, whether a poll is already scheduled, and how to reach the loop.
struct WakeHandle {
    /// The task to poll.
    task: TaskId,
    /// True from a wake until the poll it caused starts: later wakes in between do nothing.
    scheduled: AtomicBool,
    /// The way in from other threads.
    remote: RemoteHandle,
    /// The loop's thread: a wake from here may use `call_soon` directly.
    home: ThreadId,
    /// Print wakes on stderr.
    trace: bool,
}

impl Wake for WakeHandle {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    // ANCHOR: wake
    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return; // a poll is already scheduled: this wake adds nothing
        }
        let task = self.task;
        let home = thread::current().id() == self.home;
        if self.trace {
            eprintln!(
                "[exec] wake task {task} from {}",
                if home { "the loop's thread" } else { "another thread" }
            );
        }
        if home && Executor::with_current(|executor| executor.schedule(task)).is_some() {
            return;
        }
        // Another thread (or no loop running here): queue it on the loop and interrupt its wait.
        // If the loop is gone, so is the task, and there is nothing to do.
        let _ = self.remote.call_soon_threadsafe(move |_| {
            Executor::with_current(|executor| executor.poll_task(task));
        });
    }
    // ANCHOR_END: wake
}

impl Executor {
    fn new(event_loop: EventLoop) -> Executor {
        Executor {
            event_loop,
            tasks: RefCell::new(HashMap::new()),
            next_id: Cell::new(1),
            trace: Cell::new(false),
            blocking: BlockingPool::default(),
        }
    }

    /// Runs `f` with this thread's executor, if a `run` is in progress.
    pub(crate) fn with_current<R>(f: impl FnOnce(&Rc<Executor>) -> R) -> Option<R> {
        let executor = CURRENT.with(|current| current.borrow().clone())?;
        Some(f(&executor))
    }

    /// Runs `f` with this thread's executor; panics outside `run`, as tokio does outside a runtime.
    pub(crate) fn current<R>(f: impl FnOnce(&Rc<Executor>) -> R) -> R {
        Executor::with_current(f).expect("this must be called inside stage5_async_await::run")
    }

    /// The loop of the current `run`.
    pub(crate) fn event_loop(&self) -> &EventLoop {
        &self.event_loop
    }

    fn trace(&self, what: fmt::Arguments<'_>) {
        if self.trace.get() {
            eprintln!("[exec] {what}");
        }
    }

    /// Spawns `future` with its panic caught: a panic becomes the task's `JoinError::Panicked`.
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_task(async move {
            let output = AssertUnwindSafe(future).catch_unwind().await;
            output.map_err(|payload| JoinError::Panicked(panic_message(&*payload)))
        })
    }

    // ANCHOR: spawn
    /// Makes `future` a task: a number, a waker, a place in the table, and a first poll.
    fn spawn_task<T: 'static>(
        &self,
        future: impl Future<Output = Result<T, JoinError>> + 'static,
    ) -> JoinHandle<T> {
        let id = self.next_id.replace(self.next_id.get() + 1);
        let join = Rc::new(JoinState { result: RefCell::new(None), waiter: RefCell::new(None) });
        let completer = Rc::clone(&join);
        // The task's future: the given one, its result handed to whoever awaits the handle.
        let task = async move { completer.complete(future.await) };
        let wake = Arc::new(WakeHandle {
            task: id,
            scheduled: AtomicBool::new(true), // the first poll is scheduled below
            remote: self.event_loop.remote(),
            home: thread::current().id(),
            trace: self.trace.get(),
        });
        let cell = TaskCell {
            future: RefCell::new(Some(Box::pin(task))),
            waker: Waker::from(Arc::clone(&wake)),
            wake,
        };
        self.tasks.borrow_mut().insert(id, Rc::new(cell));
        self.trace(format_args!("spawn task {id}"));
        self.schedule(id);
        JoinHandle { state: join, id }
    }
    // ANCHOR_END: spawn

    /// Polls `task` on the loop's next turn.
    fn schedule(&self, task: TaskId) {
        self.event_loop.call_soon(move |_| {
            Executor::with_current(|executor| executor.poll_task(task));
        });
    }

    // ANCHOR: poll_task
    /// Polls a task once. A task that finished or was aborted is simply not found.
    fn poll_task(&self, id: TaskId) {
        let Some(task) = self.tasks.borrow().get(&id).cloned() else { return };
        // From here on a wake schedules another poll, even one that comes during this poll.
        task.wake.scheduled.store(false, Ordering::Release);
        let Some(mut future) = task.future.borrow_mut().take() else { return };
        self.trace(format_args!("poll task {id}"));
        let mut context = Context::from_waker(&task.waker);
        let finished = future.as_mut().poll(&mut context).is_ready();
        let still_there = self.tasks.borrow().contains_key(&id);
        if finished || !still_there {
            self.tasks.borrow_mut().remove(&id);
            self.trace(format_args!(
                "task {id} {}",
                if finished { "finished" } else { "aborted while running" }
            ));
            drop(future); // outside every borrow: its drop may use the loop
        } else {
            *task.future.borrow_mut() = Some(future);
        }
    }
    // ANCHOR_END: poll_task

    /// Drops a task's future now (unless it is being polled: then right after).
    fn abort(&self, id: TaskId) -> bool {
        let Some(task) = self.tasks.borrow_mut().remove(&id) else { return false };
        self.trace(format_args!("abort task {id}"));
        let future = task.future.borrow_mut().take();
        drop(future);
        true
    }

    /// Drops every task left (asyncio.run cancels the tasks still pending when main returns).
    fn cancel_all(&self) {
        let tasks: Vec<Rc<TaskCell>> = self.tasks.borrow_mut().drain().map(|(_, task)| task).collect();
        for task in tasks {
            let future = task.future.borrow_mut().take();
            drop(future);
        }
    }
}

/// Why a task produced no output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// It was aborted (or still pending when `run` returned).
    Cancelled,
    /// It panicked, with this message; the loop went on.
    Panicked(String),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task cancelled"),
            JoinError::Panicked(message) => write!(f, "task panicked: {message}"),
        }
    }
}

impl std::error::Error for JoinError {}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message.to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

/// Shared by a task and its handle.
struct JoinState<T> {
    /// The task's output, until the handle takes it.
    result: RefCell<Option<Result<T, JoinError>>>,
    /// Who is awaiting the handle.
    waiter: RefCell<Option<Waker>>,
}

impl<T> JoinState<T> {
    fn complete(&self, result: Result<T, JoinError>) {
        let mut slot = self.result.borrow_mut();
        if slot.is_none() {
            *slot = Some(result);
            drop(slot);
            if let Some(waiter) = self.waiter.borrow_mut().take() {
                waiter.wake();
            }
        }
    }
}

/// Awaits a spawned task's output (or why there is none). Dropping it lets the task run on.
pub struct JoinHandle<T> {
    state: Rc<JoinState<T>>,
    id: TaskId,
}

impl<T> JoinHandle<T> {
    /// Cancels the task: its future is dropped at once, and awaiting this handle gives
    /// `Err(JoinError::Cancelled)`. Does nothing to a task that has finished.
    pub fn abort(&self) {
        if Executor::with_current(|executor| executor.abort(self.id)).unwrap_or(false) {
            self.state.complete(Err(JoinError::Cancelled));
        }
    }

    /// Whether the task has finished (or been aborted).
    pub fn is_finished(&self) -> bool {
        self.state.result.borrow().is_some()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(result) = self.state.result.borrow_mut().take() {
            return Poll::Ready(result);
        }
        *self.state.waiter.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("task", &self.id).finish()
    }
}

/// Runs `future` as a task of the current `run` (asyncio's `create_task`).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Executor::current(|executor| executor.spawn(future))
}

// ANCHOR: spawn_blocking
/// Runs the blocking `f` on a pool thread and gives a handle to await its value (asyncio's
/// `loop.run_in_executor(None, f)`). The loop's thread stays free for the other tasks.
///
/// A panic in `f` is caught and reported as `JoinError::Panicked`. `abort` stops the wait, not the
/// call: a thread cannot be interrupted, so `f` runs to the end and its value is dropped.
pub fn spawn_blocking<T, F>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (sender, receiver) = futures::channel::oneshot::channel();
    Executor::current(|executor| {
        // The pool thread sends the outcome; that wakes the task below from the pool's thread.
        executor.blocking.submit(f, move |outcome| {
            let _ = sender.send(outcome); // the task may have been aborted: nobody to tell
        });
        executor.spawn_task(async move {
            match receiver.await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(payload)) => Err(JoinError::Panicked(panic_message(&*payload))),
                Err(_dropped_unrun) => Err(JoinError::Cancelled),
            }
        })
    })
}
// ANCHOR_END: spawn_blocking

// ANCHOR: run
/// Runs `future` to completion on a new event loop, with every task it spawns (asyncio's `run`).
/// When it completes, the tasks still running are dropped, which cancels them.
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
    let event_loop = EventLoop::new().expect("cannot create the event loop (epoll)");
    let executor = Rc::new(Executor::new(event_loop.clone()));
    executor.trace.set(trace);
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
        None => panic!("the event loop ran out of work before the main future finished"),
    }
}
// ANCHOR_END: run

/// Makes an executor current for one `run`, and on the way out (also by panic) drops its tasks
/// while it is still current (their drops may deregister sockets) and then clears it.
struct CurrentGuard(Rc<Executor>);

impl CurrentGuard {
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
