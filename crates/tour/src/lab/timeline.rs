//! `tour timeline`: every stage's `--timeline`, recorded against one small site and drawn on one
//! time axis.
//!
//! ```text
//! cargo run --release -p tour -- timeline --out target/timeline
//! ```
//!
//! [`record`] starts the fixture site ([`PAGES`] pages, [`LATENCY_MS`] ms latency, faults on),
//! runs every row of [`crate::stages::ALL`] against it as its own process with [`crawl_flags`]
//! and `--timeline DIR/<row>.json` ([`file_stem`]), then draws each trace as `DIR/<row>.svg` and
//! all of them stacked as `DIR/all.svg`, every picture on the axis of the longest run.
//!
//! The crawl flags keep a run to a second or two and keep two faults in: `/fault/flaky` (reset,
//! reset, then an answer: a retry you can see) and `/fault/silent` (no answer: a try ended by its
//! deadline, three times). Every other fault is excluded, so a picture shows a couple of faults
//! among ordinary pages rather than a wall of them.
//!
//! Drawing is a pure function of the trace's text ([`render`], [`render_all`]), so the book's
//! generator redraws the pictures from the stored JSON and can tell a stale one.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::stages::{ALL, RUN_STAGE, StageRun};

/// Pages on the site the timelines are recorded against: few, so that the lanes stay readable.
pub const PAGES: usize = 30;
/// The site's latency before every response.
pub const LATENCY_MS: u64 = 20;
/// `--max-tasks` of every run: five lanes.
pub const MAX_TASKS: usize = 5;
/// `--timeout` of every run: the silent page costs three of these.
pub const TIMEOUT: &str = "0.3";
/// `--max-tries`: the flaky page answers on its third try, and the silent one is given three.
pub const MAX_TRIES: &str = "3";
/// The faults a run still meets; every other one is excluded ([`exclude`]).
pub const KEPT_FAULTS: &[&str] = &["/fault/flaky", "/fault/silent"];

/// `--exclude`: every fault path of the site but the [`KEPT_FAULTS`] (taken from `site::FAULTS`,
/// so a fault added to the site does not slip into the pictures).
pub fn exclude() -> String {
    let paths: Vec<&str> =
        site::FAULTS.iter().map(|fault| fault.path).filter(|path| !KEPT_FAULTS.contains(path)).collect();
    paths.join("|")
}

/// The crawl flags of every run, before the row's own and `--timeline`.
pub fn crawl_flags() -> Vec<String> {
    [
        "--max-tasks",
        &MAX_TASKS.to_string(),
        "--timeout",
        TIMEOUT,
        "--max-tries",
        MAX_TRIES,
        "--exclude",
        &exclude(),
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `stage1-sequential`, `stage6-tokio-multi-thread`: a row's file name, without extension.
pub fn file_stem(run: &StageRun) -> String {
    format!("stage{}-{}", run.stage, run.mode)
}

/// A row's command line as a reader would type it against a site at `site_url`.
pub fn stage_command(run: &StageRun, site_url: &str) -> String {
    let mut words = vec![format!("cargo run --release -p {} --", run.crate_name), site_url.to_string()];
    for flag in crawl_flags().iter().map(String::as_str).chain(run.extra_flags.iter().copied()) {
        words.push(if flag.contains('|') { format!("'{flag}'") } else { flag.to_string() });
    }
    words.push(format!("--timeline {}.json", file_stem(run)));
    words.join(" ")
}

/// What [`record`] wrote for one row.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The row.
    pub run: StageRun,
    /// Its trace.
    pub json: PathBuf,
    /// Its picture.
    pub svg: PathBuf,
    /// From its first event to its last.
    pub wall_ms: f64,
}

/// Records every row's timeline into `out` and draws them (see the module's docs).
pub fn record(out: &Path) -> Result<Vec<Recorded>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot make {}: {e}", out.display()))?;
    let config = site::SiteConfig {
        pages: PAGES,
        latency: Duration::from_millis(LATENCY_MS),
        faults: true,
        ..site::SiteConfig::default()
    };
    let site = site::spawn(config).map_err(|e| format!("cannot start the fixture site: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    let mut traces = Vec::new();
    for run in ALL {
        eprintln!("recording {run} ...");
        let json = out.join(format!("{}.json", file_stem(run)));
        let status = Command::new(&exe)
            .arg(RUN_STAGE)
            .arg(run.crate_name)
            .arg(site.url())
            .args(crawl_flags())
            .args(run.extra_flags)
            .arg("--timeline")
            .arg(&json)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| format!("{run}: cannot start: {e}"))?;
        if !status.success() {
            return Err(format!("{run} exited with {status}"));
        }
        let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
        traces.push((*run, json, text));
    }
    let texts: Vec<(String, String)> =
        traces.iter().map(|(run, _, text)| (run.to_string(), text.clone())).collect();
    let axis = axis_ms(&texts)?;
    let mut recorded = Vec::new();
    for (run, json, text) in &traces {
        let svg = json.with_extension("svg");
        write(&svg, &render(text, axis, &run.to_string())?)?;
        recorded.push(Recorded { run: *run, json: json.clone(), svg, wall_ms: parse(text)?.wall_ms });
    }
    write(&out.join("all.svg"), &render_all(&texts, axis)?)?;
    Ok(recorded)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The common axis of `traces` (label, JSON text): the longest one's wall, in ms.
pub fn axis_ms(traces: &[(String, String)]) -> Result<f64, String> {
    let mut axis: f64 = 0.0;
    for (label, text) in traces {
        axis = axis.max(parse(text).map_err(|e| format!("{label}: {e}"))?.wall_ms);
    }
    Ok(axis)
}

// ---------------------------------------------------------------------------------------------
// Reading a trace.

/// A span, in ms from the trace's first event.
#[derive(Clone, Debug, PartialEq)]
struct Span {
    name: String,
    start: f64,
    end: f64,
    /// How many spans of its track were open around it.
    depth: usize,
    /// The `result` argument of its end (a try's: `200`, `error timeout`).
    result: Option<String>,
}

/// An instant event, in ms from the trace's first event.
#[derive(Clone, Debug, PartialEq)]
struct Mark {
    name: String,
    at: f64,
}

/// A track of the trace: a connection slot or an OS thread.
#[derive(Clone, Debug, PartialEq)]
struct Track {
    label: String,
    spans: Vec<Span>,
    marks: Vec<Mark>,
    /// Its first and last event.
    first: f64,
    last: f64,
}

/// What a picture is drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The program that recorded it (`otherData`'s `recorded by`).
    pub recorded_by: String,
    /// From the first event to the last, in ms.
    pub wall_ms: f64,
    lanes: Vec<Track>,
    threads: Vec<Track>,
    tasks: Vec<TaskRow>,
}

/// A task of stages 4 to 6, from its spawn to its end, with its polls (or steps) and wakes.
#[derive(Clone, Debug, PartialEq)]
struct TaskRow {
    id: u64,
    start: f64,
    /// Its end, if the trace has one.
    end: Option<f64>,
    polls: Vec<(f64, f64)>,
    wakes: Vec<f64>,
}

impl Trace {
    /// URLs fetched: the URL spans of the lanes, by name. (By name, not by nesting: in stage 1's
    /// `processes` a child's spans, merged into its parent's lane, can start a moment before the
    /// parent's span for the child does, and a URL's name is there twice, the parent's and the
    /// child's.)
    pub fn urls(&self) -> usize {
        let names: std::collections::BTreeSet<&str> = self
            .lanes
            .iter()
            .flat_map(|l| &l.spans)
            .filter(|s| !is_step(&s.name) && !is_child_process(&s.name))
            .map(|s| s.name.as_str())
            .collect();
        names.len()
    }

    /// Tries made, in every lane.
    pub fn tries(&self) -> usize {
        self.lanes.iter().flat_map(|l| &l.spans).filter(|s| s.name.starts_with("try ")).count()
    }

    /// Threads that recorded something, child processes' included.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Tasks spawned, counting a number again when a later run (an example's next ordering)
    /// gives it to a new task.
    pub fn tasks(&self) -> usize {
        self.tasks.len()
    }
}

/// Reads a trace written by `crawl::timeline` (the Chrome trace event format).
pub fn parse(json: &str) -> Result<Trace, String> {
    let file: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let events = file["traceEvents"].as_array().ok_or("no traceEvents")?;
    let is_meta = |e: &Value| e["ph"] == "M";
    let t0 =
        events.iter().filter(|e| !is_meta(e)).filter_map(|e| e["ts"].as_f64()).fold(f64::INFINITY, f64::min);
    if !t0.is_finite() {
        return Err("no events".to_string());
    }
    let ms = |ts: f64| (ts - t0) / 1000.0;
    let id = |e: &Value| (e["pid"].as_u64().unwrap_or(0), e["tid"].as_u64().unwrap_or(0));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut thread_names = BTreeMap::new();
    let mut process_names = BTreeMap::new();
    let mut tracks: BTreeMap<(u64, u64), Track> = BTreeMap::new();
    let mut open: BTreeMap<(u64, u64), Vec<(String, f64)>> = BTreeMap::new();
    let mut wall: f64 = 0.0;
    for event in events {
        let (pid, tid) = id(event);
        if is_meta(event) {
            match event["name"].as_str() {
                Some("thread_name") => drop(thread_names.insert((pid, tid), text(&event["args"]["name"]))),
                Some("process_name") => drop(process_names.insert(pid, text(&event["args"]["name"]))),
                _ => {}
            }
            continue;
        }
        let Some(ts) = event["ts"].as_f64().map(ms) else { continue };
        let end = ts + event["dur"].as_f64().unwrap_or(0.0) / 1000.0;
        wall = wall.max(end);
        if tid == 0 {
            continue; // a counter
        }
        let track = tracks.entry((pid, tid)).or_insert_with(|| Track {
            label: String::new(),
            spans: Vec::new(),
            marks: Vec::new(),
            first: ts,
            last: end,
        });
        track.first = track.first.min(ts);
        track.last = track.last.max(end);
        let stack = open.entry((pid, tid)).or_default();
        let name = text(&event["name"]);
        match event["ph"].as_str().unwrap_or_default() {
            "B" => stack.push((name, ts)),
            "E" => {
                if let Some((name, start)) = stack.pop() {
                    let result = event["args"]["result"].as_str().map(str::to_string);
                    track.spans.push(Span { name, start, end: ts, depth: stack.len(), result });
                }
            }
            "X" => track.spans.push(Span { name, start: ts, end, depth: stack.len(), result: None }),
            "i" | "I" => track.marks.push(Mark { name, at: ts }),
            _ => {}
        }
    }
    // A span the file left open (it should not) ends with the trace.
    for (key, mut stack) in open {
        let track = tracks.get_mut(&key).expect("opened on a track");
        while let Some((name, start)) = stack.pop() {
            track.spans.push(Span { name, start, end: track.last, depth: stack.len(), result: None });
        }
    }
    let mut lanes = Vec::new();
    let mut threads = Vec::new();
    for ((pid, tid), mut track) in tracks {
        let name = thread_names.get(&(pid, tid)).cloned().unwrap_or_else(|| format!("track {tid}"));
        if pid == u64::from(crawl::timeline::LANES_PID) {
            track.label = name;
            lanes.push(track);
        } else {
            track.label = if pid == u64::from(crawl::timeline::THREADS_PID) {
                name
            } else {
                // `child process PID: URL`: the child's page says more than its pid.
                let url = process_names.get(&pid).and_then(|p| p.split_once(": ")).map(|(_, url)| url);
                let page = url.and_then(|u| url::Url::parse(u).ok()).map(|u| u.path().to_string());
                format!("{name} of {}", page.unwrap_or_else(|| format!("process {pid}")))
            };
            threads.push(track);
        }
    }
    let recorded_by = file["otherData"]["recorded by"].as_str().unwrap_or("a crawl").to_string();
    let tasks = tasks(&threads);
    Ok(Trace { recorded_by, wall_ms: wall, lanes, threads, tasks })
}

/// Whether a lane's span is part of a try (a try, a step of one, the gap before one) rather than
/// a URL's or a child process's.
fn is_step(name: &str) -> bool {
    name.starts_with("try ") || name == "retry gap" || PHASES.iter().any(|(phase, _)| *phase == name)
}

/// The number in `spawn task 7`, `wake task 7`, `poll task 7`, `task 7 done`.
fn task_number(name: &str) -> Option<u64> {
    name.split(' ').find_map(|word| word.parse().ok())
}

/// The tasks, from the threads' task events in time order. A number spawned again after its
/// task ended is a new task (each `run` of stage 5 numbers its tasks from 1).
fn tasks(threads: &[Track]) -> Vec<TaskRow> {
    // (time, what: 0 spawn, 1 poll, 2 wake, 3 end, its number, a poll's end)
    let mut events: Vec<(f64, u8, u64, f64)> = Vec::new();
    for thread in threads {
        for mark in &thread.marks {
            let kind = if mark.name.starts_with("spawn task ") {
                0
            } else if mark.name.starts_with("wake task ") {
                2
            } else if mark.name.starts_with("task ") {
                3
            } else {
                continue;
            };
            if let Some(id) = task_number(&mark.name) {
                events.push((mark.at, kind, id, mark.at));
            }
        }
        for span in &thread.spans {
            if (span.name.starts_with("poll task ") || span.name.starts_with("step task "))
                && let Some(id) = task_number(&span.name)
            {
                events.push((span.start, 1, id, span.end));
            }
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut rows: Vec<TaskRow> = Vec::new();
    let mut alive: BTreeMap<u64, usize> = BTreeMap::new();
    for (at, kind, id, until) in events {
        if kind == 0 {
            alive.insert(id, rows.len());
            rows.push(TaskRow { id, start: at, end: None, polls: Vec::new(), wakes: Vec::new() });
            continue;
        }
        let Some(&row) = alive.get(&id) else { continue };
        match kind {
            1 => rows[row].polls.push((at, until)),
            2 => rows[row].wakes.push(at),
            _ => {
                rows[row].end = Some(at);
                alive.remove(&id);
            }
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// Drawing.

const WIDTH: f64 = 760.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 30.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;

/// The colours of a try's steps, in the order a try goes through them.
const PHASES: &[(&str, &str)] = &[
    ("resolving", "#bab0ac"),
    ("connecting", "#4c78a8"),
    ("sending", "#72b7b2"),
    ("waiting for the first byte", "#eeca3b"),
    ("receiving", "#54a24b"),
];
const URL_FILL: &str = "#f2f2f2";
const RETRY_GAP: &str = "#ff9da6";
const DEADLINE: &str = "#d62728";
/// Not a colour: the legend's key for the outline of a try that failed.
const FAILED: &str = "outline";
const WAITING: &str = "#9ecae9";
const RUNNING: &str = "#f58518";
const BUSY: &str = "#e45756";
const POLL: &str = "#222222";
const SPAWN: &str = "#2ca02c";
const WAKE: &str = "#9467bd";
const OTHER: &str = "#cccccc";

/// Row heights and what a band draws.
#[derive(Clone, Copy)]
struct Style {
    lane: f64,
    thread: f64,
    max_threads: usize,
    /// The most tasks drawn a row each; a trace with more draws none.
    max_tasks: usize,
    /// Whether URL paths and row labels of lanes are written.
    texts: bool,
}

const FULL: Style = Style { lane: 16.0, thread: 16.0, max_threads: 12, max_tasks: 16, texts: true };
const COMPACT: Style = Style { lane: 6.0, thread: 9.0, max_threads: 3, max_tasks: 0, texts: false };
const TASK_ROW: f64 = 10.0;

/// Bars of one colour on one row, merged where they touch at the picture's resolution, so
/// that a thousand busy turns of a millisecond make one bar instead of a thousand.
#[derive(Default)]
struct Bars {
    by_colour: BTreeMap<&'static str, Vec<(f64, f64)>>,
}

impl Bars {
    fn add(&mut self, colour: &'static str, x0: f64, x1: f64) {
        self.by_colour.entry(colour).or_default().push((x0, x1.max(x0 + 0.6)));
    }

    /// Draws the bars at `y`, `height` high, colours in `order` (later ones on top).
    fn draw(self, out: &mut String, y: f64, height: f64, order: &[&str]) {
        let mut colours: Vec<(&'static str, Vec<(f64, f64)>)> = self.by_colour.into_iter().collect();
        colours.sort_by_key(|(colour, _)| order.iter().position(|c| c == colour).unwrap_or(usize::MAX));
        for (colour, mut bars) in colours {
            bars.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut merged: Vec<(f64, f64)> = Vec::new();
            for (x0, x1) in bars {
                match merged.last_mut() {
                    Some(last) if x0 <= last.1 + 0.3 => last.1 = last.1.max(x1),
                    _ => merged.push((x0, x1)),
                }
            }
            for (x0, x1) in merged {
                let _ = writeln!(
                    out,
                    r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" fill="{colour}"/>"#,
                    x1 - x0
                );
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A round step for about `ticks` grid lines up to `max` (1, 2 or 5 times a power of ten).
fn nice_step(max: f64, ticks: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / ticks;
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power)
}

/// The x of a time on an axis of `axis` ms.
fn x_of(axis: f64) -> impl Fn(f64) -> f64 {
    move |ms: f64| LEFT + PLOT * (ms / axis).clamp(0.0, 1.0)
}

fn header(out: &mut String, height: f64, title: &str, subtitle: &str) {
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(out, r#"<text x="8" y="20" font-size="15" font-weight="bold">{}</text>"#, escape(title));
    let _ = writeln!(out, r##"<text x="8" y="36" fill="#444444">{}</text>"##, escape(subtitle));
}

/// The legend: a swatch and a name each, wrapped over lines from `y`; returns the y below it.
fn legend(out: &mut String, y: f64) -> f64 {
    let mut items: Vec<(&str, &str)> = PHASES.to_vec();
    items.extend([
        ("retry gap", RETRY_GAP),
        ("a try that failed", FAILED),
        ("deadline fired", DEADLINE),
        ("thread waiting: blocked in a call, or asleep in the poller", WAITING),
        ("thread running: a burst, or a blocking thread outside its recorded waits", RUNNING),
        ("busy-poll turns", BUSY),
        ("task stepped or polled", POLL),
        ("task spawned", SPAWN),
        ("task woken", WAKE),
    ]);
    let (mut x, mut y) = (8.0, y);
    for (name, colour) in items {
        let width = 24.0 + 6.3 * name.chars().count() as f64;
        if x + width > WIDTH - 8.0 {
            x = 8.0;
            y += 15.0;
        }
        let swatch = if colour == FAILED {
            format!(r#"fill="none" stroke="{DEADLINE}""#)
        } else {
            format!(r#"fill="{colour}""#)
        };
        let _ = writeln!(out, r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" {swatch}/>"#, y - 9.0);
        let _ = writeln!(out, r#"<text x="{:.1}" y="{y:.1}">{}</text>"#, x + 14.0, escape(name));
        x += width;
    }
    y + 12.0
}

/// The time axis at `y` (its labels above it), and its grid down to `bottom`.
fn axis(out: &mut String, axis: f64, y: f64, bottom: f64) {
    let x = x_of(axis);
    let step = nice_step(axis, 8.0);
    let mut tick = 0.0;
    while tick <= axis + step / 1000.0 {
        let tx = x(tick);
        let _ = writeln!(
            out,
            r##"<line x1="{tx:.1}" y1="{y:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="#e4e4e4"/>"##
        );
        let _ =
            writeln!(out, r#"<text x="{tx:.1}" y="{:.1}" text-anchor="middle">{tick:.0} ms</text>"#, y - 3.0);
        tick += step;
    }
}

/// Height of a band of `trace` in `style`.
fn band_height(trace: &Trace, style: Style) -> f64 {
    let threads = trace.threads.len().min(style.max_threads);
    let more = if trace.threads.len() > style.max_threads { 13.0 } else { 0.0 };
    let lanes = trace.lanes.len() as f64 * (style.lane + 1.0);
    let no_lanes = if no_tries_note(trace, style) { 14.0 } else { 0.0 };
    lanes + no_lanes + 4.0 + threads as f64 * (style.thread + 2.0) + more + tasks_height(trace, style)
}

/// Whether a band says it has no lanes: a trace with neither tries nor tasks to show.
fn no_tries_note(trace: &Trace, style: Style) -> bool {
    trace.lanes.is_empty() && trace.tasks.is_empty() && style.texts
}

/// Height of the task rows (or of the line that says there are too many).
fn tasks_height(trace: &Trace, style: Style) -> f64 {
    match trace.tasks.len() {
        0 => 0.0,
        n if n <= style.max_tasks => 6.0 + n as f64 * (TASK_ROW + 2.0),
        _ if style.texts => 6.0 + 13.0,
        _ => 0.0,
    }
}

/// Draws `trace`'s lanes and threads from `y` down; returns the y below.
fn band(out: &mut String, trace: &Trace, axis: f64, top: f64, style: Style) -> f64 {
    let x = x_of(axis);
    let mut y = top;
    for lane in &trace.lanes {
        if style.texts {
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                y + style.lane - 4.0,
                escape(&lane.label)
            );
        }
        draw_lane(out, lane, &x, y, style);
        y += style.lane + 1.0;
    }
    if no_tries_note(trace, style) {
        let _ = writeln!(out, r#"<text x="{LEFT}" y="{:.1}">(no tries recorded)</text>"#, y + 11.0);
        y += 14.0;
    }
    y += 4.0;
    for thread in trace.threads.iter().take(style.max_threads) {
        let label_y = y + style.thread / 2.0 + 4.0;
        let size = if style.texts { 11.0 } else { 9.0 };
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{label_y:.1}" text-anchor="end" font-size="{size}">{}</text>"#,
            LEFT - 6.0,
            escape(&thread.label)
        );
        draw_thread(out, thread, &x, y, style.thread);
        y += style.thread + 2.0;
    }
    if trace.threads.len() > style.max_threads {
        let hidden = trace.threads.len() - style.max_threads;
        let _ = writeln!(
            out,
            r##"<text x="{LEFT}" y="{:.1}" font-size="10" fill="#444444">and {hidden} more threads, not drawn (the trace has them all)</text>"##,
            y + 9.0
        );
        y += 13.0;
    }
    draw_tasks(out, trace, &x, y, style) + y
}

/// A row per task below the threads, from its spawn to its end, its polls as ticks and its
/// wakes as marks; returns the height drawn.
fn draw_tasks(out: &mut String, trace: &Trace, x: &impl Fn(f64) -> f64, top: f64, style: Style) -> f64 {
    let height = tasks_height(trace, style);
    if height == 0.0 {
        return 0.0;
    }
    let mut y = top + 6.0;
    if trace.tasks.len() > style.max_tasks {
        let _ = writeln!(
            out,
            r##"<text x="{LEFT}" y="{:.1}" font-size="10" fill="#444444">{} tasks: too many for a row each (the trace has them all)</text>"##,
            y + 9.0,
            trace.tasks.len()
        );
        return height;
    }
    for task in &trace.tasks {
        let (x0, x1) = (x(task.start), x(task.end.unwrap_or(trace.wall_ms)));
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10">task {}</text>"#,
            LEFT - 6.0,
            y + TASK_ROW - 1.0,
            task.id
        );
        let mid = y + TASK_ROW / 2.0;
        let _ = writeln!(
            out,
            r##"<line x1="{x0:.1}" y1="{mid:.1}" x2="{x1:.1}" y2="{mid:.1}" stroke="#999999" stroke-width="2"/>"##
        );
        let mut bars = Bars::default();
        bars.add(SPAWN, x0 - 0.6, x0 + 0.6);
        for (start, end) in &task.polls {
            bars.add(POLL, x(*start), x(*end));
        }
        bars.draw(out, y, TASK_ROW, &[SPAWN, POLL]);
        let mut wakes = Bars::default();
        for at in &task.wakes {
            wakes.add(WAKE, x(*at) - 0.4, x(*at) + 0.4);
        }
        wakes.draw(out, y + TASK_ROW * 0.6, TASK_ROW * 0.4, &[WAKE]);
        y += TASK_ROW + 2.0;
    }
    height
}

/// Whether a lane span is stage 1's `child process` span (the child's own spans lie inside it).
fn is_child_process(name: &str) -> bool {
    name == "child process" || name.starts_with("child process ")
}

fn draw_lane(out: &mut String, lane: &Track, x: &impl Fn(f64) -> f64, y: f64, style: Style) {
    let h = style.lane;
    let mut bars = Bars::default();
    let mut failed = Vec::new();
    let mut paths = Vec::new();
    for span in &lane.spans {
        let (x0, x1) = (x(span.start), x(span.end));
        if let Some((_, colour)) = PHASES.iter().find(|(name, _)| *name == span.name) {
            bars.add(colour, x0, x1);
        } else if span.name == "retry gap" {
            bars.add(RETRY_GAP, x0, x1);
        } else if span.name.starts_with("try ") {
            if span.result.as_deref().is_some_and(|r| r.starts_with("error")) {
                failed.push((x0, x1));
            }
        } else if !is_child_process(&span.name) {
            bars.add(URL_FILL, x0, x1);
            // A child process's URL span lies over its parent's: one name is enough.
            if !paths.iter().any(|(_, _, path)| *path == span.name) {
                paths.push((x0, x1, span.name.clone()));
            }
        }
    }
    let mut order = vec![URL_FILL, RETRY_GAP];
    order.extend(PHASES.iter().map(|(_, colour)| *colour));
    bars.draw(out, y, h, &order);
    for (x0, x1) in failed {
        let _ = writeln!(
            out,
            r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{DEADLINE}" stroke-width="1"/>"#,
            y + 0.5,
            (x1 - x0).max(0.6),
            h - 1.0
        );
    }
    for mark in lane.marks.iter().filter(|m| m.name == "deadline") {
        let mx = x(mark.at);
        let _ = writeln!(
            out,
            r#"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="{DEADLINE}" stroke-width="2"/>"#,
            y - 1.0,
            y + h + 1.0
        );
    }
    if style.texts {
        for (x0, x1, path) in paths {
            // Written only where it fits, at about 5.5 px a character of 9 px type.
            if (x1 - x0) >= 5.5 * path.chars().count() as f64 + 4.0 {
                let _ = writeln!(
                    out,
                    r#"<text x="{:.1}" y="{:.1}" font-size="9">{}</text>"#,
                    x0 + 2.0,
                    y + h - 4.0,
                    escape(&path)
                );
            }
        }
    }
}

fn draw_thread(out: &mut String, thread: &Track, x: &impl Fn(f64) -> f64, y: f64, h: f64) {
    let (life0, life1) = (x(thread.first), x(thread.last));
    let _ = writeln!(
        out,
        r##"<line x1="{life0:.1}" y1="{:.1}" x2="{life1:.1}" y2="{:.1}" stroke="#999999"/>"##,
        y + h / 2.0,
        y + h / 2.0
    );
    let mut bars = Bars::default();
    let mut ticks = Bars::default();
    // A blocking thread (stage 1) records only its waits: the rest of its life it runs.
    let blocking = thread.spans.iter().any(|s| s.name.starts_with("blocked "));
    if blocking {
        bars.add(RUNNING, life0, life1);
    }
    for span in &thread.spans {
        let (x0, x1) = (x(span.start), x(span.end));
        if span.name.starts_with("blocked ") || span.name == crawl::timeline::ASLEEP {
            bars.add(WAITING, x0, x1);
        } else if span.name == "callbacks" || span.name == "polls" {
            bars.add(RUNNING, x0, x1);
        } else if span.name == "busy turns" {
            bars.add(BUSY, x0, x1);
        } else if span.name.starts_with("poll task ") || span.name.starts_with("step task ") {
            ticks.add(POLL, x0, x1);
        } else if span.depth == 0 {
            bars.add(OTHER, x0, x1);
        }
    }
    // A blocking thread's waits go over its life; a loop's short bursts over its long sleeps.
    let order = if blocking { [OTHER, RUNNING, WAITING, BUSY] } else { [OTHER, WAITING, RUNNING, BUSY] };
    bars.draw(out, y, h, &order);
    ticks.draw(out, y, h * 0.35, &[POLL]);
    let mut marks = Bars::default();
    for mark in &thread.marks {
        let colour = if mark.name.starts_with("spawn task") {
            SPAWN
        } else if mark.name.starts_with("wake task") {
            WAKE
        } else {
            continue;
        };
        let mx = x(mark.at);
        marks.add(colour, mx - 0.4, mx + 0.4);
    }
    marks.draw(out, y + h * 0.65, h * 0.35, &[SPAWN, WAKE]);
}

/// One row's picture: `trace_json` (what `--timeline` wrote) on an axis of `axis_ms`, under
/// `title`. Lanes of tries on top, the threads below.
pub fn render(trace_json: &str, axis_ms: f64, title: &str) -> Result<String, String> {
    let trace = parse(trace_json)?;
    let axis_ms = axis_ms.max(trace.wall_ms).max(1.0);
    let mut body = String::new();
    let legend_bottom = legend(&mut body, 56.0);
    let axis_y = legend_bottom + 14.0;
    let bands_top = axis_y + 6.0;
    let bottom = bands_top + band_height(&trace, FULL);
    axis(&mut body, axis_ms, axis_y, bottom);
    let end = band(&mut body, &trace, axis_ms, bands_top, FULL);
    let mut out = String::new();
    let subtitle = if trace.lanes.is_empty() {
        format!(
            "{}: {} tasks in {:.0} ms; a row per thread, then a row per task from its spawn to its end",
            trace.recorded_by,
            trace.tasks(),
            trace.wall_ms
        )
    } else {
        format!(
            "{}: {} URLs, {} tries in {:.0} ms; a lane per connection slot on top, a row per thread below",
            trace.recorded_by,
            trace.urls(),
            trace.tries(),
            trace.wall_ms
        )
    };
    header(&mut out, end + 10.0, title, &subtitle);
    out.push_str(&body);
    out.push_str("</svg>\n");
    Ok(out)
}

/// Every row's trace (label, JSON) in one picture, a compact band each, on an axis of `axis_ms`.
pub fn render_all(traces: &[(String, String)], axis_ms: f64) -> Result<String, String> {
    let parsed: Vec<(&str, Trace)> = traces
        .iter()
        .map(|(label, text)| parse(text).map(|t| (label.as_str(), t)).map_err(|e| format!("{label}: {e}")))
        .collect::<Result<_, _>>()?;
    let axis_ms = parsed.iter().map(|(_, t)| t.wall_ms).fold(axis_ms, f64::max).max(1.0);
    let mut body = String::new();
    let legend_bottom = legend(&mut body, 56.0);
    let axis_y = legend_bottom + 14.0;
    let mut y = axis_y + 6.0;
    let bottom = y + parsed.iter().map(|(_, t)| 16.0 + band_height(t, COMPACT) + 8.0).sum::<f64>();
    axis(&mut body, axis_ms, axis_y, bottom);
    for (label, trace) in &parsed {
        let _ = writeln!(
            body,
            r##"<text x="8" y="{:.1}" font-weight="bold">{} <tspan font-weight="normal" fill="#444444">({} URLs in {:.0} ms)</tspan></text>"##,
            y + 11.0,
            escape(label),
            trace.urls(),
            trace.wall_ms
        );
        let _ = writeln!(
            body,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="9">slots</text>"#,
            LEFT - 6.0,
            y + 16.0 + 3.0 * trace.lanes.len() as f64 + 3.0
        );
        y = band(&mut body, trace, axis_ms, y + 16.0, COMPACT) + 8.0;
    }
    let mut out = String::new();
    header(
        &mut out,
        y + 6.0,
        "Every stage's crawl of the same site, on one time axis",
        "each band: the tries in their connection slots, then the first threads",
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trace as `crawl::timeline` writes one: a lane with a failed try, a retry gap and a
    /// second try that answers, and a thread asleep, then running a burst with a poll in it.
    const TRACE: &str = r#"{"displayTimeUnit":"ms","otherData":{"recorded by":"stage5-async-await"},"traceEvents":[
        {"ph":"M","name":"thread_name","pid":1,"tid":1,"ts":0,"args":{"name":"main"}},
        {"ph":"M","name":"thread_name","pid":2,"tid":1,"ts":0,"args":{"name":"slot 1"}},
        {"ph":"B","name":"/page/1","pid":2,"tid":1,"ts":1000000,"args":{"url":"http://h/page/1"}},
        {"ph":"B","name":"try 1","pid":2,"tid":1,"ts":1000000},
        {"ph":"B","name":"connecting","pid":2,"tid":1,"ts":1000000},
        {"ph":"E","name":"","pid":2,"tid":1,"ts":1010000},
        {"ph":"i","name":"deadline","pid":2,"tid":1,"ts":1010000,"s":"t"},
        {"ph":"E","name":"","pid":2,"tid":1,"ts":1010000,"args":{"result":"error timeout"}},
        {"ph":"B","name":"retry gap","pid":2,"tid":1,"ts":1010000},
        {"ph":"E","name":"","pid":2,"tid":1,"ts":1020000},
        {"ph":"B","name":"try 2","pid":2,"tid":1,"ts":1020000},
        {"ph":"B","name":"receiving","pid":2,"tid":1,"ts":1020000},
        {"ph":"E","name":"","pid":2,"tid":1,"ts":1040000},
        {"ph":"E","name":"","pid":2,"tid":1,"ts":1040000,"args":{"result":"200"}},
        {"ph":"E","name":"","pid":2,"tid":1,"ts":1040000},
        {"ph":"C","name":"requests in flight","pid":1,"tid":0,"ts":1040000,"args":{"value":0}},
        {"ph":"i","name":"spawn task 1","pid":1,"tid":1,"ts":1000000,"s":"t"},
        {"ph":"B","name":"asleep in the poller's wait","pid":1,"tid":1,"ts":1000000},
        {"ph":"E","name":"","pid":1,"tid":1,"ts":1030000},
        {"ph":"B","name":"callbacks","pid":1,"tid":1,"ts":1030000},
        {"ph":"B","name":"poll task 1","pid":1,"tid":1,"ts":1030000},
        {"ph":"E","name":"","pid":1,"tid":1,"ts":1031000},
        {"ph":"E","name":"","pid":1,"tid":1,"ts":1032000,"args":{"ran":"task"}}
    ]}"#;

    #[test]
    fn a_trace_is_read_into_lanes_and_threads() {
        let trace = parse(TRACE).unwrap();
        assert_eq!(trace.recorded_by, "stage5-async-await");
        assert_eq!(trace.wall_ms, 40.0);
        assert_eq!((trace.urls(), trace.tries(), trace.threads()), (1, 2, 1));
        let lane = &trace.lanes[0];
        assert_eq!(lane.label, "slot 1");
        let first = lane.spans.iter().find(|s| s.name == "try 1").unwrap();
        assert_eq!((first.start, first.end, first.depth), (0.0, 10.0, 1));
        assert_eq!(first.result.as_deref(), Some("error timeout"));
        let url = lane.spans.iter().find(|s| s.depth == 0).unwrap();
        assert_eq!((url.name.as_str(), url.end), ("/page/1", 40.0));
        let poll = trace.threads[0].spans.iter().find(|s| s.name == "poll task 1").unwrap();
        assert_eq!((poll.start, poll.end, poll.depth), (30.0, 31.0, 1));
        assert_eq!(trace.threads[0].marks, [Mark { name: "spawn task 1".into(), at: 0.0 }]);
        let task = TaskRow { id: 1, start: 0.0, end: None, polls: vec![(30.0, 31.0)], wakes: vec![] };
        assert_eq!(trace.tasks, [task]);
    }

    #[test]
    fn a_task_number_spawned_again_after_its_end_is_a_new_task() {
        let mark = |name: &str, at: f64| Mark { name: name.into(), at };
        let poll =
            |start: f64| Span { name: "poll task 1".into(), start, end: start + 1.0, depth: 1, result: None };
        let thread = Track {
            label: "main".into(),
            spans: vec![poll(1.0), poll(11.0)],
            marks: vec![
                mark("spawn task 1", 0.0),
                mark("task 1 done", 5.0),
                mark("spawn task 1", 10.0),
                mark("wake task 1", 10.5),
            ],
            first: 0.0,
            last: 12.0,
        };
        let rows = tasks(&[thread]);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].end, rows[0].polls.as_slice()), (Some(5.0), &[(1.0, 2.0)][..]));
        assert_eq!((rows[1].start, rows[1].end, rows[1].wakes.as_slice()), (10.0, None, &[10.5][..]));
    }

    #[test]
    fn a_picture_draws_what_the_trace_holds_on_the_axis_it_is_given() {
        let svg = render(TRACE, 80.0, "stage 5 async-await").unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert!(!svg.contains("<script") && svg.contains(r#"fill="white""#));
        // The axis is 80 ms over 580 px from x = 150: 10 ms is 72.5 px.
        assert!(
            svg.contains(r#"<rect x="150.0" y="#)
                && svg.contains(r##"width="72.5" height="16.0" fill="#4c78a8""##),
            "{svg}"
        );
        // The failed try is outlined, its deadline marked; the gap and the second try drawn.
        assert!(svg.contains(&format!(r#"fill="none" stroke="{DEADLINE}""#)));
        assert!(svg.contains(r#"x2="222.5" y2="#), "{svg}");
        assert!(svg.contains(RETRY_GAP) && svg.contains("#54a24b"));
        // The thread: asleep 0 to 30 ms, running 30 to 32, a poll tick, a spawn mark.
        assert!(svg.contains(&format!(r#"width="217.5" height="16.0" fill="{WAITING}""#)), "{svg}");
        assert!(svg.contains(&format!(r#"fill="{RUNNING}""#)));
        assert!(svg.contains(&format!(r#"fill="{POLL}""#)) && svg.contains(&format!(r#"fill="{SPAWN}""#)));
        assert!(svg.contains("1 URLs, 2 tries in 40 ms") && svg.contains(">task 1</text>"));
        // The same trace on a longer axis is a different picture; the same axis, the same one.
        assert_ne!(svg, render(TRACE, 160.0, "stage 5 async-await").unwrap());
        assert_eq!(svg, render(TRACE, 80.0, "stage 5 async-await").unwrap());
    }

    #[test]
    fn a_stacked_picture_has_a_band_per_trace_and_too_many_threads_are_counted() {
        let mut many = String::from(r#"{"otherData":{"recorded by":"stage1-blocking"},"traceEvents":["#);
        for tid in 1..=20 {
            let ts = 1000 * tid;
            let _ = write!(
                many,
                r#"{{"ph":"B","name":"blocked in read","pid":1,"tid":{tid},"ts":{ts}}},{{"ph":"E","name":"","pid":1,"tid":{tid},"ts":{}}},"#,
                ts + 500
            );
        }
        many.push_str(r#"{"ph":"C","name":"x","pid":1,"tid":0,"ts":30000}]}"#);
        let traces =
            vec![("stage 1 threads".to_string(), many.clone()), ("stage 5".to_string(), TRACE.to_string())];
        let all = render_all(&traces, axis_ms(&traces).unwrap()).unwrap();
        assert!(all.contains("stage 1 threads") && all.contains("stage 5"));
        assert!(all.contains("and 17 more threads, not drawn"), "{all}");
        let one = render(&many, 0.0, "threads").unwrap();
        assert!(one.contains("and 8 more threads, not drawn"));
        assert!(one.contains("(no tries recorded)"));
        assert!(parse("{}").is_err() && parse(r#"{"traceEvents":[]}"#).is_err());
    }

    #[test]
    fn only_the_kept_faults_are_left_in() {
        let exclude = exclude();
        for fault in site::FAULTS {
            assert_eq!(exclude.contains(fault.path), !KEPT_FAULTS.contains(&fault.path), "{}", fault.path);
        }
        assert!(!KEPT_FAULTS.iter().any(|kept| exclude.split('|').any(|path| kept.contains(path))));
    }
}
