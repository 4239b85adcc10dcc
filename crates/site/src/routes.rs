//! From a parsed request to a reply: which path gets which page, redirect, asset or fault.
//!
//! Routing is a pure function of the request and the config, which is what makes the site
//! deterministic. The server ([`server`](crate::server)) does the I/O: it turns a
//! [`Reply::Response`] into bytes, and hands a [`Reply::Fault`] to [`faults`](crate::faults),
//! which misbehaves on the socket itself.

use std::fmt::Write as _;

use crate::SiteConfig;
use crate::faults::{self, Fault};
use crate::pages;

/// What to do for one request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// An ordinary HTTP response: head, body, FIN.
    Response(Response),
    /// A fault that does something to the connection beyond an ordinary response.
    Fault(Fault),
}

/// An ordinary response, fully built in memory (every one of them is small).
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code, e.g. 200 or 404; the reason phrase is derived from it.
    pub(crate) status: u16,
    /// Headers besides the ones every response gets (`Content-Type`, `Content-Length`,
    /// `Connection`), e.g. `Location` on redirects.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// The `Content-Type` value.
    pub(crate) content_type: &'static str,
    /// The body; bytes rather than a string because one fault page is Latin-1.
    pub(crate) body: Vec<u8>,
}

/// The content type of every HTML page except the Latin-1 fault.
pub(crate) const HTML: &str = "text/html; charset=utf-8";

impl Response {
    /// A response with an HTML body.
    pub(crate) fn html(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: Vec::new(), content_type: HTML, body: body.into() }
    }

    /// The standard 404 page, for anything unknown.
    pub(crate) fn not_found() -> Response {
        let mut body = pages::head("Not Found");
        body.push_str("<h1>Not Found</h1>\n<p>Nothing lives at this address.</p>\n");
        body.push_str(pages::TAIL);
        Response::html(404, body)
    }

    /// A redirect to `location` with a small body that links nowhere: crawlers follow the
    /// `Location` header, and a link in the body would only muddy what they found.
    fn redirect(status: u16, location: String) -> Response {
        let mut body = pages::head(reason(status));
        body.push_str("<p>This page has moved.</p>\n");
        body.push_str(pages::TAIL);
        let mut response = Response::html(status, body);
        response.headers.push(("Location", location));
        response
    }

    /// The bytes on the wire. A reply to HEAD has the same head (including `Content-Length`) but
    /// no body.
    pub(crate) fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        let _ = write!(head, "Content-Type: {}\r\n", self.content_type);
        let _ = write!(head, "Content-Length: {}\r\n", self.body.len());
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        // Every connection carries one request: no keep-alive, so "connections open" counts
        // requests in flight.
        head.push_str("Connection: close\r\n\r\n");
        let mut bytes = head.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

/// The reason phrase for the statuses this site uses.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Unknown",
    }
}

/// The stylesheet at `/static/style.css`.
const STYLE_CSS: &str = "body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }\n";

/// The image at `/static/logo.png`: a valid 1x1 PNG, 68 bytes.
const LOGO_PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x04\
\x00\x00\x00\xb5\x1c\x0c\x02\x00\x00\x00\x0bIDATx\xdacd`\x00\x00\x00\x06\x00\x020\x81\xd0/\x00\x00\
\x00\x00IEND\xaeB`\x82";

/// Decides the reply to `method path`. `host` is where full-URL links and absolute redirects
/// point: the request's `Host`, or the bound address when it had none.
pub(crate) fn route(config: &SiteConfig, method: &str, path: &str, host: &str) -> Reply {
    if method != "GET" && method != "HEAD" {
        let mut response = Response::html(405, pages::head("Method Not Allowed") + pages::TAIL);
        response.headers.push(("Allow", "GET, HEAD".to_owned()));
        return Reply::Response(response);
    }
    let response = match path {
        "/" => Response::html(200, pages::index(config)),
        "/static/style.css" => {
            Response { content_type: "text/css; charset=utf-8", ..Response::html(200, STYLE_CSS) }
        }
        "/static/logo.png" => Response { content_type: "image/png", ..Response::html(200, LOGO_PNG) },
        "/redirect/loop/a" => Response::redirect(302, "/redirect/loop/b".to_owned()),
        "/redirect/loop/b" => Response::redirect(302, "/redirect/loop/a".to_owned()),
        "/redirect/offsite" => Response::redirect(302, "http://example.com/".to_owned()),
        _ => {
            if let Some(n) = number_after(path, "/page/")
                && n < config.pages
            {
                Response::html(200, pages::page(config, n, host))
            } else if let Some(k) = number_after(path, "/redirect/chain/")
                && (1..=5).contains(&k)
            {
                chain(k, host)
            } else if path == "/foreign" && !config.foreign.is_empty() {
                Response::html(200, pages::foreign(config))
            } else if let Some(n) = number_after(path, "/redirect/foreign/")
                && let Some(url) = config.foreign.get(n)
            {
                // The Location is the URL exactly as configured: how to resolve it is the
                // crawler's job, and whether to follow it its decision.
                Response::redirect(302, url.clone())
            } else if config.faults
                && let Some(reply) = faults::route(path)
            {
                return reply;
            } else {
                Response::not_found()
            }
        }
    };
    Reply::Response(response)
}

/// `/redirect/chain/K`: K hops to `/page/1`, using every redirect status along the way.
fn chain(k: usize, host: &str) -> Response {
    if k == 1 {
        // The last hop is an absolute URL, so a crawler has to handle both kinds of Location.
        Response::redirect(301, format!("http://{host}/page/1"))
    } else {
        let status = [301, 302, 303, 307, 308][k % 5];
        Response::redirect(status, format!("/redirect/chain/{}", k - 1))
    }
}

/// The number in `/prefix/N`, only when spelled canonically (no sign, no leading zero), so
/// that each page has exactly one path.
fn number_after(path: &str, prefix: &str) -> Option<usize> {
    let digits = path.strip_prefix(prefix)?;
    let n: usize = digits.parse().ok()?;
    (n.to_string() == digits).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_numbers_route() {
        assert_eq!(number_after("/page/12", "/page/"), Some(12));
        assert_eq!(number_after("/page/012", "/page/"), None);
        assert_eq!(number_after("/page/+1", "/page/"), None);
        assert_eq!(number_after("/page/", "/page/"), None);
        assert_eq!(number_after("/page/1/", "/page/"), None);
    }

    #[test]
    fn the_chain_ends_on_page_one() {
        let statuses: Vec<u16> = (1..=5).map(|k| chain(k, "h").status).collect();
        assert_eq!(statuses, [301, 303, 307, 308, 301]);
        assert_eq!(chain(1, "h").headers[0].1, "http://h/page/1");
        assert_eq!(chain(3, "h").headers[0].1, "/redirect/chain/2");
    }
}
