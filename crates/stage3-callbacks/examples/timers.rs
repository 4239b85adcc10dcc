//! The notes' worker_1 / worker_2 program in callback form.
//!
//! ```text
//! cargo run -p stage3-callbacks --example timers
//! cargo run -p stage3-callbacks --example timers -- --unit-ms 1000
//! ```
//!
//! Two jobs wait 1 and 2 units. With coroutines (stage 5) this is `worker_1().await` inside a
//! task; here each "await" is cut into a callback that a timer calls later, and "awaited
//! worker_1" must be printed by whoever learns that worker_1 finished, which is worker_1's own
//! last callback. Both waits overlap, so the whole program takes about 2 units, not 3. The lines
//! come out in the same order as the coroutine version's:
//!
//! ```text
//! before await
//! worker_1 start
//! worker_2 start
//! worker_1 done
//! awaited worker_1
//! worker_2 done
//! awaited worker_2
//! ```

use std::time::Instant;

use stage3_callbacks::event_loop::EventLoop;

// ANCHOR: timers
fn main() -> std::io::Result<()> {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    let event_loop = EventLoop::new()?;
    let started = Instant::now();

    // create_task(worker_1()); create_task(worker_2()): both start on the loop's next turn.
    event_loop.call_soon(move |lp| {
        println!("worker_1 start");
        lp.call_later(unit, |_| {
            println!("worker_1 done");
            println!("awaited worker_1"); // what `await task1` would have resumed
        });
    });
    event_loop.call_soon(move |lp| {
        println!("worker_2 start");
        lp.call_later(2 * unit, |_| {
            println!("worker_2 done");
            println!("awaited worker_2");
        });
    });
    println!("before await");

    event_loop.run()?;
    println!("took {:.1} units", started.elapsed().as_secs_f64() / unit.as_secs_f64());
    Ok(())
}
// ANCHOR_END: timers
