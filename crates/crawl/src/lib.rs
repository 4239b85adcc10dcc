//! Everything in the crawler that is **not** waiting.
//!
//! Each stage of async-evolution (blocking threads, busy-polling, callbacks, generators,
//! async/await, tokio) differs only in how it *waits*. What it waits *for*, and every call that
//! never waits, lives here, written once:
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | the command line every stage shares (clap) and its validation |
//! | [`rules`] | which URLs may be crawled: scheme, host matching, `--exclude` |
//! | [`http`] | a sans-IO HTTP/1.1 client codec: the request's bytes out, bytes in, a response out |
//! | [`socket`] | the nonblocking calls: starting a connect, finishing it, telling "not yet" from an error, and an `accept` out of descriptors |
//! | [`tries`] | what a finished try means: the URL's result, or another try |
//! | [`links`] | charset decoding and `href` extraction |
//! | [`outcome`] | what one fetched URL turned into (page, redirect, error) |
//! | [`interrupt`] | Ctrl-C: noticed once here, acted on by each stage in its own way |
//! | [`resolve`] | host to socket address: at once for an IP address, a blocking lookup for each stage to run off its thread |
//! | [`frontier`] | the shared crawl state: seen set, queue, finished records |
//! | [`descriptors`] | how many requests fit under the open-file limit, for `--max-tasks` |
//! | [`demo`] | the one flag the asyncio notes' example programs take (`--unit-ms`, `--latency-ms`) |
//! | [`timeline`] | `--timeline FILE`: what the crawl did over time, for Perfetto; costs nothing when off |
//! | [`report`] | the report every stage prints, byte-identical apart from the time |
//! | [`log!`] | a line on stderr that a closed stderr cannot turn into a panic |
//! | [`exit`] | ending with one line and a status, not a panic: a resource refused ([`or_exit`]), a closed stdout |
//!
//! A stage's loop, whatever its shape, is:
//!
//! ```text
//! frontier = Frontier::new(&config)
//! while let Some(job) = frontier.pop():          // at most --max-tasks at once
//!     loop:                                       // one try after another
//!         bytes = encode_request(&job.url, &config.request)   // write them (stage-specific waiting)
//!         decoder.feed(read())... until Done      // read (stage-specific waiting)
//!         match config.end_try(..): Retry => continue, Finished(fetched) => break
//!     frontier.complete(job, fetched)             // new links join the queue
//! print(frontier.into_report())
//! ```

/// Writes a line on stderr, like `eprintln!`, except that a stderr that is closed (`2>&1 | head`)
/// is ignored instead of panicking: progress and traces must never cost a crawl its report, and a
/// worker thread that panicked would leave stage 1's other threads waiting for its job forever.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log_line(::std::format_args!($($arg)*))
    };
}

/// What [`log!`] calls.
#[doc(hidden)]
pub fn log_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

pub mod config;
pub mod demo;
pub mod descriptors;
pub mod error;
pub mod exit;
pub mod frontier;
pub mod http;
pub mod interrupt;
pub mod links;
pub mod outcome;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod socket;
pub mod timeline;
pub mod tries;

pub use config::{Config, CrawlArgs};
pub use error::{ErrorKind, FetchError};
pub use exit::or_exit;
pub use frontier::{Frontier, Job};
pub use outcome::{Fetched, Outcome};
pub use report::Report;
pub use rules::Rules;
pub use tries::TryEnd;
