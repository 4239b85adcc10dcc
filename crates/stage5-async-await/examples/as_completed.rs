//! Results in the order they complete (asyncio's `as_completed`), not the order asked.
//!
//! ```text
//! cargo run -p stage5-async-await --example as_completed
//! cargo run -p stage5-async-await --example as_completed -- --unit-ms 1000
//! ```
//!
//! Three tasks take 3, 1 and 2 units. `gather` would hand back their results in the order they
//! were given, after the slowest; `FuturesUnordered` (from the `futures` crate) yields each result
//! the moment its task is done: 1, 2, 3, and about 3 units in all.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use stage5_async_await::spawn;
use stage5_async_await::time::sleep;

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

// ANCHOR: as_completed
async fn job(units: u32, unit: Duration) -> u32 {
    sleep(unit * units).await;
    units
}

async fn in_completion_order(unit: Duration) {
    let mut pending: FuturesUnordered<_> =
        [3, 1, 2].into_iter().map(|units| spawn(job(units, unit))).collect();
    println!("started jobs of 3, 1 and 2 units");
    while let Some(result) = pending.next().await {
        println!("job of {} units done", result.expect("job does not fail"));
    }
}
// ANCHOR_END: as_completed

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("as completed", unit, in_completion_order(unit));
}
