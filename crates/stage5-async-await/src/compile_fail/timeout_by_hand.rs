// Code that must not compile: the doc of `time.rs` runs it as a `compile_fail`
// doctest. It is not a module of the crate.
//
// ANCHOR: timeout_by_hand
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use stage5_async_await::time::{Elapsed, Sleep};

/// `Timeout` without `pin_project!`: `poll` reaches the two fields through `&mut`.
struct Timeout<F> {
    future: F,
    deadline: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut(); // error[E0277]: `F` cannot be unpinned
        if let Poll::Ready(output) = Pin::new(&mut this.future).poll(cx) {
            return Poll::Ready(Ok(output));
        }
        Pin::new(&mut this.deadline).poll(cx).map(|()| Err(Elapsed))
    }
}
// ANCHOR_END: timeout_by_hand
