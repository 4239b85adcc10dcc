//! Ctrl-C (SIGINT) during a crawl, in every stage and every stage-1 mode: the crawl stops promptly,
//! prints the report of what it finished, marked interrupted, and exits with status 130.
//!
//! "Promptly" is measured against what the crawl would otherwise wait for. One root is
//! `/fault/silent`, a server that accepts and never answers, fetched with `--timeout 30`: at the
//! moment of the signal a fetch is asleep on it (in `read`, in a child process, or as a task)
//! that would not end for 30 seconds, four tries over. Another is the site by the name
//! `localhost`, whose lookup is made to take as long (`--resolver-delay`), so that a fetch is
//! also waiting for a resolver (in sequential mode, that is the wait the signal meets). The
//! crawler must exit well inside that.
//! Its `--timeline` file must still be a whole trace, holding the fetch that the signal cut short.
//! Reading its stderr to the end also proves that no child process outlived it: stage 1's
//! children share that stderr, so a surviving child would hold the pipe open.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The per-request timeout of these crawls: what a crawler that ignored Ctrl-C would sit out.
const TIMEOUT_SECS: u64 = 30;

/// Pages fetched before the signal is sent, so the report has something to show. One, because in
/// sequential mode the named root, second in line, is all that runs after the first page.
const PAGES_BEFORE_SIGNAL: usize = 1;

#[test]
fn ctrl_c_stops_every_stage_with_a_report_and_status_130() {
    // Latency keeps the crawl going long enough to be interrupted mid-way on any machine.
    let site = site::spawn(site::SiteConfig { latency: Duration::from_millis(200), ..Default::default() })
        .expect("start the fixture site");
    let silent = format!("{}fault/silent", site.url());
    let named = site.url().replace("127.0.0.1", "localhost");

    for run in stages::ALL {
        let what = run.to_string();
        let timeline_file = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("interrupted-{}-{}.json", run.crate_name, run.mode));
        let mut child = Command::new(bin(run.crate_name))
            .arg("--timeline")
            .arg(&timeline_file)
            .args([site.url().as_str(), named.as_str(), silent.as_str(), "-v"])
            .args(["--timeout", &TIMEOUT_SECS.to_string(), "--resolver-delay", &TIMEOUT_SECS.to_string()])
            .args(run.extra_flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the crawler");
        let stderr = watch_stderr(&mut child);

        // Wait until some pages are done (`-v` prints a line per finished URL), then Ctrl-C.
        let mut fetched = 0;
        while fetched < PAGES_BEFORE_SIGNAL {
            let line = stderr.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("{what}: no progress on stderr");
            });
            fetched += usize::from(line.contains(": 200,"));
        }
        let signalled = Instant::now();
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("a pid fits in i32"));
        kill(pid, Signal::SIGINT).expect("send SIGINT");

        // Everything the crawler (and any child of it) writes to stderr, to the end, which must
        // come well before the silent server's timeout would have.
        let deadline = signalled + Duration::from_secs(TIMEOUT_SECS / 3);
        let mut rest = Vec::new();
        loop {
            match stderr.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => rest.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let last = &rest[rest.len().saturating_sub(5)..];
                    panic!(
                        "{what}: still running {:?} after Ctrl-C; stderr ends {last:?}",
                        signalled.elapsed()
                    );
                }
            }
        }
        let output = child.wait_with_output().expect("wait for the crawler");
        let report = String::from_utf8(output.stdout).expect("the report is UTF-8");
        eprintln!("{what}: stopped {:?} after SIGINT", signalled.elapsed());

        assert_eq!(output.status.code(), Some(130), "{what}: {}\n{report}\n{rest:?}", output.status);
        assert!(rest.iter().any(|l| l.starts_with("interrupted: stopping")), "{what}: {rest:?}");
        assert!(!rest.iter().any(|l| l.contains("panicked")), "{what}: {rest:?}");
        check_interrupted_report(&what, &report, &site);
        // The named root was cut short in its lookup: no row, like the silent one.
        assert!(!report.lines().any(|l| l.starts_with(named.as_str())), "{what}: {report}");
        // The timeline of what it did is whole, with the fetches cut short closed at the end.
        let text = std::fs::read_to_string(&timeline_file).expect("the timeline was written");
        let timeline = common::timeline::parse(&text).unwrap_or_else(|why| panic!("{what}: {why}"));
        let unreported = |span: &&common::timeline::Span| {
            let url = span.args["url"].as_str().unwrap_or_default();
            !report.lines().any(|line| line.split_whitespace().next() == Some(url))
        };
        // (A URL's span: in `processes` mode the killed child wrote no file, so no try of its own.)
        let lanes = timeline.spans.iter().filter(|s| s.pid == common::timeline::LANES_PID as u64);
        let cut_short = lanes
            .filter(|s| s.args.get("url").is_some() && !s.name.starts_with("try "))
            .any(|s| unreported(&s));
        assert!(cut_short, "{what}: the fetch that Ctrl-C cut short is not in the timeline");
    }
}

/// Forwards the child's stderr, line by line, to a channel (closed at the pipe's end of file).
fn watch_stderr(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().expect("stderr is piped");
    let (lines, received) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}

/// The report of an interrupted crawl: rows for finished URLs only, none for the silent one, and
/// a summary that says the crawl was cut short and how much was left.
fn check_interrupted_report(what: &str, report: &str, site: &site::RunningSite) {
    let last = report.lines().last().unwrap_or_default();
    assert!(last.starts_with("Interrupted after "), "{what}: {report}");
    let (urls, _) = crawl::report::counts(report).unwrap_or_else(|| panic!("{what}: no summary\n{report}"));
    assert!(urls >= PAGES_BEFORE_SIGNAL, "{what}: {urls} rows\n{report}");
    assert!(last.contains(&format!(" {urls} urls in ")), "{what}: {last}");
    // The silent fetch was cut short, not finished: it must not appear as a timeout or an error.
    assert_eq!(row(report, site, "/fault/silent"), None, "{what}: {report}");
    let unfinished = report
        .lines()
        .find_map(|l| l.strip_prefix("  unfinished "))
        .and_then(|rest| rest.strip_suffix(" (interrupted)"))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("{what}: no unfinished count\n{report}"));
    assert!(unfinished >= 1, "{what}: at least the silent URL is unfinished\n{report}");
}
