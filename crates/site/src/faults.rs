//! The faults: the ways a real server or network lets a crawler down, made reproducible.
//!
//! Each path under `/fault/` exercises one failure a crawler must survive and report, or one
//! framing it must parse. They all run after the usual latency, on a connection whose request head
//! has been read in full (so that closing it is a FIN, not a surprise RST, unless an RST is the
//! point).
//!
//! Every fault is described once, in [`FAULTS`]: its path, what the client sees, whether the
//! `/fault/` index links it, and the row a crawler's report must give it. The index, the router,
//! the table below (`faults.md`, written by `cargo run -p book-gen -- regen`) and the tests' fault
//! matrix all read that one list. Adding a fault is a row there and a handler in [`perform`].
//!
#![doc = include_str!("faults.md")]
//!
//! The two endless faults are not on the `/fault/` index, so a crawl of the site never meets them
//! and every report of it stays as it was. Tests name them as roots to check that a crawler cuts
//! an oversized response off at its limit instead of buffering it whole: a response that never
//! ends cannot be buffered whole, so a crawler that finishes at all did cut.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout, timeout_at};

use crate::counters::OpenGuard;
use crate::pages;
use crate::routes::{HTML, Reply, Response};
use crate::server::{self, Shared};

// ANCHOR: faults
/// Every fault of the site, in the order the `/fault/` index lists them.
pub const FAULTS: &[FaultSpec] = &[
    FaultSpec {
        path: "/fault/reset",
        sees: "a head promising 1000 bytes, 100 of them, then a reset (RST)",
        on_index: true,
        outcome: Outcome::FailsEveryTry("reset"),
        serve: Serve::Connection(Fault::Reset),
    },
    FaultSpec {
        path: "/fault/truncated",
        sees: "a head promising 1000 bytes, 500 of them, then a clean close (FIN)",
        on_index: true,
        outcome: Outcome::FailsEveryTry("truncated"),
        serve: Serve::Connection(Fault::Truncated),
    },
    FaultSpec {
        path: "/fault/garbage",
        sees: "a line that is not HTTP, then FIN",
        on_index: true,
        outcome: Outcome::FailsEveryTry("malformed"),
        serve: Serve::Connection(Fault::Garbage),
    },
    FaultSpec {
        path: "/fault/trickle",
        sees: "a head that grows by one byte every 100 ms and never ends",
        on_index: true,
        outcome: Outcome::TimesOut,
        serve: Serve::Connection(Fault::Trickle),
    },
    FaultSpec {
        path: "/fault/silent",
        sees: "nothing at all, until the client gives up",
        on_index: true,
        outcome: Outcome::TimesOut,
        serve: Serve::Connection(Fault::Silent),
    },
    FaultSpec {
        path: "/fault/huge",
        sees: "a valid 200 with a `HUGE_BODY_BYTES` body",
        on_index: true,
        // A retry would be just as large, so a crawler reports the body limit on the first try.
        outcome: Outcome::FailsOnce("too-large"),
        serve: Serve::Connection(Fault::Huge),
    },
    FaultSpec {
        path: "/fault/flaky",
        sees: "a reset, a reset, then a 200, and round again (`FLAKY_CYCLE`)",
        on_index: true,
        outcome: Outcome::PageOnTry { links: 1, on_try: FLAKY_CYCLE as u32, before: "reset" },
        serve: Serve::Connection(Fault::Flaky),
    },
    FaultSpec {
        path: "/fault/chunked",
        sees: "a valid 200 in chunked encoding, with a chunk extension and a trailer",
        on_index: true,
        outcome: Outcome::Page { links: 2 },
        serve: Serve::Connection(Fault::Chunked),
    },
    FaultSpec {
        path: "/fault/http10",
        sees: "an HTTP/1.0 response without `Content-Length`: the body ends at close",
        on_index: true,
        outcome: Outcome::Page { links: 1 },
        serve: Serve::Connection(Fault::Http10),
    },
    FaultSpec {
        path: "/fault/latin1",
        sees: "a page in ISO-8859-1 whose link contains the byte 0xE9 (`é`)",
        on_index: true,
        outcome: Outcome::Page { links: 1 },
        serve: Serve::Page(latin1),
    },
    FaultSpec {
        path: LATIN1_LINK,
        sees: "the page `/fault/latin1` links, for a crawler that decoded it as Latin-1",
        on_index: false,
        outcome: Outcome::Page { links: 0 },
        serve: Serve::Page(latin1_link),
    },
    FaultSpec {
        path: "/fault/endless-body",
        sees: "a 200 without a length, then body bytes until the client closes",
        on_index: false,
        outcome: Outcome::NotCrawled,
        serve: Serve::Connection(Fault::EndlessBody),
    },
    FaultSpec {
        path: "/fault/endless-head",
        sees: "a status line, then 1 KiB header lines until the client closes",
        on_index: false,
        outcome: Outcome::NotCrawled,
        serve: Serve::Connection(Fault::EndlessHead),
    },
];
// ANCHOR_END: faults

/// One fault, described once (see [`FAULTS`]).
#[derive(Clone, Copy, Debug)]
pub struct FaultSpec {
    /// The path that serves it.
    pub path: &'static str,
    /// What the client sees, in a phrase: the docs table's second column.
    pub sees: &'static str,
    /// Whether the `/fault/` index links it. A fault that is not on the index is reached only by
    /// a link from another fault, or by a test that names it as a root.
    pub on_index: bool,
    /// What a crawler's report must say of it.
    pub outcome: Outcome,
    /// How it is served.
    serve: Serve,
}

/// How a fault is served: a page like any other, or something done to the connection.
#[derive(Clone, Copy, Debug)]
enum Serve {
    /// An ordinary response, whose content is the lesson.
    Page(fn() -> Response),
    /// Played out by [`perform`].
    Connection(Fault),
}

/// What a crawler's report must say of a fault's URL, as a rule over the crawl's settings: see
/// [`FaultSpec::row`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every try fails with this error kind, so all `--max-tries` are spent.
    FailsEveryTry(&'static str),
    /// Every try runs out of `--timeout`: the fault outlasts any timeout shorter than
    /// [`GIVE_UP_AFTER`], the most it goes on for.
    TimesOut,
    /// The first try fails with this error kind, and a crawler does not try again.
    FailsOnce(&'static str),
    /// A page with this many links, on the first try.
    Page {
        /// The links on the page.
        links: usize,
    },
    /// A page with this many links on try `on_try`; every try before it fails with `before`.
    PageOnTry {
        /// The links on the page.
        links: usize,
        /// The try that gets the page.
        on_try: u32,
        /// The error kind of each try before it.
        before: &'static str,
    },
    /// Nothing links it, so a crawl of the site has no row for it.
    NotCrawled,
}

/// A report row, as [`FaultSpec::row`] predicts it: the text after the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// `error KIND (N tries)`.
    Error {
        /// The error kind, as the report spells it.
        kind: &'static str,
        /// The tries made.
        tries: u32,
    },
    /// `200 text/html  ... BYTES bytes  LINKS links ...`, with `(N tries)` at the end when more
    /// than one try was made.
    Page {
        /// The links the page has.
        links: usize,
        /// The tries made.
        tries: u32,
    },
}

impl FaultSpec {
    /// The row a crawl with `--timeout timeout` and `--max-tries max_tries` must give this fault,
    /// or `None` when it gives none (the fault is not linked) or when this description does not
    /// cover that timeout. It assumes a timeout long enough for an ordinary page of the site.
    pub fn row(&self, timeout: Duration, max_tries: u32) -> Option<Row> {
        let tries = max_tries.max(1);
        match self.outcome {
            Outcome::FailsEveryTry(kind) => Some(Row::Error { kind, tries }),
            Outcome::TimesOut => (timeout < GIVE_UP_AFTER).then_some(Row::Error { kind: "timeout", tries }),
            Outcome::FailsOnce(kind) => Some(Row::Error { kind, tries: 1 }),
            Outcome::Page { links } => Some(Row::Page { links, tries: 1 }),
            Outcome::PageOnTry { links, on_try, before } => Some(if tries >= on_try {
                Row::Page { links, tries: on_try }
            } else {
                Row::Error { kind: before, tries }
            }),
            Outcome::NotCrawled => None,
        }
    }
}

impl Row {
    /// Whether `text`, a report row without its URL, says what this row predicts.
    pub fn matches(&self, text: &str) -> bool {
        let tries = |n: u32| if n == 1 { "1 try".to_owned() } else { format!("{n} tries") };
        match *self {
            Row::Error { kind, tries: n } => text == format!("error {kind} ({})", tries(n)),
            Row::Page { links, tries: n } => {
                let said_tries = text.ends_with(&format!("({})", tries(n)));
                text.starts_with("200 text/html")
                    && text.split("  ").any(|field| field.trim() == format!("{links} links"))
                    && (if n == 1 { !text.ends_with(')') } else { said_tries })
            }
        }
    }
}

/// How many rows of a crawl of the whole site are errors, with these settings: the faults whose
/// [`FaultSpec::row`] is an error (every other URL of the site is a page or a redirect).
pub fn expected_errors(timeout: Duration, max_tries: u32) -> usize {
    let rows = FAULTS.iter().filter_map(|f| f.row(timeout, max_tries));
    rows.filter(|row| matches!(row, Row::Error { .. })).count()
}

/// The table of faults in this crate's docs, as `faults.md` holds it: one row per [`FAULTS`] entry.
pub fn docs_table() -> String {
    let mut table = String::from("| path | what the client sees |\n| --- | --- |\n");
    for fault in FAULTS {
        let sees = if fault.on_index {
            fault.sees.to_owned()
        } else {
            format!("*not on the index*: {}", fault.sees)
        };
        table.push_str(&format!("| `{}` | {sees} |\n", fault.path));
    }
    table
}

/// Where `/fault/latin1`'s link leads: é percent-encoded as UTF-8, which is what a crawler requests
/// when it decoded the page as Latin-1, as its Content-Type says. (Decoding as UTF-8 would have
/// turned the lone 0xE9 into U+FFFD, requested as `caf%EF%BF%BD`, which is a 404 like anything
/// unknown.)
const LATIN1_LINK: &str = "/fault/latin1/caf%C3%A9";

/// `/fault/flaky` fails `FLAKY_CYCLE - 1` times in a row, then succeeds once.
pub const FLAKY_CYCLE: u64 = 3;

/// The body size of `/fault/huge`: larger than any sensible crawler's body limit.
pub const HUGE_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How long the never-ending faults (trickle, silent, endless) go on at most, so that a forgotten
/// client cannot hold a connection forever.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(5 * 60);

/// A fault that needs more than an ordinary [`Response`]: something done to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Part of a response, then RST.
    Reset,
    /// Part of a response, then FIN.
    Truncated,
    /// Not HTTP at all.
    Garbage,
    /// A head that never ends, one byte at a time.
    Trickle,
    /// No answer at all.
    Silent,
    /// A valid but enormous response.
    Huge,
    /// RST, RST, then a valid response, in a cycle.
    Flaky,
    /// A valid response in chunked encoding.
    Chunked,
    /// A valid HTTP/1.0 response framed by closing the connection.
    Http10,
    /// A 200 whose body never ends (not linked).
    EndlessBody,
    /// A head that never ends, as fast as the client reads (not linked).
    EndlessHead,
}

/// The reply for a path under `/fault/` (only asked when faults are on); `None` means 404.
pub(crate) fn route(path: &str) -> Option<Reply> {
    if path == "/fault/" {
        return Some(Reply::Response(Response::html(200, index())));
    }
    // Percent escapes are case-insensitive (RFC 3986, 2.1): `%c3%a9` is the same link.
    let path = if path == "/fault/latin1/caf%c3%a9" { LATIN1_LINK } else { path };
    let fault = FAULTS.iter().find(|fault| fault.path == path)?;
    Some(match fault.serve {
        Serve::Page(page) => Reply::Response(page()),
        Serve::Connection(fault) => Reply::Fault(fault),
    })
}

/// `/fault/`: a page linking every fault.
fn index() -> String {
    let mut html = pages::head("Faults");
    html.push_str("<h1>Faults</h1>\n<ul>\n");
    for path in FAULTS.iter().filter(|fault| fault.on_index).map(|fault| fault.path) {
        html.push_str(&format!("<li><a href=\"{path}\">{path}</a></li>\n"));
    }
    html.push_str("</ul>\n");
    html + pages::TAIL
}

/// [`LATIN1_LINK`]: the page a crawler reaches when it decoded `/fault/latin1` right.
fn latin1_link() -> Response {
    let body = pages::head("Café") + "<p>You decoded Latin-1 correctly.</p>\n" + pages::TAIL;
    Response::html(200, body)
}

/// `/fault/latin1`: a page whose bytes are ISO-8859-1, as its `Content-Type` says (and no
/// `<meta charset>` contradicts it). Written as bytes, not a Rust string: a lone 0xE9 is not
/// UTF-8.
fn latin1() -> Response {
    let body: &[u8] = b"<!doctype html>\n<html lang=\"fr\">\n<head><title>Caf\xE9</title></head>\n<body>\n\
<p>Caf\xE9 au lait.</p>\n<a href=\"/fault/latin1/caf\xE9\">caf\xE9</a>\n</body>\n</html>\n";
    Response { content_type: "text/html; charset=iso-8859-1", ..Response::html(200, body) }
}

/// Plays out `fault` on `stream`, whose request head has been read. `head_only` is true for HEAD
/// requests: the faults that are valid responses then send their head only.
pub(crate) async fn perform(
    fault: Fault,
    mut stream: TcpStream,
    guard: OpenGuard,
    shared: &Shared,
    head_only: bool,
) -> io::Result<()> {
    match fault {
        Fault::Reset => {
            stream.write_all(&promise_1000(100)).await?;
            server::reset(stream, guard)
        }
        Fault::Truncated => {
            stream.write_all(&promise_1000(500)).await?;
            server::finish(stream, guard).await
        }
        Fault::Garbage => {
            stream.write_all(b"SSH-2.0-OpenSSH_9.0 this is not HTTP\r\n\r\n").await?;
            server::finish(stream, guard).await
        }
        Fault::Trickle => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nX-Trickle: ").await?;
            let give_up = Instant::now() + GIVE_UP_AFTER;
            let mut sink = [0u8; 256];
            while Instant::now() < give_up {
                // Wait for the next byte's turn *and* watch the socket: a client that gives up
                // must count as gone at once, not at the next write, or its retry's connection
                // would briefly overlap this one in the open-connections counter.
                tokio::select! {
                    () = sleep(Duration::from_millis(100)) => stream.write_all(b"a").await?,
                    read = stream.read(&mut sink) => match read {
                        Ok(0) | Err(_) => return Ok(()), // the client closed: drop, not linger
                        Ok(_) => {}                       // pipelined bytes: ignored
                    },
                }
            }
            server::finish(stream, guard).await
        }
        Fault::Silent => {
            // Read (and ignore) until the client closes or errors; never write a byte.
            let mut sink = [0u8; 256];
            let _ =
                timeout(GIVE_UP_AFTER, async { while let Ok(1..) = stream.read(&mut sink).await {} }).await;
            server::finish(stream, guard).await
        }
        Fault::Huge => huge(stream, guard, head_only).await,
        Fault::Flaky => {
            let n = shared.next_flaky();
            if n % FLAKY_CYCLE != FLAKY_CYCLE - 1 {
                return server::reset(stream, guard);
            }
            let body = pages::head("Flaky")
                + "<p>Third time lucky.</p>\n<a href=\"/page/0\">Page 0</a>\n"
                + pages::TAIL;
            server::respond(stream, guard, &Response::html(200, body), head_only).await
        }
        Fault::Chunked => chunked(stream, guard, head_only).await,

        Fault::Http10 => {
            let mut bytes = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n".to_vec();
            if !head_only {
                bytes.extend_from_slice(pages::head("HTTP/1.0").as_bytes());
                bytes.extend_from_slice(
                    b"<p>No Content-Length: this body ends when the connection does.</p>\n",
                );
                bytes.extend_from_slice(b"<a href=\"/page/3\">Page 3</a>\n");
                bytes.extend_from_slice(pages::TAIL.as_bytes());
            }
            stream.write_all(&bytes).await?;
            server::finish(stream, guard).await
        }
        Fault::EndlessBody => {
            // No `Content-Length` and no chunking: the body runs to the close (RFC 9112 6.3),
            // and this server never closes first. A reply to HEAD has no body, so it ends.
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nConnection: close\r\n\r\n");
            if head_only {
                stream.write_all(head.as_bytes()).await?;
                return server::finish(stream, guard).await;
            }
            endless(stream, guard, head.as_bytes(), b"<p>This body never ends.</p>\n").await
        }
        Fault::EndlessHead => {
            // Lines of 1 KiB: a client's head limit (16 KiB by default) is crossed long before
            // its header-count limit (64), so the client must see "too large", not "malformed".
            let line = format!("X-Endless: {}\r\n", "a".repeat(1024 - "X-Endless: \r\n".len()));
            endless(stream, guard, b"HTTP/1.1 200 OK\r\n", line.as_bytes()).await
        }
    }
}

/// Sends `start`, then `line` over and over until the client closes the connection (its kernel
/// answers further data with RST, and a write fails) or [`GIVE_UP_AFTER`] has passed.
async fn endless(mut stream: TcpStream, guard: OpenGuard, start: &[u8], line: &[u8]) -> io::Result<()> {
    stream.write_all(start).await?;
    // About 64 KiB per write: few system calls, and the client is never short of bytes.
    let chunk = line.repeat(64 * 1024 / line.len());
    let give_up = Instant::now() + GIVE_UP_AFTER;
    // The deadline also bounds each write, which waits as long as the client does not read.
    while let Ok(written) = timeout_at(give_up, stream.write_all(&chunk)).await {
        written?; // the client has gone: `?` drops the socket and the connection's counter slot
    }
    server::finish(stream, guard).await
}

/// A 200 head promising a 1000-byte body, followed by only the first `sent` bytes of it.
fn promise_1000(sent: usize) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    let body = pages::head("Incomplete") + &"<p>This body never arrives whole.</p>\n".repeat(30);
    bytes.extend_from_slice(&body.as_bytes()[..sent]);
    bytes
}

/// `/fault/huge`: a valid response, just far too big, streamed so the server never holds it.
async fn huge(mut stream: TcpStream, guard: OpenGuard, head_only: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nContent-Length: {HUGE_BODY_BYTES}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        const CHUNK: usize = 64 * 1024;
        let line = b"<p>This body is far larger than any page should be.</p>\n";
        let chunk: Vec<u8> = line.iter().copied().cycle().take(CHUNK).collect();
        for _ in 0..HUGE_BODY_BYTES / CHUNK {
            // A client that stopped reading makes this fail (or wait); `?` ends the connection.
            stream.write_all(&chunk).await?;
        }
    }
    server::finish(stream, guard).await
}

/// `/fault/chunked`: a valid response in chunked encoding, the framing a client must decode
/// when there is no `Content-Length`.
async fn chunked(mut stream: TcpStream, guard: OpenGuard, head_only: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {HTML}\r\nTransfer-Encoding: chunked\r\n\
         Trailer: X-Checksum\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    if head_only {
        return server::finish(stream, guard).await;
    }
    let title = pages::head("Chunked");
    let parts = [
        (title.as_str(), ""),
        ("<p>This body arrives in chunks.</p>\n<a href=\"/page/1\">Page 1</a>\n", ";ext=1"),
        ("<a href=\"/page/2\">Page 2</a>\n", ""),
        (pages::TAIL, ""),
    ];
    // One write per chunk, so a client that decodes incrementally sees them arrive separately.
    for (data, extension) in parts {
        let chunk = format!("{:x}{extension}\r\n{data}\r\n", data.len());
        stream.write_all(chunk.as_bytes()).await?;
    }
    // The last chunk has size 0 and is followed by trailer fields, then an empty line.
    stream.write_all(b"0\r\nX-Checksum: none\r\n\r\n").await?;
    server::finish(stream, guard).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_table_is_the_fault_list() {
        // `cargo run -p book-gen -- regen` rewrites it.
        assert_eq!(include_str!("faults.md"), docs_table(), "crates/site/src/faults.md is stale");
    }

    #[test]
    fn every_path_is_routed_once() {
        for (i, fault) in FAULTS.iter().enumerate() {
            assert!(route(fault.path).is_some(), "{}", fault.path);
            assert!(FAULTS[i + 1..].iter().all(|other| other.path != fault.path), "{} twice", fault.path);
        }
    }

    #[test]
    fn rows_follow_the_settings() {
        let flaky = FAULTS.iter().find(|f| f.path == "/fault/flaky").unwrap();
        let second = Duration::from_secs(1);
        assert_eq!(flaky.row(second, 4), Some(Row::Page { links: 1, tries: FLAKY_CYCLE as u32 }));
        assert_eq!(flaky.row(second, 2), Some(Row::Error { kind: "reset", tries: 2 }));
        let silent = FAULTS.iter().find(|f| f.path == "/fault/silent").unwrap();
        assert_eq!(silent.row(GIVE_UP_AFTER, 4), None, "a timeout the fault does not outlast");
        assert!(Row::Error { kind: "reset", tries: 4 }.matches("error reset (4 tries)"));
        assert!(!Row::Error { kind: "reset", tries: 4 }.matches("error reset (3 tries)"));
        let page = "200 text/html       166 bytes   1 links   0 new";
        assert!(Row::Page { links: 1, tries: 1 }.matches(page));
        assert!(!Row::Page { links: 2, tries: 1 }.matches(page));
        assert!(!Row::Page { links: 1, tries: 3 }.matches(page));
        assert!(Row::Page { links: 1, tries: 3 }.matches(&format!("{page} (3 tries)")));
    }
}
