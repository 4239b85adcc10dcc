//! The whole crawl, every stage and mode, on the fixture site at 0 ms and at 5 ms of latency.
//!
//! ```text
//! cargo bench --bench crawl
//! cargo bench --bench crawl -- latency-5ms     # one group
//! ```
//!
//! At 0 ms the site answers at once and what is measured is each stage's own cost per page
//! (system calls, wake-ups, allocations). At 5 ms the crawl is I/O-bound, as real crawls are,
//! and what is measured is how well each stage overlaps the waits. Stage 1's processes mode is
//! left to the tour: it needs the stage binary as its child.

use std::time::Duration;

use crawl::{Config, Report};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const PAGES: usize = 60;

/// One stage's crawl, called in this process.
type CrawlFn = fn(&Config) -> Report;

/// Every in-process stage and mode, by the name the tour uses.
const STAGES: [(&str, CrawlFn); 8] = [
    ("1-sequential", |c| stage1_blocking::crawl(c, stage1_blocking::Mode::Sequential)),
    ("1-threads", |c| stage1_blocking::crawl(c, stage1_blocking::Mode::Threads)),
    ("1-pool", |c| stage1_blocking::crawl(c, stage1_blocking::Mode::Pool)),
    ("2-busy-poll", stage2_busy_poll::crawl),
    ("3-callbacks", stage3_callbacks::crawl),
    ("4-generators", stage4_generators::crawl),
    ("5-async-await", stage5_async_await::crawl),
    ("6-tokio", stage6_tokio::crawl),
];

fn crawl_site(c: &mut Criterion) {
    for latency_ms in [0, 5] {
        let site = site::spawn(site::SiteConfig {
            pages: PAGES,
            latency: Duration::from_millis(latency_ms),
            faults: false,
            ..site::SiteConfig::default()
        })
        .expect("start the fixture site");
        let config =
            Config::from_cli_args(["bench", site.url().as_str(), "-q", "--max-tasks", "10"]).unwrap();
        let urls = stage5_async_await::crawl(&config).records().len() as u64;
        let mut group = c.benchmark_group(format!("latency-{latency_ms}ms"));
        group.throughput(Throughput::Elements(urls));
        group.sample_size(10);
        for (name, crawl) in STAGES {
            group.bench_function(BenchmarkId::new("crawl", name), |b| {
                b.iter(|| assert_eq!(crawl(&config).records().len() as u64, urls))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = crawl_site
}
criterion_main!(benches);
