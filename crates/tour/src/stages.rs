//! Every stage and mode of the crawler, listed once: the tour runs these rows, and the
//! cross-stage tests and the crawl benchmark take their stages from here too, so a stage or a
//! mode added here is toured, tested and benchmarked without another list to keep in step.

use std::ffi::OsString;
use std::fmt;
use std::process::ExitCode;

use crawl::descriptors::Needs;
use crawl::{Config, Report};

/// The hidden first argument that makes the tour run one stage's command line instead.
pub const RUN_STAGE: &str = "__stage";

/// A stage binary's `main`: its command line, `argv[0]` first, to its exit status.
pub type StageMain = fn(Vec<OsString>) -> ExitCode;

/// A stage's whole crawl, called in the caller's own process.
pub type InProcessCrawl = fn(&Config) -> Report;

/// One way to run the crawler: a stage, in one of its modes.
#[derive(Clone, Copy, Debug)]
pub struct StageRun {
    /// Stage number, as in the README's table.
    pub stage: u8,
    /// The mode's name, as the tour prints it (stage 1 has four modes, every other stage one).
    pub mode: &'static str,
    /// The crate of the stage, which is also the name of its binary.
    pub crate_name: &'static str,
    /// The flags that pick this mode, added after the shared ones (none for a stage with one mode).
    pub extra_flags: &'static [&'static str],
    /// The stage's `main`, which the tour calls when it runs itself as this stage.
    pub main: StageMain,
    /// The same crawl as a function call, or `None` for a mode that needs the stage binary as its
    /// own executable: stage 1's `processes` runs it again per URL with `--fetch-one URL`, which
    /// a test harness or a benchmark, in its place, does not understand.
    pub crawl: Option<InProcessCrawl>,
    /// What the run opens beside the descriptors open when it starts, by which its `--max-tasks`
    /// is fitted to the open-file limit (`crawl::descriptors`).
    pub descriptors: Needs,
}

/// `stage 1 sequential`, `stage 5 async-await`: how the tour's progress lines name a run.
impl fmt::Display for StageRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stage {} {}", self.stage, self.mode)
    }
}

/// Every stage and mode, in stage order, which is the order the tour prints them in.
pub const ALL: &[StageRun] = &[
    stage1_mode(
        "sequential",
        &["--mode", "sequential"],
        Some(|config| stage1_blocking::crawl(config, stage1_blocking::Mode::Sequential)),
        stage1_blocking::Mode::Sequential,
    ),
    stage1_mode(
        "threads",
        &["--mode", "threads"],
        Some(|config| stage1_blocking::crawl(config, stage1_blocking::Mode::Threads)),
        stage1_blocking::Mode::Threads,
    ),
    stage1_mode(
        "pool",
        &["--mode", "pool"],
        Some(|config| stage1_blocking::crawl(config, stage1_blocking::Mode::Pool)),
        stage1_blocking::Mode::Pool,
    ),
    stage1_mode("processes", &["--mode", "processes"], None, stage1_blocking::Mode::Processes),
    StageRun {
        stage: 2,
        mode: "busy-poll",
        crate_name: "stage2-busy-poll",
        extra_flags: &[],
        main: |args| stage2_busy_poll::main(args),
        crawl: Some(stage2_busy_poll::crawl),
        descriptors: Needs::SOCKET_PER_TASK,
    },
    StageRun {
        stage: 3,
        mode: "callbacks",
        crate_name: "stage3-callbacks",
        extra_flags: &[],
        main: |args| stage3_callbacks::main(args),
        crawl: Some(stage3_callbacks::crawl),
        descriptors: stage3_callbacks::DESCRIPTORS,
    },
    StageRun {
        stage: 4,
        mode: "generators",
        crate_name: "stage4-generators",
        extra_flags: &[],
        main: |args| stage4_generators::main(args),
        crawl: Some(stage4_generators::crawl),
        descriptors: stage3_callbacks::DESCRIPTORS,
    },
    StageRun {
        stage: 5,
        mode: "async-await",
        crate_name: "stage5-async-await",
        extra_flags: &[],
        main: |args| stage5_async_await::main(args),
        crawl: Some(stage5_async_await::crawl),
        descriptors: stage3_callbacks::DESCRIPTORS,
    },
    StageRun {
        stage: 6,
        mode: "tokio",
        crate_name: "stage6-tokio",
        extra_flags: &[],
        main: |args| stage6_tokio::main(args),
        crawl: Some(stage6_tokio::crawl),
        descriptors: stage6_tokio::DESCRIPTORS,
    },
    StageRun {
        stage: 6,
        mode: "tokio-multi-thread",
        crate_name: "stage6-tokio",
        extra_flags: &["--mode", "multi-thread"],
        main: |args| stage6_tokio::main(args),
        crawl: Some(stage6_tokio::multi_thread::crawl),
        descriptors: stage6_tokio::DESCRIPTORS,
    },
];

/// A row of stage 1, whose modes share one crate and one `main`, `--mode` telling them apart.
const fn stage1_mode(
    mode: &'static str,
    extra_flags: &'static [&'static str],
    crawl: Option<InProcessCrawl>,
    descriptors_of: stage1_blocking::Mode,
) -> StageRun {
    StageRun {
        stage: 1,
        mode,
        crate_name: "stage1-blocking",
        extra_flags,
        main: |args| stage1_blocking::main(args),
        crawl,
        descriptors: stage1_blocking::descriptors(descriptors_of),
    }
}

/// Runs the stage whose crate the first argument names, with the rest as its command line.
pub fn run_stage_main(mut args: impl Iterator<Item = OsString>) -> ExitCode {
    let Some(name) = args.next() else {
        eprintln!("error: {RUN_STAGE} needs a stage name");
        return ExitCode::from(2);
    };
    let Some(run) = ALL.iter().find(|run| name == run.crate_name) else {
        eprintln!("error: no stage named {name:?}");
        return ExitCode::from(2);
    };
    // Each stage's main wants argv[0] first; give it the stage's own name.
    (run.main)(std::iter::once(name).chain(args).collect())
}
