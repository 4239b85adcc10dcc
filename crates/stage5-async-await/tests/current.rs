//! How `spawn`, `sleep` and the sockets find the loop: through the thread's current executor,
//! which `run` sets and clears. Outside a `run` there is none, and they panic, as tokio's do
//! outside a runtime.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use stage5_async_await::net::TcpListener;
use stage5_async_await::time::sleep;
use stage5_async_await::{run, spawn};

// ANCHOR: outside_run
#[test]
#[should_panic(expected = "this must be called inside stage5_async_await::run")]
fn spawn_outside_run_panics() {
    spawn(async {});
}

#[test]
#[should_panic(expected = "this must be called inside stage5_async_await::run")]
fn a_socket_outside_run_panics() {
    let _ = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)));
}

#[test]
fn a_sleep_is_made_anywhere_and_looks_for_the_loop_when_first_polled() {
    // Made outside `run`, polled inside: fine, the timer is asked for on the first poll.
    run(sleep(Duration::from_millis(1)));
    // Polled by an executor that is not `run` (the `futures` crate's): there is no loop to ask.
    let nap = sleep(Duration::from_millis(1));
    let polled = catch_unwind(AssertUnwindSafe(|| futures::executor::block_on(nap)));
    let message = polled.expect_err("no loop to ask for a timer");
    let message = message.downcast_ref::<String>().map(String::as_str);
    assert_eq!(message, Some("this must be called inside stage5_async_await::run"));
}
// ANCHOR_END: outside_run

#[test]
fn run_leaves_no_executor_behind() {
    run(async { spawn(async {}).await.expect("a task inside run") });
    let after = catch_unwind(|| drop(spawn(async {})));
    assert!(after.is_err(), "the executor is cleared when run returns");
}
