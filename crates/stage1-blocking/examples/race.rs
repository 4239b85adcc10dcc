//! A race condition in safe Rust.
//!
//! ```text
//! cargo run -p stage1-blocking --example race
//! ```
//!
//! Four threads each add 1 to a shared counter a million times, three ways:
//!
//! * **load, then store**: read the value, add one, write it back, as two separate atomic steps.
//!   There is no undefined behaviour (every access is atomic) and the compiler is satisfied, yet
//!   updates are lost: two threads read the same value and both write value + 1. This is a *logic*
//!   race, and no type system rules it out.
//! * **`fetch_add`**: the read-modify-write is one indivisible step.
//! * **`Mutex`**: the whole update happens while holding a lock.
//!
//! Rust's `Send`/`Sync` rule out *data races* (unsynchronised access to the same memory); they do
//! not rule out this. Neither does Python's GIL, and neither does an event loop in general: a
//! coroutine that awaits between reading and writing shared state can lose updates too. What a
//! single-threaded loop does remove is preemption *between* awaits.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

const THREADS: u64 = 4;
const INCREMENTS: u64 = 1_000_000;

// ANCHOR: race
fn main() {
    crawl::demo::no_flags();
    let expected = THREADS * INCREMENTS;
    println!("{THREADS} threads x {INCREMENTS} increments, expected total {expected}");

    let counter = AtomicU64::new(0);
    run_threads(|| {
        let value = counter.load(Ordering::Relaxed);
        // Another thread may store between this load and the store below: its update is lost.
        counter.store(value + 1, Ordering::Relaxed);
    });
    report("load, then store", counter.into_inner(), expected);

    let counter = AtomicU64::new(0);
    run_threads(|| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    report("fetch_add", counter.into_inner(), expected);

    let counter = Mutex::new(0u64);
    run_threads(|| {
        *counter.lock().expect("no thread panics") += 1;
    });
    report("Mutex", counter.into_inner().expect("no thread panics"), expected);
}
// ANCHOR_END: race

fn run_threads(increment: impl Fn() + Sync) {
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..INCREMENTS {
                    increment();
                }
            });
        }
    });
}

fn report(how: &str, total: u64, expected: u64) {
    let lost = expected - total;
    println!("{how:>16}: {total:>8} ({lost} updates lost)");
}
