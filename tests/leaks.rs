//! Bounded resources: a crawl leaves no open file descriptor, thread or task behind.
//!
//! Each stage and mode crawls the fixture site, faults on and with a short `--timeout`, inside
//! this test process, and the process's open descriptors (`/proc/self/fd`) and threads
//! (`/proc/self/task`) are counted before and after: they must be equal. So must the tasks of
//! stages 4 and 5, which count themselves (`tasks_alive`). The roots add the site's two unlinked
//! endless faults, so every crawl also abandons connections in the middle of a response, with
//! unread bytes. Stage 1's `processes` mode, which cannot run inside this process, is run through
//! its binary instead.
//!
//! The site runs as a child process (the `site` binary): in this process its sockets and its
//! thread would be counted with the crawler's. And everything is one `#[test]`: libtest runs the
//! tests of one binary on parallel threads, and another test's threads and sockets would come and
//! go in the middle of the counts.
//!
//! Stage 6 needs nothing of its own: its tokio runtime is made and dropped inside `crawl`, and the
//! runtime's threads and descriptors (epoll, the waker's eventfd) are in the counts.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use crawl::{Config, ErrorKind, Outcome, Report};

/// The fixture site in a child process, killed when dropped.
struct SiteProcess {
    child: Child,
    /// The root URL, as the site printed it.
    url: String,
}

impl SiteProcess {
    fn start() -> SiteProcess {
        let mut child = Command::new(bin("site"))
            // Port 0: the OS picks a free port, and the site's first line says which.
            .args(["--port", "0", "--latency-ms", "0", "--pages", "30", "--links", "4"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the site");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        BufReader::new(stdout).read_line(&mut line).expect("the site's first line");
        let url = line.trim().strip_prefix("listening on ").expect("`listening on URL`").to_owned();
        SiteProcess { child, url }
    }
}

impl Drop for SiteProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a crawl must give back.
#[derive(Debug, PartialEq, Eq)]
struct Resources {
    /// Open descriptors, each as `fd -> what` (`socket:[inode]`, `anon_inode:[eventpoll]`, ...),
    /// so that a failure shows what was left open. The directory being listed is one of them.
    fds: Vec<String>,
    /// Threads of this process, the test harness's included.
    threads: usize,
    /// Stage 4's tasks alive.
    generator_tasks: usize,
    /// Stage 5's tasks alive.
    async_tasks: usize,
}

impl Resources {
    fn now() -> Resources {
        let fds = std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .map(|entry| {
                let path = entry.expect("an fd entry").path();
                let target = std::fs::read_link(&path).unwrap_or_default();
                format!("{} -> {}", path.display(), target.display())
            })
            .collect();
        Resources {
            fds,
            threads: std::fs::read_dir("/proc/self/task").expect("/proc/self/task").count(),
            generator_tasks: stage4_generators::task::tasks_alive(),
            async_tasks: stage5_async_await::executor::tasks_alive(),
        }
    }

    /// Whether the same things are held: the counts, not the descriptors' numbers or inodes.
    fn same_counts(&self, other: &Resources) -> bool {
        (self.fds.len(), self.threads, self.generator_tasks, self.async_tasks)
            == (other.fds.len(), other.threads, other.generator_tasks, other.async_tasks)
    }

    /// The resources once they are back to `before`, or as they are after a few seconds.
    ///
    /// Why wait at all: `join` returns once a thread has stopped running, a moment before the
    /// kernel takes it out of `/proc/self/task`. A leaked thread or descriptor never goes, so the
    /// wait cannot hide one; it only gives the kernel time to finish the joined ones' exits.
    fn settled_to(before: &Resources) -> Resources {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let now = Resources::now();
            if now.same_counts(before) || Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The unlinked faults whose responses never end (see `crates/site/src/faults.rs`).
const ENDLESS: [&str; 2] = ["fault/endless-body", "fault/endless-head"];

/// The crawl's arguments: the site and the endless faults as roots, quiet, with the test timeout.
fn args(site: &SiteProcess) -> Vec<String> {
    let mut args = vec![site.url.clone()];
    args.extend(ENDLESS.map(|path| format!("{}{path}", site.url)));
    args.extend(["-q", "--timeout", TEST_TIMEOUT, "--max-tasks", "6"].map(String::from));
    args
}

/// Checks that `report` is of a whole crawl, with the faults met, not of one that stopped early.
fn check_report(report: &Report, what: &str) {
    assert!(report.records().len() > 30, "{what}: only {} URLs crawled", report.records().len());
    for path in ENDLESS {
        let record = report.records().iter().find(|r| r.fetched.url.path() == format!("/{path}"));
        let kind = match record.map(|r| &r.fetched.outcome) {
            Some(Outcome::Failed { error }) => Some(error.kind),
            _ => None,
        };
        assert_eq!(kind, Some(ErrorKind::TooLarge), "{what}: {path}");
    }
}

#[test]
fn no_crawl_leaves_a_descriptor_a_thread_or_a_task_behind() {
    let site = SiteProcess::start();
    let args = args(&site);
    let config =
        Config::from_cli_args(std::iter::once("leaks".to_owned()).chain(args.clone())).expect("valid flags");
    for run in stages::ALL {
        // Stage 1's `processes` mode has no in-process crawl: it runs the current executable
        // again per URL with `--fetch-one URL`, and here that executable is this test harness,
        // which knows no such flag. It is checked through the stage binary below.
        let Some(crawl) = run.crawl else { continue };
        let what = run.to_string();
        let before = Resources::now();
        assert_eq!((before.generator_tasks, before.async_tasks), (0, 0), "{what}: tasks before");
        let report = crawl(&config);
        check_report(&report, &what);
        drop(report);
        let after = Resources::settled_to(&before);
        assert!(before.same_counts(&after), "{what} left something behind:\n{before:#?}\n{after:#?}");
    }

    // The runs with no in-process crawl (stage 1's `processes` mode), through the stage binary:
    // no process it started may outlive it. Its children inherit its stderr, so the pipe given as
    // stderr here reaches end of file only when the crawler and every child still running have
    // exited. (Children that exited but were never waited for cannot pile up: each is run by
    // `Command::output`, which always waits.) Its pool of threads is the `pool` mode's, counted
    // above.
    for run in stages::ALL.iter().filter(|run| run.crawl.is_none()) {
        let mut command = Command::new(bin(run.crate_name));
        command.args(&args).args(run.extra_flags);
        let child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
        let what = run.to_string();
        let output = output_within_hang_guard(child.expect("start the stage binary"), &what);
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{what}: {}\n{report}", output.status);
        for path in ENDLESS {
            let url = format!("{}{path}", site.url);
            let row = report.lines().find_map(|line| line.strip_prefix(url.as_str())).map(str::trim);
            assert_eq!(row, Some("error too-large (1 try)"), "{what}: {path}\n{report}");
        }
    }
}
