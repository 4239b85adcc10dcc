//! Tests for the sans-IO HTTP/1.1 codec in `crawl::http`.
//!
//! Most tests go through [`decode`], which feeds the same bytes whole, one byte at a time, and split
//! in two at every point, and insists that all of them give the same result: a codec whose answer
//! depends on how the kernel happened to chop the stream would make the five stages disagree.

use crawl::http::{HttpError, Limits, Progress, RequestOptions, Response, ResponseDecoder, encode_request};
use url::Url;

// ---------------------------------------------------------------------------------------------
// Helpers

/// Feeds `chunks` in order, then an end of stream if the response still needs more.
fn feed_chunks<'a>(
    limits: Limits,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Response, HttpError> {
    let mut decoder = ResponseDecoder::new(limits);
    let mut result = None;
    for chunk in chunks {
        // An empty chunk means end of stream, so a split must never produce one.
        assert!(!chunk.is_empty());
        match decoder.feed(chunk) {
            Ok(Progress::NeedMore) => {}
            Ok(Progress::Done(response)) => {
                result = Some(Ok(response));
                break;
            }
            Err(err) => {
                result = Some(Err(err));
                break;
            }
        }
    }
    let result = result.unwrap_or_else(|| match decoder.feed(b"") {
        Ok(Progress::Done(response)) => Ok(response),
        Ok(Progress::NeedMore) => panic!("NeedMore after the end of stream"),
        Err(err) => Err(err),
    });
    // A finished decoder refuses more input instead of panicking or inventing a response.
    assert!(decoder.feed(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
    assert!(decoder.feed(b"").is_err());
    result
}

/// Decodes `input` whole, byte by byte and split at every point; all must agree.
fn decode_with(limits: Limits, input: &[u8]) -> Result<Response, HttpError> {
    let whole = feed_chunks(limits, (!input.is_empty()).then_some(input));
    let bytewise = feed_chunks(limits, input.chunks(1));
    assert_eq!(whole, bytewise, "whole vs one byte at a time");
    if input.len() <= 4096 {
        for split in 1..input.len() {
            let (first, second) = input.split_at(split);
            let halves = feed_chunks(limits, [first, second]);
            assert_eq!(whole, halves, "whole vs split at {split}");
        }
    }
    whole
}

fn decode(input: &[u8]) -> Result<Response, HttpError> {
    decode_with(Limits::default(), input)
}

fn limits(max_head: usize, max_body: usize) -> Limits {
    Limits { max_head, max_body }
}

fn malformed(result: Result<Response, HttpError>) -> String {
    match result {
        Err(HttpError::Malformed(why)) => why,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// Feeds `input` whole without an end of stream.
fn feed_once(limits: Limits, input: &[u8]) -> Result<Progress, HttpError> {
    ResponseDecoder::new(limits).feed(input)
}

// ---------------------------------------------------------------------------------------------
// encode_request

fn request(url: &str) -> String {
    String::from_utf8(encode_request(&Url::parse(url).unwrap(), &RequestOptions::default())).unwrap()
}

fn expected(target: &str, host: &str) -> String {
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: async-evolution/0.1\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    )
}

#[test]
fn request_without_port() {
    assert_eq!(request("http://example.com"), expected("/", "example.com"));
    assert_eq!(request("http://example.com:80/a/b"), expected("/a/b", "example.com"));
}

#[test]
fn request_with_port() {
    assert_eq!(request("http://127.0.0.1:8000/x"), expected("/x", "127.0.0.1:8000"));
}

#[test]
fn request_with_query() {
    assert_eq!(request("http://h:81/p?a=1&b=%20"), expected("/p?a=1&b=%20", "h:81"));
    // An empty query is still a query: the server may tell `/p?` from `/p`.
    assert_eq!(request("http://h/p?"), expected("/p?", "h"));
}

#[test]
fn request_never_sends_fragment_or_userinfo() {
    assert_eq!(request("http://u:pw@h/p?q#frag"), expected("/p?q", "h"));
    assert_eq!(request("http://h/p#frag"), expected("/p", "h"));
}

#[test]
fn request_brackets_ipv6() {
    assert_eq!(request("http://[::1]:8080/"), expected("/", "[::1]:8080"));
    assert_eq!(request("http://[::1]/"), expected("/", "[::1]"));
}

#[test]
fn request_carries_the_configured_user_agent() {
    let options = RequestOptions::new("crawler-test/2 (+http://example.com)").unwrap();
    let request = String::from_utf8(encode_request(&Url::parse("http://h/").unwrap(), &options)).unwrap();
    assert!(request.contains("\r\nUser-Agent: crawler-test/2 (+http://example.com)\r\n"), "{request}");
}

#[test]
fn a_user_agent_that_could_inject_headers_is_refused() {
    for bad in ["", "  ", "x\r\nX-Injected: 1", "tab\there", "nul\0"] {
        let error = RequestOptions::new(bad).unwrap_err();
        assert!(error.contains("--user-agent") && !error.contains('\n'), "{bad:?}: {error}");
    }
}

// ---------------------------------------------------------------------------------------------
// Response accessors

fn with_content_type(value: &str) -> Response {
    Response {
        version: 1,
        status: 200,
        headers: vec![("Server".into(), "x".into()), ("content-TYPE".into(), value.into())],
        body: Vec::new(),
    }
}

#[test]
fn header_is_case_insensitive_and_first_wins() {
    let response = decode(b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert_eq!(response.header("x-A"), Some("1"));
    assert_eq!(response.header("CONTENT-LENGTH"), Some("0"));
    assert_eq!(response.header("x-b"), None);
    assert_eq!(response.headers[1], ("x-a".to_owned(), "2".to_owned()));
}

#[test]
fn content_type_and_charset() {
    let response = with_content_type(r#"Text/HTML; Charset="ISO-8859-1""#);
    assert_eq!(response.content_type().as_deref(), Some("text/html"));
    assert_eq!(response.charset().as_deref(), Some("iso-8859-1"));

    let response = with_content_type("text/plain ;format=flowed; charset = UTF-8 ");
    assert_eq!(response.content_type().as_deref(), Some("text/plain"));
    assert_eq!(response.charset().as_deref(), Some("utf-8"));

    let response = with_content_type("application/json");
    assert_eq!(response.content_type().as_deref(), Some("application/json"));
    assert_eq!(response.charset(), None);

    let response = with_content_type("text/html; charset=\"\"");
    assert_eq!(response.charset(), None);

    let mut response = with_content_type("");
    assert_eq!(response.content_type(), None);
    response.headers.clear();
    assert_eq!(response.content_type(), None);
    assert_eq!(response.charset(), None);
}

// ---------------------------------------------------------------------------------------------
// Content-Length

#[test]
fn content_length_body() {
    let response =
        decode(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello").unwrap();
    assert_eq!(response.version, 1);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello");
    assert_eq!(response.headers.len(), 2);
    assert_eq!(response.headers[0], ("Content-Length".to_owned(), "5".to_owned()));
}

#[test]
fn content_length_completes_without_end_of_stream() {
    let progress = feed_once(Limits::default(), b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert!(matches!(progress, Ok(Progress::Done(r)) if r.body == b"ok"));
    let progress = feed_once(Limits::default(), b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert!(matches!(progress, Ok(Progress::Done(r)) if r.status == 404 && r.body.is_empty()));
}

#[test]
fn bytes_after_the_response_are_ignored() {
    let response =
        decode(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 500 Oops\r\n\r\n").unwrap();
    assert_eq!(response.body, b"abc");
    let response = decode(b"HTTP/1.1 204 No Content\r\n\r\ntrailing junk").unwrap();
    assert!(response.body.is_empty());
}

#[test]
fn binary_body_is_byte_exact() {
    let body: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let mut input = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    input.extend_from_slice(&body);
    assert_eq!(decode(&input).unwrap().body, body);
}

#[test]
fn repeated_equal_content_lengths_are_accepted() {
    let response = decode(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\nok").unwrap();
    assert_eq!(response.body, b"ok");
}

#[test]
fn conflicting_content_lengths_are_malformed() {
    let why = malformed(decode(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"));
    assert!(why.contains("conflicting"), "{why}");
    malformed(decode(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nabc"));
}

#[test]
fn invalid_content_lengths_are_malformed() {
    for value in ["+2", "-1", "0x2", "2 2", "two", "", ","] {
        let input = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\nok");
        malformed(decode(input.as_bytes()));
    }
}

// ---------------------------------------------------------------------------------------------
// Chunked

#[test]
fn chunked_body() {
    let input =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    assert_eq!(decode(input).unwrap().body, b"hello, world");
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        A;name=value;other=\"q;uoted\"\r\n0123456789\r\n\
        1f \t;ext\r\nabcdefghijklmnopqrstuvwxyz\r\n\r\n!\r\n\
        0;last\r\nExpires: never\r\nX-Checksum: abc\r\n\r\nignored";
    let response = decode(input).unwrap();
    // The data may itself contain CRLF: only the size says where a chunk ends.
    assert_eq!(response.body, b"0123456789abcdefghijklmnopqrstuvwxyz\r\n\r\n!");
    // Trailers are skipped, not added to the headers.
    assert_eq!(response.header("expires"), None);
}

#[test]
fn chunked_completes_without_end_of_stream() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    assert!(matches!(feed_once(Limits::default(), input), Ok(Progress::Done(r)) if r.body == b"ok"));
    // Without the final empty line the body is not over yet.
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n";
    assert!(matches!(feed_once(Limits::default(), input), Ok(Progress::NeedMore)));
}

#[test]
fn chunked_is_found_case_insensitively_and_overrides_content_length() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip\r\n\
        transfer-encoding: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    assert_eq!(decode(input).unwrap().body, b"ok");
}

#[test]
fn transfer_encoding_not_ending_in_chunked_reads_to_close() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 1\r\n\r\n2\r\nok";
    assert_eq!(decode(input).unwrap().body, b"2\r\nok");
}

#[test]
fn chunk_data_without_crlf_is_malformed() {
    let why =
        malformed(decode(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n"));
    assert!(why.contains("CRLF"), "{why}");
    malformed(decode(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\rX0\r\n\r\n"));
}

#[test]
fn bad_chunk_sizes_are_malformed() {
    for size in ["", "g", "-1", " 1", "1x", "1\n", "12345678901234567"] {
        let input = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nx\r\n0\r\n\r\n");
        let why = malformed(decode(input.as_bytes()));
        assert!(why.contains("chunk size"), "{size:?}: {why}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bodiless statuses and interim responses

#[test]
fn no_body_for_204_and_304() {
    for status in ["204 No Content", "304 Not Modified"] {
        // The Content-Length of a 304 describes the full representation, not this message.
        let input = format!("HTTP/1.1 {status}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        let progress = feed_once(Limits::default(), input.as_bytes());
        assert!(matches!(progress, Ok(Progress::Done(r)) if r.body.is_empty()), "{status}");
        let response = decode(input.as_bytes()).unwrap();
        assert_eq!(response.status.to_string(), status[..3]);
        assert!(response.body.is_empty());
    }
}

#[test]
fn interim_responses_are_skipped() {
    let input = b"HTTP/1.1 100 Continue\r\n\r\n\
        HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nhi";
    let response = decode(input).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-final"), Some("yes"));
    assert_eq!(response.header("link"), None);
    assert_eq!(response.body, b"hi");
}

#[test]
fn end_of_stream_after_interim_response_is_truncated() {
    assert_eq!(decode(b"HTTP/1.1 100 Continue\r\n\r\n"), Err(HttpError::Truncated));
}

#[test]
fn switching_protocols_is_final_and_bodiless() {
    let input = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
    let response = decode(input).unwrap();
    assert_eq!(response.status, 101);
    assert!(response.body.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Read to close

#[test]
fn http10_reads_to_close() {
    let input = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>body\r\n\r\nstill body</p>";
    let response = decode(input).unwrap();
    assert_eq!(response.version, 0);
    assert_eq!(response.body, b"<p>body\r\n\r\nstill body</p>");
    // Until the close, the decoder cannot know the body is over.
    assert!(matches!(feed_once(Limits::default(), input), Ok(Progress::NeedMore)));
}

#[test]
fn empty_body_read_to_close() {
    let response = decode(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").unwrap();
    assert!(response.body.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Truncation

#[test]
fn truncated_in_every_mode() {
    let cases: &[&[u8]] = &[
        b"H",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n",
    ];
    for input in cases {
        assert_eq!(decode(input), Err(HttpError::Truncated), "{:?}", input.escape_ascii().to_string());
    }
}

#[test]
fn end_of_stream_before_any_byte_is_truncated() {
    let mut decoder = ResponseDecoder::new(Limits::default());
    assert_eq!(decoder.feed(b"").unwrap_err(), HttpError::Truncated);
}

// ---------------------------------------------------------------------------------------------
// Limits

const SMALL_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";

#[test]
fn head_exactly_at_the_limit_is_accepted() {
    let mut input = SMALL_HEAD.to_vec();
    input.extend_from_slice(b"ok");
    let response = decode_with(limits(SMALL_HEAD.len(), 100), &input).unwrap();
    assert_eq!(response.body, b"ok");
}

#[test]
fn head_over_the_limit() {
    let mut input = SMALL_HEAD.to_vec();
    input.extend_from_slice(b"ok");
    let limit = SMALL_HEAD.len() - 1;
    assert_eq!(decode_with(limits(limit, 100), &input), Err(HttpError::HeadTooLarge { limit }));
    // A head that never ends is refused once it passes the limit, without waiting for more.
    let endless = format!("HTTP/1.1 200 OK\r\nX: {}", "a".repeat(200));
    let progress = feed_once(limits(100, 100), endless.as_bytes());
    assert_eq!(progress.unwrap_err(), HttpError::HeadTooLarge { limit: 100 });
    assert_eq!(
        decode_with(limits(100, 100), endless.as_bytes()),
        Err(HttpError::HeadTooLarge { limit: 100 })
    );
}

#[test]
fn too_many_headers_is_malformed() {
    let mut input = String::from("HTTP/1.1 200 OK\r\n");
    for i in 0..=Limits::MAX_HEADERS {
        input.push_str(&format!("X-{i}: {i}\r\n"));
    }
    input.push_str("\r\n");
    malformed(decode(input.as_bytes()));
}

#[test]
fn declared_content_length_over_the_limit_fails_before_the_body() {
    // Only the head is fed: the error must not wait for any body byte.
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
    assert_eq!(feed_once(limits(1000, 10), head).unwrap_err(), HttpError::BodyTooLarge { limit: 10 });
    let huge = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n";
    assert_eq!(feed_once(limits(1000, 10), huge).unwrap_err(), HttpError::BodyTooLarge { limit: 10 });
    // Exactly at the limit is fine.
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    assert_eq!(decode_with(limits(1000, 10), input).unwrap().body, b"0123456789");
}

#[test]
fn chunked_body_over_the_limit() {
    let at_limit =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n";
    assert_eq!(decode_with(limits(1000, 10), at_limit).unwrap().body, b"0123456789");
    let over = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789A\r\n0\r\n\r\n";
    assert_eq!(decode_with(limits(1000, 10), over), Err(HttpError::BodyTooLarge { limit: 10 }));
    // The chunk that crosses the limit is refused as soon as its size is read.
    let head_and_size = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n";
    assert_eq!(
        feed_once(limits(1000, 10), head_and_size).unwrap_err(),
        HttpError::BodyTooLarge { limit: 10 }
    );
}

#[test]
fn chunk_lines_and_trailers_are_bounded_by_the_head_limit() {
    let long_extension = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;{}\r\nx\r\n0\r\n\r\n",
        "e".repeat(200)
    );
    let result = decode_with(limits(100, 1000), long_extension.as_bytes());
    assert_eq!(result, Err(HttpError::HeadTooLarge { limit: 100 }));
    let many_trailers = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n{}\r\n",
        "T: 123456\r\n".repeat(20)
    );
    let result = decode_with(limits(100, 1000), many_trailers.as_bytes());
    assert_eq!(result, Err(HttpError::HeadTooLarge { limit: 100 }));
}

#[test]
fn read_to_close_body_over_the_limit() {
    let at_limit = b"HTTP/1.0 200 OK\r\n\r\n0123456789";
    assert_eq!(decode_with(limits(1000, 10), at_limit).unwrap().body, b"0123456789");
    // The error comes when the limit is crossed, not at the close.
    let over = b"HTTP/1.0 200 OK\r\n\r\n0123456789A";
    assert_eq!(feed_once(limits(1000, 10), over).unwrap_err(), HttpError::BodyTooLarge { limit: 10 });
    assert_eq!(decode_with(limits(1000, 10), over), Err(HttpError::BodyTooLarge { limit: 10 }));
}

// ---------------------------------------------------------------------------------------------
// Not HTTP

#[test]
fn garbage_is_malformed() {
    let cases: &[&[u8]] = &[
        b"SSH-2.0-OpenSSH_9.0 this is not HTTP\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
    ];
    for input in cases {
        let why = malformed(decode(input));
        assert!(!why.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Size and robustness

/// A small deterministic pseudo-random generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn large_bodies_in_every_framing() {
    let body: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let limits = limits(1024, body.len());

    let mut with_length = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    with_length.extend_from_slice(&body);

    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(10_000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");

    let mut to_close = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
    to_close.extend_from_slice(&body);

    // Reads of irregular sizes, as a socket delivers them.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for input in [&with_length, &chunked, &to_close] {
        let mut pieces = Vec::new();
        let mut rest = &input[..];
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(rest.len().min(1 + rng.below(20_000)));
            pieces.push(piece);
            rest = tail;
        }
        assert_eq!(feed_chunks(limits, pieces).unwrap().body, body);
        assert_eq!(feed_chunks(limits, [&input[..]]).unwrap().body, body);
    }
}

#[test]
fn mangled_responses_never_panic_and_agree_across_splits() {
    let seeds: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nbody",
    ];
    let alphabet = b"\r\n:; 0aF\x00\xffHTTP/1.";
    let mut rng = Rng(42);
    for _ in 0..300 {
        let mut input = seeds[rng.below(seeds.len())].to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(input.len());
            let byte = alphabet[rng.below(alphabet.len())];
            match rng.below(3) {
                0 => input[at] = byte,
                1 => input.insert(at, byte),
                _ => {
                    input.remove(at);
                }
            }
        }
        let small = limits(40 + rng.below(40), rng.below(10));
        decode_with(small, &input).ok();
        decode(&input).ok();
    }
}
