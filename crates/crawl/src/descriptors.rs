//! How many requests a crawl can have in flight before it runs out of file descriptors.
//!
//! Every request in flight holds a socket, and the process may open only so many files
//! (`ulimit -n`, the soft `RLIMIT_NOFILE`). Some are open before the crawl starts (stdin, stdout,
//! stderr, whatever the shell passed on), and a stage opens some of its own: an event loop's
//! epoll, its notifier and its timer. A `--max-tasks` beyond what is left could only end in
//! `EMFILE` ("Too many open files") for the requests past the limit, so it is lowered to what fits
//! before the crawl starts, with a line on stderr saying so.

use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit};

/// What a stage needs in descriptors, beside those open before it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// Opened once by the stage itself, for the whole crawl (an event loop's own descriptors).
    pub own: usize,
    /// Held by one request in flight at its peak: its socket, or a child process's pipes.
    pub per_task: usize,
}

impl Needs {
    /// A socket per request and nothing else: the stages without an event loop.
    pub const SOCKET_PER_TASK: Needs = Needs { own: 0, per_task: 1 };
}

/// What the open-file limit leaves for requests, as [`room`] measured it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Room {
    /// The soft limit on open files.
    pub limit: u64,
    /// Descriptors open now.
    pub in_use: usize,
    /// How many requests fit in what is left, after the stage's own.
    pub tasks: usize,
}

// ANCHOR: room
/// How many requests fit under the open-file limit for a stage with these `needs`, or `None`
/// when the limit is unlimited or cannot be read (then nothing is lowered).
pub fn room(needs: Needs) -> Option<Room> {
    let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft == RLIM_INFINITY {
        return None;
    }
    let limit = usize::try_from(soft).unwrap_or(usize::MAX);
    let in_use = in_use_below(limit)?;
    Some(Room { limit: soft, in_use, tasks: tasks_that_fit(limit, in_use, needs) })
}

/// The requests that fit in what `limit` leaves after the `in_use` descriptors and the stage's own.
fn tasks_that_fit(limit: usize, in_use: usize, needs: Needs) -> usize {
    limit.saturating_sub(in_use + needs.own) / needs.per_task.max(1)
}
// ANCHOR_END: room

/// How many descriptors this process has open with a number below `limit`: the entries of
/// `/proc/self/fd` (Linux) or `/dev/fd`, but for the one the listing itself holds open. The limit
/// caps descriptor *numbers* (a new one gets the lowest free number, and fails when none below the
/// limit is free), so a descriptor numbered above it, passed on by a shell, takes no room.
pub fn in_use_below(limit: usize) -> Option<usize> {
    let listing = match std::fs::read_dir("/proc/self/fd").or_else(|_| std::fs::read_dir("/dev/fd")) {
        Ok(listing) => listing,
        // Not even the listing could be opened: every number below the limit is taken.
        Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return Some(limit),
        Err(_) => return None,
    };
    let open = listing.filter_map(|entry| {
        let entry = entry.ok()?;
        let fd = entry.file_name().to_str()?.parse::<usize>().ok()?;
        // The listing's own descriptor points at the folder being listed.
        let is_listing = std::fs::read_link(entry.path()).is_ok_and(|to| to.ends_with("fd"));
        (fd < limit && !is_listing).then_some(fd)
    });
    Some(open.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_file_counts_as_in_use() {
        let before = in_use_below(usize::MAX).expect("this system lists its descriptors");
        let file = std::fs::File::open("Cargo.toml").unwrap();
        // Other tests' threads open files too, so only "at least one more" is certain.
        assert!(in_use_below(usize::MAX).unwrap() > before, "{before}");
        drop(file);
    }

    #[test]
    fn the_stages_own_and_each_tasks_share_come_off_the_room() {
        assert_eq!(tasks_that_fit(24, 5, Needs::SOCKET_PER_TASK), 19);
        assert_eq!(tasks_that_fit(24, 5, Needs { own: 3, per_task: 1 }), 16);
        assert_eq!(tasks_that_fit(24, 3, Needs { own: 0, per_task: 3 }), 7);
        assert_eq!(tasks_that_fit(5, 5, Needs { own: 3, per_task: 1 }), 0, "no room, not an underflow");
    }
}
