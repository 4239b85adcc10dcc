//! Why a fetch failed, as data.
//!
//! A failed URL is a row in the report, never a panic. The row names the [`ErrorKind`] and how many
//! tries were spent; the free-text detail (which differs between operating systems and between
//! stages, e.g. "Connection reset by peer (os error 104)") goes to stderr only, so that every stage
//! prints the same report.

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};

/// The kind of failure: the part of an error that every stage agrees on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The host name did not resolve to an address.
    Dns,
    /// The connection could not be made (refused, unreachable).
    Connect,
    /// The request did not finish within `--timeout`.
    Timeout,
    /// The peer reset the connection (RST) before the response was complete.
    Reset,
    /// The peer closed the connection cleanly (FIN) before the response was complete.
    Truncated,
    /// The bytes received are not an HTTP/1.x response.
    Malformed,
    /// The response head or body is larger than the configured limit.
    TooLarge,
    /// Any other I/O error.
    Io,
}

impl ErrorKind {
    /// The name used in the report.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Malformed => "malformed",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Io => "io",
        }
    }

    /// Whether another try could succeed. Connection-level failures are retried (up to
    /// `--max-tries`); a response that is too large will be just as large next time.
    pub fn is_retryable(self) -> bool {
        !matches!(self, ErrorKind::TooLarge | ErrorKind::Dns)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One failed try: the kind for the report and a detail for humans.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchError {
    /// What went wrong, in the words every stage shares.
    pub kind: ErrorKind,
    /// The underlying message (OS error text, parser complaint); printed on stderr with `-v`.
    pub detail: String,
}

impl FetchError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        FetchError { kind, detail: detail.into() }
    }

    /// Classifies an I/O error from a socket call.
    ///
    /// `TimedOut` maps to [`ErrorKind::Timeout`]. `WouldBlock` is *not* mapped here on purpose: on a
    /// blocking socket with a read timeout it means "timed out", on a nonblocking socket it means
    /// "try again later", and only the stage knows which socket it has.
    pub fn from_io(err: &io::Error) -> Self {
        use io::ErrorKind as K;
        let kind = match err.kind() {
            K::TimedOut => ErrorKind::Timeout,
            K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
                ErrorKind::Connect
            }
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ErrorKind::Reset,
            K::UnexpectedEof => ErrorKind::Truncated,
            _ => ErrorKind::Io,
        };
        FetchError::new(kind, err.to_string())
    }

    /// The error for a request that ran out of time.
    pub fn timeout() -> Self {
        FetchError::new(ErrorKind::Timeout, "request timed out")
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for FetchError {}

impl From<io::Error> for FetchError {
    fn from(err: io::Error) -> Self {
        FetchError::from_io(&err)
    }
}
