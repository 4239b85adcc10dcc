//! `book-gen browser-check`: the built book (`book/book`, from `mdbook build book`) opened in
//! headless Chromium, page by page, as a reader's browser gets it.
//!
//! A small HTTP server on 127.0.0.1 (std only) serves the built book, and puts the script
//! `browser-check.js` at the top of every page's `<head>`. Chromium (`chromium --headless=new
//! --dump-dom`) loads each page, plus the index with `?search=` [`SEARCH_TERM`] (which mdBook's
//! `searcher.js` turns into a search); the script writes what only a loaded page knows into the
//! page as JSON ([`Verdict`]), and the dumped DOM is parsed here. A problem is one line, naming
//! the page and what is wrong:
//!
//! * an image (SVG included) that did not load, a `<script>` or `<link>` that failed, a script
//!   error, or a request for a file the book does not have (seen by the server);
//! * a code block that a reader sees as empty;
//! * a link (`<a href>`, in the DOM after the page's scripts ran, the sidebar included) to a page
//!   or file the book does not have, or to an anchor its page has no element for ([`check_links`]);
//! * a search that found nothing, or a result on a page without the term ([`check_search`]).
//!
//! It also takes screenshots of [`SCREENSHOTS`] for a person to look at. Everything goes to
//! [`OUT`]: the screenshots, each page's dumped DOM (`dom/`), Chromium's stderr
//! (`profile-N.stderr`) and `report.txt`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;
use serde::Deserialize;

/// Where the screenshots, the dumped DOMs and the report go, under the repository's root.
pub const OUT: &str = "target/book-check";
/// The built book, under the repository's root.
pub const SITE: &str = "book/book";
/// The word searched for; [`check_search`] first checks that the book has it.
pub const SEARCH_TERM: &str = "epoll";
/// The pages a screenshot is taken of.
pub const SCREENSHOTS: [&str; 2] = ["ch0-why.html", "ch3-event-loop.html"];
/// The browser, unless `BOOK_CHECK_CHROMIUM` names another.
pub const CHROMIUM: &str = "chromium";
/// What the script put into each page writes its verdict into.
const RESULT_ID: &str = "book-check-result";
const SCRIPT: &str = include_str!("browser-check.js");
/// How long one page may take in Chromium before it counts as hung.
const PAGE_LIMIT: Duration = Duration::from_secs(60);

/// What the script in a page recorded.
#[derive(Debug, Deserialize)]
pub struct Verdict {
    pub problems: Vec<Problem>,
    /// On the search page only.
    pub search: Option<Search>,
}

#[derive(Debug, Deserialize)]
pub struct Problem {
    pub what: String,
    pub element: String,
}

/// The search's results header and each result's link, as the page showed them.
#[derive(Debug, Deserialize)]
pub struct Search {
    pub term: String,
    pub header: String,
    pub results: Vec<String>,
}

/// One page load: `label` names it in messages (the page's path, with the query if any).
struct Job {
    label: String,
    path: String,
}

/// `browser-check`: every problem, one line each, on stderr and in `report.txt`; an error if any.
pub fn run(root: &Path) -> io::Result<()> {
    let started = Instant::now();
    let site = root.join(SITE);
    let pages = pages(&site)?;
    if pages.is_empty() {
        return Err(io::Error::other(format!(
            "{SITE} has no pages: build the book first (mdbook build book)"
        )));
    }
    let chromium = std::env::var("BOOK_CHECK_CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_string());
    if Command::new(&chromium).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err()
    {
        return Err(io::Error::other(format!(
            "`{chromium}` is not installed: .ci/run installs it (apt-get install -y chromium)"
        )));
    }
    let out = root.join(OUT);
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(out.join("dom"))?;
    let server = Server::start(site.clone())?;

    let mut jobs: Vec<Job> = pages.iter().map(|p| Job { label: p.clone(), path: p.clone() }).collect();
    let search = format!("index.html?search={SEARCH_TERM}");
    jobs.push(Job { label: search.clone(), path: search.clone() });

    // Two at a time (CI has two cores), each Chromium with its own profile.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2);
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<String, Result<String, String>>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let (next, results, jobs, out, server, chromium) =
                (&next, &results, &jobs, &out, &server, &chromium);
            scope.spawn(move || {
                let profile = out.join(format!("profile-{worker}"));
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let dom = out.join("dom").join(file_name(&job.label));
                    let url = server.url(&job.path);
                    let args = ["--virtual-time-budget=5000".to_string(), "--dump-dom".to_string(), url];
                    let result = chromium_run(chromium, &profile, &args, Some(&dom))
                        .and_then(|()| std::fs::read_to_string(&dom).map_err(|e| e.to_string()));
                    results.lock().expect("no worker panicked").insert(job.label.clone(), result);
                }
            });
        }
    });
    let results = results.into_inner().expect("no worker panicked");

    let mut problems = Vec::new();
    let mut doms: BTreeMap<String, String> = BTreeMap::new();
    for job in &jobs {
        match &results[&job.label] {
            Ok(dom) => {
                match parse_verdict(dom) {
                    Ok(verdict) => {
                        problems.extend(
                            verdict
                                .problems
                                .iter()
                                .map(|p| format!("{}: {}: {}", job.label, p.what, p.element)),
                        );
                        if job.label == search {
                            problems.extend(check_search(
                                &job.label,
                                verdict.search.as_ref(),
                                &doms_of(&results, &pages),
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("{}: {e}", job.label)),
                }
                doms.insert(job.label.clone(), dom.clone());
            }
            Err(e) => problems.push(format!("{}: chromium failed: {e}", job.label)),
        }
    }
    let targets: BTreeMap<String, String> = doms
        .iter()
        .filter(|(label, _)| pages.contains(*label))
        .map(|(l, d)| (l.clone(), d.clone()))
        .collect();
    let sources: Vec<(&str, &str, &str)> = jobs
        .iter()
        .filter_map(|job| {
            doms.get(&job.label).map(|dom| (job.label.as_str(), job.path.as_str(), dom.as_str()))
        })
        .collect();
    problems.extend(check_links(&targets, &sources, &|path| site.join(path).is_file()));
    // Chromium asks for /favicon.ico on its own for a page without an icon (toc.html, the
    // sidebar for readers without JavaScript): not the book's request.
    for (path, referer) in server.missing().into_iter().filter(|(path, _)| path != "favicon.ico") {
        let from = referer.and_then(|r| server.path_of(&r)).unwrap_or_else(|| "(no referer)".to_string());
        problems.push(format!("{from}: requested /{path}, which the book does not have"));
    }

    // The screenshots, after the checks so that a broken page is named first.
    let mut shots = Vec::new();
    for page in SCREENSHOTS {
        let png = out.join(format!("{}.png", page.trim_end_matches(".html")));
        let args = [
            format!("--screenshot={}", png.display()),
            "--window-size=1280,1800".to_string(),
            server.url(page),
        ];
        match chromium_run(&chromium, &out.join("profile-0"), &args, None) {
            Ok(()) if std::fs::metadata(&png).is_ok_and(|m| m.len() > 0) => {
                shots.push(crate::relative(root, &png))
            }
            Ok(()) => problems.push(format!("{page}: chromium wrote no screenshot to {}", png.display())),
            Err(e) => problems.push(format!("{page}: the screenshot failed: {e}")),
        }
    }
    for worker in 0..workers {
        let _ = std::fs::remove_dir_all(out.join(format!("profile-{worker}")));
    }

    // mdBook shows each image twice (the second for zooming in), and Chromium asks twice for a
    // file that is not there: one line for each.
    let mut seen = BTreeSet::new();
    problems.retain(|problem| seen.insert(problem.clone()));
    // A script's URL is the server's, on a port of the day: the file is what a reader needs.
    let origin = server.url("");
    let problems: Vec<String> = problems.iter().map(|p| p.replace(&origin, "")).collect();
    let mut report = String::new();
    for problem in &problems {
        eprintln!("{problem}");
        report.push_str(problem);
        report.push('\n');
    }
    std::fs::write(out.join("report.txt"), &report)?;
    let summary = format!(
        "{} pages and a search for {SEARCH_TERM:?} in {chromium} in {:.1} s: {} problems; screenshots: {}",
        pages.len(),
        started.elapsed().as_secs_f64(),
        problems.len(),
        shots.join(", ")
    );
    if problems.is_empty() {
        println!("{summary}");
        Ok(())
    } else {
        Err(io::Error::other(summary))
    }
}

/// The dumped DOM of each page that loaded.
fn doms_of(
    results: &BTreeMap<String, Result<String, String>>,
    pages: &BTreeSet<String>,
) -> BTreeMap<String, String> {
    pages.iter().filter_map(|p| Some((p.clone(), results.get(p)?.as_ref().ok()?.clone()))).collect()
}

/// Every `.html` file under the built book, as a path relative to it with `/` separators.
pub fn pages(site: &Path) -> io::Result<BTreeSet<String>> {
    fn walk(dir: &Path, prefix: &str, all: &mut BTreeSet<String>) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() {
                walk(&entry.path(), &format!("{prefix}{name}/"), all)?;
            } else if name.ends_with(".html") {
                all.insert(format!("{prefix}{name}"));
            }
        }
        Ok(())
    }
    let mut all = BTreeSet::new();
    if site.is_dir() {
        walk(site, "", &mut all)?;
    }
    Ok(all)
}

/// A page's label as a file name.
fn file_name(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect()
}

/// Chromium, headless, on one URL; its stdout into `stdout` (or nowhere). Killed after
/// [`PAGE_LIMIT`]. Its stderr (D-Bus noise, mostly) is shown only when it fails.
fn chromium_run(
    chromium: &str,
    profile: &Path,
    args: &[String],
    stdout: Option<&Path>,
) -> Result<(), String> {
    let out = match stdout {
        Some(path) => Stdio::from(std::fs::File::create(path).map_err(|e| e.to_string())?),
        None => Stdio::null(),
    };
    let stderr = stderr_path(profile);
    std::fs::create_dir_all(profile).map_err(|e| e.to_string())?;
    let mut child = Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .args(["--disable-extensions", "--hide-scrollbars", "--mute-audio"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::from(std::fs::File::create(&stderr).map_err(|e| e.to_string())?))
        .spawn()
        .map_err(|e| format!("{chromium}: {e}"))?;
    let deadline = Instant::now() + PAGE_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("it did not finish in {} s", PAGE_LIMIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.success() {
        Ok(())
    } else {
        let log = std::fs::read_to_string(&stderr).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        Err(format!("{status}; its last lines: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | ")))
    }
}

/// Where a Chromium's stderr goes: beside its profile, kept for a person to read.
fn stderr_path(profile: &Path) -> PathBuf {
    profile.with_extension("stderr")
}

/// The verdict the page's script wrote into `<pre id="book-check-result">`.
pub fn parse_verdict(dom: &str) -> Result<Verdict, String> {
    // The last one: the script appends it to the end of the body.
    let marker = format!("<pre id=\"{RESULT_ID}\"");
    let start = dom.rfind(&marker).ok_or_else(|| {
        "the page's check never finished (no verdict in the DOM: a script hung, or the page did not load)"
            .to_string()
    })?;
    let rest = &dom[start..];
    let open = rest.find('>').ok_or("the verdict's <pre> is cut short")? + 1;
    let close = rest.find("</pre>").ok_or("the verdict's <pre> is cut short")?;
    let text = unescape(&rest[open..close]);
    serde_json::from_str(&text).map_err(|e| {
        let start: String = text.chars().take(200).collect();
        format!("the verdict is not the JSON the script writes ({e}): {start}")
    })
}

/// The search's results, checked: at least one, each on a page that has the term.
pub fn check_search(label: &str, search: Option<&Search>, pages: &BTreeMap<String, String>) -> Vec<String> {
    let has_term = |html: &str| text_of(html).to_lowercase().contains(&SEARCH_TERM.to_lowercase());
    if !pages.values().any(|html| has_term(html)) {
        return vec![format!(
            "{label}: no page of the book has {SEARCH_TERM:?} any more: pick another word for SEARCH_TERM in crates/book-gen/src/browser.rs"
        )];
    }
    let Some(search) = search else {
        return vec![format!("{label}: the page did not report a search (is the query still ?search=?)")];
    };
    if search.results.is_empty() {
        let header =
            if search.header.is_empty() { "(empty: the search never ran)" } else { search.header.as_str() };
        return vec![format!(
            "{label}: search found nothing for {:?}; its header says: {header}",
            search.term
        )];
    }
    let mut problems = Vec::new();
    for (i, href) in search.results.iter().enumerate() {
        let page = href.split(['?', '#']).next().unwrap_or_default();
        match pages.get(page) {
            Some(html) if has_term(html) => {}
            Some(_) => problems.push(format!(
                "{label}: search result {} ({href}) is on a page without {:?}",
                i + 1,
                search.term
            )),
            None => {
                problems.push(format!("{label}: search result {} ({href}) is not a page of the book", i + 1))
            }
        }
    }
    problems
}

static A_HREF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<a\s[^>]*?\bhref="([^"]*)""#).expect("a valid regex"));
static ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<[a-zA-Z][^>]*?\s(?:id|name)="([^"]*)""#).expect("a valid regex"));
static BASE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<base\s[^>]*?\bhref="([^"]*)""#).expect("a valid regex"));
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<script.*?</script>|<style.*?</style>|<[^>]*>").expect("a valid regex")
});

/// Every `<a href>` of every source page (`(label, path, html)`), checked: a page of the book
/// (`targets`, path to HTML) with the element an anchor names, or a file that `exists`. Links
/// off the site (`https:`, `mailto:`, ...) are not followed.
pub fn check_links(
    targets: &BTreeMap<String, String>,
    sources: &[(&str, &str, &str)],
    exists: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let ids: BTreeMap<&str, BTreeSet<String>> = targets
        .iter()
        .map(|(path, html)| (path.as_str(), ID.captures_iter(html).map(|c| unescape(&c[1])).collect()))
        .collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for &(label, path, html) in sources {
        let page = path.split('?').next().unwrap_or_default();
        let base = BASE.captures(html).map(|c| unescape(&c[1]));
        let own: BTreeSet<String> = ID.captures_iter(html).map(|c| unescape(&c[1])).collect();
        for caps in A_HREF.captures_iter(html) {
            let href = unescape(&caps[1]);
            if href.is_empty() || is_external(&href) || !seen.insert((label.to_string(), href.clone())) {
                continue;
            }
            let (before, fragment) =
                href.split_once('#').map_or((href.as_str(), None), |(b, f)| (b, Some(f)));
            let file = before.split('?').next().unwrap_or_default();
            let target = if file.is_empty() {
                Some(page.to_string())
            } else {
                resolve(page, base.as_deref(), &percent_decode(file))
            };
            let Some(target) = target else {
                problems.push(format!("{label}: link {href:?} points outside the book"));
                continue;
            };
            let target_ids = if file.is_empty() { Some(&own) } else { ids.get(target.as_str()) };
            match (target_ids, fragment) {
                (Some(ids), Some(fragment)) if !fragment.is_empty() => {
                    let id = percent_decode(fragment);
                    if !ids.contains(&id) {
                        problems
                            .push(format!("{label}: link {href:?}: {target} has no element with id {id:?}"));
                    }
                }
                (Some(_), _) => {}
                (None, _) if exists(&target) => {}
                (None, _) => problems.push(format!("{label}: link {href:?}: the book has no file {target}")),
            }
        }
    }
    problems
}

/// `https:`, `mailto:`, `javascript:` and the like: a scheme before any `/`, `?` or `#`.
fn is_external(href: &str) -> bool {
    href.starts_with("//") || href.find(':').is_some_and(|colon| !href[..colon].contains(['/', '?', '#']))
}

/// `link` from `page` (both relative to the book's root), honouring a `<base href="/...">`;
/// a folder means its `index.html`. `None` when it climbs out of the book.
fn resolve(page: &str, base: Option<&str>, link: &str) -> Option<String> {
    let dir = match (link.starts_with('/'), base) {
        (true, _) => String::new(),
        (false, Some(base)) if base.starts_with('/') => base.trim_start_matches('/').to_string(),
        _ => page.rfind('/').map_or(String::new(), |i| page[..=i].to_string()),
    };
    let mut parts: Vec<&str> = Vec::new();
    let joined = format!("{dir}{}", link.trim_start_matches('/'));
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    let mut path = parts.join("/");
    if joined.ends_with('/') || path.is_empty() {
        path = if path.is_empty() { "index.html".to_string() } else { format!("{path}/index.html") };
    }
    Some(path)
}

/// The entities an HTML serializer writes, back into characters.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// `%xx` escapes, back into bytes (an invalid escape stays as it is).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A page's text, without its tags, scripts and styles (for the search term).
fn text_of(html: &str) -> String {
    let body = html.find("<main").map_or(html, |i| &html[i..]);
    unescape(&TAG.replace_all(body, " "))
}

/// The built book over HTTP on 127.0.0.1, with the check's script in every page; it records
/// each request for a file the book does not have, with its referer.
/// Each request for a file the book does not have: its path, and the page that asked (`Referer`).
type Missing = Mutex<Vec<(String, Option<String>)>>;

struct Server {
    port: u16,
    missing: Arc<Missing>,
}

impl Server {
    fn start(site: PathBuf) -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let missing = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&missing);
        let site = Arc::new(site);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (site, recorded) = (Arc::clone(&site), Arc::clone(&recorded));
                std::thread::spawn(move || {
                    let _ = respond(stream, &site, &recorded);
                });
            }
        });
        Ok(Server { port, missing })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// A URL of this server as the page's path (with its query), for messages.
    fn path_of(&self, url: &str) -> Option<String> {
        url.strip_prefix(&format!("http://127.0.0.1:{}/", self.port)).map(str::to_string)
    }

    fn missing(&self) -> Vec<(String, Option<String>)> {
        self.missing.lock().expect("no responder panicked").clone()
    }
}

/// One request: the file, or 404 (recorded).
fn respond(stream: TcpStream, site: &Path, missing: &Missing) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut referer = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("referer")
        {
            referer = Some(value.trim().to_string());
        }
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let path = percent_decode(target.split(['?', '#']).next().unwrap_or_default().trim_start_matches('/'));
    let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path };
    let file = site.join(&path);
    let body = if path.split('/').any(|part| part == "..") { None } else { std::fs::read(&file).ok() };
    let mut stream = stream;
    match body {
        Some(body) => {
            let ext = path.rsplit('.').next().unwrap_or_default();
            let body = if ext == "html" { with_script(&body) } else { body };
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                content_type(ext),
                body.len()
            )?;
            stream.write_all(&body)?;
        }
        None => {
            missing.lock().expect("no responder panicked").push((path, referer));
            stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        }
    }
    stream.flush()
}

/// A page with the check's script first in its `<head>`, so that it sees every later error.
fn with_script(page: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    let script = format!("<script>{SCRIPT}</script>");
    match text.find("<head>") {
        Some(i) => format!("{}{script}{}", &text[..i + 6], &text[i + 6..]).into_bytes(),
        None => format!("{script}{text}").into_bytes(),
    }
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "ico" => "image/x-icon",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> BTreeMap<String, String> {
        [
            ("index.html", r##"<main><h1 id="top">Top</h1><a href="ch1.html#wait">to ch1</a><a href="https://example.com/x">out</a></main>"##),
            ("ch1.html", r##"<main><h2 id="wait">Wait</h2><a href="#wait">here</a><a href="data/chart.svg">chart</a><a href="sub/">sub</a></main>"##),
            ("sub/index.html", r##"<main><a href="../ch1.html?highlight=x#wait">up</a></main>"##),
        ]
        .into_iter()
        .map(|(p, h)| (p.to_string(), h.to_string()))
        .collect()
    }

    fn links(extra: &[(&str, &str, &str)]) -> Vec<String> {
        let targets = book();
        let mut sources: Vec<(&str, &str, &str)> =
            targets.iter().map(|(p, h)| (p.as_str(), p.as_str(), h.as_str())).collect();
        sources.extend_from_slice(extra);
        check_links(&targets, &sources, &|path| path == "data/chart.svg")
    }

    #[test]
    fn links_that_resolve_pass() {
        assert_eq!(links(&[]), Vec::<String>::new());
    }

    #[test]
    fn a_missing_anchor_a_missing_page_and_a_missing_file_fail() {
        let page = r##"<a href="ch1.html#gone">a</a><a href="ch9.html">b</a><a href="data/nope.svg">c</a><a href="#top">d</a><a href="../../x.html">e</a>"##;
        assert_eq!(
            links(&[("extra.html", "extra.html", page)]),
            [
                r##"extra.html: link "ch1.html#gone": ch1.html has no element with id "gone""##,
                r##"extra.html: link "ch9.html": the book has no file ch9.html"##,
                r##"extra.html: link "data/nope.svg": the book has no file data/nope.svg"##,
                r##"extra.html: link "#top": extra.html has no element with id "top""##,
                r##"extra.html: link "../../x.html" points outside the book"##,
            ]
        );
    }

    #[test]
    fn a_base_href_and_escapes_are_honoured() {
        // 404.html's <base href="/">: its links are from the root, wherever it is served.
        let page =
            r##"<base href="/"><a href="ch1.html#w%61it">a</a><a href="ch1.html?a=1&amp;b=2#wait">b</a>"##;
        assert_eq!(links(&[("deep/404.html", "deep/404.html", page)]), Vec::<String>::new());
        assert_eq!(resolve("a/b.html", None, "../c/"), Some("c/index.html".to_string()));
        assert_eq!(resolve("a/b.html", None, "../../c.html"), None);
    }

    #[test]
    fn external_links_are_not_followed() {
        for href in ["https://x/y", "mailto:a@b", "javascript:void(0)", "//cdn/x.js"] {
            assert!(is_external(href), "{href}");
        }
        for href in ["ch1.html", "sub/a:b.html", "#x:y", "?q=a:b"] {
            assert!(!is_external(href), "{href}");
        }
    }

    #[test]
    fn a_verdict_is_read_from_the_dumped_dom() {
        let dom = r##"<body><p>x</p><pre id="book-check-result" hidden="">{"problems":[{"what":"image did not load","element":"\u003cimg src=\"a.svg\"\u003e"}],"search":null}</pre></body>"##;
        let verdict = parse_verdict(dom).expect("a verdict");
        assert_eq!(verdict.problems.len(), 1);
        assert_eq!(verdict.problems[0].what, "image did not load");
        assert_eq!(verdict.problems[0].element, r##"<img src="a.svg">"##);
        assert!(verdict.search.is_none());
        // The page as served, with the script in its head: the verdict is still the one found.
        let served =
            String::from_utf8(with_script(format!("<html><head></head><body>{dom}").as_bytes())).unwrap();
        assert_eq!(parse_verdict(&served).expect("a verdict").problems.len(), 1);
    }

    #[test]
    fn a_page_without_a_verdict_or_with_a_broken_one_fails() {
        let missing = parse_verdict("<body><p>no script ran</p></body>").unwrap_err();
        assert!(missing.contains("never finished"), "{missing}");
        let broken = parse_verdict(r##"<pre id="book-check-result">{"problems":</pre>"##).unwrap_err();
        assert!(broken.contains("not the JSON"), "{broken}");
    }

    #[test]
    fn the_search_must_find_the_term_on_pages_that_have_it() {
        let pages: BTreeMap<String, String> = [
            ("a.html", format!("<main><p>{SEARCH_TERM} here</p></main>")),
            ("b.html", "<main><p>nothing</p></main>".to_string()),
        ]
        .into_iter()
        .map(|(p, h)| (p.to_string(), h))
        .collect();
        let search = |results: &[&str], header: &str| Search {
            term: SEARCH_TERM.to_string(),
            header: header.to_string(),
            results: results.iter().map(|r| r.to_string()).collect(),
        };
        assert!(
            check_search("s", Some(&search(&["a.html?highlight=x#h"], "1 search result")), &pages).is_empty()
        );
        let none = check_search("s", Some(&search(&[], "")), &pages);
        assert_eq!(
            none,
            [format!(
                "s: search found nothing for {SEARCH_TERM:?}; its header says: (empty: the search never ran)"
            )]
        );
        let wrong = check_search("s", Some(&search(&["b.html#x", "c.html"], "2 search results")), &pages);
        assert_eq!(wrong.len(), 2, "{wrong:?}");
        assert!(wrong[0].contains("without") && wrong[1].contains("not a page"), "{wrong:?}");
        assert_eq!(check_search("s", None, &pages).len(), 1);
        // A term the book no longer has is the check's own mistake, and says so.
        let gone =
            check_search("s", None, &BTreeMap::from([("b.html".to_string(), pages["b.html"].clone())]));
        assert!(gone[0].contains("pick another word"), "{gone:?}");
    }

    #[test]
    fn pages_get_the_script_first_in_their_head() {
        let page =
            String::from_utf8(with_script(b"<html><head><script src=a.js></script></head></html>")).unwrap();
        assert!(page.starts_with("<html><head><script>"), "{page}");
        assert!(page.find(RESULT_ID) < page.find("a.js"));
    }
}
