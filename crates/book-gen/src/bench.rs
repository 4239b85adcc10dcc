//! The criterion benches the book shows: `benches/runtime.rs` (spawn + join, ping-pong, wake
//! round trip) and `benches/echo.rs` (a 1 KiB echo round trip), each with stage 5 beside its two
//! anchors, tokio's current-thread runtime and smol's `LocalExecutor`.
//!
//! [`collect`] runs [`COMMAND`] in the same `book-gen data` run as the tour and the lab, then reads
//! criterion's typical time of one iteration of each benchmark (see [`parse_estimate`]) from
//! `target/criterion/GROUP/BENCH/new/estimates.json`, refusing any file that run did not write.
//! The estimates are kept in `book/src/data/lab.json` beside the lab's figures (same date, commit
//! and machine); [`generate`] draws `bench-runtime.md` and `bench-echo.md` from them.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::data;
use crate::lab::{LabData, Measured};
use crate::render::md_table;

/// What runs the benches, as typed in the repository's root.
pub const COMMAND: &str = "cargo bench --bench runtime --bench echo";

/// The runtimes of `benches/runtime.rs`, as its benchmark ids name them, in table order.
pub const RUNTIMES: [&str; 5] = ["stage3-call_soon", "stage4-task", "stage5", "tokio", "smol"];

/// The benchmarks of `benches/runtime.rs`: criterion's id with `{}` for the runtime, and what one
/// iteration of it is.
pub const RUNTIME_BENCHES: [(&str, &str); 4] = [
    ("spawn_join/{}/1", "spawn one task and join it"),
    ("spawn_join/{}/1000", "spawn 1000 tasks, then join them"),
    ("ping_pong/{}", "two tasks each yield once"),
    ("wake_round_trip/{}", "one number to a task and back over channels"),
];

/// The servers of `benches/echo.rs`, as its benchmark ids name them, in table order.
pub const ECHO_SERVERS: [&str; 5] =
    ["stage3-protocol", "stage5-tasks", "tokio", "smol", "thread-per-connection"];

/// The echo benchmark's id, with `{}` for the server.
pub const ECHO_BENCH: &str = "echo_1KiB/{}";

/// The runtime and the echo server of stage 5, and of its two anchors.
const STAGE5: (&str, &str) = ("stage5", "stage5-tasks");
const ANCHORS: [&str; 2] = ["tokio", "smol"];

/// Criterion's typical time of one iteration of one benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Criterion's id: `GROUP/FUNCTION[/PARAMETER]`, also its folder under `target/criterion`.
    pub id: String,
    /// Which of criterion's statistics this is: `slope` or `mean`.
    pub statistic: String,
    /// Its point estimate, in nanoseconds.
    pub ns: f64,
    /// The lower bound of its confidence interval (95 % by default), in nanoseconds.
    pub lower_ns: f64,
    /// Its upper bound.
    pub upper_ns: f64,
}

/// Every benchmark id the book shows, in the order of its tables.
pub fn ids() -> Vec<String> {
    let runtime = RUNTIME_BENCHES
        .iter()
        .flat_map(|(id, _)| RUNTIMES.iter().map(move |runtime| id.replace("{}", runtime)));
    runtime.chain(ECHO_SERVERS.iter().map(|server| ECHO_BENCH.replace("{}", server))).collect()
}

/// Runs [`COMMAND`] in `root` (a few minutes, most of it criterion's measuring; its report goes to
/// stderr), then reads the estimate of every benchmark in [`ids`] that this run wrote.
pub fn collect(root: &Path) -> io::Result<Measured<Vec<Estimate>>> {
    eprintln!("book-gen: measuring `{COMMAND}`");
    let started = SystemTime::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let args: Vec<&str> = COMMAND.split(' ').skip(1).collect();
    let status = Command::new(cargo)
        .current_dir(root)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(io::stderr())
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!("`{COMMAND}` failed: {status}")));
    }
    let criterion = target_dir(root)?.join("criterion");
    let result = ids().iter().map(|id| read_estimate(&criterion, id, started)).collect::<io::Result<_>>()?;
    Ok(Measured { command: COMMAND.to_string(), result })
}

/// Cargo's target folder for the workspace in `root` (`cargo metadata`'s `target_directory`).
fn target_dir(root: &Path) -> io::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| io::Error::other(format!("`cargo metadata` printed no JSON: {e}")))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| io::Error::other("`cargo metadata` names no target_directory"))
}

/// The mean of benchmark `id` from `CRITERION/ID/new/estimates.json`, which must have been
/// written after `since` (an older file is another run's, or a benchmark that no longer runs).
fn read_estimate(criterion: &Path, id: &str, since: SystemTime) -> io::Result<Estimate> {
    let path = criterion.join(id).join("new/estimates.json");
    let named = |e: &dyn std::fmt::Display| io::Error::other(format!("{}: {e}", path.display()));
    let written = std::fs::metadata(&path).and_then(|m| m.modified()).map_err(|e| named(&e))?;
    if written < since {
        return Err(named(&format!("not written by this run of `{COMMAND}`: is `{id}` still a benchmark?")));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| named(&e))?;
    parse_estimate(id, &text).map_err(|e| named(&e))
}

/// Criterion's `estimates.json` for benchmark `id`: its typical time of one iteration, the
/// figure `cargo bench` prints in the middle of its `time:` line. That is the `slope` of the
/// linear fit of time against iterations when criterion sampled linearly (less swayed by a few
/// slow samples than the mean), else the `mean`.
pub fn parse_estimate(id: &str, text: &str) -> Result<Estimate, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let statistic = if json["slope"].is_object() { "slope" } else { "mean" };
    let typical = &json[statistic];
    let number = |value: &serde_json::Value, what: &str| {
        value
            .as_f64()
            .filter(|n| n.is_finite() && *n > 0.0)
            .ok_or_else(|| format!("no positive {statistic} {what}"))
    };
    Ok(Estimate {
        id: id.to_string(),
        statistic: statistic.to_string(),
        ns: number(&typical["point_estimate"], "point_estimate")?,
        lower_ns: number(&typical["confidence_interval"]["lower_bound"], "lower_bound")?,
        upper_ns: number(&typical["confidence_interval"]["upper_bound"], "upper_bound")?,
    })
}

impl LabData {
    /// The typical time of one iteration of benchmark `id`, in nanoseconds.
    pub fn bench_ns(&self, id: &str) -> Option<f64> {
        self.benches.result.iter().find(|e| e.id == id).map(|e| e.ns)
    }
}

/// `850 ns`, `12.3 µs`, `4.56 ms`: three significant figures at most.
pub fn duration(ns: f64) -> String {
    let (value, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "µs"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    let decimals = match value {
        v if v < 10.0 => 2,
        v if v < 100.0 => 1,
        _ => 0,
    };
    format!("{value:.decimals$} {unit}")
}

/// `0.87×`: how many times the anchor's time stage 5's is (below 1, stage 5 is faster).
fn ratio(stage5: Option<f64>, anchor: Option<f64>) -> String {
    stage5.zip(anchor).map_or_else(|| "–".to_string(), |(s, a)| format!("{:.2}×", s / a))
}

/// What every bench table says under it: where the figures come from, and what a `ratio` is.
fn caption(lab: &LabData, ratio: &str) -> String {
    format!(
        "Each time is criterion's typical time of one iteration, the middle figure `cargo bench` \
         prints (the `slope` in `target/criterion/GROUP/BENCH/new/estimates.json`, or the `mean` \
         where criterion has no slope); {ratio}.\n\n{}",
        lab.caption(&[&lab.benches.command])
    )
}

/// `benches/runtime.rs`: a row per benchmark, a column per runtime, then stage 5 against each
/// anchor.
fn runtime_table(lab: &LabData) -> String {
    let rows: Vec<Vec<String>> = RUNTIME_BENCHES
        .iter()
        .map(|(id, iteration)| {
            let ns = |runtime: &str| lab.bench_ns(&id.replace("{}", runtime));
            let mut row = vec![format!("`{}`: {iteration}", id.replace("/{}", ""))];
            row.extend(RUNTIMES.iter().map(|runtime| ns(runtime).map_or_else(|| "–".to_string(), duration)));
            row.extend(ANCHORS.iter().map(|anchor| ratio(ns(STAGE5.0), ns(anchor))));
            row
        })
        .collect();
    let mut headers = vec!["benchmark: one iteration"];
    headers.extend(RUNTIMES);
    headers.extend(["stage5 / tokio", "stage5 / smol"]);
    md_table(&headers, &rows)
        + "\n"
        + &caption(lab, "a ratio is stage 5's time divided by the anchor's: below 1×, stage 5 is the faster")
}

/// `benches/echo.rs`: a row per server, its time, and the ratios of stage 5's to the anchors'.
fn echo_table(lab: &LabData) -> String {
    let ns = |server: &str| lab.bench_ns(&ECHO_BENCH.replace("{}", server));
    let rows: Vec<Vec<String>> = ECHO_SERVERS
        .iter()
        .map(|server| {
            let mut row = vec![server.to_string(), ns(server).map_or_else(|| "–".to_string(), duration)];
            row.extend(ANCHORS.iter().map(|anchor| ratio(ns(server), ns(anchor))));
            row
        })
        .collect();
    md_table(&["echo server", "one 1 KiB round trip", "/ tokio", "/ smol"], &rows)
        + "\n"
        + &caption(
            lab,
            "a ratio is the server's time divided by the anchor's: below 1×, the server is the faster",
        )
}

/// The bench files drawn from `lab`: (where it goes, its text).
pub fn generate(root: &Path, lab: &LabData) -> Vec<(PathBuf, String)> {
    let dir = root.join(data::DIR);
    vec![(dir.join("bench-runtime.md"), runtime_table(lab)), (dir.join("bench-echo.md"), echo_table(lab))]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every benchmark the tables show, each taking `ns`, except stage 5's, which takes half.
    pub(crate) fn sample(ns: f64) -> Measured<Vec<Estimate>> {
        let result = ids()
            .into_iter()
            .map(|id| {
                let ns = if id.contains("/stage5") { ns / 2.0 } else { ns };
                Estimate { id, statistic: "slope".into(), ns, lower_ns: ns * 0.9, upper_ns: ns * 1.1 }
            })
            .collect();
        Measured { command: COMMAND.to_string(), result }
    }

    #[test]
    fn the_ids_are_criterions_folders() {
        let ids = ids();
        assert_eq!(ids.len(), RUNTIME_BENCHES.len() * RUNTIMES.len() + ECHO_SERVERS.len());
        for id in ["spawn_join/smol/1000", "ping_pong/stage5", "wake_round_trip/tokio", "echo_1KiB/smol"] {
            assert!(ids.iter().any(|i| i == id), "{id}: {ids:?}");
        }
    }

    #[test]
    fn an_estimate_is_its_slope_or_else_its_mean() {
        let mean = r#"{"confidence_interval":{"confidence_level":0.95,"lower_bound":90.5,
            "upper_bound":110.25},"point_estimate":100.0,"standard_error":5.0}"#;
        let slope = mean.replace("90.5", "80.5").replace("100.0", "95.0");
        let flat = format!(r#"{{"mean":{mean},"median":{mean},"slope":null}}"#);
        let estimate = parse_estimate("ping_pong/smol", &flat).unwrap();
        assert_eq!((estimate.ns, estimate.lower_ns, estimate.upper_ns), (100.0, 90.5, 110.25));
        assert_eq!(estimate.statistic, "mean");
        let linear = format!(r#"{{"mean":{mean},"median":{mean},"slope":{slope}}}"#);
        let estimate = parse_estimate("ping_pong/smol", &linear).unwrap();
        assert_eq!((estimate.ns, estimate.lower_ns, estimate.statistic.as_str()), (95.0, 80.5, "slope"));
        assert!(parse_estimate("x", r#"{"mean":{"point_estimate":0.0}}"#).is_err());
        assert!(parse_estimate("x", "not json").is_err());
    }

    #[test]
    fn an_estimate_older_than_the_run_is_refused() {
        let criterion = std::env::temp_dir().join(format!("book-gen-bench-{}", std::process::id()));
        let folder = criterion.join("ping_pong/smol/new");
        std::fs::create_dir_all(&folder).unwrap();
        let text = r#"{"mean":{"confidence_interval":{"lower_bound":9.0,"upper_bound":11.0},"point_estimate":10.0}}"#;
        std::fs::write(folder.join("estimates.json"), text).unwrap();
        let long_ago = SystemTime::UNIX_EPOCH;
        assert_eq!(read_estimate(&criterion, "ping_pong/smol", long_ago).unwrap().ns, 10.0);
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        let refused = read_estimate(&criterion, "ping_pong/smol", later).unwrap_err().to_string();
        assert!(refused.contains("not written by this run"), "{refused}");
        assert!(read_estimate(&criterion, "ping_pong/tokio", long_ago).is_err(), "no such file");
        std::fs::remove_dir_all(&criterion).unwrap();
    }

    #[test]
    fn durations_keep_three_figures() {
        assert_eq!(duration(850.0), "850 ns");
        assert_eq!(duration(12_345.0), "12.3 µs");
        assert_eq!(duration(4_560_000.0), "4.56 ms");
        assert_eq!(duration(9.5), "9.50 ns");
    }

    #[test]
    fn the_tables_show_every_runtime_and_the_ratios_to_both_anchors() {
        let mut lab = crate::lab_render::tests::sample();
        lab.benches = sample(2000.0);
        let runtime = runtime_table(&lab);
        assert!(
            runtime.contains("| `spawn_join/1000`: spawn 1000 tasks, then join them | 2.00 µs | 2.00 µs | 1.00 µs | 2.00 µs | 2.00 µs | 0.50× | 0.50× |"),
            "{runtime}"
        );
        let echo = echo_table(&lab);
        assert!(echo.contains("| stage5-tasks | 1.00 µs | 0.50× | 0.50× |"), "{echo}");
        assert!(echo.contains("| smol | 2.00 µs | 1.00× | 1.00× |"), "{echo}");
        lab.benches.result.retain(|e| e.id != "ping_pong/smol");
        assert!(runtime_table(&lab).contains("| – | 0.50× | – |"));
        for text in [runtime, echo] {
            assert!(text.contains(COMMAND) && text.contains("Test CPU"), "{text}");
        }
    }
}
