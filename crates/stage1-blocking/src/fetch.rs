//! Fetching one URL.
//!
//! A fetch makes tries until one settles the URL. A try is one connection, one request and one
//! response, within `--timeout`; when a try fails, `Config::end_try` says whether another follows.
//! The request's bytes come from `http::encode_request`, and what is read goes to a
//! `ResponseDecoder`: the codec never touches a socket, so what this file shows is the waiting.
//! Every stage's try goes through the same steps:
//!
//! | step | what happens |
//! |---|---|
//! | starting | the try's deadline is set, and the host handed to the resolver (an IP address needs none) |
//! | resolving | the resolver, off this thread, answers with an address; a socket is opened and its connect started |
//! | connecting | the TCP handshake goes on |
//! | sending | the request is written |
//! | receiving | the response is read and fed to the decoder, until it is whole |
//!
//! Here every socket call blocks: the thread sleeps in the kernel until the call can go on. So the
//! fetch is one function that runs from the first byte to the last, and the code reads in the
//! order things happen. The socket's timeouts are set before every call to what is left of the
//! try's deadline, so the whole try, not each call, is bounded. (The socket is a `TcpStream` with
//! plumbing for Ctrl-C and `--trace`: see [`Socket`].)

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::resolve::Background;
use crawl::socket::interrupted;
use crawl::timeline::{self, Phase};
use crawl::{Config, ErrorKind, FetchError, Fetched, TryEnd};
use url::Url;

use crate::socket::Socket;
use crate::unblock;

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: fetch
/// Fetches `url`: one try after another, until one settles it (see `Config::end_try`).
pub fn fetch(url: &Url, config: &Config) -> Fetched {
    let mut tries = 0;
    loop {
        tries += 1;
        let result = fetch_once(url, config);
        match config.end_try(url, tries, result) {
            TryEnd::Retry => continue,
            TryEnd::Finished(fetched) => return fetched,
        }
    }
}

/// One try: one connection, one request, one response.
fn fetch_once(url: &Url, config: &Config) -> Result<Response, FetchError> {
    let deadline = Instant::now() + config.timeout;
    timeline::phase(url, Phase::Resolving); // `--timeline`: the steps of the try, as spans
    // Starting and resolving: the lookup runs on a thread of its own, and this one sleeps until
    // it answers, or until the deadline.
    let lookup = Background::start(config.resolver.lookup(url)?)?;
    let _unblock = unblock::end_lookup_on_interrupt(&lookup); // Ctrl-C ends the wait: see `unblock`
    let addr = lookup.wait(time_left(deadline)?)?;
    timeline::phase(url, Phase::Connecting);
    // Connecting: the thread sleeps through the TCP handshake.
    let mut socket = Socket::connect(addr, time_left(deadline)?, config.trace).map_err(blocking_error)?;
    timeline::phase(url, Phase::Sending);
    // Sending: a request this small fits in the socket's buffer, so this rarely sleeps at all.
    let request = http::encode_request(url, &config.request);
    socket.set_write_timeout(time_left(deadline)?)?;
    socket.write_all(&request).map_err(blocking_error)?;
    timeline::phase(url, Phase::Waiting);
    // Receiving: sleep until bytes arrive, feed them to the decoder, until it has a response.
    let mut decoder = ResponseDecoder::new(config.limits);
    let mut buffer = [0; READ_CHUNK];
    loop {
        socket.set_read_timeout(time_left(deadline)?)?;
        let n = match socket.read(&mut buffer) {
            Ok(n) => n, // 0 means the server closed its side: the decoder decides.
            Err(e) if interrupted(&e) => continue,
            Err(e) => return Err(blocking_error(e)),
        };
        timeline::phase(url, Phase::Receiving);
        match decoder.feed(&buffer[..n])? {
            Progress::Done(response) => return Ok(response),
            Progress::NeedMore => {}
        }
    }
}
// ANCHOR_END: fetch

/// What is left of the deadline, or a timeout error when nothing is. (A zero socket timeout would
/// mean "no timeout" to the OS; std refuses to pass one on, with an `InvalidInput` error.)
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
