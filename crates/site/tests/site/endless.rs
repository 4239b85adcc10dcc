//! The two unlinked faults that never end, observed from a real client socket: they go on for as
//! long as the client reads, stop when it leaves, and are not part of the crawlable site.

use std::io::{Read, Write};
use std::net::TcpStream;

use site::{FAULTS, HUGE_BODY_BYTES, SiteConfig};

use crate::support::{Response, connect, get, quick, raw, start, wait_for};

const ENDLESS: [&str; 2] = ["/fault/endless-body", "/fault/endless-head"];

/// Well past any sensible limit, and past `/fault/huge`, which does end.
const READ_AT_LEAST: usize = 2 * HUGE_BODY_BYTES;

/// `GET path`, then at least `READ_AT_LEAST` bytes read (an early end of stream fails the test).
fn read_plenty(site: &site::RunningSite, path: &str) -> (TcpStream, Vec<u8>) {
    let mut stream = connect(site.addr());
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: fixture.test\r\n\r\n").as_bytes()).unwrap();
    let mut data = Vec::with_capacity(READ_AT_LEAST + 64 * 1024);
    let mut buf = vec![0u8; 64 * 1024];
    while data.len() < READ_AT_LEAST {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "{path} ended after {} bytes", data.len());
        data.extend_from_slice(&buf[..n]);
    }
    (stream, data)
}

#[test]
fn the_endless_body_goes_on_until_the_client_leaves() {
    let site = start(quick());
    let (stream, data) = read_plenty(&site, "/fault/endless-body");
    let response = Response::parse(&data);
    assert_eq!(response.status, 200);
    // Neither length nor chunking: only the close could end this body, and it never comes.
    assert_eq!(response.header("content-length"), None);
    assert_eq!(response.header("transfer-encoding"), None);
    assert!(response.text().starts_with("<p>This body never ends.</p>\n"), "{}", &response.text()[..100]);
    assert_eq!(site.counters().open_connections(), 1);
    // Closing with bytes unread makes the client's kernel reset the connection, which fails the
    // site's next write: the fault ends and its connection stops counting as open.
    drop(stream);
    wait_for("endless-body to notice the client left", || site.counters().open_connections() == 0);
}

#[test]
fn the_endless_head_goes_on_until_the_client_leaves() {
    let site = start(quick());
    let (stream, data) = read_plenty(&site, "/fault/endless-head");
    let status_line = b"HTTP/1.1 200 OK\r\n";
    assert!(data.starts_with(status_line));
    // Header lines of 1 KiB each, and never the empty line that would end the head.
    let whole_lines = (data.len() - status_line.len()) / 1024 * 1024;
    let lines = &data[status_line.len()..][..whole_lines];
    for line in lines.chunks(1024) {
        assert!(line.starts_with(b"X-Endless: aaa") && line.ends_with(b"a\r\n"), "{line:?}");
    }
    assert!(!data.windows(4).any(|w| w == b"\r\n\r\n"));
    drop(stream);
    wait_for("endless-head to notice the client left", || site.counters().open_connections() == 0);
}

#[test]
fn a_head_request_for_the_endless_body_ends() {
    let site = start(quick());
    let answer = raw(site.addr(), b"HEAD /fault/endless-body HTTP/1.1\r\nHost: fixture.test\r\n\r\n");
    let response = Response::parse(&answer.expect("an answer, then the end"));
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
}

#[test]
fn the_endless_faults_are_neither_listed_nor_linked_and_404_without_faults() {
    let site = start(quick());
    let index = get(&site, "/fault/").text();
    for path in ENDLESS {
        assert!(FAULTS.iter().any(|fault| fault.path == path && !fault.on_index), "{path} is on the index");
        assert!(!index.contains(path), "/fault/ links {path}");
    }
    let site = start(SiteConfig { faults: false, ..quick() });
    for path in ENDLESS {
        assert_eq!(get(&site, path).status, 404, "{path}");
    }
}
