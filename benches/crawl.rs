//! The whole crawl, every stage and mode, on the fixture site at 0 ms and at 5 ms of latency.
//!
//! ```text
//! cargo bench --bench crawl
//! cargo bench --bench crawl -- latency-5ms     # one group
//! cargo bench --bench crawl -- timeline-0ms    # what --timeline costs, off and on
//! ```
//!
//! At 0 ms the site answers at once and what is measured is each stage's own cost per page
//! (system calls, wake-ups, allocations). At 5 ms the crawl is I/O-bound, as real crawls are,
//! and what is measured is how well each stage overlaps the waits. The stages and modes are the
//! tour's (`tour::stages::ALL`), but for stage 1's processes mode, which is left to the tour: it
//! needs the stage binary as its child.

use std::time::Duration;

use crawl::Config;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const PAGES: usize = 60;

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
        // Named `1-sequential`, `2-busy-poll`, ...: the stage and the mode, as the tour has them.
        for run in tour::stages::ALL {
            let Some(crawl) = run.crawl else { continue };
            let name = format!("{}-{}", run.stage, run.mode);
            group.bench_function(BenchmarkId::new("crawl", name), |b| {
                b.iter(|| assert_eq!(crawl(&config).records().len() as u64, urls))
            });
        }
        group.finish();
    }
}

/// What `--timeline` costs: stages 2 and 5 (the busy loop, the event loop with its executor),
/// at 0 ms so that the crawl's own work is all there is to measure, with no timeline and with one
/// recorded (and written to a file) for every crawl. The `off` rows are the same crawls as
/// `latency-0ms`; that they stay within noise of a build without the recorder is checked by
/// running this group on both (see the closing note of the commit that added it).
fn timeline_cost(c: &mut Criterion) {
    let site = site::spawn(site::SiteConfig {
        pages: PAGES,
        latency: Duration::ZERO,
        faults: false,
        ..Default::default()
    })
    .expect("start the fixture site");
    let config = Config::from_cli_args(["bench", site.url().as_str(), "-q", "--max-tasks", "10"]).unwrap();
    let urls = stage5_async_await::crawl(&config).records().len() as u64;
    let file = std::env::temp_dir().join(format!("bench-timeline-{}.json", std::process::id()));
    let mut group = c.benchmark_group("timeline-0ms");
    group.throughput(Throughput::Elements(urls));
    group.sample_size(10);
    for run in tour::stages::ALL.iter().filter(|run| matches!(run.stage, 2 | 5)) {
        let crawl = run.crawl.expect("stages 2 and 5 crawl in process");
        let name = format!("{}-{}", run.stage, run.mode);
        group.bench_function(BenchmarkId::new("off", &name), |b| {
            b.iter(|| assert_eq!(crawl(&config).records().len() as u64, urls))
        });
        group.bench_function(BenchmarkId::new("on", &name), |b| {
            b.iter(|| {
                crawl::timeline::start(&file, "bench").expect("a temporary file");
                assert_eq!(crawl(&config).records().len() as u64, urls);
                crawl::timeline::finish().expect("write the timeline");
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_file(&file);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = crawl_site, timeline_cost
}
criterion_main!(benches);
