//! Many URLs at once: `--max-tasks` worker coroutines, each a task on the loop.
//!
//! As in the 500-lines crawler: a fixed number of workers, each looping "take a URL, fetch it,
//! record it". A worker with nothing to take waits on a future that the next finished fetch
//! completes (a condition variable for coroutines); the crawl is over when every worker has
//! found the frontier done and returned. All of it runs on one thread, so the frontier is a
//! plain `RefCell`.

use std::cell::RefCell;
use std::rc::Rc;

use crawl::{Config, Frontier, Job, Report, interrupt};
use stage3_callbacks::event_loop::EventLoop;

use crate::coroutine::{Coroutine, Resume, Step};
use crate::fetch::{Fetch, fetch};
use crate::future::Future;
use crate::task::Task;
use crate::yield_from;

/// Crawls from the configured roots; returns when every worker has finished.
pub fn crawl(config: &Config) -> Report {
    let event_loop = EventLoop::new().expect("cannot create the event loop (epoll)");
    event_loop.set_trace(config.trace);
    let shared =
        Rc::new(Shared { frontier: RefCell::new(Frontier::new(config)), changed: RefCell::new(Vec::new()) });
    let config = Rc::new(config.clone());
    let workers: Vec<Task<()>> = (0..config.max_tasks)
        .map(|_| {
            let worker = Worker {
                shared: Rc::clone(&shared),
                config: Rc::clone(&config),
                state: WorkerState::Looking,
            };
            Task::spawn_traced(&event_loop, worker, config.trace)
        })
        .collect();
    // ANCHOR: interrupt
    // Ctrl-C: stop the loop from the watcher thread, as stage 3 does.
    let remote = event_loop.remote().downgrade();
    let _hook = interrupt::on_interrupt(move || {
        let _ = remote.call_soon_threadsafe(EventLoop::stop);
    });
    event_loop.run().expect("the event loop failed");
    if interrupt::requested() {
        // Stopped, with workers waiting mid-fetch. Dropping the loop would not free them: a task
        // and the future it waits on hold each other. So, as asyncio's shutdown does, cancel
        // every task and run the loop until the cancellations have played out (each fetch closes
        // its socket and returns).
        for worker in &workers {
            worker.cancel();
        }
        event_loop.run().expect("the event loop failed");
    }
    // ANCHOR_END: interrupt
    drop(workers);
    let shared = Rc::into_inner(shared).expect("every worker has returned");
    shared.frontier.into_inner().into_report()
}

/// What the workers share.
struct Shared {
    /// The crawl state.
    frontier: RefCell<Frontier>,
    /// Futures of idle workers, completed when a fetch finishes (new links, or the end).
    changed: RefCell<Vec<Future<()>>>,
}

// ANCHOR: worker
/// One worker: a coroutine that fetches URLs until the frontier is done.
struct Worker {
    /// The frontier and the idle list.
    shared: Rc<Shared>,
    /// For `fetch`.
    config: Rc<Config>,
    /// Where it has got to.
    state: WorkerState,
}

/// ```python
/// def work():
///     while True:
///         job = frontier.pop()
///         if job is None:
///             if frontier.is_done(): return
///             yield changed()                           # Idle
///             continue
///         fetched = yield from fetch(job.url)           # Fetching
///         frontier.complete(job, fetched); changed.notify_all()
/// ```
enum WorkerState {
    /// About to look for a job.
    Looking,
    /// Nothing to do until another worker finishes a fetch.
    Idle,
    /// Delegating to a fetch (`yield from`). Boxed: a fetch is large and the other states are
    /// empty, and an enum is as big as its biggest variant.
    Fetching { job: Job, fetch: Box<Fetch> },
}

impl Coroutine for Worker {
    type Output = ();

    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<()> {
        loop {
            match &mut self.state {
                WorkerState::Looking | WorkerState::Idle => {
                    if how == Resume::Cancel {
                        return Step::Done(());
                    }
                    let mut frontier = self.shared.frontier.borrow_mut();
                    if let Some(job) = frontier.pop() {
                        let fetch = Box::new(fetch(job.url.clone(), Rc::clone(&self.config)));
                        self.state = WorkerState::Fetching { job, fetch };
                        drop(frontier);
                        // Start the fetch right away (as `yield from` does).
                        return self.resume(lp, Resume::Start);
                    }
                    if frontier.is_done() {
                        return Step::Done(());
                    }
                    let changed = Future::new(lp, "frontier changed");
                    self.shared.changed.borrow_mut().push(changed.clone());
                    self.state = WorkerState::Idle;
                    return Step::Wait(Box::new(changed));
                }
                WorkerState::Fetching { fetch, .. } => {
                    let fetched = yield_from!(**fetch, lp, how);
                    let WorkerState::Fetching { job, .. } =
                        std::mem::replace(&mut self.state, WorkerState::Looking)
                    else {
                        unreachable!("in the Fetching state")
                    };
                    if how == Resume::Cancel {
                        // Cut short (Ctrl-C): the result is not what the site said, so it is not
                        // recorded; the job stays in flight and the report counts it unfinished.
                        return Step::Done(());
                    }
                    self.shared.frontier.borrow_mut().complete(job, fetched);
                    for idle in self.shared.changed.borrow_mut().drain(..) {
                        let _ = idle.set_result(());
                    }
                }
            }
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            WorkerState::Looking => "worker:looking",
            WorkerState::Idle => "worker:idle",
            WorkerState::Fetching { .. } => "worker:fetching",
        }
    }
}
// ANCHOR_END: worker
