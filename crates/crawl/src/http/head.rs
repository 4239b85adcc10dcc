//! The status line and headers, parsed by httparse.

use super::{HttpError, Limits, Response};

/// Buffers the bytes of a head until httparse can parse all of it.
///
/// httparse cannot resume where it stopped, so an incomplete head is parsed again from its first
/// byte on the next feed. That is cheap because a head is small and bounded by `max_head`; body
/// bytes never go through here (except the few that arrive in the same read as the head).
#[derive(Debug, Default)]
pub(super) struct HeadReader {
    /// The head received so far, plus any bytes after it. Never longer than `max_head + 1`.
    buf: Vec<u8>,
}

/// The status line and headers of a response, owned (httparse only borrows from the buffer).
#[derive(Debug)]
pub(super) struct Head {
    /// The minor HTTP version.
    pub(super) version: u8,
    /// The status code.
    pub(super) status: u16,
    /// Names and values in the order received.
    pub(super) headers: Vec<(String, String)>,
}

impl HeadReader {
    /// Takes bytes from `input` (never past `max_head + 1` buffered) and parses them; returns the
    /// head once complete, keeping only the bytes after it.
    pub(super) fn read(&mut self, input: &mut &[u8], max_head: usize) -> Result<Option<Head>, HttpError> {
        // One byte over the limit is enough to know the head is too large. Saturating, because
        // `usize::MAX` ("no limit") + 1 would overflow: a panic in debug, and in release a room of 0
        // that would never take a byte.
        let room = max_head.saturating_add(1).saturating_sub(self.buf.len());
        let (taken, rest) = input.split_at(room.min(input.len()));
        self.buf.extend_from_slice(taken);
        *input = rest;

        let mut headers = [httparse::EMPTY_HEADER; Limits::MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        let head_len = match parsed.parse(&self.buf) {
            Ok(httparse::Status::Complete(head_len)) => head_len,
            Ok(httparse::Status::Partial) if self.buf.len() > max_head => {
                return Err(HttpError::HeadTooLarge { limit: max_head });
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            // Including too many headers: httparse's fixed array is full.
            Err(err) => return Err(HttpError::Malformed(err.to_string())),
        };
        // A head that ends on the byte past the limit is still too large; checking here makes a
        // head that arrives whole fail exactly like one that arrives in pieces.
        if head_len > max_head {
            return Err(HttpError::HeadTooLarge { limit: max_head });
        }
        let head = Head {
            // A complete parse always has both; the defaults only keep this free of panics.
            version: parsed.version.unwrap_or(1),
            status: parsed.code.unwrap_or(0),
            headers: parsed
                .headers
                .iter()
                .map(|header| {
                    let value = String::from_utf8_lossy(header.value).into_owned();
                    (header.name.to_owned(), value)
                })
                .collect(),
        };
        // What follows is the next head (after an interim response) or the start of the body.
        self.buf.drain(..head_len);
        Ok(Some(head))
    }

    /// The bytes received after the last head: the start of the body.
    pub(super) fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

impl Head {
    /// Whether this is an interim response (`100 Continue`, `103 Early Hints`) that announces the
    /// real one. `101 Switching Protocols` is final: the connection now speaks another protocol.
    pub(super) fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// The whole response, with this head and `body`.
    pub(super) fn into_response(self, body: Vec<u8>) -> Response {
        Response { version: self.version, status: self.status, headers: self.headers, body }
    }
}
