//! Many URLs at once on one thread: a fetch's completion callback starts the next fetches.
//!
//! There is no worker and no queue of threads: "at most `--max-tasks` in flight" is just a count
//! checked whenever a fetch finishes. The frontier is shared by the callbacks, all on this one
//! thread, so `Rc<RefCell<_>>` suffices: no lock, and no other thread could ever see it.

use std::cell::RefCell;
use std::rc::Rc;

use crawl::{Config, Frontier, Report};

use crate::event_loop::EventLoop;
use crate::fetch::fetch;

/// Crawls from the configured roots on an event loop; returns when the loop runs out of work.
pub fn crawl(config: &Config) -> Report {
    let event_loop = EventLoop::new().expect("cannot create the event loop (epoll)");
    event_loop.set_trace(config.trace);
    let frontier = Rc::new(RefCell::new(Frontier::new(config)));
    let config = Rc::new(config.clone());
    start_fetches(&event_loop, &frontier, &config);
    // Nothing happens until the loop runs; it returns when no fetch has anything left to wait for.
    event_loop.run().expect("the event loop failed");
    let frontier = Rc::into_inner(frontier).expect("no callback outlives the loop's run");
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
