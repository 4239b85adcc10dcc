//! The README's commands, run as a new user would run them (on a small site, to stay quick).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use common::*;

const SMALL_TOUR: &[&str] = &["--pages", "20", "--links", "4", "--latency-ms", "2", "--timeout", "0.2"];

#[test]
fn the_tour_prints_one_row_per_stage_and_mode() {
    let output = Command::new(bin("tour")).args(SMALL_TOUR).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut lines = stdout.lines();
    let header = lines.next().unwrap();
    // Every field of the JSON row has its column (`wall_secs` is headed `wall s`).
    for key in tour::table::Row::KEYS {
        let column = key.replace("_secs", " s").replace('_', " ");
        assert!(header.contains(&column), "no column for {key}: {header}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let modes: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(modes[..4], stage1_modes(), "{stdout}");
    assert_eq!(
        modes[4..],
        ["busy-poll", "callbacks", "generators", "async-await", "tokio", "tokio-multi-thread"],
        "{stdout}"
    );
    for row in &rows {
        assert_eq!(row.last(), Some(&"yes"), "{stdout}");
        assert!(row[2].parse::<usize>().unwrap() > 20, "{stdout}");
    }
    // Sequential holds one connection; the others up to --max-tasks (10).
    assert_eq!(rows[0][7], "1", "{stdout}");
    assert_eq!(rows[0][6], "1", "sequential runs on one thread: {stdout}");
}

#[test]
fn tour_json_has_the_documented_keys() {
    // 20 ms of latency, so that waiting dominates every stage's wall time.
    let args = ["--pages", "20", "--links", "4", "--latency-ms", "20", "--no-faults", "--json"];
    let output = Command::new(bin("tour")).args(args).output().unwrap();
    assert!(output.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let rows = rows.as_array().expect("an array");
    assert!(rows.len() > stage1_modes().len());
    for row in rows {
        let keys: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = tour::table::Row::KEYS.to_vec();
        expected.sort();
        let mut keys = keys.clone();
        keys.sort();
        assert_eq!(keys, expected);
        assert_eq!(row["errors"], 0, "no faults, no errors: {row}");
        assert_eq!(row["same_report"], true);
    }
    // The claims of stages 2 and 3, as wide ratios: a busy loop burns CPU the whole time it waits,
    // an event loop sleeps through the waiting. (On a loaded machine the busy loop gets less of a
    // core than it asks for, so its CPU is compared with the event loop's, not with its wall time.)
    let cpu = |mode: &str| {
        let row = rows.iter().find(|r| r["mode"] == mode).unwrap_or_else(|| panic!("no {mode} row"));
        (row["cpu_secs"].as_f64().unwrap(), row["wall_secs"].as_f64().unwrap())
    };
    let ((busy, _), (callbacks, callbacks_wall)) = (cpu("busy-poll"), cpu("callbacks"));
    assert!(busy > 3.0 * callbacks, "busy-poll used {busy:.3} s of CPU, callbacks {callbacks:.3} s");
    assert!(
        callbacks < 0.33 * callbacks_wall,
        "callbacks used {callbacks:.3} s of CPU in {callbacks_wall:.3} s"
    );
}

#[test]
fn the_site_binary_announces_its_address_and_serves() {
    let mut child = Command::new(bin("site"))
        .args(["--port", "0", "--latency-ms", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let re = regex::Regex::new(r"^listening on http://127\.0\.0\.1:(\d+)/\n$").unwrap();
    let port = re.captures(&first).unwrap_or_else(|| panic!("first line: {first:?}"))[1].to_string();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("/page/0"), "{response}");
}

#[test]
fn every_file_the_readme_links_and_every_example_it_runs_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let links = regex::Regex::new(r"\]\(([^)#:]+)\)").unwrap();
    let mut checked = 0;
    for link in links.captures_iter(&readme) {
        let path = root.join(&link[1]);
        assert!(path.exists(), "README links {}, which does not exist", &link[1]);
        checked += 1;
    }
    let examples = regex::Regex::new(r"cargo run(?: --release)? -p ([\w-]+) --example (\w+)").unwrap();
    for run in examples.captures_iter(&readme) {
        let file = root.join("crates").join(&run[1]).join("examples").join(format!("{}.rs", &run[2]));
        let renamed = std::fs::read_to_string(root.join("crates").join(&run[1]).join("Cargo.toml"))
            .unwrap()
            .contains(&format!("name = \"{}\"", &run[2]));
        assert!(
            file.exists() || renamed,
            "README runs example {} of {}, which does not exist",
            &run[2],
            &run[1]
        );
        checked += 1;
    }
    assert!(checked > 20, "the README's links were not found ({checked})");
}

#[test]
fn every_command_in_contributing_names_a_package_test_and_subcommand_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("CONTRIBUTING.md")).unwrap();
    let package_dir = |package: &str| match package {
        "async-evolution" => root.to_path_buf(),
        other => root.join("crates").join(other),
    };
    let mut checked = 0;
    let tests = regex::Regex::new(r"cargo test -p ([\w-]+)(?: --test (\w+))?").unwrap();
    for run in tests.captures_iter(&guide) {
        let dir = package_dir(&run[1]);
        assert!(
            dir.join("Cargo.toml").exists(),
            "CONTRIBUTING.md tests package {}, which does not exist",
            &run[1]
        );
        if let Some(test) = run.get(2) {
            let file = dir.join("tests").join(format!("{}.rs", test.as_str()));
            assert!(
                file.exists(),
                "CONTRIBUTING.md runs test {} of {}, which does not exist",
                test.as_str(),
                &run[1]
            );
        }
        checked += 1;
    }
    let book_gen = std::fs::read_to_string(root.join("crates/book-gen/src/main.rs")).unwrap();
    let subcommands = regex::Regex::new(r"cargo run -p book-gen -- ([\w-]+)").unwrap();
    for run in subcommands.captures_iter(&guide) {
        assert!(book_gen.contains(&format!("\"{}\" =>", &run[1])), "book-gen has no `{}`", &run[1]);
        checked += 1;
    }
    assert!(checked >= 15, "the guide's commands were not found ({checked})");
}
