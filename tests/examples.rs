//! The stage crates' example programs, which chapters 1, 3, 4, 5 and 6 of the book show with their
//! output (the snapshots here), run as a reader would run them.

mod common;

use std::process::Command;

use common::*;
use insta_cmd::assert_cmd_snapshot;

#[test]
fn race_loses_updates_only_without_an_atomic_update() {
    let output = Command::new(example("race")).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    // The exact and the lost counts of the racy line vary from run to run; the rest must not.
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"load, then store: +\d+ \(\d+ updates lost\)", "load, then store: [RACY]");
    settings.bind(|| insta::assert_snapshot!("race", stdout));
    let racy: u64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("load, then store:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .expect("the racy line");
    assert!(racy <= 4_000_000, "an update cannot be invented: {racy}");
}

#[test]
fn async_race_loses_updates_only_across_an_await() {
    let output = Command::new(example("async_race")).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    // One thread, run in order: the counts are the same on every run, so they are the snapshot.
    insta::assert_snapshot!("stage5_async_race", stdout);
    let lost = |how: &str| -> u64 {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(how)).expect("a line per way");
        line.split('(').nth(1).and_then(|rest| rest.split_whitespace().next()?.parse().ok()).expect("a count")
    };
    assert!(
        lost("read, await, write") > 0,
        "an update read before an await and written after it is lost:\n{stdout}"
    );
    assert_eq!((lost("no await inside"), lost("async mutex")), (0, 0), "{stdout}");
}

#[test]
fn download_pool_is_several_times_faster_with_five_threads() {
    let mut command = Command::new(example("download_pool"));
    command.args(["--latency-ms", "60"]);
    let output = command.output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let pages = |how: &str| -> Vec<String> {
        stdout
            .lines()
            .filter_map(|l| l.trim().strip_prefix(&format!("{how}: "))?.split_whitespace().next())
            .filter(|path| path.starts_with("/page/"))
            .map(String::from)
            .collect()
    };
    let in_order: Vec<String> = (0..15).map(|n| format!("/page/{n}")).collect();
    assert_eq!(pages("sequential"), in_order, "one after another, in order");
    let mut pooled = pages("pool");
    pooled.sort_by_key(|p| p.trim_start_matches("/page/").parse::<u32>().unwrap());
    assert_eq!(pooled, in_order, "every page once, in completion order");
    let ratio: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ratio: "))
        .and_then(|r| r.trim_end_matches('x').parse().ok())
        .expect("a ratio line");
    // 15 latencies against 3: about 5x. A loaded machine narrows it; 2x is a wide margin.
    assert!(ratio > 2.0, "{stdout}");
}

#[test]
fn download_pool_rejects_bad_flags() {
    let mut command = Command::new(example("download_pool"));
    command.args(["--latency-ms", "soon"]);
    assert_cmd_snapshot!(command);
}

#[test]
fn timers_prints_the_notes_order_in_about_two_units() {
    let mut command = Command::new(example("timers"));
    command.args(["--unit-ms", "100"]);
    let output = command.output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"took \d+\.\d units", "took [N] units");
    settings.bind(|| insta::assert_snapshot!("timers", stdout));
    let units = *units_taken(&stdout).first().expect("a 'took' line");
    // The two waits overlap: about 2 units, clearly under the 3 of waiting one after the other.
    assert!((1.9..2.8).contains(&units), "took {units} units");
}

#[test]
fn turn_order_runs_the_due_timer_before_the_turns_callbacks_and_a_new_callback_next_turn() {
    // Chapter 3's exercise: one turn runs the timers that are due, then the callbacks scheduled
    // before it; a callback scheduled during the turn waits for the next one.
    let output = Command::new(example("turn_order")).output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "T: call_later(0)\nA: call_soon\nB: call_soon\nC: call_soon from inside A\n"
    );
}

#[test]
fn stage3_echo_server_echoes_what_a_client_types() {
    echo_server_echoes_what_a_client_types("callback_echo_server");
}

#[test]
fn stage5_echo_server_echoes_what_a_client_types() {
    echo_server_echoes_what_a_client_types("echo_server");
}

/// Runs an echo server example on a free port, types a line, closes, and reads its log.
fn echo_server_echoes_what_a_client_types(name: &str) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut server = Command::new(example(name))
        .args(["--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {first}"));
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.write_all(b"hello, loop\n").unwrap();
    let mut echoed = [0; 12];
    client.read_exact(&mut echoed).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap(); // the server closes after our EOF
    let log: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(&echoed, b"hello, loop\n");
    assert!(rest.is_empty());
    assert_eq!(log, ["connection 1 made", "connection 1: the client closed its side", "connection 1 closed"]);
}

/// The "took N units" figures of an example's output, in order.
fn units_taken(stdout: &str) -> Vec<f64> {
    stdout.lines().filter_map(|l| l.strip_prefix("took ")?.strip_suffix(" units")?.parse().ok()).collect()
}

#[test]
fn stage4_workers_one_after_another_then_as_tasks() {
    let output = Command::new(example("generator_workers")).args(["--unit-ms", "100"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"took \d+\.\d units", "took [N] units");
    settings.bind(|| insta::assert_snapshot!("stage4_workers", stdout));
    let taken = units_taken(&stdout);
    assert_eq!(taken.len(), 2, "{stdout}");
    assert!((2.9..3.8).contains(&taken[0]), "one after another: about 3 units, took {}", taken[0]);
    assert!((1.9..2.8).contains(&taken[1]), "as tasks: about 2 units, took {}", taken[1]);
}

#[test]
fn stage4_yield_from_passes_a_value_and_an_error_through_three_levels() {
    let output = Command::new(example("yield_from")).output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!("stage4_yield_from", String::from_utf8(output.stdout).unwrap());
}

/// Runs a stage-5 example with 1 unit = 100 ms, snapshots its stdout with the times filtered
/// (and any extra filters), and returns the stdout.
fn run_unit_example(name: &str, filters: &[(&str, &str)]) -> String {
    let output = Command::new(example(name)).args(["--unit-ms", "100"]).output().unwrap();
    assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"took \d+\.\d units", "took [N] units");
    for (pattern, replacement) in filters {
        settings.add_filter(pattern, *replacement);
    }
    settings.bind(|| insta::assert_snapshot!(format!("stage5_{name}"), stdout));
    stdout
}

/// Asserts each run took about its expected number of units: never less (a sleep cannot end
/// early), and not much more (a wide margin for a loaded machine, yet narrow enough to tell
/// 2 units from 3).
fn assert_units(stdout: &str, expected: &[f64]) {
    let taken = units_taken(stdout);
    assert_eq!(taken.len(), expected.len(), "{stdout}");
    for (took, about) in taken.iter().zip(expected) {
        assert!(
            (about - 0.1..=about * 1.25 + 0.2).contains(took),
            "expected about {about} units, took {took}: {stdout}"
        );
    }
}

#[test]
fn stage5_crawl_page_awaits_in_turn_but_tasks_and_gather_overlap() {
    let stdout = run_unit_example("crawl_page", &[]);
    assert_units(&stdout, &[10.0, 4.0, 4.0]);
}

#[test]
fn stage5_workers_in_the_notes_three_orderings() {
    let stdout = run_unit_example("workers", &[]);
    assert_units(&stdout, &[3.0, 2.0, 2.0]);
}

#[test]
fn stage5_a_blocking_call_stalls_the_loop_and_spawn_blocking_does_not() {
    let stdout = run_unit_example("blocking_call", &[]);
    assert_units(&stdout, &[3.0, 2.0]);
}

#[test]
fn stage5_cancel_gather_reports_a_value_a_panic_and_a_cancellation() {
    let output = Command::new(example("cancel_gather")).args(["--unit-ms", "100"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim(), "a task panicked: attempt to divide by zero");
    let stdout = run_unit_example("cancel_gather", &[]);
    assert!(
        stdout.contains(r#"[Ok(1), Err(Panicked("attempt to divide by zero")), Err(Cancelled)]"#),
        "{stdout}"
    );
    assert_units(&stdout, &[2.0]);
}

#[test]
fn stage5_timeouts_drop_the_late_future_at_its_deadline() {
    let stdout = run_unit_example("timeouts", &[]);
    assert_units(&stdout, &[2.0]);
}

#[test]
fn stage5_as_completed_yields_in_completion_order() {
    let stdout = run_unit_example("as_completed", &[]);
    assert_units(&stdout, &[3.0]);
}

#[test]
fn stage5_three_ways_to_run_a_coroutine() {
    let stdout = run_unit_example("three_ways", &[]);
    assert!(!stdout.contains("never awaited"), "{stdout}");
    assert_units(&stdout, &[1.0, 2.0, 1.0]);
}

#[test]
fn stage5_throttle_lets_a_burst_through_then_holds_its_rate() {
    let stdout = run_unit_example("throttle", &[(r"at \d+\.\d units", "at [T] units")]);
    let times: Vec<f64> =
        stdout.lines().filter_map(|l| l.split(" at ").nth(1)?.strip_suffix(" units")?.parse().ok()).collect();
    assert_eq!(times.len(), 12, "{stdout}");
    for (i, at) in times.iter().enumerate() {
        // A burst of 4, then 2 a unit: the k-th request is due at (k - 4) / 2 units, never before.
        let due = (i as f64 - 3.0).max(0.0) / 2.0;
        assert!((due - 0.1..=due + 1.0).contains(at), "request {i} due at {due}, went at {at}: {stdout}");
    }
    assert_units(&stdout, &[4.0]);
}

#[test]
fn stage5_cancel_safety_loses_the_bytes_inside_a_dropped_future_and_keeps_the_callers() {
    let stdout = run_unit_example("cancel_safety", &[]);
    let (lossy, kept) = stdout.split_once("-- kept").expect("two runs");
    // The same timeouts drop the same futures; only where the record lives differs.
    assert!(lossy.contains(r#"dropped unfinished: "hello, w""#), "{stdout}");
    assert!(!lossy.contains("got "), "no whole record once its first bytes are dropped: {stdout}");
    assert!(lossy.contains("the stream ended 4 bytes into a record"), "{stdout}");
    assert!(kept.contains("8 bytes kept"), "{stdout}");
    assert!(kept.contains(r#"got "hello, world""#), "{stdout}");
    assert!(kept.contains("the stream ended between records"), "{stdout}");
    assert_units(&stdout, &[2.0, 2.0]);
}

#[test]
fn stage5_select_hands_back_the_loser_and_a_losing_task_runs_until_aborted() {
    let stdout = run_unit_example("select", &[]);
    assert_race(&stdout);
    // `pin!` keeps the losing future in the racing function's frame: it is dropped when that
    // function returns, after the winner is announced.
    let futures = stdout.split("-- race two tasks").next().unwrap();
    assert!(futures.find("first completed: hare") < futures.find("tortoise: cleaned up"), "{stdout}");
}

#[test]
fn stage6_tokio_select_drops_the_losing_future_and_a_losing_task_runs_until_aborted() {
    let output = Command::new(example("tokio_select")).args(["--unit-ms", "100"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"took \d+\.\d units", "took [N] units");
    settings.bind(|| insta::assert_snapshot!("stage6_tokio_select", stdout));
    assert_race(&stdout);
    // `select!` drops the losing future as the race ends, before its result is used.
    let futures = stdout.split("-- race two tasks").next().unwrap();
    assert!(futures.find("tortoise: cleaned up") < futures.find("first completed: hare"), "{stdout}");
}

/// What both stages' `select` examples print: each race won by the faster side after 1 unit,
/// the loser cancelled (its cleanup ran) without finishing, and the losing task still running
/// when the race is over, until it is aborted.
fn assert_race(stdout: &str) {
    for line in [
        "first completed: hare",
        r#"first completed: Ok("fast task")"#,
        "the loser still running: true",
        "the loser cancelled: true",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    for loser in ["tortoise", "slow task"] {
        assert!(stdout.contains(&format!("{loser}: cleaned up")), "{loser} is dropped: {stdout}");
        assert!(!stdout.contains(&format!("{loser}: done")), "{loser} never finishes: {stdout}");
    }
    assert_units(stdout, &[1.0, 1.0]);
}

#[test]
fn stage5_download_sequential_pool_and_tasks() {
    let output = Command::new(example("download")).args(["--latency-ms", "60"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let in_order: Vec<String> = (0..15).map(|n| format!("/page/{n}")).collect();
    for how in ["sequential", "pool", "tasks"] {
        let pages: Vec<String> = stdout
            .lines()
            .filter_map(|l| l.trim().strip_prefix(&format!("{how}: "))?.split_whitespace().next())
            .filter(|path| path.starts_with("/page/"))
            .map(String::from)
            .collect();
        assert_eq!(pages, in_order, "{how}: every page once, in the order asked: {stdout}");
    }
    let ratio = |name: &str| -> f64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("sequential / {name}: ")))
            .and_then(|r| r.trim_end_matches('x').parse().ok())
            .unwrap_or_else(|| panic!("a ratio line for {name}: {stdout}"))
    };
    // 15 latencies against 3 (a pool of at least 5 threads) and against 1: about 5x and 15x.
    assert!(ratio("thread pool") > 2.0, "{stdout}");
    assert!(ratio("tasks") > 4.0, "{stdout}");
    assert!(ratio("tasks") > ratio("thread pool"), "{stdout}");
}

/// Every example that ends by itself, with flags that keep it short. Left out: the echo servers,
/// which run until killed and print only when a client connects (the echo tests above read what
/// they print).
const QUICK_EXAMPLES: &[(&str, &[&str])] = &[
    ("race", &[]),
    ("async_race", &[]),
    ("download_pool", &["--latency-ms", "10"]),
    ("timers", &["--unit-ms", "10"]),
    ("turn_order", &[]),
    ("generator_workers", &["--unit-ms", "10"]),
    ("yield_from", &[]),
    ("as_completed", &["--unit-ms", "10"]),
    ("blocking_call", &["--unit-ms", "10"]),
    ("cancel_gather", &["--unit-ms", "10"]),
    ("cancel_safety", &["--unit-ms", "10"]),
    ("crawl_page", &["--unit-ms", "10"]),
    ("download", &["--latency-ms", "10"]),
    ("select", &["--unit-ms", "10"]),
    ("three_ways", &["--unit-ms", "10"]),
    ("throttle", &["--unit-ms", "10"]),
    ("timeouts", &["--unit-ms", "10"]),
    ("workers", &["--unit-ms", "10"]),
    ("tokio_select", &["--unit-ms", "10"]),
];

/// The examples left out of [`QUICK_EXAMPLES`].
const SERVERS: &[&str] = &["callback_echo_server", "echo_server"];

#[test]
fn every_example_ends_quietly_with_status_0_when_its_stdout_closes() {
    // `example | head -1`. Without `crawl::exit`'s hook, the next `println!` panics.
    let metadata =
        Command::new(env!("CARGO")).args(["metadata", "--no-deps", "--format-version", "1"]).output();
    let metadata: serde_json::Value =
        serde_json::from_slice(&metadata.unwrap().stdout).expect("cargo metadata");
    let mut examples: Vec<&str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .flat_map(|package| package["targets"].as_array().expect("targets"))
        .filter(|target| target["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|k| k == "example")))
        .map(|target| target["name"].as_str().expect("a name"))
        .collect();
    examples.sort_unstable();
    let mut covered: Vec<&str> =
        QUICK_EXAMPLES.iter().map(|(name, _)| *name).chain(SERVERS.iter().copied()).collect();
    covered.sort_unstable();
    assert_eq!(examples, covered, "a new example goes in QUICK_EXAMPLES (or SERVERS)");
    for (name, flags) in QUICK_EXAMPLES {
        let mut command = Command::new(example(name));
        command.args(*flags);
        for output in with_stdout_closed(command, name) {
            assert_ends_quietly(&output, name);
        }
    }
}

/// Status 0, and neither the default panic message nor the failed write's (which a program's own
/// panic hook, as `cancel_gather`'s, would print).
fn assert_ends_quietly(output: &std::process::Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{what}: {stderr}");
    assert!(!stderr.contains("panicked at") && !stderr.contains("Broken pipe"), "{what}: {stderr}");
}
