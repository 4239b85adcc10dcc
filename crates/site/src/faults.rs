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

use std::time::Duration;

pub(crate) use crate::fault_handlers::{Fault, perform};
use crate::pages;
use crate::routes::{Reply, Response};

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
