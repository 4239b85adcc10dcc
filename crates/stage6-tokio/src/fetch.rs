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
//! Put this beside stage 5's `fetch.rs`: only the `use` lines differ. The functions need three
//! things of a runtime: a `TcpStream` whose reads and writes are futures, a `timeout` that drops
//! the future it bounds, and `spawn_blocking`, threads for the blocking name lookup. Stage 5
//! built them itself (`net.rs`, `time.rs`, `blocking.rs`); tokio ships them.
//! Under the `.await`s the idea is stage 5's: a nonblocking socket registered with epoll, a waker
//! kept until the socket is ready, a deadline kept in the loop's timers rather than in a thread.

use std::net::SocketAddr;

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::resolve::Lookup;
use crawl::timeline::{self, Phase};
use crawl::{Config, ErrorKind, FetchError, Fetched, TryEnd};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::spawn_blocking;
use tokio::time::timeout;
use url::Url;

use crate::read_buffer::ReadBuffer;

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: fetch
/// Fetches `url`: one try after another, until one settles it (see `Config::end_try`).
pub async fn fetch(url: &Url, config: &Config) -> Fetched {
    let mut tries = 0;
    loop {
        tries += 1;
        // The whole try, connect to last byte, is bounded: when time runs out the try's future
        // is dropped, which closes its socket.
        let result = match timeout(config.timeout, fetch_once(url, config)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FetchError::timeout()),
        };
        match config.end_try(url, tries, result) {
            TryEnd::Retry => continue,
            TryEnd::Finished(fetched) => return fetched,
        }
    }
}

/// One try: one connection, one request, one response.
async fn fetch_once(url: &Url, config: &Config) -> Result<Response, FetchError> {
    timeline::phase(url, Phase::Resolving); // `--timeline`: the steps of the try, as spans
    let addr = resolve(config.resolver.lookup(url)?).await?;
    timeline::phase(url, Phase::Connecting);
    let mut socket = TcpStream::connect(addr).await?;
    timeline::phase(url, Phase::Sending);
    socket.write_all(&http::encode_request(url, &config.request)).await?;
    timeline::phase(url, Phase::Waiting);
    let mut decoder = ResponseDecoder::new(config.limits);
    let mut buffer = ReadBuffer::new(READ_CHUNK); // empty while the socket waits: see `read_buffer`
    loop {
        let n = buffer.read(&mut socket).await?; // 0 means the server closed its side: the decoder decides.
        timeline::phase(url, Phase::Receiving);
        match decoder.feed(&buffer[..n])? {
            Progress::Done(response) => return Ok(response),
            Progress::NeedMore => {}
        }
    }
}
// ANCHOR_END: fetch

/// The address of `lookup`: an IP address at once; a name from the resolver, on a thread of
/// `spawn_blocking`'s pool, so that the loop goes on meanwhile (asyncio's `loop.getaddrinfo`).
/// When the try's time runs out first, this future is dropped with it, and the thread's answer
/// is dropped unread.
async fn resolve(lookup: Lookup) -> Result<SocketAddr, FetchError> {
    match lookup {
        Lookup::Known(addr) => Ok(addr),
        Lookup::Blocking(name) => match spawn_blocking(move || name.run()).await {
            Ok(answer) => answer,
            Err(e) => Err(FetchError::new(ErrorKind::Io, format!("the lookup did not run: {e}"))),
        },
    }
}
