//! The book's measurements: one run of the release tour, with the machine it ran on.
//!
//! [`collect`] runs `cargo run --release -p tour -- --json` with the settings in [`TOUR_FLAGS`]
//! and wraps its rows in a [`TourData`] that also records the command, the machine (CPU model,
//! cores, memory, kernel, OS, rustc) and the commit. `book/src/data/tour.json` is that value; the
//! tables and charts the chapters show are drawn from it by [`crate::render`].

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

/// The command that measures and regenerates everything in `book/src/data`.
pub const COMMAND: &str = "cargo run -p book-gen -- data";

/// Where the data goes, under the repository root.
pub const DIR: &str = "book/src/data";

/// The measurements file, under [`DIR`].
pub const JSON: &str = "tour.json";

/// The tour's flags, spelled out (they are its defaults) so that the recorded command says what
/// was measured.
pub const TOUR_FLAGS: &[&str] = &[
    "--pages",
    "200",
    "--links",
    "8",
    "--latency-ms",
    "20",
    "--max-tasks",
    "10",
    "--timeout",
    "0.2",
    "--json",
];

/// One run of the tour and where it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TourData {
    /// What produced the rows, as typed in the repository's root.
    pub command: String,
    /// What wrote this file.
    pub generated_by: String,
    /// The day of the run (UTC), `YYYY-MM-DD`.
    pub date: String,
    /// `git describe`-like: the commit measured, and whether the tree had uncommitted changes.
    pub commit: String,
    /// Where it ran.
    pub machine: Machine,
    /// What the site served that the rows depend on (absent in data older than the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteFacts>,
    /// The rows exactly as `tour --json` printed them.
    pub rows: Vec<Row>,
}

/// What the measured site served, as far as the report's rows depend on it: recorded with the
/// data, so that a change to the site's faults shows up as stale data (see [`check_site`]; a
/// stage or mode added to the tour or taken out of it does too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteFacts {
    /// The fault paths, from `site::FAULTS`.
    pub fault_paths: Vec<String>,
    /// How many report rows are errors at the tour's `--timeout` and the default `--max-tries`.
    pub error_rows: usize,
}

impl SiteFacts {
    /// The facts of the site as it is now, for the tour's flags.
    pub fn now() -> SiteFacts {
        let timeout = flag(TOUR_FLAGS, "--timeout").expect("the tour's flags name a timeout");
        let timeout = std::time::Duration::from_secs_f64(timeout.parse().expect("a number of seconds"));
        SiteFacts {
            fault_paths: site::FAULTS.iter().map(|fault| fault.path.to_owned()).collect(),
            error_rows: site::expected_errors(timeout, crawl::config::DEFAULT_MAX_TRIES),
        }
    }
}

/// The value after `name` in `flags`.
fn flag<'a>(flags: &[&'a str], name: &str) -> Option<&'a str> {
    flags.iter().position(|f| *f == name).and_then(|i| flags.get(i + 1)).copied()
}

/// What is stale in `data` because the site changed since it was measured: the recorded site
/// facts, and every row whose error count is not the site's.
pub fn check_site(data: &TourData) -> Vec<String> {
    let now = SiteFacts::now();
    let mut problems = Vec::new();
    if data.site.as_ref() != Some(&now) {
        problems.push(format!(
            "{DIR}/{JSON} records other site facts than the site's ({now:?}): run `{COMMAND}`"
        ));
    }
    // A row for every stage and mode the tour runs, and none for one it no longer does.
    let measured: Vec<(u8, &str)> = data.rows.iter().map(|row| (row.stage, row.mode.as_str())).collect();
    let runs: Vec<(u8, &str)> = tour::stages::ALL.iter().map(|run| (run.stage, run.mode)).collect();
    if measured != runs {
        problems.push(format!(
            "{DIR}/{JSON} has rows for {measured:?}, but the tour runs {runs:?}: run `{COMMAND}`"
        ));
    }
    for row in data.rows.iter().filter(|row| row.errors != now.error_rows) {
        problems.push(format!(
            "{DIR}/{JSON}: the {} row has {} errors, but the site now makes {}: run `{COMMAND}`",
            row.mode, row.errors, now.error_rows
        ));
    }
    problems
}

/// The machine a measurement ran on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// The CPU's model name, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs this process may run on.
    pub cores: usize,
    /// Physical memory, from `/proc/meminfo`, in MiB.
    pub memory_mib: u64,
    /// The kernel release (`uname -r`).
    pub kernel: String,
    /// The distribution, from `/etc/os-release`.
    pub os: String,
    /// `rustc --version`.
    pub rustc: String,
}

/// One row of `tour --json`: the tour's own type, so that what it prints and what is read back
/// here cannot differ.
pub use tour::table::Row;

impl TourData {
    /// The row of a mode (modes are unique across stages).
    pub fn row(&self, mode: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.mode == mode)
    }

    /// The tour's command line as recorded.
    pub fn tour_command() -> String {
        release_tour_command(TOUR_FLAGS)
    }
}

/// The command line that runs the release tour with `args`, as typed in the repository's root.
pub fn release_tour_command(args: &[&str]) -> String {
    format!("cargo run --release -p tour -- {}", args.join(" "))
}

/// Runs the release tour in `root` and records the machine. Takes as long as the tour (tens of
/// seconds); the tour's progress goes to stderr.
pub fn collect(root: &Path) -> io::Result<TourData> {
    let rows: Vec<Row> = serde_json::from_slice(&run_release_tour(root, TOUR_FLAGS)?)
        .map_err(|e| io::Error::other(format!("the tour's JSON is not what book-gen expects: {e}")))?;
    Ok(TourData {
        command: TourData::tour_command(),
        generated_by: COMMAND.to_string(),
        date: today(),
        commit: commit(root),
        machine: machine(),
        site: Some(SiteFacts::now()),
        rows,
    })
}

/// Runs `cargo run --release -p tour -- ARGS` in `root` and returns what it printed on stdout
/// (its progress goes to stderr). Fails if the tour does.
pub fn run_release_tour(root: &Path, args: &[&str]) -> io::Result<Vec<u8>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["run", "--quiet", "--release", "-p", "tour", "--"])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!("`tour {}` failed: {}", args.join(" "), output.status)));
    }
    Ok(output.stdout)
}

/// Reads `tour.json` from the book.
pub fn load(root: &Path) -> io::Result<TourData> {
    let path = root.join(DIR).join(JSON);
    let text =
        std::fs::read_to_string(&path).map_err(|e| io::Error::new(e.kind(), format!("{DIR}/{JSON}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| io::Error::other(format!("{DIR}/{JSON}: {e}")))
}

/// `tour.json`'s text for `data`.
pub fn to_json(data: &TourData) -> String {
    serde_json::to_string_pretty(data).expect("tour data serialises") + "\n"
}

/// The machine this runs on, from `/proc`, `/etc/os-release` and `rustc`.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    Machine {
        cpu: field(&cpuinfo, "model name", ':').unwrap_or_else(|| "unknown CPU".to_string()),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_mib: field(&meminfo, "MemTotal", ':')
            .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_string(), |s| s.trim().to_string()),
        os: field(&os_release, "PRETTY_NAME", '=')
            .map_or_else(|| "unknown".to_string(), |s| s.trim_matches('"').to_string()),
        rustc: run_for_line("rustc", &["--version"]).unwrap_or_else(|| "unknown".to_string()),
    }
}

/// The value of the first `key<sep>value` line.
fn field(text: &str, key: &str, sep: char) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(sep)?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// The first line a command prints, if it runs and succeeds.
fn run_for_line(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).stderr(Stdio::null()).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    output.status.success().then(|| text.lines().next().unwrap_or_default().trim().to_string())
}

/// The commit measured, `+ uncommitted changes` when the tree differs from it.
pub fn commit(root: &Path) -> String {
    let root = root.to_string_lossy();
    let Some(hash) = run_for_line("git", &["-C", &root, "rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".to_string();
    };
    let dirty = Command::new("git")
        .args(["-C", &root, "status", "--porcelain"])
        .output()
        .is_ok_and(|out| !out.stdout.is_empty());
    if dirty { format!("{hash} + uncommitted changes") } else { hash }
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The calendar date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }

    /// `tour.json` is written by [`to_json`]; reading it and writing it again must give the same
    /// bytes, or the row type no longer matches what the tour printed.
    #[test]
    fn tour_json_is_read_and_written_byte_for_byte() {
        let root = crate::repo_root();
        let text = std::fs::read_to_string(root.join(DIR).join(JSON)).unwrap();
        assert_eq!(to_json(&load(&root).unwrap()), text);
    }

    #[test]
    fn fields_are_read_by_key() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\n";
        assert_eq!(field(cpuinfo, "model name", ':').as_deref(), Some("Some CPU @ 2.0GHz"));
        assert_eq!(field("PRETTY_NAME=\"Debian\"\n", "PRETTY_NAME", '=').as_deref(), Some("\"Debian\""));
    }
}
