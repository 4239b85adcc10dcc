//! Many URLs at once on one thread: a fetch's completion callback starts the next fetches.
//!
//! There is no worker and no queue of threads: "at most `--max-tasks` in flight" is just a count
//! checked whenever a fetch finishes. The frontier is shared by the callbacks, all on this one
//! thread, so `Rc<RefCell<_>>` suffices: no lock, and no other thread could ever see it.

use std::cell::RefCell;
use std::rc::Rc;

use crawl::{Config, Frontier, Report, interrupt};

use crate::event_loop::EventLoop;
use crate::fetch::fetch;

/// Crawls from the configured roots on an event loop; returns when the loop runs out of work.
pub fn crawl(config: &Config) -> Report {
    let event_loop = EventLoop::new().expect("cannot create the event loop (epoll)");
    event_loop.set_trace(config.trace);
    let frontier = Rc::new(RefCell::new(Frontier::new(config)));
    let config = Rc::new(config.clone());
    start_fetches(&event_loop, &frontier, &config);
    // Ctrl-C arrives on another thread, which may not touch the loop: it asks the loop to stop,
    // through the one door other threads have (asyncio's `loop.add_signal_handler` is this).
    // (A weak handle: a strong one would keep `run` going after the last fetch.)
    let remote = event_loop.remote().downgrade();
    let _hook = interrupt::on_interrupt(move || {
        let _ = remote.call_soon_threadsafe(EventLoop::stop);
    });
    // Nothing happens until the loop runs; it returns when no fetch has anything left to wait for,
    // or when stopped.
    event_loop.run().expect("the event loop failed");
    // After a stop, the callbacks of the fetches in flight still hold the frontier (and their
    // sockets): dropping the loop drops them.
    drop(event_loop);
    let frontier = Rc::into_inner(frontier).expect("no callback outlives the loop");
    frontier.into_inner().into_report()
}

// ANCHOR: start_fetches
/// Starts fetches until `--max-tasks` are in flight or the queue is empty. Each fetch, when done,
/// records its result and calls this again: that callback is the whole "worker".
fn start_fetches(lp: &EventLoop, frontier: &Rc<RefCell<Frontier>>, config: &Rc<Config>) {
    loop {
        let job = {
            let mut frontier = frontier.borrow_mut();
            if frontier.in_flight() >= config.max_tasks {
                return;
            }
            match frontier.pop() {
                Some(job) => job,
                None => return,
            }
        };
        let (frontier, config) = (Rc::clone(frontier), Rc::clone(config));
        fetch(lp, job.url.clone(), Rc::clone(&config), move |lp, fetched| {
            frontier.borrow_mut().complete(job, fetched);
            start_fetches(lp, &frontier, &config);
        });
    }
}
// ANCHOR_END: start_fetches
