//! The chunked transfer coding (RFC 9112 section 7.1), decoded a few bytes at a time.
//!
//! A chunked body is a series of `SIZE[;extensions]\r\n DATA \r\n`, ended by a chunk of size 0,
//! optional trailer lines, and an empty line. Sizes are hexadecimal. The decoder keeps only the
//! line it is in the middle of (bounded by `max_head`); chunk data goes straight into the body.

use super::{HttpError, Limits};

/// Decodes a chunked body across any number of feeds.
#[derive(Debug, Default)]
pub(super) struct ChunkedDecoder {
    /// What the next bytes are.
    state: Part,
    /// The chunk-size or trailer line read so far, kept until its `\n` arrives.
    line: Vec<u8>,
    /// Bytes of trailer lines already skipped, so that the trailers as a whole are bounded.
    trailers_len: usize,
}

/// The part of the chunked body the next bytes belong to.
#[derive(Debug, Default)]
enum Part {
    /// A chunk-size line: `1a;name=value\r\n`.
    #[default]
    Size,
    /// Chunk data.
    Data {
        /// Bytes of this chunk not yet received.
        remaining: usize,
    },
    /// The `\r` that must follow chunk data.
    DataCr,
    /// The `\n` that must follow chunk data.
    DataLf,
    /// Trailer lines, until an empty line.
    Trailers,
    /// The empty line after the trailers has been read: the body is complete.
    Done,
}

impl ChunkedDecoder {
    /// Decodes `input`, appending chunk data to `body`; returns whether the body is complete.
    ///
    /// Bytes after the end of the body are ignored.
    pub(super) fn decode(
        &mut self,
        mut input: &[u8],
        body: &mut Vec<u8>,
        limits: &Limits,
    ) -> Result<bool, HttpError> {
        loop {
            match &mut self.state {
                Part::Size => {
                    if !read_line(&mut self.line, &mut input, limits.max_head, limits.max_head)? {
                        return Ok(false);
                    }
                    let size = parse_size(&self.line)?;
                    self.line.clear();
                    // Refuse the chunk as soon as its size is known to cross the limit, so the
                    // body never holds more than `max_body` bytes.
                    let room = limits.max_body.saturating_sub(body.len());
                    self.state = match usize::try_from(size) {
                        Ok(0) => Part::Trailers,
                        Ok(size) if size <= room => Part::Data { remaining: size },
                        _ => {
                            return Err(HttpError::BodyTooLarge { limit: limits.max_body });
                        }
                    };
                }
                Part::Data { remaining } => {
                    if input.is_empty() {
                        return Ok(false);
                    }
                    let (data, rest) = input.split_at(input.len().min(*remaining));
                    body.extend_from_slice(data);
                    *remaining -= data.len();
                    input = rest;
                    if *remaining == 0 {
                        self.state = Part::DataCr;
                    }
                }
                Part::DataCr | Part::DataLf => {
                    let Some((&byte, rest)) = input.split_first() else {
                        return Ok(false);
                    };
                    input = rest;
                    // A missing CRLF means the size was wrong: the data cannot be trusted.
                    self.state = match (&self.state, byte) {
                        (Part::DataCr, b'\r') => Part::DataLf,
                        (Part::DataLf, b'\n') => Part::Size,
                        _ => {
                            let why = "chunk data not followed by CRLF";
                            return Err(HttpError::Malformed(why.into()));
                        }
                    };
                }
                Part::Trailers => {
                    // The trailer section shares one budget, however many lines it has.
                    let budget = limits.max_head.saturating_sub(self.trailers_len);
                    if !read_line(&mut self.line, &mut input, budget, limits.max_head)? {
                        return Ok(false);
                    }
                    // Trailer fields are skipped: the crawler needs nothing from them.
                    if self.line == b"\r\n" || self.line == b"\n" {
                        self.state = Part::Done;
                    } else {
                        self.trailers_len += self.line.len();
                        self.line.clear();
                    }
                }
                Part::Done => return Ok(true),
            }
        }
    }
}

/// Moves bytes from `input` into `line` up to and including the first `\n`; returns whether the
/// line is complete.
///
/// A line longer than `max` bytes is `HeadTooLarge { limit }`. At most one byte past `max` is ever
/// copied, so a peer that never sends `\n` cannot make the line grow.
fn read_line(line: &mut Vec<u8>, input: &mut &[u8], max: usize, limit: usize) -> Result<bool, HttpError> {
    // Saturating, as in the head reader: `max` may be `usize::MAX`.
    let room = max.saturating_add(1).saturating_sub(line.len());
    // Only look as far as the line may reach: a long read of chunk data is not scanned here.
    let reach = input.len().min(room);
    let (len, complete) = match input[..reach].iter().position(|&byte| byte == b'\n') {
        Some(newline) => (newline + 1, true),
        None => (reach, false),
    };
    let (taken, rest) = input.split_at(len);
    line.extend_from_slice(taken);
    *input = rest;
    if line.len() > max {
        return Err(HttpError::HeadTooLarge { limit });
    }
    Ok(complete)
}

/// The size in a whole chunk-size line (ending in `\n`).
fn parse_size(line: &[u8]) -> Result<u64, HttpError> {
    let invalid = || HttpError::Malformed("invalid chunk size line".into());
    // httparse reads an empty line as size 0, which would silently end the body: require a digit.
    if !line.first().is_some_and(u8::is_ascii_hexdigit) {
        return Err(invalid());
    }
    match httparse::parse_chunk_size(line) {
        Ok(httparse::Status::Complete((_, size))) => Ok(size),
        // Partial despite the `\n`: a bare LF, which httparse treats as part of an extension.
        Ok(httparse::Status::Partial) | Err(httparse::InvalidChunkSize) => Err(invalid()),
    }
}
