//! `spawn_blocking`: values and panics come back, the loop runs on meanwhile, no thread of an
//! awaited call outlives `run`, and `run` does not wait for an aborted one. One test in its own binary, so that counting the process's threads is not disturbed by
//! other tests running at the same time.

use std::time::{Duration, Instant};

use stage5_async_await::executor::pool_threads_alive;
use stage5_async_await::time::sleep;
use stage5_async_await::{JoinError, gather, run, spawn, spawn_blocking, yield_now};

/// Names of this process's threads that belong to a blocking pool.
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("Linux /proc")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("blocking-pool"))
        .count()
}

#[test]
fn spawn_blocking_runs_off_the_loop_and_joins_its_threads() {
    assert_eq!(pool_threads(), 0);

    // A value and a panic come back through the handle.
    let (value, panicked) = run(async {
        let value = spawn_blocking(|| 6 * 7).await;
        let panicked = spawn_blocking(|| -> u32 { panic!("blocking boom") }).await;
        (value, panicked)
    });
    assert_eq!(value, Ok(42));
    assert_eq!(panicked, Err(JoinError::Panicked("blocking boom".into())));

    // While a call blocks its pool thread for 300 ms, a task on the loop keeps running: the
    // loop is not blocked, and the pool thread's wake interrupts its wait.
    let (ticks, took) = run(async {
        let started = Instant::now();
        let blocking = spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)));
        let ticker = spawn(async {
            let mut ticks = 0;
            for _ in 0..5 {
                sleep(Duration::from_millis(20)).await;
                ticks += 1;
            }
            ticks
        });
        blocking.await.unwrap();
        (ticker.await.unwrap(), started.elapsed())
    });
    assert_eq!(ticks, 5);
    assert!(took >= Duration::from_millis(300), "{took:?}");

    // More calls than threads: every one completes, and the pool stays small.
    let most_threads = run(async {
        let handles = (0..40u64)
            .map(|i| {
                spawn_blocking(move || {
                    std::thread::sleep(Duration::from_millis(5));
                    i
                })
            })
            .collect();
        let most = spawn(async {
            let mut most = 0;
            for _ in 0..20 {
                most = most.max(pool_threads());
                yield_now().await;
            }
            most
        });
        let results: Vec<u64> = gather(handles).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(results, (0..40).collect::<Vec<_>>());
        most.await.unwrap()
    });
    assert!((1..=32).contains(&most_threads), "{most_threads}");

    // Counted by the pool, not in /proc: a joined thread may still be listed there for a moment
    // (that made this flaky under load). A thread left in a call would be counted here; a pool
    // that detached its idle threads rather than joining them might slip by, since they exit
    // at once.
    assert_eq!(pool_threads_alive(), 0, "run joins its pool's threads once their calls are awaited");

    // An aborted wait does not stop the call, and `run` does not wait for it: the thread is left
    // to end the call (a hung lookup must not hang the program) and exits when it returns.
    let started = std::time::Instant::now();
    run(async {
        let handle = spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)));
        yield_now().await;
        handle.abort();
        assert_eq!(handle.await, Err(JoinError::Cancelled));
    });
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "run waited {:?} for an aborted call",
        started.elapsed()
    );
    let gone_by = std::time::Instant::now() + Duration::from_secs(10);
    while pool_threads() > 0 && std::time::Instant::now() < gone_by {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(pool_threads(), 0, "a thread left in an aborted call exits when the call returns");
}
