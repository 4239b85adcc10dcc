//! Helpers shared by the cross-stage tests: the stages (from the tour's list of them,
//! [`stages::ALL`]) and their binaries, a fixture site, report filters.
#![allow(dead_code)] // each test file uses a different subset

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

pub use tour::stages;

pub mod timeline;

/// Every stage binary once, in stage order (stage 1's modes share one binary).
pub fn stage_bins() -> Vec<&'static str> {
    let mut bins: Vec<&str> = stages::ALL.iter().map(|run| run.crate_name).collect();
    bins.dedup();
    bins
}

/// Stage 1's modes, as `--mode` takes them.
pub fn stage1_modes() -> Vec<&'static str> {
    stages::ALL.iter().filter(|run| run.stage == 1).map(|run| run.mode).collect()
}

/// The path of an example binary of a stage crate (built by [`bin`] with the binaries).
pub fn example(name: &str) -> PathBuf {
    bin("examples").join(name)
}

/// The path of a workspace binary, built (once per test process) with the profile this test was
/// built with. Cargo only builds a package's binaries for that package's own integration tests,
/// so the cross-stage tests build the ones they run themselves; when they are fresh this is a
/// no-op that takes a fraction of a second.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let release = profile_dir(false).file_name().is_some_and(|p| p == "release");
        let mut packages = stage_bins();
        packages.extend(["tour", "site"]);
        build(&packages, release)
    });
    dir.join(name)
}

/// The path of a workspace binary built in release mode, whatever this test was built with (for
/// measurements of optimised code); built once per test process.
pub fn release_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build(&["tour"], true)).join(name)
}

/// `target/<profile>`: this test's own (`target/<profile>/deps/<test>-<hash>`), or, with
/// `release`, the release one beside it.
fn profile_dir(release: bool) -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    let own = test_exe.parent().and_then(|deps| deps.parent()).expect("target layout");
    if release { own.parent().expect("target layout").join("release") } else { own.to_path_buf() }
}

/// Builds the binaries and examples of `packages`; returns where they are.
fn build(packages: &[&str], release: bool) -> PathBuf {
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--bins", "--examples"]);
    for package in packages {
        build.args(["-p", package]);
    }
    if release {
        build.arg("--release");
    }
    let status = build.status().expect("cannot run cargo build");
    assert!(status.success(), "cargo build of {packages:?} failed");
    profile_dir(release)
}

/// A fixture site small enough for tests: the faulty pages cost `4 tries x TEST_TIMEOUT` each.
pub fn small_site(faults: bool) -> site::RunningSite {
    site::spawn(site::SiteConfig {
        pages: 30,
        links: 4,
        latency: Duration::ZERO,
        faults,
        ..site::SiteConfig::default()
    })
    .expect("start the fixture site")
}

/// The per-request timeout tests use: long enough for a loaded CI machine to answer a page on
/// loopback, short enough that the pages that never answer cost a second or two.
pub const TEST_TIMEOUT: &str = "0.3";

/// A stage binary's command crawling `site` quietly with the test timeout.
pub fn crawl_command(stage: &str, site: &site::RunningSite, extra: &[&str]) -> Command {
    let mut command = Command::new(bin(stage));
    command.arg(site.url()).arg("-q").args(extra);
    if !extra.contains(&"--timeout") {
        command.args(["--timeout", TEST_TIMEOUT]);
    }
    command
}

/// What a child of this test has open when it starts with a number below `limit` (the numbers
/// an open-file limit of `limit` leaves room for): stdin, stdout, stderr, and whatever is passed
/// on to it (cargo's jobserver pipes, when cargo runs the test). Counted by a child that lists
/// its own descriptors, less the one its listing holds (which points at the folder listed).
pub fn open_at_start(limit: usize) -> usize {
    let listing = Command::new("ls").args(["-l", "/proc/self/fd"]).output().expect("run ls");
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    let open = listing.lines().filter_map(|line| {
        let (name, target) = line.split_once(" -> ")?;
        let fd: usize = name.split_whitespace().last()?.parse().ok()?;
        (fd < limit && !target.ends_with("/fd")).then_some(fd)
    });
    open.count()
}

/// The open-file limit that leaves exactly `room` descriptors free in a child of this test, over
/// what it has open at start. (What is open below the limit depends on the limit only through
/// descriptors numbered above it, which take no room: so it is found by trying.)
pub fn limit_leaving(room: usize) -> usize {
    (room..).find(|&limit| open_at_start(limit) + room == limit).expect("a limit")
}

/// Runs a crawl and returns its report, asserting it exited cleanly.
pub fn crawl_report(stage: &str, site: &site::RunningSite, extra: &[&str]) -> String {
    let output = crawl_command(stage, site, extra).output().expect("run the stage binary");
    assert!(output.status.success(), "{stage} {extra:?} exited with {}", output.status);
    String::from_utf8(output.stdout).expect("the report is UTF-8")
}

/// A report with what differs between runs taken out: the site's port and the elapsed time.
pub fn normalized(report: &str) -> String {
    let report = crawl::report::without_time(report);
    regex::Regex::new(SITE_ADDR).unwrap().replace_all(&report, "[SITE]").into_owned()
}

/// Insta settings whose filters match [`normalized`], for snapshotting whole command runs. The
/// same filter redacts the command's arguments in the snapshot's header, so that a snapshot file
/// changes only when the output does, not with the site's port.
pub fn report_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(SITE_ADDR, "[SITE]");
    settings.add_filter(r"in \d+\.\d+ secs", "in [SECS] secs");
    settings.add_redaction(
        ".args[]",
        insta::dynamic_redaction(|arg, _| match arg.as_str() {
            Some(text) => {
                regex::Regex::new(SITE_ADDR).unwrap().replace_all(text, "[SITE]").into_owned().into()
            }
            None => arg,
        }),
    );
    settings
}

/// The fixture site's address, as it appears in reports and arguments.
const SITE_ADDR: &str = r"127\.0\.0\.1:\d+";

/// The report's row for `path`, without the URL.
pub fn row<'a>(report: &'a str, site: &site::RunningSite, path: &str) -> Option<&'a str> {
    let url = format!("{}{}", site.url(), path.trim_start_matches('/'));
    report.lines().find_map(|line| {
        let (first, rest) = line.split_once(' ')?;
        (first == url).then(|| rest.trim())
    })
}

// ---------------------------------------------------------------------------------------------
// A child process run under a hang guard (used by tests/leaks.rs, tests/limits.rs, tests/cli.rs
// and tests/examples.rs)

/// How long a child process of a test may run before it is killed: far longer than any crawl in
/// the tests takes, so only a hang ever reaches it.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Collects the output of `child` (stderr piped; stdout piped, or else empty) and its exit status;
/// kills it and panics if that takes longer than [`HANG_GUARD`].
///
/// The collection ends when both pipes reach end of file, which happens only once *every*
/// process holding their write ends has closed them: children that `child` started with the
/// pipes inherited included. So a return also proves that none of those is still running.
pub fn output_within_hang_guard(mut child: std::process::Child, what: &str) -> std::process::Output {
    use std::io::Read;
    let (sender, received) = std::sync::mpsc::channel();
    let stdout: Box<dyn Read + Send> = match child.stdout.take() {
        Some(pipe) => Box::new(pipe),
        None => Box::new(std::io::empty()),
    };
    let stderr: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr is piped"));
    // One reader each: a child blocked writing a full stderr pipe would never close stdout.
    for (index, mut pipe) in [stdout, stderr].into_iter().enumerate() {
        let sender = sender.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = sender.send((index, bytes));
        });
    }
    let deadline = std::time::Instant::now() + HANG_GUARD;
    let mut outputs = [Vec::new(), Vec::new()];
    for _ in 0..outputs.len() {
        match received.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            Ok((index, bytes)) => outputs[index] = bytes,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what}: its output was still open after {HANG_GUARD:?} (killed)");
            }
        }
    }
    let status = child.wait().expect("wait for the child");
    let [stdout, stderr] = outputs;
    std::process::Output { status, stdout, stderr }
}

/// Runs `command` twice as `| head -1` would leave it, and returns each run's stderr and status
/// (the stdout it wrote is gone): once with its stdout closed after the first line, and once with
/// it closed before the program starts, for a program that writes all its lines (at once, or in
/// one write) before the first run can close the pipe.
pub fn with_stdout_closed(mut command: Command, what: &str) -> [std::process::Output; 2] {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut first = String::new();
    let _ = std::io::BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut first);
    let after_one_line = output_within_hang_guard(child, &format!("{what}, after one line"));
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let child = command.stdout(writer).spawn().expect("spawn");
    [after_one_line, output_within_hang_guard(child, &format!("{what}, before the first line"))]
}

// ---------------------------------------------------------------------------------------------
// Release builds of chosen packages, and a child's peak memory (used by tests/soak.rs)

/// The directory with release builds of the binaries of `packages`, built now (a no-op when they
/// are fresh), for a test that should run optimised code. Unlike [`release_bin`], without the
/// packages' examples: in release mode they would cost a CI run more than the test itself.
pub fn release_bins(packages: &[&str]) -> PathBuf {
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "--release", "--bins"]);
    build.args(packages.iter().flat_map(|package| ["-p", package]));
    let status = build.status().expect("cannot run cargo build");
    assert!(status.success(), "cargo build --release of {packages:?} failed");
    profile_dir(true)
}

/// The peak resident memory of a live process in KiB, from `VmHWM` in `/proc/PID/status` (a
/// high-water mark: it never goes down); `None` once the process has exited, when its `/proc`
/// entry no longer has memory figures.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    Some(line.trim().trim_end_matches("kB").trim().parse().expect("VmHWM in kB"))
}
