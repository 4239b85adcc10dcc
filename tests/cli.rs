//! Misuse of any stage's command line is one clear line on stderr and exit status 2, before any
//! request is made; `--help` works.

mod common;

use std::process::Command;

use common::*;

#[test]
fn misuse_is_one_line_and_exit_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["https://example.com/"], "https"),
        (&["http://exa mple.com/"], "malformed URL"),
        (&["127.0.0.1:1", "--exclude", "(unclosed"], "--exclude"),
        (&["127.0.0.1:1", "--max-tasks", "0"], "--max-tasks"),
        (&["127.0.0.1:1", "--max-tasks", "many"], "invalid value"),
        (&["127.0.0.1:1", "--timeout", "-1"], "--timeout"),
        (&["127.0.0.1:1", "--no-such-flag"], "--no-such-flag"),
        (&[], "ROOT"),
    ];
    for stage in STAGE_BINS {
        for (args, expected) in cases {
            let output = Command::new(bin(stage)).args(*args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{stage} {args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stage} {args:?}: {stderr}");
            assert!(stderr.contains(expected), "{stage} {args:?}: {stderr}");
            assert!(output.stdout.is_empty(), "{stage} {args:?}");
        }
    }
}

#[test]
fn help_lists_the_shared_flags() {
    for stage in STAGE_BINS {
        let output = Command::new(bin(stage)).arg("--help").output().unwrap();
        assert!(output.status.success());
        let help = String::from_utf8_lossy(&output.stdout);
        for flag in [
            "--max-tasks",
            "--max-redirect",
            "--max-tries",
            "--exclude",
            "--lenient",
            "--timeout",
            "--max-body",
        ] {
            assert!(help.contains(flag), "{stage}: {flag}\n{help}");
        }
        assert!(!help.contains("--fetch-one"), "internal flags stay hidden");
    }
}

#[test]
fn an_unreachable_root_is_a_row_not_a_crash() {
    // Port 1 on loopback: nothing listens, so every try is refused at once.
    for stage in STAGE_BINS {
        let output =
            Command::new(bin(stage)).args(["127.0.0.1:1", "-q", "--max-tries", "2"]).output().unwrap();
        assert!(output.status.success(), "{stage}");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.starts_with("http://127.0.0.1:1/  error connect (2 tries)\n"), "{stage}: {report}");
    }
}
