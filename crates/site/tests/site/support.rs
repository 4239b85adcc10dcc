//! Helpers shared by the tests: a blocking HTTP client just good enough to inspect raw
//! responses, and the link resolution a crawler would do.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use site::{RunningSite, SiteConfig};

/// A config without latency, so tests that make many requests stay fast.
pub fn quick() -> SiteConfig {
    SiteConfig { latency: Duration::ZERO, ..SiteConfig::default() }
}

/// Starts a site, panicking if it cannot bind.
pub fn start(config: SiteConfig) -> RunningSite {
    site::spawn(config).expect("the site binds")
}

/// Connects with a read timeout, so that a broken server fails a test instead of hanging it.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
}

/// Sends `request` as is and reads the answer until EOF.
pub fn raw(addr: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = connect(addr);
    stream.write_all(request)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(answer)
}

/// `METHOD path` with the given `Host`, read to EOF and split up.
pub fn request(addr: SocketAddr, method: &str, path: &str, host: &str) -> Response {
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\n\r\n");
    Response::parse(&raw(addr, head.as_bytes()).expect("a response"))
}

/// `GET path` with the site's own address as `Host`, as a crawler would send it.
pub fn get(site: &RunningSite, path: &str) -> Response {
    request(site.addr(), "GET", path, &site.addr().to_string())
}

/// A response split into status, head and body (the body framing is not interpreted).
#[derive(Debug)]
pub struct Response {
    /// The status code from the status line.
    pub status: u16,
    /// The head up to (not including) the empty line, as text.
    pub head: String,
    /// Everything after the empty line.
    pub body: Vec<u8>,
}

impl Response {
    pub fn parse(raw: &[u8]) -> Response {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(raw)));
        let head = String::from_utf8(raw[..end].to_vec()).expect("an ASCII head");
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
        Response { status, head, body: raw[end + 4..].to_vec() }
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as text (the site's pages are UTF-8 except the Latin-1 fault).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Polls `done` for up to 5 seconds; for effects the client cannot observe directly (the server
/// noticing that the client has gone).
pub fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// Every `href` value in `html`, in any quoting and case: the forms the site generates.
pub fn hrefs(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("href=") {
        let start = from + at + "href=".len();
        let rest = &html[start..];
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest.split([' ', '>']).next().unwrap_or(""),
        };
        found.push(value.to_owned());
        from = start;
    }
    found
}

/// Resolves `href` found on the page at `base` (a path) to a path on `host`, or `None` when it
/// leads elsewhere (another host, another scheme).
pub fn resolve(base: &str, href: &str, host: &str) -> Option<String> {
    let href = href.split('#').next().unwrap_or("");
    let joined = if let Some(rest) = href.strip_prefix("http://") {
        let (h, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if h != host {
            return None;
        }
        if path.is_empty() { "/".to_owned() } else { path.to_owned() }
    } else if href.starts_with('/') {
        href.to_owned()
    } else if href.split('/').next().unwrap_or("").contains(':') {
        return None; // mailto:, javascript:, ftp:, https:
    } else {
        format!("{}{href}", &base[..=base.rfind('/').unwrap_or(0)])
    };
    // Remove dot segments, as a URL library would.
    let mut segments: Vec<&str> = Vec::new();
    for segment in joined.split('/').skip(1) {
        match segment {
            ".." => {
                segments.pop();
            }
            "." => {}
            s => segments.push(s),
        }
    }
    Some(format!("/{}", segments.join("/")))
}
