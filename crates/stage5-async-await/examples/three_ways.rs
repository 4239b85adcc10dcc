//! Three ways to run a coroutine: `run` it, `.await` it, or `spawn` it and await the task.
//!
//! ```text
//! cargo run -p stage5-async-await --example three_ways
//! cargo run -p stage5-async-await --example three_ways -- --unit-ms 1000
//! ```
//!
//! * `run(future)` (asyncio's `run`): from ordinary code, a loop is made, the future runs to the
//!   end on it, the loop is closed.
//! * `future.await` (asyncio's `await coro`): inside a coroutine, run another to its end as part
//!   of this task. Two awaits in a row run one after the other: about 2 units.
//! * `spawn(future)` (asyncio's `create_task`): a new task, started by the loop on its own; the
//!   caller goes on and awaits the handle when it wants the result. Two at once: about 1 unit.
//!
//! An `async fn` called and never awaited or spawned does nothing at all: the line
//! "never awaited: start" is never printed. (Written as a bare statement, such a call gets a
//! compiler warning: futures do nothing unless polled.)

use std::time::Duration;

use stage5_async_await::spawn;
use stage5_async_await::time::sleep;

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

// ANCHOR: three_ways
async fn nap(name: &'static str, unit: Duration) -> &'static str {
    println!("{name}: start");
    sleep(unit).await;
    println!("{name}: done");
    name
}

async fn awaited(unit: Duration) {
    let first = nap("first", unit).await;
    let second = nap("second", unit).await;
    println!("awaited {first} then {second}");
}

async fn spawned(unit: Duration) {
    let first = spawn(nap("first", unit));
    let second = spawn(nap("second", unit));
    let _never = nap("never awaited", unit); // a future only runs when polled
    println!("spawned both");
    let (first, second) = (first.await.expect("no panic"), second.await.expect("no panic"));
    println!("awaited tasks {first} and {second}");
}
// ANCHOR_END: three_ways

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("run", unit, async move {
        nap("only", unit).await;
    });
    timed("await, twice", unit, awaited(unit));
    timed("spawn twice, then await the tasks", unit, spawned(unit));
}
