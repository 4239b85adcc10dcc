//! The generated page graph: deterministic per seed, and all of it reachable from `/`.

use std::collections::{BTreeSet, VecDeque};

use site::SiteConfig;

use crate::support::{get, hrefs, quick, request, resolve, start};

/// Fetches every page of `site` with a fixed `Host`, so two sites on different ports can be
/// compared byte for byte.
fn all_pages(config: SiteConfig) -> Vec<Vec<u8>> {
    let pages = config.pages;
    let site = start(config);
    (0..pages).map(|n| request(site.addr(), "GET", &format!("/page/{n}"), "fixture.test").body).collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let config = |seed| SiteConfig { pages: 40, seed, ..quick() };
    let first = all_pages(config(1));
    assert_eq!(first, all_pages(config(1)));
    let other = all_pages(config(2));
    let differing = first.iter().zip(&other).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 40, "every page should change with the seed");
}

#[test]
fn every_page_is_reachable_from_the_index() {
    let site = start(quick());
    let host = site.addr().to_string();
    let mut seen = BTreeSet::from(["/".to_owned()]);
    let mut queue = VecDeque::from(["/".to_owned()]);
    let mut pages = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        let response = get(&site, &path);
        assert_eq!(response.status, 200, "{path}");
        for href in hrefs(&response.text()) {
            // Follow pages only: redirects, faults and 404s are other tests' business.
            match resolve(&path, &href, &host) {
                Some(next) if next.starts_with("/page/") && seen.insert(next.clone()) => {
                    pages.insert(next.clone());
                    queue.push_back(next);
                }
                _ => {}
            }
        }
    }
    let expected: BTreeSet<String> = (0..200).map(|n| format!("/page/{n}")).collect();
    assert_eq!(pages, expected);
}

#[test]
fn pages_vary_their_link_spellings() {
    let site = start(quick());
    let host = site.addr().to_string();
    let mut spellings = BTreeSet::new();
    for n in 0..20 {
        let html = get(&site, &format!("/page/{n}")).text();
        for href in hrefs(&html) {
            let spelling = match href.as_str() {
                h if h.starts_with("../") => "dotdot",
                h if h.starts_with(&format!("http://{host}/")) => "full url",
                h if h.contains('#') => "fragment",
                h if h.starts_with("/page/") => "absolute path",
                h if h.parse::<usize>().is_ok() => "relative",
                _ => "other",
            };
            spellings.insert(spelling);
        }
    }
    let expected = ["absolute path", "dotdot", "fragment", "full url", "other", "relative"];
    assert_eq!(spellings, BTreeSet::from(expected));
}

#[test]
fn out_of_range_and_non_canonical_pages_are_404() {
    let site = start(SiteConfig { pages: 10, ..quick() });
    assert_eq!(get(&site, "/page/9").status, 200);
    for path in ["/page/10", "/page/09", "/page/-1", "/page/x", "/page/"] {
        assert_eq!(get(&site, path).status, 404, "{path}");
    }
}
