//! Stress: 100,000 stage-4 tasks, their futures set from other threads and the tasks cancelled at
//! random points, all end with nothing leaked and nothing seen twice.
//!
//! Stage 4's idiom throughout: every task is a hand-written `Coroutine` state machine; helper
//! threads set the futures tasks wait on through the loop's `RemoteHandle::call_soon_threadsafe`
//! (some twice: the second `set_result` must be refused); cancellation is `Task::cancel`, heard
//! by the coroutine as `Resume::Cancel`. What it proves, for every task:
//! * its coroutine is dropped exactly once (a guard inside it counts its drops), whether it
//!   completed or was cancelled (before its first step, while waiting, from inside another task
//!   or itself, or because the task that held it was cancelled);
//! * completed + cancelled == spawned; a task's future holds `Ok` exactly when its coroutine ran
//!   to its end and `Err(Cancelled)` exactly when a cancel won, in which case the coroutine heard
//!   `Resume::Cancel` (or never ran at all, if cancelled before its first step);
//! * `cancel()` answers true exactly when the task is not done yet, and a cancel it accepted
//!   always wins: also one a task makes of itself, whether it then waits or returns at once;
//! * its output is taken at most once, and dropped exactly once whether taken or not;
//! * [`tasks_alive`] is back where it started once the loop has run out of work.
//!
//! Stage 4 has no `run` that cancels what is left: a task waiting forever on a future only it
//! holds is a reference cycle (see `tasks_alive`). So here every task that would wait forever is
//! cancelled by whoever holds it, as the crawler does on Ctrl-C.
//!
//! A lost done callback shows as a hang, which the watchdog turns into a failure. Choices come
//! from a fixed-seed PRNG (printed; set `STRESS_SEED` to try another). One `#[test]` in its own
//! binary: `tasks_alive` counts the whole process, so another test beside it would disturb it.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Deref;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle as Thread;
use std::time::{Duration, Instant};

#[path = "../../../tests/support/stress.rs"]
mod support;

use stage3_callbacks::event_loop::EventLoop;
use stage3_callbacks::remote::RemoteHandle;
use stage4_generators::coroutine::{Coroutine, Resume, Step};
use stage4_generators::future::Future;
use stage4_generators::task::{Cancelled, Task, tasks_alive};
use stage4_generators::yield_from;
use support::{Ledger, Rng, bump};

/// How many tasks are spawned in all, children included.
const TASKS: usize = 100_000;
/// Threads that set futures.
const HELPERS: usize = 4;
/// The driver spawns this many, then settles each one's fate.
const BATCH: usize = 256;
/// The default seed; `STRESS_SEED` overrides it.
const SEED: u64 = 0x5EED_0004;
/// Far beyond a normal run (a few seconds): only a hang gets here.
const WATCHDOG: Duration = Duration::from_secs(300);

/// What the holder of a task does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Cancelled right after `spawn`, before the task's first step.
    CancelAtOnce,
    /// Cancelled a few turns later (waiting, or done already), then waited on.
    CancelLater,
    /// Waited on.
    Await,
    /// Forgotten: the task runs on.
    Detach,
    /// Kept where other tasks (and the task itself) can cancel it; waited on at the end.
    Register,
}

/// What a task's coroutine does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Returns on its first step.
    Ready,
    /// Waits on a future that is already done, one to three times.
    Yield,
    /// Waits on futures that helper threads set, once or twice.
    Remote,
    /// Spawns a child and settles the child's fate itself.
    Child,
    /// Cancels a recently spawned registered task.
    CancelOther,
    /// Cancels itself (through the registry); its next resume must be `Resume::Cancel`.
    CancelSelf,
    /// Waits on a future nobody sets: only a cancel ends it.
    Forever,
}

/// Task `id`'s fate, kind and the rest of its random stream: the same for whoever asks.
fn plan(seed: u64, id: usize) -> (Fate, Kind, Rng) {
    use Fate::*;
    use Kind::*;
    let mut rng = Rng::for_task(seed, id);
    let fate = rng.pick(&[(10, CancelAtOnce), (25, CancelLater), (35, Await), (15, Detach), (15, Register)]);
    let kind = rng.pick(&[
        (15, Ready),
        (15, Yield),
        (35, Remote),
        (15, Child),
        (10, CancelOther),
        (5, CancelSelf),
        (5, Forever),
    ]);
    let kind = match (kind, fate) {
        // Nobody would ever cancel these: a task waiting forever on its own future is a leak.
        (Forever, Await | Detach) => Yield,
        (kind, _) => kind,
    };
    // It finds its own handle in the registry.
    let fate = if kind == CancelSelf { Register } else { fate };
    (fate, kind, rng)
}

/// The type of every task here: `None` is only ever a coroutine's answer to `Resume::Cancel`,
/// which the task must ignore.
type Work = Task<Option<Output>>;

/// Everything counted per task, on the loop's thread.
struct Books {
    seed: u64,
    /// The next task's id; also how many were spawned.
    next_id: Cell<usize>,
    /// The coroutine has been resumed at least once.
    started: Vec<Cell<bool>>,
    /// How many times it was resumed with `Resume::Cancel`.
    heard_cancel: Vec<Cell<u32>>,
    /// Cancelled themselves and returned in that same step.
    gave_up: RefCell<BTreeSet<usize>>,
    /// Drops, completions and outputs of the coroutines (`observed`: the output was taken from
    /// the task's future).
    ledger: Ledger,
    /// Coroutines alive now.
    live: Cell<usize>,
    /// Done when every task has been spawned and every coroutine dropped.
    all_done: Future<()>,
    /// Tasks kept for cancelling from inside tasks, by task id.
    registry: RefCell<BTreeMap<usize, Work>>,
    /// Set when the driver has taken the registry for the last time.
    draining: Cell<bool>,
    /// Numbers the futures helpers set.
    next_ticket: Cell<u64>,
    /// The way to the helper threads, and the threads; both emptied at the end.
    helpers: RefCell<Vec<Sender<Job>>>,
    threads: RefCell<Vec<Thread<()>>>,
}

impl Deref for Books {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

/// Owned by each task's coroutine: its drop is the coroutine's drop.
struct Guard {
    id: usize,
    books: Rc<Books>,
    /// Set just before the coroutine returns its output.
    completed: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let books = &self.books;
        books.future_dropped(self.id, self.completed);
        books.live.set(books.live.get() - 1);
        if books.live.get() == 0 && books.next_id.get() == TASKS {
            books.all_done.set_result(()).expect("the last coroutine drops once");
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

thread_local! {
    /// The futures helpers are to set, by ticket, with how many sets are still to come. A
    /// callback sent from another thread must be `Send`, so it carries only the ticket; the
    /// future (an `Rc`, for this thread only) waits for it here.
    static TICKETS: RefCell<HashMap<u64, (Future<u64>, usize)>> = RefCell::new(HashMap::new());
}

/// Work for a helper thread: set ticket's future, `sets` times (all but the first are refused).
struct Job {
    ticket: u64,
    sets: usize,
}

fn helper(jobs: Receiver<Job>, remote: RemoteHandle) {
    for Job { ticket, sets } in jobs {
        for _ in 0..sets {
            remote.call_soon_threadsafe(move |_| set_ticket(ticket)).expect("the loop outlives its helpers");
        }
    }
}

/// Runs on the loop: one set of a ticket's future. The task may have been cancelled meanwhile,
/// so its done callback then finds the task gone from that wait and must not resume it.
fn set_ticket(ticket: u64) {
    let (future, last) = TICKETS.with(|tickets| {
        let mut tickets = tickets.borrow_mut();
        let (future, left) = tickets.get_mut(&ticket).expect("a ticket is kept until its last set");
        *left -= 1;
        let last = *left == 0;
        (future.clone(), last.then(|| tickets.remove(&ticket)))
    });
    if future.set_result(ticket).is_err() {
        REFUSED.with(|refused| refused.set(refused.get() + 1));
    }
    drop(last); // outside the table's borrow
}

thread_local! {
    /// Second sets of a ticket's future, refused with `AlreadyDone` (here rather than in the
    /// books, which a callback from another thread cannot carry).
    static REFUSED: Cell<usize> = const { Cell::new(0) };
}

/// A future that is done already: waiting on it gives the loop one turn, as `yield` would.
fn done_now(lp: &EventLoop) -> Box<Future<()>> {
    let future = Future::new(lp, "done");
    future.set_result(()).expect("new");
    Box::new(future)
}

/// A task just spawned and what its holder is to do with it.
struct Started {
    id: usize,
    fate: Fate,
    task: Work,
}

/// Spawns the next task, unless all have been spawned; cancels it at once if that is its fate.
fn start(lp: &EventLoop, books: &Rc<Books>) -> Option<Started> {
    let id = books.next_id.get();
    if id == TASKS {
        return None;
    }
    books.next_id.set(id + 1);
    books.live.set(books.live.get() + 1);
    let (fate, kind, rng) = plan(books.seed, id);
    let guard = Guard { id, books: Rc::clone(books), completed: false };
    let task = Task::spawn(lp, Worker { guard, kind, rng, state: State::Start });
    if fate == Fate::CancelAtOnce {
        assert!(task.cancel(), "task {id} has not run: cancel must be accepted");
    }
    Some(Started { id, fate, task })
}

/// Checks what a task's future holds against what its coroutine did, and against a cancel
/// that was accepted (which must win).
fn record(books: &Books, id: usize, result: Option<Result<Option<Output>, Cancelled>>, accepted: bool) {
    let result =
        result.unwrap_or_else(|| panic!("task {id} resumed its waiter, but its result is not there"));
    // A task is done only once its coroutine is gone: dropped before the result is set.
    assert_eq!(books.drops[id].get(), 1, "task {id} is done: its coroutine must have been dropped, once");
    let completed = books.completed[id].get();
    match result {
        Ok(Some(output)) => {
            assert!(!accepted, "task {id} accepted a cancel, yet finished with its output");
            assert_eq!(output.id, id, "a task gave another task's output");
            assert!(completed, "task {id} gave an output its coroutine never returned");
            assert_eq!(bump(&books.observed[id]), 1, "task {id}'s output taken twice");
        }
        Ok(None) => panic!("task {id}'s answer to Resume::Cancel came out as its result"),
        Err(Cancelled) => {
            assert!(!completed, "task {id} ran to its end, yet it says Cancelled");
            let heard = books.heard_cancel[id].get();
            // Heard once; or never, because it never ran or because it cancelled itself and
            // returned in the same step.
            let unheard = !books.started[id].get() || books.gave_up.borrow().contains(&id);
            assert!(
                heard == 1 || (heard == 0 && unheard),
                "cancelled task {id} heard Resume::Cancel {heard} times (started: {})",
                books.started[id].get()
            );
        }
    }
}

/// A coroutine that does with a task what its fate says: how the driver and a parent task
/// each hold the tasks they spawn.
struct Settle {
    id: usize,
    fate: Fate,
    task: Option<Work>,
    books: Rc<Books>,
    rng: Rng,
    state: SettleState,
    /// A cancel of ours was accepted: the task must end as cancelled.
    accepted: bool,
}

enum SettleState {
    /// Not resumed yet.
    Begin,
    /// Letting this many turns pass before cancelling.
    Pausing(usize),
    /// Waiting on the task.
    Waiting,
    /// Returned.
    Over,
}

impl Settle {
    fn new(started: Started, books: &Rc<Books>, rng: Rng) -> Settle {
        let Started { id, fate, task } = started;
        let state = SettleState::Begin;
        // Cancelled in `start`, and accepted (it asserts so).
        let accepted = fate == Fate::CancelAtOnce;
        Settle { id, fate, task: Some(task), books: Rc::clone(books), rng, state, accepted }
    }

    fn task(&self) -> &Work {
        self.task.as_ref().expect("held until settled")
    }

    /// Cancels the task, checking `cancel`'s answer: true exactly when it was not done.
    fn cancel(&mut self) -> bool {
        let was_done = self.task().is_done();
        let accepted = self.task().cancel();
        assert_eq!(accepted, !was_done, "task {}: cancel said {accepted}, done was {was_done}", self.id);
        self.accepted |= accepted;
        accepted
    }

    /// Puts the task where others can cancel it; after the driver's last look, cancels it and
    /// waits instead (nobody would be left to end it).
    fn register(&mut self) -> Step<()> {
        if self.books.draining.get() {
            self.cancel();
            self.state = SettleState::Waiting;
            return Step::Wait(Box::new(self.task().clone()));
        }
        let task = self.task.take().expect("held until settled");
        self.books.registry.borrow_mut().insert(self.id, task);
        self.state = SettleState::Over;
        Step::Done(())
    }
}

impl Coroutine for Settle {
    type Output = ();

    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<()> {
        if how == Resume::Cancel {
            // The holder is being cancelled. A task it was to cancel is cancelled now (stage 4
            // has no `run` to cancel leftovers); one to register is registered; the rest run on.
            match (&self.state, self.fate) {
                (SettleState::Over, _) => {}
                (_, Fate::CancelAtOnce | Fate::CancelLater) => {
                    self.cancel();
                }
                (_, Fate::Register) => {
                    let _ = self.register();
                }
                (_, Fate::Await | Fate::Detach) => {}
            }
            self.state = SettleState::Over;
            return Step::Done(());
        }
        loop {
            match self.state {
                SettleState::Begin => match self.fate {
                    Fate::CancelAtOnce | Fate::Await => {
                        self.state = SettleState::Waiting;
                        return Step::Wait(Box::new(self.task().clone()));
                    }
                    Fate::CancelLater => self.state = SettleState::Pausing(self.rng.below(3)),
                    Fate::Detach => {
                        self.task = None;
                        self.state = SettleState::Over;
                        return Step::Done(());
                    }
                    Fate::Register => return self.register(),
                },
                SettleState::Pausing(0) => {
                    let accepted = self.cancel();
                    self.books.count(if accepted { "cancel accepted" } else { "cancel after completion" });
                    self.state = SettleState::Waiting;
                    return Step::Wait(Box::new(self.task().clone()));
                }
                SettleState::Pausing(left) => {
                    self.state = SettleState::Pausing(left - 1);
                    return Step::Wait(done_now(lp));
                }
                SettleState::Waiting => {
                    if self.fate == Fate::CancelAtOnce {
                        assert!(
                            !self.books.started[self.id].get(),
                            "task {} ran after a cancel before its first step",
                            self.id
                        );
                    }
                    let task = self.task.take().expect("held until settled");
                    record(&self.books, self.id, task.future().take_result(), self.accepted);
                    assert!(task.future().take_result().is_none(), "task {}'s result taken twice", self.id);
                    self.state = SettleState::Over;
                    return Step::Done(());
                }
                SettleState::Over => panic!("a settled task was resumed"),
            }
        }
    }
}

/// One task's coroutine.
struct Worker {
    guard: Guard,
    kind: Kind,
    rng: Rng,
    state: State,
}

enum State {
    /// Not resumed yet.
    Start,
    /// Waiting on done futures; this many more after the current one.
    Yielding(usize),
    /// Waiting on a helper's future; this many more rounds after it.
    Remote { ticket: u64, future: Future<u64>, rounds_left: usize },
    /// Delegating to the settling of a child (`yield from`).
    Child(Box<Settle>),
    /// Yielding before cancelling itself, at most this many more times.
    AboutToCancelItself(usize),
    /// Has cancelled itself: the next resume must be `Resume::Cancel`.
    CancelledItself,
    /// Waiting on a future nobody sets.
    Forever(Future<()>),
    /// Returned.
    Finished,
}

impl Worker {
    /// Waits on a new future for the helpers to set.
    fn remote_round(&mut self, lp: &EventLoop, rounds_left: usize) -> Step<Option<Output>> {
        let books = &self.guard.books;
        let ticket = books.next_ticket.replace(books.next_ticket.get() + 1);
        let future = Future::new(lp, "remote");
        // One or two helpers, each setting it once or twice.
        let jobs: Vec<(usize, usize)> =
            (0..1 + self.rng.below(2)).map(|_| (self.rng.below(HELPERS), 1 + self.rng.below(2))).collect();
        let sets = jobs.iter().map(|&(_, sets)| sets).sum();
        TICKETS.with(|tickets| tickets.borrow_mut().insert(ticket, (future.clone(), sets)));
        let helpers = books.helpers.borrow();
        for (helper, sets) in jobs {
            helpers[helper].send(Job { ticket, sets }).expect("helpers outlive the tasks");
        }
        self.state = State::Remote { ticket, future: future.clone(), rounds_left };
        Step::Wait(Box::new(future))
    }

    fn finish(&mut self) -> Step<Option<Output>> {
        self.state = State::Finished;
        self.guard.completed = true;
        Step::Done(Some(Output { id: self.guard.id, books: Rc::clone(&self.guard.books) }))
    }
}

impl Coroutine for Worker {
    type Output = Option<Output>;

    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Option<Output>> {
        let (id, books) = (self.guard.id, Rc::clone(&self.guard.books));
        if how == Resume::Cancel {
            bump(&books.heard_cancel[id]);
            if let State::Child(settle) = &mut self.state {
                let _ = settle.resume(lp, how); // cancellation travels down
            }
            self.state = State::Finished;
            return Step::Done(None);
        }
        loop {
            match &mut self.state {
                State::Start => {
                    books.started[id].set(true);
                    match self.kind {
                        Kind::Ready => return self.finish(),
                        Kind::Yield => self.state = State::Yielding(1 + self.rng.below(3)),
                        Kind::Remote => {
                            let rounds = self.rng.below(2);
                            return self.remote_round(lp, rounds);
                        }
                        Kind::Child => match start(lp, &books) {
                            Some(child) => {
                                let rng = Rng::new(self.rng.next());
                                self.state = State::Child(Box::new(Settle::new(child, &books, rng)));
                            }
                            None => return self.finish(),
                        },
                        Kind::CancelOther => {
                            // One of the last few registered: likely still waiting.
                            let registry = books.registry.borrow();
                            let victim = registry.range(..id).rev().nth(self.rng.below(8));
                            let victim = victim.map(|(_, victim)| victim.clone());
                            drop(registry);
                            if victim.is_some_and(|victim| victim.cancel()) {
                                books.count("cancelled by another task");
                            }
                            self.state = State::Yielding(1);
                        }
                        Kind::CancelSelf => {
                            self.state = State::AboutToCancelItself(8);
                            return Step::Wait(done_now(lp));
                        }
                        Kind::Forever => {
                            let never = Future::new(lp, "never");
                            self.state = State::Forever(never.clone());
                            return Step::Wait(Box::new(never));
                        }
                    }
                }
                State::Yielding(0) => return self.finish(),
                State::Yielding(left) => {
                    *left -= 1;
                    return Step::Wait(done_now(lp));
                }
                State::Remote { ticket, future, rounds_left } => {
                    assert_eq!(
                        future.take_result(),
                        Some(*ticket),
                        "task {id} resumed before its future was set"
                    );
                    if *rounds_left == 0 {
                        return self.finish();
                    }
                    let rounds = *rounds_left - 1;
                    return self.remote_round(lp, rounds);
                }
                State::Child(settle) => {
                    yield_from!(**settle, lp, how);
                    return self.finish();
                }
                State::AboutToCancelItself(tries) => {
                    // Its holder may not have registered it yet: a few more turns for that. It is
                    // not registered at all if the driver has taken the registry back for the end.
                    let me = books.registry.borrow().get(&id).cloned();
                    let Some(me) = me else {
                        if *tries == 0 {
                            return self.finish();
                        }
                        *tries -= 1;
                        return Step::Wait(done_now(lp));
                    };
                    assert!(
                        me.cancel(),
                        "task {id} is running, not done: cancelling itself must be accepted"
                    );
                    self.state = State::Finished;
                    if self.rng.below(2) == 0 {
                        // Gives up at once: the step returns, and the accepted cancel must still
                        // win (this `None` must not come out as the task's result).
                        books.count("cancelled itself and returned");
                        books.gave_up.borrow_mut().insert(id);
                        return Step::Done(None);
                    }
                    // Or waits: the cancel lands at that wait, as `Resume::Cancel`.
                    books.count("cancelled itself");
                    self.state = State::CancelledItself;
                    return Step::Wait(done_now(lp));
                }
                State::CancelledItself => panic!("task {id} resumed with Ready after cancelling itself"),
                State::Forever(never) => panic!("task {id}: {:?}, which nobody sets, was done", never.name()),
                State::Finished => panic!("task {id} resumed after returning"),
            }
        }
    }
}

/// The main coroutine: spawns every task in batches and settles each, then waits on the
/// registered ones, then for every coroutine to be gone, then stops the helpers.
struct Driver {
    books: Rc<Books>,
    rng: Rng,
    /// Spawned and not yet settled.
    queue: VecDeque<Started>,
    state: DriverState,
}

enum DriverState {
    /// Spawning the next batch, or taking the registry when all are spawned.
    Spawn,
    /// Letting this many turns pass before settling the batch.
    Pausing(usize),
    /// Settling the next in the queue.
    Next,
    /// Delegating to a settle (`yield from`).
    Settling(Box<Settle>),
    /// Waiting for the last coroutine to drop.
    AllDone,
    /// Returned.
    Finished,
}

impl Coroutine for Driver {
    type Output = ();

    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<()> {
        let books = Rc::clone(&self.books);
        loop {
            match &mut self.state {
                DriverState::Spawn if books.next_id.get() < TASKS => {
                    self.queue.extend(std::iter::from_fn(|| start(lp, &books)).take(BATCH));
                    // Zero to two turns: some tasks are waiting when settled, some done, some
                    // not started.
                    self.state = DriverState::Pausing(self.rng.below(3));
                }
                DriverState::Spawn => {
                    books.draining.set(true);
                    let registered = std::mem::take(&mut *books.registry.borrow_mut());
                    for (id, task) in registered {
                        let (_, kind, _) = plan(books.seed, id);
                        // Those that would wait forever must be cancelled; half the others too.
                        let cancel = kind == Kind::Forever || self.rng.below(2) == 0;
                        let fate = if cancel { Fate::CancelLater } else { Fate::Await };
                        self.queue.push_back(Started { id, fate, task });
                    }
                    self.state = DriverState::Next;
                }
                DriverState::Pausing(0) => self.state = DriverState::Next,
                DriverState::Pausing(left) => {
                    *left -= 1;
                    return Step::Wait(done_now(lp));
                }
                DriverState::Next => match self.queue.pop_front() {
                    Some(started) => {
                        let rng = Rng::new(self.rng.next());
                        self.state = DriverState::Settling(Box::new(Settle::new(started, &books, rng)));
                    }
                    None if books.draining.get() => {
                        self.state = DriverState::AllDone;
                        return Step::Wait(Box::new(books.all_done.clone()));
                    }
                    None => self.state = DriverState::Spawn,
                },
                DriverState::Settling(settle) => {
                    yield_from!(**settle, lp, how);
                    self.state = DriverState::Next;
                }
                DriverState::AllDone => {
                    // Every coroutine is gone, so no more jobs: let the helpers finish theirs,
                    // and wait for them here. Waiting matters: the loop keeps running while a
                    // remote handle exists, and the helpers' last handles must be gone before
                    // it next looks (a handle dropped while it sleeps would not wake it).
                    books.helpers.borrow_mut().clear();
                    for thread in books.threads.borrow_mut().drain(..) {
                        thread.join().expect("a helper panicked");
                    }
                    self.state = DriverState::Finished;
                    return Step::Done(());
                }
                DriverState::Finished => panic!("the driver resumed after returning"),
            }
        }
    }
}

#[test]
fn a_hundred_thousand_tasks_set_from_other_threads_and_cancelled_at_random_leak_nothing() {
    let seed = support::seed(SEED);
    support::within(WATCHDOG, "a lost done callback", move || stress(seed));
}

fn stress(seed: u64) {
    let alive_before = tasks_alive();
    let started = Instant::now();
    let lp = EventLoop::new().unwrap();
    let (senders, threads): (Vec<Sender<Job>>, Vec<Thread<()>>) = (0..HELPERS)
        .map(|_| {
            let (sender, jobs) = mpsc::channel();
            let remote = lp.remote();
            (sender, std::thread::spawn(move || helper(jobs, remote)))
        })
        .unzip();
    fn cells<T: Default>() -> Vec<T> {
        (0..TASKS).map(|_| T::default()).collect()
    }
    let books = Rc::new(Books {
        seed,
        next_id: Cell::new(0),
        started: cells(),
        heard_cancel: cells(),
        gave_up: RefCell::new(BTreeSet::new()),
        ledger: Ledger::new(TASKS),
        live: Cell::new(0),
        all_done: Future::new(&lp, "all done"),
        registry: RefCell::new(BTreeMap::new()),
        draining: Cell::new(false),
        next_ticket: Cell::new(0),
        helpers: RefCell::new(senders),
        threads: RefCell::new(threads),
    });

    let driver = Driver {
        books: Rc::clone(&books),
        rng: Rng::new(seed),
        queue: VecDeque::new(),
        state: DriverState::Spawn,
    };
    let driver = Task::spawn(&lp, driver);
    lp.run().unwrap();
    assert_eq!(driver.future().take_result(), Some(Ok(())), "the driver finished");
    drop(driver);
    let took = started.elapsed();

    let spawned = books.next_id.get();
    assert_eq!(spawned, TASKS);
    books.check(spawned, "coroutine");
    for id in 0..spawned {
        assert!(books.heard_cancel[id].get() <= 1, "task {id} heard Resume::Cancel twice");
    }
    assert_eq!(TICKETS.with(|tickets| tickets.borrow().len()), 0, "every set of every ticket arrived");
    assert!(books.registry.borrow().is_empty());
    assert_eq!(tasks_alive(), alive_before, "tasks still alive after the loop ran out of work");

    books.tally.borrow_mut().insert("second set refused", REFUSED.with(Cell::get));
    // The mix reaches every kind of cancel, each hundreds of times or more (see the summary).
    books.check_coverage(
        spawned,
        took,
        &[
            "cancel accepted",
            "cancel after completion",
            "cancelled by another task",
            "cancelled itself",
            "cancelled itself and returned",
            "second set refused",
        ],
    );
}
