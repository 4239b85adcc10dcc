//! Ctrl-C for a crawl of tasks: after the crawler's loop has stopped, cancel every task.
//!
//! Stage 3 just drops its loop: the callbacks the loop holds are all that keep its fetches alive.
//! Tasks are not freed that way, because a task and the future it waits on hold each other (the
//! task holds its coroutine, which holds the future; the future's done callback holds the task).
//! So, as asyncio's shutdown does, every task still running is cancelled, and the loop runs until
//! the cancellations have played out: each coroutine, resumed with `Resume::Cancel`, closes its
//! socket and returns. (Waking the loop on Ctrl-C is stage 3's `wake_on_interrupt`.)

use std::io;

use stage3_callbacks::event_loop::EventLoop;

use crate::task;

// ANCHOR: cancel_tasks
/// Cancels every task that is still running (none, unless Ctrl-C cut the crawl short) and runs
/// the loop until they are all done. Returns whether there were any.
pub fn cancel_tasks(lp: &EventLoop) -> io::Result<bool> {
    if task::cancel_all() == 0 {
        return Ok(false);
    }
    lp.run()?;
    Ok(true)
}
// ANCHOR_END: cancel_tasks
