//! A token bucket holding a rate: bursts allowed up to a size, then an even pace.
//!
//! ```text
//! cargo run -p stage5-async-await --example throttle
//! cargo run -p stage5-async-await --example throttle -- --unit-ms 1000
//! ```
//!
//! Four tasks each want three requests (twelve in all) through one `Throttle` of 2 requests per
//! unit with a burst of 4. The first four go at once (the full bucket), the other eight one every
//! half unit, in the order they asked: about 8 / 2 = 4 units in all, however many tasks ask.
//! This is how a polite crawler keeps to a server's rate limit.

use std::rc::Rc;
use std::time::{Duration, Instant};

use stage5_async_await::time::Throttle;
use stage5_async_await::{gather, spawn};

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

const TASKS: u32 = 4;
const REQUESTS_PER_TASK: u32 = 3;
const PER_UNIT: f64 = 2.0;
const BURST: u32 = 4;

// ANCHOR: throttle
async fn client(n: u32, throttle: Rc<Throttle>, started: Instant, unit: Duration) {
    for request in 1..=REQUESTS_PER_TASK {
        throttle.acquire().await;
        let at = started.elapsed().as_secs_f64() / unit.as_secs_f64();
        println!("task {n} request {request} at {at:.1} units");
    }
}

async fn clients(unit: Duration) {
    let throttle = Rc::new(Throttle::new(PER_UNIT / unit.as_secs_f64(), BURST));
    let started = Instant::now();
    let tasks = (1..=TASKS).map(|n| spawn(client(n, Rc::clone(&throttle), started, unit))).collect();
    gather(tasks).await;
}
// ANCHOR_END: throttle

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    println!("{PER_UNIT} requests a unit, bursts of up to {BURST}");
    timed("four tasks, three requests each", unit, clients(unit));
}
