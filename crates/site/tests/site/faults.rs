//! Each fault path, observed from a real client socket.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use site::{FAULTS, FLAKY_CYCLE, HUGE_BODY_BYTES, SiteConfig};

use crate::support::{Response, connect, get, hrefs, quick, raw, start, wait_for};

const GET: &[u8] = b"HTTP/1.1\r\nHost: fixture.test\r\n\r\n";

/// `GET path` on a fresh connection, returning the stream to read from.
fn send(addr: std::net::SocketAddr, path: &str) -> std::net::TcpStream {
    let mut stream = connect(addr);
    stream.write_all(format!("GET {path} ").as_bytes()).unwrap();
    stream.write_all(GET).unwrap();
    stream
}

/// Reads until EOF or an error, returning what arrived and how it ended.
fn read_until_end(stream: &mut std::net::TcpStream) -> (Vec<u8>, Option<ErrorKind>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (data, None),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(err) => return (data, Some(err.kind())),
        }
    }
}

#[test]
fn reset_sends_part_of_the_body_then_rst() {
    let site = start(quick());
    let (data, end) = read_until_end(&mut send(site.addr(), "/fault/reset"));
    assert_eq!(end, Some(ErrorKind::ConnectionReset));
    let response = Response::parse(&data);
    assert_eq!(response.header("content-length"), Some("1000"));
    assert_eq!(response.body.len(), 100);
}

#[test]
fn truncated_ends_cleanly_before_the_promised_length() {
    let site = start(quick());
    let (data, end) = read_until_end(&mut send(site.addr(), "/fault/truncated"));
    assert_eq!(end, None, "a FIN, not an error");
    let response = Response::parse(&data);
    assert_eq!(response.header("content-length"), Some("1000"));
    assert_eq!(response.body.len(), 500);
}

#[test]
fn garbage_is_not_http() {
    let site = start(quick());
    let (data, end) = read_until_end(&mut send(site.addr(), "/fault/garbage"));
    assert_eq!(end, None);
    assert_eq!(data, b"SSH-2.0-OpenSSH_9.0 this is not HTTP\r\n\r\n");
}

#[test]
fn trickle_never_finishes_its_head() {
    let site = start(quick());
    let mut stream = send(site.addr(), "/fault/trickle");
    stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let started = Instant::now();
    let mut data = Vec::new();
    while started.elapsed() < Duration::from_millis(450) {
        let mut buf = [0u8; 64];
        match stream.read(&mut buf) {
            Ok(0) => panic!("trickle closed the connection"),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(err) => panic!("trickle failed: {err}"),
        }
    }
    let prefix = b"HTTP/1.1 200 OK\r\nX-Trickle: ";
    assert!(data.starts_with(prefix), "{:?}", String::from_utf8_lossy(&data));
    let trickled = &data[prefix.len()..];
    assert!(trickled.iter().all(|&b| b == b'a'));
    // One byte per 100 ms: about four in 450 ms, with slack for a busy machine.
    assert!((2..=5).contains(&trickled.len()), "{} bytes", trickled.len());
    // Once the client has gone, the server's next writes fail and it lets go.
    drop(stream);
    wait_for("trickle to notice the client left", || site.counters().open_connections() == 0);
}

#[test]
fn silent_says_nothing_until_the_client_leaves() {
    let site = start(quick());
    let mut stream = send(site.addr(), "/fault/silent");
    stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut buf = [0u8; 16];
    let err = stream.read(&mut buf).expect_err("no byte should arrive");
    assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err}");
    assert_eq!(site.counters().open_connections(), 1);
    drop(stream);
    wait_for("silent to notice the client left", || site.counters().open_connections() == 0);
}

#[test]
fn huge_sends_its_whole_huge_body() {
    let site = start(quick());
    let response = get(&site, "/fault/huge");
    assert_eq!(response.status, 200);
    let promised = HUGE_BODY_BYTES.to_string();
    assert_eq!(response.header("content-length"), Some(promised.as_str()));
    assert_eq!(response.body.len(), HUGE_BODY_BYTES);
}

#[test]
fn flaky_fails_twice_then_succeeds_and_cycles() {
    let site = start(quick());
    let mut outcomes = Vec::new();
    for _ in 0..2 * FLAKY_CYCLE {
        let (data, end) = read_until_end(&mut send(site.addr(), "/fault/flaky"));
        outcomes.push(match end {
            Some(kind) => {
                assert!(data.is_empty(), "a failure sends nothing");
                format!("{kind:?}")
            }
            None => Response::parse(&data).status.to_string(),
        });
    }
    let cycle = ["ConnectionReset", "ConnectionReset", "200"];
    assert_eq!(outcomes, [cycle, cycle].concat());
}

#[test]
fn chunked_has_chunks_an_extension_and_a_trailer() {
    let site = start(quick());
    let response = get(&site, "/fault/chunked");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.header("content-length"), None);
    // Decode the chunks by hand: size line (maybe with an extension), data, CRLF.
    let mut rest = response.body.as_slice();
    let (mut body, mut chunks, mut extensions) = (Vec::new(), 0, 0);
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").expect("a size line");
        let line = std::str::from_utf8(&rest[..line_end]).unwrap();
        let (size, extension) = line.split_once(';').unwrap_or((line, ""));
        extensions += usize::from(!extension.is_empty());
        let size = usize::from_str_radix(size, 16).expect("a hex size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        assert_eq!(&rest[size..size + 2], b"\r\n");
        rest = &rest[size + 2..];
        chunks += 1;
    }
    assert!(chunks >= 3, "{chunks} chunks");
    assert_eq!(extensions, 1);
    assert_eq!(rest, b"X-Checksum: none\r\n\r\n", "a trailer, then the end");
    let links = hrefs(&String::from_utf8(body).unwrap());
    assert_eq!(links, ["/page/1", "/page/2"]);
}

#[test]
fn http10_has_no_length_and_ends_at_close() {
    let site = start(quick());
    let data = raw(site.addr(), b"GET /fault/http10 HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    assert!(data.starts_with(b"HTTP/1.0 200 OK\r\n"));
    let response = Response::parse(&data);
    assert_eq!(response.header("content-length"), None);
    assert_eq!(response.header("transfer-encoding"), None);
    assert!(response.text().ends_with("</html>\n"));
    assert_eq!(hrefs(&response.text()), ["/page/3"]);
}

#[test]
fn latin1_is_latin1() {
    let site = start(quick());
    let response = get(&site, "/fault/latin1");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/html; charset=iso-8859-1"));
    let body = &response.body;
    assert!(std::str::from_utf8(body).is_err(), "the body is not UTF-8");
    assert!(body.windows(4).any(|w| w == b"Caf\xE9"));
    let link = b"href=\"/fault/latin1/caf\xE9\"";
    assert!(body.windows(link.len()).any(|w| w == link));
    // The link decoded as Latin-1 and encoded as a URL leads somewhere; mis-decoded, it does not.
    assert_eq!(get(&site, "/fault/latin1/caf%C3%A9").status, 200);
    assert_eq!(get(&site, "/fault/latin1/caf%EF%BF%BD").status, 404);
}

#[test]
fn the_fault_index_links_every_fault() {
    let site = start(quick());
    assert!(hrefs(&get(&site, "/").text()).contains(&"/fault/".to_owned()));
    let on_index: Vec<_> = FAULTS.iter().filter(|fault| fault.on_index).map(|fault| fault.path).collect();
    assert_eq!(hrefs(&get(&site, "/fault/").text()), on_index);
}

#[test]
fn without_faults_every_fault_path_is_404() {
    let site = start(SiteConfig { faults: false, ..quick() });
    assert!(!get(&site, "/").text().contains("/fault/"));
    let all = FAULTS.iter().map(|fault| fault.path).chain(["/fault/"]);
    for path in all {
        let response = get(&site, path);
        assert_eq!(response.status, 404, "{path}");
    }
}
