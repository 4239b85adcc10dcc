//! Property tests of the `crawl` crate's HTTP decoder and link handling: proptest generates
//! inputs, hundreds per run, and shrinks any failure to a small example. `tests/http.rs` and the
//! unit tests check cases picked by hand; these check rules that must hold for every input.
//!
//! * [`http`]: the sans-IO response decoder never panics on any bytes in any reads; a valid response
//!   (built by [`response`]) decodes to exactly what was sent however it is split; `max_head` and
//!   `max_body` fail exactly the responses over them, on the read that crosses them.
//! * [`links`]: charset decoding, href extraction, URL joining and root parsing never panic, and
//!   `page_links` only ever yields http URLs on the root's host and port, without fragments.
//!
//! The seed is fixed, so every run (and CI) tries the same cases and a failure is never a matter of
//! luck. A failure, once found, is also saved in `proptest-regressions/props.txt` and replayed
//! before the generated cases; the ones kept there are real bugs this file found.

mod http;
mod links;
mod response;

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// proptest's defaults, with `cases` cases, a fixed seed and this crate's regressions file.
fn config(cases: u32) -> Config {
    // `Direct`, because proptest's default place for it assumes a `src/` next to the test.
    const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/props.txt");
    let failure_persistence = Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS)) as Box<_>);
    Config { cases, rng_seed: RngSeed::Fixed(8), failure_persistence, ..Config::default() }
}
