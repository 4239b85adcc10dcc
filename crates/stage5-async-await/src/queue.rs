//! A work queue with `join` (asyncio's `Queue`): `put`, `get().await`, `task_done`, `join().await`.
//!
//! `join` waits until every item ever put has been marked done, which is how the crawler knows
//! the crawl is over: a worker marks its URL done only after putting the links it found.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// A single-threaded queue shared by tasks. Cloning gives another handle to the same queue.
pub struct Queue<T> {
    /// The queue itself, shared by every handle; a `RefCell` because one thread's tasks share it.
    inner: Rc<RefCell<Inner<T>>>,
}

/// The queue's items, its count of unfinished work, and the tasks waiting on either.
struct Inner<T> {
    /// Items waiting for a `get`.
    items: VecDeque<T>,
    /// Items put and not yet marked done.
    unfinished: usize,
    /// Tasks waiting in `get`, woken one per `put`.
    getters: VecDeque<Waker>,
    /// Tasks waiting in `join`, woken when `unfinished` reaches zero.
    joiners: Vec<Waker>,
}

impl<T> Queue<T> {
    /// An empty queue; clone it to hand it to each task that puts or gets.
    pub fn new() -> Queue<T> {
        let inner =
            Inner { items: VecDeque::new(), unfinished: 0, getters: VecDeque::new(), joiners: Vec::new() };
        Queue { inner: Rc::new(RefCell::new(inner)) }
    }

    /// Adds an item and wakes one waiting `get`.
    pub fn put(&self, item: T) {
        let mut inner = self.inner.borrow_mut();
        inner.items.push_back(item);
        inner.unfinished += 1;
        if let Some(getter) = inner.getters.pop_front() {
            getter.wake();
        }
    }

    /// The next item, waiting until there is one.
    ///
    /// A `put` wakes one waiting `get`. Should that `get` be dropped before it runs (its task
    /// aborted, a timeout), it hands the wake on to the next waiting `get`, so an item never
    /// sits in the queue while tasks wait for one.
    pub async fn get(&self) -> T {
        let mut waiting = Waiting { queue: self, waker: None };
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            match inner.items.pop_front() {
                Some(item) => {
                    waiting.waker = None; // done waiting: nothing to hand on
                    Poll::Ready(item)
                }
                None => {
                    // Registered once per poll: a spurious poll must not queue the task twice.
                    inner.getters.retain(|getter| !getter.will_wake(cx.waker()));
                    inner.getters.push_back(cx.waker().clone());
                    waiting.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Marks one item got earlier as fully processed.
    pub fn task_done(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.unfinished = inner.unfinished.checked_sub(1).expect("task_done called more often than put");
        if inner.unfinished == 0 {
            inner.joiners.drain(..).for_each(Waker::wake);
        }
    }

    /// Waits until every item put has been marked done.
    pub async fn join(&self) {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            if inner.unfinished == 0 {
                Poll::Ready(())
            } else {
                inner.joiners.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// A `get` in progress; see [`Queue::get`] for what its drop does.
struct Waiting<'a, T> {
    /// The queue waited on.
    queue: &'a Queue<T>,
    /// The waker registered by the latest poll, until the `get` completes.
    waker: Option<Waker>,
}

impl<T> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        let Some(waker) = self.waker.take() else { return };
        let mut inner = self.queue.inner.borrow_mut();
        inner.getters.retain(|getter| !getter.will_wake(&waker));
        // This `get` may have been the one a `put` woke: pass the wake on.
        if !inner.items.is_empty()
            && let Some(next) = inner.getters.pop_front()
        {
            drop(inner);
            next.wake();
        }
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue::new()
    }
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue { inner: Rc::clone(&self.inner) }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("Queue")
            .field("items", &inner.items.len())
            .field("unfinished", &inner.unfinished)
            .finish()
    }
}
