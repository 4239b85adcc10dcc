//! A work queue with `join` (asyncio's `Queue`): `put`, `get().await`, `task_done`, `join().await`.
//!
//! `join` waits until every item ever put has been marked done, which is how the crawler knows
//! the crawl is over: a worker marks its URL done only after putting the links it found.
//!
//! The API is stage 5's, so the crawler does not change; the inside is tokio's. Stage 5 kept the
//! waiting tasks' wakers in lists by hand. tokio ships those lists as synchronisation primitives:
//! [`Notify`] (wake one waiting task, or let the next one to wait through at once) for `get`, and
//! [`watch`] (a value whose changes tasks can wait for) for `join`.
//!
//! The queue is `Send` and `Sync` (an `Arc` and a `Mutex`, where stage 5 had an `Rc` and a
//! `RefCell`), so that the multi-thread crawler's workers, on several threads, can share it too.
//! The lock is held for a push or a pop, never across an `.await`.
//!
//! Why not one of tokio's channels: `mpsc` has a single receiver, and here `--max-tasks` workers
//! take jobs, so they would have to share it behind a lock; and a channel counts items received,
//! while `join` needs items *finished*.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, watch};

/// A queue shared by tasks, on one thread or several. Cloning gives another handle to the same
/// queue.
pub struct Queue<T> {
    /// The queue itself, shared by every handle.
    inner: Arc<Inner<T>>,
}

/// The queue's items, and the primitives its waiting tasks wait on.
struct Inner<T> {
    /// Items waiting for a `get`.
    items: Mutex<VecDeque<T>>,
    /// One notification per `put`: it wakes a task waiting in `get`, or, when none waits, lets
    /// the next `get` that would wait go round again.
    available: Notify,
    /// Items put and not yet marked done. `join` waits for it to read zero.
    unfinished: watch::Sender<usize>,
}

impl<T> Queue<T> {
    /// An empty queue; clone it to hand it to each task that puts or gets.
    pub fn new() -> Queue<T> {
        let inner = Inner {
            items: Mutex::new(VecDeque::new()),
            available: Notify::new(),
            unfinished: watch::Sender::new(0),
        };
        Queue { inner: Arc::new(inner) }
    }

    /// Adds an item and wakes one waiting `get`.
    pub fn put(&self, item: T) {
        // Counted before it can be taken: on several threads, a `get` and its `task_done` could
        // otherwise come between the push and the count. Nobody waits for the count to grow:
        // count it without waking the joiners.
        self.inner.unfinished.send_if_modified(|unfinished| {
            *unfinished += 1;
            false
        });
        self.items().push_back(item);
        self.inner.available.notify_one();
    }

    /// The next item, waiting until there is one.
    pub async fn get(&self) -> T {
        loop {
            let item = self.items().pop_front(); // the lock is released here, before any await
            if let Some(item) = item {
                return item;
            }
            // Another task may take the item this wake was for before we run: then wait again.
            self.inner.available.notified().await;
        }
    }

    /// Marks one item got earlier as fully processed.
    pub fn task_done(&self) {
        self.inner.unfinished.send_if_modified(|unfinished| {
            *unfinished = unfinished.checked_sub(1).expect("task_done called more often than put");
            *unfinished == 0 // wake the joiners only when the last item is done
        });
    }

    /// The items, locked for as long as the guard lives. A panic while it was held cannot leave
    /// the queue half-changed (a push or a pop is one call), so a poisoned lock is taken as is.
    fn items(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.inner.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every item put has been marked done.
    pub async fn join(&self) {
        // `wait_for` looks at the count before waiting, so a finished queue returns at once.
        let mut unfinished = self.inner.unfinished.subscribe();
        unfinished.wait_for(|&unfinished| unfinished == 0).await.expect("the queue holds the sender");
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue::new()
    }
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue { inner: Arc::clone(&self.inner) }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("items", &self.items().len())
            .field("unfinished", &*self.inner.unfinished.borrow())
            .finish()
    }
}
