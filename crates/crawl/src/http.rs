//! A sans-IO HTTP/1.1 client codec: bytes in, "need more" or a whole response out.
//!
//! No function here touches a socket. A stage encodes the request with [`encode_request`] (the URL and
//! the [`RequestOptions`] in its config), writes the
//! bytes however it waits (blocking, busy-poll, callbacks, futures), and feeds every chunk it reads
//! to a [`ResponseDecoder`] until the decoder says [`Progress::Done`]. An empty chunk means the peer
//! closed the connection (what `read` returning 0 means). Because the codec never waits, the stage
//! diffs show nothing but the waiting.
//!
//! ```
//! use crawl::http::{encode_request, Limits, Progress, RequestOptions, ResponseDecoder};
//! let url = url::Url::parse("http://127.0.0.1:8000/a?b=1").unwrap();
//! let request = encode_request(&url, &RequestOptions::default());
//! assert!(request.starts_with(b"GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"));
//!
//! let mut decoder = ResponseDecoder::new(Limits::default());
//! assert!(matches!(decoder.feed(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), Progress::NeedMore));
//! match decoder.feed(b"ngth: 2\r\n\r\nhi").unwrap() {
//!     Progress::Done(response) => assert_eq!(response.body, b"hi"),
//!     Progress::NeedMore => unreachable!(),
//! }
//! ```
//!
//! Framing follows RFC 9112 section 6.3: no body for 1xx/204/304; `Transfer-Encoding: chunked`
//! (extensions and trailers are skipped); `Content-Length`; otherwise the body runs to the close of
//! the connection (HTTP/1.0 style). Interim 1xx responses are skipped. Sizes are bounded by
//! [`Limits`]: a head or body over its limit is an error as soon as the limit is crossed (or, for a
//! declared `Content-Length`, before any of the body is read), so a hostile peer cannot make the
//! decoder buffer more than the limit.

use std::fmt;

use url::Url;

mod body;
mod chunked;
mod head;

use body::Framing;
use head::{Head, HeadReader};

/// Size bounds for one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes in the status line plus headers (and, for chunked bodies, in a chunk-size line or
    /// the trailers).
    pub max_head: usize,
    /// Most bytes in the decoded body.
    pub max_body: usize,
}

impl Limits {
    /// The default head limit: 16 KiB, generous for any real server.
    pub const DEFAULT_MAX_HEAD: usize = 16 * 1024;
    /// The default body limit (also `--max-body`'s default): 1 MiB.
    pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
    /// Most header lines; httparse needs a fixed-size array.
    pub const MAX_HEADERS: usize = 64;
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_head: Self::DEFAULT_MAX_HEAD, max_body: Self::DEFAULT_MAX_BODY }
    }
}

/// What a request carries besides its URL: every option of the request, in one place.
///
/// Each stage hands `&config.request` to [`encode_request`] at its write step, so a new header or
/// option is a change to this type and to `encode_request` only: no stage's code moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestOptions {
    /// The `User-Agent` header's value (`--user-agent`); never contains a control character.
    pub user_agent: String,
}

impl RequestOptions {
    /// The `User-Agent` sent when `--user-agent` is not given.
    pub const DEFAULT_USER_AGENT: &'static str = "async-evolution/0.1";

    /// Options with `user_agent`, refused (one line, for after `error: `) if it could not be sent
    /// as a header value: empty, or with a control character (a CR or LF would end the header and
    /// let the value write headers of its own).
    pub fn new(user_agent: &str) -> Result<RequestOptions, String> {
        if user_agent.trim().is_empty() || user_agent.chars().any(char::is_control) {
            return Err(format!(
                "--user-agent {user_agent:?} must be non-empty text without control characters"
            ));
        }
        Ok(RequestOptions { user_agent: user_agent.to_string() })
    }
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions { user_agent: Self::DEFAULT_USER_AGENT.to_string() }
    }
}

/// The bytes of `GET url HTTP/1.1` with `Host`, `User-Agent`, `Accept` and `Connection: close`.
///
/// The crawler opens one connection per request and asks the server to close it after the
/// response, so a connection is exactly one request in flight (which is what the fixture site's
/// connection counter measures). The fragment is never sent.
pub fn encode_request(url: &Url, options: &RequestOptions) -> Vec<u8> {
    // `path()` and `query()` are already percent-encoded by `url`, and the fragment is a separate
    // accessor, so leaving it out is all it takes not to send it.
    let path = match url.path() {
        "" => "/",
        path => path,
    };
    let query = url.query().map(|query| format!("?{query}")).unwrap_or_default();
    // `host_str()` writes IPv6 addresses in brackets, as `Host` needs them, and omits userinfo.
    let host = url.host_str().unwrap_or_default();
    // `port()` is `None` when the URL has its scheme's default port (80 for http), and then
    // `Host` carries no port either.
    let port = url.port().map(|port| format!(":{port}")).unwrap_or_default();
    let user_agent = &options.user_agent;
    format!(
        "GET {path}{query} HTTP/1.1\r\n\
         Host: {host}{port}\r\n\
         User-Agent: {user_agent}\r\n\
         Accept: */*\r\n\
         Connection: close\r\n\
         \r\n"
    )
    .into_bytes()
}

/// A complete response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The status code.
    pub status: u16,
    /// Header names and values in the order received (values decoded lossily as UTF-8).
    pub headers: Vec<(String, String)>,
    /// The decoded body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        // Header names are case-insensitive (RFC 9110 section 5.1) and always ASCII.
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The media type without parameters, lowercased: `text/html` for `Text/HTML; charset=UTF-8`.
    pub fn content_type(&self) -> Option<String> {
        // `split` always yields at least one piece, so `next()` is the media type.
        let media_type = self.header("content-type")?.split(';').next()?.trim();
        (!media_type.is_empty()).then(|| media_type.to_ascii_lowercase())
    }

    /// The `charset` parameter of `Content-Type`, lowercased and unquoted.
    pub fn charset(&self) -> Option<String> {
        // Parameters follow the media type as `; name=value`; names are case-insensitive and the
        // value may be a quoted string (RFC 9110 section 5.6.6).
        let value = self
            .header("content-type")?
            .split(';')
            .skip(1)
            .filter_map(|parameter| parameter.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))?
            .1
            .trim();
        let value = value.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(value).trim();
        (!value.is_empty()).then(|| value.to_ascii_lowercase())
    }
}

/// What the decoder needs after a chunk of input.
#[derive(Debug)]
pub enum Progress {
    /// The response is not complete: read more and feed it.
    NeedMore,
    /// The response is complete. Bytes after it (there should be none with `Connection: close`)
    /// are ignored.
    Done(Response),
}

/// Why a response could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// The bytes are not HTTP/1.x (bad status line, bad header, bad chunk size, conflicting lengths).
    Malformed(String),
    /// The connection closed before the response was complete.
    Truncated,
    /// The head (or a chunk line, or the trailers) exceeded `Limits::max_head`.
    HeadTooLarge {
        /// The `max_head` that was exceeded.
        limit: usize,
    },
    /// The body exceeded `Limits::max_body` (or declared a `Content-Length` over it).
    BodyTooLarge {
        /// The `max_body` that was exceeded.
        limit: usize,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Malformed(why) => write!(f, "malformed response: {why}"),
            HttpError::Truncated => f.write_str("connection closed before the response was complete"),
            HttpError::HeadTooLarge { limit } => write!(f, "response head over {limit} bytes"),
            HttpError::BodyTooLarge { limit } => write!(f, "response body over {limit} bytes"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for crate::FetchError {
    fn from(err: HttpError) -> Self {
        use crate::ErrorKind;
        let kind = match err {
            HttpError::Malformed(_) => ErrorKind::Malformed,
            HttpError::Truncated => ErrorKind::Truncated,
            HttpError::HeadTooLarge { .. } | HttpError::BodyTooLarge { .. } => ErrorKind::TooLarge,
        };
        crate::FetchError::new(kind, err.to_string())
    }
}

/// Decodes one response from the chunks a stage reads off the socket.
#[derive(Debug)]
pub struct ResponseDecoder {
    /// The size bounds this response must stay within.
    limits: Limits,
    /// Which part of the response the next bytes belong to.
    state: State,
    /// Collects and parses the head (of the final response, or of an interim one).
    head: HeadReader,
    /// The body decoded so far; body bytes are appended here as they arrive, never re-copied.
    body: Vec<u8>,
}

/// Where a [`ResponseDecoder`] is in the response.
#[derive(Debug)]
enum State {
    /// Reading a status line and headers.
    Head,
    /// Reading the body of the final response.
    Body {
        /// The parsed head, kept until the body is complete.
        head: Head,
        /// How the end of the body is found.
        framing: Framing,
    },
    /// A response was returned or an error reported: there is nothing more to decode.
    Finished,
}

impl ResponseDecoder {
    /// A decoder for one response, bounded by `limits`.
    pub fn new(limits: Limits) -> Self {
        ResponseDecoder { limits, state: State::Head, head: HeadReader::default(), body: Vec::new() }
    }

    // ANCHOR: feed
    /// Feeds the next chunk read from the connection; an empty `bytes` means end of stream.
    ///
    /// After `Ok(Progress::Done(_))` or any `Err`, the decoder is finished and must not be fed again.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Progress, HttpError> {
        let progress = self.step(bytes);
        // Whatever ends the response (a result or an error) ends the decoder, so a stage that
        // feeds it again gets an error rather than a second, made-up response.
        if !matches!(progress, Ok(Progress::NeedMore)) {
            self.state = State::Finished;
        }
        progress
    }
    // ANCHOR_END: feed

    /// One feed's worth of work; `feed` marks the decoder finished when this does not need more.
    fn step(&mut self, bytes: &[u8]) -> Result<Progress, HttpError> {
        // The end of stream is told by the caller's empty chunk, not by running out of `input`.
        let eof = bytes.is_empty();
        let mut input = bytes;
        loop {
            match &mut self.state {
                State::Finished => {
                    return Err(HttpError::Malformed("decoder already finished".into()));
                }
                State::Head => {
                    let Some(head) = self.head.read(&mut input, self.limits.max_head)? else {
                        return if eof { Err(HttpError::Truncated) } else { Ok(Progress::NeedMore) };
                    };
                    // An interim response announces the real one, which follows on the same
                    // connection: go round again for the next head.
                    if head.is_interim() {
                        continue;
                    }
                    let Some(framing) = Framing::for_head(&head, &self.limits)? else {
                        return Ok(Progress::Done(head.into_response(Vec::new())));
                    };
                    if let Framing::Length { remaining } = framing {
                        // The exact size is known (and within the limit): allocate once. Only
                        // try, though: the size is the peer's claim, and under a huge
                        // `--max-body` a plain `reserve_exact` panics (capacity overflow) or
                        // aborts (out of memory) on it. If it fails, the body grows as it arrives.
                        let _ = self.body.try_reserve_exact(remaining);
                    }
                    // The head reader may already hold the first body bytes: decode them first,
                    // then whatever is left of `input`.
                    let early_body = self.head.take_rest();
                    self.state = State::Body { head, framing };
                    if let Progress::Done(response) = self.read_body(&early_body, false)? {
                        return Ok(Progress::Done(response));
                    }
                }
                State::Body { .. } => return self.read_body(input, eof),
            }
        }
    }

    /// Decodes body bytes; `eof` says the connection has closed.
    fn read_body(&mut self, input: &[u8], eof: bool) -> Result<Progress, HttpError> {
        let State::Body { framing, .. } = &mut self.state else {
            return Err(HttpError::Malformed("decoder is not reading a body".into()));
        };
        if !framing.decode(input, eof, &mut self.body, &self.limits)? {
            return Ok(Progress::NeedMore);
        }
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Body { head, .. } => {
                let body = std::mem::take(&mut self.body);
                Ok(Progress::Done(head.into_response(body)))
            }
            _ => Err(HttpError::Malformed("decoder is not reading a body".into())),
        }
    }
}
