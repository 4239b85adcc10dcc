//! The request every stage writes is built in one place (`crawl::http::encode_request`, from the
//! config's `RequestOptions`), so a request option reaches the wire in every stage and every
//! stage-1 mode without any stage's code knowing of it. Checked with `--user-agent`: each crawl's
//! one request, as a bare TCP server receives it, carries the configured `User-Agent`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// A `User-Agent` no default could produce, with the spaces and punctuation real ones have.
const USER_AGENT: &str = "request-test/2.1 (+http://example.com/bot; checks)";

#[test]
fn every_stage_sends_the_configured_user_agent() {
    for run in tour::stages::ALL {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port for the test server");
        let root = format!("http://{}/", listener.local_addr().unwrap());
        let server = thread::spawn(move || answer_one_request(&listener));

        let output = Command::new(bin(run.crate_name))
            .arg(&root)
            .args(run.extra_flags)
            .args(["-q", "--timeout", "5", "--user-agent", USER_AGENT])
            .output()
            .expect("run the crawler");
        let head = server.join().expect("the test server");

        assert!(output.status.success(), "{run}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(head.starts_with("GET / HTTP/1.1\r\n"), "{run}: {head:?}");
        assert!(head.contains(&format!("\r\nUser-Agent: {USER_AGENT}\r\n")), "{run}: {head:?}");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.lines().next().is_some_and(|row| row.contains(" 200 ")), "{run}: {report}");
    }
}

/// Accepts one connection (giving up after a while, so a crawler that never connects fails the
/// test instead of hanging it), reads the request head, answers with a page without links, and
/// returns the head.
fn answer_one_request(listener: &TcpListener) -> String {
    let mut stream = accept_within(listener, Duration::from_secs(30));
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!("the request ended early ({other:?}): {:?}", String::from_utf8_lossy(&head)),
        }
    }
    let body = "ok";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).unwrap();
    String::from_utf8(head).expect("the request head is UTF-8")
}

fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let give_up = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < give_up => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("no crawler connected within {limit:?}: {e}"),
        }
    }
}
