//! A coroutine, written by hand: a state machine that can stop at a wait and be resumed.
//!
//! Python's generator-based coroutines are functions the interpreter can suspend at each `yield`
//! and resume with `send(value)` (or `throw(exception)`); when they `return`, `StopIteration`
//! carries the value out. Rust has no stable generators, so here the suspension is written out:
//! each place a coroutine can stop is a variant of its state enum, holding exactly the variables
//! that are live there, and [`Coroutine::resume`] is a `match` on that state. This is, almost
//! line for line, what the compiler writes for an `async fn` in stage 5.
//!
//! | Python | here |
//! |---|---|
//! | `gen.send(None)` (start) | `resume(lp, Resume::Start)` |
//! | `gen.send(value)` after `yield future` | `resume(lp, Resume::Ready)`; the value is read from the future the state holds |
//! | `gen.throw(CancelledError)` | `resume(lp, Resume::Cancel)` |
//! | `yield future` | `return Step::Wait(Box::new(future))` |
//! | `return value` / `StopIteration(value)` | `return Step::Done(value)` |
//! | `x = yield from sub()` | `let x = yield_from!(sub, lp, how);` |

use stage3_callbacks::event_loop::EventLoop;

use crate::future::Future;

// ANCHOR: coroutine
/// How a coroutine is being resumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// The first resume: run up to the first wait.
    Start,
    /// The future it waits on is done: read its result and go on.
    Ready,
    /// It is being cancelled at its current wait: release what it holds and return at once.
    /// Whatever it returns or yields after this is ignored.
    Cancel,
}

/// What a coroutine did when resumed.
pub enum Step<T> {
    /// It stopped at a wait: resume it when this is done.
    Wait(Box<dyn Waitable>),
    /// It finished with this output.
    Done(T),
}

impl<T: std::fmt::Debug> std::fmt::Debug for Step<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Wait(waitable) => write!(f, "Wait({})", waitable.describe()),
            Step::Done(output) => f.debug_tuple("Done").field(output).finish(),
        }
    }
}

/// A resumable computation.
pub trait Coroutine {
    /// What it returns.
    type Output;

    /// Runs from where it stopped to its next wait, or to its end.
    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Self::Output>;

    /// The name of the state it is in, for `--trace`.
    fn state_name(&self) -> &'static str {
        "-"
    }
}
// ANCHOR_END: coroutine

/// Something a coroutine can wait on. Every [`Future`] is one (and so is a task).
pub trait Waitable {
    /// Runs `callback` on the loop once this is done.
    fn when_done(&self, callback: Box<dyn FnOnce(&EventLoop)>);

    /// What it is, for `--trace`.
    fn describe(&self) -> String;
}

impl<T: 'static> Waitable for Future<T> {
    fn when_done(&self, callback: Box<dyn FnOnce(&EventLoop)>) {
        self.add_done_callback(move |lp, _| callback(lp));
    }

    fn describe(&self) -> String {
        self.name().to_string()
    }
}

// ANCHOR: yield_from
/// `yield from`: resumes a sub-coroutine the way this one was resumed. If it stops at a wait,
/// this one stops at the same wait (and must stay in the state that holds the sub-coroutine, so
/// the next resume comes back here); when it finishes, its output is the value of the expression.
/// Errors travel up as part of the output (a `Result`), cancellation travels down as
/// `Resume::Cancel`.
#[macro_export]
macro_rules! yield_from {
    ($sub:expr, $lp:expr, $how:expr) => {
        match $crate::coroutine::Coroutine::resume(&mut $sub, $lp, $how) {
            $crate::coroutine::Step::Wait(wait) => return $crate::coroutine::Step::Wait(wait),
            $crate::coroutine::Step::Done(output) => output,
        }
    };
}
// ANCHOR_END: yield_from
