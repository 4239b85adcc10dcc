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
//! The try is stage 3's: a value, [`FetchOnce`], that remembers where it has got to (its
//! `State`: one state for each call that blocked in stage 1), and each resume moves it on as far
//! as it can without waiting. Every socket call that cannot go on yet says so ([`not_yet`]), and
//! the try stays in its state. What changes is what "not yet" does: instead of asking the loop
//! for a callback, the try yields its socket's readiness future (`Step::Wait`), and the [`Task`]
//! that runs it resumes it once that future is done. So a fetch is a coroutine again, code that
//! stops at each wait and goes on where it stopped, and it needs no way to make callbacks and
//! nobody to hand its result to: it returns it.
//!
//! The deadline changes with it. A coroutine waits on one future at a time, so each try runs as
//! a task of its own, and a timer cancels that task at the deadline (asyncio's `wait_for`):
//! [`Fetch`] is the URL across its tries, waiting on each try's task.

use std::io::{Read, Write};
use std::rc::Rc;
use std::task::Poll;

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::socket::{connect_nonblocking, finish_connect, not_yet};
use crawl::timeline::{self, Phase};
use crawl::{Config, FetchError, Fetched, Outcome, TryEnd};
use stage3_callbacks::event_loop::{EventLoop, TimerId};
use url::Url;

use crate::coroutine::{Coroutine, Resume, Step};
use crate::net::{PendingLookup, Socket};
use crate::task::{Cancelled, Task};

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: fetch
/// Fetches `url`: a coroutine that has not started yet. A [`Task`] runs it.
pub fn fetch(url: Url, config: Rc<Config>) -> Fetch {
    Fetch { url, config, tries: 0, timer: None, trying: None }
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
    /// The timer that cancels the current try at its deadline; cancelled when the try ends first.
    timer: Option<TimerId>,
    /// The current try, a task of its own; `None` between tries.
    trying: Option<Task<Result<Response, FetchError>>>,
}

/// One try: one connection, one request, one response.
#[derive(Debug)]
pub struct FetchOnce {
    /// What to fetch.
    url: Url,
    /// Request options and limits.
    config: Rc<Config>,
    /// Where the try has got to.
    state: State,
}

/// Where one try has got to: a state for each step that blocked in stage 1, holding exactly what
/// is live there.
#[derive(Debug)]
enum State {
    /// About to start the try. No socket is open.
    Starting,
    /// The host's address is being looked up by `lookup`, off the loop's thread.
    Resolving { lookup: PendingLookup },
    /// The handshake is under way on `socket`, nonblocking and not yet connected.
    Connecting { socket: Socket },
    /// Connected: `request[written..]` is still to be written to `socket`.
    Sending { socket: Socket, request: Vec<u8>, written: usize },
    /// The request is sent: what arrives on `socket` is fed to `decoder`, which says when it is done.
    Receiving { socket: Socket, decoder: ResponseDecoder },
}
// ANCHOR_END: fetch

// ANCHOR: resume
impl Coroutine for Fetch {
    type Output = Fetched;

    /// Moves the fetch on to its next wait, a try's task, or to its end: the URL's result.
    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Fetched> {
        if how == Resume::Cancel {
            return self.cancel(lp);
        }
        loop {
            let result = match self.trying.take() {
                None => return self.start_try(lp),
                Some(try_task) => {
                    match try_task.future().take_result().expect("resumed once its try is done") {
                        Ok(result) => result,
                        // Only the deadline timer cancels a try.
                        Err(Cancelled) => Err(FetchError::timeout()),
                    }
                }
            };
            // The try is over, and its socket closed with its task; its deadline no longer matters.
            if let Some(timer) = self.timer.take() {
                lp.cancel(timer);
            }
            match self.config.end_try(&self.url, self.tries, result) {
                TryEnd::Retry => continue, // nothing is `trying`: the next try starts
                TryEnd::Finished(fetched) => return Step::Done(fetched),
            }
        }
    }

    fn state_name(&self) -> &'static str {
        if self.trying.is_some() { "fetch:trying" } else { "fetch:between-tries" }
    }
}

impl Fetch {
    /// Starts the next try as a task, with a timer that cancels it at the deadline, and waits
    /// for it (asyncio's `wait_for`: the try's task is the future waited on).
    fn start_try(&mut self, lp: &EventLoop) -> Step<Fetched> {
        self.tries += 1;
        let fetch_once = FetchOnce::new(self.url.clone(), Rc::clone(&self.config));
        let try_task = Task::spawn_traced(lp, fetch_once, self.config.trace);
        let at_deadline = try_task.clone();
        self.timer = Some(lp.call_later(self.config.timeout, move |_| {
            at_deadline.cancel();
        }));
        self.trying = Some(try_task.clone());
        Step::Wait(Box::new(try_task))
    }

    /// Cancelled while a try runs (Ctrl-C): pass the cancellation down to the try, which closes
    /// its socket. The task ignores what a cancelled coroutine returns, so any record will do.
    fn cancel(&mut self, lp: &EventLoop) -> Step<Fetched> {
        if let Some(try_task) = self.trying.take() {
            try_task.cancel();
        }
        if let Some(timer) = self.timer.take() {
            lp.cancel(timer);
        }
        let error = FetchError::timeout();
        Step::Done(Fetched { url: self.url.clone(), outcome: Outcome::Failed { error }, tries: self.tries })
    }
}
// ANCHOR_END: resume

// ANCHOR: step
impl Coroutine for FetchOnce {
    type Output = Result<Response, FetchError>;

    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Self::Output> {
        if how == Resume::Cancel {
            // Cancelled at a wait (its deadline came): drop the state, and with it the socket.
            self.state = State::Starting;
            return Step::Done(Err(FetchError::timeout()));
        }
        match self.step(lp) {
            Ok(Step::Wait(wait)) => Step::Wait(wait),
            Ok(Step::Done(response)) => Step::Done(Ok(response)),
            Err(error) => Step::Done(Err(error)),
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            State::Starting => "try:starting",
            State::Resolving { .. } => "try:resolving",
            State::Connecting { .. } => "try:connecting",
            State::Sending { .. } => "try:sending",
            State::Receiving { .. } => "try:receiving",
        }
    }
}

impl FetchOnce {
    /// Runs the try until it ends (a response, an error) or a socket says "not yet". The state is
    /// taken out and put back only while the try goes on: an early return leaves it `Starting`,
    /// which drops, and so closes, the socket.
    fn step(&mut self, lp: &EventLoop) -> Result<Step<Response>, FetchError> {
        let (url, config) = (&self.url, &*self.config);
        loop {
            match std::mem::replace(&mut self.state, State::Starting) {
                State::Starting => {
                    timeline::phase(url, Phase::Resolving); // `--timeline`: the steps of the try, as spans
                    let lookup = PendingLookup::start(lp, config.resolver.lookup(url)?)?;
                    self.state = State::Resolving { lookup };
                }
                State::Resolving { mut lookup } => {
                    let addr = match lookup.poll() {
                        Poll::Ready(addr) => addr?,
                        Poll::Pending => {
                            let done = lookup.done();
                            self.state = State::Resolving { lookup };
                            return Ok(Step::Wait(Box::new(done)));
                        }
                    };
                    let socket = Socket::register(lp, connect_nonblocking(addr)?)?;
                    timeline::phase(url, Phase::Connecting);
                    self.state = State::Connecting { socket };
                }
                State::Connecting { socket } => {
                    match finish_connect(&socket) {
                        Ok(()) => {}
                        Err(e) if not_yet(&e) => {
                            let writable = socket.writable()?;
                            self.state = State::Connecting { socket };
                            return Ok(Step::Wait(Box::new(writable)));
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
                            let writable = socket.writable()?;
                            self.state = State::Sending { socket, request, written };
                            return Ok(Step::Wait(Box::new(writable)));
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
                            let readable = socket.readable()?;
                            self.state = State::Receiving { socket, decoder };
                            return Ok(Step::Wait(Box::new(readable)));
                        }
                        Err(e) => return Err(FetchError::from_io(&e)),
                    };
                    timeline::phase(url, Phase::Receiving);
                    match decoder.feed(&buffer[..n])? {
                        Progress::Done(response) => return Ok(Step::Done(response)),
                        Progress::NeedMore => self.state = State::Receiving { socket, decoder },
                    }
                }
            }
        }
    }
}
// ANCHOR_END: step

impl FetchOnce {
    /// One try of `url`, not started yet: a coroutine for a [`Task`] to run.
    pub fn new(url: Url, config: Rc<Config>) -> FetchOnce {
        FetchOnce { url, config, state: State::Starting }
    }
}
