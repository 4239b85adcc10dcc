//! The `site` binary: what it prints, and how it fails.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use crate::support::{hrefs, request, start};

const BIN: &str = env!("CARGO_BIN_EXE_site");

/// Starts the binary with `args` on a free port, waits for its first line and returns the
/// child (to kill) and the address it listens on.
fn serve(args: &[&str]) -> (Child, SocketAddr) {
    let mut child =
        Command::new(BIN).args(["--port", "0"]).args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/\n"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, addr.parse().unwrap())
}

#[test]
fn it_prints_where_it_listens_first() {
    let (mut child, addr) = serve(&["--pages", "3", "--latency-ms", "0", "--no-faults"]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert!(addr.port() > 0);
}

#[test]
fn foreign_urls_are_repeatable_flags() {
    let flags = ["--latency-ms", "0", "--foreign", "http://127.0.0.2:1/", "--foreign", "http://b:2/"];
    let (mut child, addr) = serve(&flags);
    let page = request(addr, "GET", "/foreign", "h");
    let location = request(addr, "GET", "/redirect/foreign/1", "h");
    child.kill().unwrap();
    child.wait().unwrap();
    let expected = ["http://127.0.0.2:1/", "http://b:2/", "/redirect/foreign/0", "/redirect/foreign/1"];
    assert_eq!(hrefs(&page.text()), expected);
    assert_eq!(location.header("location"), Some("http://b:2/"));
    let bad = Command::new(BIN).args(["--port", "0", "--foreign", "http://x/\""]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "a URL that cannot go into a page is a usage error");
    assert!(String::from_utf8(bad.stderr).unwrap().contains("foreign URL"));
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
