//! Three levels of `yield from`: a value travels down to the innermost wait and back up, then an
//! error does the same.
//!
//! ```text
//! cargo run -p stage4-generators --example yield_from
//! ```
//!
//! `outer` delegates to `middle`, which delegates to `inner`, which waits on a future. While
//! `inner` waits, all three are suspended; the task only ever talks to `outer`, and `yield_from!`
//! passes each resume down and each wait up. When the future is done, `inner` reads its value
//! and returns, `middle` continues with `inner`'s result, and so does `outer`.

use std::time::Duration;

use stage3_callbacks::event_loop::EventLoop;
use stage4_generators::coroutine::{Coroutine, Resume, Step};
use stage4_generators::future::Future;
use stage4_generators::task::Task;
use stage4_generators::yield_from;

/// ```python
/// def inner(future):
///     value = yield future           # the only real wait
///     print(f"    inner got {value}")
///     return value * 2               # or raises ValueError
/// ```
struct Inner {
    future: Future<Result<i64, String>>,
    started: bool,
}

impl Coroutine for Inner {
    type Output = Result<i64, String>;
    fn resume(&mut self, _: &EventLoop, _: Resume) -> Step<Self::Output> {
        if !std::mem::replace(&mut self.started, true) {
            println!("    inner waits on the future");
            return Step::Wait(Box::new(self.future.clone()));
        }
        let value = self.future.take_result().expect("resumed once the future is done");
        println!("    inner got {value:?}");
        Step::Done(value.map(|v| v * 2))
    }
}

// ANCHOR: middle
/// ```python
/// def middle(future):
///     result = yield from inner(future)
///     print(f"  middle got {result}")
///     return result + 1              # an error passes through untouched
/// ```
struct Middle {
    inner: Inner,
}

impl Coroutine for Middle {
    type Output = Result<i64, String>;
    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Self::Output> {
        let result = yield_from!(self.inner, lp, how);
        println!("  middle got {result:?}");
        Step::Done(result.map(|v| v + 1))
    }
}
// ANCHOR_END: middle

/// ```python
/// def outer(future):
///     result = yield from middle(future)
///     print(f"outer got {result}")
///     return result
/// ```
struct Outer {
    middle: Middle,
}

impl Coroutine for Outer {
    type Output = Result<i64, String>;
    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Self::Output> {
        let result = yield_from!(self.middle, lp, how);
        println!("outer got {result:?}");
        Step::Done(result)
    }
}

fn run(
    lp: &EventLoop,
    value: Result<i64, String>,
) -> Option<Result<Result<i64, String>, stage4_generators::task::Cancelled>> {
    println!("-- the future will hold {value:?}");
    let future = Future::new(lp, "the value");
    let task =
        Task::spawn(lp, Outer { middle: Middle { inner: Inner { future: future.clone(), started: false } } });
    lp.call_later(Duration::from_millis(10), move |_| {
        future.set_result(value).expect("set once");
    });
    lp.run().expect("the loop runs");
    task.future().take_result()
}

fn main() {
    crawl::demo::no_flags();
    let lp = EventLoop::new().expect("an event loop");
    println!("task result: {:?}", run(&lp, Ok(20)));
    println!("task result: {:?}", run(&lp, Err("no value".into())));
}
