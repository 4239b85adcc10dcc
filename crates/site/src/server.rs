//! The server: an accept loop, one task per connection, and the few ways a connection can end.
//!
//! Each connection carries exactly one request:
//!
//! 1. read the request head in full (up to [`MAX_HEAD`]) and parse it with `httparse`;
//! 2. count it, then wait out the configured latency;
//! 3. reply (see [`routes`](crate::routes)), then send FIN with `shutdown()` and drop the socket.
//!
//! Reading the *whole* head before replying matters: closing a socket that still has unread bytes
//! makes Linux send RST instead of FIN, and the client would see "connection reset" where it
//! should see a clean response. Errors on a connection (the client went away, a write failed)
//! just end that connection; nothing on a connection can stop the server.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use crawl::socket::{ACCEPT_BACKOFF, out_of_descriptors};
use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, oneshot};

use crate::SiteConfig;
use crate::counters::{Counters, OpenGuard};
use crate::faults;
use crate::routes::{self, Reply, Response};

/// The largest request head accepted; larger ones get a 431.
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// The listen backlog: how many connections the kernel queues before `accept`. Large, because a
/// test opens thousands of connections at once (Linux caps it at `net.core.somaxconn`).
const BACKLOG: u32 = 4096;

/// The most headers a request may have; more is a 431 too.
const MAX_HEADERS: usize = 64;

/// What every connection task needs to know, shared by all of them.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The site's config, with the real port filled in.
    config: SiteConfig,
    /// The bound address: where full-URL links point when a request has no usable `Host`.
    addr: SocketAddr,
    /// The counters the tests read.
    counters: Arc<Counters>,
    /// How many `/fault/flaky` requests there have been: site-wide, so that successive tries of
    /// one crawler (on new connections) see fail, fail, succeed.
    flaky: AtomicU64,
    /// Notified whenever a connection ends: an accept loop out of descriptors waits for it.
    closed: Notify,
}

impl Shared {
    pub(crate) fn new(config: SiteConfig, addr: SocketAddr, counters: Arc<Counters>) -> Shared {
        Shared { config, addr, counters, flaky: AtomicU64::new(0), closed: Notify::new() }
    }

    /// The number of this `/fault/flaky` request, counting from 0.
    pub(crate) fn next_flaky(&self) -> u64 {
        self.flaky.fetch_add(1, SeqCst)
    }
}

/// Binds a listening socket with `SO_REUSEADDR` (so a restarted server can take its port back
/// while old connections linger in TIME_WAIT) and a large backlog. Must run inside the runtime.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Accepts connections until `stop` fires (or its sender is dropped), spawning a task for each.
///
/// When `accept` fails, trying again at once would fail again at once: the loop would spin (see
/// [`out_of_descriptors`]). So it waits until a connection ends or [`ACCEPT_BACKOFF`] passes. A
/// shortage of descriptors is logged when it starts and when it is over, not once per try.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    // Out of descriptors since the backlog was last found empty.
    let mut short = false;
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = std::future::poll_fn(|cx| {
                let polled = listener.poll_accept(cx);
                // Pending: the backlog is empty, so any shortage is over.
                if polled.is_pending() && std::mem::take(&mut short) {
                    crawl::log!("site: accepting again: every waiting connection has been accepted");
                }
                polled
            }) => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                // Counted here, before the task exists, so the count is right the moment the
                // client's connect succeeds as far as the server can tell.
                let guard = shared.counters.open_connection();
                tokio::spawn(connection(stream, guard, Arc::clone(&shared)));
                // One accept per turn. The kernel's backlog may already hold a connection a
                // client opened right after closing another; if we took it now, it would be
                // counted before the task of the closed one had seen its close. `yield_now`
                // puts this loop behind the next poll for I/O events, so every close that
                // happened before the next connection is handled before it is counted.
                tokio::task::yield_now().await;
            }
            // The peer gave up before we accepted: there is nobody to serve; take the next.
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(e) => {
                if !out_of_descriptors(&e) {
                    crawl::log!("site: accept: {e}"); // rare, and once per pause, not in a loop
                } else if !std::mem::replace(&mut short, true) {
                    crawl::log!("site: out of file descriptors: pausing accepts until a connection closes");
                }
                tokio::select! {
                    _ = &mut stop => return,
                    () = shared.closed.notified() => {}
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
}

/// One connection from accept to close. Errors only end this connection.
async fn connection(stream: TcpStream, guard: OpenGuard, shared: Arc<Shared>) {
    let _ = handle(stream, guard, &shared).await;
    // `handle` owned the socket, so it is closed: a paused accept loop may go on.
    shared.closed.notify_waiters();
}

/// A request head, reduced to what routing needs.
#[derive(Debug)]
struct Request {
    /// The method, e.g. `GET`.
    method: String,
    /// The request target as sent, e.g. `/page/7`.
    path: String,
    /// The `Host` header value, if there was one.
    host: Option<String>,
}

/// How reading a request head ended.
#[derive(Debug)]
enum Head {
    /// A complete, parsed head.
    Request(Request),
    /// Not a valid request: reply with this status and close.
    Invalid(u16),
    /// The client closed (or failed) before sending a whole head: nothing to answer.
    Gone,
}

async fn handle(mut stream: TcpStream, guard: OpenGuard, shared: &Shared) -> io::Result<()> {
    let request = match read_head(&mut stream).await {
        Head::Gone => return Ok(()),
        Head::Invalid(status) => Err(status),
        Head::Request(request) => {
            shared.counters.record_request(request.host.as_deref());
            Ok(request)
        }
    };
    // The latency comes before every first byte, whatever the reply turns out to be.
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let request = match request {
        Ok(request) => request,
        Err(status) => {
            let body = format!("<p>{}</p>\n", routes::reason(status));
            return respond(stream, guard, &Response::html(status, body), false).await;
        }
    };
    let host = link_host(request.host.as_deref(), shared.addr);
    let head_only = request.method == "HEAD";
    match routes::route(&shared.config, &request.method, &request.path, &host) {
        Reply::Response(response) => respond(stream, guard, &response, head_only).await,
        Reply::Fault(fault) => faults::perform(fault, stream, guard, shared, head_only).await,
    }
}

/// Reads until the buffer holds a complete request head, and parses it.
async fn read_head(stream: &mut TcpStream) -> Head {
    // Start small and grow: thousands of idle connections should not each hold 16 KiB.
    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.len());
        }
        // `read_buf` appends to the Vec's spare capacity.
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return Head::Gone,
            Ok(_) => {}
        }
        if let Some(head) = parse_head(&buf) {
            return head;
        }
        if buf.len() >= MAX_HEAD {
            return Head::Invalid(431);
        }
    }
}

/// Parses `buf` as a request head: `None` while it is incomplete. A separate, synchronous
/// function so that httparse's header array lives on the stack only while parsing, not in every
/// connection's future.
fn parse_head(buf: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Partial) => None,
        Err(httparse::Error::TooManyHeaders) => Some(Head::Invalid(431)),
        Err(_) => Some(Head::Invalid(400)),
        Ok(httparse::Status::Complete(_)) => {
            let host = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("host"))
                .map(|h| String::from_utf8_lossy(h.value).into_owned());
            Some(Head::Request(Request {
                method: request.method.unwrap_or_default().to_owned(),
                path: request.path.unwrap_or_default().to_owned(),
                host,
            }))
        }
    }
}

/// The host name full-URL links should use: the request's `Host` when it is one, else the bound
/// address. The check keeps a hostile `Host` from breaking out of an HTML attribute.
fn link_host(host: Option<&str>, addr: SocketAddr) -> String {
    match host {
        Some(host) if fits_in_attribute(host) => host.to_owned(),
        _ => addr.to_string(),
    }
}

/// Whether `text` can go between the quotes of an HTML attribute, and into a header line, as it
/// is: not empty, printable ASCII, no quote, angle bracket, backslash or backtick.
pub(crate) fn fits_in_attribute(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic() && !b"\"'<>\\`".contains(&b))
}

/// Sends an ordinary response and closes the connection cleanly.
pub(crate) async fn respond(
    mut stream: TcpStream,
    guard: OpenGuard,
    response: &Response,
    head_only: bool,
) -> io::Result<()> {
    stream.write_all(&response.to_bytes(head_only)).await?;
    finish(stream, guard).await
}

/// Ends a connection with FIN: "that was everything". The guard goes first, so that by the time
/// the client sees the end, the connection no longer counts as open.
pub(crate) async fn finish(mut stream: TcpStream, guard: OpenGuard) -> io::Result<()> {
    stream.flush().await?;
    drop(guard);
    stream.shutdown().await
    // `stream` is dropped (closed) here.
}

/// Ends a connection with RST: a zero linger timeout makes `close` abort the connection instead
/// of closing it gracefully, and the client's next read fails with "connection reset".
pub(crate) fn reset(stream: TcpStream, guard: OpenGuard) -> io::Result<()> {
    // Through socket2: tokio's own `set_linger` is deprecated, because a *non-zero* linger makes
    // `close` block the whole runtime. Zero never blocks.
    SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    drop(guard);
    drop(stream);
    Ok(())
}
