//! C10K: ten thousand connections waiting at once, on one thread against a thread each.
//!
//! The fixture site runs in a child process and holds every response for four seconds, so all
//! the requests are in flight together. Stage 5 opens them as tasks on one thread; stage 1 as a
//! thread per connection. Just after the last one has started, with every request waiting, each
//! child reads its own thread count and resident memory; the growth since it started, divided by
//! the connections, is what a waiting connection costs it in user memory (kernel socket buffers
//! are not counted).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crawl::{Config, Outcome};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{RUN_LAB, resident_bytes, run_child, threads};

/// The site's latency: long enough that every connection is still waiting at the moment of the
/// sample. Starting 15,000 threads takes about 2.5 s here, and a thread answered before the
/// sample has already exited and given its memory back, so this must exceed that.
const LATENCY: Duration = Duration::from_secs(4);
/// When the sample is taken, after the last request has been started.
const SAMPLE_AFTER: Duration = Duration::from_millis(300);
/// Descriptors a process needs besides its connections (std streams, epoll, libraries).
const SPARE_FDS: u64 = 64;
/// Pages on the site; connection `i` asks for page `i % PAGES`.
const PAGES: usize = 100;

/// One row of `tour c10k`, as `--json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct C10kRow {
    /// `stage5-tasks` or `stage1-threads`.
    pub stage: String,
    /// Concurrent connections asked for.
    pub connections: usize,
    /// From the first connect to the last response.
    pub wall_secs: f64,
    /// The process's threads while every request waited.
    pub threads: usize,
    /// Resident memory growth per connection while every request waited.
    pub bytes_per_connection: f64,
    /// Requests that failed (should be zero).
    pub errors: usize,
}

/// Runs the site in a child, then each stage in a child of its own.
pub fn measure(connections: usize) -> Result<Vec<C10kRow>, String> {
    raise_fd_limit(connections)?; // checked here first, for a clear message before any work
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the tour's own binary: {e}"))?;
    let mut site = Command::new(exe)
        .args([RUN_LAB, "site", &connections.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the fixture site: {e}"))?;
    let mut first_line = String::new();
    let read = BufReader::new(site.stdout.take().expect("piped")).read_line(&mut first_line);
    let result = match read {
        Ok(n) if n > 0 => ["stage5-tasks", "stage1-threads"]
            .iter()
            .map(|stage| {
                let printed = run_child(&[
                    "c10k".into(),
                    stage.to_string(),
                    first_line.trim().into(),
                    connections.to_string(),
                ])?;
                serde_json::from_str(printed.trim()).map_err(|e| format!("{stage}: unexpected output: {e}"))
            })
            .collect(),
        _ => Err("the fixture site did not start".to_string()),
    };
    drop(site.stdin.take()); // end of input: the site child exits
    let _ = site.wait();
    result
}

/// The `tour c10k` table.
pub fn render(rows: &[C10kRow]) -> String {
    let mut out = format!(
        "{:<15} {:>11} {:>8} {:>8} {:>16} {:>7}\n",
        "stage", "connections", "wall s", "threads", "bytes/connection", "errors"
    );
    for row in rows {
        out += &format!(
            "{:<15} {:>11} {:>8.3} {:>8} {:>16.0} {:>7}\n",
            row.stage, row.connections, row.wall_secs, row.threads, row.bytes_per_connection, row.errors
        );
    }
    out
}

/// Raises this process's soft descriptor limit to what `connections` need, or says why it can't.
fn raise_fd_limit(connections: usize) -> Result<(), String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let needed = connections as u64 + SPARE_FDS;
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| format!("cannot read the fd limit: {e}"))?;
    if soft >= needed {
        return Ok(());
    }
    if hard < needed {
        return Err(format!(
            "{connections} connections need {needed} file descriptors, but this process may open at most {hard} \
             (its hard limit); ask for fewer with --connections, or raise the limit (ulimit -Hn)"
        ));
    }
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard).map_err(|e| format!("cannot raise the fd limit: {e}"))
}

/// The site child: `tour __lab site CONNECTIONS` prints its URL and serves until stdin closes.
pub fn site_child(args: &[String]) -> Result<(), String> {
    let connections: usize = args.first().and_then(|n| n.parse().ok()).ok_or("usage: site CONNECTIONS")?;
    raise_fd_limit(connections)?;
    let config =
        site::SiteConfig { pages: PAGES, latency: LATENCY, faults: false, ..site::SiteConfig::default() };
    let site = site::spawn(config).map_err(|e| format!("cannot start the fixture site: {e}"))?;
    println!("{}", site.url());
    let _ = std::io::stdin().lines().count(); // until the parent closes our stdin
    drop(site);
    Ok(())
}

/// The measuring child: `tour __lab c10k STAGE URL CONNECTIONS` prints one JSON row.
pub fn child(args: &[String]) -> Result<(), String> {
    let [stage, root, connections] = args else { return Err("usage: c10k STAGE URL CONNECTIONS".into()) };
    let connections: usize = connections.parse().map_err(|_| format!("not a number: {connections}"))?;
    raise_fd_limit(connections)?;
    // One try each, a timeout far beyond the latency: a slow accept must not turn into a retry.
    let config = Config::from_cli_args(["c10k", root.as_str(), "-q", "--max-tries", "1", "--timeout", "60"])?;
    let urls: Vec<Url> = (0..connections)
        .map(|i| config.roots[0].join(&format!("page/{}", i % PAGES)).expect("a valid page URL"))
        .collect();
    let before = resident_bytes();
    let started = Instant::now();
    let (sample, outcomes) = match stage.as_str() {
        "stage5-tasks" => stage5_tasks(urls, config),
        "stage1-threads" => stage1_threads(urls, config)?,
        other => return Err(format!("no c10k stage named {other}")),
    };
    let row = C10kRow {
        stage: stage.clone(),
        connections,
        wall_secs: started.elapsed().as_secs_f64(),
        threads: sample.threads,
        bytes_per_connection: sample.resident.saturating_sub(before) as f64 / connections as f64,
        errors: outcomes.iter().filter(|o| !matches!(o, Outcome::Page { .. })).count(),
    };
    println!("{}", serde_json::to_string(&row).expect("a row serialises"));
    Ok(())
}

/// What was read while every request waited.
struct Sample {
    threads: usize,
    resident: u64,
}

fn take_sample() -> Sample {
    Sample { threads: threads(), resident: resident_bytes() }
}

/// Every URL as a task on one thread.
fn stage5_tasks(urls: Vec<Url>, config: Config) -> (Sample, Vec<Outcome>) {
    use stage5_async_await::{gather, run, spawn, time::sleep};
    run(async move {
        let config = std::rc::Rc::new(config);
        let handles = urls
            .into_iter()
            .map(|url| {
                let config = std::rc::Rc::clone(&config);
                spawn(async move { stage5_async_await::fetch::fetch(&url, &config).await.outcome })
            })
            .collect();
        sleep(SAMPLE_AFTER).await;
        let sample = take_sample();
        let outcomes =
            gather(handles).await.into_iter().map(|r| r.expect("a fetch does not panic")).collect();
        (sample, outcomes)
    })
}

/// Every URL on a thread of its own.
fn stage1_threads(urls: Vec<Url>, config: Config) -> Result<(Sample, Vec<Outcome>), String> {
    let config = Arc::new(config);
    let mut threads = Vec::with_capacity(urls.len());
    for url in urls {
        let config = Arc::clone(&config);
        let thread = std::thread::Builder::new()
            .spawn(move || stage1_blocking::fetch::fetch(&url, &config).outcome)
            .map_err(|e| format!("could not start thread {}: {e}", threads.len() + 1))?;
        threads.push(thread);
    }
    std::thread::sleep(SAMPLE_AFTER);
    let sample = take_sample();
    let outcomes = threads.into_iter().map(|t| t.join().expect("a fetch does not panic")).collect();
    Ok((sample, outcomes))
}
