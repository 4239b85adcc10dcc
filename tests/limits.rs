//! A response over the limits is cut off at the limit, never buffered whole.
//!
//! The fixture site has two unlinked faults that never end: `/fault/endless-body` (a body read to
//! the close, and the server never closes) and `/fault/endless-head` (header lines forever). Every
//! stage binary, in every stage-1 mode, crawls them as roots with a small `--max-body` and must
//! report both as `too-large` after one try and exit like any crawl. A response that never ends
//! cannot be buffered whole, so finishing at all proves the crawler cut it off; `too-large` rather
//! than `timeout` proves that the limit did it, not `--timeout`.
//!
//! That the cut comes *at* the limit, not somewhere far beyond it, is a property of the codec
//! (`crates/crawl/tests/props/http.rs`: an endless stream fails on the read that crosses the
//! limit). Here it is checked on each crawler process as a whole: its peak resident memory
//! (`VmHWM` in `/proc/PID/status`, a high-water mark that never goes down) may exceed that of a
//! crawl of one tiny page by little.
//!
//! Why not `getrusage(RUSAGE_CHILDREN)`: it reports the largest child this process ever reaped,
//! and that is `cargo build` (run by `common::bin`). And a process's `/proc` entry loses its
//! memory figures the moment it exits. So each crawl gets a third root, a *gate*: a server in this
//! test that takes the crawler's request and holds the answer. A crawl cannot end with a fetch in
//! flight, so while the gate holds, the crawler is alive and can be measured; once the site has
//! seen both endless connections closed, their buffering is over and in the high-water mark.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The `--max-body` of these crawls: small, so that the endless body crosses it at once.
const MAX_BODY: usize = 64 * 1024;

/// How much more an endless crawl may peak at than a tiny one: a few body limits' worth of
/// buffers is normal, many more means a response was kept well past its limit.
const MAX_EXTRA_PEAK_KIB: u64 = 64 * MAX_BODY as u64 / 1024;

/// The memory at which a crawler is stopped as runaway: far above any crawl here.
const RUNAWAY_KIB: u64 = 512 * 1024;

/// The unlinked faults whose responses never end.
const ENDLESS: [&str; 2] = ["/fault/endless-body", "/fault/endless-head"];

/// A server in this test that accepts one request and answers it only when told to.
struct Gate {
    listener: TcpListener,
}

impl Gate {
    fn new() -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the gate");
        // Accepted by polling, so that a crawler that dies before reaching the gate fails the test.
        listener.set_nonblocking(true).unwrap();
        Gate { listener }
    }

    fn url(&self) -> String {
        format!("http://{}/gate", self.listener.local_addr().unwrap())
    }

    /// The crawler's connection, if it has arrived.
    fn try_accept(&self) -> Option<TcpStream> {
        match self.listener.accept() {
            Ok((stream, _)) => Some(stream),
            Err(err) if err.kind() == ErrorKind::WouldBlock => None,
            Err(err) => panic!("gate accept: {err}"),
        }
    }
}

/// Reads the request head on `stream` (closing with it unread would be a reset, not an answer),
/// then answers `204 No Content` and closes.
fn open(mut stream: TcpStream) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("the gate request");
        assert!(n > 0, "the crawler closed the gate connection early");
        head.extend_from_slice(&buf[..n]);
    }
    stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").unwrap();
}

/// Polls `done` until it holds; panics if `crawler` exits first or the hang guard passes, and
/// kills it if its memory runs away (a crawler that buffers an endless response would otherwise
/// take the machine's memory with it before its `--timeout`). The events waited for happen in
/// other processes, so there is nothing to block on; the pause between polls only spares the
/// CPU, and no outcome depends on its length.
fn wait_until(crawler: &mut Child, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG_GUARD;
    while !done() {
        if let Some(status) = crawler.try_wait().unwrap() {
            panic!("the crawler exited ({status}) before {what}");
        }
        if let Some(peak) = peak_rss_kib(crawler.id())
            && peak > RUNAWAY_KIB
        {
            let _ = crawler.kill();
            let _ = crawler.wait();
            panic!("the crawler's memory passed {peak} KiB before {what}: it keeps what it reads");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Crawls `paths` of `site` plus the gate with `stage` (and `mode`'s flags, for stage 1); returns the
/// crawler's peak memory in KiB, measured while the gate holds, and its report.
fn crawl(stage: &str, mode: &[&str], site: &site::RunningSite, paths: &[&str]) -> (u64, String) {
    let gate = Gate::new();
    let mut command = Command::new(bin(stage));
    command.args(paths.iter().map(|path| format!("{}{}", site.url(), &path[1..])));
    // The gate last: a sequential crawl fetches the roots in order, and must have met the endless
    // faults before the gate holds it.
    command.arg(gate.url()).args(["-q", "--timeout", "10", "--max-body", &MAX_BODY.to_string()]);
    command.args(mode);
    let requests = site.counters().requests();
    let mut crawler = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start");
    let mut held = None;
    wait_until(&mut crawler, "the endless responses were cut off", || {
        held = held.take().or_else(|| gate.try_accept());
        let counters = site.counters();
        held.is_some()
            && counters.requests() == requests + paths.len() as u64
            && counters.open_connections() == 0
    });
    let peak = peak_rss_kib(crawler.id()).expect("the gate holds the crawler alive");
    open(held.expect("the gate connection"));
    let what = format!("{stage} {mode:?}");
    let output = output_within_hang_guard(crawler, &what);
    let report = String::from_utf8(output.stdout).expect("a UTF-8 report");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} exited with {}\n{report}{stderr}", output.status);
    (peak, report)
}

#[test]
fn endless_responses_are_cut_off_at_the_limit_in_every_stage() {
    let site = small_site(true);
    for run in stages::ALL {
        let what = run.to_string();
        let (tiny_peak, _) = crawl(run.crate_name, run.extra_flags, &site, &[]);
        let (peak, report) = crawl(run.crate_name, run.extra_flags, &site, &ENDLESS);
        for path in ENDLESS {
            assert_eq!(row(&report, &site, path), Some("error too-large (1 try)"), "{what}\n{report}");
        }
        assert_eq!(crawl::report::counts(&report), Some((3, 2)), "{what}: urls, errors\n{report}");
        // In `processes` mode the fetches, and their buffers, are in child processes that
        // are gone by now; they run the same `fetch` that the other modes measure here.
        if run.mode != "processes" {
            let extra = peak.saturating_sub(tiny_peak);
            assert!(
                extra <= MAX_EXTRA_PEAK_KIB,
                "{what}: peaked {extra} KiB above a tiny crawl ({tiny_peak} KiB), limit {MAX_BODY} B"
            );
        }
        eprintln!("{what}: peak {peak} KiB, tiny crawl {tiny_peak} KiB");
    }
}
