//! How each fault plays out on the connection: the handlers that [`FAULTS`](crate::faults::FAULTS)
//! entries point to, for the faults that are more than an ordinary response.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout, timeout_at};

use crate::counters::OpenGuard;
use crate::faults::{FLAKY_CYCLE, GIVE_UP_AFTER, HUGE_BODY_BYTES};
use crate::pages;
use crate::routes::{HTML, Response};
use crate::server::{self, Shared};

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
