//! Shared by the examples (each includes it with `#[path]`): run a `main` future and time it.

use std::time::{Duration, Instant};

/// Prints `-- title`, runs `main` on a fresh runtime, then prints how many units it took.
pub fn timed<F: Future<Output = ()> + 'static>(title: &str, unit: Duration, main: F) {
    println!("-- {title}");
    let started = Instant::now();
    stage6_tokio::run(main);
    crawl::demo::print_took(started, unit);
}
