//! Snapshots of every stage's report on the fixture site with faults, and the equivalence test:
//! every stage and mode prints the same report, byte for byte, apart from port and time.

mod common;

use common::*;
use insta_cmd::assert_cmd_snapshot;

/// The snapshot of a run: `stage1_pool` for a mode picked by flags, `stage2` for a stage that
/// runs one way only.
fn snapshot_name(run: &stages::StageRun) -> String {
    if run.extra_flags.is_empty() {
        format!("stage{}", run.stage)
    } else {
        format!("stage{}_{}", run.stage, run.mode)
    }
}

/// Checks each run's report against its snapshot, on one site with faults.
fn assert_report_snapshots(runs: impl Iterator<Item = &'static stages::StageRun>) {
    let site = small_site(true);
    report_settings().bind(|| {
        for run in runs {
            let flags = [run.extra_flags, &["--max-tasks", "4"]].concat();
            assert_cmd_snapshot!(snapshot_name(run), crawl_command(run.crate_name, &site, &flags));
        }
    });
}

/// The stages with modes (stage 1, and stage 6 with its second runtime), one snapshot per mode.
#[test]
fn reports_of_the_modes_picked_by_flags() {
    assert_report_snapshots(stages::ALL.iter().filter(|run| !run.extra_flags.is_empty()));
}

/// The stages without modes, one snapshot each.
#[test]
fn reports_of_the_stages_without_modes() {
    assert_report_snapshots(stages::ALL.iter().filter(|run| run.extra_flags.is_empty()));
}

#[test]
fn every_stage_and_mode_prints_the_same_report() {
    // One site for every run: a crawl must not change what the next one sees (the flaky page
    // fails on a fixed cycle), so the runs are comparable one after another.
    let site = small_site(true);
    let reference =
        normalized(&crawl_report("stage1-blocking", &site, &["--mode", "sequential", "--max-tasks", "5"]));
    assert!(reference.contains("/fault/flaky"), "the faulty pages were crawled:\n{reference}");
    for run in stages::ALL {
        let flags = [&["--max-tasks", "5"], run.extra_flags].concat();
        let report = normalized(&crawl_report(run.crate_name, &site, &flags));
        assert_eq!(report, reference, "{run} differs from stage 1 sequential");
    }
}
