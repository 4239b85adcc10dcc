//! The response decoder, [`crawl::http::ResponseDecoder`], under generated input:
//!
//! 1. no bytes, however split into reads and under whatever limits, make it panic; the end of stream
//!    always ends it (a result or an error, never "need more" forever); once finished it refuses more;
//! 2. a valid response (any status, headers and body; framed by `Content-Length`, chunked with
//!    extensions and trailers, or read to the close; after interim 1xx responses or not) decodes to
//!    exactly what was generated, however the reads split it, and on the read it must;
//! 3. `max_head` and `max_body` fail a response exactly when a part of it exceeds them, and an endless
//!    stream is refused on the very read that crosses the limit: the decoder never buffers more.

use crawl::http::{HttpError, Limits, Progress, Response, ResponseDecoder};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::config;
use crate::response::{Framing, Generated, generated, mangled};

/// `input` cut at the points `cuts` pick (in any order, repeats allowed), never into empty pieces:
/// an empty read means end of stream.
fn split<'a>(input: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(input.len().max(1))).collect();
    points.push(input.len());
    points.sort_unstable();
    points.dedup();
    let mut start = 0;
    let pieces = points.into_iter().map(|end| &input[std::mem::replace(&mut start, end)..end]);
    pieces.filter(|piece| !piece.is_empty()).collect()
}

/// Where the response (or error) came out: after read `Some(i)`, or `None` at the end of stream.
type Fed = (Result<Response, HttpError>, Option<usize>);

/// Feeds `pieces` until the decoder finishes, then the end of stream if it still needs more.
fn feed_all(limits: Limits, pieces: &[&[u8]]) -> Result<Fed, TestCaseError> {
    let mut decoder = ResponseDecoder::new(limits);
    let mut fed = None;
    for (read, piece) in pieces.iter().enumerate() {
        match decoder.feed(piece) {
            Ok(Progress::NeedMore) => continue,
            Ok(Progress::Done(response)) => fed = Some((Ok(response), Some(read))),
            Err(err) => fed = Some((Err(err), Some(read))),
        }
        break;
    }
    let fed = match fed {
        Some(fed) => fed,
        None => match decoder.feed(b"") {
            Ok(Progress::Done(response)) => (Ok(response), None),
            Ok(Progress::NeedMore) => return Err(TestCaseError::fail("need more after the end of stream")),
            Err(err) => (Err(err), None),
        },
    };
    // A finished decoder says so instead of panicking or making up a second response.
    prop_assert!(decoder.feed(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
    prop_assert!(decoder.feed(b"").is_err());
    Ok(fed)
}

/// Cut points for [`split`]: none, a few, or (sometimes) every byte.
fn cuts() -> impl Strategy<Value = (Vec<Index>, bool)> {
    (vec(any::<Index>(), 0..16), proptest::bool::weighted(0.1))
}

// ---------------------------------------------------------------------------------------------
// Property 1: any bytes

/// Limits as small as a few bytes (every check fires), moderate, and as large as a `usize` goes
/// (`--max-body` accepts any `usize`, and `Limits`' fields are public).
fn any_limits() -> impl Strategy<Value = Limits> {
    let size = || prop_oneof![0..80usize, 80..2000usize, Just(usize::MAX)];
    let chosen = (size(), size()).prop_map(|(max_head, max_body)| Limits { max_head, max_body });
    prop_oneof![Just(Limits::default()), chosen]
}

proptest! {
    #![proptest_config(config(512))]

    /// Property 1: no input panics the decoder, with or without the end of stream after it.
    #[test]
    fn any_bytes_in_any_reads_never_panic(
        input in prop_oneof![vec(any::<u8>(), 0..300), mangled()],
        (cuts, bytewise) in cuts(),
        end_of_stream in any::<bool>(),
        limits in any_limits(),
    ) {
        let pieces = if bytewise { input.chunks(1).collect() } else { split(&input, &cuts) };
        if end_of_stream {
            // Ends in a result or an error, never in "need more", and then refuses more input.
            let _result = feed_all(limits, &pieces)?;
        } else {
            let mut decoder = ResponseDecoder::new(limits);
            for piece in pieces {
                if !matches!(decoder.feed(piece), Ok(Progress::NeedMore)) {
                    prop_assert!(decoder.feed(b"more").is_err());
                    prop_assert!(decoder.feed(b"").is_err());
                    break;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties 2 and 3: valid responses, under default and near limits

/// Generated responses decode as the model says, whole and split, and finish on the read they must.
fn check(generated: &Generated, cuts: &[Index], bytewise: bool, limits: Limits) -> Result<(), TestCaseError> {
    let input = generated.encode();
    let expected = generated.expected(limits);
    let pieces = if bytewise { input.chunks(1).collect() } else { split(&input, cuts) };
    let (whole, _) = feed_all(limits, &[&input])?;
    let (result, on_read) = feed_all(limits, &pieces)?;
    prop_assert_eq!(&whole, &expected);
    prop_assert_eq!(&result, &expected);
    if expected.is_ok() && matches!(generated.framing, Framing::Close) {
        // Only the close can end a body without a length.
        prop_assert_eq!(on_read, None);
    } else if expected.is_ok() {
        // A body with a length is complete on the read of its last byte, without waiting for a close
        // that a keep-alive server would never send.
        prop_assert_eq!(on_read, Some(pieces.len() - 1));
    } else {
        // A limit is reported when it is crossed, not at the close.
        prop_assert!(on_read.is_some());
    }
    Ok(())
}

/// A limit near `size`: just under, at, just over, or anywhere up to twice it.
fn near(size: usize) -> impl Strategy<Value = usize> {
    prop_oneof![Just(size.saturating_sub(1)), Just(size), Just(size + 1), 0..=2 * size + 1]
}

proptest! {
    #![proptest_config(config(256))]

    /// Property 2: a valid response decodes to what was generated, however it is split.
    #[test]
    fn valid_responses_decode_to_what_was_sent(generated in generated(), (cuts, bytewise) in cuts()) {
        prop_assert!(generated.expected(Limits::default()).is_ok(), "generated sizes fit the defaults");
        check(&generated, &cuts, bytewise, Limits::default())?;
    }

    /// Property 3: a limit fails the response exactly when some part of it exceeds the limit, and
    /// reports which limit. The limits are chosen around the generated sizes to hit the boundaries.
    #[test]
    fn limits_fail_exactly_the_responses_over_them(
        (generated, max_head, max_body) in generated().prop_flat_map(|generated| {
            // The smallest limits it fits in.
            let head = generated.head_bounded_sizes().into_iter().max().unwrap_or(0);
            let body = generated.body.len();
            (Just(generated), near(head), near(body))
        }),
        (cuts, bytewise) in cuts(),
    ) {
        check(&generated, &cuts, bytewise, Limits { max_head, max_body })?;
    }
}

// ---------------------------------------------------------------------------------------------
// Property 3, the bound: endless streams

const CLOSE_HEAD: &[u8] = b"HTTP/1.0 200 OK\r\n\r\n";
const CHUNKED_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

/// A hostile peer that never stops: `prefix`, then `filler` repeated forever.
#[derive(Debug)]
struct Endless {
    prefix: Vec<u8>,
    filler: &'static [u8],
    limits: Limits,
    error: HttpError,
    /// The offset of the first byte that puts the stream over the limit.
    crossing: usize,
}

/// Each way a stream can exceed a limit without end, with `limit` bytes allowed in the bounded part.
fn endless(kind: usize, limit: usize) -> Endless {
    let head =
        |max_head| (Limits { max_head, ..Limits::default() }, HttpError::HeadTooLarge { limit: max_head });
    let body =
        |max_body| (Limits { max_body, ..Limits::default() }, HttpError::BodyTooLarge { limit: max_body });
    // In the chunked kinds the head must fit, so `max_head` is its size plus `limit`.
    let chunked = CHUNKED_HEAD.len();
    let (prefix, filler, (limits, error), crossing): (_, &[u8], _, _) = match kind {
        // A head whose last header never ends.
        0 => (b"HTTP/1.1 200 OK\r\nX-Endless: ".to_vec(), b"a", head(limit), limit),
        // A body read to a close that never comes.
        1 => (CLOSE_HEAD.to_vec(), b"body", body(limit), CLOSE_HEAD.len() + limit),
        // A chunk-size line whose extension never ends.
        2 => ([CHUNKED_HEAD, b"1;"].concat(), b"e", head(chunked + limit), 2 * chunked + limit),
        // Trailer lines, but never the empty line that ends them: the section as a whole is bounded.
        3 => ([CHUNKED_HEAD, b"0\r\n"].concat(), b"T: 1\r\n", head(chunked + limit), 2 * chunked + 3 + limit),
        // Chunks of 16 bytes forever: refused on the size line of the first that would not fit.
        _ => (
            CHUNKED_HEAD.to_vec(),
            b"10\r\n0123456789abcdef\r\n",
            body(limit),
            chunked + 22 * (limit / 16) + 3,
        ),
    };
    Endless { prefix, filler, limits, error, crossing }
}

proptest! {
    #![proptest_config(config(256))]

    /// Property 3, the bound: fed an endless stream in reads of any sizes, the decoder needs more
    /// until the read that crosses the limit, and that read fails. So it never holds more than the
    /// limit plus one read: nothing is buffered whole.
    #[test]
    fn endless_streams_fail_on_the_read_that_crosses_the_limit(
        stream in (0..5usize, 0..1500usize).prop_map(|(kind, limit)| endless(kind, limit)),
        sizes in vec(1..200usize, 1..8),
    ) {
        let byte_at = |at: usize| match stream.prefix.get(at) {
            Some(&byte) => byte,
            None => stream.filler[(at - stream.prefix.len()) % stream.filler.len()],
        };
        let mut decoder = ResponseDecoder::new(stream.limits);
        let mut start = 0;
        for size in sizes.iter().cycle() {
            let read: Vec<u8> = (start..start + size).map(byte_at).collect();
            let result = decoder.feed(&read);
            start += size;
            if start <= stream.crossing {
                prop_assert!(matches!(result, Ok(Progress::NeedMore)), "{:?} before the limit", result);
            } else {
                prop_assert_eq!(result.err(), Some(stream.error));
                break;
            }
        }
    }
}

// Regressions found by `any_bytes_in_any_reads_never_panic`, kept as plain tests.

/// `max_head: usize::MAX` ("no limit") overflowed `max_head + 1` in the head reader and the chunk
/// line reader: a panic in debug builds, and in release a reader that never took a byte.
#[test]
fn unbounded_head_limit_does_not_overflow() {
    let limits = Limits { max_head: usize::MAX, max_body: usize::MAX };
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nT: 1\r\n\r\n";
    let (result, on_read) = feed_all(limits, &[input]).unwrap();
    assert_eq!(result.unwrap().body, b"ok");
    assert_eq!(on_read, Some(0));
}

/// Under `--max-body 18446744073709551615`, a declared `Content-Length` of 9954251834207097368 was
/// reserved up front: `reserve_exact` panicked with "capacity overflow" (and a smaller absurd length
/// would abort the process out of memory). Now it is only tried, and the truncated body reported.
#[test]
fn absurd_content_length_under_an_unbounded_body_limit_is_not_allocated() {
    let limits = Limits { max_head: 1024, max_body: usize::MAX };
    for length in ["9954251834207097368", "1099511627776000"] {
        let input = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\nabc");
        let (result, on_read) = feed_all(limits, &[input.as_bytes()]).unwrap();
        assert_eq!((result, on_read), (Err(HttpError::Truncated), None));
    }
}
