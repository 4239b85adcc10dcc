//! The lab's measurements: the tour's `switch`, `memory`, `c10k` and `syscalls` subcommands, run once each,
//! and the criterion benches the book shows ([`crate::bench`]).
//!
//! [`collect`] runs the release tour with [`SWITCH_ARGS`], [`MEMORY_ARGS`], [`C10K_ARGS`] and [`SYSCALLS_ARGS`] and
//! keeps what each printed, with the command that printed it, then the benches' estimates, in a
//! [`LabData`] that shares the
//! tour run's date, commit and machine (it is measured by the same `book-gen data`, right after
//! the tour). `book/src/data/lab.json` is that value; [`crate::lab_render`] draws the lab's
//! tables and charts from it.

use std::io;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::{self, Machine, TourData};

/// The lab's file, under [`data::DIR`].
pub const JSON: &str = "lab.json";

/// A thread switch against a task switch.
pub const SWITCH_ARGS: &[&str] = &["switch", "--json"];

/// Bytes per pending task and per parked thread.
pub const MEMORY_ARGS: &[&str] = &["memory", "--json"];

/// Connections waiting at once in the C10K measurement (the tour's default).
pub const C10K_CONNECTIONS: usize = 10_000;

/// Ten thousand connections, on one thread and on a thread each.
pub const C10K_ARGS: &[&str] = &["c10k", "--connections", "10000", "--json"];

/// Messages per echo server in the system-call count (the tour's default).
pub const SYSCALLS_MESSAGES: usize = 10_000;

/// System calls per echoed message, by name, for each echo server.
pub const SYSCALLS_ARGS: &[&str] = &["syscalls", "--messages", "10000", "--json"];

/// One wait among 10 to 10,000 idle descriptors: select, poll, epoll.
pub const SCALING_ARGS: &[&str] = &["scaling", "--json"];

/// System calls per crawled URL, for every stage and mode.
pub const PAGE_SYSCALLS_ARGS: &[&str] = &["syscalls", "--crawl", "--json"];

/// The lab's measurements, the benches, and where they ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabData {
    /// What wrote this file.
    pub generated_by: String,
    /// The day of the run (UTC), `YYYY-MM-DD`: the tour run's.
    pub date: String,
    /// The commit measured: the tour run's.
    pub commit: String,
    /// Where it ran: the tour run's machine.
    pub machine: Machine,
    /// `tour switch --json`.
    pub switch: Measured<SwitchCost>,
    /// `tour memory --json`.
    pub memory: Measured<Vec<MemoryCost>>,
    /// `tour c10k --connections 10000 --json`.
    pub c10k: Measured<Vec<C10kRow>>,
    /// `tour syscalls --messages 10000 --json`.
    pub syscalls: Measured<Vec<SyscallRow>>,
    /// `tour syscalls --crawl --json`.
    pub page_syscalls: Measured<Vec<PageRow>>,
    /// `tour scaling --json`.
    pub scaling: Measured<Vec<WaitCost>>,
    /// `cargo bench --bench runtime --bench echo`: criterion's estimates.
    pub benches: Measured<Vec<crate::bench::Estimate>>,
}

/// What one command printed, and the command, as typed in the repository's root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured<T> {
    pub command: String,
    pub result: T,
}

// The tour's own types, so the book reads exactly what the lab prints.
pub use tour::lab::{
    c10k::C10kRow, memory::MemoryCost, page_syscalls::PageRow, scaling::WaitCost, switch::SwitchCost,
    syscalls::SyscallRow,
};

impl LabData {
    /// The memory row of a kind (`stage5-task`, `os-thread`, ...).
    pub fn memory_row(&self, kind: &str) -> Option<&MemoryCost> {
        self.memory.result.iter().find(|row| row.kind == kind)
    }

    /// The C10K row of a stage (`stage5-tasks`, `stage1-threads`).
    pub fn c10k_row(&self, stage: &str) -> Option<&C10kRow> {
        self.c10k.result.iter().find(|row| row.stage == stage)
    }

    /// The seven commands, in the order they ran.
    pub fn commands(&self) -> [&str; 7] {
        [
            &self.switch.command,
            &self.memory.command,
            &self.c10k.command,
            &self.syscalls.command,
            &self.page_syscalls.command,
            &self.scaling.command,
            &self.benches.command,
        ]
    }

    /// The caption under what `commands` measured.
    pub fn caption(&self, commands: &[&str]) -> String {
        crate::render::caption_of(&self.generated_by, commands, &self.date, &self.commit, &self.machine)
    }

    /// Whether this was measured in the same run as `tour` (same writer, day, commit, machine):
    /// the claims table quotes both under one caption.
    pub fn same_run_as(&self, tour: &TourData) -> bool {
        self.generated_by == tour.generated_by
            && self.date == tour.date
            && self.commit == tour.commit
            && self.machine == tour.machine
    }
}

/// Runs the six lab commands of the release tour in `root` (about a minute and a half, most of it
/// the C10K run and the system-call count under strace), then the benches (a few minutes), recorded as measured in the same run as `tour`.
pub fn collect(root: &Path, tour: &TourData) -> io::Result<LabData> {
    Ok(LabData {
        generated_by: tour.generated_by.clone(),
        date: tour.date.clone(),
        commit: tour.commit.clone(),
        machine: tour.machine.clone(),
        switch: measure(root, SWITCH_ARGS)?,
        memory: measure(root, MEMORY_ARGS)?,
        c10k: measure(root, C10K_ARGS)?,
        syscalls: measure(root, SYSCALLS_ARGS)?,
        page_syscalls: measure(root, PAGE_SYSCALLS_ARGS)?,
        scaling: measure(root, SCALING_ARGS)?,
        benches: crate::bench::collect(root)?,
    })
}

/// Runs one lab command and parses what it printed.
fn measure<T: DeserializeOwned>(root: &Path, args: &[&str]) -> io::Result<Measured<T>> {
    eprintln!("book-gen: measuring `tour {}`", args.join(" "));
    let printed = data::run_release_tour(root, args)?;
    let result = serde_json::from_slice(&printed).map_err(|e| {
        io::Error::other(format!("`tour {}` printed JSON book-gen does not expect: {e}", args.join(" ")))
    })?;
    Ok(Measured { command: data::release_tour_command(args), result })
}

/// Reads `lab.json` from the book.
pub fn load(root: &Path) -> io::Result<LabData> {
    let name = format!("{}/{JSON}", data::DIR);
    let text = std::fs::read_to_string(root.join(&name))
        .map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| io::Error::other(format!("{name}: {e}")))
}

/// `lab.json`'s text for `data`.
pub fn to_json(lab: &LabData) -> String {
    serde_json::to_string_pretty(lab).expect("lab data serialises") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_c10k_connections_are_the_ones_measured() {
        let at = C10K_ARGS.iter().position(|a| *a == "--connections").unwrap();
        assert_eq!(C10K_ARGS[at + 1].parse::<usize>().unwrap(), C10K_CONNECTIONS);
    }

    #[test]
    fn the_syscalls_messages_are_the_ones_measured() {
        let at = SYSCALLS_ARGS.iter().position(|a| *a == "--messages").unwrap();
        assert_eq!(SYSCALLS_ARGS[at + 1].parse::<usize>().unwrap(), SYSCALLS_MESSAGES);
    }

    #[test]
    fn the_tours_output_parses() {
        let switch: SwitchCost =
            serde_json::from_str(r#"{"thread_switch_ns": 5000.5, "task_switch_ns": 200.0, "ratio": 25.0}"#)
                .unwrap();
        assert_eq!(switch.ratio, 25.0);
        let memory: Vec<MemoryCost> =
            serde_json::from_str(r#"[{"kind": "os-thread", "count": 2000, "bytes_each": 9924.6}]"#).unwrap();
        assert_eq!(memory[0].count, 2000);
        let c10k: Vec<C10kRow> = serde_json::from_str(
            r#"[{"stage": "stage5-tasks", "connections": 10000, "wall_secs": 1.5, "threads": 1,
                 "bytes_per_connection": 1297.2, "errors": 0}]"#,
        )
        .unwrap();
        assert_eq!(c10k[0].threads, 1);
        assert_eq!(data::release_tour_command(SWITCH_ARGS), "cargo run --release -p tour -- switch --json");
    }
}
