//! Time as futures: `sleep` and `timeout`, on the loop's timers (no thread per timer).
//!
//! ## Why `Timeout` needs `pin_project!`
//!
//! [`Timeout`]'s `poll` is handed a `Pin<&mut Timeout<F>>` and must poll the future inside,
//! which takes a `Pin<&mut F>`. Only an `Unpin` type lets go of its pin for a plain `&mut`; a
//! struct is `Unpin` only if its fields are; and `F` may be an `async fn`'s future, which is
//! not. So a `poll` that reaches the fields through `&mut` does not compile (E0277, "`F` cannot
//! be unpinned"). Adding `F: Unpin` to it would make it compile, and unable to time out an
//! `async fn`. `pin_project!` writes a `project` method that turns the pin on the struct into a
//! pin on each `#[pin]` field. That takes `unsafe` code, which the macro writes and keeps sound:
//! the struct is `Unpin` only when its `#[pin]` fields are, and a `Drop` impl, which could move
//! them, is refused.
//!
#![doc = "```compile_fail,E0277"]
#![doc = include_str!("compile_fail/timeout_by_hand.rs")]
#![doc = "```"]

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
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout { future, deadline: sleep(duration) }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`]: the future, raced against a [`Sleep`].
    ///
    /// Written by hand rather than as an `async fn`: an `async fn` keeps its argument and the
    /// pinned copy it polls side by side (rustc does not overlap them), which would double the
    /// size of every fetch it bounds. `pin_project!` gives `poll` pinned access to both fields
    /// without `unsafe`.
    #[derive(Debug)]
    pub struct Timeout<F> {
        // (`pin_project!` takes no doc comments on fields.)
        // What is raced; dropped with the `Timeout` when time runs out.
        #[pin]
        future: F,
        // When it loses.
        #[pin]
        deadline: Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The future first: one that is ready at its deadline still counts as in time.
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        this.deadline.poll(cx).map(|()| Err(Elapsed))
    }
}
// ANCHOR_END: timeout

// ANCHOR: throttle
/// A token bucket: at most `burst` calls at once, then `rate` calls per second on average.
///
/// The bucket holds up to `burst` tokens and gains `rate` tokens a second. [`Throttle::acquire`]
/// takes one; when none is left it *reserves* the next one and sleeps until it has been earned,
/// so waiters are served in the order they came and the rate holds however many wait. A wait
/// that is dropped (its task aborted, a timeout) gives its token back.
///
/// ```
/// use std::time::Duration;
/// use stage5_async_await::time::Throttle;
///
/// stage5_async_await::run(async {
///     let throttle = Throttle::new(100.0, 2); // 100 a second, 2 at once
///     let started = std::time::Instant::now();
///     for _ in 0..4 {
///         throttle.acquire().await;
///     }
///     // two at once, then two more a hundredth of a second apart
///     assert!(started.elapsed() >= Duration::from_millis(19));
/// });
/// ```
#[derive(Debug)]
pub struct Throttle {
    /// The bucket's state; a `RefCell` because tasks of one loop share the throttle by reference.
    bucket: RefCell<Bucket>,
}

/// The token bucket's numbers, brought up to date on every `reserve`.
#[derive(Debug)]
struct Bucket {
    /// Tokens earned per second.
    rate: f64,
    /// The most tokens the bucket holds: how many calls may go at once after a quiet spell.
    burst: f64,
    /// Tokens in the bucket at `updated`; below zero, tokens already promised to waiters.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Instant,
}

impl Throttle {
    /// A full bucket of `burst` tokens refilled at `rate` a second. Panics unless both are positive.
    pub fn new(rate: f64, burst: u32) -> Throttle {
        assert!(rate > 0.0 && rate.is_finite(), "a throttle's rate must be positive, not {rate}");
        assert!(burst > 0, "a throttle's burst must be at least 1");
        let bucket = Bucket { rate, burst: burst.into(), tokens: burst.into(), updated: Instant::now() };
        Throttle { bucket: RefCell::new(bucket) }
    }

    /// Waits for a token and takes it.
    pub async fn acquire(&self) {
        let wait = self.bucket.borrow_mut().reserve(Instant::now());
        if wait.is_zero() {
            return;
        }
        // Give the token back if this wait is dropped before it is over.
        let refund = Refund { bucket: &self.bucket };
        sleep(wait).await;
        std::mem::forget(refund); // the token is earned and ours
    }
}

impl Bucket {
    /// Takes a token (perhaps one not earned yet) and says how long until it is earned.
    fn reserve(&mut self, now: Instant) -> Duration {
        let earned = now.saturating_duration_since(self.updated).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.updated = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-self.tokens / self.rate) }
    }
}

/// Returns a reserved token when the wait for it is abandoned.
struct Refund<'a> {
    /// The bucket the token was reserved from.
    bucket: &'a RefCell<Bucket>,
}

impl Drop for Refund<'_> {
    fn drop(&mut self) {
        let mut bucket = self.bucket.borrow_mut();
        bucket.tokens = (bucket.tokens + 1.0).min(bucket.burst);
    }
}
// ANCHOR_END: throttle

#[cfg(test)]
mod tests {
    use super::*;

    /// A future holding `N` bytes across an await.
    async fn holding<const N: usize>() -> u8 {
        let bytes = [7u8; N];
        std::future::ready(()).await;
        bytes[N / 2]
    }

    #[test]
    fn a_timeout_holds_its_future_once() {
        let inner = std::mem::size_of_val(&holding::<500>());
        let bounded = std::mem::size_of_val(&timeout(Duration::from_secs(1), holding::<500>()));
        // The future, the `Sleep`, padding. An `async fn timeout` held the future twice.
        assert!(
            bounded <= inner + std::mem::size_of::<Sleep>() + 16,
            "{bounded} bytes for a {inner}-byte future"
        );
    }

    fn bucket(rate: f64, burst: u32, now: Instant) -> Bucket {
        Bucket { rate, burst: burst.into(), tokens: burst.into(), updated: now }
    }

    #[test]
    fn a_full_bucket_lets_a_burst_through_then_spaces_calls_by_the_rate() {
        let start = Instant::now();
        let mut b = bucket(10.0, 3, start); // a token every 100 ms
        let waits: Vec<Duration> = (0..6).map(|_| b.reserve(start)).collect();
        let ms: Vec<u128> = waits.iter().map(|w| w.as_millis()).collect();
        assert_eq!(ms, [0, 0, 0, 100, 200, 300]);
    }

    #[test]
    fn tokens_refill_with_time_but_never_past_the_burst() {
        let start = Instant::now();
        let mut b = bucket(10.0, 2, start);
        assert_eq!(b.reserve(start), Duration::ZERO);
        assert_eq!(b.reserve(start), Duration::ZERO);
        // 150 ms later one and a half tokens are back: one call goes, the next waits 50 ms.
        let later = start + Duration::from_millis(150);
        assert_eq!(b.reserve(later), Duration::ZERO);
        assert_eq!(b.reserve(later).as_millis(), 50);
        // After a long quiet spell the bucket holds `burst` tokens, not more.
        let much_later = later + Duration::from_secs(60);
        assert_eq!(b.reserve(much_later), Duration::ZERO);
        assert_eq!(b.reserve(much_later), Duration::ZERO);
        assert_eq!(b.reserve(much_later).as_millis(), 100);
    }

    #[test]
    fn an_abandoned_wait_gives_its_token_back() {
        crate::run(async {
            let throttle = Throttle::new(10.0, 1);
            throttle.acquire().await; // the bucket is now empty
            // This wait is for a token 100 ms away; give up after 10 ms.
            let gave_up = timeout(Duration::from_millis(10), throttle.acquire()).await;
            assert_eq!(gave_up, Err(Elapsed));
            // Had the token stayed reserved, the next would be 200 ms away; it is about 100 ms.
            let next = throttle.bucket.borrow_mut().reserve(Instant::now());
            assert!(next <= Duration::from_millis(100), "{next:?}");
        });
    }
}
