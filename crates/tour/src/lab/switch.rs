//! A context switch between two OS threads, against a switch between two tasks.
//!
//! Two parties pass a number back and forth: each waits for it, then hands it back. Threads
//! wait in the kernel (a futex): each hand-over is a trip through the kernel's scheduler, and
//! on one core a full switch of registers, stack and kernel state. Tasks wait in their state
//! machine: each hand-over is a wake (a flag and a queue push) and a poll (a function call), all
//! on one thread, with no system call. The asyncio notes say the second is much cheaper; this says by
//! how much, here.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};

/// Round trips per measurement: enough for the clock to be exact, few enough to take a moment.
const ROUND_TRIPS: u64 = 20_000;

/// Measurements taken; the fastest counts (the others were disturbed by something else).
const RUNS: usize = 5;

/// The result of `tour switch`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwitchCost {
    /// One OS thread switch, in nanoseconds (half a round trip between two threads).
    pub thread_switch_ns: f64,
    /// One task switch on the stage-5 runtime, in nanoseconds.
    pub task_switch_ns: f64,
    /// How many task switches fit in one thread switch.
    pub ratio: f64,
}

/// `iters` round trips between two threads over two rendezvous channels.
pub fn thread_round_trips(iters: u64) -> Duration {
    let (to_echo, from_main) = mpsc::sync_channel::<u64>(0);
    let (to_main, from_echo) = mpsc::sync_channel::<u64>(0);
    let echo = thread::spawn(move || {
        for n in from_main {
            to_main.send(n).expect("main waits for the echo");
        }
    });
    let started = Instant::now();
    for n in 0..iters {
        to_echo.send(n).expect("the echo thread is alive");
        assert_eq!(from_echo.recv().expect("the echo thread answers"), n);
    }
    let elapsed = started.elapsed();
    drop(to_echo);
    echo.join().expect("the echo thread does not panic");
    elapsed
}

/// `iters` round trips between two stage-5 tasks over two channels, on one thread.
pub fn task_round_trips(iters: u64) -> Duration {
    stage5_async_await::run(async move {
        let (mut to_echo, mut from_main) = futures::channel::mpsc::channel::<u64>(0);
        let (mut to_main, mut from_echo) = futures::channel::mpsc::channel::<u64>(0);
        let echo = stage5_async_await::spawn(async move {
            while let Some(n) = from_main.next().await {
                to_main.send(n).await.expect("main waits for the echo");
            }
        });
        let started = Instant::now();
        for n in 0..iters {
            to_echo.send(n).await.expect("the echo task is alive");
            assert_eq!(from_echo.next().await, Some(n));
        }
        let elapsed = started.elapsed();
        drop(to_echo);
        echo.await.expect("the echo task does not panic");
        elapsed
    })
}

/// Measures both, [`RUNS`] times each, and keeps the fastest of each.
pub fn measure() -> SwitchCost {
    let per_switch = |round_trips: fn(u64) -> Duration| {
        round_trips(ROUND_TRIPS / 10); // warm up: threads started, pages touched, caches filled
        let best = (0..RUNS).map(|_| round_trips(ROUND_TRIPS)).min().expect("RUNS > 0");
        best.as_secs_f64() * 1e9 / (2 * ROUND_TRIPS) as f64 // a round trip is two switches
    };
    let thread_switch_ns = per_switch(thread_round_trips);
    let task_switch_ns = per_switch(task_round_trips);
    SwitchCost { thread_switch_ns, task_switch_ns, ratio: thread_switch_ns / task_switch_ns }
}

/// The `tour switch` table.
pub fn render(cost: &SwitchCost) -> String {
    format!(
        "switch                 ns\nOS thread       {:>10.0}\nstage-5 task    {:>10.1}\nratio           {:>9.0}x\n",
        cost.thread_switch_ns, cost.task_switch_ns, cost.ratio
    )
}
