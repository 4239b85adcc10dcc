//! Ending a program when the OS says no, with one line and a documented status instead of a panic.
//!
//! A panic means a bug: its message points at a line of this code and suggests a backtrace. A file
//! descriptor limit reached, or a reader that stopped reading, is no bug of ours, so neither may
//! end in one:
//!
//! | what | status | stderr |
//! |---|---|---|
//! | [`or_exit`]: a resource the program cannot run without is refused (its event loop, when the system refuses its descriptors; a `ulimit -n` too low for it is caught earlier, by [`crate::descriptors`], as misuse) | 1 | `error: cannot create the event loop: ...` |
//! | [`quiet_on_closed_stdout`]: stdout is a pipe whose reader has gone (`\| head -1`) | 0, as a stage's when its report meets a closed pipe: the reader had what it wanted | nothing |

use std::fmt::Display;
use std::sync::Once;

/// `result`'s value; or, if it is an error, the line `error: {what}: {error}` on stderr and exit
/// status 1. For what a program needs before it can do anything at all: there is nothing to go on
/// with, and nothing to clean up that the exit does not.
pub fn or_exit<T, E: Display>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|error| {
        crate::log!("error: {what}: {error}");
        std::process::exit(1)
    })
}

/// From now on a `println!` into a closed pipe ends the program quietly, with status 0, instead of
/// panicking with "failed printing to stdout: Broken pipe". Calling it again does nothing.
///
/// A C program would die of SIGPIPE there; Rust ignores that signal, so the write fails with EPIPE
/// and `println!` panics. Restoring the signal's default would take `unsafe`; a panic hook does
/// not: it exits on that one panic and hands every other to the hook it replaced.
pub fn quiet_on_closed_stdout() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let closed = format!("failed printing to stdout: {}", std::io::Error::from_raw_os_error(libc::EPIPE));
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |panic| {
            if panic.payload_as_str() == Some(closed.as_str()) {
                std::process::exit(0);
            }
            previous(panic);
        }));
    });
}
