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
//! Here no socket call may sleep, so the fetch cannot be a function that runs to the end: it is a
//! value, [`Fetch`], that remembers where its try has got to (its `State`: one state for each
//! call that blocked in stage 1), and [`Fetch::poll`] moves it on as far as it can without
//! waiting. Every socket call that cannot go on yet says so ([`not_yet`]), and the fetch stays in
//! its state: `Poll::Pending`, "ask me again". The busy loop of [`crate::crawler`] asks again on
//! its next turn, ready or not.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::resolve::Background;
use crawl::socket::{connect_nonblocking, finish_connect, not_yet};
use crawl::timeline::{self, Phase};
use crawl::{Config, FetchError, Fetched, TryEnd};
use url::Url;

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: fetch
/// Fetches `url`: a fetch that has not started yet. [`Fetch::poll`] moves it on.
pub fn fetch(url: Url, config: Rc<Config>) -> Fetch {
    Fetch { url, config, tries: 0, deadline: Instant::now(), state: State::Starting }
}

/// One URL being fetched, across its tries.
#[derive(Debug)]
pub struct Fetch {
    /// What to fetch.
    url: Url,
    /// Timeout, tries, request options, limits, rules.
    config: Rc<Config>,
    /// Tries started so far.
    tries: u32,
    /// When the current try runs out of time.
    deadline: Instant,
    /// Where the current try has got to.
    state: State,
}

/// Where one try has got to: a state for each step that blocked in stage 1, holding exactly what
/// is live there.
#[derive(Debug)]
enum State {
    /// About to start a try (the first, or the next). No socket is open.
    Starting,
    /// The host's address is being looked up by `lookup`, off this thread.
    Resolving { lookup: Background },
    /// The handshake is under way on `socket`, nonblocking and not yet connected.
    Connecting { socket: TcpStream },
    /// Connected: `request[written..]` is still to be written to `socket`.
    Sending { socket: TcpStream, request: Vec<u8>, written: usize },
    /// The request is sent: what arrives on `socket` is fed to `decoder`, which says when it is done.
    Receiving { socket: TcpStream, decoder: ResponseDecoder },
}
// ANCHOR_END: fetch

impl Fetch {
    // ANCHOR: poll
    /// Moves the fetch on as far as it can go without waiting: `Ready` with the result once the
    /// URL is settled, `Pending` once a socket has said "not yet".
    pub fn poll(&mut self) -> Poll<Fetched> {
        loop {
            let result = match self.step() {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(response)) => Ok(response),
                Err(error) => Err(error),
            };
            // The try is over, and its socket closed with its state.
            match self.config.end_try(&self.url, self.tries, result) {
                TryEnd::Retry => continue, // the state is `Starting`: `step` starts the next try
                TryEnd::Finished(fetched) => return Poll::Ready(fetched),
            }
        }
    }
    // ANCHOR_END: poll

    // ANCHOR: step
    /// Runs the current try until it ends (a response, an error) or a socket says "not yet". The
    /// state is taken out and put back only while the try goes on: an early return leaves it
    /// `Starting`, which drops, and so closes, the socket.
    fn step(&mut self) -> Result<Poll<Response>, FetchError> {
        let (url, config) = (&self.url, &*self.config);
        loop {
            let state = std::mem::replace(&mut self.state, State::Starting);
            if !matches!(state, State::Starting) && Instant::now() >= self.deadline {
                return Err(FetchError::timeout()); // out of time: the socket closes with `state`
            }
            match state {
                State::Starting => {
                    self.tries += 1;
                    self.deadline = Instant::now() + config.timeout;
                    timeline::phase(url, Phase::Resolving); // `--timeline`: the steps of the try, as spans
                    let lookup = Background::start(config.resolver.lookup(url)?)?;
                    self.state = State::Resolving { lookup };
                }
                State::Resolving { lookup } => {
                    let addr = match lookup.poll() {
                        Poll::Ready(addr) => addr?,
                        Poll::Pending => {
                            self.state = State::Resolving { lookup };
                            return Ok(Poll::Pending);
                        }
                    };
                    let socket = connect_nonblocking(addr)?;
                    timeline::phase(url, Phase::Connecting);
                    self.state = State::Connecting { socket };
                }
                State::Connecting { socket } => {
                    match finish_connect(&socket) {
                        Ok(()) => {}
                        Err(e) if not_yet(&e) => {
                            self.state = State::Connecting { socket };
                            return Ok(Poll::Pending);
                        }
                        Err(e) => return Err(FetchError::from_io(&e)),
                    }
                    timeline::phase(url, Phase::Sending);
                    let request = http::encode_request(url, &config.request);
                    self.state = State::Sending { socket, request, written: 0 };
                }
                State::Sending { mut socket, request, mut written } => {
                    match socket.write(&request[written..]) {
                        Ok(n) => written += n,
                        Err(e) if not_yet(&e) => {
                            self.state = State::Sending { socket, request, written };
                            return Ok(Poll::Pending);
                        }
                        Err(e) => return Err(FetchError::from_io(&e)),
                    }
                    self.state = if written < request.len() {
                        State::Sending { socket, request, written }
                    } else {
                        timeline::phase(url, Phase::Waiting);
                        State::Receiving { socket, decoder: ResponseDecoder::new(config.limits) }
                    };
                }
                State::Receiving { mut socket, mut decoder } => {
                    let mut buffer = [0; READ_CHUNK];
                    let n = match socket.read(&mut buffer) {
                        Ok(n) => n, // 0 means the server closed its side: the decoder decides.
                        Err(e) if not_yet(&e) => {
                            self.state = State::Receiving { socket, decoder };
                            return Ok(Poll::Pending);
                        }
                        Err(e) => return Err(FetchError::from_io(&e)),
                    };
                    timeline::phase(url, Phase::Receiving);
                    match decoder.feed(&buffer[..n])? {
                        Progress::Done(response) => return Ok(Poll::Ready(response)),
                        Progress::NeedMore => self.state = State::Receiving { socket, decoder },
                    }
                }
            }
        }
    }
    // ANCHOR_END: step
}
