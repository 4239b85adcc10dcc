//! The fault matrix: each faulty page of the fixture site ends in the expected report row, in
//! every stage, and the crawl as a whole still finishes.

mod common;

use common::*;

/// The row each fault must produce (after the URL), with the default `--max-tries 4`.
const EXPECTED: &[(&str, &str)] = &[
    ("/fault/reset", "error reset (4 tries)"),
    ("/fault/truncated", "error truncated (4 tries)"),
    ("/fault/garbage", "error malformed (4 tries)"),
    ("/fault/trickle", "error timeout (4 tries)"),
    ("/fault/silent", "error timeout (4 tries)"),
    // The body limit is reported on the first try: a retry would be just as large.
    ("/fault/huge", "error too-large (1 try)"),
];

fn check_fault_rows(report: &str, site: &site::RunningSite, what: &str) {
    for (path, expected) in EXPECTED {
        assert_eq!(row(report, site, path), Some(*expected), "{what}: {path}\n{report}");
    }
    let flaky = row(report, site, "/fault/flaky").expect("flaky row");
    assert!(
        flaky.starts_with("200 text/html") && flaky.ends_with(&format!("({} tries)", site::FLAKY_CYCLE)),
        "{what}: the flaky page succeeds on try {}: {flaky}",
        site::FLAKY_CYCLE
    );
    for path in ["/fault/chunked", "/fault/http10", "/fault/latin1", "/fault/latin1/caf%C3%A9"] {
        let row = row(report, site, path).unwrap_or_else(|| panic!("{what}: no row for {path}\n{report}"));
        assert!(row.starts_with("200 text/html"), "{what}: {path}: {row}");
    }
    assert!(
        row(report, site, "/fault/latin1/caf%EF%BF%BD").is_none(),
        "{what}: the latin-1 page was decoded as UTF-8"
    );
    assert!(row(report, site, "/fault/chunked").unwrap().contains("  2 links"), "{what}: chunked links");
}

#[test]
fn every_fault_ends_in_its_row_in_every_stage() {
    let site = small_site(true);
    for stage in stage_bins() {
        let report = crawl_report(stage, &site, &["--max-tasks", "6"]);
        check_fault_rows(&report, &site, stage);
        assert_eq!(
            crawl::report::counts(&report).map(|(_, errors)| errors),
            Some(EXPECTED.len()), // a 404 is a page, not an error
            "{stage}: errors in the summary\n{report}"
        );
    }
}

#[test]
fn fewer_tries_show_in_the_rows() {
    let site = small_site(true);
    let report = crawl_report("stage1-blocking", &site, &["--max-tries", "2"]);
    assert_eq!(row(&report, &site, "/fault/reset"), Some("error reset (2 tries)"));
    assert_eq!(row(&report, &site, "/fault/silent"), Some("error timeout (2 tries)"));
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
