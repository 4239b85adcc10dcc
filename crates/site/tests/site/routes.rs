//! The fixed routes: index, redirects, static files, 404, methods, and malformed requests.

use site::SiteConfig;

use crate::support::{Response, get, hrefs, quick, raw, request, start};

#[test]
fn the_index_links_the_first_pages_and_every_special_case() {
    let site = start(SiteConfig { links: 3, ..quick() });
    let port = site.addr().port();
    let trap = format!("http://localhost:{port}/page/0");
    let expected = [
        "/page/0",
        "/page/1",
        "/page/2",
        "/redirect/chain/3",
        "/redirect/loop/a",
        "/redirect/offsite",
        "/static/style.css",
        "/static/logo.png",
        "/missing/index",
        "mailto:webmaster@example.com",
        "http://example.com/",
        &trap,
        "/fault/",
    ];
    let response = get(&site, "/");
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(hrefs(&response.text()), expected);
}

#[test]
fn the_redirect_chain_uses_every_status_and_ends_on_page_one() {
    let site = start(quick());
    let mut path = "/redirect/chain/5".to_owned();
    let mut statuses = Vec::new();
    while path.starts_with("/redirect/") {
        let response = get(&site, &path);
        statuses.push(response.status);
        path = response.header("location").expect("a Location").to_owned();
    }
    assert_eq!(statuses, [301, 308, 307, 303, 301]);
    // The last hop is absolute, naming the host the request used.
    assert_eq!(path, format!("http://{}/page/1", site.addr()));
    for path in ["/redirect/chain/0", "/redirect/chain/6"] {
        assert_eq!(get(&site, path).status, 404, "{path}");
    }
}

#[test]
fn the_loop_and_the_offsite_redirect() {
    let site = start(quick());
    let location = |path| {
        let response = get(&site, path);
        assert_eq!(response.status, 302);
        response.header("location").unwrap().to_owned()
    };
    assert_eq!(location("/redirect/loop/a"), "/redirect/loop/b");
    assert_eq!(location("/redirect/loop/b"), "/redirect/loop/a");
    assert_eq!(location("/redirect/offsite"), "http://example.com/");
}

#[test]
fn static_files_have_their_types() {
    let site = start(quick());
    let css = get(&site, "/static/style.css");
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let png = get(&site, "/static/logo.png");
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(png.body.len(), 68);
    assert!(png.body.ends_with(b"IEND\xaeB`\x82"));
}

#[test]
fn unknown_paths_are_404_html() {
    let site = start(quick());
    for path in ["/missing/index", "/missing/3", "/nope", "/static/", "/fault"] {
        let response = get(&site, path);
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    }
}

#[test]
fn every_response_closes_and_has_an_exact_length() {
    let site = start(quick());
    for path in ["/", "/page/3", "/redirect/chain/2", "/nope", "/static/logo.png"] {
        let response = get(&site, path);
        assert_eq!(response.header("connection"), Some("close"), "{path}");
        let length: usize = response.header("content-length").unwrap().parse().unwrap();
        assert_eq!(length, response.body.len(), "{path}");
        assert_eq!(response.header("date"), None, "nothing time-dependent");
    }
}

#[test]
fn head_gets_the_head_without_the_body() {
    let site = start(quick());
    let host = site.addr().to_string();
    let full = request(site.addr(), "GET", "/page/3", &host);
    let head = request(site.addr(), "HEAD", "/page/3", &host);
    assert_eq!(head.head, full.head);
    assert!(head.body.is_empty());
}

#[test]
fn other_methods_are_405() {
    let site = start(quick());
    let response = request(site.addr(), "DELETE", "/page/3", "h");
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
}

#[test]
fn full_url_links_use_the_host_header_or_else_the_address() {
    let site = start(quick());
    let named = request(site.addr(), "GET", "/page/3", "fixture.test").text();
    let with_host: Vec<_> =
        hrefs(&named).into_iter().filter(|h| h.starts_with("http://fixture.test/")).collect();
    assert!(!with_host.is_empty(), "page 3 has a full-URL link");
    // HTTP/1.0 allows leaving out Host: then links name the bound address.
    let anonymous = Response::parse(&raw(site.addr(), b"GET /page/3 HTTP/1.0\r\n\r\n").unwrap());
    let with_addr = format!("http://{}/page/", site.addr());
    assert!(hrefs(&anonymous.text()).iter().any(|h| h.starts_with(&with_addr)));
    assert_eq!(site.counters().requests(), 2);
    assert_eq!(site.counters().hosts(), [("fixture.test".to_owned(), 1)]);
}

#[test]
fn malformed_and_oversized_heads_are_refused_and_not_counted() {
    let site = start(quick());
    let bad = Response::parse(&raw(site.addr(), b"NOT HTTP AT ALL\r\n\r\n").unwrap());
    assert_eq!(bad.status, 400);
    // Exactly 16 KiB with no end of head: the server reads all of it, so its close is a FIN.
    let mut big = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    big.resize(16 * 1024, b'a');
    let big = Response::parse(&raw(site.addr(), &big).unwrap());
    assert_eq!(big.status, 431);
    assert_eq!(site.counters().requests(), 0);
}
