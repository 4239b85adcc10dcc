//! A context switch: two OS threads passing a token back and forth, against two tasks.
//!
//! ```text
//! cargo bench --bench switch
//! ```
//!
//! One iteration is a round trip: the token goes over and comes back, so each side waits once
//! and is woken once. For threads that is two trips through the kernel's scheduler (a futex wait
//! and wake each way); for tasks it is two polls on one thread, with no system call at all. The
//! notes' claim, "switching coroutines is much cheaper than switching threads", is the ratio.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
// The same two programs `tour switch` runs, so the bench and the tour measure one thing.
use tour::lab::switch::{task_round_trips, thread_round_trips};

fn switch(c: &mut Criterion) {
    let mut group = c.benchmark_group("switch_round_trip");
    group.bench_function("os-threads", |b| b.iter_custom(thread_round_trips));
    group.bench_function("stage5-tasks", |b| b.iter_custom(task_round_trips));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = switch
}
criterion_main!(benches);
