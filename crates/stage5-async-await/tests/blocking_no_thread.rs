//! `spawn_blocking` when the OS will not start a single thread: the call fails at once, with the
//! OS's reason, instead of waiting forever for a pool thread that never comes.
//!
//! The OS is made to refuse every new thread by an absurd default stack size (`RUST_MIN_STACK`,
//! which std reads at its first spawn), so the test runs in a process of its own: this test binary
//! again, running this test alone (the harness then runs it on its main thread, since it cannot
//! start one either).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stage5_async_await::{JoinError, run, spawn_blocking};

/// Set in the child process: there the test does the work instead of starting a child.
const CHILD: &str = "STAGE5_NO_THREAD_CHILD";

#[test]
fn with_no_thread_to_be_had_a_blocking_call_fails_at_once() {
    if std::env::var_os(CHILD).is_some() {
        let result = run(async { spawn_blocking(|| 6 * 7).await });
        assert!(matches!(&result, Err(JoinError::NoThread(why)) if !why.is_empty()), "{result:?}");
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "with_no_thread_to_be_had_a_blocking_call_fails_at_once",
            "--test-threads",
            "1",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("RUST_MIN_STACK", "1000000000000000") // a petabyte: more than the address space
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Long enough for a loaded machine to start a process; a call left waiting would never end.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the blocking call was still waiting after a minute (killed)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "the child test failed: {status}");
}
