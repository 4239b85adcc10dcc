//! A race: the first of two to finish wins (asyncio's `wait(..., return_when=FIRST_COMPLETED)`),
//! beside `gather`, which waits for all.
//!
//! ```text
//! cargo run -p stage5-async-await --example select
//! cargo run -p stage5-async-await --example select -- --unit-ms 1000
//! ```
//!
//! `futures::future::select(a, b)` polls both and is done when one is, handing back the winner's
//! output and the loser, still unfinished. Twice:
//!
//! * **two futures** (a 3-unit tortoise, a 1-unit hare): the hare wins after 1 unit. The
//!   tortoise is a future, which runs only while something polls it: once the race is over
//!   nothing does, and when it is dropped, at the end of the function that pinned it, it is
//!   cancelled and its cleanup runs. `timeout(d, f)`, asyncio's `wait_for(f, d)`, is this race with
//!   a `sleep(d)` as the other side (`time.rs`'s `Timeout`).
//! * **two tasks** (2 units, 1 unit): the fast task wins after 1 unit. The loser is a
//!   `JoinHandle`, and a task runs whether or not its handle is awaited, as with asyncio's
//!   `wait`, whose `pending` tasks go on until cancelled: the slow task is still running. Here it
//!   is aborted (`for t in pending: t.cancel()`), which drops its future at once; awaiting the
//!   handle then gives `Err(JoinError::Cancelled)`. Dropping the handle instead would leave the
//!   task to finish on its own.
//!
//! `select` takes futures that are `Unpin`: an `async fn`'s future is not, so it is pinned
//! with `pin!`; a `JoinHandle` is, so it goes in as it is. About 1 + 1 = 2 units in all.

use std::pin::pin;
use std::time::Duration;

use futures::future::select;

use stage5_async_await::{JoinError, spawn};

#[path = "shared/job.rs"]
mod job;
use job::job;
#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

// ANCHOR: select
async fn race_futures(unit: Duration) {
    // `pin!` keeps each future here, in this function's frame, and lends `select` a `Pin<&mut _>`.
    let tortoise = pin!(job("tortoise", 3, unit));
    let hare = pin!(job("hare", 1, unit));
    let (winner, _loser) = select(tortoise, hare).await.factor_first();
    println!("first completed: {winner}");
} // the tortoise, unfinished and never polled again, is dropped here: that cancels it

async fn race_tasks(unit: Duration) {
    let slow = spawn(job("slow task", 2, unit));
    let fast = spawn(job("fast task", 1, unit));
    let (winner, loser) = select(slow, fast).await.factor_first();
    println!("first completed: {winner:?}");
    let loser = loser.into_inner();
    println!("the loser still running: {}", !loser.is_finished());
    loser.abort(); // asyncio: for t in pending: t.cancel()
    println!("the loser cancelled: {}", loser.await == Err(JoinError::Cancelled));
}
// ANCHOR_END: select

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("race two futures", unit, race_futures(unit));
    timed("race two tasks", unit, race_tasks(unit));
}
