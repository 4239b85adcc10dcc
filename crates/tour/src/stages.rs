//! Which crawlers the tour runs, and how the tour becomes one of them.

use std::ffi::OsString;
use std::process::ExitCode;

/// The hidden first argument that makes the tour run one stage's command line instead.
pub const RUN_STAGE: &str = "__stage";

/// One row of the tour: a stage's crate and the extra flags that pick its mode.
#[derive(Clone, Copy, Debug)]
pub struct StageRun {
    /// Stage number, as in the README's table.
    pub stage: u8,
    /// The mode within the stage (stage 1 has four).
    pub mode: &'static str,
    /// The crate whose `main` runs it.
    pub crate_name: &'static str,
    /// Flags added after the shared ones.
    pub extra_flags: &'static [&'static str],
}

/// Every row, in the order printed. Later stages add theirs here.
pub const ALL: &[StageRun] = &[
    StageRun {
        stage: 1,
        mode: "sequential",
        crate_name: "stage1-blocking",
        extra_flags: &["--mode", "sequential"],
    },
    StageRun {
        stage: 1,
        mode: "threads",
        crate_name: "stage1-blocking",
        extra_flags: &["--mode", "threads"],
    },
    StageRun { stage: 1, mode: "pool", crate_name: "stage1-blocking", extra_flags: &["--mode", "pool"] },
    StageRun {
        stage: 1,
        mode: "processes",
        crate_name: "stage1-blocking",
        extra_flags: &["--mode", "processes"],
    },
    StageRun { stage: 2, mode: "busy-poll", crate_name: "stage2-busy-poll", extra_flags: &[] },
    StageRun { stage: 3, mode: "callbacks", crate_name: "stage3-callbacks", extra_flags: &[] },
    StageRun { stage: 4, mode: "generators", crate_name: "stage4-generators", extra_flags: &[] },
    StageRun { stage: 5, mode: "async-await", crate_name: "stage5-async-await", extra_flags: &[] },
    StageRun { stage: 6, mode: "tokio", crate_name: "stage6-tokio", extra_flags: &[] },
];

/// Runs the stage named by the first argument with the rest as its command line.
pub fn run_stage_main(mut args: impl Iterator<Item = OsString>) -> ExitCode {
    let Some(name) = args.next() else {
        eprintln!("error: {RUN_STAGE} needs a stage name");
        return ExitCode::from(2);
    };
    // Each stage's main wants argv[0] first; give it the stage's own name.
    let argv = std::iter::once(name.clone()).chain(args);
    match name.to_str() {
        Some("stage1-blocking") => stage1_blocking::main(argv),
        Some("stage2-busy-poll") => stage2_busy_poll::main(argv),
        Some("stage3-callbacks") => stage3_callbacks::main(argv),
        Some("stage4-generators") => stage4_generators::main(argv),
        Some("stage5-async-await") => stage5_async_await::main(argv),
        Some("stage6-tokio") => stage6_tokio::main(argv),
        _ => {
            eprintln!("error: no stage named {name:?}");
            ExitCode::from(2)
        }
    }
}
