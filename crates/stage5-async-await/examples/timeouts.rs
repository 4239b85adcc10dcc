//! Timeouts: `timeout(duration, future)` is asyncio's `wait_for`, and what it does to a future
//! that runs out of time is drop it, which is Rust's cancellation.
//!
//! ```text
//! cargo run -p stage5-async-await --example timeouts
//! cargo run -p stage5-async-await --example timeouts -- --unit-ms 1000
//! ```
//!
//! A 1-unit job with 2 units to spare finishes; a 3-unit job given 1 unit is dropped at the
//! deadline, and the drop runs its cleanup (here a line; in the crawler, closing the socket).
//! The caller does not wait for the slow job: about 1 + 1 = 2 units in all.

use std::time::Duration;

use stage5_async_await::time::timeout;

#[path = "shared/job.rs"]
mod job;
use job::job;
#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

// ANCHOR: timeouts
async fn both(unit: Duration) {
    let fast = timeout(unit * 2, job("fast", 1, unit)).await;
    println!("fast: {fast:?}");
    let slow = timeout(unit, job("slow", 3, unit)).await;
    println!("slow: {slow:?}");
}
// ANCHOR_END: timeouts

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("a job in time, then a job out of time", unit, both(unit));
}
