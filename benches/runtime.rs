//! The runtimes side by side: spawn + join, a yield ping-pong, a wake round trip.
//!
//! ```text
//! cargo bench --bench runtime
//! cargo bench --bench runtime -- ping_pong      # one group
//! ```
//!
//! Each benchmark measures the same work on stage 3 (callbacks with `call_soon`), stage 4
//! (hand-built `Task`s), stage 5 (our executor), tokio's current-thread runtime and smol's
//! single-threaded executor (`async-executor`'s `LocalExecutor` under `async-io`'s `block_on`),
//! the two anchors stage 5 is held against, in the same group so one run compares them. The timed
//! part runs inside one already running loop (criterion's `iter_custom`), so what is measured
//! is the scheduler, not the creation of an epoll instance.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::{SinkExt, StreamExt};

/// Main sends 0, 1, 2 ... over a channel and an echo task sends each back: `iters` round trips,
/// each two wakes of a task waiting on a channel. `spawn_and_join` spawns the echo on the runtime
/// under test at once and returns a future of its end.
async fn channel_round_trips<J: std::future::Future<Output = ()>>(
    iters: u64,
    spawn_and_join: impl FnOnce(futures::future::BoxFuture<'static, ()>) -> J,
) -> Duration {
    let (mut to_echo, mut from_main) = futures::channel::mpsc::channel::<u64>(1);
    let (mut to_main, mut from_echo) = futures::channel::mpsc::channel::<u64>(1);
    let echo = spawn_and_join(Box::pin(async move {
        while let Some(n) = from_main.next().await {
            to_main.send(n).await.unwrap();
        }
    }));
    let started = Instant::now();
    for n in 0..iters {
        to_echo.send(n).await.unwrap();
        assert_eq!(from_echo.next().await, Some(n));
    }
    let elapsed = started.elapsed();
    drop(to_echo);
    echo.await;
    elapsed
}

mod stage3 {
    use super::*;
    use stage3_callbacks::event_loop::EventLoop;

    /// `n` callbacks scheduled with `call_soon`, then the loop runs until all have run.
    pub fn spawn_join(iters: u64, n: usize) -> Duration {
        let lp = EventLoop::new().unwrap();
        let done = Rc::new(Cell::new(0usize));
        let started = Instant::now();
        for _ in 0..iters {
            for _ in 0..n {
                let done = Rc::clone(&done);
                lp.call_soon(move |_| done.set(done.get() + 1));
            }
            lp.run().unwrap();
        }
        let elapsed = started.elapsed();
        assert_eq!(done.get(), iters as usize * n);
        elapsed
    }

    /// Two callbacks that each schedule the other, `iters` times each.
    pub fn ping_pong(iters: u64) -> Duration {
        fn bounce(lp: &EventLoop, left: u64) {
            if left > 0 {
                lp.call_soon(move |lp| bounce(lp, left - 1));
            }
        }
        let lp = EventLoop::new().unwrap();
        let started = Instant::now();
        lp.call_soon(move |lp| bounce(lp, iters));
        lp.call_soon(move |lp| bounce(lp, iters));
        lp.run().unwrap();
        started.elapsed()
    }

    /// A one-shot slot: a continuation waits in it until the other side fills it with a number.
    type Slot = Rc<RefCell<Option<Box<dyn FnOnce(&EventLoop, u64)>>>>;

    fn wait(slot: &Slot, continuation: impl FnOnce(&EventLoop, u64) + 'static) {
        *slot.borrow_mut() = Some(Box::new(continuation));
    }

    /// Fills `slot`: its continuation is scheduled with `call_soon`, the callback world's wake.
    fn wake(lp: &EventLoop, slot: &Slot, n: u64) {
        let continuation = slot.borrow_mut().take().expect("someone waits on the slot");
        lp.call_soon(move |lp| continuation(lp, n));
    }

    /// Main wakes the echo with a number, the echo wakes main with it: `iters` round trips.
    pub fn wake_round_trip(iters: u64) -> Duration {
        /// The echo's slot, then main's.
        type Slots = Rc<(Slot, Slot)>;
        fn echo(lp: &EventLoop, n: u64, slots: Slots) {
            wake(lp, &slots.1, n);
            let again = Rc::clone(&slots);
            wait(&slots.0, move |lp, n| echo(lp, n, again));
        }
        fn main(lp: &EventLoop, n: u64, iters: u64, slots: Slots) {
            if n == iters {
                return;
            }
            let again = Rc::clone(&slots);
            wait(&slots.1, move |lp, m| {
                assert_eq!(m, n + 1);
                main(lp, m, iters, again)
            });
            wake(lp, &slots.0, n + 1);
        }
        let lp = EventLoop::new().unwrap();
        let slots: Slots = Rc::default();
        let echo_slots = Rc::clone(&slots);
        wait(&slots.0, move |lp, n| echo(lp, n, echo_slots));
        let started = Instant::now();
        let main_slots = Rc::clone(&slots);
        lp.call_soon(move |lp| main(lp, 0, iters, main_slots));
        lp.run().unwrap();
        let elapsed = started.elapsed();
        slots.0.borrow_mut().take(); // the echo's last wait holds the slots: break the cycle
        elapsed
    }
}

mod stage4 {
    use super::*;
    use stage3_callbacks::event_loop::EventLoop;
    use stage4_generators::coroutine::{Coroutine, Resume, Step};
    use stage4_generators::future::Future;
    use stage4_generators::task::Task;

    /// A coroutine that returns at once.
    struct Empty;
    impl Coroutine for Empty {
        type Output = ();
        fn resume(&mut self, _: &EventLoop, _: Resume) -> Step<()> {
            Step::Done(())
        }
    }

    /// `n` tasks spawned, then the loop runs until all are done.
    pub fn spawn_join(iters: u64, n: usize) -> Duration {
        let lp = EventLoop::new().unwrap();
        let started = Instant::now();
        for _ in 0..iters {
            let tasks: Vec<Task<()>> = (0..n).map(|_| Task::spawn(&lp, Empty)).collect();
            lp.run().unwrap();
            assert!(tasks.iter().all(Task::is_done));
        }
        started.elapsed()
    }

    /// Yields `left` times by waiting on a future that is already done.
    struct Yielder {
        left: u64,
    }
    impl Coroutine for Yielder {
        type Output = ();
        fn resume(&mut self, lp: &EventLoop, _: Resume) -> Step<()> {
            if self.left == 0 {
                return Step::Done(());
            }
            self.left -= 1;
            let done = Future::new(lp, "yield");
            let _ = done.set_result(());
            Step::Wait(Box::new(done))
        }
    }

    /// Two tasks yielding in turn, `iters` times each.
    pub fn ping_pong(iters: u64) -> Duration {
        let lp = EventLoop::new().unwrap();
        let started = Instant::now();
        let a = Task::spawn(&lp, Yielder { left: iters });
        let b = Task::spawn(&lp, Yielder { left: iters });
        lp.run().unwrap();
        assert!(a.is_done() && b.is_done());
        started.elapsed()
    }

    /// The future each side waits on next; the other side completes it.
    type Mailbox = Rc<RefCell<Option<Future<u64>>>>;

    /// Completes the future in `mailbox`: its task is scheduled through the future's done
    /// callback, stage 4's wake.
    fn send(mailbox: &Mailbox, n: u64) {
        let future = mailbox.borrow_mut().take().expect("someone waits on the mailbox");
        let _ = future.set_result(n);
    }

    /// Waits on a fresh future left in `mailbox` for the other side.
    fn receive(lp: &EventLoop, mailbox: &Mailbox, waiting: &mut Option<Future<u64>>) -> Step<()> {
        let future = Future::new(lp, "mailbox");
        *mailbox.borrow_mut() = Some(future.clone());
        *waiting = Some(future.clone());
        Step::Wait(Box::new(future))
    }

    /// Sends back every number it receives, until `u64::MAX`.
    struct Echo {
        to_echo: Mailbox,
        to_main: Mailbox,
        waiting: Option<Future<u64>>,
    }
    impl Coroutine for Echo {
        type Output = ();
        fn resume(&mut self, lp: &EventLoop, _: Resume) -> Step<()> {
            if let Some(n) = self.waiting.take().and_then(|f| f.take_result()) {
                if n == u64::MAX {
                    return Step::Done(());
                }
                send(&self.to_main, n);
            }
            receive(lp, &self.to_echo, &mut self.waiting)
        }
    }

    /// Sends 0, 1, 2 ... and checks each comes back.
    struct Main {
        to_echo: Mailbox,
        to_main: Mailbox,
        waiting: Option<Future<u64>>,
        next: u64,
        iters: u64,
    }
    impl Coroutine for Main {
        type Output = ();
        fn resume(&mut self, lp: &EventLoop, _: Resume) -> Step<()> {
            if let Some(future) = self.waiting.take() {
                assert_eq!(future.take_result(), Some(self.next));
                self.next += 1;
            }
            if self.next == self.iters {
                send(&self.to_echo, u64::MAX);
                return Step::Done(());
            }
            let step = receive(lp, &self.to_main, &mut self.waiting);
            send(&self.to_echo, self.next);
            step
        }
    }

    /// Two tasks each waking the other through a future: `iters` round trips.
    pub fn wake_round_trip(iters: u64) -> Duration {
        let lp = EventLoop::new().unwrap();
        let (to_echo, to_main): (Mailbox, Mailbox) = Default::default();
        let started = Instant::now();
        let echo = Echo { to_echo: Rc::clone(&to_echo), to_main: Rc::clone(&to_main), waiting: None };
        let echo = Task::spawn(&lp, echo);
        let main = Main { to_echo, to_main, waiting: None, next: 0, iters };
        let main = Task::spawn(&lp, main);
        lp.run().unwrap();
        assert!(echo.is_done() && main.is_done());
        started.elapsed()
    }
}

mod stage5 {
    use super::*;
    use stage5_async_await::{run, spawn, yield_now};

    pub fn spawn_join(iters: u64, n: usize) -> Duration {
        run(async move {
            let started = Instant::now();
            for _ in 0..iters {
                let handles: Vec<_> = (0..n).map(|_| spawn(async {})).collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
            started.elapsed()
        })
    }

    pub fn ping_pong(iters: u64) -> Duration {
        run(async move {
            let started = Instant::now();
            let yielder = || async move {
                for _ in 0..iters {
                    yield_now().await;
                }
            };
            let (a, b) = (spawn(yielder()), spawn(yielder()));
            a.await.unwrap();
            b.await.unwrap();
            started.elapsed()
        })
    }

    pub fn wake_round_trip(iters: u64) -> Duration {
        run(channel_round_trips(iters, |echo| {
            let handle = spawn(echo); // now, not when the join below is first polled
            async { handle.await.unwrap() }
        }))
    }
}

mod tokio_rt {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    pub fn spawn_join(iters: u64, n: usize) -> Duration {
        runtime().block_on(async move {
            let started = Instant::now();
            for _ in 0..iters {
                let handles: Vec<_> = (0..n).map(|_| tokio::spawn(async {})).collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
            started.elapsed()
        })
    }

    pub fn ping_pong(iters: u64) -> Duration {
        runtime().block_on(async move {
            let started = Instant::now();
            let yielder = || async move {
                for _ in 0..iters {
                    tokio::task::yield_now().await;
                }
            };
            let (a, b) = (tokio::spawn(yielder()), tokio::spawn(yielder()));
            a.await.unwrap();
            b.await.unwrap();
            started.elapsed()
        })
    }

    pub fn wake_round_trip(iters: u64) -> Duration {
        runtime().block_on(channel_round_trips(iters, |echo| {
            let handle = tokio::spawn(echo);
            async { handle.await.unwrap() }
        }))
    }
}

mod smol_rt {
    use super::*;
    use async_executor::LocalExecutor;

    pub fn spawn_join(iters: u64, n: usize) -> Duration {
        let ex = LocalExecutor::new();
        async_io::block_on(ex.run(async {
            let started = Instant::now();
            for _ in 0..iters {
                let handles: Vec<_> = (0..n).map(|_| ex.spawn(async {})).collect();
                for handle in handles {
                    handle.await;
                }
            }
            started.elapsed()
        }))
    }

    pub fn ping_pong(iters: u64) -> Duration {
        let ex = LocalExecutor::new();
        async_io::block_on(ex.run(async {
            let started = Instant::now();
            let yielder = || async move {
                for _ in 0..iters {
                    futures_lite::future::yield_now().await;
                }
            };
            let (a, b) = (ex.spawn(yielder()), ex.spawn(yielder()));
            a.await;
            b.await;
            started.elapsed()
        }))
    }

    pub fn wake_round_trip(iters: u64) -> Duration {
        let ex = LocalExecutor::new();
        async_io::block_on(ex.run(channel_round_trips(iters, |echo| ex.spawn(echo))))
    }
}

fn spawn_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_join");
    for n in [1usize, 1000] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new("stage3-call_soon", n), |b| {
            b.iter_custom(|iters| stage3::spawn_join(iters, n))
        });
        group.bench_function(BenchmarkId::new("stage4-task", n), |b| {
            b.iter_custom(|iters| stage4::spawn_join(iters, n))
        });
        group.bench_function(BenchmarkId::new("stage5", n), |b| {
            b.iter_custom(|iters| stage5::spawn_join(iters, n))
        });
        group.bench_function(BenchmarkId::new("tokio", n), |b| {
            b.iter_custom(|iters| tokio_rt::spawn_join(iters, n))
        });
        group.bench_function(BenchmarkId::new("smol", n), |b| {
            b.iter_custom(|iters| smol_rt::spawn_join(iters, n))
        });
    }
    group.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong");
    group.throughput(Throughput::Elements(2));
    group.bench_function("stage3-call_soon", |b| b.iter_custom(stage3::ping_pong));
    group.bench_function("stage4-task", |b| b.iter_custom(stage4::ping_pong));
    group.bench_function("stage5", |b| b.iter_custom(stage5::ping_pong));
    group.bench_function("tokio", |b| b.iter_custom(tokio_rt::ping_pong));
    group.bench_function("smol", |b| b.iter_custom(smol_rt::ping_pong));
    group.finish();
}

fn wake_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("wake_round_trip");
    group.bench_function("stage3-call_soon", |b| b.iter_custom(stage3::wake_round_trip));
    group.bench_function("stage4-task", |b| b.iter_custom(stage4::wake_round_trip));
    group.bench_function("stage5", |b| b.iter_custom(stage5::wake_round_trip));
    group.bench_function("tokio", |b| b.iter_custom(tokio_rt::wake_round_trip));
    group.bench_function("smol", |b| b.iter_custom(smol_rt::wake_round_trip));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = spawn_join, ping_pong, wake_round_trip
}
criterion_main!(benches);
