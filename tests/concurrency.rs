//! `--max-tasks` is both reached and never exceeded, as the fixture site counts connections.

mod common;

use std::time::Duration;

use common::*;

/// Enough pages at enough latency that every worker is busy at once for a while.
fn busy_site() -> site::RunningSite {
    site::spawn(site::SiteConfig {
        pages: 60,
        links: 6,
        latency: Duration::from_millis(50),
        faults: false,
        ..site::SiteConfig::default()
    })
    .expect("start the fixture site")
}

#[test]
fn peak_connections_equal_max_tasks() {
    let site = busy_site();
    // Sequential mode holds one connection at a time: the next test.
    for run in stages::ALL.iter().filter(|run| run.mode != "sequential") {
        site.counters().reset_peak();
        let flags = [&["--max-tasks", "5", "--timeout", "5"], run.extra_flags].concat();
        let report = crawl_report(run.crate_name, &site, &flags);
        assert_eq!(crawl::report::counts(&report).map(|c| c.1), Some(0), "{report}");
        assert_eq!(site.counters().peak_connections(), 5, "{run}");
    }
}

#[test]
fn sequential_means_one_connection_at_a_time() {
    let site = busy_site();
    let report = crawl_report("stage1-blocking", &site, &["--mode", "sequential", "--max-tasks", "5"]);
    assert!(crawl::report::counts(&report).unwrap().0 > 60);
    assert_eq!(site.counters().peak_connections(), 1);
}

#[test]
fn faults_do_not_push_connections_past_max_tasks() {
    // Retries after a timeout, a reset or a refused body reconnect at once; each old connection
    // must be closed (and counted closed by the site) before its retry is counted.
    let site = site::spawn(site::SiteConfig {
        pages: 100,
        latency: Duration::from_millis(20),
        ..site::SiteConfig::default()
    })
    .expect("start the fixture site");
    for round in 0..4 {
        site.counters().reset_peak();
        let flags = ["--mode", "pool", "--max-tasks", "10", "--timeout", "0.2"];
        let report = crawl_report("stage1-blocking", &site, &flags);
        let errors = site::expected_errors(Duration::from_secs_f64(0.2), 4);
        assert_eq!(crawl::report::counts(&report).map(|c| c.1), Some(errors), "{report}");
        assert_eq!(site.counters().peak_connections(), 10, "round {round}");
    }
}
