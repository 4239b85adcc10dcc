//! What chapters 3 and 7 show of the lab, drawn from `book/src/data/lab.json`: a table for each of
//! `switch`, `memory`, `c10k`, `syscalls` (per echoed message and per crawled URL) and `scaling`,
//! each under the caption of the command that measured it, three charts, the benches' tables ([`crate::bench`]), and the lab's rows of the claims table
//! ([`crate::claims`]); [`crate::render`] writes them all.

use std::path::{Path, PathBuf};

use crate::chart::{self, BarChart, Series};
use crate::claims::Claim;
use crate::data;
use crate::lab::{self, C10K_CONNECTIONS, LabData};
use crate::line_chart::{self, Line, LineChart};
use crate::render::md_table;

/// The most a pending stage-5 task may cost for "a coroutine is light" to hold.
pub const LIGHT_TASK_BYTES: f64 = 256.0;

/// The most a waiting connection on one thread may cost for the C10K claim to hold.
pub const C10K_BYTES: f64 = 2048.0;

/// How many times a task switch must fit in a thread switch for "much cheaper" to hold.
pub const MUCH_CHEAPER: f64 = 10.0;

fn switch_table(lab: &LabData) -> String {
    let s = &lab.switch.result;
    let row = vec![
        "ns per switch".to_string(),
        format!("{:.0}", s.thread_switch_ns),
        format!("{:.1}", s.task_switch_ns),
        format!("{:.0}×", s.ratio),
    ];
    md_table(&["cost", "OS thread to OS thread", "stage-5 task to stage-5 task", "thread / task"], &[row])
        + "\n"
        + &lab.caption(&[&lab.switch.command])
}

fn memory_table(lab: &LabData) -> String {
    let rows: Vec<Vec<String>> = lab
        .memory
        .result
        .iter()
        .map(|r| vec![r.kind.clone(), r.count.to_string(), format!("{:.0}", r.bytes_each)])
        .collect();
    md_table(&["waiting", "how many at once", "resident bytes each"], &rows)
        + "\n"
        + &lab.caption(&[&lab.memory.command])
}

fn c10k_table(lab: &LabData) -> String {
    let rows: Vec<Vec<String>> = lab
        .c10k
        .result
        .iter()
        .map(|r| {
            vec![
                r.stage.clone(),
                r.connections.to_string(),
                format!("{:.3}", r.wall_secs),
                r.threads.to_string(),
                format!("{:.0}", r.bytes_per_connection),
                r.errors.to_string(),
            ]
        })
        .collect();
    md_table(&["stage", "connections", "wall s", "threads", "resident bytes per connection", "errors"], &rows)
        + "\n"
        + &lab.caption(&[&lab.c10k.command])
}

fn syscalls_table(lab: &LabData) -> String {
    let rows: Vec<Vec<String>> = lab
        .syscalls
        .result
        .iter()
        .map(|r| {
            let calls: Vec<String> =
                r.calls.iter().map(|c| format!("`{}` {:.2}", c.name, c.per_message)).collect();
            vec![r.server.clone(), format!("{:.2}", r.per_message), calls.join(", ")]
        })
        .collect();
    md_table(&["echo server", "system calls per message", "the calls, by name, per message"], &rows)
        + "\n"
        + &lab.caption(&[&lab.syscalls.command])
}

fn page_syscalls_table(lab: &LabData) -> String {
    let rows: Vec<Vec<String>> = lab
        .page_syscalls
        .result
        .iter()
        .map(|r| {
            let calls: Vec<String> =
                r.calls.iter().take(6).map(|c| format!("`{}` {:.1}", c.name, c.per_message)).collect();
            vec![r.run.clone(), format!("{:.1}", r.per_url), calls.join(", ")]
        })
        .collect();
    md_table(&["crawler", "system calls per crawled URL", "the six most frequent, per URL"], &rows)
        + "\n"
        + &lab.caption(&[&lab.page_syscalls.command])
}

/// The mechanisms of `tour scaling`, in the order their lines are drawn, with their colours.
const WAITS: [(&str, &str); 3] = [("select", "#e45756"), ("poll", "#f58518"), ("epoll", "#4c78a8")];

fn scaling_table(lab: &LabData) -> String {
    let rows: Vec<Vec<String>> = WAITS
        .iter()
        .map(|(mechanism, _)| {
            let mut row = vec![format!("`{mechanism}`")];
            for idle in tour::lab::scaling::WATCHED {
                let cost = lab.scaling.result.iter().find(|r| r.mechanism == *mechanism && r.idle == idle);
                row.push(cost.map_or("cannot".to_string(), |r| format!("{:.2}", r.ns_per_wait / 1e3)));
            }
            row
        })
        .collect();
    let header: Vec<String> = std::iter::once("µs per wait, N idle descriptors:".to_string())
        .chain(tour::lab::scaling::WATCHED.iter().map(|n| format!("N = {n}")))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    md_table(&header, &rows) + "\n" + &lab.caption(&[&lab.scaling.command])
}

fn scaling_chart(lab: &LabData) -> String {
    let lines = WAITS
        .iter()
        .map(|(mechanism, color)| Line {
            name: (*mechanism).to_string(),
            color,
            points: lab
                .scaling
                .result
                .iter()
                .filter(|r| r.mechanism == *mechanism)
                .map(|r| (r.idle as f64, r.ns_per_wait / 1e3))
                .collect(),
        })
        .collect();
    line_chart::svg(&LineChart {
        title: "One wait that finds 1 ready descriptor among N idle ones".to_string(),
        x_label: "idle descriptors watched (N)".to_string(),
        y_label: "µs per wait".to_string(),
        lines,
        notes: chart_notes(lab, &lab.scaling.command),
    })
}

/// The notes under a lab chart: the command, the run, the machine.
fn chart_notes(lab: &LabData, command: &str) -> Vec<String> {
    vec![
        command.to_string(),
        format!("run on {} at commit {} by {}", lab.date, lab.commit, lab.generated_by),
        crate::render::machine_text(&lab.machine),
        format!("drawn from {}/{} by {}", data::DIR, lab::JSON, crate::render::COMMAND),
    ]
}

/// A chart of one series: a bar per label.
fn bytes_chart(title: &str, series: &str, bars: Vec<(String, f64)>, notes: Vec<String>) -> String {
    let (labels, values) = bars.into_iter().unzip();
    chart::svg(&BarChart {
        title: title.to_string(),
        unit: " B",
        decimals: 0,
        labels,
        series: vec![Series { name: series.to_string(), color: "#4c78a8", values }],
        notes,
    })
}

fn memory_chart(lab: &LabData) -> String {
    bytes_chart(
        "Resident bytes per pending task and per parked thread",
        "resident bytes each",
        lab.memory.result.iter().map(|r| (r.kind.clone(), r.bytes_each)).collect(),
        chart_notes(lab, &lab.memory.command),
    )
}

fn c10k_chart(lab: &LabData) -> String {
    bytes_chart(
        "Resident bytes per waiting connection, 10,000 at once",
        "resident bytes per connection",
        lab.c10k.result.iter().map(|r| (r.stage.clone(), r.bytes_per_connection)).collect(),
        chart_notes(lab, &lab.c10k.command),
    )
}

/// The asyncio notes' figure for one thread context switch: 50 µs.
const NOTES_SWITCH_NS: f64 = 50_000.0;

/// The lab's claims, decided by their rules.
pub fn claims(lab: &LabData) -> Vec<Claim> {
    let s = &lab.switch.result;
    let task = lab.memory_row("stage5-task");
    let (tasks, threads) = (lab.c10k_row("stage5-tasks"), lab.c10k_row("stage1-threads"));
    let connection = |r: &lab::C10kRow| {
        let threads = if r.threads == 1 { "thread" } else { "threads" };
        format!(
            "{}: {} connections, {} {threads}, {:.0} bytes per connection, {} errors",
            r.stage, r.connections, r.threads, r.bytes_per_connection, r.errors
        )
    };
    vec![
        Claim {
            claim: "Switching tasks is much cheaper than switching threads.",
            evidence: format!(
                "OS threads: {:.0} ns per switch; stage-5 tasks: {:.1} ns per switch ({:.0}×)",
                s.thread_switch_ns, s.task_switch_ns, s.ratio
            ),
            rule: "a thread switch costs at least 10 task switches",
            holds: Some(s.ratio >= MUCH_CHEAPER),
        },
        Claim {
            claim: "The notes: a thread's context switch costs about 50 µs.",
            evidence: format!(
                "OS threads: {:.1} µs per switch, {:.2}× the notes' 50 µs",
                s.thread_switch_ns / 1000.0,
                s.thread_switch_ns / NOTES_SWITCH_NS
            ),
            rule: "a thread switch within a factor of 2 of 50 µs (25 to 100 µs)",
            holds: Some((NOTES_SWITCH_NS / 2.0..=NOTES_SWITCH_NS * 2.0).contains(&s.thread_switch_ns)),
        },
        Claim {
            claim: "A coroutine is light: a pending task costs at most 256 bytes.",
            evidence: task
                .map(|r| format!("{}: {:.0} bytes each, {} pending at once", r.kind, r.bytes_each, r.count))
                .unwrap_or_default(),
            rule: "a pending stage-5 task at most 256 resident bytes",
            holds: task.map(|r| r.bytes_each <= LIGHT_TASK_BYTES),
        },
        Claim {
            claim: "One thread holds 10,000 connections in little memory.",
            evidence: tasks.map(connection).unwrap_or_default(),
            rule: "10,000 connections on 1 thread, at most 2048 bytes per connection, no errors",
            holds: tasks.map(|r| {
                r.connections >= C10K_CONNECTIONS
                    && r.threads == 1
                    && r.bytes_per_connection <= C10K_BYTES
                    && r.errors == 0
            }),
        },
        Claim {
            claim: "Threads cost more per connection than tasks.",
            evidence: [threads, tasks].into_iter().flatten().map(connection).collect::<Vec<_>>().join("; "),
            rule: "stage-1 threads' bytes per connection above stage-5 tasks'",
            holds: threads.zip(tasks).map(|(th, t)| th.bytes_per_connection > t.bytes_per_connection),
        },
    ]
}

/// Every lab file drawn from `lab`: (where it goes, its text).
pub fn generate(root: &Path, lab: &LabData) -> Vec<(PathBuf, String)> {
    let dir = root.join(data::DIR);
    vec![
        (dir.join("lab-switch.md"), switch_table(lab)),
        (dir.join("lab-memory.md"), memory_table(lab)),
        (dir.join("lab-c10k.md"), c10k_table(lab)),
        (dir.join("lab-syscalls.md"), syscalls_table(lab)),
        (dir.join("lab-page-syscalls.md"), page_syscalls_table(lab)),
        (dir.join("lab-scaling.md"), scaling_table(lab)),
        (dir.join("lab-scaling.svg"), scaling_chart(lab)),
        (dir.join("lab-memory.svg"), memory_chart(lab)),
        (dir.join("lab-c10k.svg"), c10k_chart(lab)),
    ]
    .into_iter()
    .chain(crate::bench::generate(root, lab))
    .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lab::{C10kRow, Measured, MemoryCost, PageRow, SwitchCost, SyscallRow, WaitCost};
    use tour::lab::syscalls::Call;

    fn c10k(stage: &str, threads: usize, bytes_per_connection: f64) -> C10kRow {
        C10kRow {
            stage: stage.into(),
            connections: 10_000,
            wall_secs: 1.5,
            threads,
            bytes_per_connection,
            errors: 0,
        }
    }

    pub(crate) fn sample() -> LabData {
        let memory = |kind: &str, bytes_each| MemoryCost { kind: kind.into(), count: 1000, bytes_each };
        LabData {
            generated_by: data::COMMAND.into(),
            date: "2026-01-01".into(),
            commit: "abc".into(),
            machine: crate::render::tests::sample().machine, // the same run as the tour's sample
            switch: Measured {
                command: data::release_tour_command(lab::SWITCH_ARGS),
                result: SwitchCost { thread_switch_ns: 50_000.0, task_switch_ns: 2000.0, ratio: 25.0 },
            },
            memory: Measured {
                command: data::release_tour_command(lab::MEMORY_ARGS),
                result: vec![memory("stage5-task", 230.0), memory("os-thread", 9900.0)],
            },
            c10k: Measured {
                command: data::release_tour_command(lab::C10K_ARGS),
                result: vec![c10k("stage5-tasks", 1, 1300.0), c10k("stage1-threads", 5000, 23000.0)],
            },
            syscalls: Measured {
                command: data::release_tour_command(lab::SYSCALLS_ARGS),
                result: vec![SyscallRow {
                    server: "stage5-tasks".into(),
                    messages: 10_000,
                    per_message: 3.0,
                    calls: vec![
                        Call { name: "epoll_wait".into(), per_message: 1.0 },
                        Call { name: "read".into(), per_message: 2.0 },
                    ],
                }],
            },
            page_syscalls: Measured {
                command: data::release_tour_command(lab::PAGE_SYSCALLS_ARGS),
                result: vec![PageRow {
                    run: "stage 3 callbacks".into(),
                    urls: [50, 90],
                    per_url: 12.0,
                    calls: vec![Call { name: "connect".into(), per_message: 1.0 }],
                }],
            },
            scaling: Measured {
                command: data::release_tour_command(lab::SCALING_ARGS),
                result: vec![
                    WaitCost { mechanism: "poll".into(), idle: 10, ns_per_wait: 900.0, waits: 200 },
                    WaitCost { mechanism: "poll".into(), idle: 1000, ns_per_wait: 28_000.0, waits: 200 },
                    WaitCost { mechanism: "epoll".into(), idle: 10, ns_per_wait: 450.0, waits: 200 },
                    WaitCost { mechanism: "epoll".into(), idle: 1000, ns_per_wait: 520.0, waits: 200 },
                ],
            },
            benches: crate::bench::tests::sample(1000.0),
        }
    }

    #[test]
    fn the_lab_claims_are_decided_by_their_rules() {
        let verdicts = |lab: &LabData| claims(lab).iter().map(|c| c.holds).collect::<Vec<_>>();
        assert_eq!(verdicts(&sample()), [Some(true); 5]);
        let mut slow = sample();
        slow.switch.result.ratio = 9.9;
        assert_eq!(verdicts(&slow)[0], Some(false));
        for (switch_ns, holds) in [(24_900.0, false), (25_000.0, true), (100_000.0, true), (100_100.0, false)]
        {
            let mut machine = sample();
            machine.switch.result.thread_switch_ns = switch_ns;
            assert_eq!(verdicts(&machine)[1], Some(holds), "a thread switch of {switch_ns} ns");
        }
        let mut heavy = sample();
        heavy.memory.result[0].bytes_each = 257.0;
        heavy.c10k.result[0].errors = 1;
        assert_eq!(verdicts(&heavy)[2..4], [Some(false), Some(false)]);
        let mut missing = sample();
        missing.c10k.result.retain(|r| r.stage != "stage1-threads");
        assert_eq!(verdicts(&missing)[4], None);
    }

    #[test]
    fn every_lab_table_and_chart_names_its_command_and_machine() {
        let lab = sample();
        for (path, text) in generate(Path::new("/r"), &lab) {
            assert!(lab.commands().iter().any(|c| text.contains(c)), "{}", path.display());
            assert!(text.contains("Test CPU"), "{}", path.display());
        }
        let switch = switch_table(&lab);
        assert!(switch.contains("| ns per switch | 50000 | 2000.0 | 25× |"), "{switch}");
        assert!(memory_table(&lab).contains("| os-thread | 1000 | 9900 |"));
        assert!(c10k_table(&lab).contains("| stage5-tasks | 10000 | 1.500 | 1 | 1300 | 0 |"));
        let syscalls = syscalls_table(&lab);
        assert!(syscalls.contains("| stage5-tasks | 3.00 | `epoll_wait` 1.00, `read` 2.00 |"), "{syscalls}");
    }
}
