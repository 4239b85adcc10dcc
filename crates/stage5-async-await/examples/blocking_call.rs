//! A blocking call inside a task stalls every task; `spawn_blocking` moves it off the loop.
//!
//! ```text
//! cargo run -p stage5-async-await --example blocking_call
//! cargo run -p stage5-async-await --example blocking_call -- --unit-ms 1000
//! ```
//!
//! worker_1 spends 1 unit in a blocking call (`std::thread::sleep`, standing in for a blocking
//! read or a long computation); worker_2 awaits a 2-unit `sleep`. Called directly, the blocking
//! call holds the loop's only thread: worker_2 cannot even start until it is over, and the run
//! takes about 1 + 2 = 3 units. Handed to `spawn_blocking`, the call runs on a pool thread while
//! the loop goes on with worker_2: about 2 units, and worker_2 starts at once.

use std::time::Duration;

use stage5_async_await::time::sleep;
use stage5_async_await::{spawn, spawn_blocking};

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

// ANCHOR: blocking_call
/// `time.sleep(1)` inside a coroutine: the whole loop sleeps.
async fn worker_1_blocking(unit: Duration) {
    println!("worker_1 start");
    std::thread::sleep(unit);
    println!("worker_1 done");
}

/// `await loop.run_in_executor(None, time.sleep, 1)`: only this task waits.
async fn worker_1_off_the_loop(unit: Duration) {
    println!("worker_1 start");
    spawn_blocking(move || std::thread::sleep(unit)).await.expect("sleep does not panic");
    println!("worker_1 done");
}
// ANCHOR_END: blocking_call

async fn worker_2(unit: Duration) {
    println!("worker_2 start");
    sleep(unit * 2).await;
    println!("worker_2 done");
}

/// Spawns both workers and awaits them in order.
async fn main_with<F: Future<Output = ()> + 'static>(worker_1: F, unit: Duration) {
    let task1 = spawn(worker_1);
    let task2 = spawn(worker_2(unit));
    println!("before await");
    task1.await.expect("worker_1 does not fail");
    println!("awaited worker_1");
    task2.await.expect("worker_2 does not fail");
    println!("awaited worker_2");
}

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("blocking call in a task", unit, main_with(worker_1_blocking(unit), unit));
    timed("the same call in spawn_blocking", unit, main_with(worker_1_off_the_loop(unit), unit));
}
