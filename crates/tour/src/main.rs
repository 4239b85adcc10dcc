//! The tour: every stage, every mode, one fixture site, one table.
//!
//! ```text
//! cargo run --release -p tour                 # the default site: 200 pages, 20 ms latency, faults on
//! cargo run --release -p tour -- --pages 100 --latency-ms 50 --json
//! cargo run --release -p tour -- switch        # the lab: see `tour::lab`
//! cargo run --release -p tour -- memory
//! cargo run --release -p tour -- c10k --connections 10000
//! cargo run --release -p tour -- syscalls
//! cargo run --release -p tour -- timeline --out target/timeline
//! ```
//!
//! The site runs inside the tour, on its own thread. Each stage runs as a child process (the tour
//! runs *itself* with a hidden first argument naming the stage), so that its CPU time, its threads
//! and its connections are its own and can be measured from outside: CPU from the kernel's
//! accounting of waited-for children, threads by sampling `/proc/PID/task`, connections by the
//! site's own counter.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tour::{lab, measure, stages, table};

/// Command-line flags of the tour.
#[derive(Debug, Parser)]
#[command(name = "tour", about = "Run every stage against the built-in fixture site and compare them")]
struct TourArgs {
    /// A measurement of the lab instead of the tour of the stages
    #[command(subcommand)]
    lab: Option<Lab>,
    /// Pages on the fixture site
    #[arg(long, default_value_t = 200)]
    pages: usize,
    /// Links per page
    #[arg(long, default_value_t = 8)]
    links: usize,
    /// Delay before every response, in milliseconds
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Seed of the generated site
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve no faulty pages
    #[arg(long)]
    no_faults: bool,
    /// Requests in flight per crawl (--max-tasks)
    #[arg(long, default_value_t = 10)]
    max_tasks: usize,
    /// Per-request timeout in seconds: short, so the pages that never answer cost little
    #[arg(long, default_value_t = 0.2)]
    timeout: f64,
    /// Print the rows as a JSON array instead of a table
    #[arg(long)]
    json: bool,
}

/// The lab's measurements (`tour::lab`).
#[derive(Debug, Subcommand)]
enum Lab {
    /// Concurrent connections to a site with 4 s latency: stage 5's tasks against stage 1's threads
    C10k {
        /// Connections open at once
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// The cost of an OS thread switch against a task switch
    Switch {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Bytes per pending task (stages 4 and 5, tokio, smol) and per parked thread
    Memory {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// One wait that finds one ready descriptor among N idle ones: select, poll and epoll
    Scaling {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// System calls per echoed message (one client in lock-step), by name, counted by strace
    Syscalls {
        /// Messages of the shorter of the two runs per server (the other sends twice as many)
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Only this server (stage3-protocol, stage5-tasks, tokio, smol, thread-per-connection)
        #[arg(long, conflicts_with = "crawl")]
        server: Option<String>,
        /// Count per crawled URL instead, for every stage and mode
        #[arg(long)]
        crawl: bool,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Every stage's --timeline against one small site, drawn as SVG pictures on one time axis
    Timeline {
        /// Where the traces (ROW.json) and pictures (ROW.svg, all.svg) go
        #[arg(long, default_value = "target/timeline")]
        out: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    crawl::exit::quiet_on_closed_stdout(); // `tour | head -3`, the lab and the children alike
    let mut args = std::env::args_os();
    match args.nth(1) {
        // The tour running itself as one stage's crawler: argv is `tour __stage NAME FLAGS...`.
        Some(first) if first == stages::RUN_STAGE => {
            return stages::run_stage_main(std::env::args_os().skip(2));
        }
        // ... or as one lab measurement: `tour __lab WHAT ARGS...`.
        Some(first) if first == lab::RUN_LAB => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            return exit_with(lab::run_lab_main(&args));
        }
        _ => {}
    }
    let args = TourArgs::parse();
    if let Some(which) = args.lab {
        if matches!(which, Lab::Syscalls { .. })
            && let Err(why) = lab::syscalls::strace_available()
        {
            eprintln!("error: {why}");
            return ExitCode::from(2);
        }
        return exit_with(run_lab(which));
    }
    let config = site::SiteConfig {
        pages: args.pages,
        links: args.links,
        latency: Duration::from_millis(args.latency_ms),
        seed: args.seed,
        faults: !args.no_faults,
        ..site::SiteConfig::default()
    };
    let site = match site::spawn(config) {
        Ok(site) => site,
        Err(e) => {
            eprintln!("error: cannot start the fixture site: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "fixture site at {} ({} pages, {} links a page, {} ms latency, faults {})",
        site.url(),
        args.pages,
        args.links,
        args.latency_ms,
        if args.no_faults { "off" } else { "on" }
    );
    let crawl_flags = [
        "--max-tasks".to_string(),
        args.max_tasks.to_string(),
        "--timeout".to_string(),
        args.timeout.to_string(),
        "-q".to_string(),
    ];
    let mut rows = Vec::new();
    for stage in stages::ALL {
        eprintln!("running {stage} ...");
        match measure::run(stage, &site, &crawl_flags) {
            Ok(run) => rows.push(run),
            Err(why) => {
                eprintln!("error: {stage} failed: {why}");
                return ExitCode::FAILURE;
            }
        }
    }
    let rows = table::rows(&rows);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialise"));
    } else {
        print!("{}", table::render(&rows));
    }
    ExitCode::SUCCESS
}

/// Runs one lab measurement and prints its table or JSON.
fn run_lab(which: Lab) -> Result<(), String> {
    fn print<T: serde::Serialize>(json: bool, data: &T, table: impl FnOnce(&T) -> String) {
        if json {
            println!("{}", serde_json::to_string_pretty(data).expect("lab data serialises"));
        } else {
            print!("{}", table(data));
        }
    }
    match which {
        Lab::C10k { connections, json } => {
            print(json, &lab::c10k::measure(connections)?, |rows| lab::c10k::render(rows))
        }
        Lab::Switch { json } => print(json, &lab::switch::measure(), lab::switch::render),
        Lab::Memory { json } => print(json, &lab::memory::measure()?, |rows| lab::memory::render(rows)),
        Lab::Scaling { json } => print(json, &lab::scaling::measure()?, |rows| lab::scaling::render(rows)),
        Lab::Syscalls { crawl: true, json, .. } => {
            print(json, &lab::page_syscalls::measure()?, |rows| lab::page_syscalls::render(rows))
        }
        Lab::Syscalls { messages, server, json, crawl: false } => {
            let servers: Vec<&str> = match &server {
                Some(one) if lab::syscalls::SERVERS.contains(&one.as_str()) => vec![one.as_str()],
                Some(other) => {
                    return Err(format!(
                        "no server named {other}: one of {}",
                        lab::syscalls::SERVERS.join(", ")
                    ));
                }
                None => lab::syscalls::SERVERS.to_vec(),
            };
            print(json, &lab::syscalls::measure(messages, &servers)?, |rows| lab::syscalls::render(rows))
        }
        Lab::Timeline { out } => {
            for row in lab::timeline::record(&out)? {
                println!(
                    "{}: {} ({:.0} ms) and {}",
                    row.run,
                    row.json.display(),
                    row.wall_ms,
                    row.svg.display()
                );
            }
            println!("all: {}", out.join("all.svg").display());
        }
    }
    Ok(())
}

/// Exit status 0, or one line on stderr and 1.
fn exit_with(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}
