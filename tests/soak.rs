//! Soak: stage 5 crawls a 20,000-page fixture site, faults on, with `--max-tasks 200`, three
//! times. Every URL is accounted for, the crawler's memory stays bounded, and the three reports
//! are identical.
//!
//! "Every URL" is measured against things stage 5 has no say in: the site's page count (each
//! page links the next, so all are reachable), the site's own count of requests, and the report
//! of stage 1 crawling the same site sequentially, one request at a time, where there is no
//! interleaving that could lose a URL.
//!
//! The crawlers run as child processes, so a crawler's peak resident memory (`VmHWM`) is its own;
//! the site runs in this process, where its counters can be read. They are release builds: a
//! soak is about the program as it is really run (and a debug build takes three times as long).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const PAGES: usize = 20_000;
const MAX_TASKS: u64 = 200;
const RUNS: usize = 3;

/// The per-request timeout. Longer than [`TEST_TIMEOUT`]: a page must never time out because
/// 200 requests queue at a busy test machine (that would change the report from run to run). The
/// faults that never answer cost 4 tries of it, in parallel with the rest of the crawl.
const TIMEOUT: &str = "1";

/// The bound on stage 5's peak RSS. Measured: about 28 MiB (x86-64 Linux), of which 5 MiB is the
/// process itself and the rest the crawl's records (every URL with its links, kept for the
/// report). Keeping every page's body as well (40 MB in all) crosses it: that was tried, 72 MiB.
const MAX_RSS_KIB: u64 = 64 * 1024;

/// The site: 20,000 pages, faults on. Two links a page keep the crawl's records small, so that
/// memory spent on anything else stands out.
fn big_site(latency: Duration) -> site::RunningSite {
    let config = site::SiteConfig { pages: PAGES, links: 2, latency, ..site::SiteConfig::default() };
    site::spawn(config).expect("start the fixture site")
}

#[test]
fn stage5_accounts_for_every_url_of_a_big_site_in_bounded_memory() {
    let bins = release_bins(&["stage1-blocking", "stage5-async-await"]);
    // The reference: stage 1, sequential, on a site without latency (one request at a time, so
    // latency would only add up). Its load is one request, so the usual short timeout will do.
    let sequential = ["--mode", "sequential", "--timeout", TEST_TIMEOUT];
    let started = Instant::now();
    let (reference, _) = crawl(&bins.join("stage1-blocking"), &big_site(Duration::ZERO), &sequential);
    eprintln!("soak reference (stage 1, sequential): {:.1} s", started.elapsed().as_secs_f64());
    let reference = normalized(&reference);
    // The same site with a little latency, which keeps each connection open long enough that
    // stage 5 has many requests in flight at once (measured: 150 to 170), rather than finishing
    // each before it has started the next. The port differs; `normalized` takes it out.
    let site = big_site(Duration::from_millis(5));
    let stage5 = bins.join("stage5-async-await");
    for run in 1..=RUNS {
        site.counters().reset_peak();
        let started = Instant::now();
        let (report, peak_kib) = crawl(&stage5, &site, &["--timeout", TIMEOUT]);
        let peak_connections = site.counters().peak_connections();
        eprintln!(
            "soak run {run}: {} urls in {:.1} s, peak RSS {:.1} MiB, peak connections {peak_connections}",
            crawl::report::counts(&report).map_or(0, |(urls, _)| urls),
            started.elapsed().as_secs_f64(),
            peak_kib as f64 / 1024.0,
        );
        assert!(peak_kib <= MAX_RSS_KIB, "run {run}: the crawler's peak RSS was {peak_kib} KiB");
        assert!(peak_connections <= MAX_TASKS, "run {run}: {peak_connections} connections at once");
        // Line by line, so that a failure shows the first difference rather than 2 MB of text.
        let report = normalized(&report);
        let differs = reference.lines().zip(report.lines()).find(|(want, got)| want != got);
        assert!(differs.is_none(), "run {run} differs from the sequential crawl: {differs:?}");
        assert_eq!(report.lines().count(), reference.lines().count(), "run {run}: rows");
    }
}

/// Crawls `site` with the crawler at `exe`; checks that the report accounts for every URL, and
/// returns the report and the crawler's peak RSS in KiB.
fn crawl(exe: &Path, site: &site::RunningSite, flags: &[&str]) -> (String, u64) {
    let requests_before = site.counters().requests();
    let mut child = Command::new(exe)
        .arg(site.url())
        .args(["-q", "--max-tasks", &MAX_TASKS.to_string()])
        .args(flags)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the crawler");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Nothing comes out before the crawl is over and its report computed, so the first bytes of
    // the report are the moment to read the high-water mark. The crawler cannot have exited yet:
    // the rest of its report (2 MB) is far more than the pipe holds until we read on.
    let peak_kib = if stdout.fill_buf().expect("read the report").is_empty() {
        None // no report: the crawler failed, and the check of its exit status below says how
    } else {
        Some(peak_rss_kib(child.id()).expect("the crawler's memory in /proc/PID/status (Linux)"))
    };
    let mut report = String::new();
    stdout.read_to_string(&mut report).expect("a UTF-8 report");
    let status = child.wait().expect("wait for the crawler");
    assert!(status.success(), "{} exited with {status}\n{report}", exe.display());
    account_for_every_url(&report, site, site.counters().requests() - requests_before);
    (report, peak_kib.expect("a report"))
}

/// Checks that the report accounts for every URL exactly once:
///
/// - every generated page has its row;
/// - no URL has two rows, and none is off the site;
/// - the site answered exactly as many requests as the rows count tries: none was made twice,
///   none went unreported;
/// - the summary's counts add up.
fn account_for_every_url(report: &str, site: &site::RunningSite, requests: u64) {
    let rows: Vec<(&str, &str)> = report
        .lines()
        .take_while(|line| !line.is_empty())
        .map(|line| line.split_once(' ').expect("a row is URL, then outcome"))
        .collect();
    let urls: Vec<&str> = rows.iter().map(|(url, _)| *url).collect();
    // Sorted by URL, so strictly increasing means no URL twice.
    assert!(urls.windows(2).all(|w| w[0] < w[1]), "rows out of order or repeated");
    let base = site.url();
    assert!(urls.iter().all(|url| url.starts_with(&base)), "a row off the site");
    let listed: BTreeSet<&str> = urls.iter().copied().collect();
    let missing: Vec<usize> =
        (0..PAGES).filter(|n| !listed.contains(format!("{base}page/{n}").as_str())).collect();
    assert!(missing.is_empty(), "{} pages have no row, e.g. /page/{}", missing.len(), missing[0]);

    // A row ends in "(N tries)" or "(1 try)" when it took other than one try.
    let tries: u64 = rows
        .iter()
        .map(|(_, outcome)| match outcome.split_whitespace().collect::<Vec<_>>()[..] {
            [.., count, "tries)" | "try)"] => count.trim_start_matches('(').parse().expect("tries"),
            _ => 1,
        })
        .sum();
    assert_eq!(tries, requests, "tries in the report, requests the site answered");
    assert_eq!(site.counters().hosts().len(), 1, "{:?}", site.counters().hosts());

    let summary = |name: &str| -> &str {
        report.lines().find_map(|l| l.trim_start().strip_prefix(name)).expect(name).trim_start()
    };
    let number = |name: &str| -> usize {
        summary(name).split_whitespace().next().and_then(|n| n.parse().ok()).expect(name)
    };
    let (pages, redirects, errors) = (number("pages "), number("redirects "), number("errors "));
    assert_eq!(number("urls "), rows.len(), "the summary's URL count");
    assert_eq!(pages + redirects + errors, rows.len(), "pages, redirects and errors are all URLs");
    // "200: 20009, 301: 1, ...": every page and redirect has a status, errors none.
    let statuses = summary("statuses ").split(", ").map(|s| s.split_once(": ").expect(s).1);
    let with_status: usize = statuses.map(|n| n.parse::<usize>().expect(n)).sum();
    assert_eq!(with_status, pages + redirects, "{}", summary("statuses "));
}
