//! The notes' worker_1 / worker_2 program in its three orderings, with async/await.
//!
//! ```text
//! cargo run -p stage5-async-await --example workers
//! cargo run -p stage5-async-await --example workers -- --unit-ms 1000
//! cargo run -p stage5-async-await --example workers -- --timeline /tmp/workers.json   # its tasks, over time
//! ```
//!
//! Put this beside stage 4's `examples/workers.rs`: the same program, with the compiler writing
//! the state machines. The three orderings:
//!
//! 1. `main` awaits each worker in turn: one after another, about 3 units.
//! 2. `main` spawns both as tasks, then awaits worker_1's task, then worker_2's: the waits
//!    overlap, about 2 units. Note that "before await" comes first: a spawned task starts when
//!    `main` gives the loop back, at its first `.await`, as `create_task` does in asyncio.
//! 3. As 2, but awaiting worker_2's task first: worker_1 finishes anyway, it does not need
//!    anyone awaiting it to run. Still about 2 units.

use std::time::Duration;

use stage5_async_await::spawn;
use stage5_async_await::time::sleep;

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

// ANCHOR: workers
/// ```python
/// async def worker_1():
///     print('worker_1 start')
///     await asyncio.sleep(1)
///     print('worker_1 done')
/// ```
async fn worker(n: u32, units: u32, unit: Duration) {
    println!("worker_{n} start");
    sleep(unit * units).await;
    println!("worker_{n} done");
}

/// `await worker_1(); await worker_2()`
async fn one_after_another(unit: Duration) {
    println!("before await");
    worker(1, 1, unit).await;
    println!("awaited worker_1");
    worker(2, 2, unit).await;
    println!("awaited worker_2");
}

/// `task1 = asyncio.create_task(worker_1()); task2 = ...; await task1; await task2`
async fn as_tasks(unit: Duration) {
    let task1 = spawn(worker(1, 1, unit));
    let task2 = spawn(worker(2, 2, unit));
    println!("before await");
    task1.await.expect("worker_1 does not fail");
    println!("awaited worker_1");
    task2.await.expect("worker_2 does not fail");
    println!("awaited worker_2");
}

/// The same tasks, awaited in the other order.
async fn as_tasks_awaited_backwards(unit: Duration) {
    let task1 = spawn(worker(1, 1, unit));
    let task2 = spawn(worker(2, 2, unit));
    println!("before await");
    task2.await.expect("worker_2 does not fail");
    println!("awaited worker_2");
    task1.await.expect("worker_1 does not fail");
    println!("awaited worker_1");
}
// ANCHOR_END: workers

fn main() {
    let unit = crawl::demo::millis_flag_and_timeline("--unit-ms", 100, "workers");
    timed("await, one after another", unit, one_after_another(unit));
    timed("spawn, await worker_1's task then worker_2's", unit, as_tasks(unit));
    timed("spawn, await worker_2's task then worker_1's", unit, as_tasks_awaited_backwards(unit));
    crawl::demo::finish_timeline();
}
