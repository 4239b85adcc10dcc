//! Host confinement: a crawl stays on the host and port it started from, in every stage and
//! every stage-1 mode, strict and `--lenient` alike.
//!
//! Three fixture sites run on loopback. Site A, the one crawled, has a `/foreign` page linking
//! site B (another address, 127.0.0.2, on A's own port) and site C (A's address, another port),
//! in several spellings, each directly and through a redirect. B and C count every request they
//! get, so "the crawler never went there" is checked from the outside, not taken from the report.

mod common;

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::*;
use site::{RunningSite, SiteConfig};

/// A small site on `host:port` with no latency and no faults: only its links matter here.
fn quick_site(host: Ipv4Addr, port: u16, foreign: Vec<String>) -> std::io::Result<RunningSite> {
    site::spawn(SiteConfig {
        host: IpAddr::V4(host),
        port,
        pages: 20,
        links: 3,
        latency: Duration::ZERO,
        faults: false,
        foreign,
        ..SiteConfig::default()
    })
}

/// The three sites, and for each foreign link on A the URL its redirect row must name.
struct Sites {
    a: RunningSite,
    b: RunningSite,
    c: RunningSite,
    redirects: Vec<String>,
}

/// Starts C, then B on 127.0.0.2 and A on 127.0.0.1 with the *same* port: only the address tells
/// A and B apart, which is the case a port-only (or a sloppy string) comparison gets wrong.
fn sites() -> Sites {
    let c = quick_site(Ipv4Addr::LOCALHOST, 0, Vec::new()).expect("start site C");
    // A port free on 127.0.0.2 may be taken on 127.0.0.1; then try another, a bounded number
    // of times (each try asks the OS for a fresh port, so this does not depend on timing).
    for _ in 0..20 {
        let b = quick_site(Ipv4Addr::new(127, 0, 0, 2), 0, Vec::new()).unwrap_or_else(|e| {
            panic!(
                "cannot listen on 127.0.0.2 ({e}): this test needs a second loopback address. Linux \
                 routes all of 127.0.0.0/8 to `lo`; elsewhere add it, e.g. `ifconfig lo0 alias 127.0.0.2`"
            )
        });
        let port = b.addr().port();
        let (other, c_port) = (format!("127.0.0.2:{port}"), c.addr().port());
        // Each spelling with the URL a crawler must resolve it to.
        let spellings = [
            (format!("http://{other}/"), format!("http://{other}/")),
            (format!("http://{other}"), format!("http://{other}/")),
            (format!("http://{other}/page/3"), format!("http://{other}/page/3")),
            (format!("http://{other}/page/1#top"), format!("http://{other}/page/1")),
            (format!("//{other}/page/2"), format!("http://{other}/page/2")),
            (format!("HTTP://{other}/page/4"), format!("http://{other}/page/4")),
            (format!("http://127.0.0.1:{c_port}/"), format!("http://127.0.0.1:{c_port}/")),
            (
                format!("http://127.0.0.1:{c_port}/page/0?x=1#y"),
                format!("http://127.0.0.1:{c_port}/page/0?x=1"),
            ),
            (format!("http://localhost:{c_port}/"), format!("http://localhost:{c_port}/")),
        ];
        let (foreign, redirects) = spellings.into_iter().unzip();
        match quick_site(Ipv4Addr::LOCALHOST, port, foreign) {
            Ok(a) => return Sites { a, b, c, redirects },
            Err(e) if e.kind() == ErrorKind::AddrInUse => continue,
            Err(e) => panic!("start site A on 127.0.0.1:{port}: {e}"),
        }
    }
    panic!("no port was free on both 127.0.0.1 and 127.0.0.2 in 20 tries");
}

/// Everything one crawl of A must show: nothing reached B or C, A was only asked for under its
/// own address, no row leaves A, and each foreign redirect is reported and not followed.
fn check(sites: &Sites, report: &str, what: &str) {
    let (a, b, c) = (&sites.a, &sites.b, &sites.c);
    assert_eq!(b.counters().requests(), 0, "{what} asked site B for {:?}", b.counters().hosts());
    assert_eq!(c.counters().requests(), 0, "{what} asked site C for {:?}", c.counters().hosts());
    let hosts: Vec<String> = a.counters().hosts().into_iter().map(|(host, _)| host).collect();
    assert_eq!(hosts, [a.addr().to_string()], "{what}: Host headers sent to site A");
    let rows = report.lines().take_while(|line| !line.is_empty());
    assert!(rows.clone().count() > 20, "{what}: too few rows to mean anything\n{report}");
    for line in rows {
        assert!(line.starts_with(&a.url()), "{what}: a row off site A: {line}");
    }
    for (n, target) in sites.redirects.iter().enumerate() {
        let expected = format!("302 -> {target} (not followed: not allowed)");
        let path = format!("/redirect/foreign/{n}");
        assert_eq!(row(report, a, &path), Some(expected.as_str()), "{what}: {path}\n{report}");
    }
    // The page's crawlable links are its redirects only: the direct links were filtered out.
    let foreign = row(report, a, "/foreign").unwrap_or_else(|| panic!("{what}: no /foreign row"));
    let links = format!(" {} links", sites.redirects.len());
    assert!(foreign.starts_with("200 text/html") && foreign.contains(&links), "{what}: {foreign}");
}

#[test]
fn no_stage_leaves_the_host_it_started_on() {
    let sites = sites();
    let mut runs: Vec<(String, Vec<&str>)> = Vec::new();
    for run in stages::ALL {
        for lenient in [false, true] {
            let mut flags = run.extra_flags.to_vec();
            if lenient {
                flags.push("--lenient");
            }
            runs.push((run.crate_name.to_string(), flags));
        }
    }
    let mut first: Option<(String, String)> = None;
    for (stage, flags) in &runs {
        let what = format!("{stage} {}", flags.join(" "));
        let report = crawl_report(stage, &sites.a, flags);
        check(&sites, &report, &what);
        let report = normalized(&report);
        match &first {
            None => first = Some((what, report)),
            Some((first_what, first_report)) => {
                assert_eq!(&report, first_report, "{what} reports otherwise than {first_what}");
            }
        }
    }
}
