//! What the stage-4 and stage-5 stress tests share: a seeded PRNG, a watchdog, and the ledger of
//! per-task drops and outputs that proves every future (or coroutine) was dropped exactly once.
//!
//! Each stress test includes this file with `#[path]`: the two live in different crates, and
//! their runtimes differ in everything but this bookkeeping. (A file here, below `tests/`, is not a
//! test target of its own: cargo only builds the files directly in `tests/`.)
#![allow(dead_code)] // each test uses a different subset

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// splitmix64: a tiny, good-enough PRNG, so that no dependency is needed and a seed replays.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Task `id`'s own stream: its choices do not depend on the order tasks happen to run in.
    pub fn for_task(seed: u64, id: usize) -> Rng {
        Rng(seed ^ (id as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `choices`, each as likely as its weight.
    pub fn pick<T: Copy>(&mut self, choices: &[(usize, T)]) -> T {
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

/// The seed: `STRESS_SEED` if set, else `default`; printed, so a failing mix can be replayed.
pub fn seed(default: u64) -> u64 {
    let seed = std::env::var("STRESS_SEED").map_or(default, |s| s.parse().expect("STRESS_SEED: a u64"));
    println!("stress seed: {seed} (STRESS_SEED={seed} replays its choices)");
    seed
}

/// Runs `test` on a thread of its own and fails if it has not finished within `limit`: a task
/// that waits forever (a lost wake, a lost done callback: `suspect`) hangs, and a failure says
/// more than a hang.
pub fn within(limit: Duration, suspect: &'static str, test: impl FnOnce() + Send + 'static) {
    let (finished, done) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        test();
        drop(finished);
    });
    // Disconnected: the test returned or panicked; `join` tells which.
    if let Err(RecvTimeoutError::Timeout) = done.recv_timeout(limit) {
        panic!("still running after {limit:?}: {suspect}?");
    }
    thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// Adds one to `cell`; returns the new count.
pub fn bump(cell: &Cell<u32>) -> u32 {
    cell.set(cell.get() + 1);
    cell.get()
}

/// What happened to every task's future and output, counted on the loop's thread.
pub struct Ledger {
    /// How many times the task's future was dropped (its guard's drops).
    pub drops: Vec<Cell<u32>>,
    /// The future ran to its end (set by the guard as it drops).
    pub completed: Vec<Cell<bool>>,
    /// How many times the task's output was dropped.
    pub outputs_dropped: Vec<Cell<u32>>,
    /// How many times the output reached whoever waited on the task.
    pub observed: Vec<Cell<u32>>,
    /// Futures that ran to their end, and futures dropped before it.
    pub completions: Cell<usize>,
    pub cancellations: Cell<usize>,
    /// How the cancels went, for the summary and the coverage checks.
    pub tally: RefCell<BTreeMap<&'static str, usize>>,
}

impl Ledger {
    /// A ledger for `tasks` tasks.
    pub fn new(tasks: usize) -> Ledger {
        fn cells<T: Default>(tasks: usize) -> Vec<T> {
            (0..tasks).map(|_| T::default()).collect()
        }
        Ledger {
            drops: cells(tasks),
            completed: cells(tasks),
            outputs_dropped: cells(tasks),
            observed: cells(tasks),
            completions: Cell::new(0),
            cancellations: Cell::new(0),
            tally: RefCell::new(BTreeMap::new()),
        }
    }

    /// One more case of `what`.
    pub fn count(&self, what: &'static str) {
        *self.tally.borrow_mut().entry(what).or_default() += 1;
    }

    /// Task `id`'s future was dropped, having run to its end or not.
    pub fn future_dropped(&self, id: usize, completed: bool) {
        bump(&self.drops[id]);
        self.completed[id].set(completed);
        let tally = if completed { &self.completions } else { &self.cancellations };
        tally.set(tally.get() + 1);
    }

    /// The checks every stress run ends with, for the `spawned` tasks whose futures are called
    /// `futures` in the messages: each dropped exactly once, each output dropped exactly when it
    /// was made and observed only then, and each future either completed or cancelled.
    pub fn check(&self, spawned: usize, futures: &str) {
        for id in 0..spawned {
            assert_eq!(
                self.drops[id].get(),
                1,
                "task {id}'s {futures} dropped {} times",
                self.drops[id].get()
            );
            let completed = u32::from(self.completed[id].get());
            let dropped = self.outputs_dropped[id].get();
            assert_eq!(
                dropped, completed,
                "task {id} (completed: {completed}) had its output dropped {dropped} times"
            );
            assert!(
                self.observed[id].get() <= completed,
                "task {id}'s output observed without it completing"
            );
        }
        let (completed, cancelled) = (self.completions.get(), self.cancellations.get());
        assert_eq!(completed + cancelled, spawned, "every {futures} either completed or was cancelled");
    }

    /// Prints the summary and fails unless the mix reached every case in `cases`.
    pub fn check_coverage(&self, spawned: usize, took: Duration, cases: &[&str]) {
        let (completed, cancelled) = (self.completions.get(), self.cancellations.get());
        let tally = self.tally.borrow();
        println!("{spawned} tasks in {took:?}: {completed} completed, {cancelled} cancelled; {tally:?}");
        for what in cases {
            assert!(tally.get(what).copied().unwrap_or(0) > 0, "no case of {what:?} in this mix");
        }
    }
}
