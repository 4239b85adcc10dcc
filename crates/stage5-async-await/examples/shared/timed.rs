//! Shared by the examples (each includes it with `#[path]`): run a `main` future and time it.

use std::time::{Duration, Instant};

/// Prints `-- title`, runs `main` on a fresh loop, then prints how many units it took.
pub fn timed<F: Future<Output = ()> + 'static>(title: &str, unit: Duration, main: F) {
    println!("-- {title}");
    let started = Instant::now();
    stage5_async_await::run(main);
    crawl::demo::print_took(started, unit);
}
