//! The notes' download of 15 pages, three ways: one after another, a thread pool, tasks.
//!
//! ```text
//! cargo run --release -p stage5-async-await --example download
//! cargo run --release -p stage5-async-await --example download -- --latency-ms 200
//! ```
//!
//! Each page waits `--latency-ms` at the fixture site (started in this process). One after
//! another, 15 pages take about 15 latencies. Handing each blocking fetch (stage 1's) to
//! `spawn_blocking` runs as many at once as the pool has threads: about 15 / threads rounds.
//! As 15 tasks on the loop (stage 5's fetch), all 15 wait together: about one latency, on one
//! thread. The notes' point: async is not faster at any one request; it waits for many at once
//! without a thread for each.

use std::time::Instant;

use crawl::{Config, Fetched, Outcome};
use stage5_async_await::{gather, run, spawn, spawn_blocking};
use url::Url;

const PAGES: usize = 15;

// ANCHOR: download
/// `for url in urls: requests.get(url)`
fn one_after_another(urls: &[Url], config: &Config) {
    for url in urls {
        describe("sequential", &stage1_blocking::fetch::fetch(url, config));
    }
}

/// `loop.run_in_executor(None, requests.get, url)` for every URL: threads wait in `read`.
async fn in_a_thread_pool(urls: Vec<Url>, config: Config) {
    let handles = urls
        .into_iter()
        .map(|url| {
            let config = config.clone();
            spawn_blocking(move || stage1_blocking::fetch::fetch(&url, &config))
        })
        .collect();
    for fetched in gather(handles).await {
        describe("pool", &fetched.expect("a fetch does not panic"));
    }
}

/// `await asyncio.gather(*[fetch(url) for url in urls])`: tasks wait on the loop.
async fn as_tasks(urls: Vec<Url>, config: Config) {
    let config = std::rc::Rc::new(config);
    let handles = urls
        .into_iter()
        .map(|url| {
            let config = std::rc::Rc::clone(&config);
            spawn(async move { stage5_async_await::fetch::fetch(&url, &config).await })
        })
        .collect();
    for fetched in gather(handles).await {
        describe("tasks", &fetched.expect("a fetch does not panic"));
    }
}
// ANCHOR_END: download

fn main() {
    let latency = crawl::demo::millis_flag("--latency-ms", 100);
    let site = site::spawn(site::SiteConfig { latency, faults: false, ..site::SiteConfig::default() })
        .expect("start the fixture site");
    let config = Config::from_cli_args(["download", site.url().as_str(), "-q"]).expect("valid flags");
    let urls: Vec<Url> =
        (0..PAGES).map(|page| config.roots[0].join(&format!("page/{page}")).expect("valid URL")).collect();
    println!("{PAGES} pages, {} ms of server latency each", latency.as_millis());

    let started = Instant::now();
    one_after_another(&urls, &config);
    let sequential = started.elapsed().as_secs_f64();

    let started = Instant::now();
    run(in_a_thread_pool(urls.clone(), config.clone()));
    let pooled = started.elapsed().as_secs_f64();

    let started = Instant::now();
    run(as_tasks(urls, config));
    let tasks = started.elapsed().as_secs_f64();

    println!("sequential: {sequential:.3} s");
    println!("thread pool: {pooled:.3} s");
    println!("tasks: {tasks:.3} s");
    println!("sequential / thread pool: {:.1}x", sequential / pooled);
    println!("sequential / tasks: {:.1}x", sequential / tasks);
}

fn describe(how: &str, fetched: &Fetched) {
    let path = fetched.url.path();
    match &fetched.outcome {
        Outcome::Page { status, size, .. } => println!("{how:>10}: {path} {status} {size} bytes"),
        other => println!("{how:>10}: {path} {other:?}"),
    }
}
