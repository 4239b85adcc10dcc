//! Running one stage as a child process and measuring it from outside.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

use crate::stages::{RUN_STAGE, StageRun};

/// What one run of one stage produced.
#[derive(Debug)]
pub struct Measured {
    /// Which stage and mode ran.
    pub stage: StageRun,
    /// Its report (stdout), as printed.
    pub report: String,
    /// From spawn to exit, as the tour saw it (process start included).
    pub wall: Duration,
    /// User plus system CPU time of the child and everything it waited for.
    pub cpu: Duration,
    /// Most threads the child process had at once (sampled every millisecond from
    /// `/proc/PID/task`, where a thread that has just been joined can still be listed for a
    /// moment: a thread-per-URL run may show one more than it ever had running).
    pub peak_threads: usize,
    /// Most connections open at the site at once during the run.
    pub peak_connections: u64,
}

/// How often the thread count is sampled. Threads in this project live at least one request
/// (tens of milliseconds at the site's default latency), so 1 ms sampling does not miss them.
const SAMPLE_EVERY: Duration = Duration::from_millis(1);

/// Runs `stage` against `site` with the shared `flags` and measures it.
pub fn run(stage: &StageRun, site: &site::RunningSite, flags: &[String]) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    site.counters().reset_peak();
    let cpu_before = children_cpu()?;
    let started = Instant::now();
    let child = Command::new(exe)
        .arg(RUN_STAGE)
        .arg(stage.crate_name)
        .arg(site.url())
        .args(flags)
        .args(stage.extra_flags)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let pid = child.id();
    let running = AtomicBool::new(true);
    let (output, peak_threads) = thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut peak = 0;
            while running.load(Ordering::Relaxed) {
                peak = peak.max(thread_count(pid));
                thread::sleep(SAMPLE_EVERY);
            }
            peak
        });
        let output = child.wait_with_output();
        running.store(false, Ordering::Relaxed);
        (output, sampler.join().expect("sampler thread panicked"))
    });
    let wall = started.elapsed();
    let output = output.map_err(|e| format!("cannot wait: {e}"))?;
    if !output.status.success() {
        return Err(format!("exited with {}", output.status));
    }
    Ok(Measured {
        stage: *stage,
        report: String::from_utf8_lossy(&output.stdout).into_owned(),
        wall,
        cpu: children_cpu()?.saturating_sub(cpu_before),
        peak_threads,
        peak_connections: site.counters().peak_connections(),
    })
}

/// CPU time (user + system) of all waited-for children so far. The kernel adds a child's usage,
/// including its own waited-for children, when it is reaped, so a difference around one run is
/// that run's cost, child processes of `--mode processes` included.
fn children_cpu() -> Result<Duration, String> {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).map_err(|e| format!("getrusage: {e}"))?;
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Ok(Duration::from_micros(micros(usage.user_time()) + micros(usage.system_time())))
}

/// Threads of a live process (0 once it is gone) that take part in the crawl.
///
/// Left out: the Ctrl-C watcher every stage binary starts (`crawl::interrupt`), which only sleeps
/// in `sigwait` (counting it would hide that stages 2 to 6 crawl on one thread); and a thread in
/// the instant between its birth and its naming, when it still shows its creator's name (every
/// thread in this project is named, so the next sample counts it, and the watcher is never
/// counted even while it is being born).
fn thread_count(pid: u32) -> usize {
    let comm = |path: std::path::PathBuf| std::fs::read_to_string(path.join("comm")).unwrap_or_default();
    let main_name = comm(format!("/proc/{pid}").into());
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            let is_main = task.file_name().to_str() == Some(pid.to_string().as_str());
            let name = comm(task.path());
            is_main || (name != main_name && name.trim_end() != crawl::interrupt::WATCHER_THREAD)
        })
        .count()
}
