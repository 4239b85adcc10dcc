//! A process per URL: the same blocking fetch, run in a child process.
//!
//! Processes share nothing, so the frontier stays in the parent. The parent runs its own
//! executable again with the hidden flag `--fetch-one URL` (plus every flag it was given, so the
//! child applies the same timeout, limits and host rules); the child fetches that one URL and
//! writes the result as one line of JSON to its stdout, which is a pipe to the parent. The parent's
//! pool of `--max-tasks` threads each wait for one child, as Python's `ProcessPoolExecutor` has
//! a thread that waits on its workers.
//!
//! The cost shows in the tour: a process start (exec, dynamic linking, parsing the arguments)
//! per URL, and results that must be serialised to cross the pipe.

use std::ffi::OsString;
use std::io::Write as _;
use std::process::{Command, ExitCode, Stdio};

use crawl::config::Verbosity;
use crawl::{Config, ErrorKind, FetchError, Fetched, Outcome};
use url::Url;

use crate::fetch::fetch;
use crate::unblock;

/// The hidden flag that turns the binary into a one-URL child.
const FETCH_ONE: &str = "--fetch-one";

/// Parent side: fetches `url` in a child process and reads the result from its stdout.
pub fn fetch_in_child(url: &Url, config: &Config) -> Fetched {
    match run_child(url) {
        Ok(fetched) => {
            // Said here, not in the child: a URL is finished when its result has crossed the pipe.
            config.log_fetched(&fetched);
            fetched
        }
        Err(why) => {
            let error = FetchError::new(ErrorKind::Io, format!("child process: {why}"));
            config.log_failed_try(url, 1, &error);
            Fetched { url: url.clone(), outcome: Outcome::Failed { error }, tries: 1 }
        }
    }
}

// ANCHOR: run_child
fn run_child(url: &Url) -> Result<Fetched, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    let lane = crawl::timeline::child_process(url); // `--timeline`: the child's tries go in this lane
    let child = Command::new(exe)
        .args(child_args(std::env::args_os().skip(1), url))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    // Unlike a thread, a process can be stopped from outside: Ctrl-C kills it.
    let unblock = unblock::kill_on_interrupt(child.id());
    lane.started(child.id());
    let output = child.wait_with_output().map_err(|e| format!("cannot wait: {e}"));
    drop(unblock);
    let output = output?;
    if !output.status.success() {
        return Err(format!("exited with {}", output.status));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("unreadable result: {e}"))
}
// ANCHOR_END: run_child

/// The parent's own arguments with `--fetch-one URL` added (before a `--`, if there is one, so
/// that it stays a flag).
fn child_args(parent: impl Iterator<Item = OsString>, url: &Url) -> Vec<OsString> {
    let mut args: Vec<OsString> = parent.collect();
    let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
    args.splice(at..at, [OsString::from(FETCH_ONE), OsString::from(url.as_str())]);
    args
}

/// Child side: fetch one URL, print it as JSON, exit.
pub fn child_main(config: &Config, url: &Url) -> ExitCode {
    // `-v`'s line for the finished URL is the parent's to print (see `fetch_in_child`); the
    // child still reports its failed tries.
    let verbosity = config.verbosity.min(Verbosity::Normal);
    // `--timeline`: the child records into a file of its own, which the parent merges into its.
    if let Some(path) = &config.timeline
        && let Err(why) = crawl::timeline::start_child(path, config.program)
    {
        crawl::log!("warning: {why}");
    }
    let fetched = fetch(url, &Config { verbosity, ..config.clone() });
    if let Err(e) = crawl::timeline::finish() {
        crawl::log!("warning: --timeline: cannot write the child's file: {e}");
    }
    let line = serde_json::to_string(&fetched).expect("a Fetched always serialises");
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_child_gets_the_parents_flags_and_the_url() {
        let url = Url::parse("http://h/x").unwrap();
        let parent = ["h", "--mode", "processes"].map(OsString::from);
        let args = child_args(parent.into_iter(), &url);
        assert_eq!(args, ["h", "--mode", "processes", "--fetch-one", "http://h/x"]);
        let parent = ["--timeout", "1", "--", "h"].map(OsString::from);
        let args = child_args(parent.into_iter(), &url);
        assert_eq!(args, ["--timeout", "1", "--fetch-one", "http://h/x", "--", "h"]);
    }
}
