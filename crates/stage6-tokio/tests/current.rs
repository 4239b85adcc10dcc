//! How tokio's `spawn`, `spawn_local` and `sleep` find the runtime: through the thread's runtime
//! context, which `block_on` (inside `run`) enters and leaves, and the current `LocalSet`. Stage
//! 5's `spawn` finds its executor the same way (`crates/stage5-async-await/tests/current.rs`).

use std::time::Duration;

use tokio::runtime::{Builder, Handle, RuntimeFlavor};
use tokio::task::spawn_local;
use tokio::time::sleep;

// ANCHOR: outside_runtime
const NO_RUNTIME: &str =
    "there is no reactor running, must be called from the context of a Tokio 1.x runtime";

#[test]
#[should_panic(
    expected = "there is no reactor running, must be called from the context of a Tokio 1.x runtime"
)]
fn tokio_spawn_outside_a_runtime_panics() {
    tokio::spawn(async {});
}

#[test]
#[should_panic(
    expected = "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"
)]
fn spawn_local_on_a_runtime_without_a_local_set_panics() {
    let runtime = Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        spawn_local(async {});
    });
}

#[test]
fn a_sleep_looks_for_the_runtime_when_it_is_made() {
    // Made inside `run`: fine.
    stage6_tokio::run(async { sleep(Duration::from_millis(1)).await });
    // Made outside, as an argument to `run`: it panics before `run` has entered the runtime.
    let made = std::panic::catch_unwind(|| stage6_tokio::run(sleep(Duration::from_millis(1))));
    let message = made.expect_err("no runtime to register a timer with");
    assert_eq!(message.downcast_ref::<String>().map(String::as_str), Some(NO_RUNTIME));
}

#[test]
fn inside_run_the_handle_is_current() {
    assert!(Handle::try_current().is_err(), "no runtime yet");
    stage6_tokio::run(async {
        assert_eq!(Handle::current().runtime_flavor(), RuntimeFlavor::CurrentThread);
        spawn_local(async {}).await.expect("a LocalSet is current too");
    });
    assert!(Handle::try_current().is_err(), "the context is left when run returns");
}
// ANCHOR_END: outside_runtime
