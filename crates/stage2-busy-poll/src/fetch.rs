//! Fetching one URL with nonblocking sockets.
//!
//! Stage 1's fetch was one function that slept in each call. Here no call may sleep, so the fetch
//! cannot be a function that runs to the end: it is a value, [`Fetch`], that remembers where it
//! got to (its `State`), and [`Fetch::advance`] moves it on as far as it can without waiting.
//! Every `WouldBlock` means "not yet": stay in this state and let the caller ask again.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::{Config, FetchError, Fetched, Outcome};
use socket2::{Domain, Protocol, Socket, Type};
use url::Url;

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: state
/// Where one try of a fetch has got to. Each variant holds exactly what is live at that point.
enum State {
    /// About to start a try (the first, or a retry). No socket is open.
    Starting,
    /// `connect` returned `EINPROGRESS`: the TCP handshake goes on without us.
    Connecting {
        /// The nonblocking socket, not yet connected.
        socket: Socket,
    },
    /// Connected; writing the request.
    Sending {
        /// The connected socket, still nonblocking.
        stream: TcpStream,
        /// The whole request, encoded.
        request: Vec<u8>,
        /// How many bytes of `request` the socket has taken so far.
        written: usize,
    },
    /// The request is sent; feeding the decoder what arrives.
    Receiving {
        /// The connected socket, still nonblocking.
        stream: TcpStream,
        /// The response so far; it says when it is complete.
        decoder: ResponseDecoder,
        /// Where each `read` puts its bytes before they go to the decoder.
        buffer: Box<[u8; READ_CHUNK]>,
    },
}
// ANCHOR_END: state

/// What one call to [`Fetch::advance`] achieved.
#[derive(Debug)]
pub enum Step {
    /// The URL is finished, for good or ill.
    Done(Fetched),
    /// Something happened (bytes moved, a state changed): worth asking again soon.
    Progress,
    /// Every socket call said "not yet": this turn was wasted on this fetch.
    Idle,
}

/// One URL being fetched, across its tries.
pub struct Fetch {
    /// What to fetch.
    url: Url,
    /// Tries started so far.
    tries: u32,
    /// When the current try times out.
    deadline: Instant,
    /// Where the current try has got to.
    state: State,
}

/// What one attempt to move a try forward found.
enum Advanced {
    /// The try is over: a whole response arrived.
    Response(Response),
    /// Something happened; the try goes on.
    Progress,
    /// The socket said "not yet".
    Idle,
}

impl Fetch {
    /// A fetch of `url` that has not started yet.
    pub fn new(url: Url) -> Fetch {
        Fetch { url, tries: 0, deadline: Instant::now(), state: State::Starting }
    }

    // ANCHOR: advance
    /// Moves the fetch on as far as it can go without waiting, retrying connection-level
    /// failures up to `--max-tries` times.
    pub fn advance(&mut self, config: &Config) -> Step {
        let before = self.state_name();
        let step = match self.try_advance(config) {
            Ok(Advanced::Response(response)) => {
                Step::Done(self.finish(config, Outcome::from_response(&self.url, &response, &config.rules)))
            }
            Ok(Advanced::Progress) => Step::Progress,
            Ok(Advanced::Idle) => Step::Idle,
            Err(error) => {
                // The socket (if any) was dropped with the old state: the try is over.
                self.state = State::Starting;
                config.log_failed_try(&self.url, self.tries, &error);
                if self.tries < config.max_tries && error.kind.is_retryable() {
                    Step::Progress
                } else {
                    Step::Done(self.finish(config, Outcome::Failed { error }))
                }
            }
        };
        let after = if matches!(step, Step::Done(_)) { "done" } else { self.state_name() };
        if config.trace && before != after {
            eprintln!("[trace] {} {before} -> {after}", self.url);
        }
        step
    }
    // ANCHOR_END: advance

    fn finish(&self, config: &Config, outcome: Outcome) -> Fetched {
        let fetched = Fetched { url: self.url.clone(), outcome, tries: self.tries };
        config.log_fetched(&fetched);
        fetched
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            State::Starting => "starting",
            State::Connecting { .. } => "connecting",
            State::Sending { .. } => "sending",
            State::Receiving { .. } => "receiving",
        }
    }

    // ANCHOR: try_advance
    /// One step of the current try. The state is taken out and put back changed or unchanged;
    /// on an error it stays taken (`Starting`), which drops, and so closes, the socket.
    fn try_advance(&mut self, config: &Config) -> Result<Advanced, FetchError> {
        if !matches!(self.state, State::Starting) && Instant::now() >= self.deadline {
            return Err(FetchError::timeout());
        }
        match std::mem::replace(&mut self.state, State::Starting) {
            State::Starting => {
                self.tries += 1;
                self.deadline = Instant::now() + config.timeout;
                let addr = crawl::resolve::socket_addr(&self.url)?;
                // std's `TcpStream::connect` always blocks, so the socket is made with socket2 and
                // switched to nonblocking *before* connecting.
                let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
                socket.set_nonblocking(true)?;
                match socket.connect(&addr.into()) {
                    // Loopback can complete the handshake at once.
                    Ok(()) => self.state = self.sending(config, socket.into()),
                    // EINPROGRESS: the handshake has started; ask again later how it went. (Stable
                    // Rust has no `io::ErrorKind` for it, and its number differs by system, 115
                    // on Linux and 36 on macOS, so `libc` names it.)
                    Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                        self.state = State::Connecting { socket }
                    }
                    Err(e) => return Err(FetchError::from_io(&e)),
                }
                Ok(Advanced::Progress)
            }
            State::Connecting { socket } => {
                // A failed handshake leaves its error in SO_ERROR; a pending one has no peer yet.
                // (Calling `connect` again would also tell, by EALREADY or EISCONN. SO_ERROR is
                // what stage 3 reads once epoll says the handshake is over; with no one to say
                // when, this stage needs `peer_addr` too, to tell "pending" from "connected".)
                if let Some(error) = socket.take_error()? {
                    return Err(FetchError::from_io(&error));
                }
                match socket.peer_addr() {
                    Ok(_) => {
                        self.state = self.sending(config, socket.into());
                        Ok(Advanced::Progress)
                    }
                    // ENOTCONN: still connecting. Nothing to do but ask again.
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        self.state = State::Connecting { socket };
                        Ok(Advanced::Idle)
                    }
                    Err(e) => Err(FetchError::from_io(&e)),
                }
            }
            State::Sending { mut stream, request, mut written } => {
                let advanced = match stream.write(&request[written..]) {
                    Ok(n) => {
                        written += n;
                        Advanced::Progress
                    }
                    // The socket's send buffer is full: not yet.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Advanced::Idle,
                    // A signal arrived before anything was written: just ask again.
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => Advanced::Progress,
                    Err(e) => return Err(FetchError::from_io(&e)),
                };
                self.state = if written == request.len() {
                    let decoder = ResponseDecoder::new(config.limits);
                    State::Receiving { stream, decoder, buffer: Box::new([0; READ_CHUNK]) }
                } else {
                    State::Sending { stream, request, written }
                };
                Ok(advanced)
            }
            State::Receiving { mut stream, mut decoder, mut buffer } => {
                let n = match stream.read(&mut buffer[..]) {
                    Ok(n) => n, // 0 means the server closed its side: the decoder decides.
                    // No bytes have arrived yet: not yet.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.state = State::Receiving { stream, decoder, buffer };
                        return Ok(Advanced::Idle);
                    }
                    // A signal arrived while reading; the bytes are still there: ask again.
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        self.state = State::Receiving { stream, decoder, buffer };
                        return Ok(Advanced::Progress);
                    }
                    Err(e) => return Err(FetchError::from_io(&e)),
                };
                match decoder.feed(&buffer[..n])? {
                    // Done: the state stays `Starting`, and the stream is dropped (closed) here.
                    Progress::Done(response) => Ok(Advanced::Response(response)),
                    Progress::NeedMore => {
                        self.state = State::Receiving { stream, decoder, buffer };
                        Ok(Advanced::Progress)
                    }
                }
            }
        }
    }
    // ANCHOR_END: try_advance

    fn sending(&self, config: &Config, stream: TcpStream) -> State {
        State::Sending { stream, request: http::encode_request(&self.url, &config.request), written: 0 }
    }
}

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetch").field("url", &self.url.as_str()).field("state", &self.state_name()).finish()
    }
}
