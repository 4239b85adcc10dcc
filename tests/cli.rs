//! Misuse of any stage's command line is one clear line on stderr and a documented exit status
//! (the table in `crates/crawl/src/config.rs`), and never a panic: 2 for a bad command line, before
//! any request is made; 1 when no root can be reached, or when the stage's event loop cannot be
//! created. `--help` works. A closed stdout ends a crawl, the tour and the lab without a panic.

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
        (&["127.0.0.1:1", "--max-body", "-5"], "'-5'"),
        (&["127.0.0.1:1", "--timeout", "soon"], "invalid value"),
        (&["127.0.0.1:1", "--timeout", "-1"], "--timeout"),
        (&["127.0.0.1:1", "--no-such-flag"], "--no-such-flag"),
        (&[], "ROOT"),
    ];
    for stage in stage_bins() {
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
fn an_open_file_limit_with_no_room_for_a_request_is_misuse() {
    // A limit that the stage's own descriptors (an event loop's) fill up, over what is open at
    // start. (It must leave one for the dynamic loader, so the stages that open nothing of their
    // own cannot be caught this way. A `--max-tasks` that is merely too high is lowered instead:
    // tests/descriptors.rs.)
    for run in tour::stages::ALL.iter().filter(|run| run.descriptors.own > 0) {
        let limit = limit_leaving(run.descriptors.own);
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
            .arg(bin(run.crate_name))
            .args(["127.0.0.1:1", "--max-tasks", "1"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}: {stderr}", run.mode);
        assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", run.mode);
        assert!(
            stderr.contains("no file descriptor is left") && stderr.contains("ulimit -n"),
            "{}: {stderr}",
            run.mode
        );
    }
}

#[test]
fn help_lists_the_shared_flags() {
    for stage in stage_bins() {
        let output = Command::new(bin(stage)).arg("--help").output().unwrap();
        assert!(output.status.success());
        let help = String::from_utf8_lossy(&output.stdout);
        // Every flag of clap's definition, by its names (`-q, --quiet`: both).
        let flags = crawl::config::shared_flags();
        let names = flags.iter().flat_map(|flag| flag.split([' ', ',']).filter(|word| word.starts_with('-')));
        for name in names {
            assert!(help.contains(name), "{stage}: {name}\n{help}");
        }
        assert!(help.contains("<ROOT>..."), "{stage}: the roots\n{help}");
        assert!(!help.contains("--fetch-one"), "internal flags stay hidden");
    }
}

#[test]
fn an_unreachable_root_is_one_line_and_exit_status_1() {
    // A port nothing listens on: take a free one from the OS, then close it. (Another process
    // could take it in between; on a test machine that is a long shot, and it would show as a
    // failure of this test, not a false pass.)
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("127.0.0.1:{closed_port}");
    // `.invalid` is reserved never to resolve (RFC 6761), so this fails in the resolver, at once
    // where a DNS server answers.
    let unresolvable = "http://no-such-host.invalid/";
    let cases: &[(&[&str], &str)] = &[
        (&[closed.as_str()], "error connect (2 tries)"),
        (&[unresolvable], "error dns (1 try)"),
        (&[closed.as_str(), unresolvable], "error dns (1 try)"),
    ];
    for run in stages::ALL {
        for (roots, row) in cases {
            let output = Command::new(bin(run.crate_name))
                .args(*roots)
                .args(["-q", "--max-tries", "2"])
                .args(run.extra_flags)
                .output()
                .unwrap();
            let what = format!("{run} {roots:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            let report = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(1), "{what}: {stderr}\n{report}");
            assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
            assert!(stderr.starts_with("error: no root could be reached: "), "{what}: {stderr}");
            for root in *roots {
                assert!(stderr.contains(root), "{what}: {stderr}");
            }
            // The report is still printed: the failure is a row, as for any URL.
            assert!(report.contains(row), "{what}: {report}");
        }
    }
}

#[test]
fn a_reachable_root_beside_an_unreachable_one_is_a_normal_crawl() {
    let site = small_site(false);
    for stage in stage_bins() {
        let output = crawl_command(stage, &site, &["127.0.0.1:1", "--max-tries", "1"]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{stage}: {}", String::from_utf8_lossy(&output.stderr));
        let report = String::from_utf8_lossy(&output.stdout);
        let first = report.lines().next().unwrap_or_default();
        assert!(first.starts_with("http://127.0.0.1:1/ "), "{stage}: {report}");
        assert!(first.ends_with(" error connect (1 try)"), "{stage}: {report}");
    }
}

#[test]
fn a_closed_stdout_and_stderr_end_the_crawl_without_a_hang_or_a_panic() {
    // `stage --trace 2>&1 | head -1`: the reader goes away after one line. Every later line of
    // trace, progress and report meets a closed pipe; none may panic (a panicking stage-1 worker
    // left the other threads waiting for its job forever).
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let site = small_site(true);
    for run in tour::stages::ALL {
        let mut child = Command::new(bin(run.crate_name))
            .arg(site.url())
            .args(["--trace", "-v", "--timeout", TEST_TIMEOUT])
            .args(run.extra_flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stderr.take().unwrap()).read_line(&mut first).unwrap();
        drop(child.stdout.take());
        assert!(!first.is_empty(), "{}: no line on stderr", run.mode);
        let deadline = std::time::Instant::now() + HANG_GUARD;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("{}: still running {HANG_GUARD:?} after its output closed (killed)", run.mode);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(status.success(), "{}: {status} (101 is a panic)", run.mode);
    }
}

#[test]
fn the_tour_and_its_lab_end_quietly_with_status_0_when_their_stdout_closes() {
    // `tour | head -1`, or a reader gone before the tour writes (its table is one write, which a
    // pipe takes whole): without `crawl::exit`'s hook, `print!` panics. `c10k --help` is clap's
    // own printing, which ignores the error.
    let small_tour: &[&str] = &["--pages", "5", "--links", "2", "--latency-ms", "0", "--no-faults"];
    for args in [small_tour, &["switch"], &["memory"], &["c10k", "--help"]] {
        let mut command = Command::new(bin("tour"));
        command.args(args);
        for output in with_stdout_closed(command, &format!("tour {args:?}")) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "tour {args:?}: {stderr}");
            assert!(
                !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
                "tour {args:?}: {stderr}"
            );
        }
    }
}
