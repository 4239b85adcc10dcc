//! Which of three callbacks and a timer runs first: chapter 3's exercise on the order of a turn.
//!
//! ```text
//! cargo run -p stage3-callbacks --example turn_order
//! ```
//!
//! `book/python/turn_order.py` schedules the same four things on asyncio's loop, which orders
//! them differently.

use std::time::Duration;

use stage3_callbacks::event_loop::EventLoop;

// ANCHOR: turn_order
fn main() -> std::io::Result<()> {
    crawl::demo::no_flags();
    let event_loop = EventLoop::new()?;
    event_loop.call_soon(|lp| {
        println!("A: call_soon");
        lp.call_soon(|_| println!("C: call_soon from inside A"));
    });
    event_loop.call_later(Duration::ZERO, |_| println!("T: call_later(0)"));
    event_loop.call_soon(|_| println!("B: call_soon"));
    event_loop.run()
}
// ANCHOR_END: turn_order
