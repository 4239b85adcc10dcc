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
//! The fetch is stage 2's: a value, [`Fetch`], that remembers where its try has got to (its
//! `State`: one state for each call that blocked in stage 1), and `Fetch::poll` moves it on as
//! far as it can without waiting. Every socket call that cannot go on yet says so ([`not_yet`]),
//! and the fetch stays in its state: `Poll::Pending`, "ask me again". What changes is who asks
//! again: before it says "not yet", the fetch asks the loop to call it back once its socket is
//! ready ([`Socket::writable`], [`Socket::readable`]) or its name lookup is done
//! ([`net::lookup`]), and a timer calls it back at its deadline.
//! Those callbacks are all that keep it alive, so it must carry what they need: its config, a
//! way to make them, and whoever waits for its result.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::task::Poll;
use std::time::Instant;

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::socket::{connect_nonblocking, finish_connect, not_yet};
use crawl::timeline::{self, Phase};
use crawl::{Config, FetchError, Fetched, TryEnd};
use url::Url;

use crate::blocking::Job;
use crate::event_loop::{EventLoop, TimerId};
use crate::net::{self, Socket};

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

/// Called once with the URL's result.
type OnDone = Box<dyn FnOnce(Fetched)>;

// ANCHOR: fetch
/// Fetches `url` and calls `on_done` with the result. Returns at once: the fetch is polled in
/// callbacks, the first of them on the loop's next turn.
pub fn fetch(lp: &EventLoop, url: Url, config: Rc<Config>, on_done: impl FnOnce(Fetched) + 'static) {
    let on_done: Option<OnDone> = Some(Box::new(on_done));
    let fetch = Rc::new_cyclic(|me: &Weak<RefCell<Fetch>>| {
        let (me, state) = (me.clone(), State::Starting);
        RefCell::new(Fetch {
            me,
            url,
            config,
            tries: 0,
            deadline: Instant::now(),
            timer: None,
            state,
            on_done,
        })
    });
    lp.call_soon(move |lp| wake(&fetch, lp));
}

/// One URL being fetched, across its tries.
pub struct Fetch {
    /// Itself, for the callbacks it hands the loop (see [`Fetch::waker`]).
    me: Weak<RefCell<Fetch>>,
    /// What to fetch.
    url: Url,
    /// Timeout, tries, request options, limits, rules.
    config: Rc<Config>,
    /// Tries started so far.
    tries: u32,
    /// When the current try runs out of time.
    deadline: Instant,
    /// The timer that wakes the fetch at `deadline`; cancelled when the try ends first.
    timer: Option<TimerId>,
    /// Where the current try has got to.
    state: State,
    /// Whoever waits for the result; taken when it is delivered.
    on_done: Option<OnDone>,
}

/// Where one try has got to: a state for each step that blocked in stage 1, holding exactly what
/// is live there.
#[derive(Debug)]
enum State {
    /// About to start a try (the first, or the next). No socket is open.
    Starting,
    /// The host's address is being looked up by `lookup`, off the loop's thread.
    Resolving { lookup: Job<Result<SocketAddr, FetchError>> },
    /// The handshake is under way on `socket`, nonblocking and not yet connected.
    Connecting { socket: Socket },
    /// Connected: `request[written..]` is still to be written to `socket`.
    Sending { socket: Socket, request: Vec<u8>, written: usize },
    /// The request is sent: what arrives on `socket` is fed to `decoder`, which says when it is done.
    Receiving { socket: Socket, decoder: ResponseDecoder },
}
// ANCHOR_END: fetch

// ANCHOR: wake
/// What every callback of a fetch does, whether its socket is ready or its deadline has come:
/// poll it again, and hand a settled URL's result to whoever waits for it.
fn wake(fetch: &Rc<RefCell<Fetch>>, lp: &EventLoop) {
    let poll = fetch.borrow_mut().poll(lp);
    if let Poll::Ready(fetched) = poll {
        let on_done = fetch.borrow_mut().on_done.take();
        if let Some(on_done) = on_done {
            on_done(fetched);
        }
    }
}
// ANCHOR_END: wake

impl Fetch {
    // ANCHOR: poll
    /// Moves the fetch on as far as it can go without waiting: `Ready` with the result once the
    /// URL is settled, `Pending` once a socket has said "not yet" and the loop will call back.
    fn poll(&mut self, lp: &EventLoop) -> Poll<Fetched> {
        loop {
            let result = match self.step(lp) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(response)) => Ok(response),
                Err(error) => Err(error),
            };
            // The try is over, and its socket closed with its state; its deadline no longer matters.
            if let Some(timer) = self.timer.take() {
                lp.cancel(timer);
            }
            match self.config.end_try(&self.url, self.tries, result) {
                TryEnd::Retry => continue, // the state is `Starting`: `step` starts the next try
                TryEnd::Finished(fetched) => return Poll::Ready(fetched),
            }
        }
    }
    // ANCHOR_END: poll

    /// A callback that wakes this fetch. It holds the fetch, so a fetch lives as long as the loop
    /// has a callback of it to make: its socket's readiness or its deadline.
    fn waker(&self) -> impl Fn(&EventLoop) + 'static {
        let fetch = self.me.upgrade().expect("a fetch being polled is alive");
        move |lp| wake(&fetch, lp)
    }

    // ANCHOR: step
    /// Runs the current try until it ends (a response, an error) or a socket says "not yet". The
    /// state is taken out and put back only while the try goes on: an early return leaves it
    /// `Starting`, which drops, and so closes, the socket.
    fn step(&mut self, lp: &EventLoop) -> Result<Poll<Response>, FetchError> {
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
                    self.timer = Some(lp.call_at(self.deadline, self.waker()));
                    timeline::phase(url, Phase::Resolving); // `--timeline`: the steps of the try, as spans
                    let lookup = net::lookup(lp, config.resolver.lookup(url)?, self.waker())?;
                    self.state = State::Resolving { lookup };
                }
                State::Resolving { mut lookup } => {
                    let addr = match lookup.poll() {
                        Poll::Ready(addr) => addr?,
                        Poll::Pending => {
                            self.state = State::Resolving { lookup };
                            return Ok(Poll::Pending);
                        }
                    };
                    let socket = Socket::register(lp, connect_nonblocking(addr)?, self.waker())?;
                    timeline::phase(url, Phase::Connecting);
                    self.state = State::Connecting { socket };
                }
                State::Connecting { socket } => {
                    match finish_connect(&socket) {
                        Ok(()) => {}
                        Err(e) if not_yet(&e) => {
                            socket.writable()?;
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
                            socket.writable()?;
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
                            socket.readable()?;
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

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetch").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}
