//! Where the body ends (RFC 9112 section 6.3), and reading it up to there.

use super::chunked::ChunkedDecoder;
use super::{Head, HttpError, Limits};

/// How the end of the body is found.
#[derive(Debug)]
pub(super) enum Framing {
    /// `Content-Length`: this many body bytes are still to come.
    Length {
        /// Bytes not yet received.
        remaining: usize,
    },
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedDecoder),
    /// Neither: the body ends when the server closes the connection.
    UntilClose,
}

impl Framing {
    /// How the body of the final response `head` ends, or `None` if it has no body.
    pub(super) fn for_head(head: &Head, limits: &Limits) -> Result<Option<Framing>, HttpError> {
        // These statuses never have a body, whatever the headers say (a 304's `Content-Length`
        // describes the resource, not this message).
        if (100..200).contains(&head.status) || head.status == 204 || head.status == 304 {
            return Ok(None);
        }
        // `Transfer-Encoding` overrides `Content-Length`. Its codings are listed in the order they
        // were applied, possibly across several header lines, so chunked must be the last one;
        // otherwise only the close of the connection can end the body.
        if has_header(&head.headers, "transfer-encoding") {
            let chunked = header_list(&head.headers, "transfer-encoding")
                .last()
                .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"));
            return Ok(Some(if chunked {
                Framing::Chunked(ChunkedDecoder::default())
            } else {
                Framing::UntilClose
            }));
        }
        let Some(length) = content_length(&head.headers)? else {
            return Ok(Some(Framing::UntilClose));
        };
        // Refuse before reading any of the body: there is no point downloading it.
        match usize::try_from(length) {
            Ok(length) if length <= limits.max_body => Ok(Some(Framing::Length { remaining: length })),
            _ => Err(HttpError::BodyTooLarge { limit: limits.max_body }),
        }
    }

    /// Appends the body bytes in `input` to `body`; returns whether the body is complete.
    ///
    /// `eof` says the connection has closed: that completes a body read to the close, and truncates
    /// any other.
    pub(super) fn decode(
        &mut self,
        input: &[u8],
        eof: bool,
        body: &mut Vec<u8>,
        limits: &Limits,
    ) -> Result<bool, HttpError> {
        let complete = match self {
            Framing::Length { remaining } => {
                // Bytes past the declared length belong to nobody; they are ignored.
                let data = &input[..input.len().min(*remaining)];
                body.extend_from_slice(data);
                *remaining -= data.len();
                *remaining == 0
            }
            Framing::UntilClose => {
                // Refuse the read that crosses the limit, before copying it.
                if input.len() > limits.max_body.saturating_sub(body.len()) {
                    return Err(HttpError::BodyTooLarge { limit: limits.max_body });
                }
                body.extend_from_slice(input);
                eof
            }
            Framing::Chunked(chunked) => chunked.decode(input, body, limits)?,
        };
        if !complete && eof {
            return Err(HttpError::Truncated);
        }
        Ok(complete)
    }
}

/// Whether any header line has this name.
fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
}

/// The trimmed, non-empty elements of a comma-separated header, over every line with that name.
fn header_list<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|element| !element.is_empty())
}

/// The `Content-Length`, if any.
///
/// Repeats of one value (`5, 5`, or two lines) are accepted, as RFC 9110 section 8.6 allows.
/// Differing values or a non-number are malformed: guessing which length is right is how request
/// smuggling happens.
fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, HttpError> {
    let mut length = None;
    for element in header_list(headers, "content-length") {
        // `u64::from_str` accepts a leading `+`, which HTTP does not.
        if !element.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(HttpError::Malformed(format!("invalid Content-Length {element:?}")));
        }
        // All digits, so the only possible failure is overflow: a length that is surely too large.
        let value = element.parse().unwrap_or(u64::MAX);
        if length.is_some_and(|length| length != value) {
            return Err(HttpError::Malformed("conflicting Content-Length values".into()));
        }
        length = Some(value);
    }
    // A `Content-Length` line with no number in it is as wrong as one with letters.
    if length.is_none() && has_header(headers, "content-length") {
        return Err(HttpError::Malformed("empty Content-Length".into()));
    }
    Ok(length)
}
