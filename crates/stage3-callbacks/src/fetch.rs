//! Fetching one URL, in callbacks.
//!
//! The steps are stage 1's (connect, send the request, read until the decoder has a response,
//! retry connection failures, give up at the deadline), but no function can wait, so no function
//! can hold the steps together. Instead:
//!
//! * what must survive between callbacks moves into shared objects ([`Fetch`] for the URL across
//!   its tries, [`Attempt`] for one try), kept alive by `Rc` in whichever callbacks are pending;
//! * the request's deadline is a timer in the loop, which must be cancelled when the try ends
//!   first, and which must be told apart from other ways a connection can end;
//! * a failure cannot be returned to a caller (there is none: the loop called us), so it is
//!   passed along as a value, to [`Attempt::finish`], which decides between retrying (scheduled
//!   with `call_soon`) and reporting.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::{Config, ErrorKind, FetchError, Fetched, Outcome};
use url::Url;

use crate::event_loop::{EventLoop, TimerId, WeakEventLoop};
use crate::protocol::{self, Protocol, Transport};

/// Called once with the URL's result.
type OnFetched = Box<dyn FnOnce(&EventLoop, Fetched)>;

// ANCHOR: fetch
/// Fetches `url`, retrying connection-level failures up to `--max-tries` times, and calls
/// `on_done` with the result. Returns at once: the work happens in callbacks.
pub fn fetch(
    lp: &EventLoop,
    url: Url,
    config: Rc<Config>,
    on_done: impl FnOnce(&EventLoop, Fetched) + 'static,
) {
    let fetch = Fetch {
        url,
        config,
        event_loop: lp.downgrade(),
        tries: Cell::new(0),
        on_done: RefCell::new(Some(Box::new(on_done))),
    };
    start_try(lp, Rc::new(fetch));
}

/// One URL across all its tries: what stage 1 kept in local variables.
struct Fetch {
    /// What to fetch.
    url: Url,
    /// Timeout, tries, limits, rules.
    config: Rc<Config>,
    /// For callbacks that are not handed the loop (a protocol's).
    event_loop: WeakEventLoop,
    /// Tries started so far.
    tries: Cell<u32>,
    /// Whoever is waiting for the result; taken when it is delivered.
    on_done: RefCell<Option<OnFetched>>,
}

impl Fetch {
    fn done(&self, lp: &EventLoop, outcome: Outcome) {
        let fetched = Fetched { url: self.url.clone(), outcome, tries: self.tries.get() };
        self.config.log_fetched(&fetched);
        if let Some(on_done) = self.on_done.borrow_mut().take() {
            on_done(lp, fetched);
        }
    }
}

/// Starts one try: resolve, start connecting, arm the deadline timer. Everything after that
/// happens in the protocol's callbacks.
fn start_try(lp: &EventLoop, fetch: Rc<Fetch>) {
    fetch.tries.set(fetch.tries.get() + 1);
    let attempt = Rc::new(Attempt {
        fetch,
        timer: Cell::new(None),
        timed_out: Cell::new(false),
        over: Cell::new(false),
    });
    let addr = match crawl::resolve::socket_addr(&attempt.fetch.url) {
        Ok(addr) => addr,
        Err(error) => return attempt.finish(lp, Err(error)),
    };
    let decoder = ResponseDecoder::new(attempt.fetch.config.limits);
    let protocol = HttpProtocol { attempt: Rc::clone(&attempt), decoder };
    match protocol::connect(lp, addr, protocol) {
        Ok(transport) => {
            // The deadline is a timer in the loop. If it fires first, it aborts the connection,
            // and the protocol learns why from `timed_out`.
            let expired = Rc::clone(&attempt);
            let timer = lp.call_later(attempt.fetch.config.timeout, move |_| {
                expired.timer.set(None);
                expired.timed_out.set(true);
                transport.abort();
            });
            attempt.timer.set(Some(timer));
        }
        Err(error) => attempt.finish(lp, Err(FetchError::from_io(&error))),
    }
}
// ANCHOR_END: fetch

/// One try: shared by the protocol and the deadline timer.
struct Attempt {
    /// The URL this try is for.
    fetch: Rc<Fetch>,
    /// The deadline timer, to cancel when the try ends first.
    timer: Cell<Option<TimerId>>,
    /// Set by the timer before it aborts the connection, so the abort reads as a timeout.
    timed_out: Cell<bool>,
    /// The try has ended; later news (the `connection_lost` after a clean close) is ignored.
    over: Cell<bool>,
}

impl Attempt {
    // ANCHOR: finish
    /// Ends the try with a response or an error: cancel the timer, then report, or retry from a
    /// fresh turn of the loop.
    fn finish(&self, lp: &EventLoop, result: Result<Response, FetchError>) {
        if self.over.replace(true) {
            return;
        }
        if let Some(timer) = self.timer.take() {
            lp.cancel(timer);
        }
        let fetch = &self.fetch;
        match result {
            Ok(response) => {
                fetch.done(lp, Outcome::from_response(&fetch.url, &response, &fetch.config.rules))
            }
            Err(error) => {
                fetch.config.log_failed_try(&fetch.url, fetch.tries.get(), &error);
                if fetch.tries.get() < fetch.config.max_tries && error.kind.is_retryable() {
                    let fetch = Rc::clone(fetch);
                    lp.call_soon(move |lp| start_try(lp, fetch));
                } else {
                    fetch.done(lp, Outcome::Failed { error });
                }
            }
        }
    }
    // ANCHOR_END: finish

    fn finish_later(&self, result: Result<Response, FetchError>) {
        if let Some(lp) = self.fetch.event_loop.upgrade() {
            self.finish(&lp, result);
        }
    }
}

// ANCHOR: protocol
/// The HTTP exchange of one try, as callbacks the loop makes.
struct HttpProtocol {
    /// The try this connection belongs to.
    attempt: Rc<Attempt>,
    /// Everything read so far, as far as the codec is concerned.
    decoder: ResponseDecoder,
}

impl HttpProtocol {
    fn feed(&mut self, transport: &Transport, bytes: &[u8]) {
        match self.decoder.feed(bytes) {
            Ok(Progress::NeedMore) => {}
            Ok(Progress::Done(response)) => {
                transport.close();
                self.attempt.finish_later(Ok(response));
            }
            Err(error) => {
                transport.abort();
                self.attempt.finish_later(Err(error.into()));
            }
        }
    }
}

impl Protocol for HttpProtocol {
    fn connection_made(&mut self, transport: &Transport) {
        transport.write(&http::encode_request(&self.attempt.fetch.url, &self.attempt.fetch.config.request));
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        self.feed(transport, data);
    }

    fn eof_received(&mut self, transport: &Transport) {
        // The codec decides whether the close ends the response (read-to-close) or cuts it short.
        self.feed(transport, &[]);
    }

    fn connection_lost(&mut self, error: Option<io::Error>) {
        // However the connection ended, a try without a response has failed. (After a response,
        // or after the timer, `finish` has already run and ignores this.)
        let error = if self.attempt.timed_out.get() {
            FetchError::timeout()
        } else {
            match error {
                Some(error) => FetchError::from_io(&error),
                None => FetchError::new(ErrorKind::Truncated, "connection closed before the response"),
            }
        };
        self.attempt.finish_later(Err(error));
    }
}
// ANCHOR_END: protocol
