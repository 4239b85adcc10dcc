//! The notes' download demo: 15 pages, first one after another, then with a pool of 5 threads
//! whose results are collected as they complete.
//!
//! ```text
//! cargo run --release -p stage1-blocking --example download_pool
//! cargo run --release -p stage1-blocking --example download_pool -- --latency-ms 200
//! ```
//!
//! Each page waits `--latency-ms` at the server, so 15 pages take about 15 latencies in turn and
//! about 3 with 5 threads: the threads spend that time asleep in `read`, not computing.

use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use crawl::{Config, Outcome};

const PAGES: usize = 15;
const THREADS: usize = 5;

fn main() {
    let latency = crawl::demo::millis_flag("--latency-ms", 100);
    let latency_ms = latency.as_millis();
    let site = site::spawn(site::SiteConfig { latency, faults: false, ..site::SiteConfig::default() })
        .expect("start the fixture site");
    let config = Config::from_cli_args(["download_pool", site.url().as_str(), "-q"]).expect("valid flags");
    let urls: Vec<url::Url> =
        (0..PAGES).map(|page| config.roots[0].join(&format!("page/{page}")).expect("valid URL")).collect();

    println!("{PAGES} pages, {latency_ms} ms of server latency each");

    // One after another: each fetch sleeps through its latency before the next starts.
    let started = Instant::now();
    for url in &urls {
        describe("sequential", &stage1_blocking::fetch::fetch(url, &config).outcome, url);
    }
    let sequential = started.elapsed();

    // A pool of THREADS workers taking URLs from a shared channel; each result is sent back the
    // moment it is done, so they print in completion order (Python's `as_completed`).
    let started = Instant::now();
    let (jobs, job_queue) = mpsc::channel::<url::Url>();
    let job_queue = std::sync::Mutex::new(job_queue);
    let (results, completed) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..THREADS {
            let (job_queue, results, config) = (&job_queue, results.clone(), &config);
            scope.spawn(move || {
                loop {
                    let next = job_queue.lock().expect("no worker panics").recv();
                    let Ok(url) = next else { break }; // the sender is gone: no more work
                    let fetched = stage1_blocking::fetch::fetch(&url, config);
                    let _ = results.send(fetched);
                }
            });
        }
        for url in &urls {
            jobs.send(url.clone()).expect("workers are alive");
        }
        drop((jobs, results));
        for fetched in completed {
            describe("pool", &fetched.outcome, &fetched.url);
        }
    });
    let pooled = started.elapsed();

    println!("sequential: {:.3} s", sequential.as_secs_f64());
    println!("pool of {THREADS}: {:.3} s", pooled.as_secs_f64());
    println!("ratio: {:.1}x", sequential.as_secs_f64() / pooled.as_secs_f64());
}

fn describe(how: &str, outcome: &Outcome, url: &url::Url) {
    match outcome {
        Outcome::Page { status, size, .. } => println!("{how:>10}: {} {status} {size} bytes", url.path()),
        other => println!("{how:>10}: {} {other:?}", url.path()),
    }
}
