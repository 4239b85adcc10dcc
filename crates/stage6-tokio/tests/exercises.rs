//! The answers to chapter 6's exercises, each held to what the answer says.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser as _;
use crawl::config::{Cli, Config, NoStageArgs};
use stage6_tokio::run;
use stage6_tokio::runtime::spawn_local;

/// Whether a value's type is `Send`, asked without requiring it: an inherent method whose bound
/// does not hold is passed over, and the trait's method, which says no, is found instead.
struct Probe<T>(PhantomData<T>);

trait NotSend {
    fn is_send(&self) -> bool {
        false
    }
}

impl<T> NotSend for Probe<T> {}

impl<T: Send> Probe<T> {
    fn is_send(&self) -> bool {
        true
    }
}

fn probe<T>(_: &T) -> Probe<T> {
    Probe(PhantomData)
}

// ANCHOR: futures
/// A worker of the current-thread crawler in miniature: an `Rc<RefCell<_>>` across an `.await`.
async fn rc_across_await(frontier: Rc<RefCell<u32>>) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    *frontier.borrow_mut() += 1;
}

/// The multi-thread crawler's: an `Arc<Mutex<_>>`, locked between awaits.
async fn arc_locked_between_awaits(frontier: Arc<Mutex<u32>>) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    *frontier.lock().unwrap() += 1;
}

/// The same, with the lock held across the `.await` (the mistake clippy's lint is for).
#[allow(clippy::await_holding_lock)]
async fn guard_across_await(frontier: Arc<Mutex<u32>>) {
    let mut count = frontier.lock().unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    *count += 1;
}
// ANCHOR_END: futures

#[test]
fn tokio_spawn_takes_the_fetch_and_neither_an_rc_nor_a_lock_guard_held_across_an_await() {
    let cli = Cli::<NoStageArgs>::parse_from(["stage6-tokio", "http://127.0.0.1:1/"]);
    let config = Config::from_args(&cli.crawl).unwrap();
    let url = config.roots[0].clone();
    assert!(probe(&stage6_tokio::fetch::fetch(&url, &config)).is_send(), "fetch");
    assert!(!probe(&rc_across_await(Rc::default())).is_send(), "an Rc across an await");
    assert!(probe(&arc_locked_between_awaits(Arc::default())).is_send(), "locked between awaits");
    assert!(!probe(&guard_across_await(Arc::default())).is_send(), "a MutexGuard across an await");
}

// ANCHOR: budget
const MESSAGES: usize = 1000;

/// A task drains `MESSAGES` values that are all ready, through tokio's channel or through
/// futures that are always ready; another task spawned after it notes how many the first had
/// taken when it first ran.
fn drained_when_the_other_task_ran(through_tokio: bool) -> usize {
    run(async move {
        let drained = Rc::new(Cell::new(0));
        let seen = Rc::new(Cell::new(None));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for n in 0..MESSAGES {
            tx.send(n).unwrap();
        }
        drop(tx);
        let counter = Rc::clone(&drained);
        let drainer = spawn_local(async move {
            if through_tokio {
                while rx.recv().await.is_some() {
                    counter.set(counter.get() + 1);
                }
            } else {
                for _ in 0..MESSAGES {
                    std::future::ready(()).await;
                    counter.set(counter.get() + 1);
                }
            }
        });
        let (at, note) = (Rc::clone(&drained), Rc::clone(&seen));
        let other = spawn_local(async move { note.set(Some(at.get())) });
        drainer.await.unwrap();
        other.await.unwrap();
        seen.get().unwrap()
    })
}
// ANCHOR_END: budget

#[test]
fn tokios_budget_makes_a_task_that_is_always_ready_give_the_thread_back() {
    let through_tokio = drained_when_the_other_task_ran(true);
    // tokio 1.x gives a task 128 operations a poll; the book says so, and a tokio that changed it
    // would fail here.
    assert_eq!(through_tokio, 128, "the budget ran out after {through_tokio} receives");
    assert_eq!(drained_when_the_other_task_ran(false), MESSAGES, "a plain ready future spends no budget");
}
