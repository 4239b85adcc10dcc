//! The notes' cancel + gather: one task returns, one fails, one is cancelled; gather reports all.
//!
//! ```text
//! cargo run -p stage5-async-await --example cancel_gather
//! cargo run -p stage5-async-await --example cancel_gather -- --unit-ms 1000
//! ```
//!
//! worker_1 returns 1 after 1 unit; worker_2 divides by zero after 2 units (in Rust a panic,
//! which the executor catches and hands to whoever awaits the task; the panic hook set in `main`
//! also says so on stderr, in one line); worker_3 would return 3 after 3 units but is aborted
//! after 2.
//! `gather` waits for all three and returns each one's result, errors included, as asyncio's
//! `gather(..., return_exceptions=True)` does. About 2 units in all.

use std::time::Duration;

use stage5_async_await::time::sleep;
use stage5_async_await::{gather, spawn};

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

// ANCHOR: cancel_gather
async fn worker_1(unit: Duration) -> u32 {
    sleep(unit).await;
    1
}

async fn worker_2(unit: Duration) -> u32 {
    sleep(unit * 2).await;
    let zero = std::hint::black_box(0); // hidden from the compiler, which would refuse `2 / 0`
    2 / zero
}

async fn worker_3(unit: Duration) -> u32 {
    sleep(unit * 3).await;
    3
}

async fn cancel_and_gather(unit: Duration) {
    let task_1 = spawn(worker_1(unit));
    let task_2 = spawn(worker_2(unit));
    let task_3 = spawn(worker_3(unit));
    sleep(unit * 2).await;
    task_3.abort(); // task_3.cancel()
    let results = gather(vec![task_1, task_2, task_3]).await;
    println!("{results:?}");
}
// ANCHOR_END: cancel_gather

fn main() {
    // One line per panic instead of the default report (and its backtrace, under RUST_BACKTRACE).
    // Set first: `millis_flag`'s hook for a closed stdout then hands it every other panic.
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("(not a string)");
        eprintln!("a task panicked: {message}");
    }));
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("abort task_3 after 2 units, then gather", unit, cancel_and_gather(unit));
}
