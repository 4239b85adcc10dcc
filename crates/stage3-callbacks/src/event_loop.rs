//! The event loop: one thread, one poller, callbacks.
//!
//! Instead of a thread sleeping in each `read`, one thread asks the kernel a single question,
//! "which of these sockets can make progress, or until when may I sleep?" (`epoll_wait` on Linux,
//! `kqueue` on the BSDs, through the [`polling`] crate), and runs the callback registered for each
//! answer. Timers live in the loop too: the poller's wait timeout is the earliest deadline, so a
//! thousand timers cost no threads.
//!
//! ```
//! use std::time::Duration;
//! use stage3_callbacks::event_loop::EventLoop;
//!
//! let event_loop = EventLoop::new()?;
//! event_loop.call_later(Duration::from_millis(20), |lp| {
//!     println!("world");
//!     lp.call_soon(|_| println!("!"));
//! });
//! event_loop.call_soon(|_| println!("hello"));
//! event_loop.run()?; // returns when nothing is registered, scheduled or pending
//! # std::io::Result::Ok(())
//! ```
//!
//! # The contract
//!
//! * **Oneshot.** After a source's callback has run for an event, the source is disarmed: no
//!   further events are delivered for it until [`EventLoop::modify`] re-arms it. Re-arming is
//!   level-triggered: a socket that still has unread bytes fires again on the next turn, so a
//!   callback may read once and re-arm rather than drain the socket (draining is allowed too).
//! * **Spurious wake-ups.** A callback may be told a socket is readable and then get `WouldBlock`
//!   (another reader took the bytes, or the kernel changed its mind). Every `WouldBlock` must be
//!   handled by re-arming and returning, never by spinning.
//! * **Stale events.** An event for a source deregistered earlier in the same turn is dropped.
//!   Tokens are never reused, so an event can never reach the wrong callback.
//! * **Re-entrancy.** No borrow of the loop's state is held while a callback runs, so a callback
//!   may do anything to the loop: register, modify and deregister sources (its own included),
//!   schedule and cancel callbacks and timers, and `stop` the loop.
//! * **Order of a turn.** Wait for I/O (no longer than the earliest timer; when callbacks are
//!   ready, not at all, and only every [`IO_CHECK_INTERVAL`]th such turn), run the I/O callbacks,
//!   run the timers that are due, then run the callbacks that were scheduled before this turn.
//!   What a callback schedules runs on the next turn, so a callback that keeps rescheduling itself
//!   cannot starve I/O or timers: they are seen within [`IO_CHECK_INTERVAL`] turns.
//! * **Sources are shared, not lent.** `register` takes an `Rc` of the source: the loop keeps the
//!   file descriptor open until it has removed it from the poller, so the kernel can never report
//!   a closed (or reused) descriptor to this loop.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

pub use crate::readiness::{Interest, Ready};
use crate::remote::{RemoteHandle, RemoteQueue, SendCallback, WeakRemoteHandle};
use crate::trace::short_name;
use crawl::timeline;

/// While callbacks are ready, the loop asks the kernel about I/O (a zero-timeout `epoll_wait`)
/// only on every this-many-th turn. Asking on every turn would cost a system call per turn, which
/// for tasks that wake each other (or yield) is most of a turn's cost; asking never would starve
/// sockets while the ready queue stays non-empty. tokio makes the same trade (`event_interval`,
/// 61 scheduler ticks); here a turn runs every callback that was ready, so fewer turns suffice.
pub const IO_CHECK_INTERVAL: u32 = 32;

/// Prints a line on stderr when the loop's trace is on. A macro, not a method, so that when it is
/// off (always, outside `--trace`) the arguments are not even computed: they would cost a string
/// search per callback.
macro_rules! trace {
    ($lp:expr, $($arg:tt)*) => {
        if $lp.inner.trace.get() {
            crawl::log!("[loop] {}", format_args!($($arg)*));
        }
    };
}

/// A callback run once: scheduled with `call_soon`, `call_later` or `call_soon_threadsafe`.
pub type Callback = Box<dyn FnOnce(&EventLoop)>;

/// A callback run each time a source is ready (and re-armed in between).
type IoCallback = Box<dyn FnMut(&EventLoop, Ready)>;

/// Identifies a registered source. Never reused within one loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(usize);

/// Identifies a job of [`EventLoop::run_in_executor`]. Never reused within one loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobId(u64);

/// Identifies a scheduled timer: its deadline, then the order it was scheduled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId {
    /// When it is due; timers are kept sorted by this.
    deadline: Instant,
    /// Breaks ties, so two timers with one deadline fire in the order they were set.
    seq: u64,
}

/// A handle to the event loop. Cloning it is cheap; every clone drives the same loop.
#[derive(Clone)]
pub struct EventLoop {
    inner: Rc<Inner>,
}

struct Inner {
    /// epoll (or kqueue); shared with [`RemoteHandle`]s, which only call `notify` on it.
    poller: Arc<Poller>,
    /// Everything callbacks may change. Borrowed briefly, never across a callback.
    state: RefCell<State>,
    /// Callbacks sent from other threads, and the count of live remote handles.
    remote: Arc<RemoteQueue>,
    /// `--trace`: print each wait, dispatch and timer on stderr.
    trace: Cell<bool>,
    /// What the poller reported in the current turn; kept between turns (it holds room for 1,024
    /// events, too big to allocate on every turn). Borrowed while the I/O callbacks run: one that
    /// ran the loop from inside the loop would panic here.
    events: RefCell<Events>,
    /// Turns run since the kernel was last asked about I/O (see `IO_CHECK_INTERVAL`).
    turns_since_io_check: Cell<u32>,
}

struct State {
    /// Registered I/O sources by token.
    sources: HashMap<Token, Source>,
    /// The next token to hand out.
    next_token: usize,
    /// Scheduled timers, soonest first.
    timers: BTreeMap<TimerId, Named<Callback>>,
    /// Distinguishes timers with the same deadline.
    next_timer_seq: u64,
    /// Callbacks to run on the next turn, in the order scheduled.
    ready: VecDeque<Named<Callback>>,
    /// The callbacks of blocking calls running on other threads, by job: each runs when its call
    /// has returned (see `blocking.rs`). While any is here, `run` keeps going.
    jobs: HashMap<JobId, Named<Callback>>,
    /// The next job number to hand out.
    next_job: u64,
    /// Set by `stop`: `run` returns after the current turn.
    stopping: bool,
}

/// One registered source.
struct Source {
    /// Keeps the descriptor open until it has been deleted from the poller.
    fd: Rc<dyn AsFd>,
    /// The callback; `None` while it is running (it is taken out so the loop is not borrowed).
    callback: Option<Named<IoCallback>>,
}

/// A callback with the name of its type, for `--trace` (a closure's type names where it was written).
struct Named<F> {
    name: &'static str,
    f: F,
}

impl EventLoop {
    /// A new loop with nothing registered or scheduled.
    pub fn new() -> io::Result<EventLoop> {
        let state = State {
            sources: HashMap::new(),
            next_token: 0,
            timers: BTreeMap::new(),
            next_timer_seq: 0,
            ready: VecDeque::new(),
            jobs: HashMap::new(),
            next_job: 0,
            stopping: false,
        };
        let remote = RemoteQueue::default();
        let inner = Inner {
            poller: Arc::new(Poller::new()?),
            state: RefCell::new(state),
            remote: Arc::new(remote),
            trace: Cell::new(false),
            events: RefCell::new(Events::new()),
            turns_since_io_check: Cell::new(0),
        };
        Ok(EventLoop { inner: Rc::new(inner) })
    }

    /// Prints what the loop does on stderr (the crawler's `--trace`).
    pub fn set_trace(&self, on: bool) {
        self.inner.trace.set(on);
    }

    // ANCHOR: register
    /// Watches `source` for `interest`; `callback` runs on each event (see the contract: after an
    /// event the source stays disarmed until [`modify`](EventLoop::modify) re-arms it).
    /// The source must be in nonblocking mode.
    #[allow(unsafe_code)] // the one unsafe call of this stage: polling's registration contract
    pub fn register<S, F>(&self, source: Rc<S>, interest: Interest, callback: F) -> io::Result<Token>
    where
        S: AsFd + 'static,
        F: FnMut(&EventLoop, Ready) + 'static,
    {
        let mut state = self.inner.state.borrow_mut();
        let token = Token(state.next_token);
        let raw = source.as_fd().as_raw_fd();
        // SAFETY: `Poller::add` requires the source to be deleted from the poller before it is
        // closed. The loop keeps its own `Rc` of the source in `state.sources` and drops it only
        // after `Poller::delete` (in `deregister`, or in `Drop for Inner`), so the descriptor
        // stays open, and cannot be reused for another file, while it is registered.
        unsafe { self.inner.poller.add(raw, event(token, interest))? };
        state.next_token += 1;
        let callback = Named { name: std::any::type_name::<F>(), f: Box::new(callback) as IoCallback };
        state.sources.insert(token, Source { fd: source, callback: Some(callback) });
        Ok(token)
    }

    /// Re-arms a source (or changes what it is watched for). Called after each event to wait for
    /// the next one.
    pub fn modify(&self, token: Token, interest: Interest) -> io::Result<()> {
        let state = self.inner.state.borrow();
        let source = state.sources.get(&token).ok_or_else(unknown_token)?;
        self.inner.poller.modify(source.fd.as_fd(), event(token, interest))
    }

    /// Stops watching a source and drops its callback (at once, or when it returns if this is
    /// called from inside it). Returns an error for an unknown token.
    pub fn deregister(&self, token: Token) -> io::Result<()> {
        let source = self.inner.state.borrow_mut().sources.remove(&token).ok_or_else(unknown_token)?;
        let result = self.inner.poller.delete(source.fd.as_fd());
        // Dropped outside the borrow: the callback may own things whose drop uses the loop.
        drop(source);
        result
    }
    // ANCHOR_END: register

    // ANCHOR: schedule
    /// Runs `callback` on the next turn of the loop.
    pub fn call_soon(&self, callback: impl FnOnce(&EventLoop) + 'static) {
        let name = type_name_of(&callback);
        self.inner.state.borrow_mut().ready.push_back(Named { name, f: Box::new(callback) });
    }

    /// Runs `callback` once `delay` has passed. The loop, not a thread, keeps time.
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce(&EventLoop) + 'static) -> TimerId {
        self.call_at(Instant::now() + delay, callback)
    }

    /// Runs `callback` at `deadline` (or on the next turn if that has passed).
    pub fn call_at(&self, deadline: Instant, callback: impl FnOnce(&EventLoop) + 'static) -> TimerId {
        let name = type_name_of(&callback);
        let mut state = self.inner.state.borrow_mut();
        let id = TimerId { deadline, seq: state.next_timer_seq };
        state.next_timer_seq += 1;
        state.timers.insert(id, Named { name, f: Box::new(callback) });
        id
    }

    /// Cancels a timer. Returns whether it was still pending; a cancelled timer never fires.
    pub fn cancel(&self, timer: TimerId) -> bool {
        let removed = self.inner.state.borrow_mut().timers.remove(&timer);
        if let Some(callback) = &removed {
            trace!(self, "timer {} cancelled ({})", timer.seq, short_name(callback.name));
        }
        removed.is_some()
    }
    // ANCHOR_END: schedule

    /// A handle other threads can use to schedule callbacks on this loop. While any remote handle
    /// exists, `run` keeps waiting even when it has nothing else to do: the handle is a promise
    /// that work may still arrive.
    pub fn remote(&self) -> RemoteHandle {
        RemoteHandle::new(Arc::clone(&self.inner.poller), Arc::clone(&self.inner.remote))
    }

    /// A remote handle that does not keep `run` waiting (see [`RemoteHandle::downgrade`]), made
    /// without a strong one, whose drop would wake the loop for nothing.
    pub fn weak_remote(&self) -> WeakRemoteHandle {
        WeakRemoteHandle::new(&self.inner.poller, &self.inner.remote)
    }

    /// A handle that does not keep the loop alive, for objects the loop itself owns (a transport
    /// held by its socket's callback would otherwise keep the loop, and itself, alive forever).
    pub fn downgrade(&self) -> WeakEventLoop {
        WeakEventLoop(Rc::downgrade(&self.inner))
    }

    /// Makes `run` return after the current turn. What is still registered or scheduled stays so.
    pub fn stop(&self) {
        self.inner.state.borrow_mut().stopping = true;
    }

    /// How many sources are registered.
    pub fn registered(&self) -> usize {
        self.inner.state.borrow().sources.len()
    }

    // ANCHOR: run
    /// Runs turns until `stop` is called or nothing is left: no source registered, no callback or
    /// timer scheduled, no blocking job pending, no remote handle alive.
    pub fn run(&self) -> io::Result<()> {
        while self.run_once()? {}
        Ok(())
    }

    /// Runs one turn: waits for I/O (no longer than the earliest timer allows), then runs the I/O
    /// callbacks, the timers that are due and the callbacks scheduled before this turn. Returns
    /// `false` instead, at once, when `stop` has been called since the last turn (the stop is then
    /// spent) or when nothing is left that could ever happen.
    ///
    /// An error is one the poller's wait returned, which a live loop never sees: on descriptors the
    /// loop keeps open, `epoll_wait` (and the re-arming of the poller's own wake-up descriptors)
    /// fails only when a signal interrupts the wait, and `polling` then waits again. So a caller
    /// may treat an error as a bug, and panic.
    pub fn run_once(&self) -> io::Result<bool> {
        // Take what other threads sent.
        self.take_remote_callbacks();

        // Decide how long to sleep: not at all if callbacks are ready, until the earliest timer if
        // there is one, indefinitely if only I/O (or another thread) can wake us.
        let timeout = {
            let mut state = self.inner.state.borrow_mut();
            if std::mem::take(&mut state.stopping) {
                return Ok(false);
            }
            let remotes_alive = self.inner.remote.has_handles();
            let idle = state.ready.is_empty() && state.timers.is_empty() && state.sources.is_empty();
            if idle && state.jobs.is_empty() && !remotes_alive {
                return Ok(false); // nothing can ever happen again
            }
            if !state.ready.is_empty() {
                Some(Duration::ZERO)
            } else {
                state.timers.keys().next().map(|t| t.deadline.saturating_duration_since(Instant::now()))
            }
        };
        let ready_before_wait = self.inner.state.borrow().ready.len();

        // Block on I/O; or, with work ready, peek at it without blocking every few turns.
        // (`polling` retries by itself when a signal interrupts the wait.)
        let mut events = self.inner.events.borrow_mut();
        events.clear();
        let turns = self.inner.turns_since_io_check.get() + 1;
        self.inner.turns_since_io_check.set(turns);
        if timeout != Some(Duration::ZERO) || turns >= IO_CHECK_INTERVAL {
            self.inner.turns_since_io_check.set(0);
            let started = Instant::now();
            let asleep = timeline::asleep(timeout); // `--timeline`: the sleep, then the burst
            self.inner.poller.wait(&mut events, timeout)?;
            drop(asleep);
            trace!(
                self,
                "waited {:.3} ms (timeout {}) -> {} events",
                started.elapsed().as_secs_f64() * 1e3,
                timeout.map_or("none".to_string(), |t| format!("{:.3} ms", t.as_secs_f64() * 1e3)),
                events.len()
            );
        }

        let _burst = timeline::burst("callbacks");

        // Process I/O events.
        for event in events.iter() {
            self.dispatch(Token(event.key), Ready { readable: event.readable, writable: event.writable });
        }
        drop(events);

        // Process the timers that are due (only those due now: what they schedule waits).
        let now = Instant::now();
        let due: Vec<TimerId> =
            self.inner.state.borrow().timers.keys().take_while(|t| t.deadline <= now).copied().collect();
        for id in due {
            // Taken one at a time: an earlier timer in this batch may cancel a later one.
            let Some(timer) = self.inner.state.borrow_mut().timers.remove(&id) else { continue };
            trace!(self, "timer {} fired -> {}", id.seq, short_name(timer.name));
            timeline::ran(timer.name);
            (timer.f)(self);
        }

        // Run the callbacks that were scheduled before this turn.
        for _ in 0..ready_before_wait {
            let Some(callback) = self.inner.state.borrow_mut().ready.pop_front() else { break };
            trace!(self, "call_soon -> {}", short_name(callback.name));
            timeline::ran(callback.name);
            (callback.f)(self);
        }
        Ok(true)
    }
    // ANCHOR_END: run

    /// Runs a source's callback for one event, without holding any borrow while it runs.
    fn dispatch(&self, token: Token, ready: Ready) {
        let taken = self.inner.state.borrow_mut().sources.get_mut(&token).and_then(|s| s.callback.take());
        let Some(mut callback) = taken else {
            return; // deregistered earlier in this turn: a stale event
        };
        trace!(self, "io {} {ready} -> {}", token.0, short_name(callback.name));
        timeline::ran(callback.name);
        (callback.f)(self, ready);
        // Put it back, unless the callback deregistered its own source.
        let mut state = self.inner.state.borrow_mut();
        if let Some(source) = state.sources.get_mut(&token) {
            source.callback.get_or_insert(callback);
        } else {
            drop(state);
            drop(callback);
        }
    }

    /// Keeps `on_done` until the job it belongs to has returned ([`EventLoop::run_in_executor`]).
    pub(crate) fn add_job(&self, on_done: impl FnOnce(&EventLoop) + 'static) -> JobId {
        let name = type_name_of(&on_done);
        let mut state = self.inner.state.borrow_mut();
        let id = JobId(state.next_job);
        state.next_job += 1;
        state.jobs.insert(id, Named { name, f: Box::new(on_done) });
        id
    }

    /// A job's call has returned (sent by its thread): run its callback, unless it was forgotten.
    pub(crate) fn finish_job(&self, id: JobId) {
        let Some(on_done) = self.inner.state.borrow_mut().jobs.remove(&id) else { return };
        trace!(self, "job {} done -> {}", id.0, short_name(on_done.name));
        timeline::ran(on_done.name);
        (on_done.f)(self);
    }

    /// Nobody waits for this job any longer: drop its callback.
    pub(crate) fn forget_job(&self, id: JobId) {
        let forgotten = self.inner.state.borrow_mut().jobs.remove(&id);
        drop(forgotten); // outside the borrow: the callback may own things whose drop uses the loop
    }

    fn take_remote_callbacks(&self) {
        let sent: Vec<SendCallback> = self.inner.remote.take();
        let mut state = self.inner.state.borrow_mut();
        for callback in sent {
            state.ready.push_back(Named { name: "call_soon_threadsafe", f: callback });
        }
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.borrow();
        f.debug_struct("EventLoop")
            .field("sources", &state.sources.len())
            .field("timers", &state.timers.len())
            .field("ready", &state.ready.len())
            .field("jobs", &state.jobs.len())
            .finish()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.remote.close();
        // Delete every source from the poller before its descriptor can close (the SAFETY
        // promise made in `register`).
        for (_, source) in self.state.get_mut().sources.drain() {
            let _ = self.poller.delete(source.fd.as_fd());
        }
    }
}

/// A non-owning handle to a loop; see [`EventLoop::downgrade`].
#[derive(Clone)]
pub struct WeakEventLoop(Weak<Inner>);

impl WeakEventLoop {
    /// The loop, if it still exists.
    pub fn upgrade(&self) -> Option<EventLoop> {
        self.0.upgrade().map(|inner| EventLoop { inner })
    }
}

impl fmt::Debug for WeakEventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WeakEventLoop")
    }
}

fn event(token: Token, interest: Interest) -> Event {
    Event::new(token.0, interest.readable, interest.writable)
}

fn unknown_token() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no source registered with this token")
}

fn type_name_of<T>(_: &T) -> &'static str {
    std::any::type_name::<T>()
}
