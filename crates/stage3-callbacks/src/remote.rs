//! Scheduling work on a loop from other threads (asyncio's `call_soon_threadsafe`).
//!
//! The loop's own state is single-threaded (`Rc`, `RefCell`). Another thread instead pushes a
//! `Send` callback onto a mutex-protected queue and wakes the poller with `notify`; the loop, back
//! from `epoll_wait`, moves the queue into its ready list. Stage 5's wakers and `spawn_blocking`
//! are built on this.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use polling::Poller;

use crate::event_loop::EventLoop;

/// A callback sent from another thread.
pub(crate) type SendCallback = Box<dyn FnOnce(&EventLoop) + Send>;

/// Callbacks from other threads; shared by the loop and its remote handles.
#[derive(Default)]
pub(crate) struct RemoteQueue {
    /// What other threads sent, waiting for the loop's next turn.
    queue: Mutex<VecDeque<SendCallback>>,
    /// Set when the loop is dropped: nothing would ever run what is sent after that.
    closed: AtomicBool,
    /// Live [`RemoteHandle`]s: while any exists, `run` waits for what it may send.
    handles: AtomicUsize,
}

impl RemoteQueue {
    /// Everything sent so far, oldest first.
    pub(crate) fn take(&self) -> Vec<SendCallback> {
        self.queue.lock().expect("remote queue").drain(..).collect()
    }

    /// Whether any [`RemoteHandle`] is alive (one might still send work).
    pub(crate) fn has_handles(&self) -> bool {
        self.handles.load(Ordering::SeqCst) > 0
    }

    /// The loop is gone: refuse what is sent from now on. (Set under the queue's lock, which
    /// [`RemoteQueue::push`] checks it under, so that no callback is accepted after this.)
    pub(crate) fn close(&self) {
        let _queue = self.queue.lock().expect("remote queue");
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Queues `callback` for the loop's next turn and wakes `poller`, unless the loop is gone.
    fn push(&self, poller: &Poller, callback: SendCallback) -> Result<(), LoopClosed> {
        {
            let mut queue = self.queue.lock().expect("remote queue");
            if self.closed.load(Ordering::SeqCst) {
                return Err(LoopClosed);
            }
            queue.push_back(callback);
        }
        // Wake the loop if it is sleeping in `wait`; harmless if it is not.
        poller.notify().map_err(|_| LoopClosed)
    }
}

/// A `Send` handle for scheduling callbacks on a loop from other threads (asyncio's
/// `call_soon_threadsafe`). The callback is queued, then the poller is woken with `notify`, so a
/// loop blocked in `epoll_wait` returns at once and runs it.
///
/// The loop keeps running while a handle is alive; dropping the last one wakes it, so that a loop
/// with nothing else to wait for can see that and return.
pub struct RemoteHandle {
    /// Only used to interrupt the wait.
    poller: Arc<Poller>,
    /// Where the callbacks go.
    remote: Arc<RemoteQueue>,
}

/// The loop is gone; the callback was not scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopClosed;

impl RemoteHandle {
    pub(crate) fn new(poller: Arc<Poller>, remote: Arc<RemoteQueue>) -> RemoteHandle {
        remote.handles.fetch_add(1, Ordering::SeqCst);
        RemoteHandle { poller, remote }
    }

    /// Schedules `callback` on the loop's next turn, from any thread. `Ok` means it is queued: a
    /// loop dropped before that turn drops it unrun, as it drops everything it had scheduled.
    pub fn call_soon_threadsafe(
        &self,
        callback: impl FnOnce(&EventLoop) + Send + 'static,
    ) -> Result<(), LoopClosed> {
        self.remote.push(&self.poller, Box::new(callback))
    }
}

impl RemoteHandle {
    /// A handle that does not keep the loop running. `run` goes on while a [`RemoteHandle`] is
    /// alive, since its holder may still send work; one that only *might* send something (a
    /// Ctrl-C hook) must not hold the loop open once its real work is done.
    pub fn downgrade(&self) -> WeakRemoteHandle {
        WeakRemoteHandle { poller: Arc::downgrade(&self.poller), remote: Arc::downgrade(&self.remote) }
    }
}

/// A [`RemoteHandle`] that does not keep the loop running (from [`RemoteHandle::downgrade`] or
/// [`EventLoop::weak_remote`]).
#[derive(Clone)]
pub struct WeakRemoteHandle {
    /// To interrupt the wait, while the loop exists.
    poller: Weak<Poller>,
    /// Where the callbacks go, while the loop exists.
    remote: Weak<RemoteQueue>,
}

impl WeakRemoteHandle {
    pub(crate) fn new(poller: &Arc<Poller>, remote: &Arc<RemoteQueue>) -> WeakRemoteHandle {
        WeakRemoteHandle { poller: Arc::downgrade(poller), remote: Arc::downgrade(remote) }
    }

    /// As [`RemoteHandle::call_soon_threadsafe`]; `LoopClosed` once the loop is gone.
    pub fn call_soon_threadsafe(
        &self,
        callback: impl FnOnce(&EventLoop) + Send + 'static,
    ) -> Result<(), LoopClosed> {
        // Not through a temporary `RemoteHandle`: dropping it, the last one, would wake the loop
        // a second time for nothing.
        let (Some(poller), Some(remote)) = (self.poller.upgrade(), self.remote.upgrade()) else {
            return Err(LoopClosed);
        };
        remote.push(&poller, Box::new(callback))
    }
}

impl fmt::Debug for WeakRemoteHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakRemoteHandle").finish_non_exhaustive()
    }
}

impl Clone for RemoteHandle {
    fn clone(&self) -> Self {
        RemoteHandle::new(Arc::clone(&self.poller), Arc::clone(&self.remote))
    }
}

impl Drop for RemoteHandle {
    fn drop(&mut self) {
        // The last handle gone: a loop asleep only because of it would otherwise sleep forever.
        // (The count, not `Arc::strong_count`: two last handles dropped at once on two threads
        // could each see the other's and neither wake the loop.)
        if self.remote.handles.fetch_sub(1, Ordering::SeqCst) == 1 {
            let _ = self.poller.notify();
        }
    }
}

impl fmt::Debug for RemoteHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteHandle").finish_non_exhaustive()
    }
}
