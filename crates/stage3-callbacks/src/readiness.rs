//! What a source is watched for ([`Interest`]) and what the poller reported of it ([`Ready`]):
//! the two words of the event loop's registration contract (see [`crate::event_loop`]).

use std::fmt;

/// What a source should be watched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest {
    /// Wake when a read would not block (bytes, EOF, an error, or a connection to accept).
    pub readable: bool,
    /// Wake when a write would not block (buffer space, or a nonblocking connect finished).
    pub writable: bool,
}

impl Interest {
    /// Wake when the source is readable.
    pub const READ: Interest = Interest { readable: true, writable: false };
    /// Wake when the source is writable.
    pub const WRITE: Interest = Interest { readable: false, writable: true };
    /// Wake when it is either.
    pub const BOTH: Interest = Interest { readable: true, writable: true };
    /// Registered but disarmed.
    pub const NONE: Interest = Interest { readable: false, writable: false };
}

/// What the poller reported for a source. Either flag may be set spuriously (see the contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ready {
    /// The source was reported readable.
    pub readable: bool,
    /// The source was reported writable.
    pub writable: bool,
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.readable, self.writable) {
            (true, true) => "readable+writable",
            (true, false) => "readable",
            (false, true) => "writable",
            (false, false) => "no readiness",
        })
    }
}
