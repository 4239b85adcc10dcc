//! Fetching one URL, as coroutines.
//!
//! Stage 3 spread one fetch across callbacks and shared objects. Here it is whole again, as two
//! state machines that stop at each wait and are resumed by a [`Task`]:
//!
//! * [`FetchOnce`] is one try: connect, send, receive. Each variant of its state holds exactly
//!   what is live at that wait; a `WouldBlock` becomes "yield the socket's readiness future".
//! * [`Fetch`] is the URL across its tries. It runs each try as a task of its own and arms a
//!   timer that cancels that task at the deadline: asyncio's `wait_for`, built from `Task.cancel`.
//!
//! Errors are plain `Result`s again: a try returns `Err`, and its caller decides to retry.

use std::io::{self, Read, Write};
use std::rc::Rc;

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::{Config, FetchError, Fetched, Outcome};
use stage3_callbacks::event_loop::{EventLoop, TimerId};
use url::Url;

use crate::coroutine::{Coroutine, Resume, Step};
use crate::net::Socket;
use crate::task::{Cancelled, Task};

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: fetch
/// Fetches `url`, retrying connection-level failures up to `--max-tries` times. Returns the
/// coroutine: a worker runs it with `yield_from!`.
pub fn fetch(url: Url, config: Rc<Config>) -> Fetch {
    Fetch { url, config, tries: 0, state: FetchState::Start }
}

/// One URL across all its tries.
pub struct Fetch {
    /// What to fetch.
    url: Url,
    /// Timeout, tries, limits, rules.
    config: Rc<Config>,
    /// Tries started so far.
    tries: u32,
    /// Where it has got to.
    state: FetchState,
}

/// ```python
/// def fetch(url):
///     for tries in itertools.count(1):
///         try:
///             response = yield from wait_for(fetch_once(url), timeout)   # Trying
///             return Outcome.from_response(response)
///         except (ConnectionError, TimeoutError) as error:
///             if tries == max_tries or not retryable(error):
///                 return Outcome.failed(error)
/// ```
enum FetchState {
    /// Not started.
    Start,
    /// A try runs as its own task; the timer cancels it at the deadline.
    Trying { attempt: Task<Result<Response, FetchError>>, deadline: TimerId },
    /// Returned.
    Finished,
}

impl Coroutine for Fetch {
    type Output = Fetched;

    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Fetched> {
        match (std::mem::replace(&mut self.state, FetchState::Finished), how) {
            (FetchState::Trying { attempt, deadline }, Resume::Cancel) => {
                // Cancelled ourselves: pass it down to the try, which closes its socket.
                attempt.cancel();
                lp.cancel(deadline);
                Step::Done(self.finish(Outcome::Failed { error: FetchError::timeout() }))
            }
            (FetchState::Start, _) => self.start_try(lp),
            (FetchState::Trying { attempt, deadline }, _) => {
                lp.cancel(deadline);
                let result = match attempt.future().take_result() {
                    Some(Ok(result)) => result,
                    // Only the deadline timer cancels a try.
                    Some(Err(Cancelled)) | None => Err(FetchError::timeout()),
                };
                match result {
                    Ok(response) => {
                        let outcome = Outcome::from_response(&self.url, &response, &self.config.rules);
                        Step::Done(self.finish(outcome))
                    }
                    Err(error) => {
                        self.config.log_failed_try(&self.url, self.tries, &error);
                        if self.tries < self.config.max_tries && error.kind.is_retryable() {
                            self.start_try(lp)
                        } else {
                            Step::Done(self.finish(Outcome::Failed { error }))
                        }
                    }
                }
            }
            (FetchState::Finished, _) => panic!("a finished fetch was resumed"),
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            FetchState::Start => "fetch:start",
            FetchState::Trying { .. } => "fetch:trying",
            FetchState::Finished => "fetch:finished",
        }
    }
}

impl Fetch {
    /// Starts a try as a task, with a timer that cancels it at the deadline, and waits for it.
    fn start_try(&mut self, lp: &EventLoop) -> Step<Fetched> {
        self.tries += 1;
        let attempt = Task::spawn_traced(
            lp,
            FetchOnce::new(self.url.clone(), Rc::clone(&self.config)),
            self.config.trace,
        );
        let expired = attempt.clone();
        let deadline = lp.call_later(self.config.timeout, move |_| {
            expired.cancel();
        });
        self.state = FetchState::Trying { attempt: attempt.clone(), deadline };
        Step::Wait(Box::new(attempt))
    }

    fn finish(&self, outcome: Outcome) -> Fetched {
        let fetched = Fetched { url: self.url.clone(), outcome, tries: self.tries };
        self.config.log_fetched(&fetched);
        fetched
    }
}
// ANCHOR_END: fetch

// ANCHOR: fetch_once
/// One try: one connection, one request, one response.
pub struct FetchOnce {
    /// What to fetch.
    url: Url,
    /// Limits for the decoder.
    config: Rc<Config>,
    /// Where it has got to.
    state: TryState,
}

/// ```python
/// def fetch_once(url):
///     sock = connect_nonblocking(addr)
///     yield writable(sock)                          # Connecting
///     request = encode_request(url)
///     while request:
///         try: request = request[sock.send(request):]
///         except BlockingIOError: yield writable(sock)   # Sending
///     decoder = ResponseDecoder()
///     while True:
///         try: data = sock.recv(16384)
///         except BlockingIOError: yield readable(sock); continue   # Receiving
///         if (response := decoder.feed(data)): return response
/// ```
enum TryState {
    /// Not started.
    Start,
    /// The handshake is under way; waiting for writability.
    Connecting { socket: Socket },
    /// Writing the request; `written` bytes of it so far.
    Sending { socket: Socket, request: Vec<u8>, written: usize },
    /// Feeding the decoder what arrives.
    Receiving { socket: Socket, decoder: ResponseDecoder },
    /// Returned (or cancelled): the socket is closed.
    Finished,
}

impl FetchOnce {
    pub fn new(url: Url, config: Rc<Config>) -> FetchOnce {
        FetchOnce { url, config, state: TryState::Start }
    }

    /// Runs until the next wait or the end of the try.
    fn run(&mut self, lp: &EventLoop) -> Result<Step<Response>, FetchError> {
        loop {
            // The state is taken out, and put back only while the try goes on: returning early
            // (a response, an error) leaves it `Finished`, which drops and closes the socket.
            match std::mem::replace(&mut self.state, TryState::Finished) {
                TryState::Start => {
                    let addr = crawl::resolve::socket_addr(&self.url)?;
                    let socket = Socket::connect(lp, addr)?;
                    let writable = socket.writable();
                    self.state = TryState::Connecting { socket };
                    return Ok(Step::Wait(Box::new(writable)));
                }
                TryState::Connecting { socket } => {
                    if let Some(error) = socket.take_error()? {
                        return Err(FetchError::from_io(&error));
                    }
                    let request = http::encode_request(&self.url, &self.config.request);
                    self.state = TryState::Sending { socket, request, written: 0 };
                }
                TryState::Sending { socket, request, mut written } => {
                    match socket.stream().write(&request[written..]) {
                        Ok(n) => written += n,
                        // The send buffer is full: wait until it has room.
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            let writable = socket.writable();
                            self.state = TryState::Sending { socket, request, written };
                            return Ok(Step::Wait(Box::new(writable)));
                        }
                        // A signal arrived before anything was written: try again.
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(FetchError::from_io(&e)),
                    }
                    self.state = if written == request.len() {
                        TryState::Receiving { socket, decoder: ResponseDecoder::new(self.config.limits) }
                    } else {
                        TryState::Sending { socket, request, written }
                    };
                }
                TryState::Receiving { socket, mut decoder } => {
                    let mut buffer = [0; READ_CHUNK];
                    let n = match socket.stream().read(&mut buffer) {
                        Ok(n) => n, // 0 means the server closed its side: the decoder decides.
                        // No bytes yet: wait until some arrive.
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            let readable = socket.readable();
                            self.state = TryState::Receiving { socket, decoder };
                            return Ok(Step::Wait(Box::new(readable)));
                        }
                        // A signal arrived while reading; the bytes are still there.
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                            self.state = TryState::Receiving { socket, decoder };
                            continue;
                        }
                        Err(e) => return Err(FetchError::from_io(&e)),
                    };
                    match decoder.feed(&buffer[..n])? {
                        Progress::Done(response) => return Ok(Step::Done(response)),
                        Progress::NeedMore => self.state = TryState::Receiving { socket, decoder },
                    }
                }
                TryState::Finished => panic!("a finished try was resumed"),
            }
        }
    }
}

impl Coroutine for FetchOnce {
    type Output = Result<Response, FetchError>;

    fn resume(&mut self, lp: &EventLoop, how: Resume) -> Step<Self::Output> {
        if how == Resume::Cancel {
            // Cancelled at a wait: drop the state, and with it the socket (closing it).
            self.state = TryState::Finished;
            return Step::Done(Err(FetchError::timeout()));
        }
        match self.run(lp) {
            Ok(Step::Wait(wait)) => Step::Wait(wait),
            Ok(Step::Done(response)) => Step::Done(Ok(response)),
            Err(error) => Step::Done(Err(error)),
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            TryState::Start => "try:start",
            TryState::Connecting { .. } => "try:connecting",
            TryState::Sending { .. } => "try:sending",
            TryState::Receiving { .. } => "try:receiving",
            TryState::Finished => "try:finished",
        }
    }
}
// ANCHOR_END: fetch_once

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetch").field("url", &self.url.as_str()).field("state", &self.state_name()).finish()
    }
}

impl std::fmt::Debug for FetchOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchOnce")
            .field("url", &self.url.as_str())
            .field("state", &self.state_name())
            .finish()
    }
}
