//! Many URLs at once, the blocking way: more threads (or processes), each sleeping in its own
//! socket call.
//!
//! The crawl state is a [`Frontier`], a plain type. With one thread it is simply owned; as soon as
//! several threads share it, it lives in a `Mutex`, and a `Condvar` lets idle threads sleep until
//! some other thread changes it. That wrapping is the whole price of sharing in this stage, and
//! the compiler insists on it: `Frontier` is not `Sync`, so threads cannot touch it bare.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread;

use crawl::{Config, Fetched, Frontier, Job, Report};

use crate::Mode;
use crate::fetch::fetch;
use crate::process::fetch_in_child;

/// Crawls from the configured roots in the given mode.
///
/// `Mode::Processes` runs this very executable again for each URL (see [`crate::process`]), so it
/// works from the stage binary (or a program that dispatches to [`crate::main`]), not from a test
/// harness calling this function directly.
pub fn crawl(config: &Config, mode: Mode) -> Report {
    match mode {
        Mode::Sequential => sequential(config),
        Mode::Threads => thread_per_url(config),
        Mode::Pool => pool(config, |job| fetch(&job.url, config)),
        Mode::Processes => pool(config, |job| fetch_in_child(&job.url, config)),
    }
}

// ANCHOR: sequential
/// One request at a time: while a fetch sleeps in `read`, nothing else happens.
fn sequential(config: &Config) -> Report {
    let mut frontier = Frontier::new(config);
    while let Some(job) = frontier.pop() {
        let fetched = fetch(&job.url, config);
        frontier.complete(job, fetched);
    }
    frontier.into_report()
}
// ANCHOR_END: sequential

/// The frontier shared by threads, and a condition variable signalled whenever it changes.
struct Shared {
    /// The crawl state; every access holds the lock, briefly (never across a fetch).
    frontier: Mutex<Frontier>,
    /// Woken after every `complete`: new links may be queued, or the crawl may be over.
    changed: Condvar,
}

impl Shared {
    fn new(config: &Config) -> Shared {
        Shared { frontier: Mutex::new(Frontier::new(config)), changed: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, Frontier> {
        // A poisoned lock means a thread panicked mid-update: a bug, so fail loudly.
        self.frontier.lock().expect("a crawler thread panicked")
    }

    /// Sleeps until a job may start (one is queued and fewer than `limit` are in flight), or
    /// returns `None` once the crawl is over (nothing queued, nothing in flight).
    fn next_job(&self, limit: usize) -> Option<Job> {
        let mut frontier = self.lock();
        loop {
            if frontier.is_done() {
                return None;
            }
            if frontier.in_flight() < limit
                && let Some(job) = frontier.pop()
            {
                return Some(job);
            }
            // Nothing to do yet: the queue is empty but fetches in flight may still add links.
            frontier = self.changed.wait(frontier).expect("a crawler thread panicked");
        }
    }

    /// Records a result and wakes every sleeper: each re-checks whether it has work or is done.
    fn complete(&self, job: Job, fetched: Fetched) {
        self.lock().complete(job, fetched);
        self.changed.notify_all();
    }

    fn into_report(self) -> Report {
        self.frontier.into_inner().expect("a crawler thread panicked").into_report()
    }
}

// ANCHOR: threads
/// A new OS thread for every URL, at most `--max-tasks` fetching at once (a finishing thread may
/// still be exiting for a moment when its successor starts).
fn thread_per_url(config: &Config) -> Report {
    let shared = Shared::new(config);
    thread::scope(|scope| {
        let mut spawned = 0;
        while let Some(job) = shared.next_job(config.max_tasks) {
            spawned += 1;
            let shared = &shared;
            thread::Builder::new()
                .name(format!("url-{spawned}"))
                .spawn_scoped(scope, move || {
                    let fetched = fetch(&job.url, config);
                    shared.complete(job, fetched);
                })
                .expect("cannot spawn a thread");
        }
    });
    shared.into_report()
}
// ANCHOR_END: threads

// ANCHOR: pool
/// `--max-tasks` long-lived workers, each taking the next job from the shared frontier until the
/// crawl is over (queue empty *and* no worker busy, since a busy worker may still add links).
fn pool(config: &Config, fetch: impl Fn(&Job) -> Fetched + Sync) -> Report {
    let shared = Shared::new(config);
    thread::scope(|scope| {
        for worker in 0..config.max_tasks {
            let (shared, fetch) = (&shared, &fetch);
            thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn_scoped(scope, move || {
                    while let Some(job) = shared.next_job(usize::MAX) {
                        let fetched = fetch(&job);
                        shared.complete(job, fetched);
                    }
                })
                .expect("cannot spawn a thread");
        }
    });
    shared.into_report()
}
// ANCHOR_END: pool
