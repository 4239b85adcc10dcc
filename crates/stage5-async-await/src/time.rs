//! Time as futures: `sleep` and `timeout`, on the loop's timers (no thread per timer).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use stage3_callbacks::event_loop::TimerId;

use crate::executor::Executor;

// ANCHOR: sleep
/// A future done once `duration` has passed (asyncio's `sleep`).
pub fn sleep(duration: Duration) -> Sleep {
    Sleep { deadline: Instant::now() + duration, timer: None, waker: Rc::new(RefCell::new(None)) }
}

/// The future of [`sleep`]. On its first poll it asks the loop for a timer whose callback wakes
/// the task; dropping it early cancels the timer.
pub struct Sleep {
    /// When it is done.
    deadline: Instant,
    /// The loop's timer, once armed.
    timer: Option<TimerId>,
    /// The waker of the latest poll: the timer wakes whoever polled last.
    waker: Rc<RefCell<Option<Waker>>>,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("armed", &self.timer.is_some())
            .finish()
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        if self.timer.is_none() {
            let waker = Rc::clone(&self.waker);
            let deadline = self.deadline;
            let timer = Executor::current(|executor| {
                executor.event_loop().call_at(deadline, move |_| {
                    if let Some(waker) = waker.borrow_mut().take() {
                        waker.wake();
                    }
                })
            });
            self.timer = Some(timer);
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            Executor::with_current(|executor| executor.event_loop().cancel(timer));
        }
    }
}
// ANCHOR_END: sleep

/// The time ran out before the future finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

// ANCHOR: timeout
/// Runs `future` for at most `duration` (asyncio's `wait_for`). When time runs out the future is
/// dropped, which cancels it: its sockets close, its timers are cancelled.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = std::pin::pin!(future);
    let mut deadline = std::pin::pin!(sleep(duration));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        deadline.as_mut().poll(cx).map(|()| Err(Elapsed))
    })
    .await
}
// ANCHOR_END: timeout
