//! Helpers shared by the cross-stage tests: the stage binaries, a fixture site, report filters.
#![allow(dead_code)] // each test file uses a different subset

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Every stage binary, in stage order. Later stages join here.
pub const STAGE_BINS: &[&str] = &[
    "stage1-blocking",
    "stage2-busy-poll",
    "stage3-callbacks",
    "stage4-generators",
    "stage5-async-await",
    "stage6-tokio",
];

/// Stage 1's modes, as `--mode` takes them.
pub const STAGE1_MODES: &[&str] = &["sequential", "threads", "pool", "processes"];

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
        let mut packages: Vec<&str> = STAGE_BINS.to_vec();
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

/// Runs a crawl and returns its report, asserting it exited cleanly.
pub fn crawl_report(stage: &str, site: &site::RunningSite, extra: &[&str]) -> String {
    let output = crawl_command(stage, site, extra).output().expect("run the stage binary");
    assert!(output.status.success(), "{stage} {extra:?} exited with {}", output.status);
    String::from_utf8(output.stdout).expect("the report is UTF-8")
}

/// A report with what differs between runs taken out: the site's port and the elapsed time.
pub fn normalized(report: &str) -> String {
    let report = crawl::report::without_time(report);
    regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap().replace_all(&report, "[SITE]").into_owned()
}

/// Insta settings whose filters match [`normalized`], for snapshotting whole command runs.
pub fn report_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"127\.0\.0\.1:\d+", "[SITE]");
    settings.add_filter(r"in \d+\.\d+ secs", "in [SECS] secs");
    settings
}

/// The report's row for `path`, without the URL.
pub fn row<'a>(report: &'a str, site: &site::RunningSite, path: &str) -> Option<&'a str> {
    let url = format!("{}{}", site.url(), path.trim_start_matches('/'));
    report.lines().find_map(|line| {
        let (first, rest) = line.split_once(' ')?;
        (first == url).then(|| rest.trim())
    })
}
