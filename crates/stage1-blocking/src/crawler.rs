//! Many URLs at once.
//!
//! At most `--max-tasks` fetches are in flight, the blocking way: a thread (or a process) for
//! each, asleep in its own socket call.
//!
//! The crawl state is a [`Frontier`], a plain type. With one thread it is simply owned; as soon as
//! several threads share it, it lives in a `Mutex`, and a `Condvar` lets idle threads sleep until
//! some other thread changes it. That wrapping is the whole price of sharing in this stage, and
//! the compiler insists on it: `pop` and `complete` need `&mut Frontier`, and threads that share
//! it hold only `&`, so only a `Mutex`, which hands out exclusive access through `&`, lets them.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, mpsc};
use std::thread;

use crawl::{Config, Fetched, Frontier, Job, Report, interrupt};

use crate::Mode;
use crate::fetch::fetch;
use crate::process::fetch_in_child;
use crate::unblock;

/// Crawls from the configured roots in the given mode.
///
/// `Mode::Processes` runs this very executable again for each URL (see [`crate::process`]), so it
/// works from the stage binary (or a program that dispatches to [`crate::main`]), not from a test
/// harness calling this function directly.
pub fn crawl(config: &Config, mode: Mode) -> Report {
    // Ctrl-C: wake every thread asleep in a socket call or a child's `wait` (see `unblock`); each
    // then finds the crawl interrupted and stops.
    let _hook = interrupt::on_interrupt(unblock::interrupt_all);
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
        if unblock::take_cut_short() {
            break; // Ctrl-C ended the fetch: the job stays in flight, the report says unfinished
        }
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

    // ANCHOR: next_job
    /// Sleeps until a job may start (one is queued and fewer than `limit` are in flight), or
    /// returns `None` once the crawl is over (nothing queued, nothing in flight) or interrupted.
    fn next_job(&self, limit: usize) -> Option<Job> {
        let mut frontier = self.lock();
        loop {
            if frontier.is_done() || interrupt::requested() {
                return None;
            }
            if frontier.in_flight() < limit
                && let Some(job) = frontier.pop()
            {
                return Some(job);
            }
            // Nothing to do yet: the queue is empty but fetches in flight may still add links.
            let _asleep = crawl::timeline::span("blocked waiting for a job"); // for `--timeline`
            frontier = self.changed.wait(frontier).expect("a crawler thread panicked");
        }
    }

    /// Records a result and wakes every sleeper: each re-checks whether it has work or is done.
    /// A fetch that Ctrl-C cut short is not recorded: its result is not what the site said. (Called
    /// on the thread that fetched, which is where `take_cut_short` looks.)
    fn complete(&self, job: Job, fetched: Fetched) {
        if !unblock::take_cut_short() {
            self.lock().complete(job, fetched);
        }
        self.changed.notify_all();
    }
    // ANCHOR_END: next_job

    fn into_report(self) -> Report {
        self.frontier.into_inner().expect("a crawler thread panicked").into_report()
    }
}

// ANCHOR: threads
/// A new OS thread for every URL, at most `--max-tasks` of them alive at once.
fn thread_per_url(config: &Config) -> Report {
    let shared = Shared::new(config);
    thread::scope(|scope| {
        let mut alive = HashMap::new();
        // Each thread sends its number here as its last act, so the main thread can join it.
        let (exited, exits) = mpsc::channel();
        let mut spawned = 0;
        while let Some(job) = shared.next_job(config.max_tasks) {
            // A thread that has completed its job may not have exited yet: join it first, so
            // that "at most --max-tasks threads" holds for threads, not just for fetches.
            while alive.len() >= config.max_tasks {
                let id = exits.recv().expect("a thread exited without saying so");
                join(alive.remove(&id));
            }
            spawned += 1;
            // A copy of the job, for the record if no thread can be started for it.
            let (shared, exited, refused) = (&shared, exited.clone(), job.clone());
            let started =
                thread::Builder::new().name(format!("url-{spawned}")).spawn_scoped(scope, move || {
                    let fetched = fetch(&job.url, config);
                    shared.complete(job, fetched);
                    let _ = exited.send(spawned);
                });
            match started {
                Ok(handle) => {
                    alive.insert(spawned, handle);
                }
                // The OS refused another thread (a process or system limit): the URL fails, as a
                // row in the report, rather than the crawl.
                Err(e) => {
                    let fetched = cannot_start(refused.url.clone(), &e);
                    shared.complete(refused, fetched);
                }
            }
        }
        // The crawl is over; the scope joins whatever threads are still on their way out.
    });
    shared.into_report()
}

fn join(handle: Option<thread::ScopedJoinHandle<'_, ()>>) {
    if let Some(handle) = handle {
        handle.join().expect("a crawler thread panicked");
    }
}
// ANCHOR_END: threads

// ANCHOR: pool
/// `--max-tasks` long-lived workers, each taking the next job from the shared frontier until the
/// crawl is over (queue empty *and* no worker busy, since a busy worker may still add links).
fn pool(config: &Config, fetch: impl Fn(&Job) -> Fetched + Sync) -> Report {
    let shared = Shared::new(config);
    let work = || {
        while let Some(job) = shared.next_job(usize::MAX) {
            let fetched = fetch(&job);
            shared.complete(job, fetched);
        }
    };
    thread::scope(|scope| {
        for worker in 0..config.max_tasks {
            if let Err(e) = thread::Builder::new().name(format!("worker-{worker}")).spawn_scoped(scope, work)
            {
                // The OS refused another thread (a process or system limit): crawl with fewer,
                // or, with none at all, on this one.
                crawl::log!("warning: started {worker} of {} worker threads: {e}", config.max_tasks);
                if worker == 0 {
                    work();
                }
                break;
            }
        }
    });
    shared.into_report()
}

/// The record of a URL whose thread could not be started.
fn cannot_start(url: url::Url, error: &std::io::Error) -> Fetched {
    let error = crawl::FetchError::new(crawl::ErrorKind::Io, format!("cannot start a thread: {error}"));
    Fetched { url, outcome: crawl::Outcome::Failed { error }, tries: 1 }
}
// ANCHOR_END: pool
