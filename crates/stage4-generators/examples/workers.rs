//! The notes' worker_1 / worker_2 program, twice, with hand-written coroutines.
//!
//! ```text
//! cargo run -p stage4-generators --example generator_workers
//! cargo run -p stage4-generators --example generator_workers -- --unit-ms 1000
//! ```
//!
//! First `main` delegates to each worker in turn (`yield from worker_1()`, then worker_2): the
//! waits happen one after the other, about 3 units. Then `main` wraps both workers in tasks
//! first and waits on the tasks: both waits overlap, about 2 units. Same lines as the asyncio notes' program.

use std::time::{Duration, Instant};

use stage3_callbacks::event_loop::EventLoop;
use stage4_generators::coroutine::{Coroutine, Resume, Step};
use stage4_generators::future::sleep;
use stage4_generators::task::Task;
use stage4_generators::yield_from;

/// ```python
/// def worker(n, units):
///     print(f"worker_{n} start")
///     yield from sleep(units)          # Sleeping
///     print(f"worker_{n} done")
/// ```
struct Worker {
    n: u32,
    delay: Duration,
    sleeping: bool,
}

impl Coroutine for Worker {
    type Output = ();
    fn resume(&mut self, lp: &EventLoop, _: Resume) -> Step<()> {
        if !self.sleeping {
            println!("worker_{} start", self.n);
            self.sleeping = true;
            return Step::Wait(Box::new(sleep(lp, self.delay)));
        }
        println!("worker_{} done", self.n);
        Step::Done(())
    }
}

fn worker(n: u32, units: u32, unit: Duration) -> Worker {
    Worker { n, delay: unit * units, sleeping: false }
}

/// ```python
/// def main():
///     print("before await")
///     yield from worker_1()            # AwaitingFirst
///     print("awaited worker_1")
///     yield from worker_2()            # AwaitingSecond
///     print("awaited worker_2")
/// ```
enum OneAfterAnother {
    Start { unit: Duration },
    AwaitingFirst { first: Worker, unit: Duration },
    AwaitingSecond { second: Worker },
}

impl Coroutine for OneAfterAnother {
    type Output = ();
    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<()> {
        match self {
            OneAfterAnother::Start { unit } => {
                println!("before await");
                let unit = *unit;
                *self = OneAfterAnother::AwaitingFirst { first: worker(1, 1, unit), unit };
                self.resume(lp, Resume::Start) // `yield from` starts the sub-coroutine at once
            }
            OneAfterAnother::AwaitingFirst { first, unit } => {
                yield_from!(*first, lp, how);
                println!("awaited worker_1");
                *self = OneAfterAnother::AwaitingSecond { second: worker(2, 2, *unit) };
                self.resume(lp, Resume::Start)
            }
            OneAfterAnother::AwaitingSecond { second } => {
                yield_from!(*second, lp, how);
                println!("awaited worker_2");
                Step::Done(())
            }
        }
    }
}

// ANCHOR: as_tasks
/// ```python
/// def main():
///     task1 = create_task(worker_1())
///     task2 = create_task(worker_2())
///     print("before await")
///     yield task1                      # AwaitingFirst
///     print("awaited worker_1")
///     yield task2                      # AwaitingSecond
///     print("awaited worker_2")
/// ```
enum AsTasks {
    Start { unit: Duration },
    AwaitingFirst { second: Task<()> },
    AwaitingSecond,
}

impl Coroutine for AsTasks {
    type Output = ();
    fn resume(&mut self, lp: &EventLoop, _: Resume) -> Step<()> {
        match std::mem::replace(self, AsTasks::AwaitingSecond) {
            AsTasks::Start { unit } => {
                let first = Task::spawn(lp, worker(1, 1, unit));
                let second = Task::spawn(lp, worker(2, 2, unit));
                println!("before await");
                *self = AsTasks::AwaitingFirst { second };
                Step::Wait(Box::new(first))
            }
            AsTasks::AwaitingFirst { second } => {
                println!("awaited worker_1");
                Step::Wait(Box::new(second))
            }
            AsTasks::AwaitingSecond => {
                println!("awaited worker_2");
                Step::Done(())
            }
        }
    }
}
// ANCHOR_END: as_tasks

fn run(title: &str, unit: Duration, main: impl Coroutine<Output = ()> + 'static) -> std::io::Result<()> {
    println!("-- {title}");
    let lp = EventLoop::new()?;
    let started = Instant::now();
    Task::spawn(&lp, main);
    lp.run()?;
    println!("took {:.1} units", started.elapsed().as_secs_f64() / unit.as_secs_f64());
    Ok(())
}

fn main() -> std::io::Result<()> {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    run("yield from, one after another", unit, OneAfterAnother::Start { unit })?;
    run("as tasks", unit, AsTasks::Start { unit })
}
