//! What happens when a try ends: the retry policy, written once for every stage.
//!
//! A fetch makes tries until one settles the URL. Each stage waits for its tries in its own way,
//! but what a finished try means is the same everywhere, so [`Config::end_try`] decides it:
//!
//! * a whole response settles the URL: a page or a redirect, with its links;
//! * a failure is reported on stderr, then tried again while tries are left, unless trying
//!   again cannot help ([`ErrorKind::is_retryable`](crate::ErrorKind::is_retryable): a name that
//!   does not resolve, a response over the size limit) or Ctrl-C has been pressed (the failure is
//!   then the interruption's doing);
//! * otherwise the last failure settles it.
//!
//! A try that ran out of time is a failure like any other (`FetchError::timeout()`); how a stage
//! notices its deadline is the stage's own business.

use url::Url;

use crate::ErrorKind;
use crate::config::Config;
use crate::error::FetchError;
use crate::http::Response;
use crate::interrupt;
use crate::outcome::{Fetched, Outcome};
use crate::timeline;

/// What comes after a try.
#[derive(Debug)]
#[must_use = "a try's end says whether to try again"]
pub enum TryEnd {
    /// The try failed and another may succeed: start the next one.
    Retry,
    /// The URL is settled: this is its result (already logged with `-v`).
    Finished(Fetched),
}

impl Config {
    // ANCHOR: end_try
    /// Ends try number `tries` of `url`, which produced `result`: another try, or the URL's result.
    pub fn end_try(&self, url: &Url, tries: u32, result: Result<Response, FetchError>) -> TryEnd {
        debug_assert!(
            tries <= self.max_tries,
            "{url}: try {tries} of {}: a try was started twice",
            self.max_tries
        );
        let outcome = match result {
            Ok(response) => Outcome::from_response(url, &response, &self.rules),
            Err(error) => {
                self.log_failed_try(url, tries, &error);
                if tries < self.max_tries && error.kind.is_retryable() && !interrupt::requested() {
                    record_try_end(url, tries, Err(&error), true);
                    return TryEnd::Retry;
                }
                Outcome::Failed { error }
            }
        };
        record_try_end(url, tries, Ok(&outcome), false);
        let fetched = Fetched { url: url.clone(), outcome, tries };
        self.log_fetched(&fetched);
        TryEnd::Finished(fetched)
    }
    // ANCHOR_END: end_try
}

/// Closes the try in the timeline (`--timeline`), with what it ended in.
fn record_try_end(url: &Url, tries: u32, result: Result<&Outcome, &FetchError>, retry: bool) {
    if !timeline::enabled() {
        return;
    }
    let (label, timed_out) = match result {
        Ok(Outcome::Failed { error }) | Err(error) => {
            (format!("error {}", error.kind), error.kind == ErrorKind::Timeout)
        }
        Ok(Outcome::Page { status, .. }) => (status.to_string(), false),
        Ok(Outcome::Redirect { status, .. }) => (format!("{status} redirect"), false),
    };
    timeline::try_ended(url, tries, &label, timed_out, retry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_tries: &str) -> Config {
        Config::from_cli_args(["crawl", "http://h/", "-q", "--max-tries", max_tries]).unwrap()
    }

    fn failure(kind: ErrorKind) -> Result<Response, FetchError> {
        Err(FetchError::new(kind, "detail"))
    }

    #[test]
    fn a_failure_is_tried_again_until_the_tries_run_out() {
        let (config, url) = (config("3"), Url::parse("http://h/").unwrap());
        for kind in [ErrorKind::Connect, ErrorKind::Timeout, ErrorKind::Reset, ErrorKind::Malformed] {
            assert!(matches!(config.end_try(&url, 1, failure(kind)), TryEnd::Retry), "{kind}");
            assert!(matches!(config.end_try(&url, 2, failure(kind)), TryEnd::Retry), "{kind}");
            let TryEnd::Finished(fetched) = config.end_try(&url, 3, failure(kind)) else {
                panic!("{kind}: the third of three tries is the last");
            };
            assert_eq!((fetched.tries, fetched.outcome.is_error()), (3, true));
        }
    }

    #[test]
    fn a_failure_another_try_cannot_mend_is_final_at_once() {
        let (config, url) = (config("4"), Url::parse("http://h/").unwrap());
        for kind in [ErrorKind::Dns, ErrorKind::TooLarge] {
            let TryEnd::Finished(fetched) = config.end_try(&url, 1, failure(kind)) else {
                panic!("{kind} is not retried");
            };
            assert_eq!(fetched.tries, 1);
        }
    }

    #[test]
    fn a_response_settles_the_url() {
        let (config, url) = (config("4"), Url::parse("http://h/").unwrap());
        let response = Response { version: 1, status: 404, headers: Vec::new(), body: Vec::new() };
        let TryEnd::Finished(fetched) = config.end_try(&url, 2, Ok(response)) else {
            panic!("a response is never retried");
        };
        assert_eq!(fetched.tries, 2);
        assert!(matches!(fetched.outcome, Outcome::Page { status: 404, .. }));
    }
}
