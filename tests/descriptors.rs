//! Under a tight open-file limit every stage still prints the reference report: `--max-tasks` is
//! fitted to what the process can open, so no URL is lost to `EMFILE`.
//!
//! Each crawl runs with its limit set in the child (`ulimit -n` in a shell that then `exec`s the
//! stage), once just above what the run needs for `--max-tasks 20` and once so low that it must
//! lower `--max-tasks` to 5, which it says on stderr.

mod common;

use std::process::Command;

use common::*;
use tour::stages::{ALL, StageRun};

/// The `--max-tasks` asked for.
const MAX_TASKS: usize = 20;

/// The open-file limit under which `run` has room for exactly `tasks` requests.
fn limit_for(run: &StageRun, tasks: usize) -> usize {
    limit_leaving(run.descriptors.own + run.descriptors.per_task * tasks)
}

/// Crawls `site` with `run` under an open-file limit of `limit`; returns the report and stderr.
fn crawl_under_limit(run: &StageRun, site: &site::RunningSite, limit: usize) -> (String, String) {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(bin(run.crate_name))
        .arg(site.url())
        .args(["-v", "--max-tasks", &MAX_TASKS.to_string(), "--timeout", TEST_TIMEOUT])
        .args(run.extra_flags);
    let output = command.output().expect("run sh");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{} under ulimit -n {limit}: {}\n{stderr}", run.mode, output.status);
    (without_max_tasks(&String::from_utf8_lossy(&output.stdout)), stderr)
}

/// A report without what differs between runs and the `max_tasks=` of its last line.
fn without_max_tasks(report: &str) -> String {
    regex::Regex::new(r"\(max_tasks=\d+\)").unwrap().replace(&normalized(report), "").into_owned()
}

#[test]
fn a_tight_open_file_limit_loses_no_url_in_any_stage() {
    let site = site::spawn(site::SiteConfig::default()).expect("start the fixture site");
    let reference = without_max_tasks(&crawl_report("stage1-blocking", &site, &["--mode", "pool"]));
    for run in ALL {
        let limit = limit_for(run, MAX_TASKS);
        let (report, stderr) = crawl_under_limit(run, &site, limit);
        assert_eq!(report, reference, "{} under ulimit -n {limit}:\n{stderr}", run.mode);
        assert!(!stderr.contains("lowered"), "{}: room for {MAX_TASKS} was left\n{stderr}", run.mode);
        assert!(!stderr.contains("Too many open files"), "{}: {stderr}", run.mode);
    }
}

#[test]
fn a_limit_too_low_for_max_tasks_lowers_it_and_says_so() {
    let site = site::spawn(site::SiteConfig::default()).expect("start the fixture site");
    let reference = without_max_tasks(&crawl_report("stage1-blocking", &site, &["--mode", "pool"]));
    for run in ALL {
        let limit = limit_for(run, 5);
        let (report, stderr) = crawl_under_limit(run, &site, limit);
        assert_eq!(report, reference, "{} under ulimit -n {limit}:\n{stderr}", run.mode);
        let lowered: Vec<&str> = stderr.lines().filter(|line| line.contains("--max-tasks lowered")).collect();
        assert_eq!(lowered.len(), 1, "{}: one line says so\n{stderr}", run.mode);
        assert!(lowered[0].contains(&format!("from {MAX_TASKS} to 5")), "{}: {}", run.mode, lowered[0]);
        assert!(!stderr.contains("Too many open files"), "{}: {stderr}", run.mode);
    }
}
