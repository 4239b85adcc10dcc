//! What fetching one URL turned into: a page, a redirect, or an error after some tries.
//!
//! [`Outcome::from_response`] is the CPU work done after the waiting is over (decode the charset,
//! extract links). It is a plain function so that every stage, and the child processes of stage 1's
//! `processes` mode, compute exactly the same thing.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::FetchError;
use crate::http::Response;
use crate::links;
use crate::rules::{self, Rules};

/// The result of one URL after all its tries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    /// The URL that was fetched.
    pub url: Url,
    /// What came back.
    pub outcome: Outcome,
    /// How many tries it took (1 when the first try settled it).
    pub tries: u32,
}

/// What a URL turned into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Any response that is not a redirect (200, 404, ...).
    Page {
        status: u16,
        /// The media type without parameters, when the server sent one.
        content_type: Option<String>,
        /// Body bytes.
        size: usize,
        /// Distinct crawlable links, sorted (empty unless the page is `text/html`).
        links: Vec<Url>,
    },
    /// A 300/301/302/303/307/308 with a `Location` (already joined to the URL and normalised).
    Redirect { status: u16, location: Url },
    /// Every try failed; this is the last error.
    Failed { error: FetchError },
}

/// The statuses whose `Location` the crawler follows by hand.
pub const REDIRECT_STATUSES: [u16; 6] = [300, 301, 302, 303, 307, 308];

impl Outcome {
    /// Turns a complete response into an outcome: a redirect when it is one, else a page with its
    /// links (read only from `text/html`, decoded with the charset the server declared).
    pub fn from_response(url: &Url, response: &Response, rules: &Rules) -> Outcome {
        if REDIRECT_STATUSES.contains(&response.status)
            && let Some(location) = response.header("location").and_then(|l| rules::join(url, l))
        {
            return Outcome::Redirect { status: response.status, location };
        }
        let content_type = response.content_type();
        let links = if content_type.as_deref() == Some("text/html") {
            let text = links::decode(&response.body, response.charset().as_deref());
            links::page_links(url, &text, rules).into_iter().collect()
        } else {
            Vec::new()
        };
        Outcome::Page { status: response.status, content_type, size: response.body.len(), links }
    }

    /// Whether every try failed.
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Response {
        Response {
            version: 1,
            status,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: body.to_vec(),
        }
    }

    fn setup() -> (Url, Rules) {
        let url = Url::parse("http://h/dir/page").unwrap();
        let rules = Rules::new(std::slice::from_ref(&url), None, false);
        (url, rules)
    }

    #[test]
    fn redirects_are_joined() {
        let (url, rules) = setup();
        for status in REDIRECT_STATUSES {
            let r = response(status, &[("Location", "../other#x")], b"");
            let outcome = Outcome::from_response(&url, &r, &rules);
            assert_eq!(
                outcome,
                Outcome::Redirect { status, location: Url::parse("http://h/other").unwrap() }
            );
        }
    }

    #[test]
    fn a_redirect_status_without_location_is_a_page() {
        let (url, rules) = setup();
        let outcome = Outcome::from_response(&url, &response(302, &[], b"x"), &rules);
        assert!(matches!(outcome, Outcome::Page { status: 302, size: 1, .. }));
    }

    #[test]
    fn links_come_only_from_html() {
        let (url, rules) = setup();
        let body = b"<a href=\"/a\"></a><a href=b></a>";
        let html = response(200, &[("Content-Type", "text/html; charset=utf-8")], body);
        let css = response(200, &[("Content-Type", "text/css")], body);
        let Outcome::Page { links, content_type, size, .. } = Outcome::from_response(&url, &html, &rules)
        else {
            panic!("not a page")
        };
        assert_eq!(content_type.as_deref(), Some("text/html"));
        assert_eq!(size, body.len());
        let links: Vec<&str> = links.iter().map(Url::as_str).collect();
        assert_eq!(links, ["http://h/a", "http://h/dir/b"]);
        let Outcome::Page { links, .. } = Outcome::from_response(&url, &css, &rules) else {
            panic!("not a page")
        };
        assert!(links.is_empty());
    }
}
