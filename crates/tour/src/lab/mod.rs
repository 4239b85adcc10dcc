//! The tour's lab: the asyncio notes' claims, measured on this machine.
//!
//! ```text
//! cargo run --release -p tour -- switch            # a thread switch against a task switch
//! cargo run --release -p tour -- memory            # bytes per pending task, per parked thread
//! cargo run --release -p tour -- c10k --connections 10000
//! cargo run --release -p tour -- syscalls          # system calls per echoed message, by name
//! cargo run --release -p tour -- syscalls --crawl  # ... and per crawled URL, for every stage and mode
//! cargo run --release -p tour -- scaling           # one wait among N descriptors: select, poll, epoll
//! cargo run --release -p tour -- timeline --out DIR # every stage's --timeline, drawn on one axis
//! ```
//!
//! Each measurement that reads the process's memory runs in a child process of its own (the tour
//! runs itself with the hidden first argument [`RUN_LAB`]), so that one measurement's freed but
//! not returned memory cannot hide in the next one's figures.

pub mod c10k;
pub mod memory;
pub mod page_syscalls;
pub mod scaling;
pub mod switch;
pub mod syscalls;
pub mod timeline;

use std::process::Command;

/// The hidden first argument that makes the tour run one lab measurement as a child.
pub const RUN_LAB: &str = "__lab";

/// The process's resident memory (RSS) in bytes, from `VmRSS` in `/proc/self/status`.
pub fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

/// How many threads this process has now.
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

/// Runs `tour __lab ARGS...` and returns what it printed on stdout, or why it failed.
pub fn run_child(args: &[String]) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the tour's own binary: {e}"))?;
    let output = Command::new(exe)
        .arg(RUN_LAB)
        .args(args)
        .output()
        .map_err(|e| format!("cannot start a measurement child: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").to_string();
        return Err(format!("{} failed: {why}", args.join(" ")));
    }
    String::from_utf8(output.stdout).map_err(|_| "a measurement child printed non-UTF-8".to_string())
}

/// Runs one lab measurement in this process (the child side of [`run_child`]).
pub fn run_lab_main(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("memory") => memory::child(&args[1..]),
        Some("c10k") => c10k::child(&args[1..]),
        Some("site") => c10k::site_child(&args[1..]),
        Some("syscalls-server") => syscalls::server_child(&args[1..]),
        other => Err(format!("no lab measurement named {other:?}")),
    }
}
