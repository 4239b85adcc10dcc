//! Many URLs at once.
//!
//! At most `--max-tasks` fetches are in flight, and the crawler's loop keeps them moving: on each
//! turn the fetches go on as far as they can, the finished ones are recorded in the frontier, and
//! new fetches start in their place. One thread owns the frontier outright, with no lock and no
//! `RefCell` around it.
//!
//! Here a turn is still a turn of stage 3's event loop, and a fetch is a coroutine that a [`Task`]
//! runs. A task is a future: a finished fetch's task completes, and its done callback keeps the
//! result in `done` until the turn is over (an `Rc<RefCell<_>>`, shared with the callbacks on this
//! one thread).

use std::cell::RefCell;
use std::rc::Rc;

use crawl::{Config, Fetched, Frontier, Job, Report, interrupt};
use stage3_callbacks::event_loop::EventLoop;

use crate::fetch::fetch;
use crate::task::Task;

/// The fetches that finished during a turn, with their jobs: filled by their tasks' done
/// callbacks, emptied by the crawler's loop.
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
    // due (a task's step is one of those callbacks), turn after turn, until no fetch is left.
    // (Ctrl-C: the loop is woken to notice the flag; see `interrupt`.)
    let _wake = stage3_callbacks::interrupt::wake_on_interrupt(&event_loop);
    while frontier.in_flight() > 0 && !interrupt::requested() {
        let work_left = event_loop.run_once().expect("the event loop failed");
        assert!(work_left, "a fetch was lost: nothing left to call back, {} in flight", frontier.in_flight());
        for (job, fetched) in done.take() {
            frontier.complete(job, fetched);
        }
        start_fetches(&event_loop, &mut frontier, &done, &config);
    }
    // After Ctrl-C: cancel the tasks still running, let them close their sockets, and record
    // what finished meanwhile (a done callback runs a turn after its task is done).
    if crate::interrupt::cancel_tasks(&event_loop).expect("the event loop failed") {
        for (job, fetched) in done.take() {
            frontier.complete(job, fetched);
        }
    }
    frontier.into_report()
}
// ANCHOR_END: crawl

// ANCHOR: start_fetches
/// Starts fetches until `--max-tasks` are in flight or the queue is empty.
/// Each is a task, whose done callback puts its result in `done`.
fn start_fetches(lp: &EventLoop, frontier: &mut Frontier, done: &Done, config: &Rc<Config>) {
    loop {
        let Some(job) = frontier.next_job() else { return };
        let done = Rc::clone(done);
        let task = Task::spawn_traced(lp, fetch(job.url.clone(), Rc::clone(config)), config.trace);
        task.future().add_done_callback(move |_, task| {
            // A task cancelled by Ctrl-C has no result: its job stays unfinished.
            if let Some(Ok(fetched)) = task.take_result() {
                done.borrow_mut().push((job, fetched));
            }
        });
    }
}
// ANCHOR_END: start_fetches
