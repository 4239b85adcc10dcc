//! Many URLs at once on one thread, by asking every socket again and again.
//!
//! Stage 1 needed a thread per request in flight because each thread slept in its socket call.
//! Here nothing sleeps: one loop advances every fetch in flight, round and round. The frontier
//! needs no lock and no `Rc`: one thread owns it outright. The cost is the loop itself: it turns
//! whether or not any socket has anything for it, and `--trace` counts the turns that did not.

use crawl::{Config, Frontier, Job, Report, interrupt};

use crate::fetch::{Fetch, Step};

// ANCHOR: crawl
/// Crawls from the configured roots with at most `--max-tasks` fetches in flight.
pub fn crawl(config: &Config) -> Report {
    let mut frontier = Frontier::new(config);
    let mut in_flight: Vec<(Job, Fetch)> = Vec::with_capacity(config.max_tasks);
    let (mut turns, mut idle_turns) = (0u64, 0u64);
    loop {
        // Ctrl-C: nothing here sleeps, so the loop itself notices, on its next turn. Dropping the
        // fetches in flight closes their sockets.
        if interrupt::requested() {
            break;
        }
        // Start fetches until --max-tasks are in flight or the queue is empty.
        while in_flight.len() < config.max_tasks {
            let Some(job) = frontier.pop() else { break };
            let fetch = Fetch::new(job.url.clone());
            in_flight.push((job, fetch));
        }
        if frontier.is_done() {
            break; // nothing queued and nothing in flight: the crawl is over
        }

        // Ask every fetch in flight to go on; none of them will wait.
        turns += 1;
        let mut progressed = false;
        let mut i = 0;
        while i < in_flight.len() {
            match in_flight[i].1.advance(config) {
                Step::Done(fetched) => {
                    let (job, _) = in_flight.swap_remove(i);
                    frontier.complete(job, fetched);
                    progressed = true;
                    continue; // `i` now holds the fetch that was last
                }
                Step::Progress => progressed = true,
                Step::Idle => {}
            }
            i += 1;
        }
        if !progressed {
            idle_turns += 1; // every socket said "not yet": this turn was pure waste
        }
    }
    if config.trace {
        eprintln!(
            "[trace] busy loop: {turns} turns, {idle_turns} ({:.1}%) found nothing to do",
            100.0 * idle_turns as f64 / turns.max(1) as f64
        );
    }
    frontier.into_report()
}
// ANCHOR_END: crawl
