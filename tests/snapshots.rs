//! Snapshots of every stage's report on the fixture site with faults, and the equivalence test:
//! every stage and mode prints the same report, byte for byte, apart from port and time.

mod common;

use common::*;
use insta_cmd::assert_cmd_snapshot;

#[test]
fn stage1_reports_in_every_mode() {
    let site = small_site(true);
    report_settings().bind(|| {
        for mode in STAGE1_MODES {
            let mut command = crawl_command("stage1-blocking", &site, &["--mode", mode, "--max-tasks", "4"]);
            assert_cmd_snapshot!(format!("stage1_{mode}"), command);
        }
    });
}

/// The stages without modes, one snapshot each.
#[test]
fn stage_reports() {
    let site = small_site(true);
    report_settings().bind(|| {
        for (name, stage) in [
            ("stage2", "stage2-busy-poll"),
            ("stage3", "stage3-callbacks"),
            ("stage4", "stage4-generators"),
            ("stage5", "stage5-async-await"),
            ("stage6", "stage6-tokio"),
        ] {
            assert_cmd_snapshot!(name, crawl_command(stage, &site, &["--max-tasks", "4"]));
        }
    });
}

#[test]
fn every_stage_and_mode_prints_the_same_report() {
    // One site for every run: a crawl must not change what the next one sees (the flaky page
    // fails on a fixed cycle), so the runs are comparable one after another.
    let site = small_site(true);
    let reference =
        normalized(&crawl_report("stage1-blocking", &site, &["--mode", "sequential", "--max-tasks", "5"]));
    assert!(reference.contains("/fault/flaky"), "the faulty pages were crawled:\n{reference}");
    for stage in STAGE_BINS {
        let modes: &[&str] = if *stage == "stage1-blocking" { STAGE1_MODES } else { &[""] };
        for mode in modes {
            let mut flags = vec!["--max-tasks", "5"];
            if !mode.is_empty() {
                flags.extend(["--mode", mode]);
            }
            let report = normalized(&crawl_report(stage, &site, &flags));
            assert_eq!(report, reference, "{stage} {mode} differs from stage 1 sequential");
        }
    }
}
