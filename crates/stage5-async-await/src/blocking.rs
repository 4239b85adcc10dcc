//! Blocking work off the loop: a pool of threads (asyncio's `run_in_executor`).
//!
//! A task that calls something blocking (a `std::thread::sleep`, a blocking read, a long
//! computation) holds the loop's only thread, and every other task waits with it. The fix is the
//! same as asyncio's: hand the call to another thread and await its result. The result comes
//! back through a oneshot channel whose waker is called *from the pool thread*, which is the
//! `call_soon_threadsafe` path of the task's waker: the loop is woken out of `epoll_wait`.
//!
//! Why not a thread per call: threads cost a stack and a kernel task each, so a pool reuses them,
//! and caps them, as Python's default executor does (`min(32, cpus + 4)` threads). The price of
//! the cap is asyncio's too: the crawler looks up each name here, one lookup per try in flight,
//! and when more lookups are in flight than the pool has threads (a slow resolver, lookups given
//! up on that still hold their threads), the others wait in the queue, and their wait counts
//! against the try's `--timeout`. (tokio's pool caps at 512.)
//!
//! Pool threads are started on demand and live until the end of the `run` that made them; `run`
//! then drops the calls not started and joins every thread not in a call. A thread still in a
//! call is left to finish it and exit on its own: a thread cannot be cancelled, and waiting for it
//! would let one hung call (a name lookup whose DNS server never answers) hang the program after
//! its work is done. (tokio's `Runtime::shutdown_background` makes the same choice; a plain drop
//! of a tokio runtime waits.) Such a thread takes no further call, and nobody reads its result. A
//! call counts as over once it has returned, before its result is handed on, so a call that was
//! awaited never keeps its thread from being joined. A thread the OS refuses to start (a process
//! or system limit) is done without: the calls wait for the threads there are, and with none at
//! all a call fails at once (`JoinError::NoThread`) rather than waiting forever.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;

/// Pool threads whose work has not returned, across every pool in the process; for leak tests.
///
/// A test cannot count them in `/proc/self/task`: a thread that has been joined may still be
/// listed there for a moment, the kernel removing it only after it has woken its joiner. This
/// counter is lowered by the thread itself before it ends, so a joined thread is never in it.
pub fn pool_threads_alive() -> usize {
    POOL_THREADS_ALIVE.load(Ordering::Relaxed)
}

/// Raised as a pool thread starts, lowered as its work returns (`Relaxed`: see `tasks_alive`).
static POOL_THREADS_ALIVE: AtomicUsize = AtomicUsize::new(0);

/// A call handed to the pool: it makes the call and returns the [`Delivery`] of its outcome.
type Job = Box<dyn FnOnce() -> Delivery + Send>;

/// Hands a call's outcome on, once the thread no longer counts as busy with the call.
type Delivery = Box<dyn FnOnce() + Send>;

/// The result a pool thread sends back: the call's value, or its panic.
pub(crate) type Outcome<T> = Result<T, Box<dyn Any + Send>>;

/// The most threads one pool starts: Python's default executor size.
fn max_threads() -> usize {
    let cpus = thread::available_parallelism().map_or(1, usize::from);
    (cpus + 4).min(32)
}

/// The threads of one `run`, and the calls waiting for them.
#[derive(Default)]
pub(crate) struct BlockingPool {
    /// What the threads share with the loop's thread.
    shared: Arc<Shared>,
    /// The threads started so far, joined by [`BlockingPool::shut_down`].
    threads: RefCell<Vec<thread::JoinHandle<()>>>,
}

/// What the pool's threads and the loop's thread both touch.
#[derive(Default)]
struct Shared {
    /// The queue and the count of idle threads, under one lock.
    state: Mutex<State>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
}

/// The pool's bookkeeping, changed only under `Shared::state`'s lock.
#[derive(Default)]
struct State {
    /// Calls not yet taken by a thread.
    jobs: VecDeque<Job>,
    /// Threads waiting on `work`. A new job wakes one of them if there are at least as many
    /// idle threads as queued jobs; otherwise it starts a thread (up to the maximum).
    idle: usize,
    /// Which threads are in a call now, by the index of their handle in `BlockingPool::threads`:
    /// [`BlockingPool::shut_down`] joins only the others.
    busy: Vec<bool>,
    /// Set once, at the end of `run`: threads finish their current call and exit.
    shutting_down: bool,
}

impl BlockingPool {
    /// Runs `f` on a pool thread; its value or panic is handed to `done` on that thread. When the
    /// OS refuses the thread the pool wanted to start, the threads already started take `f` when
    /// they are free; with none started, nothing ever would, so `f` is dropped unrun, with `done`,
    /// and the error is the OS's.
    pub(crate) fn submit<T, F>(&self, f: F, done: impl FnOnce(Outcome<T>) + Send + 'static) -> io::Result<()>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(f));
            Box::new(move || done(outcome))
        });
        let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.jobs.push_back(job);
        let mut threads = self.threads.borrow_mut();
        if state.idle >= state.jobs.len() || threads.len() >= max_threads() {
            // An idle thread will take it, or every thread is busy and one will when it is done.
            self.shared.work.notify_one();
            return Ok(());
        }
        drop(state);
        let shared = Arc::clone(&self.shared);
        let index = threads.len();
        let name = format!("blocking-pool-{}", index + 1);
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner).busy.push(false);
        match thread::Builder::new().name(name).spawn(move || shared.work_until_shut_down(index)) {
            Ok(thread) => threads.push(thread),
            // A process or system limit: the pool goes on with the threads it has (an idle one
            // is woken; if none is idle, the first to finish its call takes this one).
            Err(_) if !threads.is_empty() => {
                self.shared.state.lock().unwrap_or_else(PoisonError::into_inner).busy.pop();
                self.shared.work.notify_one();
            }
            Err(e) => {
                // No thread to take it: the job just queued is still the last (no other thread
                // touches the queue). Dropped outside the lock, as in `shut_down`: `f` may own
                // anything.
                let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.busy.pop();
                let job = state.jobs.pop_back();
                drop(state);
                drop(job);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Drops the calls not started and joins every thread not in a call; a thread in a call is
    /// left to end it (see the module's docs).
    pub(crate) fn shut_down(&self) {
        let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.shutting_down = true;
        let not_started = std::mem::take(&mut state.jobs);
        // Read under the lock that `shutting_down` was set under: a thread not busy now never
        // starts another call.
        let busy = std::mem::take(&mut state.busy);
        drop(state);
        drop(not_started); // their result senders close: the awaiting tasks see a cancellation
        self.shared.work.notify_all();
        for (thread, busy) in self.threads.take().into_iter().zip(busy) {
            if !busy {
                let _ = thread.join(); // a call's panic was caught inside the job: this cannot fail
            } // else detached: it exits when its call returns
        }
    }
}

impl Shared {
    /// A pool thread's life: take a job, run it without the lock, repeat; sleep when there is none.
    /// `index` is the thread's place in `State::busy`.
    fn work_until_shut_down(&self, index: usize) {
        POOL_THREADS_ALIVE.fetch_add(1, Ordering::Relaxed);
        /// Lowers the count however the work ends.
        struct Alive;
        impl Drop for Alive {
            fn drop(&mut self) {
                POOL_THREADS_ALIVE.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let _alive = Alive;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if state.shutting_down {
                return;
            }
            if let Some(job) = state.jobs.pop_front() {
                state.busy[index] = true;
                drop(state);
                let delivery = job();
                state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(busy) = state.busy.get_mut(index) {
                    *busy = false; // (gone once the pool has shut down)
                }
                // Handed on without the lock, and only now: whoever awaits it may end `run`,
                // whose shut-down must then find this thread not busy, and join it.
                drop(state);
                delivery();
                state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.idle += 1;
            // A wake-up may be spurious: the loop above re-checks the queue either way.
            state = self.work.wait(state).unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
        }
    }
}
