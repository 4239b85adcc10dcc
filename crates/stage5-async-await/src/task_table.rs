//! The executor's task table, tuned: a `HashMap` from task number to task, with a hasher made
//! for those numbers.
//!
//! The lesson needs only "a map from a task's number to the task" (`executor.rs`), and a plain
//! `HashMap<TaskId, Rc<dyn Runnable>>` would do the same job. Its default hasher, SipHash,
//! protects a table from keys an attacker chose to collide. These keys are our own counters, not
//! input from outside, so that protection buys nothing, and it cost a tenth of a poll. Real
//! applications will want to tune this for their own keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use crate::executor::TaskId;
use crate::task::Runnable;

/// Every task not yet finished or aborted, by number.
pub(crate) type TaskTable = HashMap<TaskId, Rc<dyn Runnable>, BuildHasherDefault<TaskIdHasher>>;

/// Spreads consecutive ids over the whole `u64` (Fibonacci hashing: one multiplication), so the
/// table's probe tags, taken from the top bits, differ.
///
/// Not a general hasher: it is fast and good only for keys that are already distinct integers.
#[derive(Default)]
pub(crate) struct TaskIdHasher(u64);

/// 2^64 divided by the golden ratio, rounded down. Invariant: it is odd, so multiplying by it is
/// invertible mod 2^64, and no two ids get the same hash.
const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;
const _: () = assert!(FIBONACCI % 2 == 1);

impl Hasher for TaskIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(FIBONACCI);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(FIBONACCI);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
