//! Stage 4's `Future` and `Task` against the rules chapter 4 of the book gives them: a future
//! completes once, and its done callbacks run once each, in order, on a later turn of the loop
//! (never inside `set_result`); a task steps its coroutine through every wait; delegation three
//! levels deep passes values and errors both ways; and a task is itself a future others wait on.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use stage3_callbacks::event_loop::EventLoop;
use stage4_generators::coroutine::{Coroutine, Resume, Step};
use stage4_generators::future::{AlreadyDone, Future, sleep};
use stage4_generators::task::{Cancelled, Task};
use stage4_generators::yield_from;

type Log = Rc<RefCell<Vec<String>>>;

/// What the three levels pass around: a value or an error.
type Value = Result<i32, String>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn done_callbacks_run_once_each_in_order_after_completion() {
    let lp = EventLoop::new().unwrap();
    let future: Future<u32> = Future::new(&lp, "answer");
    let seen = log();
    for name in ["first", "second"] {
        let seen = Rc::clone(&seen);
        future.add_done_callback(move |_, f| seen.borrow_mut().push(format!("{name} {:?}", f.result())));
    }
    assert!(seen.borrow().is_empty());
    future.set_result(42).unwrap();
    assert!(seen.borrow().is_empty(), "callbacks run on a later turn, never inside set_result");
    // Added after completion: still runs, after the others.
    let late = Rc::clone(&seen);
    future.add_done_callback(move |_, f| late.borrow_mut().push(format!("late {:?}", f.result())));
    assert_eq!(future.set_result(7), Err(AlreadyDone(7)), "a second result is refused");
    lp.run().unwrap();
    assert_eq!(*seen.borrow(), ["first Some(42)", "second Some(42)", "late Some(42)"]);
    assert_eq!(future.take_result(), Some(42));
    assert_eq!(future.take_result(), None, "taken once");
}

/// Waits `rounds` times on a short sleep, counting; returns the count.
struct Counter {
    rounds: u32,
    done: u32,
}

impl Coroutine for Counter {
    type Output = u32;
    fn resume(&mut self, lp: &EventLoop, _how: Resume) -> Step<u32> {
        if self.done == self.rounds {
            return Step::Done(self.done);
        }
        self.done += 1;
        Step::Wait(Box::new(sleep(lp, Duration::from_millis(1))))
    }
}

#[test]
fn a_task_steps_its_coroutine_through_many_waits() {
    let lp = EventLoop::new().unwrap();
    let task = Task::spawn(&lp, Counter { rounds: 200, done: 0 });
    let second = Task::spawn(&lp, Counter { rounds: 3, done: 0 });
    lp.run().unwrap();
    assert_eq!(task.future().take_result(), Some(Ok(200)));
    assert_eq!(second.future().take_result(), Some(Ok(3)));
}

/// The innermost level: waits for a value, doubles it (or passes an error up).
struct Inner {
    input: Future<Result<i32, String>>,
    log: Log,
    waiting: bool,
}

impl Coroutine for Inner {
    type Output = Result<i32, String>;
    fn resume(&mut self, _lp: &EventLoop, how: Resume) -> Step<Self::Output> {
        match how {
            Resume::Cancel => {
                self.log.borrow_mut().push("inner cancelled".into());
                Step::Done(Err("cancelled".into()))
            }
            Resume::Start => {
                self.waiting = true;
                Step::Wait(Box::new(self.input.clone()))
            }
            Resume::Ready => {
                let value = self.input.take_result().expect("resumed when done");
                self.log.borrow_mut().push(format!("inner got {value:?}"));
                Step::Done(value.map(|v| v * 2))
            }
        }
    }
}

/// A middle level: `yield from` the level below, add one.
struct Middle<C> {
    sub: C,
    name: &'static str,
    log: Log,
}

impl<C: Coroutine<Output = Result<i32, String>>> Coroutine for Middle<C> {
    type Output = Result<i32, String>;
    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Self::Output> {
        if how == Resume::Cancel {
            self.log.borrow_mut().push(format!("{} cancelled", self.name));
        }
        let below = yield_from!(self.sub, lp, how);
        self.log.borrow_mut().push(format!("{} got {below:?}", self.name));
        Step::Done(below.map(|v| v + 1))
    }
}

fn three_deep(lp: &EventLoop, log: &Log) -> (Future<Value>, Task<Value>) {
    let input = Future::new(lp, "input");
    let inner = Inner { input: input.clone(), log: Rc::clone(log), waiting: false };
    let middle = Middle { sub: inner, name: "middle", log: Rc::clone(log) };
    let outer = Middle { sub: middle, name: "outer", log: Rc::clone(log) };
    (input, Task::spawn(lp, outer))
}

#[test]
fn delegation_three_deep_passes_values_and_errors_both_ways() {
    // A value goes down to the innermost wait and its result comes back up through each level.
    let lp = EventLoop::new().unwrap();
    let log = log();
    let (input, task) = three_deep(&lp, &log);
    let feed = input.clone();
    lp.call_later(Duration::from_millis(5), move |_| feed.set_result(Ok(7)).unwrap());
    lp.run().unwrap();
    assert_eq!(task.future().take_result(), Some(Ok(Ok(16))), "(7 * 2) + 1 + 1");
    assert_eq!(*log.borrow(), ["inner got Ok(7)", "middle got Ok(14)", "outer got Ok(15)"]);

    // An error comes up the same way, untouched by the levels that only add.
    let log = self::log();
    let (input, task) = three_deep(&lp, &log);
    input.set_result(Err("boom".into())).unwrap();
    lp.run().unwrap();
    assert_eq!(task.future().take_result(), Some(Ok(Err("boom".into()))));
    assert_eq!(log.borrow().len(), 3);

    // Cancellation goes down: every level hears it, innermost last, and the task is cancelled.
    let log = self::log();
    let (_input, task) = three_deep(&lp, &log);
    let cancel = task.clone();
    lp.call_later(Duration::from_millis(5), move |_| assert!(cancel.cancel()));
    lp.run().unwrap();
    assert_eq!(task.future().take_result(), Some(Err(Cancelled)));
    assert_eq!(log.borrow()[..3], ["outer cancelled", "middle cancelled", "inner cancelled"]);
    assert!(!task.cancel(), "a finished task cannot be cancelled");
}

#[test]
fn a_task_is_a_future_others_wait_on() {
    /// Waits for another task and returns its result plus one.
    struct Awaiter {
        other: Task<u32>,
        started: bool,
    }
    impl Coroutine for Awaiter {
        type Output = u32;
        fn resume(&mut self, _: &EventLoop, _: Resume) -> Step<u32> {
            if !std::mem::replace(&mut self.started, true) {
                return Step::Wait(Box::new(self.other.clone()));
            }
            Step::Done(self.other.future().result().unwrap().unwrap() + 1)
        }
    }
    let lp = EventLoop::new().unwrap();
    let other = Task::spawn(&lp, Counter { rounds: 5, done: 0 });
    let started = Instant::now();
    let awaiter = Task::spawn(&lp, Awaiter { other, started: false });
    lp.run().unwrap();
    assert_eq!(awaiter.future().take_result(), Some(Ok(6)));
    assert!(started.elapsed() >= Duration::from_millis(5));
}
