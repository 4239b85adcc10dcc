//! Many URLs at once.
//!
//! At most `--max-tasks` fetches are in flight, and the crawler's loop keeps them moving: on each
//! turn the fetches go on as far as they can, the finished ones are recorded in the frontier, and
//! new fetches start in their place. One thread owns the frontier outright, with no lock and no
//! `RefCell` around it.
//!
//! Here a turn polls every fetch in flight, ready or not: the busy loop. Nothing sleeps, so the
//! loop turns whether or not any socket has anything for it, and `--trace` counts the questions
//! it asked in vain. (Stage 1 needed a thread per request in flight, each asleep in a socket call.)

use std::rc::Rc;
use std::task::Poll;

use crawl::{Config, Fetched, Frontier, Job, Report, interrupt};

use crate::fetch::{Fetch, fetch};

// ANCHOR: crawl
/// Crawls from the configured roots with at most `--max-tasks` fetches in flight.
pub fn crawl(config: &Config) -> Report {
    let mut frontier = Frontier::new(config);
    let config = Rc::new(config.clone());
    let mut in_flight = Vec::new();
    start_fetches(&mut frontier, &mut in_flight, &config);
    // The loop: each turn polls every fetch in flight, turn after turn, until none is left.
    // (Ctrl-C: nothing here sleeps, so the loop notices the flag on its next turn; dropping the
    // fetches in flight closes their sockets.)
    let (mut turns, mut in_vain) = (0u64, 0u64);
    while frontier.in_flight() > 0 && !interrupt::requested() {
        turns += 1;
        let finished = poll_all(&mut in_flight, &mut in_vain);
        crawl::timeline::busy_turn(finished.is_empty()); // `--timeline`: the turns, and the idle ones
        for (job, fetched) in finished {
            frontier.complete(job, fetched);
        }
        start_fetches(&mut frontier, &mut in_flight, &config);
    }
    if config.trace {
        crawl::log!("[trace] busy loop: {turns} turns; {in_vain} polls ended in a socket's \"not yet\"");
    }
    frontier.into_report()
}

/// Polls every fetch in flight once, and takes out those that finished. A poll that did not finish
/// its fetch ended in a socket's "not yet": `in_vain` counts those.
fn poll_all(in_flight: &mut Vec<(Job, Fetch)>, in_vain: &mut u64) -> Vec<(Job, Fetched)> {
    let mut done = Vec::new();
    let mut i = 0;
    while i < in_flight.len() {
        match in_flight[i].1.poll() {
            Poll::Pending => {
                *in_vain += 1; // a socket said "not yet": this poll ends here
                i += 1;
            }
            Poll::Ready(fetched) => {
                let (job, _) = in_flight.swap_remove(i); // `i` now holds the fetch that was last
                done.push((job, fetched));
            }
        }
    }
    done
}
// ANCHOR_END: crawl

// ANCHOR: start_fetches
/// Starts fetches until `--max-tasks` are in flight or the queue is empty.
/// Each joins the fetches that the loop polls.
fn start_fetches(frontier: &mut Frontier, in_flight: &mut Vec<(Job, Fetch)>, config: &Rc<Config>) {
    loop {
        let Some(job) = frontier.next_job() else { return };
        let fetch = fetch(job.url.clone(), Rc::clone(config));
        in_flight.push((job, fetch));
    }
}
// ANCHOR_END: start_fetches
