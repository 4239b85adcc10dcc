//! The executor's and the wakers' rules, one per test.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use stage5_async_await::time::{sleep, timeout};
use stage5_async_await::{JoinError, gather, run, spawn, yield_now};

/// A future that counts its polls and hands its waker out, then finishes when told to.
struct Probe {
    polls: Rc<Cell<u32>>,
    waker: Rc<RefCell<Option<Waker>>>,
    done: Rc<Cell<bool>>,
}

impl Future for Probe {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        if self.done.get() { Poll::Ready(()) } else { Poll::Pending }
    }
}

/// Where a probe leaves the waker it was last polled with.
type WakerSlot = Rc<RefCell<Option<Waker>>>;

fn new_probe() -> (Probe, Rc<Cell<u32>>, WakerSlot, Rc<Cell<bool>>) {
    let (polls, waker, done) =
        (Rc::new(Cell::new(0)), Rc::new(RefCell::new(None)), Rc::new(Cell::new(false)));
    (Probe { polls: Rc::clone(&polls), waker: Rc::clone(&waker), done: Rc::clone(&done) }, polls, waker, done)
}

#[test]
fn a_task_woken_many_times_before_it_runs_is_polled_once() {
    run(async {
        let (probe, polls, waker, done) = new_probe();
        let handle = spawn(probe);
        yield_now().await; // the probe's first poll
        assert_eq!(polls.get(), 1);
        let waker = waker.borrow().clone().unwrap();
        for _ in 0..100 {
            waker.wake_by_ref();
        }
        let clone = waker.clone(); // a clone shares the "already scheduled" flag
        clone.wake_by_ref();
        drop(clone);
        yield_now().await;
        assert_eq!(polls.get(), 2, "a hundred wakes, one poll");
        done.set(true);
        waker.wake();
        handle.await.unwrap();
        assert_eq!(polls.get(), 3);
    });
}

#[test]
fn waking_a_finished_or_aborted_task_does_nothing_and_unused_wakers_may_be_dropped() {
    run(async {
        let (probe, polls, waker, done) = new_probe();
        done.set(true);
        spawn(probe).await.unwrap();
        let stale = waker.borrow().clone().unwrap();
        stale.wake_by_ref();
        yield_now().await;
        assert_eq!(polls.get(), 1, "a finished task is not polled again");

        let (probe, polls, waker, _done) = new_probe();
        let handle = spawn(probe);
        yield_now().await;
        handle.abort();
        waker.borrow().clone().unwrap().wake();
        yield_now().await;
        assert_eq!(polls.get(), 1, "an aborted task is not polled again");
        assert_eq!(handle.await, Err(JoinError::Cancelled));
        drop(waker.borrow_mut().take()); // a waker dropped without waking: nothing happens
    });
}

#[test]
fn a_wake_from_another_thread_interrupts_a_loop_blocked_in_wait() {
    let started = Instant::now();
    let woken_after = run(async move {
        let (probe, _polls, waker, done) = new_probe();
        let handle = spawn(probe);
        yield_now().await;
        let waker = waker.borrow().clone().unwrap();
        done.set(true);
        // Nothing else is scheduled: the loop sleeps in epoll_wait until the other thread wakes it.
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            waker.wake();
        });
        handle.await.unwrap();
        thread.join().unwrap();
        started.elapsed()
    });
    assert!(woken_after >= Duration::from_millis(100) && woken_after < Duration::from_secs(5));
}

#[test]
fn many_threads_waking_one_task_poll_it_a_bounded_number_of_times() {
    run(async {
        let (probe, polls, waker, done) = new_probe();
        let handle = spawn(probe);
        yield_now().await;
        let waker = waker.borrow().clone().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let waker = waker.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| waker.wake_by_ref()))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        sleep(Duration::from_millis(20)).await;
        assert!(polls.get() < 100, "8000 wakes coalesce into few polls: {}", polls.get());
        done.set(true);
        waker.wake();
        handle.await.unwrap();
    });
}

#[test]
fn a_hundred_thousand_tasks_complete() {
    let sum = run(async {
        let handles: Vec<_> = (0..100_000u64)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i
                })
            })
            .collect();
        gather(handles).await.into_iter().map(Result::unwrap).sum::<u64>()
    });
    assert_eq!(sum, (0..100_000u64).sum::<u64>());
}

#[test]
fn a_panic_is_reported_and_the_loop_goes_on() {
    let results = run(async {
        let ok = spawn(async { 1 });
        let panics = spawn(async {
            let zero = std::hint::black_box(0);
            1 / zero
        });
        let cancelled = spawn(async {
            sleep(Duration::from_secs(60)).await;
            3
        });
        let abort = async {
            sleep(Duration::from_millis(20)).await;
        };
        abort.await;
        cancelled.abort();
        gather(vec![ok, panics, cancelled]).await
    });
    assert_eq!(
        results,
        [Ok(1), Err(JoinError::Panicked("attempt to divide by zero".into())), Err(JoinError::Cancelled)]
    );
}

/// Counts drops of the value it holds, to prove a future is dropped exactly once.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn aborting_in_every_state_drops_the_future_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&drops);
    run(async move {
        let make = |counted: &Arc<AtomicUsize>| {
            let guard = DropCounter(Arc::clone(counted));
            async move {
                let _guard = guard;
                sleep(Duration::from_secs(60)).await;
            }
        };
        // Aborted before its first poll.
        let never_polled = spawn(make(&counted));
        never_polled.abort();
        // Aborted while waiting.
        let waiting = spawn(make(&counted));
        yield_now().await;
        waiting.abort();
        // Aborted after finishing: nothing to drop twice.
        let finished = spawn(async {});
        yield_now().await;
        finished.abort();
        // Aborting itself while it runs.
        let slot: Rc<RefCell<Option<stage5_async_await::JoinHandle<()>>>> = Rc::new(RefCell::new(None));
        let own = Rc::clone(&slot);
        let guard = DropCounter(Arc::clone(&counted));
        let self_aborting = spawn(async move {
            let _guard = guard;
            yield_now().await;
            if let Some(me) = own.borrow().as_ref() {
                me.abort();
            }
            sleep(Duration::from_secs(60)).await;
        });
        *slot.borrow_mut() = Some(self_aborting);
        sleep(Duration::from_millis(20)).await;
        assert_eq!(never_polled.await, Err(JoinError::Cancelled));
        assert_eq!(waiting.await, Err(JoinError::Cancelled));
        assert_eq!(finished.await, Ok(()));
        let self_aborted = slot.borrow_mut().take().unwrap();
        assert_eq!(self_aborted.await, Err(JoinError::Cancelled));
    });
    assert_eq!(drops.load(Ordering::SeqCst), 3, "three guarded futures, each dropped once");
}

#[test]
fn run_cancels_the_tasks_still_pending_when_main_returns() {
    let dropped = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&dropped);
    run(async move {
        struct SetOnDrop(Arc<Mutex<bool>>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = true;
            }
        }
        let guard = SetOnDrop(flag);
        spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(60)).await;
        });
        yield_now().await;
    });
    assert!(*dropped.lock().unwrap());
}

#[test]
fn timeout_drops_the_slow_future_and_sleep_is_not_early() {
    run(async {
        let started = Instant::now();
        assert!(timeout(Duration::from_millis(30), sleep(Duration::from_secs(60))).await.is_err());
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(30) && elapsed < Duration::from_secs(5), "{elapsed:?}");
        assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
    });
}
