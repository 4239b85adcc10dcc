//! Many URLs at once.
//!
//! At most `--max-tasks` fetches are in flight, as `--max-tasks` worker tasks: the 500-lines
//! crawler's final form. Each worker takes a job from a [`Queue`], fetches it, records the result
//! in the frontier, puts the new links on the queue, and marks its job done. `queue.join()`
//! returns when every job put has been done; then the workers, idle in `get`, are aborted.
//!
//! This is stage 5's file on tokio. The workers hold `Rc`s, so they are not `Send`: they are
//! spawned with `spawn_local`, onto the current-thread runtime's `LocalSet` (see [`crate::runtime`]).
//! And tokio's `abort` only asks: the task's future is dropped the next time the scheduler reaches
//! it, not inside `abort` as in stage 5. So the crawl awaits each aborted worker before it takes
//! the frontier back out of its `Rc`.

use std::cell::RefCell;
use std::rc::Rc;

use crawl::{Config, Frontier, Job, Report, interrupt};
use tokio::task::JoinHandle;

use crate::fetch::fetch;
use crate::queue::Queue;
use crate::runtime::{run_traced, spawn_local};

// ANCHOR: crawl
/// Crawls from the configured roots with at most `--max-tasks` fetches in flight.
pub fn crawl(config: &Config) -> Report {
    let config = Rc::new(config.clone());
    run_traced(crawl_async(Rc::clone(&config)), config.trace)
}

async fn crawl_async(config: Rc<Config>) -> Report {
    let frontier = Rc::new(RefCell::new(Frontier::new(&config)));
    let queue = Queue::new();
    move_queued(&frontier, &queue);
    let workers: Vec<JoinHandle<()>> = (0..config.max_tasks)
        .map(|_| spawn_local(work(Rc::clone(&frontier), queue.clone(), Rc::clone(&config))))
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
    Rc::into_inner(frontier).expect("the workers are gone").into_inner().into_report()
}

/// One worker: take a job, fetch it, record it, queue what it found, mark it done; forever.
async fn work(frontier: Rc<RefCell<Frontier>>, queue: Queue<Job>, config: Rc<Config>) {
    loop {
        let job = queue.get().await;
        let fetched = fetch(&job.url, &config).await;
        frontier.borrow_mut().complete(job, fetched);
        move_queued(&frontier, &queue);
        queue.task_done();
    }
}
// ANCHOR_END: crawl

/// Moves the frontier's newly queued URLs onto the work queue (the frontier decides what is new).
fn move_queued(frontier: &RefCell<Frontier>, queue: &Queue<Job>) {
    let mut frontier = frontier.borrow_mut();
    while let Some(job) = frontier.pop() {
        queue.put(job);
    }
}
