//! The faults: the ways a real server or network lets a crawler down, made reproducible.
//!
//! Each path under `/fault/` exercises one failure a crawler must survive and report, or one
//! framing it must parse. They all run after the usual latency, on a connection whose request head
//! has been read in full (so that closing it is a FIN, not a surprise RST, unless an RST is the
//! point).
//!
//! | path | what the client sees |
//! | --- | --- |
//! | `/fault/reset` | a head promising 1000 bytes, 100 of them, then a reset (RST) |
//! | `/fault/truncated` | a head promising 1000 bytes, 500 of them, then a clean close (FIN) |
//! | `/fault/garbage` | a line that is not HTTP, then FIN |
//! | `/fault/trickle` | a head that grows by one byte every 100 ms and never ends |
//! | `/fault/silent` | nothing at all, until the client gives up |
//! | `/fault/huge` | a valid 200 with a [`HUGE_BODY_BYTES`] body |
//! | `/fault/flaky` | a reset, a reset, then a 200, and round again ([`FLAKY_CYCLE`]) |
//! | `/fault/chunked` | a valid 200 in chunked encoding, with a chunk extension and a trailer |
//! | `/fault/http10` | an HTTP/1.0 response without `Content-Length`: the body ends at close |
//! | `/fault/latin1` | a page in ISO-8859-1 whose link contains the byte 0xE9 (`é`) |
//! | `/fault/endless-body` | *not linked*: a 200 without a length, then body bytes until the client closes |
//! | `/fault/endless-head` | *not linked*: a status line, then 1 KiB header lines until the client closes |
//!
//! The two endless faults are in neither [`FAULT_PATHS`] nor the `/fault/` index, so a crawl of
//! the site never meets them and every report of it stays as it was. Tests name them as roots to
//! check that a crawler cuts an oversized response off at its limit instead of buffering it whole:
//! a response that never ends cannot be buffered whole, so a crawler that finishes at all did cut.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout, timeout_at};

use crate::counters::OpenGuard;
use crate::pages;
use crate::routes::{HTML, Reply, Response};
use crate::server::{self, Shared};

/// Every fault path; `/fault/` links them all.
pub const FAULT_PATHS: &[&str] = &[
    "/fault/reset",
    "/fault/truncated",
    "/fault/garbage",
    "/fault/trickle",
    "/fault/silent",
    "/fault/huge",
    "/fault/flaky",
    "/fault/chunked",
    "/fault/http10",
    "/fault/latin1",
];

/// `/fault/flaky` fails `FLAKY_CYCLE - 1` times in a row, then succeeds once.
pub const FLAKY_CYCLE: u64 = 3;

/// The body size of `/fault/huge`: larger than any sensible crawler's body limit.
pub const HUGE_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How long the never-ending faults (trickle, silent, endless) go on at most, so that a forgotten
/// client cannot hold a connection forever.
const GIVE_UP_AFTER: Duration = Duration::from_secs(5 * 60);

/// A fault that needs more than an ordinary [`Response`]: something done to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Part of a response, then RST.
    Reset,
    /// Part of a response, then FIN.
    Truncated,
    /// Not HTTP at all.
    Garbage,
    /// A head that never ends, one byte at a time.
    Trickle,
    /// No answer at all.
    Silent,
    /// A valid but enormous response.
    Huge,
    /// RST, RST, then a valid response, in a cycle.
    Flaky,
    /// A valid response in chunked encoding.
    Chunked,
    /// A valid HTTP/1.0 response framed by closing the connection.
    Http10,
    /// A 200 whose body never ends (not linked).
    EndlessBody,
    /// A head that never ends, as fast as the client reads (not linked).
    EndlessHead,
}

/// The reply for a path under `/fault/` (only asked when faults are on); `None` means 404.
pub(crate) fn route(path: &str) -> Option<Reply> {
    let fault = match path {
        "/fault/" => return Some(Reply::Response(Response::html(200, index()))),
        "/fault/latin1" => return Some(Reply::Response(latin1())),
        // é percent-encoded as UTF-8: what a crawler requests when it decoded the page as
        // Latin-1, as its Content-Type says. (Decoding as UTF-8 would have turned the lone 0xE9
        // into U+FFFD, requested as `caf%EF%BF%BD`, which is a 404 like anything unknown.)
        "/fault/latin1/caf%C3%A9" | "/fault/latin1/caf%c3%a9" => {
            let body = pages::head("Café") + "<p>You decoded Latin-1 correctly.</p>\n" + pages::TAIL;
            return Some(Reply::Response(Response::html(200, body)));
        }
        "/fault/reset" => Fault::Reset,
        "/fault/truncated" => Fault::Truncated,
        "/fault/garbage" => Fault::Garbage,
        "/fault/trickle" => Fault::Trickle,
        "/fault/silent" => Fault::Silent,
        "/fault/huge" => Fault::Huge,
        "/fault/flaky" => Fault::Flaky,
        "/fault/chunked" => Fault::Chunked,
        "/fault/http10" => Fault::Http10,
        "/fault/endless-body" => Fault::EndlessBody,
        "/fault/endless-head" => Fault::EndlessHead,
        _ => return None,
    };
    Some(Reply::Fault(fault))
}

/// `/fault/`: a page linking every fault.
fn index() -> String {
    let mut html = pages::head("Faults");
    html.push_str("<h1>Faults</h1>\n<ul>\n");
    for path in FAULT_PATHS {
        html.push_str(&format!("<li><a href=\"{path}\">{path}</a></li>\n"));
    }
    html.push_str("</ul>\n");
    html + pages::TAIL
}

/// `/fault/latin1`: a page whose bytes are ISO-8859-1, as its `Content-Type` says (and no
/// `<meta charset>` contradicts it). Written as bytes, not a Rust string: a lone 0xE9 is not
/// UTF-8.
fn latin1() -> Response {
    let body: &[u8] = b"<!doctype html>\n<html lang=\"fr\">\n<head><title>Caf\xE9</title></head>\n<body>\n\
<p>Caf\xE9 au lait.</p>\n<a href=\"/fault/latin1/caf\xE9\">caf\xE9</a>\n</body>\n</html>\n";
    Response { content_type: "text/html; charset=iso-8859-1", ..Response::html(200, body) }
}

/// Plays out `fault` on `stream`, whose request head has been read. `head_only` is true for HEAD
/// requests: the faults that are valid responses then send their head only.
pub(crate) async fn perform(
    fault: Fault,
    mut stream: TcpStream,
    guard: OpenGuard,
    shared: &Shared,
    head_only: bool,
) -> io::Result<()> {
    match fault {
        Fault::Reset => {
            stream.write_all(&promise_1000(100)).await?;
            server::reset(stream, guard)
        }
        Fault::Truncated => {
            stream.write_all(&promise_1000(500)).await?;
            server::finish(stream, guard).await
        }
        Fault::Garbage => {
            stream.write_all(b"SSH-2.0-OpenSSH_9.0 this is not HTTP\r\n\r\n").await?;
            server::finish(stream, guard).await
        }
        Fault::Trickle => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nX-Trickle: ").await?;
            let give_up = Instant::now() + GIVE_UP_AFTER;
            let mut sink = [0u8; 256];
            while Instant::now() < give_up {
                // Wait for the next byte's turn *and* watch the socket: a client that gives up
                // must count as gone at once, not at the next write, or its retry's connection
                // would briefly overlap this one in the open-connections counter.
                tokio::select! {
                    () = sleep(Duration::from_millis(100)) => stream.write_all(b"a").await?,
                    read = stream.read(&mut sink) => match read {
                        Ok(0) | Err(_) => return Ok(()), // the client closed: drop, not linger
                        Ok(_) => {}                       // pipelined bytes: ignored
                    },
                }
            }
            server::finish(stream, guard).await
        }
        Fault::Silent => {
            // Read (and ignore) until the client closes or errors; never write a byte.
            let mut sink = [0u8; 256];
            let _ =
                timeout(GIVE_UP_AFTER, async { while let Ok(1..) = stream.read(&mut sink).await {} }).await;
            server::finish(stream, guard).await
        }
        Fault::Huge => huge(stream, guard, head_only).await,
        Fault::Flaky => {
            let n = shared.next_flaky();
            if n % FLAKY_CYCLE != FLAKY_CYCLE - 1 {
                return server::reset(stream, guard);
            }
            let body = pages::head("Flaky")
                + "<p>Third time lucky.</p>\n<a href=\"/page/0\">Page 0</a>\n"
                + pages::TAIL;
            server::respond(stream, guard, &Response::html(200, body), head_only).await
        }
        Fault::Chunked => chunked(stream, guard, head_only).await,
        Fault::Http10 => {
            let mut bytes = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n".to_vec();
            if !head_only {
                bytes.extend_from_slice(pages::head("HTTP/1.0").as_bytes());
                bytes.extend_from_slice(
                    b"<p>No Content-Length: this body ends when the connection does.</p>\n",
                );
                bytes.extend_from_slice(b"<a href=\"/page/3\">Page 3</a>\n");
                bytes.extend_from_slice(pages::TAIL.as_bytes());
            }
            stream.write_all(&bytes).await?;
            server::finish(stream, guard).await
        }
        Fault::EndlessBody => {
            // No `Content-Length` and no chunking: the body runs to the close (RFC 9112 6.3),
            // and this server never closes first. A reply to HEAD has no body, so it ends.
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nConnection: close\r\n\r\n");
            if head_only {
                stream.write_all(head.as_bytes()).await?;
                return server::finish(stream, guard).await;
            }
            endless(stream, guard, head.as_bytes(), b"<p>This body never ends.</p>\n").await
        }
        Fault::EndlessHead => {
            // Lines of 1 KiB: a client's head limit (16 KiB by default) is crossed long before
            // its header-count limit (64), so the client must see "too large", not "malformed".
            let line = format!("X-Endless: {}\r\n", "a".repeat(1024 - "X-Endless: \r\n".len()));
            endless(stream, guard, b"HTTP/1.1 200 OK\r\n", line.as_bytes()).await
        }
    }
}

/// Sends `start`, then `line` over and over until the client closes the connection (its kernel
/// answers further data with RST, and a write fails) or [`GIVE_UP_AFTER`] has passed.
async fn endless(mut stream: TcpStream, guard: OpenGuard, start: &[u8], line: &[u8]) -> io::Result<()> {
    stream.write_all(start).await?;
    // About 64 KiB per write: few system calls, and the client is never short of bytes.
    let chunk = line.repeat(64 * 1024 / line.len());
    let give_up = Instant::now() + GIVE_UP_AFTER;
    // The deadline also bounds each write, which waits as long as the client does not read.
    while let Ok(written) = timeout_at(give_up, stream.write_all(&chunk)).await {
        written?; // the client has gone: `?` drops the socket and the connection's counter slot
    }
    server::finish(stream, guard).await
}

/// A 200 head promising a 1000-byte body, followed by only the first `sent` bytes of it.
fn promise_1000(sent: usize) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    let body = pages::head("Incomplete") + &"<p>This body never arrives whole.</p>\n".repeat(30);
    bytes.extend_from_slice(&body.as_bytes()[..sent]);
    bytes
}

/// `/fault/huge`: a valid response, just far too big, streamed so the server never holds it.
async fn huge(mut stream: TcpStream, guard: OpenGuard, head_only: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nContent-Length: {HUGE_BODY_BYTES}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        const CHUNK: usize = 64 * 1024;
        let line = b"<p>This body is far larger than any page should be.</p>\n";
        let chunk: Vec<u8> = line.iter().copied().cycle().take(CHUNK).collect();
        for _ in 0..HUGE_BODY_BYTES / CHUNK {
            // A client that stopped reading makes this fail (or wait); `?` ends the connection.
            stream.write_all(&chunk).await?;
        }
    }
    server::finish(stream, guard).await
}

/// `/fault/chunked`: a valid response in chunked encoding, the framing a client must decode
/// when there is no `Content-Length`.
async fn chunked(mut stream: TcpStream, guard: OpenGuard, head_only: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nTransfer-Encoding: chunked\r\n\
         Trailer: X-Checksum\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    if head_only {
        return server::finish(stream, guard).await;
    }
    let title = pages::head("Chunked");
    let parts = [
        (title.as_str(), ""),
        ("<p>This body arrives in chunks.</p>\n<a href=\"/page/1\">Page 1</a>\n", ";ext=1"),
        ("<a href=\"/page/2\">Page 2</a>\n", ""),
        (pages::TAIL, ""),
    ];
    // One write per chunk, so a client that decodes incrementally sees them arrive separately.
    for (data, extension) in parts {
        let chunk = format!("{:x}{extension}\r\n{data}\r\n", data.len());
        stream.write_all(chunk.as_bytes()).await?;
    }
    // The last chunk has size 0 and is followed by trailer fields, then an empty line.
    stream.write_all(b"0\r\nX-Checksum: none\r\n\r\n").await?;
    server::finish(stream, guard).await
}
