//! A race condition on one thread: the read-modify-write that spans an `.await`.
//!
//! ```text
//! cargo run -p stage5-async-await --example async_race
//! ```
//!
//! Ten tasks each add 1 to a shared balance a hundred times, three ways:
//!
//! * **read, await, write**: read the balance, `.await` something (here `yield_now`, in a real
//!   program a database call or a request), then write what was read plus one. Every task reads
//!   the balance before any of them writes it, so nine updates in ten are lost. The loop has one
//!   thread and never preempts a task, yet this is stage 1's race (`examples/race.rs`) again:
//!   while one task waits, the others run, and the value it read goes stale.
//! * **no `.await` inside**: the read and the write happen between the same two awaits. Nothing
//!   else can run in between, since a task gives the loop back only at an `.await`, so no update
//!   is lost, with no lock at all. This is what a single-threaded loop (stage 5, asyncio) really
//!   removes: the races *between* two awaits, not the ones across an await.
//! * **an async mutex** (`futures::lock::Mutex`): when the update must wait in the middle, a lock
//!   that is awaited, not blocked on, makes the others wait their turn while the thread goes on.
//!   (A `std::sync::Mutex` held across an `.await` would block the loop's only thread.)
//!
//! The executor runs ready tasks in order, so the lost count is the same on every run.

use std::cell::Cell;
use std::rc::Rc;

use futures::lock::Mutex;
use stage5_async_await::{gather, run, spawn, yield_now};

const TASKS: u64 = 10;
const INCREMENTS: u64 = 100;

// ANCHOR: race
/// Each task reads, gives the loop back, then writes: the others run in between.
async fn read_await_write(balance: Rc<Cell<u64>>) {
    for _ in 0..INCREMENTS {
        let value = balance.get();
        yield_now().await; // every other task runs here, and reads the same `value`
        balance.set(value + 1);
    }
}

/// The read and the write with no `.await` between them: no other task can run in between.
async fn no_await_inside(balance: Rc<Cell<u64>>) {
    for _ in 0..INCREMENTS {
        balance.set(balance.get() + 1);
        yield_now().await;
    }
}

/// The update holds an async lock across its `.await`: the others wait for the lock, not the thread.
async fn async_mutex(balance: Rc<Mutex<u64>>) {
    for _ in 0..INCREMENTS {
        let mut guard = balance.lock().await;
        let value = *guard;
        yield_now().await; // the others run here, and wait at `lock().await`
        *guard = value + 1;
    }
}
// ANCHOR_END: race

fn main() {
    crawl::demo::no_flags();
    let expected = TASKS * INCREMENTS;
    println!("{TASKS} tasks x {INCREMENTS} increments on one thread, expected total {expected}");

    let balance = Rc::new(Cell::new(0));
    run_tasks(&balance, read_await_write);
    report("read, await, write", balance.get(), expected);

    let balance = Rc::new(Cell::new(0));
    run_tasks(&balance, no_await_inside);
    report("no await inside", balance.get(), expected);

    let balance = Rc::new(Mutex::new(0));
    run_tasks(&balance, async_mutex);
    report("async mutex", *balance.try_lock().expect("every task is done"), expected);
}

/// Runs [`TASKS`] tasks of `task` on one loop, each with a handle to `shared`, until all are done.
fn run_tasks<S: 'static, F: Future<Output = ()> + 'static>(shared: &Rc<S>, task: fn(Rc<S>) -> F) {
    let shared = Rc::clone(shared);
    run(async move {
        gather((0..TASKS).map(|_| spawn(task(Rc::clone(&shared)))).collect()).await;
    });
}

fn report(how: &str, total: u64, expected: u64) {
    println!("{how:>18}: {total:>5} ({} updates lost)", expected - total);
}
