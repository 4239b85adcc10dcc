//! Reading links out of a page: decode the bytes with the right charset, then find every `href`.
//!
//! This is deliberately a regular expression, not an HTML parser, as in the 500-lines crawler:
//! the crawler needs hrefs, not a DOM, and the point of this project is the waiting, not parsing.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use crate::rules::{self, Rules};

/// `href=` after white space (so `data-href=` does not count), with double quotes, single quotes or no quotes, in any case, spaces allowed around `=`.
static HREF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>`=]+))"#).expect("valid regex")
});

/// Decodes a body to text using the `charset` from `Content-Type` (UTF-8 when absent or unknown).
/// Invalid bytes become U+FFFD instead of failing the page.
///
/// ```
/// let text = crawl::links::decode(b"Caf\xe9", Some("iso-8859-1"));
/// assert_eq!(text, "Café");
/// ```
pub fn decode<'a>(body: &'a [u8], charset: Option<&str>) -> Cow<'a, str> {
    let encoding = charset
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode_without_bom_handling(body).0
}

/// Every href value in `html`, in document order, with `&amp;` unescaped.
pub fn hrefs(html: &str) -> impl Iterator<Item = Cow<'_, str>> {
    HREF.captures_iter(html).filter_map(|caps| {
        let value = caps.get(1).or(caps.get(2)).or(caps.get(3))?.as_str().trim();
        Some(if value.contains("&amp;") {
            Cow::Owned(value.replace("&amp;", "&"))
        } else {
            Cow::Borrowed(value)
        })
    })
}

/// The distinct crawlable links of a page: joined to `base`, fragments dropped, allowed by `rules`.
/// Sorted, so that what a stage does with them never depends on hash order.
pub fn page_links(base: &Url, html: &str, rules: &Rules) -> BTreeSet<Url> {
    hrefs(html).filter_map(|href| rules::join(base, &href)).filter(|url| rules.allows(url)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hrefs_in_every_quoting_and_case() {
        let html = r#"<a href="/a">x</a> <A HREF='/b'> <a href=/c> <a href = "/d" > <link href=/e.css>"#;
        let found: Vec<_> = hrefs(html).collect();
        assert_eq!(found, ["/a", "/b", "/c", "/d", "/e.css"]);
    }

    #[test]
    fn ignores_lookalikes_and_unescapes_ampersands() {
        let html = r#"<a data-href="/no">x</a> <a href="/q?a=1&amp;b=2">"#;
        let found: Vec<_> = hrefs(html).collect();
        assert_eq!(found, ["/q?a=1&b=2"]);
    }

    #[test]
    fn page_links_are_joined_filtered_and_deduplicated() {
        let base = Url::parse("http://127.0.0.1:8000/page/1").unwrap();
        let rules = Rules::new(std::slice::from_ref(&base), None, false);
        let html = r#"
            <a href="2">rel</a> <a href="/page/2#top">dup</a> <a href="../page/3">up</a>
            <a href="http://127.0.0.1:8000/page/4">abs</a> <a href="mailto:x@y.z">mail</a>
            <a href="javascript:void(0)">js</a> <a href="https://127.0.0.1:8000/s">tls</a>
            <a href="http://example.com/">other</a> <a href="http://localhost:8000/">alias</a>
            <a href="http://127.0.0.1:9000/">port</a> <a href="http://[bad">broken</a>"#;
        let links: Vec<String> = page_links(&base, html, &rules).into_iter().map(String::from).collect();
        assert_eq!(
            links,
            ["http://127.0.0.1:8000/page/2", "http://127.0.0.1:8000/page/3", "http://127.0.0.1:8000/page/4",]
        );
    }

    #[test]
    fn charset_decides_how_links_are_read() {
        let body = b"<a href=\"/caf\xe9\">";
        let base = Url::parse("http://h/").unwrap();
        let rules = Rules::new(std::slice::from_ref(&base), None, false);
        let latin1 = page_links(&base, &decode(body, Some("iso-8859-1")), &rules);
        assert_eq!(latin1.first().unwrap().path(), "/caf%C3%A9");
        let utf8 = page_links(&base, &decode(body, None), &rules);
        assert_eq!(utf8.first().unwrap().path(), "/caf%EF%BF%BD");
    }
}
