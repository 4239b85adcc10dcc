//! Reading a `--timeline` file the way a test must: as the Chrome trace event format, checked
//! event by event, and then as spans that can be held against the crawl's report.
#![allow(unused_imports)] // each test file uses a different subset

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// The process of the stage's threads, and the process of the connection-slot lanes.
pub use crawl::timeline::{ASLEEP, LANES_PID, THREADS_PID};

/// A span: where it was drawn, its name, when, and its arguments (the begin's and the end's).
#[derive(Clone, Debug)]
pub struct Span {
    pub pid: u64,
    pub tid: u64,
    pub name: String,
    pub start: f64,
    pub end: f64,
    pub args: Value,
    pub end_args: Value,
}

/// A checked timeline.
#[derive(Debug)]
pub struct Timeline {
    pub spans: Vec<Span>,
    /// Instants: (pid, tid, name, ts, args).
    pub instants: Vec<(u64, u64, String, f64, Value)>,
    /// Counters by name: (ts, value) in time order.
    pub counters: BTreeMap<String, Vec<(f64, f64)>>,
    /// Thread names by (pid, tid), process names by pid.
    pub thread_names: HashMap<(u64, u64), String>,
    pub process_names: HashMap<u64, String>,
    /// From the first timed event to the last, in µs.
    pub first: f64,
    pub last: f64,
}

impl Timeline {
    /// The time the file covers, in µs.
    pub fn wall(&self) -> f64 {
        self.last - self.first
    }

    /// The try spans of the lanes.
    pub fn tries(&self) -> impl Iterator<Item = &Span> {
        self.spans.iter().filter(|s| s.pid == LANES_PID as u64 && s.name.starts_with("try "))
    }

    /// The time spans named `name` cover on one thread of the stage's process, for each thread
    /// that has any, in µs.
    pub fn time_in(&self, name: &str) -> Vec<(String, f64)> {
        let mut by_thread: BTreeMap<u64, f64> = BTreeMap::new();
        for span in self.spans.iter().filter(|s| s.pid == THREADS_PID as u64 && s.name == name) {
            *by_thread.entry(span.tid).or_default() += span.end - span.start;
        }
        let name_of = |tid| self.thread_names.get(&(THREADS_PID as u64, tid)).cloned().unwrap_or_default();
        by_thread.into_iter().map(|(tid, time)| (name_of(tid), time)).collect()
    }
}

/// Parses `text` as a trace event file and checks it: every event has the keys its type needs;
/// on each track (pid, tid) time never goes backwards and the spans nest (no span ends inside
/// another that began after it, none is left open); every track and process is named.
pub fn parse(text: &str) -> Result<Timeline, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let events = file["traceEvents"].as_array().ok_or("no traceEvents array")?;
    let mut timeline = Timeline {
        spans: Vec::new(),
        instants: Vec::new(),
        counters: BTreeMap::new(),
        thread_names: HashMap::new(),
        process_names: HashMap::new(),
        first: f64::INFINITY,
        last: f64::NEG_INFINITY,
    };
    // The spans begun and not yet ended on each track: name, start, the begin's arguments.
    type Begun = Vec<(String, f64, Value)>;
    let mut open: HashMap<(u64, u64), Begun> = HashMap::new();
    let mut last_ts: HashMap<(u64, u64), f64> = HashMap::new();
    let mut tracks = std::collections::HashSet::new();
    for (i, event) in events.iter().enumerate() {
        let at = |why: &str| format!("event {i} {event}: {why}");
        let ph = event["ph"].as_str().ok_or_else(|| at("no ph"))?;
        let name = event["name"].as_str().ok_or_else(|| at("no name"))?.to_string();
        let pid = event["pid"].as_u64().ok_or_else(|| at("no pid"))?;
        let tid = event["tid"].as_u64().ok_or_else(|| at("no tid"))?;
        if ph == "M" {
            let value = event["args"]["name"].as_str().map(str::to_string);
            match name.as_str() {
                "thread_name" => {
                    drop(timeline.thread_names.insert((pid, tid), value.ok_or_else(|| at("no name"))?))
                }
                "process_name" => {
                    drop(timeline.process_names.insert(pid, value.ok_or_else(|| at("no name"))?))
                }
                "thread_sort_index" | "process_sort_index" => {}
                other => return Err(at(&format!("unknown metadata {other}"))),
            }
            continue;
        }
        let ts = event["ts"].as_f64().ok_or_else(|| at("no ts"))?;
        timeline.first = timeline.first.min(ts);
        let track = (pid, tid);
        if ph != "C" {
            tracks.insert(track);
        }
        if let Some(&before) = last_ts.get(&track)
            && ts < before
        {
            return Err(at(&format!("time went back on track {track:?}: {ts} after {before}")));
        }
        last_ts.insert(track, ts);
        let args = event.get("args").cloned().unwrap_or(Value::Null);
        match ph {
            "B" => open.entry(track).or_default().push((name, ts, args)),
            "E" => {
                let (name, start, begin_args) =
                    open.get_mut(&track).and_then(Vec::pop).ok_or_else(|| at("an end with no span open"))?;
                timeline.last = timeline.last.max(ts);
                timeline.spans.push(Span {
                    pid,
                    tid,
                    name,
                    start,
                    end: ts,
                    args: begin_args,
                    end_args: args,
                });
            }
            "X" => {
                let dur = event["dur"].as_f64().filter(|d| *d >= 0.0).ok_or_else(|| at("no dur"))?;
                // A whole span must fit inside the span open around it.
                timeline.last = timeline.last.max(ts + dur);
                timeline.spans.push(Span {
                    pid,
                    tid,
                    name,
                    start: ts,
                    end: ts + dur,
                    args,
                    end_args: Value::Null,
                });
            }
            "i" => {
                if event["s"].as_str().is_none() {
                    return Err(at("an instant without a scope"));
                }
                timeline.instants.push((pid, tid, name, ts, args));
            }
            "C" => {
                let values = args
                    .as_object()
                    .filter(|o| !o.is_empty())
                    .ok_or_else(|| at("a counter without values"))?;
                let value =
                    values.values().next().and_then(Value::as_f64).ok_or_else(|| at("a counter's value"))?;
                timeline.counters.entry(name).or_default().push((ts, value));
            }
            other => return Err(at(&format!("unknown ph {other}"))),
        }
        timeline.last = timeline.last.max(ts);
    }
    if let Some((track, spans)) = open.iter().find(|(_, spans)| !spans.is_empty()) {
        return Err(format!(
            "track {track:?}: {} spans left open, innermost {:?}",
            spans.len(),
            spans.last()
        ));
    }
    for track in &tracks {
        if !timeline.thread_names.contains_key(track) {
            return Err(format!("track {track:?} has no thread_name"));
        }
        if !timeline.process_names.contains_key(&track.0) {
            return Err(format!("process {} has no process_name", track.0));
        }
    }
    check_nesting(&timeline.spans)?;
    Ok(timeline)
}

/// Every two spans on a track are apart or one inside the other (B/E and X alike).
fn check_nesting(spans: &[Span]) -> Result<(), String> {
    let mut by_track: HashMap<(u64, u64), Vec<&Span>> = HashMap::new();
    for span in spans {
        by_track.entry((span.pid, span.tid)).or_default().push(span);
    }
    for (track, mut spans) in by_track {
        spans.sort_by(|a, b| a.start.total_cmp(&b.start).then(b.end.total_cmp(&a.end)));
        let mut stack: Vec<&Span> = Vec::new();
        for span in spans {
            while stack.last().is_some_and(|top| top.end <= span.start) {
                stack.pop();
            }
            if let Some(top) = stack.last()
                && span.end > top.end
            {
                return Err(format!(
                    "track {track:?}: {:?} [{}, {}] overlaps {:?} [{}, {}] without nesting",
                    span.name, span.start, span.end, top.name, top.start, top.end
                ));
            }
            stack.push(span);
        }
    }
    Ok(())
}

/// The most spans of `spans` open at one instant.
pub fn most_at_once<'a>(spans: impl Iterator<Item = &'a Span>) -> usize {
    let mut edges: Vec<(f64, i32)> = spans.flat_map(|s| [(s.start, 1), (s.end, -1)]).collect();
    // At one instant an end comes before a begin: a slot handed from one try to the next.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0, 0);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}
