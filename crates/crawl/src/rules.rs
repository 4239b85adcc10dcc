//! Which URLs the crawler may fetch, as in the 500-lines crawler.
//!
//! * Only `http` (this crawler speaks plain HTTP/1.1; TLS is out of scope).
//! * Fragments are dropped: `/a#x` and `/a#y` are one page.
//! * The host must match a root's host, and the port a root's port:
//!   - strict (default): the same name, or the same name with or without a leading `www.`;
//!   - `--lenient`: the same last two labels (`docs.example.com` matches `example.com`);
//!   - an IP literal only ever matches itself exactly.
//! * A URL matching `--exclude` is skipped.

use regex::Regex;
use url::{Host, Url};

/// Parses a root given on the command line. A root without a scheme gets `http://`.
///
/// ```
/// let url = crawl::rules::parse_root("example.com/start").unwrap();
/// assert_eq!(url.as_str(), "http://example.com/start");
/// assert!(crawl::rules::parse_root("https://example.com/").is_err());
/// ```
pub fn parse_root(root: &str) -> Result<Url, String> {
    let with_scheme = if root.contains("://") { root.to_string() } else { format!("http://{root}") };
    let url = Url::parse(&with_scheme).map_err(|e| format!("malformed URL {root:?}: {e}"))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(format!("{root:?} is https; this crawler speaks plain HTTP/1.1 only"));
        }
        other => return Err(format!("{root:?} has scheme {other:?}; only http is crawled")),
    }
    if url.host().is_none() {
        return Err(format!("malformed URL {root:?}: no host"));
    }
    Ok(normalize(url))
}

/// Drops the fragment: it names a place in a page, not a different page.
pub fn normalize(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

/// Resolves `href` against the page it was found on; `None` when it does not parse.
pub fn join(base: &Url, href: &str) -> Option<Url> {
    base.join(href).ok().map(normalize)
}

/// The crawl's URL filter, built once from the roots and flags.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Host and port of every root: a URL must match one of them.
    roots: Vec<(Host<String>, u16)>,
    /// `--exclude`: URLs matching it are skipped.
    exclude: Option<Regex>,
    /// `--lenient`: compare registrable domains (last two labels) instead of exact names.
    lenient: bool,
}

impl Rules {
    pub fn new(roots: &[Url], exclude: Option<Regex>, lenient: bool) -> Rules {
        let roots = roots
            .iter()
            .filter_map(|url| Some((url.host()?.to_owned(), url.port_or_known_default()?)))
            .collect();
        Rules { roots, exclude, lenient }
    }

    /// Whether `url` may be crawled.
    pub fn allows(&self, url: &Url) -> bool {
        if url.scheme() != "http" {
            return false;
        }
        if self.exclude.as_ref().is_some_and(|exclude| exclude.is_match(url.as_str())) {
            return false;
        }
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return false;
        };
        self.roots.iter().any(|(root, root_port)| *root_port == port && self.host_matches(root, &host))
    }

    fn host_matches(&self, root: &Host<String>, host: &Host<&str>) -> bool {
        match (root, host) {
            (Host::Domain(root), Host::Domain(host)) => {
                if self.lenient {
                    last_two_labels(root) == last_two_labels(host)
                } else {
                    strip_www(root) == strip_www(host)
                }
            }
            // An IP literal has no "www." and no registrable domain: only itself matches.
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

fn strip_www(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

fn last_two_labels(host: &str) -> &str {
    let host = host.trim_end_matches('.');
    match host.rmatch_indices('.').nth(1) {
        Some((dot, _)) => &host[dot + 1..],
        None => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(roots: &[&str], lenient: bool) -> Rules {
        let roots: Vec<Url> = roots.iter().map(|r| parse_root(r).unwrap()).collect();
        Rules::new(&roots, None, lenient)
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn roots_get_http_and_lose_fragments() {
        assert_eq!(parse_root("example.com").unwrap().as_str(), "http://example.com/");
        assert_eq!(parse_root("http://example.com/a#frag").unwrap().as_str(), "http://example.com/a");
        assert_eq!(parse_root("127.0.0.1:8000").unwrap().as_str(), "http://127.0.0.1:8000/");
    }

    #[test]
    fn bad_roots_are_refused_with_a_reason() {
        assert!(parse_root("https://example.com/").unwrap_err().contains("https"));
        assert!(parse_root("ftp://example.com/").unwrap_err().contains("ftp"));
        assert!(parse_root("http://exa mple.com/").unwrap_err().contains("malformed"));
        assert!(parse_root("http://").unwrap_err().contains("malformed"));
    }

    #[test]
    fn strict_hosts_match_exactly_or_with_www() {
        let r = rules(&["example.com"], false);
        assert!(r.allows(&url("http://example.com/x")));
        assert!(r.allows(&url("http://www.example.com/x")));
        assert!(r.allows(&url("http://EXAMPLE.com/x")));
        assert!(!r.allows(&url("http://docs.example.com/x")));
        assert!(!r.allows(&url("http://example.org/x")));
        let www = rules(&["www.example.com"], false);
        assert!(www.allows(&url("http://example.com/")));
    }

    #[test]
    fn lenient_hosts_match_the_last_two_labels() {
        let r = rules(&["www.example.com"], true);
        assert!(r.allows(&url("http://docs.example.com/")));
        assert!(r.allows(&url("http://a.b.example.com/")));
        assert!(!r.allows(&url("http://example.org/")));
        assert!(!r.allows(&url("http://notexample.com/")));
    }

    #[test]
    fn ip_literals_match_only_themselves_in_both_modes() {
        for lenient in [false, true] {
            let r = rules(&["127.0.0.1:8000"], lenient);
            assert!(r.allows(&url("http://127.0.0.1:8000/a")));
            assert!(!r.allows(&url("http://127.0.0.2:8000/a")));
            assert!(!r.allows(&url("http://localhost:8000/a")));
            assert!(!r.allows(&url("http://0.0.1:8000/a")));
        }
        let v6 = rules(&["[::1]:8000"], true);
        assert!(v6.allows(&url("http://[::1]:8000/")));
        assert!(!v6.allows(&url("http://127.0.0.1:8000/")));
    }

    #[test]
    fn ports_must_match_a_root() {
        let r = rules(&["127.0.0.1:8000", "example.com"], false);
        assert!(!r.allows(&url("http://127.0.0.1:8001/")));
        assert!(!r.allows(&url("http://127.0.0.1/")));
        assert!(r.allows(&url("http://example.com:80/")));
        assert!(!r.allows(&url("http://example.com:8080/")));
    }

    #[test]
    fn only_http_and_not_excluded() {
        let roots = [parse_root("example.com").unwrap()];
        let r = Rules::new(&roots, Some(Regex::new(r"/private/").unwrap()), false);
        assert!(!r.allows(&url("https://example.com/")));
        assert!(!r.allows(&url("mailto:a@example.com")));
        assert!(!r.allows(&url("ftp://example.com/")));
        assert!(!r.allows(&url("http://example.com/private/x")));
        assert!(r.allows(&url("http://example.com/public/x")));
    }

    #[test]
    fn join_resolves_and_drops_fragments() {
        let base = url("http://h/page/3");
        assert_eq!(join(&base, "7").unwrap().as_str(), "http://h/page/7");
        assert_eq!(join(&base, "../x#top").unwrap().as_str(), "http://h/x");
        assert_eq!(join(&base, "//other/y").unwrap().as_str(), "http://other/y");
        assert!(join(&base, "http://[bad").is_none());
    }
}
