//! Ctrl-C: stop the crawl, print the report of what was done, exit with status 130.
//!
//! Noticing the signal is the same in every stage, and lives here. Acting on it is each stage's
//! own business, and one of its lessons:
//!
//! | stage | how a crawl in flight is stopped |
//! |---|---|
//! | 1 | a thread asleep in `read` cannot be told anything: its socket is shut down under it, its child process killed (`unblock.rs`) |
//! | 2 | the busy loop checks [`requested`] on every turn |
//! | 3, 4 | [`on_interrupt`] wakes the event loop with `call_soon_threadsafe`, so the crawler's loop sees the flag; stage 4 then cancels its tasks |
//! | 5, 6 | the crawl races its work queue against the [`interrupted`] future, then aborts the workers |
//!
//! In every stage the crawl then returns the report of the URLs it finished; the frontier knows
//! how many were still queued or in flight, and the report says so (see
//! [`Report::unfinished`](crate::Report::unfinished)). The stage's `main` exits with
//! [`EXIT_INTERRUPTED`].
//!
//! # Why a thread and not a signal handler
//! A signal handler runs on whichever thread the kernel picks, in the middle of whatever that
//! thread was doing, perhaps holding the allocator's lock. So it may only call the few
//! async-signal-safe functions: no locks, no allocation, no `println!`. Python's C-level handler
//! therefore only sets a flag (the interpreter raises `KeyboardInterrupt` later, in the main
//! thread), and asyncio's `loop.add_signal_handler` adds a self-pipe so the loop wakes up.
//!
//! Here [`install`] instead *blocks* SIGINT in the main thread before any other thread exists
//! (threads inherit their creator's signal mask), so the kernel never runs a handler anywhere, and
//! starts one thread that asks for the signal with `sigwait(2)`. When it arrives, that thread is
//! ordinary code: it sets a flag, wakes futures, runs the crawl's hook. No `unsafe` is needed.
//! A second Ctrl-C means the user does not want to wait: the process exits at once.
//!
//! Child processes do not inherit the block: `std::process::Command` clears the signal mask in the
//! child before `exec`, so stage 1's children die of a terminal's Ctrl-C like any program.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use nix::sys::signal::{SigSet, Signal};

/// The exit status of an interrupted crawl: 128 + SIGINT (2), what a shell reports for a program
/// that Ctrl-C killed, so scripts see the same status whether or not the program caught it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The name of the thread that waits for SIGINT (as `/proc/PID/task/TID/comm` shows it), so that
/// the tour can leave it out when it counts a crawl's threads.
pub const WATCHER_THREAD: &str = "sigint";

/// Set once, by the watcher thread, when the first SIGINT arrives.
static REQUESTED: AtomicBool = AtomicBool::new(false);
/// What the running crawl asked to be done on Ctrl-C (at most one crawl runs per process).
static HOOK: Mutex<Option<Hook>> = Mutex::new(None);
/// The wakers of the [`interrupted`] futures now waiting, by future id. A future takes its waker
/// out when dropped: a waker can keep a whole runtime alive (stage 5's holds its loop's poller).
static WAKERS: Mutex<Vec<(u64, Waker)>> = Mutex::new(Vec::new());

/// A crawl's reaction to Ctrl-C, run on the watcher thread.
type Hook = Box<dyn FnOnce() + Send>;

/// Blocks SIGINT in the calling thread and starts the thread that waits for it. Call it from
/// `main` before any other thread is started (the threads started earlier would still get the
/// default action: die). Calling it again does nothing.
pub fn install() -> io::Result<()> {
    static INSTALLED: OnceLock<Result<(), io::ErrorKind>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.thread_block().map_err(|errno| io::Error::from(errno).kind())?;
        let watcher = std::thread::Builder::new().name(WATCHER_THREAD.into()).spawn(move || watch(set));
        // Detached on purpose: it sleeps in `sigwait` for the life of the process.
        watcher.map(drop).map_err(|e| e.kind())
    });
    installed.map_err(|kind| io::Error::new(kind, "cannot install the Ctrl-C handler"))
}

// ANCHOR: watch
/// The watcher thread: the first SIGINT stops the crawl, the second the process.
fn watch(set: SigSet) {
    if set.wait().is_err() {
        return; // sigwait only fails for an invalid set; then there is nothing to watch
    }
    crate::log!("interrupted: stopping the crawl (Ctrl-C again to quit without a report)");
    // The flag first: whoever is woken below must see it set.
    REQUESTED.store(true, Ordering::SeqCst);
    for (_, waker) in std::mem::take(&mut *lock(&WAKERS)) {
        waker.wake();
    }
    if let Some(hook) = lock(&HOOK).take() {
        hook();
    }
    if set.wait().is_ok() {
        crate::log!("interrupted again: quitting");
        std::process::exit(EXIT_INTERRUPTED.into());
    }
}
// ANCHOR_END: watch

/// Whether Ctrl-C has been pressed. Stays true for the rest of the process.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Runs `hook` on the watcher thread when Ctrl-C is pressed (at once, on this thread, if it
/// already was). The hook is removed when the returned guard is dropped: a crawl that is over has
/// nothing left to stop. A new hook replaces the previous one.
#[must_use = "the hook is removed when the guard is dropped"]
pub fn on_interrupt(hook: impl FnOnce() + Send + 'static) -> HookGuard {
    let mut slot = lock(&HOOK);
    if requested() {
        // The watcher has already taken (or found no) hook: it will not look again.
        drop(slot);
        hook();
    } else {
        *slot = Some(Box::new(hook));
    }
    HookGuard { _private: () }
}

/// Removes the hook set by [`on_interrupt`] when dropped.
#[derive(Debug)]
pub struct HookGuard {
    /// Only [`on_interrupt`] makes one.
    _private: (),
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        lock(&HOOK).take();
    }
}

/// A future that completes when Ctrl-C is pressed; it works on any executor, since the watcher
/// thread only calls `Waker::wake`.
pub fn interrupted() -> Interrupted {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    Interrupted { id: NEXT_ID.fetch_add(1, Ordering::Relaxed) }
}

/// The future returned by [`interrupted`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Interrupted {
    /// Tells this future's waker apart from the others' in `WAKERS`.
    id: u64,
}

impl Future for Interrupted {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if requested() {
            return Poll::Ready(());
        }
        let mut wakers = lock(&WAKERS);
        match wakers.iter_mut().find(|(id, _)| *id == self.id) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => wakers.push((self.id, cx.waker().clone())),
        }
        // Look again, holding the lock: the watcher sets the flag before it takes the wakers, so
        // either it sees this waker or this sees the flag. Without this a Ctrl-C between the first
        // look and the push would be slept through.
        if requested() { Poll::Ready(()) } else { Poll::Pending }
    }
}

impl Drop for Interrupted {
    fn drop(&mut self) {
        lock(&WAKERS).retain(|(id, _)| *id != self.id);
    }
}

/// A lock that a panic elsewhere does not poison: these slots hold no invariant to break.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
