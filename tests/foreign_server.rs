//! A server this project did not write: Python's `http.server` (HTTP/1.0) serving a generated
//! directory. The report must list exactly the files reachable by links from the root.

mod common;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;

/// Kills the server when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `python3 -m http.server` on a free loopback port; returns it and its port.
fn python_server(dir: &Path) -> (Server, u16) {
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 is needed for this test");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    // "Serving HTTP on 127.0.0.1 port 43210 (http://127.0.0.1:43210/) ..."
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from http.server: {line:?}"));
    (server, port)
}

/// A small site: file -> the files it links to. Some links are relative, some go up a
/// directory; `orphan.html` is never linked; `notes.txt` is linked but is not HTML.
const FILES: &[(&str, &[&str])] = &[
    ("index.html", &["a.html", "docs/b.html", "notes.txt"]),
    ("a.html", &["index.html", "docs/c.html#part"]),
    ("docs/b.html", &["../a.html", "c.html", "deep/d.html"]),
    ("docs/c.html", &["/docs/b.html"]),
    ("docs/deep/d.html", &["../../index.html"]),
    ("orphan.html", &["a.html"]),
    ("notes.txt", &[]),
];

#[test]
fn crawls_exactly_the_reachable_files_of_python_http_server() {
    let dir = std::env::temp_dir().join(format!("async-evolution-foreign-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (file, links) in FILES {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let body: String = links.iter().map(|l| format!("<p><a href=\"{l}\">{l}</a></p>\n")).collect();
        std::fs::write(&path, format!("<!doctype html><html><body>\n{body}</body></html>\n")).unwrap();
    }
    let (_server, port) = python_server(&dir);
    let root = format!("http://127.0.0.1:{port}/index.html");

    // What a correct crawler must find: walk FILES from index.html.
    let graph: HashMap<&str, &[&str]> = FILES.iter().copied().collect();
    let mut reachable = BTreeSet::from(["index.html".to_string()]);
    let mut queue = VecDeque::from(["index.html".to_string()]);
    while let Some(file) = queue.pop_front() {
        let base = url::Url::parse("http://x/").unwrap().join(&file).unwrap();
        for link in graph[file.as_str()] {
            let target = base.join(link).unwrap().path().trim_start_matches('/').to_string();
            if reachable.insert(target.clone()) {
                queue.push_back(target);
            }
        }
    }
    assert_eq!(reachable.len(), 6, "the walk above is itself right: {reachable:?}");

    for stage in stage_bins() {
        let output = Command::new(bin(stage)).args([&root, "-q", "--timeout", "5"]).output().unwrap();
        assert!(output.status.success());
        let report = String::from_utf8(output.stdout).unwrap();
        let prefix = format!("http://127.0.0.1:{port}/");
        let crawled: BTreeSet<String> = report
            .lines()
            .filter_map(|line| line.split_whitespace().next()?.strip_prefix(&prefix).map(String::from))
            .collect();
        assert_eq!(crawled, reachable, "{stage}:\n{report}");
        assert_eq!(crawl::report::counts(&report), Some((6, 0)), "{stage}:\n{report}");
        assert!(report.contains("notes.txt"), "{report}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
