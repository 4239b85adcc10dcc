//! The `site` binary: what it prints, and how it fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::start;

const BIN: &str = env!("CARGO_BIN_EXE_site");

#[test]
fn it_prints_where_it_listens_first() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--pages", "3", "--latency-ms", "0", "--no-faults"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let port = line
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/\n"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(port.parse::<u16>().unwrap() > 0);
}

#[test]
fn bad_flags_exit_2() {
    let output = Command::new(BIN).arg("--pages=many").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn a_taken_port_exits_1_with_one_line() {
    let site = start(crate::support::quick());
    let port = site.addr().port().to_string();
    let output = Command::new(BIN).args(["--port", &port]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&port));
}
