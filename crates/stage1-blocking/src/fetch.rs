//! Fetching one URL with blocking sockets.
//!
//! This is the version every later stage rewrites: connect, send the request, read until the
//! decoder has a whole response, with retries. Each call below blocks the thread; the socket's
//! timeouts are set before every call to whatever is left of the request's deadline, so the whole
//! request, not each call, is bounded by `--timeout`.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::{Config, ErrorKind, FetchError, Fetched, Outcome};
use url::Url;

use crate::unblock;

/// Bytes asked of one `read`: large enough that a typical page arrives in a few calls.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: fetch
/// Fetches `url`, retrying connection-level failures up to `--max-tries` times.
pub fn fetch(url: &Url, config: &Config) -> Fetched {
    let mut tries = 0;
    let outcome = loop {
        tries += 1;
        match fetch_once(url, config) {
            Ok(response) => break Outcome::from_response(url, &response, &config.rules),
            Err(error) => {
                config.log_failed_try(url, tries, &error);
                // After Ctrl-C the failure is our own doing (see `unblock`): do not try again.
                if tries < config.max_tries && error.kind.is_retryable() && !crawl::interrupt::requested() {
                    continue;
                }
                break Outcome::Failed { error };
            }
        }
    };
    let fetched = Fetched { url: url.clone(), outcome, tries };
    config.log_fetched(&fetched);
    fetched
}

/// One try: one connection, one request, one response.
fn fetch_once(url: &Url, config: &Config) -> Result<Response, FetchError> {
    let deadline = Instant::now() + config.timeout;
    let addr = crawl::resolve::socket_addr(url)?;

    // Connect: the thread sleeps through the TCP handshake.
    let stream = traced(config, "connect", || {
        TcpStream::connect_timeout(&addr, time_left(deadline)?).map_err(blocking_error)
    })?;
    // Ctrl-C cannot wake a thread asleep in this socket's calls; shutting the socket down can.
    // The registry shares the socket (an `Arc`, not a second descriptor: at 10,000 connections
    // that would be 20,000 files), and `&TcpStream` reads and writes as well as `TcpStream`.
    let stream = Arc::new(stream);
    let _unblock = unblock::shut_down_on_interrupt(&stream);
    let mut stream = &*stream;

    // Send: a request this small fits in the socket buffer, so this rarely sleeps at all.
    stream.set_write_timeout(Some(time_left(deadline)?))?;
    traced(config, "write", || {
        stream.write_all(&http::encode_request(url, &config.request)).map_err(blocking_error)
    })?;

    // Receive: sleep until bytes arrive, feed them to the decoder, repeat until it has a response.
    let mut decoder = ResponseDecoder::new(config.limits);
    let mut buffer = vec![0; READ_CHUNK];
    loop {
        stream.set_read_timeout(Some(time_left(deadline)?))?;
        let read = traced(config, "read", || stream.read(&mut buffer));
        let n = match read {
            Ok(n) => n, // 0 means the server closed its side: the decoder decides if that is fine.
            // A signal arrived while we slept; nothing happened to the socket, just ask again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(blocking_error(e)),
        };
        if let Progress::Done(response) = decoder.feed(&buffer[..n])? {
            return Ok(response);
        }
    }
}
// ANCHOR_END: fetch

/// What is left of the deadline, or a timeout error when nothing is. (A zero socket timeout would
/// mean "no timeout" to the OS, so it must never be passed on.)
fn time_left(deadline: Instant) -> Result<Duration, FetchError> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(FetchError::timeout()),
    }
}

/// Classifies an error from a *blocking* socket call.
///
/// When a blocking socket's timeout (`SO_RCVTIMEO` / `SO_SNDTIMEO`) expires, Linux reports
/// `EAGAIN`, which Rust calls `WouldBlock`: on this kind of socket it means "timed out".
fn blocking_error(err: io::Error) -> FetchError {
    if err.kind() == io::ErrorKind::WouldBlock {
        return FetchError::new(ErrorKind::Timeout, "socket timeout expired");
    }
    FetchError::from_io(&err)
}

/// Runs one blocking call; with `--trace`, says how long the thread slept in it.
fn traced<T>(config: &Config, call: &str, f: impl FnOnce() -> T) -> T {
    if !config.trace {
        return f();
    }
    let started = Instant::now();
    let result = f();
    let thread = std::thread::current();
    eprintln!(
        "[trace] thread {} blocked {:>8.3} ms in {call}",
        thread.name().unwrap_or("unnamed"),
        started.elapsed().as_secs_f64() * 1000.0
    );
    result
}
