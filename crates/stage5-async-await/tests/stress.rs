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
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle as Thread;
use std::time::{Duration, Instant};

use stage5_async_await::executor::tasks_alive;
use stage5_async_await::{JoinError, JoinHandle, run, spawn, yield_now};

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

/// splitmix64: a tiny, good-enough PRNG, so that no dependency is needed and a seed replays.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    /// Task `id`'s own stream: its choices do not depend on the order tasks happen to run in.
    fn for_task(seed: u64, id: usize) -> Rng {
        Rng(seed ^ (id as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `choices`, each as likely as its weight.
    fn pick<T: Copy>(&mut self, choices: &[(usize, T)]) -> T {
        let mut roll = self.below(choices.iter().map(|(weight, _)| weight).sum());
        for &(weight, choice) in choices {
            if roll < weight {
                return choice;
            }
            roll -= weight;
        }
        unreachable!("roll below the total weight")
    }
}

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
    /// How many times the task's future was dropped (its guard's drops).
    drops: Vec<Cell<u32>>,
    /// The future ran to its end (set by the guard as it drops).
    completed: Vec<Cell<bool>>,
    /// How many times the task's output was dropped.
    outputs_dropped: Vec<Cell<u32>>,
    /// How many times an awaited handle gave the output.
    observed: Vec<Cell<u32>>,
    /// Futures that ran to their end, and futures dropped before it.
    completions: Cell<usize>,
    cancellations: Cell<usize>,
    /// Handles kept for aborting from inside tasks, by task id.
    registry: RefCell<BTreeMap<usize, JoinHandle<Output>>>,
    /// Registered tasks that an abort from inside a task cut short.
    aborted_pending: RefCell<BTreeSet<usize>>,
    /// The way to the helper threads; emptied after `run`, which lets them finish.
    helpers: RefCell<Vec<Sender<Job>>>,
    /// Set when the driver returns: a future dropped after that was cancelled by `run`'s end.
    driver_done: Cell<bool>,
    /// How the aborts went, for the summary and the coverage checks.
    tally: RefCell<BTreeMap<&'static str, usize>>,
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
            drops: cells(),
            completed: cells(),
            outputs_dropped: cells(),
            observed: cells(),
            completions: Cell::new(0),
            cancellations: Cell::new(0),
            registry: RefCell::new(BTreeMap::new()),
            aborted_pending: RefCell::new(BTreeSet::new()),
            helpers: RefCell::new(helpers),
            driver_done: Cell::new(false),
            tally: RefCell::new(BTreeMap::new()),
        }
    }

    fn count(&self, what: &'static str) {
        *self.tally.borrow_mut().entry(what).or_default() += 1;
    }
}

fn bump(cell: &Cell<u32>) -> u32 {
    cell.set(cell.get() + 1);
    cell.get()
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
        bump(&books.drops[self.id]);
        books.completed[self.id].set(self.completed);
        let tally = if self.completed { &books.completions } else { &books.cancellations };
        tally.set(tally.get() + 1);
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
    let mut rng = Rng(books.seed);
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

/// Runs `test` on a thread of its own and fails if it has not finished within `limit`: a lost
/// wake hangs a task forever, and a failure says more than a hang.
fn within(limit: Duration, test: impl FnOnce() + Send + 'static) {
    let (finished, done) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        test();
        drop(finished);
    });
    match done.recv_timeout(limit) {
        // Disconnected: the test returned or panicked; `join` tells which.
        Err(RecvTimeoutError::Disconnected) | Ok(()) => {
            thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        Err(RecvTimeoutError::Timeout) => panic!("still running after {limit:?}: a lost wake?"),
    }
}

#[test]
fn a_hundred_thousand_tasks_woken_from_other_threads_and_aborted_at_random_leak_nothing() {
    let seed = std::env::var("STRESS_SEED").map_or(SEED, |s| s.parse().expect("STRESS_SEED: a u64"));
    println!("stress seed: {seed} (STRESS_SEED={seed} replays its choices)");
    within(WATCHDOG, move || stress(seed));
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
    for id in 0..spawned {
        assert_eq!(books.drops[id].get(), 1, "task {id}'s future dropped {} times", books.drops[id].get());
        let completed = u32::from(books.completed[id].get());
        let dropped = books.outputs_dropped[id].get();
        assert_eq!(
            dropped, completed,
            "task {id} (completed: {completed}) had its output dropped {dropped} times"
        );
        assert!(books.observed[id].get() <= completed, "task {id}'s output seen without it completing");
    }
    let (completed, cancelled) = (books.completions.get(), books.cancellations.get());
    assert_eq!(completed + cancelled, spawned, "every future either completed or was cancelled");
    assert_eq!(tasks_alive(), alive_before, "tasks still alive after run returned");

    let tally = books.tally.borrow();
    println!("{spawned} tasks in {took:?}: {completed} completed, {cancelled} cancelled; {tally:?}");
    // The mix reaches every kind of abort, each hundreds of times or more (see the summary).
    for what in [
        "abort won",
        "abort after completion",
        "aborted by another task",
        "aborted itself",
        "cancelled as run returned",
        "polled before the event (spurious wake)",
    ] {
        assert!(tally.get(what).copied().unwrap_or(0) > 0, "no case of {what:?} in this mix");
    }
}
