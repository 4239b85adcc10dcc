//! What one waiting thing costs in memory: a pending task (stage 4, stage 5, tokio, smol) against
//! a parked OS thread.
//!
//! Each figure is the growth of the process's resident memory while many of them wait, divided
//! by how many: what they really take, allocator and page overheads included. A thread's stack
//! is reserved at 2 MiB but only the pages it touches become resident, so a parked thread costs
//! its touched stack pages plus the kernel's and the allocator's bookkeeping; a task costs its
//! state machine and the runtime's record of it. Each kind is measured in a child process.

use std::sync::{Arc, Barrier};
use std::thread;

use serde::{Deserialize, Serialize};

use super::{resident_bytes, run_child};

/// Tasks per measurement: many, so one allocator page more or less is noise.
const TASKS: usize = 100_000;
/// Threads per measurement: fewer, threads are what this shows to be dear.
const THREADS: usize = 2_000;

/// One row of `tour memory`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryCost {
    /// What waits: `stage4-task`, `stage5-task`, `tokio-task`, `smol-task` or `os-thread`.
    pub kind: String,
    /// How many waited at once.
    pub count: usize,
    /// Resident bytes per waiting one.
    pub bytes_each: f64,
}

/// The kinds measured, in table order, with how many of each.
const KINDS: [(&str, usize); 5] = [
    ("stage4-task", TASKS),
    ("stage5-task", TASKS),
    ("tokio-task", TASKS),
    ("smol-task", TASKS),
    ("os-thread", THREADS),
];

/// Measures every kind, each in a child process.
pub fn measure() -> Result<Vec<MemoryCost>, String> {
    KINDS
        .iter()
        .map(|&(kind, count)| {
            let printed = run_child(&["memory".into(), kind.into(), count.to_string()])?;
            let bytes_each =
                printed.trim().parse().map_err(|_| format!("{kind}: unexpected output {printed:?}"))?;
            Ok(MemoryCost { kind: kind.to_string(), count, bytes_each })
        })
        .collect()
}

/// The `tour memory` table.
pub fn render(rows: &[MemoryCost]) -> String {
    let mut out = format!("{:<14} {:>8} {:>12}\n", "waiting", "count", "bytes each");
    for row in rows {
        out += &format!("{:<14} {:>8} {:>12.0}\n", row.kind, row.count, row.bytes_each);
    }
    out
}

/// The child: `tour __lab memory KIND COUNT` prints the bytes per waiting one.
pub fn child(args: &[String]) -> Result<(), String> {
    let [kind, count] = args else { return Err("usage: memory KIND COUNT".into()) };
    let count: usize = count.parse().map_err(|_| format!("not a count: {count}"))?;
    let grown = match kind.as_str() {
        "stage4-task" => stage4_tasks(count),
        "stage5-task" => stage5_tasks(count),
        "tokio-task" => tokio_tasks(count),
        "smol-task" => smol_tasks(count),
        "os-thread" => parked_threads(count),
        other => return Err(format!("no kind named {other}")),
    };
    println!("{:.1}", grown as f64 / count as f64);
    Ok(())
}

/// Resident growth while `count` stage-5 tasks wait on futures that never complete.
fn stage5_tasks(count: usize) -> u64 {
    stage5_async_await::run(async move {
        let before = resident_bytes();
        for _ in 0..count {
            // The handle is dropped: the task runs on, detached, until `run` cancels it.
            drop(stage5_async_await::spawn(futures::future::pending::<()>()));
        }
        stage5_async_await::yield_now().await; // every task has been polled once and is waiting
        resident_bytes().saturating_sub(before)
    })
}

/// Resident growth while `count` tokio tasks (current-thread runtime) wait forever.
fn tokio_tasks(count: usize) -> u64 {
    let runtime = crawl::or_exit(
        tokio::runtime::Builder::new_current_thread().build(),
        "cannot create a tokio runtime",
    );
    runtime.block_on(async move {
        let before = resident_bytes();
        for _ in 0..count {
            drop(tokio::spawn(futures::future::pending::<()>())); // detached, as above
        }
        tokio::task::yield_now().await;
        resident_bytes().saturating_sub(before) // dropping the runtime cancels the tasks
    })
}

/// Resident growth while `count` tasks of smol's single-threaded executor (`async-executor`'s
/// `LocalExecutor`) wait forever.
fn smol_tasks(count: usize) -> u64 {
    let executor = async_executor::LocalExecutor::new();
    let before = resident_bytes();
    for _ in 0..count {
        // Detached, as above (dropping a smol task's handle would cancel it).
        executor.spawn(futures::future::pending::<()>()).detach();
    }
    while executor.try_tick() {} // polls each task once; none is woken, so the queue empties
    resident_bytes().saturating_sub(before) // dropping the executor cancels the tasks
}

/// Resident growth while `count` stage-4 tasks wait on futures nobody completes.
fn stage4_tasks(count: usize) -> u64 {
    use stage3_callbacks::event_loop::EventLoop;
    use stage4_generators::coroutine::{Coroutine, Resume, Step};
    use stage4_generators::future::Future;
    use stage4_generators::task::Task;

    /// Waits once, on a future of its own that is never done.
    struct WaitForever;
    impl Coroutine for WaitForever {
        type Output = ();
        fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<()> {
            match how {
                Resume::Start => Step::Wait(Box::new(Future::<()>::new(lp, "never"))),
                Resume::Ready | Resume::Cancel => Step::Done(()),
            }
        }
    }

    let lp = crawl::or_exit(EventLoop::new(), "cannot create an event loop");
    let before = resident_bytes();
    let tasks: Vec<Task<()>> = (0..count).map(|_| Task::spawn(&lp, WaitForever)).collect();
    let grown = std::rc::Rc::new(std::cell::Cell::new(0));
    let measured = std::rc::Rc::clone(&grown);
    // Scheduled after every task's first step: by then each is waiting.
    lp.call_soon(move |lp| {
        measured.set(resident_bytes().saturating_sub(before));
        lp.stop();
    });
    lp.run().expect("the loop runs");
    tasks.iter().for_each(|task| {
        task.cancel();
    });
    grown.get()
}

/// Resident growth while `count` threads are parked on a barrier.
fn parked_threads(count: usize) -> u64 {
    let started = Arc::new(Barrier::new(count + 1));
    let release = Arc::new(Barrier::new(count + 1));
    let before = resident_bytes();
    let threads: Vec<_> = (0..count)
        .map(|_| {
            let (started, release) = (Arc::clone(&started), Arc::clone(&release));
            thread::spawn(move || {
                started.wait();
                release.wait();
            })
        })
        .collect();
    started.wait(); // every thread is running and about to park
    let grown = resident_bytes().saturating_sub(before);
    release.wait();
    threads.into_iter().for_each(|t| t.join().expect("a parked thread does not panic"));
    grown
}
