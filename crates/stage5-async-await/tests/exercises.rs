//! The answers to chapter 5's exercises, each built as the exercise's changed code and held to
//! what the answer says it does.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use stage5_async_await::time::{Sleep, sleep};
use stage5_async_await::{JoinError, gather, run, spawn, yield_now};

const UNIT: Duration = Duration::from_millis(5);

/// `crawl_page` of the example, writing to `log` instead of stdout.
async fn crawl_page(n: u32, log: Log) {
    log.borrow_mut().push(format!("crawling url_{n}"));
    sleep(UNIT * n).await;
    log.borrow_mut().push(format!("OK url_{n}"));
}

/// What the lines are written to.
type Log = Rc<RefCell<Vec<String>>>;

/// The example's `as_tasks`, as it is.
async fn collected(log: Log) {
    let tasks: Vec<_> = (1..=4).map(|n| spawn(crawl_page(n, Rc::clone(&log)))).collect();
    for task in tasks {
        task.await.unwrap();
    }
}

// ANCHOR: lazy
/// The exercise's change: no `collect`, so each task is spawned only when the loop asks for it.
async fn lazy(log: Log) {
    for task in (1..=4).map(|n| spawn(crawl_page(n, Rc::clone(&log)))) {
        task.await.unwrap();
    }
}
// ANCHOR_END: lazy

/// The lines `as_tasks` writes, with or without its `collect`, and how long it took.
fn as_tasks(collect: bool) -> (Vec<String>, Duration) {
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    let shared = Rc::clone(&log);
    let started = Instant::now();
    run(async move { if collect { collected(shared).await } else { lazy(shared).await } });
    (Rc::try_unwrap(log).unwrap().into_inner(), started.elapsed())
}

#[test]
fn without_collect_each_task_is_spawned_after_the_one_before_it_finished() {
    let lines = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        as_tasks(true).0,
        lines(&[
            "crawling url_1",
            "crawling url_2",
            "crawling url_3",
            "crawling url_4",
            "OK url_1",
            "OK url_2",
            "OK url_3",
            "OK url_4"
        ])
    );
    let (lines_lazy, took) = as_tasks(false);
    assert_eq!(
        lines_lazy,
        lines(&[
            "crawling url_1",
            "OK url_1",
            "crawling url_2",
            "OK url_2",
            "crawling url_3",
            "OK url_3",
            "crawling url_4",
            "OK url_4"
        ])
    );
    // The waits, one after another: a sleep is never early, so this cannot flake.
    assert!(took >= UNIT * 10, "took {took:?}");
}

// ANCHOR: forgetful
/// `Sleep` as the exercise breaks it: the real sleep is polled with a waker that does nothing,
/// which is what a `poll` that does not store the task's waker amounts to.
struct Forgetful(Pin<Box<Sleep>>);

impl Future for Forgetful {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let mut noop = Context::from_waker(Waker::noop());
        self.0.as_mut().poll(&mut noop)
    }
}
// ANCHOR_END: forgetful

#[test]
fn a_sleep_that_keeps_no_waker_is_never_polled_again_and_the_loop_sleeps_for_ever() {
    // The sound sleep finishes.
    run(sleep(UNIT));
    // The broken one, on a thread of its own: it is never going to return.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("forgetful".into())
        .spawn(move || {
            run(Forgetful(Box::pin(sleep(UNIT))));
            let _ = done.send(());
        })
        .unwrap();
    // Long after the timer fired, the run has not returned...
    assert!(finished.recv_timeout(UNIT * 40).is_err(), "the broken sleep returned");
    // ...and its thread is asleep (in `epoll_wait`), not spinning.
    assert_eq!(thread_state("forgetful"), Some('S'));
}

/// The state letter (`R` running, `S` asleep, ...) of this process's thread named `name`.
fn thread_state(name: &str) -> Option<char> {
    std::fs::read_dir("/proc/self/task").ok()?.flatten().find_map(|task| {
        let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
        if comm.trim_end() != name {
            return None;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // `pid (comm) S ...`: the state follows the name's closing parenthesis.
        stat.rsplit_once(") ")?.1.chars().next()
    })
}

// ANCHOR: borrow_across_await
/// The first task: adds one to `count`, holding its borrow across a sleep.
#[allow(clippy::await_holding_refcell_ref)] // the mistake the lint is for
async fn add_across_a_sleep(count: Rc<RefCell<u32>>) {
    let mut held = count.borrow_mut();
    sleep(UNIT).await;
    *held += 1;
}

/// The second task: yields once, then adds one.
async fn add_after_a_yield(count: Rc<RefCell<u32>>) {
    yield_now().await;
    *count.borrow_mut() += 1;
}
// ANCHOR_END: borrow_across_await

/// The first task as the exercise's second question changes it: it borrows after the sleep.
async fn add_after_a_sleep(count: Rc<RefCell<u32>>) {
    sleep(UNIT).await;
    *count.borrow_mut() += 1;
}

/// What `gather` hands back for the two tasks, and the count at the end.
fn two_updates(across_await: bool) -> (Vec<Result<(), JoinError>>, u32) {
    run(async move {
        let count = Rc::new(RefCell::new(0));
        let first = if across_await {
            spawn(add_across_a_sleep(Rc::clone(&count)))
        } else {
            spawn(add_after_a_sleep(Rc::clone(&count)))
        };
        let second = spawn(add_after_a_yield(Rc::clone(&count)));
        let results = gather(vec![first, second]).await;
        let total = *count.borrow();
        (results, total)
    })
}

#[test]
fn a_borrow_held_across_an_await_is_held_across_the_other_tasks() {
    let (results, total) = two_updates(false);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(total, 2);

    let (results, total) = two_updates(true);
    assert!(results[0].is_ok(), "{results:?}");
    match &results[1] {
        Err(JoinError::Panicked(message)) => assert!(message.contains("already"), "{message}"),
        other => panic!("the second task should panic on the held borrow: {other:?}"),
    }
    assert_eq!(total, 1, "only the first task's update is made");
}
