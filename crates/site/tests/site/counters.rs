//! The counters: requests per `Host`, open connections, and the peak.

use std::net::TcpStream;

use crate::support::{connect, get, quick, request, start, wait_for};

#[test]
fn requests_are_counted_per_host() {
    let site = start(quick());
    let addr = site.addr();
    request(addr, "GET", "/", "b.test");
    request(addr, "GET", "/page/1", "a.test");
    request(addr, "HEAD", "/page/2", "a.test");
    request(addr, "GET", "/nope", "localhost:1");
    get(&site, "/");
    let counters = site.counters();
    assert_eq!(counters.requests(), 5);
    assert_eq!(counters.requests_for_host("a.test"), 2);
    assert_eq!(counters.requests_for_host("b.test"), 1);
    assert_eq!(counters.requests_for_host(&addr.to_string()), 1);
    assert_eq!(counters.requests_for_host("A.TEST"), 0, "exact match only");
    let hosts = counters.hosts();
    let expected = [
        (addr.to_string(), 1),
        ("a.test".to_owned(), 2),
        ("b.test".to_owned(), 1),
        ("localhost:1".to_owned(), 1),
    ];
    assert_eq!(hosts, expected, "sorted by host");
}

#[test]
fn a_finished_request_no_longer_counts_as_open() {
    let site = start(quick());
    get(&site, "/page/1");
    // No waiting: the server gives up the slot before it sends the FIN the client just read.
    assert_eq!(site.counters().open_connections(), 0);
    assert_eq!(site.counters().peak_connections(), 1);
}

#[test]
fn the_peak_remembers_until_reset() {
    let site = start(quick());
    let counters = site.counters();
    let mut idle: Vec<TcpStream> = (0..3).map(|_| connect(site.addr())).collect();
    wait_for("3 open connections", || counters.open_connections() == 3);
    assert_eq!(counters.peak_connections(), 3);
    idle.truncate(1);
    wait_for("1 open connection", || counters.open_connections() == 1);
    assert_eq!(counters.peak_connections(), 3);
    counters.reset_peak();
    assert_eq!(counters.peak_connections(), 1);
    get(&site, "/");
    assert_eq!(counters.peak_connections(), 2);
    // Connections that never sent a request are not requests.
    drop(idle);
    wait_for("no open connections", || counters.open_connections() == 0);
    assert_eq!(counters.requests(), 1);
}

/// A client that gives up on a page that never answers and reconnects at once (a crawler's
/// retry) has one connection open at a time, and the counter must say so: the server has to see
/// the close before it counts the next accept.
#[test]
fn an_abandoned_connection_is_closed_before_the_retry_is_counted() {
    use std::io::{Read, Write};
    use std::time::Duration;
    for path in ["/fault/silent", "/fault/trickle"] {
        let site = start(quick());
        for _ in 0..5 {
            let mut stream = connect(site.addr());
            stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
            stream.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
            let _ = stream.read(&mut [0; 64]);
            // Dropped here and reconnected with no pause, as a retry does.
        }
        wait_for("the last connection to close", || site.counters().open_connections() == 0);
        assert_eq!(site.counters().peak_connections(), 1, "{path}");
    }
}
