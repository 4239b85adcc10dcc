//! Many URLs at once, on tokio's multi-thread runtime: `crawler.rs` with what `tokio::spawn`
//! demands of a task.
//!
//! ```text
//! cargo run --release -p stage6-tokio -- --mode multi-thread http://127.0.0.1:8000/ --timeout 0.3
//! diff -u crates/stage6-tokio/src/crawler.rs crates/stage6-tokio/src/multi_thread.rs
//! ```
//!
//! On the multi-thread runtime a worker thread per core polls the tasks, and an idle worker
//! steals tasks from a busy one, so a task may be polled on one thread and then on another. So
//! `tokio::spawn` takes only futures that are `Send` (safe to move to another thread) and
//! `'static` (borrowing nothing of the spawner, which may be gone by then). That is the whole
//! diff: what the workers share moves from `Rc` to `Arc`, and the frontier from `RefCell` to a
//! `Mutex`, as in stage 1's thread pool; `spawn_local` becomes `spawn` (`tokio::spawn`, see `runtime.rs`). The compiler checks
//! it: a worker holding an `Rc`, or a `MutexGuard` across an `.await`, is not `Send`, and does not
//! compile. The fetch itself (`fetch.rs`) is unchanged: its future is already `Send`.
//!
//! What it buys a crawler: little. The work is waiting on the network, which one thread does as
//! well as several; what several threads add is the parsing and the bookkeeping spread over cores,
//! and a lock on the frontier.

use std::sync::{Arc, Mutex, MutexGuard};

use crawl::{Config, Frontier, Job, Report, interrupt};
use tokio::task::JoinHandle;

use crate::fetch::fetch;
use crate::queue::Queue;
use crate::runtime::{run_multi_thread, spawn};

// ANCHOR: crawl
/// Crawls from the configured roots with at most `--max-tasks` fetches in flight.
pub fn crawl(config: &Config) -> Report {
    let config = Arc::new(config.clone());
    run_multi_thread(crawl_async(Arc::clone(&config)), config.trace)
}

async fn crawl_async(config: Arc<Config>) -> Report {
    let frontier = Arc::new(Mutex::new(Frontier::new(&config)));
    let queue = Queue::new();
    move_queued(&frontier, &queue);
    let workers: Vec<JoinHandle<()>> = (0..config.max_tasks)
        .map(|_| spawn(work(Arc::clone(&frontier), queue.clone(), Arc::clone(&config))))
        .collect();
    // The work is done, or Ctrl-C was pressed: whichever comes first (asyncio's
    // `wait(..., return_when=FIRST_COMPLETED)`). Either way the workers are then aborted, and a
    // fetch in flight is dropped, closing its socket; the frontier counts its job unfinished.
    tokio::select! {
        () = queue.join() => {}
        () = interrupt::interrupted() => {}
    }
    for worker in &workers {
        worker.abort();
    }
    for worker in workers {
        let _cancelled = worker.await; // returns once the worker's future has been dropped
    }
    let frontier = Arc::into_inner(frontier).expect("the workers are gone");
    frontier.into_inner().expect("no worker panicked while it held the frontier").into_report()
}

/// One worker: take a job, fetch it, record it, queue what it found, mark it done; forever.
async fn work(frontier: Arc<Mutex<Frontier>>, queue: Queue<Job>, config: Arc<Config>) {
    loop {
        let job = queue.get().await;
        let fetched = fetch(&job.url, &config).await;
        lock(&frontier).complete(job, fetched);
        move_queued(&frontier, &queue);
        queue.task_done();
    }
}
// ANCHOR_END: crawl

/// Moves the frontier's newly queued URLs onto the work queue (the frontier decides what is new).
fn move_queued(frontier: &Mutex<Frontier>, queue: &Queue<Job>) {
    let mut frontier = lock(frontier);
    while let Some(job) = frontier.pop() {
        queue.put(job);
    }
}

/// The frontier, locked for as long as the guard lives; never across an `.await`.
fn lock(frontier: &Mutex<Frontier>) -> MutexGuard<'_, Frontier> {
    // A poisoned lock means a worker panicked mid-update: a bug, so fail loudly.
    frontier.lock().expect("a worker panicked while it held the frontier")
}
