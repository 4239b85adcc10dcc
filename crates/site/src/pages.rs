//! The generated pages: a link graph drawn from the seed, rendered as HTML.
//!
//! Page `N` links to `links` pages chosen by a tiny pseudo-random generator seeded with the
//! site's seed and `N`, and always to page `N+1` (wrapping), so every page is reachable from
//! `/page/0` and therefore from `/`. Nothing else goes into the choice: no clock, no global
//! state, so the same seed always gives the same bytes.
//!
//! The links are spelled in every way a crawler has to understand, varied across pages: a bare
//! relative `7`, `../page/7`, `/page/7`, `http://HOST/page/7`, `/page/7#top`; in double quotes,
//! single quotes or none; as `href`, `HREF` or `Href`; sometimes the same target twice. Some pages
//! also carry links a crawler must *not* follow (mailto, javascript, ftp, https, other hosts) and
//! links to a stylesheet, a missing page and a redirect.

use std::fmt::Write as _;

use crate::SiteConfig;

/// A splitmix64 generator: a few lines, good enough statistics, and no dependency.
#[derive(Debug)]
struct Rng {
    /// The generator's whole state; each step adds a constant and scrambles the result.
    state: u64,
}

/// The golden-ratio increment of splitmix64.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64's output function: a bijective scramble of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator for one page. Hashing the seed and the page number together (rather than,
    /// say, adding them) keeps the pages of one seed unrelated to the pages of another.
    fn for_page(seed: u64, page: usize) -> Rng {
        Rng { state: mix(mix(seed) ^ page as u64) }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// A number in `0..n` (n > 0). The modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability 1/n.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// How a link to another page is spelled; all of them resolve to `/page/{target}` from a page.
const FORMS: [fn(usize, &str) -> String; 5] = [
    |t, _| format!("{t}"),
    |t, _| format!("../page/{t}"),
    |t, _| format!("/page/{t}"),
    |t, host| format!("http://{host}/page/{t}"),
    |t, _| format!("/page/{t}#top"),
];

/// The quotes around an attribute value: double, single, or none at all.
const QUOTES: [&str; 3] = ["\"", "'", ""];

/// The attribute name, in the case HTML allows but naive parsers miss.
const ATTRS: [&str; 3] = ["href", "HREF", "Href"];

/// Links sprinkled on some pages: ones a crawler must refuse, and ones that lead to a
/// stylesheet, a 404 and a redirect. `{n}` is replaced by the page number.
const EXTRAS: [&str; 9] = [
    "mailto:webmaster@example.com",
    "javascript:void(0)",
    "ftp://example.com/x",
    "https://example.com/",
    "http://example.com/x",
    "http://www.example.org/y",
    "/static/style.css",
    "/missing/{n}",
    "/redirect/chain/2",
];

/// Words for filler text, so pages have a realistic size without meaning anything.
const WORDS: [&str; 24] = [
    "crawler", "socket", "future", "poll", "waker", "thread", "latency", "buffer", "request", "response",
    "header", "page", "link", "queue", "task", "executor", "reactor", "event", "timeout", "retry",
    "frontier", "loopback", "byte", "stream",
];

/// How many links a page has: at least one, the link to the next page.
pub(crate) fn links_per_page(config: &SiteConfig) -> usize {
    config.links.max(1)
}

/// The index page `/`: the way in to the pages, plus one of each kind of special link.
pub(crate) fn index(config: &SiteConfig) -> String {
    let mut html = head("Fixture site");
    html.push_str("<h1>Fixture site</h1>\n<p>A generated site for crawlers to crawl.</p>\n<ul>\n");
    let first_pages = links_per_page(config).min(config.pages);
    let mut items: Vec<String> = (0..first_pages).map(|n| format!("/page/{n}")).collect();
    items.extend(
        [
            "/redirect/chain/3",
            "/redirect/loop/a",
            "/redirect/offsite",
            "/static/style.css",
            "/static/logo.png",
            "/missing/index",
            "mailto:webmaster@example.com",
            "http://example.com/",
        ]
        .map(String::from),
    );
    // Same server, other host name: a crawler confined to the start host must not follow it.
    items.push(format!("http://localhost:{}/page/0", config.port));
    if !config.foreign.is_empty() {
        items.push("/foreign".to_owned());
    }
    if config.faults {
        items.push("/fault/".to_owned());
    }
    link_list(&mut html, &items);
    html.push_str(TAIL);
    html
}

/// `/foreign` (only when [`SiteConfig::foreign`] is not empty): every other site, linked
/// directly and then through this site's redirect to it. Both are bait for a crawler that should
/// stay home: the direct link tests its link filter, the redirect its check of `Location`.
pub(crate) fn foreign(config: &SiteConfig) -> String {
    let mut html = head("Other sites");
    html.push_str("<h1>Other sites</h1>\n<p>None of these is this site.</p>\n<ul>\n");
    let redirects = (0..config.foreign.len()).map(|n| format!("/redirect/foreign/{n}"));
    let items: Vec<String> = config.foreign.iter().cloned().chain(redirects).collect();
    link_list(&mut html, &items);
    html.push_str(TAIL);
    html
}

/// One `<li>` per link, each showing its own address, then the end of the list.
fn link_list(html: &mut String, hrefs: &[String]) {
    for href in hrefs {
        let _ = writeln!(html, "<li><a href=\"{href}\">{href}</a></li>");
    }
    html.push_str("</ul>\n");
}

/// Page `n` (which must be `< config.pages`). `host` is what full-URL links point at: the `Host`
/// the page was requested with, so they lead back to the same site under the same name.
pub(crate) fn page(config: &SiteConfig, n: usize, host: &str) -> String {
    let mut rng = Rng::for_page(config.seed, n);
    let mut html = head(&format!("Page {n}"));
    let _ = writeln!(html, "<h1 id=\"top\">Page {n}</h1>");
    filler(&mut html, &mut rng);

    html.push_str("<ul>\n");
    let next = (n + 1) % config.pages;
    let count = links_per_page(config);
    let mut targets: Vec<usize> = Vec::with_capacity(count);
    // The link to the next page goes at a random place in the list, spelled in a way that
    // cycles with `n` so that a small site already shows every spelling.
    let next_at = rng.below(count);
    for i in 0..count {
        let (target, style) = if i == next_at {
            (next, n)
        } else if !targets.is_empty() && rng.one_in(6) {
            // A duplicate: the crawler must fetch each URL once however often it is linked.
            (targets[rng.below(targets.len())], rng.below(60))
        } else {
            (rng.below(config.pages), rng.below(60))
        };
        targets.push(target);
        let href = FORMS[style % FORMS.len()](target, host);
        html.push_str("<li>");
        anchor(&mut html, &href, &format!("Page {target}"), style);
        html.push_str("</li>\n");
    }
    html.push_str("</ul>\n");

    // One extra per page in turn, so every kind appears on a small site, plus a few at random.
    html.push_str("<p>See also:");
    for (i, extra) in EXTRAS.iter().enumerate() {
        if i == n % EXTRAS.len() || rng.one_in(8) {
            html.push(' ');
            let href = extra.replace("{n}", &n.to_string());
            anchor(&mut html, &href, "elsewhere", rng.below(60));
        }
    }
    html.push_str("</p>\n");
    filler(&mut html, &mut rng);
    html.push_str(TAIL);
    html
}

/// Writes `<a href="...">text</a>` with the quoting and attribute case picked by `style`.
/// The same `style` also picks the link's spelling, so the combinations vary together.
fn anchor(html: &mut String, href: &str, text: &str, style: usize) {
    let quote = QUOTES[style % QUOTES.len()];
    // Mostly lower case, as on real pages; the odd spellings one time in four.
    let attr = if style.is_multiple_of(4) { ATTRS[1 + style / 4 % 2] } else { ATTRS[0] };
    let _ = write!(html, "<a {attr}={quote}{href}{quote}>{text}</a>");
}

/// A paragraph of 60 to 200 filler words: with the links, a page comes to about 1-3 KB.
fn filler(html: &mut String, rng: &mut Rng) {
    html.push_str("<p>");
    let words = 60 + rng.below(141);
    for i in 0..words {
        if i > 0 {
            html.push(' ');
        }
        html.push_str(WORDS[rng.below(WORDS.len())]);
    }
    html.push_str(".</p>\n");
}

/// The start of every HTML document, up to and including `<body>`.
pub(crate) fn head(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n\
         <head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n"
    )
}

/// The end of every HTML document.
pub(crate) const TAIL: &str = "</body>\n</html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> SiteConfig {
        SiteConfig { seed, ..SiteConfig::default() }
    }

    #[test]
    fn pages_are_deterministic_per_seed() {
        for n in [0, 1, 57, 199] {
            assert_eq!(page(&config(1), n, "h"), page(&config(1), n, "h"));
            assert_ne!(page(&config(1), n, "h"), page(&config(2), n, "h"));
        }
    }

    #[test]
    fn pages_are_roughly_one_to_three_kilobytes() {
        for n in 0..200 {
            let len = page(&config(1), n, "127.0.0.1:8000").len();
            assert!((1000..=3500).contains(&len), "page {n} is {len} bytes");
        }
    }

    #[test]
    fn every_page_links_the_next_one() {
        for n in 0..200 {
            let html = page(&config(7), n, "h");
            let next = (n + 1) % 200;
            assert!(html.contains(&format!(">Page {next}</a>")), "page {n}");
        }
    }

    #[test]
    fn every_spelling_appears_on_a_small_site() {
        let all: String = (0..30).map(|n| page(&config(1), n, "h")).collect();
        for needle in [
            "href=\"",
            "href='",
            "href=/",
            "HREF=",
            "Href=",
            "../page/",
            "=http://h/page/",
            "#top",
            "mailto:",
            "javascript:",
            "ftp://",
            "https://",
            "/missing/",
            "/redirect/chain/2",
        ] {
            assert!(all.contains(needle), "no {needle:?}");
        }
    }

    #[test]
    fn tiny_sites_still_work() {
        let one = SiteConfig { pages: 1, links: 0, ..SiteConfig::default() };
        assert!(page(&one, 0, "h").contains(">Page 0</a>"));
        assert!(index(&one).contains("\"/page/0\""));
    }
}
