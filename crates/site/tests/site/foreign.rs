//! Links to other sites (`SiteConfig::foreign`): `/foreign` and its redirects exist only when
//! asked for, and say exactly what they were given.

use site::SiteConfig;

use crate::support::{get, hrefs, quick, start};

/// Three spellings a crawler has to recognise as "not this site".
fn others() -> Vec<String> {
    ["http://127.0.0.2:8000/", "http://127.0.0.1:8001/page/3#top", "//localhost:8000/x"]
        .map(String::from)
        .to_vec()
}

#[test]
fn the_index_links_the_foreign_page_only_when_there_are_other_sites() {
    let plain = hrefs(&get(&start(quick()), "/").text());
    let with = hrefs(&get(&start(SiteConfig { foreign: others(), ..quick() }), "/").text());
    assert!(!plain.iter().any(|l| l == "/foreign"), "{plain:?}");
    // One link more, just before `/fault/`; the other sites themselves are one click further.
    assert_eq!(with.len(), plain.len() + 1, "{with:?}");
    assert_eq!(with[with.len() - 2..], ["/foreign", "/fault/"]);
    assert!(!with.iter().any(|l| others().contains(l)), "{with:?}");
}

#[test]
fn the_foreign_page_links_each_site_directly_then_through_a_redirect() {
    let site = start(SiteConfig { foreign: others(), ..quick() });
    let page = get(&site, "/foreign");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let mut expected = others();
    expected.extend(["/redirect/foreign/0", "/redirect/foreign/1", "/redirect/foreign/2"].map(String::from));
    assert_eq!(hrefs(&page.text()), expected);
    for (n, url) in others().iter().enumerate() {
        let redirect = get(&site, &format!("/redirect/foreign/{n}"));
        assert_eq!(redirect.status, 302, "{n}");
        assert_eq!(redirect.header("location"), Some(url.as_str()), "as given, not resolved");
        assert!(hrefs(&redirect.text()).is_empty(), "the body leads nowhere");
    }
    for path in ["/redirect/foreign/3", "/redirect/foreign/01", "/redirect/foreign/", "/foreign/"] {
        assert_eq!(get(&site, path).status, 404, "{path}");
    }
}

#[test]
fn without_other_sites_the_foreign_paths_are_404() {
    let site = start(quick());
    for path in ["/foreign", "/redirect/foreign/0"] {
        assert_eq!(get(&site, path).status, 404, "{path}");
    }
}

#[test]
fn a_url_that_would_break_the_page_is_refused() {
    for bad in ["http://x/\"><script>", "http://x/a b", "http://x/\r\nSet-Cookie: a=b", ""] {
        let config = SiteConfig { foreign: vec![bad.to_owned()], ..quick() };
        let err = site::spawn(config).expect_err(bad);
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }
}
