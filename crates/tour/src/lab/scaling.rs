//! How the cost of one wait grows with the descriptors watched: `select`, `poll` and `epoll`.
//!
//! ```text
//! cargo run --release -p tour -- scaling
//! ```
//!
//! The asyncio notes tell the history: `select` gave way to `poll`, and `poll` to `epoll`,
//! because the first two cost more the more descriptors a program watches, whether or not they
//! are ready. This measures that claim. It opens N idle descriptors and one ready one (eventfds:
//! one descriptor each, and the ready one stays ready, since nothing reads it), and times one wait
//! that finds the ready one, for N = 10, 100, 1,000 and 10,000:
//!
//! * **`select(2)`** is handed a bit set of every watched descriptor on each call, which the
//!   kernel walks and rewrites; so a loop on it rebuilds the set before each call, as this does.
//!   Its set has room for descriptor numbers below `FD_SETSIZE` (1,024) only: 10,000 cannot be
//!   asked of it at all.
//! * **`poll(2)`** takes an array of every watched descriptor on each call, which the kernel
//!   walks; the array is kept between calls (the kernel writes only the answers).
//! * **`epoll`** is told the descriptors once (`epoll_ctl`), and keeps a list of the ready ones:
//!   `epoll_wait` hands back that list, however many are watched. Level-triggered here, so the
//!   ready descriptor needs no re-arming; stage 3's loop goes through `polling`, which adds its
//!   own calls to each wait (chapter 3, "What one wait costs").
//!
//! All three are called directly, through `nix`, with a timeout of zero: what is timed is the
//! call, not a sleep.

use std::fmt::Write as _;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::select::{FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};
use serde::{Deserialize, Serialize};

/// The numbers of idle descriptors watched.
pub const WATCHED: [usize; 4] = [10, 100, 1_000, 10_000];

/// `select`'s bit set has room for descriptor numbers below this (glibc's `FD_SETSIZE`).
pub const FD_SETSIZE: usize = 1024;

/// Each point is timed for at least this long, and at least [`MIN_WAITS`] waits.
const MIN_TIME: Duration = Duration::from_millis(50);
const MIN_WAITS: u32 = 200;

/// One point of a curve: a mechanism, the idle descriptors it watched, what one wait cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitCost {
    /// `select`, `poll` or `epoll`.
    pub mechanism: String,
    /// Idle descriptors watched beside the ready one.
    pub idle: usize,
    /// Nanoseconds per wait, the mean of `waits` waits.
    pub ns_per_wait: f64,
    /// How many waits were timed.
    pub waits: u32,
}

/// Measures every mechanism at every size that it can watch (and that the open-file limit
/// leaves room for). A size that does not fit is left out, and said so in the table.
pub fn measure() -> Result<Vec<WaitCost>, String> {
    let mut rows = Vec::new();
    for idle in WATCHED {
        let descriptors = match Descriptors::open(idle) {
            Ok(descriptors) => descriptors,
            Err(why) => {
                crawl::log!("scaling: {idle} idle descriptors: {why}; left out");
                continue;
            }
        };
        if descriptors.highest() < FD_SETSIZE {
            rows.push(time("select", idle, || descriptors.select()));
        }
        let mut array = descriptors.poll_array();
        rows.push(time("poll", idle, || Descriptors::poll(&mut array)));
        let epoll = descriptors.epoll().map_err(|e| format!("epoll: {e}"))?;
        rows.push(time("epoll", idle, || Descriptors::epoll_wait(&epoll)));
    }
    Ok(rows)
}

/// Times `wait`, which must find exactly one ready descriptor.
fn time(mechanism: &str, idle: usize, mut wait: impl FnMut() -> usize) -> WaitCost {
    assert_eq!(wait(), 1, "{mechanism} over {idle} idle descriptors: one is ready");
    let started = Instant::now();
    let mut waits = 0;
    while waits < MIN_WAITS || started.elapsed() < MIN_TIME {
        std::hint::black_box(wait());
        waits += 1;
    }
    let ns_per_wait = started.elapsed().as_nanos() as f64 / f64::from(waits);
    WaitCost { mechanism: mechanism.to_string(), idle, ns_per_wait, waits }
}

/// The idle descriptors and the ready one.
struct Descriptors {
    idle: Vec<EventFd>,
    ready: EventFd,
}

impl Descriptors {
    fn open(idle: usize) -> Result<Descriptors, String> {
        let open = || EventFd::from_value_and_flags(0, EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC);
        let idle =
            (0..idle).map(|_| open()).collect::<Result<Vec<_>, _>>().map_err(|e| format!("eventfd: {e}"))?;
        let ready = open().map_err(|e| format!("eventfd: {e}"))?;
        ready.write(1).map_err(|e| format!("eventfd write: {e}"))?; // readable until read: never
        Ok(Descriptors { idle, ready })
    }

    fn highest(&self) -> usize {
        self.idle.iter().chain([&self.ready]).map(|fd| fd.as_raw_fd() as usize).max().unwrap_or(0)
    }

    /// One `select`, the set built anew as a select loop must.
    fn select(&self) -> usize {
        let mut set = FdSet::new();
        for fd in self.idle.iter().chain([&self.ready]) {
            set.insert(fd.as_fd());
        }
        let mut zero = TimeVal::zero();
        select(None, &mut set, None, None, &mut zero).expect("select") as usize
    }

    /// The array `poll` is handed, made once.
    fn poll_array(&self) -> Vec<PollFd<'_>> {
        self.idle.iter().chain([&self.ready]).map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN)).collect()
    }

    /// One `poll` over the whole array.
    fn poll(array: &mut [PollFd<'_>]) -> usize {
        poll(array, PollTimeout::ZERO).expect("poll") as usize
    }

    /// An epoll instance told of every descriptor, once.
    fn epoll(&self) -> nix::Result<Epoll> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        for (key, fd) in self.idle.iter().chain([&self.ready]).enumerate() {
            epoll.add(fd.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, key as u64))?;
        }
        Ok(epoll)
    }

    fn epoll_wait(epoll: &Epoll) -> usize {
        let mut events = [EpollEvent::empty(); 8];
        epoll.wait(&mut events, EpollTimeout::ZERO).expect("epoll_wait")
    }
}

/// The table: one row per mechanism, one column per size.
pub fn render(rows: &[WaitCost]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "One wait that finds 1 ready descriptor among N idle ones (µs per wait)");
    let _ = write!(out, "{:<8}", "N idle");
    for idle in WATCHED {
        let _ = write!(out, "{idle:>12}");
    }
    let _ = writeln!(out);
    for mechanism in ["select", "poll", "epoll"] {
        let _ = write!(out, "{mechanism:<8}");
        for idle in WATCHED {
            match rows.iter().find(|r| r.mechanism == mechanism && r.idle == idle) {
                Some(row) => drop(write!(out, "{:>12.2}", row.ns_per_wait / 1e3)),
                None => drop(write!(out, "{:>12}", "-")),
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "(-: select cannot watch descriptor numbers from {FD_SETSIZE}, FD_SETSIZE, on; or the open-file limit had no room)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mechanism_finds_the_one_ready_descriptor() {
        let descriptors = Descriptors::open(10).unwrap();
        assert_eq!(descriptors.select(), 1);
        assert_eq!(Descriptors::poll(&mut descriptors.poll_array()), 1);
        assert_eq!(Descriptors::epoll_wait(&descriptors.epoll().unwrap()), 1);
    }
}
