//! Stopping threads that are asleep in the kernel, for Ctrl-C.
//!
//! A thread blocked in `read` cannot be told to stop: neither Rust nor Python can cancel a thread
//! from outside, and the thread itself runs no code until the kernel wakes it. What can be done is
//! to take away what it waits on. Shutting down its socket makes the `read` return at once (0
//! bytes); killing its child process makes `wait` return. So every blocking wait registers here how
//! to end it, and on Ctrl-C [`interrupt_all`] ends them all. The thread then learns from
//! [`take_cut_short`] that what its fetch returned is the rug being pulled, not the site's answer.
//! Compare stage 5, where cancelling a task is dropping its future, and the future closes its own
//! socket.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How to end one blocking wait.
type Unblocker = Box<dyn FnOnce() + Send>;

/// Every blocking wait now in progress, by registration id.
static WAITS: Mutex<BTreeMap<u64, Unblocker>> = Mutex::new(BTreeMap::new());

thread_local! {
    /// Set on a thread when one of its waits was ended by Ctrl-C; read by [`take_cut_short`].
    static CUT_SHORT: Cell<bool> = const { Cell::new(false) };
}

/// Ends one wait when Ctrl-C is pressed, for as long as it lives. Dropping it (the wait is over)
/// unregisters it.
#[derive(Debug)]
#[must_use = "the wait is unregistered when this is dropped"]
pub struct Registration {
    /// The key in `WAITS`.
    id: u64,
    /// Set when the unblocker has run: the wait was ended from outside.
    fired: Arc<AtomicBool>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        waits().remove(&self.id);
        // Dropped on the thread that waited: tell it (see `take_cut_short`).
        if self.fired.load(Ordering::SeqCst) {
            CUT_SHORT.set(true);
        }
    }
}

/// Whether a wait of this thread was ended by Ctrl-C since the last call. A fetch that returns
/// with this set was cut short: its result (a truncated read, a killed child) is not the site's.
pub fn take_cut_short() -> bool {
    CUT_SHORT.replace(false)
}

/// Registers `unblock` as the way to end a wait about to start. If Ctrl-C has already been
/// pressed, it runs at once: the interruption may have come just before this registration, and
/// then [`interrupt_all`] did not see it.
fn register(unblock: Unblocker) -> Registration {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let fired = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&fired);
    waits().insert(
        id,
        Box::new(move || {
            flag.store(true, Ordering::SeqCst);
            unblock();
        }),
    );
    if crawl::interrupt::requested()
        && let Some(unblock) = waits().remove(&id)
    {
        unblock();
    }
    Registration { id, fired }
}

// ANCHOR: shut_down
/// On Ctrl-C, shuts `stream` down, both ways: a `read` blocked on it returns 0 bytes and a `write`
/// an error, and the thread is free to see that the crawl is over.
pub fn shut_down_on_interrupt(stream: &Arc<TcpStream>) -> Registration {
    let stream = Arc::clone(stream);
    register(Box::new(move || {
        let _ = stream.shutdown(Shutdown::Both);
    }))
}
// ANCHOR_END: shut_down

/// On Ctrl-C, ends a wait for `lookup` (a name being looked up on its own thread): the wait
/// returns an `interrupted` error at once. Nothing to register for an address known already.
pub fn end_lookup_on_interrupt(lookup: &crawl::resolve::Background) -> Option<Registration> {
    let cut_short = lookup.cut_short()?;
    Some(register(Box::new(cut_short)))
}

/// On Ctrl-C, kills the child process `pid` (the terminal's Ctrl-C reaches it anyway, but a
/// `kill -INT` of the parent alone would not).
///
/// The caller drops the registration as soon as its `wait` returns. Until the parent has waited
/// for it, an exited child stays a zombie whose pid no other process can get; only in the few
/// instructions between the reaping and the drop could a Ctrl-C meet a pid the kernel was free to
/// reuse, and Linux hands out pids in increasing order, wrapping only at `pid_max`.
pub fn kill_on_interrupt(pid: u32) -> Registration {
    register(Box::new(move || {
        if let Ok(pid) = i32::try_from(pid) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }))
}

/// Ends every registered wait (run by the Ctrl-C watcher thread).
pub fn interrupt_all() {
    let unblockers = std::mem::take(&mut *waits());
    for unblock in unblockers.into_values() {
        unblock();
    }
}

/// The registry; nothing in it can be left half-updated, so a poisoned lock is still good.
fn waits() -> std::sync::MutexGuard<'static, BTreeMap<u64, Unblocker>> {
    WAITS.lock().unwrap_or_else(PoisonError::into_inner)
}
