//! The fault matrix: each faulty page of the fixture site ends in the expected report row, in
//! every stage, and the crawl as a whole still finishes.

use std::time::Duration;

mod common;

use common::*;

/// Checks every fault's row in `report` against what the site says it must be (`site::FAULTS`),
/// for a crawl with these `--timeout` and `--max-tries`.
fn check_fault_rows(
    report: &str,
    site: &site::RunningSite,
    (timeout, max_tries): (Duration, u32),
    what: &str,
) {
    let mut rows = 0;
    for fault in site::FAULTS {
        let found = row(report, site, fault.path);
        match fault.row(timeout, max_tries) {
            Some(expected) => {
                let found = found.unwrap_or_else(|| panic!("{what}: no row for {}\n{report}", fault.path));
                assert!(expected.matches(found), "{what}: {}: {found:?}, expected {expected:?}", fault.path);
                rows += 1;
            }
            None => assert_eq!(found, None, "{what}: {} is not linked", fault.path),
        }
    }
    assert!(rows >= 10, "{what}: the faults were crawled ({rows} rows)");
    assert!(
        row(report, site, "/fault/latin1/caf%EF%BF%BD").is_none(),
        "{what}: the latin-1 page was decoded as UTF-8"
    );
}

/// The tests' `--timeout`, and the default `--max-tries`.
fn test_settings() -> (Duration, u32) {
    (Duration::from_secs_f64(TEST_TIMEOUT.parse().unwrap()), 4)
}

#[test]
fn every_fault_ends_in_its_row_in_every_stage() {
    let site = small_site(true);
    for stage in stage_bins() {
        let report = crawl_report(stage, &site, &["--max-tasks", "6"]);
        check_fault_rows(&report, &site, test_settings(), stage);
        let (timeout, max_tries) = test_settings();
        assert_eq!(
            crawl::report::counts(&report).map(|(_, errors)| errors),
            Some(site::expected_errors(timeout, max_tries)), // a 404 is a page, not an error
            "{stage}: errors in the summary\n{report}"
        );
    }
}

#[test]
fn fewer_tries_show_in_the_rows() {
    let site = small_site(true);
    let report = crawl_report("stage1-blocking", &site, &["--max-tries", "2"]);
    check_fault_rows(&report, &site, (test_settings().0, 2), "--max-tries 2");
    assert_eq!(row(&report, &site, "/fault/reset"), Some("error reset (2 tries)"));
    // The flaky page needs three tries; with two it fails like the reset page.
    assert_eq!(row(&report, &site, "/fault/flaky"), Some("error reset (2 tries)"));
}

#[test]
fn redirects_and_foreign_hosts_follow_the_rules() {
    let site = small_site(true);
    let report = crawl_report("stage1-blocking", &site, &[]);
    let base = site.url();
    assert_eq!(
        row(&report, &site, "/redirect/loop/a"),
        Some(format!("302 -> {base}redirect/loop/b").as_str())
    );
    assert_eq!(
        row(&report, &site, "/redirect/loop/b"),
        Some(format!("302 -> {base}redirect/loop/a").as_str())
    );
    assert_eq!(
        row(&report, &site, "/redirect/offsite"),
        Some("302 -> http://example.com/ (not followed: not allowed)")
    );
    assert_eq!(row(&report, &site, "/redirect/chain/1"), Some(format!("301 -> {base}page/1").as_str()));
    assert!(row(&report, &site, "/missing/index").unwrap().starts_with("404 "));
    // The index links the same server as `localhost:PORT`: a strict crawler never asks for it.
    let alias = format!("localhost:{}", site.addr().port());
    assert_eq!(site.counters().requests_for_host(&alias), 0, "{:?}", site.counters().hosts());
    assert!(!report.contains("localhost"), "{report}");
    let prefix = site.url();
    assert!(report.lines().take_while(|l| !l.is_empty()).all(|l| l.starts_with(&prefix)), "{report}");
}
