//! `Future<T>`: a value that is not there yet, and callbacks to run when it is.
//!
//! This is asyncio's `Future` (and the 500-lines crawler's): pending or done; `set_result` once;
//! `add_done_callback`; `result`. It knows nothing of coroutines: a [`Task`](crate::task::Task)
//! uses `add_done_callback` to resume a coroutine when the future it waits on is done.
//!
//! Callbacks always run through the loop's `call_soon`, on a later turn, never from inside
//! `set_result`: whoever completes a future is never re-entered by what waits on it.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use stage3_callbacks::event_loop::{EventLoop, WeakEventLoop};

/// A callback for when a future is done.
type DoneCallback<T> = Box<dyn FnOnce(&EventLoop, &Future<T>)>;

/// A result that will be set later. Cloning gives another handle to the same future.
pub struct Future<T> {
    inner: Rc<Inner<T>>,
}

struct Inner<T> {
    /// Where done callbacks are scheduled.
    event_loop: WeakEventLoop,
    /// What it stands for, for `--trace`.
    name: String,
    /// Pending (with callbacks waiting) or done (with the result, until taken).
    state: RefCell<State<T>>,
}

enum State<T> {
    Pending(Vec<DoneCallback<T>>),
    Done(Option<T>),
}

/// `set_result` on a future that is already done: a bug in the caller. The value comes back.
#[derive(Debug, PartialEq, Eq)]
pub struct AlreadyDone<T>(pub T);

impl<T: 'static> Future<T> {
    /// A pending future whose callbacks run on `event_loop`.
    pub fn new(event_loop: &EventLoop, name: impl Into<String>) -> Future<T> {
        let inner = Inner {
            event_loop: event_loop.downgrade(),
            name: name.into(),
            state: RefCell::new(State::Pending(Vec::new())),
        };
        Future { inner: Rc::new(inner) }
    }

    // ANCHOR: future
    /// Completes the future and schedules its callbacks, in the order they were added. A second
    /// call is refused and hands the value back.
    pub fn set_result(&self, value: T) -> Result<(), AlreadyDone<T>> {
        let callbacks = {
            let mut state = self.inner.state.borrow_mut();
            match &mut *state {
                State::Done(_) => return Err(AlreadyDone(value)),
                State::Pending(callbacks) => {
                    let callbacks = std::mem::take(callbacks);
                    *state = State::Done(Some(value));
                    callbacks
                }
            }
        };
        for callback in callbacks {
            self.schedule(callback);
        }
        Ok(())
    }

    /// Runs `callback` once the future is done: on a later turn of the loop, also when it is
    /// done already.
    pub fn add_done_callback(&self, callback: impl FnOnce(&EventLoop, &Future<T>) + 'static) {
        let mut state = self.inner.state.borrow_mut();
        match &mut *state {
            State::Pending(callbacks) => callbacks.push(Box::new(callback)),
            State::Done(_) => {
                drop(state);
                self.schedule(Box::new(callback));
            }
        }
    }

    fn schedule(&self, callback: DoneCallback<T>) {
        if let Some(lp) = self.inner.event_loop.upgrade() {
            let future = self.clone();
            lp.call_soon(move |lp| callback(lp, &future));
        }
    }
    // ANCHOR_END: future

    /// Whether `set_result` has been called.
    pub fn is_done(&self) -> bool {
        matches!(*self.inner.state.borrow(), State::Done(_))
    }

    /// Takes the result out (for the one waiter that consumes it); `None` while pending or once
    /// taken.
    pub fn take_result(&self) -> Option<T> {
        match &mut *self.inner.state.borrow_mut() {
            State::Done(result) => result.take(),
            State::Pending(_) => None,
        }
    }

    /// The loop its callbacks run on, if it still exists.
    pub fn event_loop(&self) -> Option<EventLoop> {
        self.inner.event_loop.upgrade()
    }

    /// What the future stands for.
    pub fn name(&self) -> &str {
        &self.inner.name
    }
}

impl<T: Clone + 'static> Future<T> {
    /// A copy of the result; `None` while pending.
    pub fn result(&self) -> Option<T> {
        match &*self.inner.state.borrow() {
            State::Done(result) => result.clone(),
            State::Pending(_) => None,
        }
    }
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future { inner: Rc::clone(&self.inner) }
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done = matches!(*self.inner.state.borrow(), State::Done(_));
        f.debug_struct("Future").field("name", &self.inner.name).field("done", &done).finish()
    }
}

/// A future done after `delay`: asyncio's `sleep`, made of a timer and a future.
pub fn sleep(lp: &EventLoop, delay: std::time::Duration) -> Future<()> {
    let future = Future::new(lp, format!("sleep({delay:?})"));
    let done = future.clone();
    lp.call_later(delay, move |_| {
        let _ = done.set_result(());
    });
    future
}
