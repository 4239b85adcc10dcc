//! The site holds thousands of connections at once, and counts them exactly.

use std::time::{Duration, Instant};

use site::SiteConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Response, start};

const CLIENTS: u64 = 2000;

#[test]
fn two_thousand_concurrent_connections_are_all_answered() {
    let site = start(SiteConfig { latency: Duration::from_millis(200), ..SiteConfig::default() });
    let addr = site.addr();
    // The client is a tokio runtime of its own, on this test's thread.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let statuses = runtime.block_on(async {
        let mut streams = Vec::new();
        for _ in 0..CLIENTS {
            streams.push(TcpStream::connect(addr).await.expect("connect"));
        }
        // Wait until the server has accepted every connection before sending any request, so
        // that all of them are open at once however the two threads are scheduled.
        while site.counters().open_connections() < CLIENTS {
            assert!(started.elapsed() < Duration::from_secs(10), "accepts are too slow");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                tokio::spawn(async move {
                    let request = b"GET /page/0 HTTP/1.1\r\nHost: fixture.test\r\n\r\n";
                    stream.write_all(request).await.expect("write");
                    let mut answer = Vec::new();
                    stream.read_to_end(&mut answer).await.expect("read");
                    Response::parse(&answer).status
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.expect("client task"));
        }
        statuses
    });
    assert_eq!(statuses.len() as u64, CLIENTS);
    assert!(statuses.iter().all(|&s| s == 200));
    assert_eq!(site.counters().peak_connections(), CLIENTS);
    assert_eq!(site.counters().requests(), CLIENTS);
    assert_eq!(site.counters().requests_for_host("fixture.test"), CLIENTS);
    assert_eq!(site.counters().open_connections(), 0);
    // 2000 sequential 200 ms waits would take 400 s; overlapped, they take one.
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[test]
fn the_latency_comes_before_every_reply_faults_included() {
    let latency = Duration::from_millis(150);
    let site = start(SiteConfig { latency, ..SiteConfig::default() });
    for path in ["/", "/page/1", "/nope", "/fault/garbage"] {
        let started = Instant::now();
        let request = format!("GET {path} HTTP/1.1\r\nHost: h\r\n\r\n");
        crate::support::raw(site.addr(), request.as_bytes()).unwrap();
        assert!(started.elapsed() >= latency, "{path} came too early");
    }
}
