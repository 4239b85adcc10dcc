//! Many URLs at once.
//!
//! At most `--max-tasks` fetches are in flight, and the crawler's loop keeps them moving: on each
//! turn the fetches go on as far as they can, the finished ones are recorded in the frontier, and
//! new fetches start in their place. One thread owns the frontier outright, with no lock and no
//! `RefCell` around it.
//!
//! Here a turn is a turn of the event loop: it sleeps until a socket is ready or a timer is due,
//! then runs the callbacks for it, which poll the fetches concerned and no other. A finished
//! fetch hands its result to its callback, which keeps it in `done` until the turn is over (an
//! `Rc<RefCell<_>>`, shared with the callbacks on this one thread).

use std::cell::RefCell;
use std::rc::Rc;

use crawl::{Config, Fetched, Frontier, Job, Report, interrupt};

use crate::event_loop::EventLoop;
use crate::fetch::fetch;

/// The fetches that finished during a turn, with their jobs: filled by their callbacks, emptied by
/// the crawler's loop.
type Done = Rc<RefCell<Vec<(Job, Fetched)>>>;

// ANCHOR: crawl
/// Crawls from the configured roots with at most `--max-tasks` fetches in flight.
pub fn crawl(config: &Config) -> Report {
    let mut frontier = Frontier::new(config);
    let config = Rc::new(config.clone());
    let event_loop = crawl::or_exit(EventLoop::new(), "cannot create the event loop");
    event_loop.set_trace(config.trace);
    let done = Done::default();
    start_fetches(&event_loop, &mut frontier, &done, &config);
    // The loop: each turn sleeps until a socket is ready or a timer is due, and runs what is
    // due, turn after turn, until no fetch is left. (Ctrl-C: the loop is woken to notice the flag;
    // see `interrupt`. Dropping the loop drops the fetches in flight and closes their sockets.)
    let _wake = crate::interrupt::wake_on_interrupt(&event_loop);
    while frontier.in_flight() > 0 && !interrupt::requested() {
        let work_left = event_loop.run_once().expect("the event loop failed");
        assert!(work_left, "a fetch was lost: nothing left to call back, {} in flight", frontier.in_flight());
        for (job, fetched) in done.take() {
            frontier.complete(job, fetched);
        }
        start_fetches(&event_loop, &mut frontier, &done, &config);
    }
    frontier.into_report()
}
// ANCHOR_END: crawl

// ANCHOR: start_fetches
/// Starts fetches until `--max-tasks` are in flight or the queue is empty.
/// Each, once finished, puts its result in `done`.
fn start_fetches(lp: &EventLoop, frontier: &mut Frontier, done: &Done, config: &Rc<Config>) {
    loop {
        let Some(job) = frontier.next_job() else { return };
        let done = Rc::clone(done);
        fetch(lp, job.url.clone(), Rc::clone(config), move |fetched| done.borrow_mut().push((job, fetched)));
    }
}
// ANCHOR_END: start_fetches
