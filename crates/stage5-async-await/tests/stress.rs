//! Stress: 100,000 stage-5 tasks, woken from other threads and aborted at random points, all end
//! with nothing leaked and nothing seen twice.
//!
//! What it proves, for every task:
//! * its future is dropped exactly once (a guard inside it counts its drops), whether it
//!   completed, was aborted (before its first poll, while pending, from inside another task or
//!   itself), lost its handle, or was still pending when `run` returned; and an aborted future
//!   is dropped at once, during `abort`;
//! * completed + cancelled == spawned, and an awaited `JoinHandle` says `Ok` exactly when the
//!   future ran to its end and `Err(Cancelled)` exactly when an abort won the race;
//! * its output is seen at most once, and dropped exactly once whether seen or not;
//! * [`tasks_alive`] is back where it started once `run` has returned: no task outlives its loop.
//!
//! Wakes come from helper threads, possibly several times, before the awaited event (spurious)
//! and after it (late), and for tasks that were aborted meanwhile. A lost wake shows as a hang,
//! which the watchdog turns into a failure. Choices come from a fixed-seed PRNG (printed; set
//! `STRESS_SEED` to try another), so a failing mix can be replayed; the helper threads' timing
//! is not replayed, which is the point of them.
//!
//! One `#[test]` in its own binary: `tasks_alive` counts the whole process, so another test
//! running beside it would disturb the count.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle as Thread;
use std::time::{Duration, Instant};

#[path = "../../../tests/support/stress.rs"]
mod support;

use stage5_async_await::executor::tasks_alive;
use stage5_async_await::{JoinError, JoinHandle, run, spawn, yield_now};
use support::{Ledger, Rng, bump};

/// How many tasks are spawned in all, children included.
const TASKS: usize = 100_000;
/// Threads that wake parked tasks.
const HELPERS: usize = 4;
/// The driver spawns this many, then settles each one's fate.
const BATCH: usize = 256;
/// The default seed; `STRESS_SEED` overrides it.
const SEED: u64 = 0x5EED_0005;
/// Far beyond a normal run (a few seconds): only a hang gets here.
const WATCHDOG: Duration = Duration::from_secs(300);

/// What happens to a task's `JoinHandle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    /// Aborted right after `spawn`, before the task's first poll.
    AbortAtOnce,
    /// Aborted a few turns later (pending, or finished already), then awaited.
    AbortLater,
    /// Awaited.
    Await,
    /// Dropped unawaited: the task runs on, or is cancelled when `run` returns.
    Detach,
    /// Kept where other tasks (and the task itself) can abort it; awaited at the end.
    Register,
}

/// What a task's future does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Finishes on its first poll.
    Ready,
    /// Yields one to three times.
    Yield,
    /// Parks its waker for helper threads, once or twice.
    Remote,
    /// Spawns a child and settles the child's fate itself.
    Child,
    /// Aborts a recently spawned registered task.
    AbortOther,
    /// Aborts itself (through the registry); its next `.await` must be its last.
    AbortSelf,
    /// Never finishes: only an abort, or the end of `run`, ends it.
    Forever,
}

/// Task `id`'s fate, kind and the rest of its random stream: the same for whoever asks.
fn plan(seed: u64, id: usize) -> (Fate, Kind, Rng) {
    use Fate::*;
    use Kind::*;
    let mut rng = Rng::for_task(seed, id);
    let fate = rng.pick(&[(10, AbortAtOnce), (25, AbortLater), (35, Await), (15, Detach), (15, Register)]);
    let kind = rng.pick(&[
        (15, Ready),
        (15, Yield),
        (35, Remote),
        (15, Child),
        (10, AbortOther),
        (5, AbortSelf),
        (5, Forever),
    ]);
    let kind = match (kind, fate) {
        (Forever, Await) => Yield, // an awaited task that never ends would hang the test
        (kind, _) => kind,
    };
    // It finds its own handle in the registry.
    let fate = if kind == AbortSelf { Register } else { fate };
    (fate, kind, rng)
}

/// Everything counted per task, on the loop's thread (the futures are not `Send`, so neither
/// is anything they drop).
struct Books {
    seed: u64,
    /// The next task's id; also how many were spawned.
    next_id: Cell<usize>,
    /// The task's future has been polled at least once.
    started: Vec<Cell<bool>>,
    /// Drops, completions and outputs (`observed`: an awaited handle gave the output).
    ledger: Ledger,
    /// Handles kept for aborting from inside tasks, by task id.
    registry: RefCell<BTreeMap<usize, JoinHandle<Output>>>,
    /// Registered tasks that an abort from inside a task cut short.
    aborted_pending: RefCell<BTreeSet<usize>>,
    /// The way to the helper threads; emptied after `run`, which lets them finish.
    helpers: RefCell<Vec<Sender<Job>>>,
    /// Set when the driver returns: a future dropped after that was cancelled by `run`'s end.
    driver_done: Cell<bool>,
}

impl Books {
    fn new(seed: u64, helpers: Vec<Sender<Job>>) -> Books {
        fn cells<T: Default>() -> Vec<T> {
            (0..TASKS).map(|_| T::default()).collect()
        }
        Books {
            seed,
            next_id: Cell::new(0),
            started: cells(),
            ledger: Ledger::new(TASKS),
            registry: RefCell::new(BTreeMap::new()),
            aborted_pending: RefCell::new(BTreeSet::new()),
            helpers: RefCell::new(helpers),
            driver_done: Cell::new(false),
        }
    }
}

impl Deref for Books {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

/// Owned by each task's future: its drop is the future's drop.
struct Guard {
    id: usize,
    books: Rc<Books>,
    /// Set just before the future returns its output.
    completed: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let books = &self.books;
        books.future_dropped(self.id, self.completed);
        if !self.completed && books.driver_done.get() {
            books.count("cancelled as run returned");
        }
    }
}

/// A task's output: counts its own drops, so an output kept forever (or dropped twice) shows.
struct Output {
    id: usize,
    books: Rc<Books>,
}

impl Drop for Output {
    fn drop(&mut self) {
        bump(&self.books.outputs_dropped[self.id]);
    }
}

/// Where a parked task leaves its waker for the helper threads.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    /// The event happened: the next poll finishes.
    fired: bool,
    /// The waker of the task's latest poll.
    waker: Option<Waker>,
}

/// Work for a helper thread.
enum Job {
    /// Wake the slot's task although nothing has happened: its poll must find nothing.
    Spurious(Arc<Slot>),
    /// Make the event happen and wake the task, then wake it `late` more times: by then it may be
    /// done, aborted, or parked somewhere else.
    Fire { slot: Arc<Slot>, late: usize },
}

fn helper(jobs: Receiver<Job>) {
    for job in jobs {
        match job {
            Job::Spurious(slot) => {
                let waker = slot.state.lock().unwrap().waker.clone();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Job::Fire { slot, late } => {
                // Set under the lock the poll reads it under, so a wake cannot fall between the
                // poll's check and its parking.
                let waker = {
                    let mut state = slot.state.lock().unwrap();
                    state.fired = true;
                    state.waker.take()
                };
                if let Some(waker) = waker {
                    for _ in 0..late {
                        waker.wake_by_ref();
                    }
                    waker.wake();
                }
            }
        }
    }
}

/// A future finished by helper threads: it parks its waker in a slot, and each poll asks a
/// helper for the next thing: first its spurious wakes, one per poll (so each is sure to meet a
/// poll that finds nothing), then the event, from one or two helpers.
struct Parked {
    slot: Arc<Slot>,
    books: Rc<Books>,
    /// The helpers still to send a spurious wake, one per poll.
    spurious: Vec<usize>,
    /// The helpers to fire the event, with their late wakes; taken when sent.
    fire: Option<Vec<(usize, usize)>>,
    /// Polls so far.
    polls: usize,
}

impl Parked {
    fn new(books: &Rc<Books>, rng: &mut Rng) -> Parked {
        let spurious = (0..rng.below(3)).map(|_| rng.below(HELPERS)).collect();
        let fire = (0..1 + rng.below(2)).map(|_| (rng.below(HELPERS), rng.below(2))).collect();
        Parked { slot: Arc::default(), books: Rc::clone(books), spurious, fire: Some(fire), polls: 0 }
    }
}

impl Future for Parked {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        {
            let mut state = this.slot.state.lock().unwrap();
            if state.fired {
                return Poll::Ready(());
            }
            state.waker = Some(cx.waker().clone());
        }
        if this.polls > 0 {
            this.books.count("polled before the event (spurious wake)");
        }
        this.polls += 1;
        let helpers = this.books.helpers.borrow();
        let send = |helper: usize, job| helpers[helper].send(job).expect("helpers outlive run");
        if let Some(helper) = this.spurious.pop() {
            send(helper, Job::Spurious(Arc::clone(&this.slot)));
        } else if let Some(fire) = this.fire.take() {
            for (helper, late) in fire {
                send(helper, Job::Fire { slot: Arc::clone(&this.slot), late });
            }
        }
        Poll::Pending
    }
}

/// A spawned task and what its handle's holder is to do with it.
struct Started {
    id: usize,
    fate: Fate,
    handle: JoinHandle<Output>,
}

/// Spawns the next task, unless all have been spawned; aborts it at once if that is its fate.
fn start(books: &Rc<Books>) -> Option<Started> {
    let id = books.next_id.get();
    if id == TASKS {
        return None;
    }
    books.next_id.set(id + 1);
    let (fate, kind, rng) = plan(books.seed, id);
    let guard = Guard { id, books: Rc::clone(books), completed: false };
    let handle = spawn(body(guard, kind, rng));
    if fate == Fate::AbortAtOnce {
        handle.abort();
    }
    Some(Started { id, fate, handle })
}

/// Does with a task's handle what its fate says.
async fn settle(books: &Books, started: Started, rng: &mut Rng) {
    let Started { id, fate, handle } = started;
    match fate {
        Fate::AbortAtOnce => {
            join(books, id, handle, true).await;
            assert!(!books.started[id].get(), "task {id} was polled after an abort before its first poll");
        }
        Fate::AbortLater => {
            for _ in 0..rng.below(3) {
                yield_now().await;
            }
            let cut_short = abort(books, id, &handle, false);
            books.count(if cut_short { "abort won" } else { "abort after completion" });
            join(books, id, handle, cut_short).await;
        }
        Fate::Await => join(books, id, handle, false).await,
        Fate::Detach => drop(handle),
        Fate::Register => {
            books.registry.borrow_mut().insert(id, handle);
        }
    }
}

/// Awaits a handle and checks what it says. Awaited through a reference, so the handle (and with
/// it the task) is still alive during the checks: a future the runtime kept in its task instead
/// of dropping it would still be counted as alive.
async fn join(books: &Books, id: usize, mut handle: JoinHandle<Output>, cut_short: bool) {
    let result = (&mut handle).await;
    record(books, id, result, cut_short);
    drop(handle);
}

/// Checks what an awaited handle said against what the task's future did, and against an abort
/// that cut it short (which must win).
fn record(books: &Books, id: usize, result: Result<Output, JoinError>, cut_short: bool) {
    let cut_short = cut_short || books.aborted_pending.borrow().contains(&id);
    // A handle is ready only once the future is gone: dropped before the outcome is published.
    assert_eq!(
        books.drops[id].get(),
        1,
        "task {id}'s handle is ready: its future must have been dropped, once"
    );
    let completed = books.completed[id].get();
    match result {
        Ok(output) => {
            assert!(!cut_short, "task {id} was aborted before it finished, yet gave its output");
            assert_eq!(output.id, id, "a handle gave another task's output");
            assert!(completed, "task {id}'s handle gave an output its future never returned");
            assert_eq!(bump(&books.observed[id]), 1, "task {id}'s output seen twice");
        }
        Err(JoinError::Cancelled) => {
            assert!(!completed, "task {id} ran to its end, yet its handle says Cancelled");
        }
        Err(JoinError::Panicked(message)) => panic!("task {id} panicked: {message}"),
        Err(JoinError::NoThread(_)) => unreachable!("task {id} is not a blocking call"),
    }
}

/// Aborts registered task `id`, if it is registered; true if that cut it short (it was not
/// finished), in which case its handle must say `Cancelled`.
fn abort_registered(books: &Books, id: usize, by_itself: bool) -> bool {
    // Taken out of the registry while it aborts: the registry is not borrowed while a future
    // is dropped, whatever that drop does.
    let Some(handle) = books.registry.borrow_mut().remove(&id) else { return false };
    let cut_short = abort(books, id, &handle, by_itself);
    books.registry.borrow_mut().insert(id, handle);
    if cut_short {
        books.aborted_pending.borrow_mut().insert(id);
    }
    cut_short
}

/// Aborts task `id` (from inside itself if `by_itself`); true if it was not finished, so that
/// the abort must win.
fn abort(books: &Books, id: usize, handle: &JoinHandle<Output>, by_itself: bool) -> bool {
    let pending = !handle.is_finished();
    handle.abort();
    assert!(handle.is_finished(), "an aborted task is finished at once");
    // A task aborting itself is in its poll, its future out of the task until the poll ends.
    if pending && !by_itself {
        assert_eq!(books.drops[id].get(), 1, "an aborted task's future is dropped at once");
    }
    pending
}

/// One task's future.
async fn body(mut guard: Guard, kind: Kind, mut rng: Rng) -> Output {
    let (id, books) = (guard.id, Rc::clone(&guard.books));
    books.started[id].set(true);
    match kind {
        Kind::Ready => {}
        Kind::Yield => {
            for _ in 0..1 + rng.below(3) {
                yield_now().await;
            }
        }
        Kind::Remote => {
            for _ in 0..1 + rng.below(2) {
                Parked::new(&books, &mut rng).await;
            }
        }
        Kind::Child => {
            if let Some(child) = start(&books) {
                settle(&books, child, &mut rng).await;
            }
        }
        Kind::AbortOther => {
            // One of the last few registered: likely still pending.
            let victim = books.registry.borrow().range(..id).rev().nth(rng.below(8)).map(|(&id, _)| id);
            if victim.is_some_and(|victim| abort_registered(&books, victim, false)) {
                books.count("aborted by another task");
            }
            yield_now().await;
        }
        Kind::AbortSelf => {
            // Give the holder of its handle a few turns to register it; it is not registered at
            // all if the driver has already taken the registry back for the end.
            for _ in 0..8 {
                yield_now().await;
                if abort_registered(&books, id, true) {
                    books.count("aborted itself");
                    yield_now().await;
                    unreachable!("task {id} was polled after aborting itself");
                }
            }
        }
        Kind::Forever => std::future::pending().await,
    }
    guard.completed = true;
    Output { id, books }
}

/// The main future: spawns every task in batches, settles each, then awaits the registered.
async fn drive(books: Rc<Books>) {
    let mut rng = Rng::new(books.seed);
    while books.next_id.get() < TASKS {
        let batch: Vec<Started> = std::iter::from_fn(|| start(&books)).take(BATCH).collect();
        // Zero to two turns: some tasks are pending when settled, some done, some unpolled.
        for _ in 0..rng.below(3) {
            yield_now().await;
        }
        for started in batch {
            settle(&books, started, &mut rng).await;
        }
    }
    // Tasks registered from here on (by detached parents) are cancelled when `run` returns.
    let registered = std::mem::take(&mut *books.registry.borrow_mut());
    for (id, handle) in registered {
        let (_, kind, _) = plan(books.seed, id);
        let cut_short = (kind == Kind::Forever || rng.below(2) == 0) && abort(&books, id, &handle, false);
        join(&books, id, handle, cut_short).await;
    }
    books.driver_done.set(true);
}

#[test]
fn a_hundred_thousand_tasks_woken_from_other_threads_and_aborted_at_random_leak_nothing() {
    let seed = support::seed(SEED);
    support::within(WATCHDOG, "a lost wake", move || stress(seed));
}

fn stress(seed: u64) {
    let alive_before = tasks_alive();
    let started = Instant::now();
    let (senders, helpers): (Vec<Sender<Job>>, Vec<Thread<()>>) = (0..HELPERS)
        .map(|_| {
            let (sender, jobs) = mpsc::channel();
            (sender, std::thread::spawn(move || helper(jobs)))
        })
        .unzip();
    let books = Rc::new(Books::new(seed, senders));

    run(drive(Rc::clone(&books)));

    // The helpers finish what they were sent (waking tasks of a loop that is gone) and stop.
    books.helpers.borrow_mut().clear();
    for helper in helpers {
        helper.join().unwrap();
    }
    // Handles registered after the driver's last look: their tasks were cancelled by `run`.
    let late = std::mem::take(&mut *books.registry.borrow_mut());
    drop(late);
    let took = started.elapsed();

    let spawned = books.next_id.get();
    assert_eq!(spawned, TASKS);
    books.check(spawned, "future");
    assert_eq!(tasks_alive(), alive_before, "tasks still alive after run returned");

    // The mix reaches every kind of abort, each hundreds of times or more (see the summary).
    books.check_coverage(
        spawned,
        took,
        &[
            "abort won",
            "abort after completion",
            "aborted by another task",
            "aborted itself",
            "cancelled as run returned",
            "polled before the event (spurious wake)",
        ],
    );
}
