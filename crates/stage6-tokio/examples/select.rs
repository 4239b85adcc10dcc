//! Stage 5's race on tokio: `tokio::select!` in place of `futures::future::select`.
//!
//! ```text
//! cargo run -p stage6-tokio --example tokio_select
//! cargo run -p stage6-tokio --example tokio_select -- --unit-ms 1000
//! ```
//!
//! The same two races as stage 5's `select` example (asyncio's
//! `wait(..., return_when=FIRST_COMPLETED)`):
//!
//! * **two futures**: `select!` polls its branches until one is done, runs that branch's code,
//!   and drops the other futures, unfinished: the tortoise is cancelled when the race ends.
//!   `select!` pins the futures it is given itself, so no `pin!` is needed. By default it polls
//!   the branches in a random order each time, so that no branch can starve the others; `biased;`
//!   polls them in the order written, which keeps this program's output the same on every run.
//! * **two tasks**: a branch may be a `&mut JoinHandle`; the race borrows the handles and the
//!   loser's task runs on, as in stage 5, until it is aborted. tokio's `abort` only asks: the
//!   task's future is dropped when the scheduler next reaches it, so the handle is awaited to see
//!   it gone, which gives a `JoinError` that `is_cancelled()`.
//!
//! `tokio::time::timeout(d, f)`, asyncio's `wait_for(f, d)`, is the first race with a `sleep(d)`
//! as the other branch. About 1 + 1 = 2 units in all.

use std::time::Duration;

use tokio::task::spawn_local;
use tokio::time::sleep;

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

/// Says when it is dropped: the job's cleanup, run whether it finished or not.
struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        println!("{}: cleaned up", self.0);
    }
}

// ANCHOR: select
async fn job(name: &'static str, units: u32, unit: Duration) -> &'static str {
    let _cleanup = Cleanup(name);
    println!("{name}: start, needs {units} units");
    sleep(unit * units).await;
    println!("{name}: done");
    name
}

async fn race_futures(unit: Duration) {
    let winner = tokio::select! {
        biased; // poll in the order written, not at random
        winner = job("tortoise", 3, unit) => winner,
        winner = job("hare", 1, unit) => winner,
    }; // the tortoise, unfinished, was dropped as the race ended: that cancels it
    println!("first completed: {winner}");
}

async fn race_tasks(unit: Duration) {
    let mut slow = spawn_local(job("slow task", 2, unit));
    let mut fast = spawn_local(job("fast task", 1, unit));
    let (winner, loser) = tokio::select! {
        biased;
        winner = &mut slow => (winner, fast),
        winner = &mut fast => (winner, slow),
    };
    println!("first completed: {:?}", winner.map_err(|e| e.to_string()));
    println!("the loser still running: {}", !loser.is_finished());
    loser.abort(); // asyncio: for t in pending: t.cancel()
    let aborted = loser.await.expect_err("an aborted task has no output");
    println!("the loser cancelled: {}", aborted.is_cancelled());
}
// ANCHOR_END: select

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("race two futures", unit, race_futures(unit));
    timed("race two tasks", unit, race_tasks(unit));
}
