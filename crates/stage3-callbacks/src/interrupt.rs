//! Ctrl-C for a crawl on the loop: the watcher thread wakes the loop.
//!
//! The signal is noticed on another thread (see `crawl::interrupt`), which sets a flag that the
//! crawler's loop checks after every turn. But the loop may be asleep in `epoll_wait` with
//! nothing due for seconds, and no other thread may touch it; the watcher can only send it a
//! callback, through the one door other threads have, `call_soon_threadsafe`, which also
//! interrupts the wait (asyncio's `loop.add_signal_handler` does the same with a self-pipe).
//! Real applications will want the same: a thread, or a signal handler, that wakes the loop
//! rather than acting on it.

use crawl::interrupt::{self, HookGuard};

use crate::event_loop::EventLoop;

// ANCHOR: wake_on_interrupt
/// Wakes `lp` when Ctrl-C is pressed, for as long as the guard lives, so that a turn asleep in
/// the poller ends at once and the crawler's loop sees the flag.
pub fn wake_on_interrupt(lp: &EventLoop) -> HookGuard {
    // A weak handle: a strong one would keep the loop waiting for it after the last fetch.
    let remote = lp.weak_remote();
    interrupt::on_interrupt(move || {
        // The callback does nothing: its arrival is what ends the wait. (Not `stop`: a stop left
        // pending would cut short whatever runs the loop next, such as stage 4's cancellations.)
        let _ = remote.call_soon_threadsafe(|_| {});
    })
}
// ANCHOR_END: wake_on_interrupt
