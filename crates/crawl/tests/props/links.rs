//! Reading links, under generated input: [`crawl::links`] and [`crawl::rules`] never panic on any
//! bytes or strings, and what `page_links` yields is always safe to fetch: an http URL on the root's
//! host and port, without a fragment. Pages are what any server may send, so none of this may
//! trust its input.

use std::collections::BTreeSet;

use crawl::Rules;
use crawl::links::{decode, hrefs, page_links};
use crawl::rules::{join, parse_root};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use url::Url;

use crate::config;

/// Roots of every kind of host: an IP and port, a name with and without `www.`, IPv6, IDNA.
const ROOTS: &[&str] = &[
    "http://127.0.0.1:8000/dir/page",
    "http://example.com/a/b?x=1",
    "http://www.example.com/",
    "http://[::1]:8080/x/",
    "http://xn--caf-dma.example/",
];

/// How an href may start: every scheme a page links to, scheme-relative, relative, broken.
const STARTS: &[&str] = &[
    "",
    "/",
    "../",
    "?",
    "#",
    "http://",
    "HTTP://",
    "https://",
    "//",
    "http:",
    "http:/",
    "javascript:",
    "mailto:",
    "data:text/html,",
    "ftp://",
    "file://",
    "ws://",
    " http://",
    "\thttp://",
    "\0http://",
    "ht\ntp://",
    "http://user:pw@",
];

/// Hosts after such a start: the roots' own, their neighbours, other ports, invalid ones.
const HOSTS: &[&str] = &[
    "",
    "127.0.0.1:8000",
    "127.0.0.1:9000",
    "127.0.0.1",
    "0x7f.1:8000",
    "example.com",
    "www.example.com",
    "EXAMPLE.com:80",
    "docs.example.com",
    "example.com:8080",
    "[::1]:8080",
    "[::1]",
    "[bad",
    "xn--caf-dma.example",
    "café.example",
    "%00",
    "exa mple.com",
];

/// Charset labels as `Content-Type` gives them, in any case and with white space: single-byte
/// encodings, and others.
const SINGLE_BYTE: &[&str] = &["latin1", "ISO-8859-1", " windows-1252 ", "x-user-defined", "koi8-r"];
const MULTI_BYTE: &[&str] =
    &["utf-8", "shift_jis", "utf-16le", "UTF-16BE", "gb18030", "iso-2022-jp", "replacement", "euc-kr"];

/// How a root may be given on the command line.
const ROOT_STARTS: &[&str] =
    &["", "http://", "HTTP://", "https://", "ftp://", "//", "http:", "localhost:", "[::1]:"];

/// `href=` as HTML allows it: any case, any white space before it and around `=`.
const ATTRIBUTES: &[&str] = &[" href=", " HREF = ", "\nhref\t=", "\tHref=\n"];

/// An attribute value's quotes.
const QUOTES: &[&str] = &["\"", "'", ""];

/// A relative path that needs no escaping (and does not start with `/`: `//` would name a host).
const PATH: &str = "[a-zA-Z0-9._~-][a-zA-Z0-9._~/-]{0,9}";

/// Any text, control characters included.
const ANY: &str = r"(\PC|[\x00-\x1f\x7f]){0,12}";

fn root() -> impl Strategy<Value = Url> {
    select(ROOTS).prop_map(|root| Url::parse(root).unwrap())
}

fn href_value() -> impl Strategy<Value = String> {
    (select(STARTS), select(HOSTS), ANY).prop_map(|(start, host, rest)| format!("{start}{host}{rest}"))
}

/// HTML-ish text: free text and tags with hrefs in every quoting (and lookalikes), in any order.
fn html() -> impl Strategy<Value = String> {
    let attribute = prop_oneof![select(ATTRIBUTES), select(&[" data-href=", "href=", " xhref="][..])];
    let quote = select(QUOTES);
    let tag = (attribute, quote, href_value()).prop_map(|(attr, q, value)| format!("<a{attr}{q}{value}{q}>"));
    vec(prop_oneof![ANY.boxed(), tag.boxed()], 0..12).prop_map(|pieces| pieces.concat())
}

/// A known label or any string.
fn label() -> impl Strategy<Value = String> {
    let known = prop_oneof![select(SINGLE_BYTE), select(MULTI_BYTE)];
    prop_oneof![known.prop_map(String::from), any::<String>()]
}

/// The root's host without a leading `www.`: what strict host matching compares.
fn site(url: &Url) -> Option<&str> {
    url.host_str().map(|host| host.strip_prefix("www.").unwrap_or(host))
}

proptest! {
    #![proptest_config(config(256))]

    /// A page is only ever a source of links to the crawled site: never another scheme (no
    /// `javascript:` or `mailto:` fetched), host or port, and never a fragment (one page, one URL).
    #[test]
    fn page_links_stay_on_the_root_site(root in root(), html in html()) {
        let rules = Rules::new(std::slice::from_ref(&root), None, false);
        for link in page_links(&root, &html, &rules) {
            prop_assert_eq!(link.scheme(), "http");
            prop_assert_eq!(site(&link), site(&root), "{}", link);
            prop_assert_eq!(link.port_or_known_default(), root.port_or_known_default(), "{}", link);
            prop_assert_eq!(link.fragment(), None);
        }
    }

    /// The other half: every well-formed link to the site is found, in each quoting style, with or
    /// without scheme and host, and with its fragment dropped. (A `page_links` that found nothing
    /// would pass the property above.)
    #[test]
    fn page_links_find_every_link_to_the_site(
        root in root(),
        links in vec((select(ATTRIBUTES), select(QUOTES), 0..4usize, PATH, "(#[a-z]{0,3})?"), 0..8),
        text in "[a-z .,!]{0,10}",
    ) {
        let authority = &root[url::Position::BeforeHost..url::Position::AfterPort];
        let starts = ["", "/", &format!("http://{authority}/"), &format!("//{authority}/")];
        let mut html = String::new();
        let mut expected = BTreeSet::new();
        for (attribute, quote, start, path, fragment) in links {
            let href = format!("{}{path}{fragment}", starts[start]);
            html.push_str(&format!("{text}<a{attribute}{quote}{href}{quote}>{text}</a>"));
            let mut url = root.join(&href).unwrap();
            url.set_fragment(None);
            expected.insert(url);
        }
        let rules = Rules::new(std::slice::from_ref(&root), None, false);
        prop_assert_eq!(page_links(&root, &html, &rules), expected);
    }

    /// Extraction on any text: no panic, and every value comes out trimmed.
    #[test]
    fn hrefs_never_panic(html in prop_oneof![any::<String>(), html()]) {
        for href in hrefs(&html) {
            prop_assert_eq!(href.trim(), &*href);
        }
    }

    /// Joining any href to any page: no panic, and no fragment in the result.
    #[test]
    fn join_never_panics_nor_keeps_fragments(
        base in root(),
        href in prop_oneof![any::<String>(), href_value()],
    ) {
        if let Some(url) = join(&base, &href) {
            prop_assert_eq!(url.fragment(), None);
        }
    }

    /// Any bytes in any charset decode without panicking. Without a charset they are lossy UTF-8;
    /// in a single-byte charset every byte is one character (so the label is not ignored).
    #[test]
    fn decode_never_panics(
        body in vec(any::<u8>(), 0..200),
        label in proptest::option::of(label()),
    ) {
        let text = decode(&body, label.as_deref());
        match label.as_deref() {
            None => prop_assert_eq!(text, String::from_utf8_lossy(&body)),
            Some(label) if SINGLE_BYTE.contains(&label) => prop_assert_eq!(text.chars().count(), body.len()),
            Some(_) => {}
        }
    }

    /// A root on the command line is either refused with a message or an http URL with a host and
    /// no fragment: nothing else may reach the crawl.
    #[test]
    fn parse_root_refuses_or_gives_http(
        root in prop_oneof![
            any::<String>(),
            (select(ROOT_STARTS), ANY).prop_map(|(start, rest)| format!("{start}{rest}")),
        ],
    ) {
        if let Ok(url) = parse_root(&root) {
            prop_assert_eq!(url.scheme(), "http");
            prop_assert!(url.host().is_some());
            prop_assert_eq!(url.fragment(), None);
        }
    }

    /// And the refusals are not all it does: `host[:port][/path]` without a scheme is accepted as
    /// http on that host and port.
    #[test]
    fn parse_root_accepts_plain_hosts(
        host in "[a-z][a-z0-9-]{0,7}(\\.[a-z]{1,6}){0,2}",
        port in proptest::option::of(1..65535u16),
        path in "(/[a-z0-9]{0,5}){0,3}",
    ) {
        let port_part = port.map(|port| format!(":{port}")).unwrap_or_default();
        let url = parse_root(&format!("{host}{port_part}{path}")).unwrap();
        prop_assert_eq!((url.scheme(), url.host_str()), ("http", Some(host.as_str())));
        prop_assert_eq!(url.port_or_known_default(), Some(port.unwrap_or(80)));
    }
}
