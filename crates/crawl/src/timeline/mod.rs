//! `--timeline FILE`: what a crawl did, over time, written in the Chrome trace event format.
//!
//! A table says how long a stage took; a timeline says what it did with that time. With
//! `--timeline FILE` every stage records, and writes to `FILE` when the crawl ends (Ctrl-C
//! included), a JSON file that Perfetto (<https://ui.perfetto.dev>, which also runs offline) and
//! `chrome://tracing` open as it is. The file holds two "processes":
//!
//! | process | one track per | what is drawn |
//! |---|---|---|
//! | `tries` | connection slot, at most `--max-tasks` | a span per URL, a span per try inside it (URL, try number, result), inside that the try's steps (resolving, connecting, sending, waiting for the first byte, receiving), the gap before a retry, and a mark where a deadline fired |
//! | the stage (`stage3-callbacks`, ...) | OS thread | stage 1: each blocking call; stage 2: the busy loop's turns, a span per millisecond; stages 3 to 6: the sleep in the poller's wait and each burst of callbacks or polls after it; stages 4 to 6: task events (spawn, step or poll, wake, done) |
//!
//! and counters: requests in flight, sockets open, tasks alive.
//!
//! **It costs nothing when off.** Every recording call starts by reading one relaxed atomic
//! flag ([`enabled`]) and returns at once when it is clear: no lock, no clock read, no
//! allocation. When on, each event takes one global lock, inside which the clock is read, so
//! timestamps never go backwards (on a thread, or anywhere), and the events are kept in memory
//! until the crawl ends: a recorder for runs of seconds to minutes, not for a server that runs for
//! days (real applications will want `tracing` and a bounded buffer).
//!
//! The stages call [`phase`] at each step of a try (the same line in every stage's `fetch.rs`),
//! and `Config::end_try` closes the try; everything else is recorded in the plumbing around the
//! lesson (stage 1's blocking socket wrapper and its wait for a job, stage 2's loop, the event
//! loop's wait and dispatch, stage 4's task step, stage 5's executor and waker, and for tokio,
//! which records no task events on stable, its park hooks and the [`traced`] wrapper).
//!
//! Timestamps are microseconds of `CLOCK_MONOTONIC`, which every process on the machine shares:
//! stage 1's `processes` mode merges its children's files into the parent's without converting.

use std::borrow::Cow;
use std::fs::File;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use serde_json::{Value, json};
use url::Url;

mod recorder;

use recorder::Recorder;

/// Whether a timeline is being recorded. Read by every recording call before anything else.
static ON: AtomicBool = AtomicBool::new(false);

/// The recording, while one is on.
static RECORDER: Mutex<Option<Recorder>> = Mutex::new(None);

/// The process id under which the threads of this process are drawn.
pub const THREADS_PID: u32 = 1;
/// The process id of the connection-slot lanes.
pub const LANES_PID: u32 = 2;
/// How long stage 2's busy turns are gathered into one span: a turn takes microseconds, and a
/// span per turn would make a file of millions of events.
const BUSY_SPAN_US: f64 = 1000.0;

/// A step of a try, in the order a try goes through them (the steps of every stage's `fetch.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// The host's address is being looked up.
    Resolving,
    /// The TCP handshake is under way.
    Connecting,
    /// The request is being written.
    Sending,
    /// The request is sent; no byte of the response has come.
    Waiting,
    /// Bytes of the response are coming in.
    Receiving,
}

impl Phase {
    /// The span's name in the file.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Resolving => "resolving",
            Phase::Connecting => "connecting",
            Phase::Sending => "sending",
            Phase::Waiting => "waiting for the first byte",
            Phase::Receiving => "receiving",
        }
    }
}

/// Whether a timeline is being recorded (one relaxed atomic load).
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Starts recording to `path`, which is created (or truncated) now, so that a path that cannot
/// be written is an error before any request. `name` names the process in the file.
pub fn start(path: &Path, name: &str) -> Result<(), String> {
    let file = File::create(path)
        .map_err(|e| format!("--timeline {}: cannot write the file: {e}", path.display()))?;
    install(Recorder::new(path.to_path_buf(), file, name.to_string()));
    Ok(())
}

/// Starts recording in a child process of stage 1's `processes` mode: to [`child_file`] of the
/// parent's `path`, which the parent merges into its own when it finishes.
pub fn start_child(path: &Path, name: &str) -> Result<(), String> {
    let own = child_file(path, std::process::id());
    let file = File::create(&own)
        .map_err(|e| format!("--timeline {}: cannot write the file: {e}", own.display()))?;
    install(Recorder::new(own, file, name.to_string()));
    Ok(())
}

/// Where child process `pid` writes its part of the timeline `path`.
pub fn child_file(path: &Path, pid: u32) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".child-{pid}"));
    PathBuf::from(name)
}

fn install(recorder: Recorder) {
    *lock() = Some(recorder);
    ON.store(true, Ordering::Relaxed);
}

/// Stops recording and writes the file: what is still open (a crawl cut short by Ctrl-C) is
/// closed at this instant. Does nothing when no timeline was being recorded.
pub fn finish() -> io::Result<()> {
    ON.store(false, Ordering::Relaxed);
    let Some(recorder) = lock().take() else { return Ok(()) };
    recorder.write()
}

fn lock() -> MutexGuard<'static, Option<Recorder>> {
    // A thread that panicked while recording leaves a recording still worth writing.
    RECORDER.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` on the recorder, with the current time, when a timeline is being recorded.
#[inline]
fn record(f: impl FnOnce(&mut Recorder, f64)) {
    if !enabled() {
        return;
    }
    let mut guard = lock();
    if let Some(recorder) = guard.as_mut() {
        let now = now_us();
        f(recorder, now);
    }
}

/// Microseconds of `CLOCK_MONOTONIC`.
fn now_us() -> f64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always there");
    now.tv_sec() as f64 * 1e6 + now.tv_nsec() as f64 / 1e3
}

// ---------------------------------------------------------------------------------------------
// Tries, in the lanes.

/// Try of `url` has reached `phase`. The first phase of a try opens it (and the URL's span,
/// in a free lane, for its first try); a phase it is already in is no change.
#[inline]
pub fn phase(url: &Url, phase: Phase) {
    record(|r, now| r.phase(url.as_str(), phase, now));
}

/// The try of `url` numbered `tries` has ended with `result` (`Config::end_try` calls this):
/// `retry` says whether another try follows; `timed_out`, whether its deadline fired.
pub(crate) fn try_ended(url: &Url, tries: u32, result: &str, timed_out: bool, retry: bool) {
    record(|r, now| r.try_ended(url.as_str(), tries, result, timed_out, retry, now));
}

/// Stage 1's `processes` mode: a child process is about to fetch `url`. Until the guard drops, a
/// lane holds a span for the child, into which the child's own tries are merged (once
/// [`ChildSpan::started`] has said which child it is), and this thread is blocked waiting for it.
/// Opened before the child starts, which is before any event the child records.
pub fn child_process(url: &Url) -> ChildSpan {
    let mut on = false;
    record(|r, now| {
        on = true;
        r.child_starting(url.as_str(), now);
    });
    ChildSpan { url: on.then(|| url.as_str().to_string()) }
}

/// What [`child_process`] returns.
#[derive(Debug)]
#[must_use = "the span ends when this is dropped"]
pub struct ChildSpan {
    /// The URL whose lane this is, when a timeline is being recorded.
    url: Option<String>,
}

impl ChildSpan {
    /// The child has started, as process `pid`: its file is merged when the timeline is written.
    pub fn started(&self, pid: u32) {
        if let Some(url) = &self.url {
            record(|r, _| r.child_started(url, pid));
        }
    }
}

impl Drop for ChildSpan {
    fn drop(&mut self) {
        if let Some(url) = self.url.take() {
            record(|r, now| r.child_ended(&url, now));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Threads.

/// A span on the current thread's track, ended when dropped (nothing at all when off).
#[derive(Debug)]
#[must_use = "the span ends when this is dropped"]
pub struct Span {
    end: SpanEnd,
}

#[derive(Debug)]
enum SpanEnd {
    Nothing,
    Thread,
}

impl Drop for Span {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.end, SpanEnd::Nothing) {
            SpanEnd::Nothing => {}
            SpanEnd::Thread => end(),
        }
    }
}

/// A span named `name` on this thread until the guard drops: a blocking call, a wait.
#[inline]
pub fn span(name: &'static str) -> Span {
    span_with(name, || Value::Null)
}

/// As [`span`], with arguments (made only when a timeline is recorded).
#[inline]
fn span_with(name: &'static str, args: impl FnOnce() -> Value) -> Span {
    let mut on = false;
    record(|r, now| {
        on = true;
        r.open(Cow::Borrowed(name), args(), false, now);
    });
    Span { end: if on { SpanEnd::Thread } else { SpanEnd::Nothing } }
}

/// The name of a thread's sleep in the poller's wait (`epoll_wait`), in every stage that has one.
pub const ASLEEP: &str = "asleep in the poller's wait";

/// A sleep in the poller's wait until the guard drops, with the timeout it was given (`None`:
/// until an event comes).
#[inline]
pub fn asleep(timeout: Option<std::time::Duration>) -> Span {
    span_with(ASLEEP, || match timeout {
        Some(timeout) => json!({ "timeout ms": timeout.as_secs_f64() * 1e3 }),
        None => json!({ "timeout ms": "none" }),
    })
}

/// A burst: a span on this thread that, when it ends, lists what [`ran`] inside it
/// (`"ran": "fetch::Fetch::connected ×3, ..."`).
#[inline]
pub fn burst(name: &'static str) -> Span {
    let mut on = false;
    record(|r, now| {
        on = true;
        r.open(Cow::Borrowed(name), Value::Null, true, now);
    });
    Span { end: if on { SpanEnd::Thread } else { SpanEnd::Nothing } }
}

/// Opens a span on this thread without a guard (for hooks that see only its start or its end,
/// as tokio's park and unpark); [`end`] closes the innermost.
#[inline]
pub fn begin(name: &'static str, is_burst: bool) {
    record(|r, now| r.open(Cow::Borrowed(name), Value::Null, is_burst, now));
}

/// Closes this thread's innermost open span, if it has one.
#[inline]
pub fn end() {
    record(|r, now| r.close(now));
}

/// `what` (a callback's or a future's type name) ran in this thread's current burst.
#[inline]
pub fn ran(what: &'static str) {
    record(|r, _| r.thread().ran.push(what));
}

/// One turn of stage 2's busy loop; `idle` when no fetch finished in it. Turns are gathered
/// into spans of about a millisecond, each saying how many turns it holds and how many were idle.
#[inline]
pub fn busy_turn(idle: bool) {
    record(|r, now| r.busy_turn(idle, now));
}

// ---------------------------------------------------------------------------------------------
// Tasks (stages 4 to 6).

/// Task `id` was spawned (its future's type name is `what`).
#[inline]
pub fn task_spawned(id: u64, what: &'static str) {
    record(|r, now| {
        r.tasks_alive += 1;
        r.task_names.insert(id, what);
        let args = json!({ "task": id, "future": short_name(what) });
        r.instant(Cow::Owned(format!("spawn task {id}")), args, now);
        r.counter("tasks alive", r.tasks_alive as f64, now);
    });
}

/// Task `id` was woken, by the current thread.
#[inline]
pub fn task_woken(id: u64) {
    record(|r, now| {
        let from = r.thread().name.clone();
        r.instant(Cow::Owned(format!("wake task {id}")), json!({ "task": id, "from thread": from }), now);
    });
}

/// Task `id` is polled (or stepped) until the guard drops.
#[inline]
pub fn task_poll(id: u64, verb: &'static str) -> Span {
    let mut on = false;
    record(|r, now| {
        on = true;
        let what = r.task_names.get(&id).copied().unwrap_or("task");
        r.thread().ran.push(what);
        r.open(Cow::Owned(format!("{verb} task {id}")), json!({ "task": id }), false, now);
    });
    Span { end: if on { SpanEnd::Thread } else { SpanEnd::Nothing } }
}

/// Task `id` is over: `how` is `"done"`, `"cancelled"` or `"panicked"`.
#[inline]
pub fn task_ended(id: u64, how: &'static str) {
    record(|r, now| {
        r.tasks_alive = r.tasks_alive.saturating_sub(1);
        r.task_names.remove(&id);
        r.instant(Cow::Owned(format!("task {id} {how}")), json!({ "task": id }), now);
        r.counter("tasks alive", r.tasks_alive as f64, now);
    });
}

/// `future` as a task of its own in the timeline, for a runtime that records no task events
/// itself (tokio, without its unstable features): its spawn now, each poll, each wake (from the
/// thread that wakes it) and its end, or its drop unfinished ("cancelled"). When no timeline is
/// being recorded, a poll is the inner future's poll and nothing more.
pub fn traced<F: Future>(future: F) -> Traced<F> {
    let id = if enabled() { NEXT_TRACED.fetch_add(1, Ordering::Relaxed) } else { 0 };
    task_spawned(id, std::any::type_name::<F>());
    Traced { future, id, over: false }
}

/// Numbers for [`traced`] tasks.
static NEXT_TRACED: AtomicU64 = AtomicU64::new(1);

pin_project_lite::pin_project! {
    /// What [`traced`] returns.
    #[derive(Debug)]
    pub struct Traced<F> {
        #[pin]
        future: F,
        // The task's number in the timeline (0 when none was being recorded at its spawn).
        id: u64,
        // Whether it has returned `Ready`.
        over: bool,
    }

    impl<F> PinnedDrop for Traced<F> {
        fn drop(this: Pin<&mut Self>) {
            if this.id != 0 && !this.over {
                task_ended(this.id, "cancelled");
            }
        }
    }
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if *this.id == 0 || !enabled() {
            return this.future.poll(cx);
        }
        let waker = Waker::from(Arc::new(TracedWaker { id: *this.id, inner: cx.waker().clone() }));
        let polling = task_poll(*this.id, "poll");
        let poll = this.future.poll(&mut Context::from_waker(&waker));
        drop(polling);
        if poll.is_ready() {
            *this.over = true;
            task_ended(*this.id, "done");
        }
        poll
    }
}

/// The waker a [`Traced`] task's future sees: records the wake, then passes it on.
struct TracedWaker {
    id: u64,
    inner: Waker,
}

impl Wake for TracedWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        task_woken(self.id);
        self.inner.wake_by_ref();
    }
}

/// A type name without crate prefixes: `stage3_callbacks::fetch::Fetch::connected::{{closure}}`
/// becomes `fetch::Fetch::connected::{{closure}}`. (What `--trace` and the timeline print.)
pub fn short_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split_inclusive(['<', '>', ',', ' ', '(', '&']) {
        match part.split_once("::") {
            // The first segment of a path is its crate: drop it when a path follows.
            Some((first, rest))
                if !first.is_empty() && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.push_str(rest)
            }
            _ => out.push_str(part),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_lose_their_crate_prefixes() {
        assert_eq!(
            super::short_name("stage3_callbacks::protocol::attach<callback_echo_server::Echo>::{{closure}}"),
            "protocol::attach<Echo>::{{closure}}"
        );
        assert_eq!(
            super::short_name("stage3_callbacks::fetch::Fetch::waker::{{closure}}"),
            "fetch::Fetch::waker::{{closure}}"
        );
        assert_eq!(super::short_name("call_soon_threadsafe"), "call_soon_threadsafe");
    }

    #[test]
    fn a_burst_counts_what_ran() {
        assert_eq!(super::recorder::summary(&["a::x", "a::y", "a::x"]), "x ×2, y");
    }
}
