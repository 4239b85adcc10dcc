//! `--timeline FILE`: every stage and mode writes a trace that Perfetto can open, and what it
//! shows agrees with the report.
//!
//! Each run crawls the small fixture site with its faults (so there are retries, and tries whose
//! deadline fires) at `--max-tasks 5`, and its file is checked as the trace event format
//! ([`common::timeline::parse`]: the keys of each event, time never going back on a track, spans
//! nested, tracks named). Then against the report: a try span for every try the report counts,
//! every URL there, the last try ending as the row says, a deadline where a row timed out, never
//! more than `--max-tasks` tries at once; and against what each stage is: stage 2's thread busy
//! for most of the run, stages 3 to 6 asleep in the poller for most of it (ratios of the file's
//! own times, with wide margins), stage 1's threads blocked, tasks spawned before they are polled.
mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::timeline::{self, ASLEEP, LANES_PID, THREADS_PID, Timeline};
use common::*;

const MAX_TASKS: usize = 5;

/// The steps of a try that got its response, in order.
const STEPS: [&str; 5] = ["resolving", "connecting", "sending", "waiting for the first byte", "receiving"];

/// Where a run's file goes.
fn file_for(run: &stages::StageRun, test: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{test}-{}-{}.json", run.crate_name, run.mode))
}

/// The tries a report row counts: `(3 tries)`, `(1 try)`, or nothing for one try.
fn tries_of(row: &str) -> u32 {
    match row.rsplit_once('(') {
        Some((_, rest)) if rest.ends_with(" tries)") || rest.ends_with(" try)") => {
            rest.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1)
        }
        _ => 1,
    }
}

/// What a row's last try ended in, as the timeline names it: `200`, `301 redirect`, `error timeout`.
fn result_of(row: &str) -> String {
    let fields: Vec<&str> = row.split_whitespace().collect();
    match fields.as_slice() {
        [_, "error", kind, ..] => format!("error {kind}"),
        [_, status, "->", ..] => format!("{status} redirect"),
        [_, status, ..] => status.to_string(),
        _ => panic!("not a row: {row}"),
    }
}

#[test]
fn every_stage_writes_a_timeline_that_agrees_with_its_report() {
    let site = small_site(true);
    std::thread::scope(|scope| {
        let handles: Vec<_> = stages::ALL
            .iter()
            .map(|run| {
                let site = &site;
                scope.spawn(move || {
                    let path = file_for(run, "agrees");
                    let max_tasks = MAX_TASKS.to_string();
                    let mut flags: Vec<&str> = run.extra_flags.to_vec();
                    flags.extend([
                        "--max-tasks",
                        &max_tasks,
                        "--timeline",
                        path.to_str().expect("a UTF-8 path"),
                    ]);
                    let report = crawl_report(run.crate_name, site, &flags);
                    let text = std::fs::read_to_string(&path).expect("the timeline was written");
                    (run, report, text)
                })
            })
            .collect();
        for handle in handles {
            let (run, report, text) = handle.join().expect("a run panicked");
            let timeline =
                timeline::parse(&text).unwrap_or_else(|why| panic!("{run}: not a valid trace: {why}"));
            agrees_with_report(&run.to_string(), &timeline, &report);
            shows_the_stage(run, &timeline);
        }
    });
}

/// The lanes hold what the report says happened, try by try.
fn agrees_with_report(run: &str, timeline: &Timeline, report: &str) {
    let mut tries: HashMap<&str, Vec<&timeline::Span>> = HashMap::new();
    for span in timeline.tries() {
        tries.entry(span.args["url"].as_str().expect("a try names its URL")).or_default().push(span);
    }
    let rows: Vec<&str> = report.lines().filter(|line| line.starts_with("http")).collect();
    assert!(rows.len() > 30, "{run}: a short report\n{report}");
    for row in &rows {
        let url = row.split_whitespace().next().expect("a row starts with its URL");
        let spans =
            tries.get(url).unwrap_or_else(|| panic!("{run}: {url} is in the report, not in the timeline"));
        assert_eq!(spans.len() as u32, tries_of(row), "{run}: try spans of {url} against its row {row:?}");
        let mut spans = spans.clone();
        spans.sort_by(|a, b| a.start.total_cmp(&b.start));
        let last = spans.last().expect("at least one try");
        assert_eq!(last.end_args["result"].as_str(), Some(result_of(row).as_str()), "{run}: {row}");
        if !result_of(row).starts_with("error") {
            // A try that got its response went through every step, in order.
            let steps: Vec<&str> = timeline
                .spans
                .iter()
                .filter(|s| {
                    s.pid == last.pid && s.tid == last.tid && s.start >= last.start && s.end <= last.end
                })
                .filter(|s| STEPS.contains(&s.name.as_str()))
                .map(|s| s.name.as_str())
                .collect();
            assert_eq!(steps, STEPS, "{run}: the steps of {url}'s last try");
        }
        for earlier in &spans[..spans.len() - 1] {
            let result = earlier.end_args["result"].as_str().unwrap_or_default();
            assert!(result.starts_with("error "), "{run}: {url}: a try before a retry ended in {result:?}");
        }
        if result_of(row) == "error timeout" {
            let deadline = timeline.instants.iter().any(|(pid, _, name, _, args)| {
                *pid == LANES_PID as u64 && name == "deadline" && args["url"] == url
            });
            assert!(deadline, "{run}: {url} timed out, but no deadline fired in its lane");
        }
    }
    assert_eq!(tries.len(), rows.len(), "{run}: a URL in the timeline is not in the report");
    let most = timeline::most_at_once(timeline.tries());
    assert!(most <= MAX_TASKS, "{run}: {most} tries at once, over --max-tasks {MAX_TASKS}");
    let lanes: std::collections::HashSet<u64> = timeline.tries().map(|s| s.tid).collect();
    assert!(lanes.len() <= MAX_TASKS, "{run}: {} lanes for --max-tasks {MAX_TASKS}", lanes.len());
    let in_flight = &timeline.counters["requests in flight"];
    assert!(in_flight.iter().all(|&(_, n)| n <= MAX_TASKS as f64), "{run}: {in_flight:?}");
    assert_eq!(in_flight.last().map(|&(_, n)| n), Some(0.0), "{run}: requests left in flight");
    assert_eq!(
        timeline.counters["sockets open"].last().map(|&(_, n)| n),
        Some(0.0),
        "{run}: sockets left open"
    );
}

/// The threads do what the stage is about, for most of the run.
fn shows_the_stage(run: &stages::StageRun, timeline: &Timeline) {
    let wall = timeline.wall();
    let most = |times: Vec<(String, f64)>| times.into_iter().map(|(_, t)| t).fold(0.0, f64::max);
    let share = |name: &str| most(timeline.time_in(name)) / wall;
    match run.stage {
        1 if run.mode == "processes" => {
            let waits = share("blocked waiting for the child");
            assert!(waits > 0.5, "{run}: a worker waited for its children {:.0}% of the run", waits * 100.0);
            let children = timeline.process_names.keys().filter(|&&pid| pid > LANES_PID as u64).count();
            assert!(children > 30, "{run}: {children} children's files merged");
        }
        1 => {
            let mut blocked: HashMap<u64, f64> = HashMap::new();
            for span in timeline
                .spans
                .iter()
                .filter(|s| s.pid == THREADS_PID as u64 && s.name.starts_with("blocked "))
            {
                *blocked.entry(span.tid).or_default() += span.end - span.start;
            }
            let most = blocked.values().copied().fold(0.0, f64::max) / wall;
            assert!(most > 0.5, "{run}: no thread blocked for most of the run ({:.0}%)", most * 100.0);
            assert!(share("blocked in read") > 0.0, "{run}: no read blocked");
        }
        2 => {
            let busy = share("busy turns");
            assert!(busy > 0.5, "{run}: busy turns cover {:.0}% of the run", busy * 100.0);
            assert_eq!(share(ASLEEP), 0.0, "{run}: the busy loop never sleeps");
        }
        _ => {
            let asleep = share(ASLEEP);
            assert!(asleep > 0.5, "{run}: asleep in the poller {:.0}% of the run", asleep * 100.0);
            let bursts = timeline.spans.iter().filter(|s| s.name == "callbacks" || s.name == "polls").count();
            assert!(bursts > 10, "{run}: {bursts} bursts");
        }
    }
    if run.stage >= 4 {
        tasks_are_followed(&run.to_string(), timeline);
    }
}

/// Stages 4 to 6: every task polled (or stepped) or woken was spawned before, and some end.
fn tasks_are_followed(run: &str, timeline: &Timeline) {
    let task_of = |name: &str, prefix: &str| name.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok());
    let mut spawned = HashMap::new();
    for (_, _, name, ts, _) in &timeline.instants {
        if let Some(id) = task_of(name, "spawn task ") {
            spawned.insert(id, *ts);
        }
    }
    assert!(spawned.len() >= MAX_TASKS, "{run}: {} tasks spawned", spawned.len());
    let polls: Vec<(u64, f64)> = timeline
        .spans
        .iter()
        .filter_map(|s| {
            task_of(&s.name, "poll task ").or(task_of(&s.name, "step task ")).map(|id| (id, s.start))
        })
        .collect();
    assert!(polls.len() > spawned.len(), "{run}: {} polls of {} tasks", polls.len(), spawned.len());
    for (id, at) in &polls {
        let born = spawned.get(id).unwrap_or_else(|| panic!("{run}: task {id} polled, never spawned"));
        assert!(born <= at, "{run}: task {id} polled before its spawn");
    }
    let wakes = timeline.instants.iter().filter(|(_, _, name, _, _)| name.starts_with("wake task ")).count();
    let ends = timeline.instants.iter().filter(|(_, _, name, _, _)| name.starts_with("task ")).count();
    assert!(wakes > 0 && ends > 0, "{run}: {wakes} wakes, {ends} ends");
    assert!(timeline.counters.contains_key("tasks alive"), "{run}: no tasks-alive counter");
}

#[test]
fn a_timeline_that_cannot_be_written_is_an_error_before_any_request() {
    let site = small_site(false);
    for run in stages::ALL {
        let output = crawl_command(run.crate_name, &site, run.extra_flags)
            .args(["--timeline", "/nonexistent/folder/timeline.json"])
            .output()
            .expect("run the stage");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{run}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{run}: {stderr}");
        assert!(
            stderr.starts_with("error: --timeline /nonexistent/folder/timeline.json: cannot write"),
            "{run}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{run}: a report was printed");
    }
    assert_eq!(site.counters().requests(), 0, "a request was made before the error");
}

#[test]
fn a_timeline_lost_at_the_end_is_an_error_after_the_report() {
    let site = small_site(false);
    let output = crawl_command("stage3-callbacks", &site, &["--timeline", "/dev/full"])
        .output()
        .expect("run the stage");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: --timeline /dev/full: cannot write the file: "), "{stderr}");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("Finished "), "the report is printed first:\n{report}");
}
