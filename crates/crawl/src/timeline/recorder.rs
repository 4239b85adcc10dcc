//! The recorder behind [`super`]: the events of a run, what each thread and each URL has open,
//! and the writing of the file (with stage 1's children's files merged in).

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::PathBuf;

use serde_json::{Value, json};
use url::Url;

use super::{BUSY_SPAN_US, LANES_PID, Phase, THREADS_PID, child_file, now_us, short_name};

thread_local! {
    /// This thread's track number in this process (0: none yet).
    static TRACK: Cell<u32> = const { Cell::new(0) };
}

/// One event of the file, as the trace event format spells it.
#[derive(Debug)]
pub(super) struct Event {
    /// `B`/`E` a span's begin and end, `X` a whole span, `i` an instant, `C` a counter, `M` a name.
    pub(super) ph: char,
    pub(super) name: Cow<'static, str>,
    pub(super) ts: f64,
    pub(super) dur: Option<f64>,
    pub(super) pid: u32,
    pub(super) tid: u32,
    pub(super) args: Value,
}

/// What one thread has open.
#[derive(Debug)]
pub(super) struct ThreadState {
    pub(super) name: String,
    /// The spans open on this thread, innermost last: whether each is a burst.
    pub(super) open: Vec<bool>,
    /// What ran in the innermost burst so far.
    pub(super) ran: Vec<&'static str>,
    /// Stage 2: the busy turns gathered so far (start, turns, idle turns).
    pub(super) busy: Option<(f64, u64, u64)>,
}

/// An event for a lane, before its time and place are added: `ph`, name, arguments.
pub(super) type LaneEvent = (char, Cow<'static, str>, Value);

/// One URL, from its first try to its result.
#[derive(Debug)]
pub(super) struct Fetch {
    pub(super) lane: u32,
    /// Whether a try is open, and which phase of it.
    pub(super) attempt: Option<Option<Phase>>,
    /// Whether the gap before a retry is open.
    pub(super) gap: bool,
    /// Tries opened.
    pub(super) tries: u32,
    /// Whether the fetch's lane belongs to a child process's span (stage 1's `processes`).
    pub(super) in_child: bool,
}

#[derive(Debug)]
pub(super) struct Recorder {
    pub(super) path: PathBuf,
    pub(super) file: File,
    pub(super) name: String,
    pub(super) started: f64,
    pub(super) events: Vec<Event>,
    pub(super) threads: Vec<ThreadState>,
    pub(super) fetches: HashMap<String, Fetch>,
    /// Which lanes are taken.
    pub(super) lanes: Vec<bool>,
    /// Child processes (pid, URL, lane) whose files are merged at the end.
    pub(super) children: Vec<(u32, String, u32)>,
    pub(super) in_flight: u32,
    pub(super) sockets: u32,
    pub(super) tasks_alive: u64,
    /// The future's type name of each task alive, to name its polls in a burst.
    pub(super) task_names: HashMap<u64, &'static str>,
}

impl Recorder {
    pub(super) fn new(path: PathBuf, file: File, name: String) -> Recorder {
        let mut recorder = Recorder {
            path,
            file,
            name,
            started: now_us(),
            events: Vec::new(),
            threads: Vec::new(),
            fetches: HashMap::new(),
            lanes: Vec::new(),
            children: Vec::new(),
            in_flight: 0,
            sockets: 0,
            tasks_alive: 0,
            task_names: HashMap::new(),
        };
        let process = format!("{} (pid {})", recorder.name, std::process::id());
        recorder.meta("process_name", THREADS_PID, 0, json!({ "name": process }));
        recorder.meta("process_sort_index", THREADS_PID, 0, json!({ "sort_index": 2 }));
        recorder.meta("process_name", LANES_PID, 0, json!({ "name": "tries (a lane per connection slot)" }));
        recorder.meta("process_sort_index", LANES_PID, 0, json!({ "sort_index": 1 }));
        recorder
    }

    pub(super) fn meta(&mut self, name: &'static str, pid: u32, tid: u32, args: Value) {
        self.events.push(Event { ph: 'M', name: Cow::Borrowed(name), ts: 0.0, dur: None, pid, tid, args });
    }

    /// The current thread's track, made (and named) on its first event.
    pub(super) fn track(&mut self) -> u32 {
        let track = TRACK.with(Cell::get);
        if track != 0 && (track as usize) <= self.threads.len() {
            return track;
        }
        let track = self.threads.len() as u32 + 1;
        let name = std::thread::current().name().map_or_else(|| format!("thread {track}"), str::to_string);
        self.meta("thread_name", THREADS_PID, track, json!({ "name": name }));
        self.meta("thread_sort_index", THREADS_PID, track, json!({ "sort_index": track }));
        self.threads.push(ThreadState { name, open: Vec::new(), ran: Vec::new(), busy: None });
        TRACK.with(|t| t.set(track));
        track
    }

    pub(super) fn thread(&mut self) -> &mut ThreadState {
        let track = self.track();
        &mut self.threads[track as usize - 1]
    }

    pub(super) fn push(
        &mut self,
        ph: char,
        name: Cow<'static, str>,
        ts: f64,
        pid: u32,
        tid: u32,
        args: Value,
    ) {
        self.events.push(Event { ph, name, ts, dur: None, pid, tid, args });
    }

    pub(super) fn open(&mut self, name: Cow<'static, str>, args: Value, is_burst: bool, now: f64) {
        self.flush_busy(now);
        let track = self.track();
        let thread = &mut self.threads[track as usize - 1];
        thread.open.push(is_burst);
        if is_burst {
            thread.ran.clear();
        }
        self.push('B', name, now, THREADS_PID, track, args);
    }

    pub(super) fn close(&mut self, now: f64) {
        self.flush_busy(now);
        let track = self.track();
        let thread = &mut self.threads[track as usize - 1];
        let Some(is_burst) = thread.open.pop() else { return };
        let args =
            if is_burst { json!({ "ran": summary(&std::mem::take(&mut thread.ran)) }) } else { Value::Null };
        self.push('E', Cow::Borrowed(""), now, THREADS_PID, track, args);
    }

    pub(super) fn instant(&mut self, name: Cow<'static, str>, args: Value, now: f64) {
        let track = self.track();
        self.push('i', name, now, THREADS_PID, track, args);
    }

    pub(super) fn counter(&mut self, name: &'static str, value: f64, now: f64) {
        self.push('C', Cow::Borrowed(name), now, THREADS_PID, 0, json!({ "value": value }));
    }

    pub(super) fn busy_turn(&mut self, idle: bool, now: f64) {
        let thread = self.thread();
        let (start, turns, idle_turns) = thread.busy.get_or_insert((now, 0, 0));
        *turns += 1;
        *idle_turns += u64::from(idle);
        if now - *start >= BUSY_SPAN_US {
            self.flush_busy(now);
        }
    }

    /// Writes the busy turns gathered on this thread as one span ending `now`.
    pub(super) fn flush_busy(&mut self, now: f64) {
        self.flush_busy_of(TRACK.with(Cell::get), now);
    }

    /// Writes the busy turns gathered on thread `track` as one span ending `now`.
    pub(super) fn flush_busy_of(&mut self, track: u32, now: f64) {
        let Some(thread) = self.threads.get_mut((track as usize).wrapping_sub(1)) else { return };
        let Some((start, turns, idle)) = thread.busy.take() else { return };
        let args = json!({ "turns": turns, "idle turns": idle });
        self.events.push(Event {
            ph: 'X',
            name: Cow::Borrowed("busy turns"),
            ts: start,
            dur: Some(now - start),
            pid: THREADS_PID,
            tid: track,
            args,
        });
        self.counter("idle turns per ms", idle as f64 * 1000.0 / (now - start).max(1.0), start);
    }

    pub(super) fn take_lane(&mut self) -> u32 {
        let free = self.lanes.iter().position(|taken| !taken).unwrap_or_else(|| {
            self.lanes.push(false);
            self.lanes.len() - 1
        });
        self.lanes[free] = true;
        let lane = free as u32 + 1;
        if free + 1 == self.lanes.len()
            && !self.events.iter().any(|e| e.ph == 'M' && e.pid == LANES_PID && e.tid == lane)
        {
            self.meta("thread_name", LANES_PID, lane, json!({ "name": format!("slot {lane}") }));
            self.meta("thread_sort_index", LANES_PID, lane, json!({ "sort_index": lane }));
        }
        lane
    }

    pub(super) fn open_fetch(&mut self, url: &str, now: f64) -> u32 {
        let lane = self.take_lane();
        self.in_flight += 1;
        self.push('B', Cow::Owned(short_url(url)), now, LANES_PID, lane, json!({ "url": url }));
        self.counter("requests in flight", f64::from(self.in_flight), now);
        self.fetches
            .insert(url.to_string(), Fetch { lane, attempt: None, gap: false, tries: 0, in_child: false });
        lane
    }

    /// The try of `url` under way, opened (with the URL's span, in a free lane, on its first
    /// try) when none is, and the gap before it closed: its lane, its current phase, and the
    /// lane events that made it so, to be written at `now`.
    pub(super) fn current_try(&mut self, url: &str, now: f64) -> (u32, Option<Phase>, Vec<LaneEvent>) {
        if !self.fetches.contains_key(url) {
            self.open_fetch(url, now);
        }
        let fetch = self.fetches.get_mut(url).expect("opened above");
        let mut out = Vec::new();
        if fetch.gap {
            fetch.gap = false;
            out.push(('E', Cow::Borrowed(""), Value::Null));
        }
        let current = match fetch.attempt {
            Some(current) => current,
            None => {
                fetch.tries += 1;
                fetch.attempt = Some(None);
                let name = format!("try {}", fetch.tries);
                out.push(('B', Cow::Owned(name), json!({ "url": url, "try": fetch.tries })));
                None
            }
        };
        (fetch.lane, current, out)
    }

    pub(super) fn phase(&mut self, url: &str, phase: Phase, now: f64) {
        let (lane, current, mut out) = self.current_try(url, now);
        if current == Some(phase) {
            return;
        }
        if current.is_some() {
            out.push(('E', Cow::Borrowed(""), Value::Null));
        }
        out.push(('B', Cow::Borrowed(phase.name()), Value::Null));
        self.fetches.get_mut(url).expect("a try is open").attempt = Some(Some(phase));
        let socket_opened = phase >= Phase::Connecting && current.is_none_or(|c| c < Phase::Connecting);
        for (ph, name, args) in out {
            self.push(ph, name, now, LANES_PID, lane, args);
        }
        if socket_opened {
            self.sockets += 1;
            self.counter("sockets open", f64::from(self.sockets), now);
        }
    }

    pub(super) fn try_ended(
        &mut self,
        url: &str,
        tries: u32,
        result: &str,
        timed_out: bool,
        retry: bool,
        now: f64,
    ) {
        // (A try that failed before its first step, an address that could not be parsed, is
        // opened here, at its end.)
        let (lane, phase, mut out) = self.current_try(url, now);
        let fetch = self.fetches.get_mut(url).expect("a try is open");
        fetch.attempt = None;
        if phase.is_some() {
            out.push(('E', Cow::Borrowed(""), Value::Null));
        }
        if timed_out {
            out.push(('i', Cow::Borrowed("deadline"), json!({ "url": url, "try": tries })));
        }
        out.push(('E', Cow::Borrowed(""), json!({ "result": result })));
        if retry {
            fetch.gap = true;
            out.push(('B', Cow::Borrowed("retry gap"), Value::Null));
        }
        let finished = !retry && !fetch.in_child;
        for (ph, name, args) in out {
            self.push(ph, name, now, LANES_PID, lane, args);
        }
        if phase.is_some_and(|p| p >= Phase::Connecting) {
            self.sockets = self.sockets.saturating_sub(1);
            self.counter("sockets open", f64::from(self.sockets), now);
        }
        if finished {
            self.close_fetch(url, now);
        }
    }

    pub(super) fn close_fetch(&mut self, url: &str, now: f64) {
        let Some(fetch) = self.fetches.remove(url) else { return };
        self.push('E', Cow::Borrowed(""), now, LANES_PID, fetch.lane, json!({ "tries": fetch.tries }));
        self.lanes[fetch.lane as usize - 1] = false;
        self.in_flight = self.in_flight.saturating_sub(1);
        self.counter("requests in flight", f64::from(self.in_flight), now);
    }

    pub(super) fn child_starting(&mut self, url: &str, now: f64) {
        self.open(Cow::Borrowed("blocked waiting for the child"), Value::Null, false, now);
        let lane = self.open_fetch(url, now);
        self.fetches.get_mut(url).expect("just opened").in_child = true;
        self.push('B', Cow::Borrowed("child process"), now, LANES_PID, lane, Value::Null);
    }

    pub(super) fn child_started(&mut self, url: &str, pid: u32) {
        if let Some(fetch) = self.fetches.get(url) {
            self.children.push((pid, url.to_string(), fetch.lane));
        }
    }

    pub(super) fn child_ended(&mut self, url: &str, now: f64) {
        self.close(now);
        let Some(lane) = self.fetches.get(url).map(|f| f.lane) else { return };
        self.push('E', Cow::Borrowed(""), now, LANES_PID, lane, Value::Null);
        self.close_fetch(url, now);
    }

    /// Closes what is open, merges the children's files, and writes the file.
    pub(super) fn write(mut self) -> io::Result<()> {
        let now = now_us();
        // Close what is still open: threads' spans, then the lanes (a crawl cut short).
        for index in 0..self.threads.len() {
            let track = index as u32 + 1;
            self.flush_busy_of(track, now);
            while let Some(is_burst) = self.threads[index].open.pop() {
                let args =
                    if is_burst { json!({ "ran": summary(&self.threads[index].ran) }) } else { Value::Null };
                self.push('E', Cow::Borrowed(""), now, THREADS_PID, track, args);
            }
        }
        let open: Vec<(String, Fetch)> = self.fetches.drain().collect();
        for (url, fetch) in open {
            let mut depth = 1 + usize::from(fetch.gap) + usize::from(fetch.in_child);
            if let Some(phase) = fetch.attempt {
                depth += 1 + usize::from(phase.is_some());
            }
            for _ in 0..depth {
                self.push('E', Cow::Borrowed(""), now, LANES_PID, fetch.lane, json!({ "cut short": url }));
            }
        }
        let children = std::mem::take(&mut self.children);
        for (index, (pid, url, lane)) in children.iter().enumerate() {
            self.merge_child(index as u32, *pid, url, *lane);
        }
        // Stage 2's spans are written when they end, with their start: put every event in time
        // order (a stable sort keeps a begin and an end made at one instant in their order).
        self.events.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let mut out = BufWriter::new(&self.file);
        write!(out, "{{\"displayTimeUnit\":\"ms\",\"otherData\":{{\"recorded by\":")?;
        serde_json::to_writer(&mut out, &self.name)?;
        write!(out, ",\"started at (monotonic us)\":{}}},\"traceEvents\":[", self.started)?;
        for (i, event) in self.events.iter().enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            let mut object = json!({
                "ph": event.ph.to_string(), "name": event.name, "ts": event.ts, "pid": event.pid, "tid": event.tid,
            });
            if let Some(dur) = event.dur {
                object["dur"] = json!(dur);
            }
            if event.ph == 'i' {
                object["s"] = json!("t");
            }
            if !event.args.is_null() {
                object["args"] = event.args.clone();
            }
            serde_json::to_writer(&mut out, &object)?;
        }
        out.write_all(b"]}\n")?;
        out.flush()
    }

    /// Appends the file child `pid` (the `index`th) wrote: its threads as a process of their
    /// own, its lane events in the lane of its span here.
    pub(super) fn merge_child(&mut self, index: u32, pid: u32, url: &str, lane: u32) {
        let path = child_file(&self.path, pid);
        let Ok(text) = std::fs::read_to_string(&path) else { return };
        let _ = std::fs::remove_file(&path);
        let Ok(file) = serde_json::from_str::<Value>(&text) else { return };
        let Some(events) = file["traceEvents"].as_array() else { return };
        let own_pid = LANES_PID + 1 + index;
        self.meta("process_name", own_pid, 0, json!({ "name": format!("child process {pid}: {url}") }));
        self.meta("process_sort_index", own_pid, 0, json!({ "sort_index": 3 + index }));
        for event in events {
            let ph = event["ph"].as_str().and_then(|p| p.chars().next()).unwrap_or('i');
            let event_pid = event["pid"].as_u64().unwrap_or(0) as u32;
            if ph == 'M'
                && (event_pid == LANES_PID
                    || event["name"] == "process_name"
                    || event["name"] == "process_sort_index")
            {
                continue;
            }
            let (pid, tid) = if event_pid == LANES_PID {
                (LANES_PID, lane)
            } else {
                (own_pid, event["tid"].as_u64().unwrap_or(0) as u32)
            };
            self.events.push(Event {
                ph,
                name: Cow::Owned(event["name"].as_str().unwrap_or_default().to_string()),
                ts: event["ts"].as_f64().unwrap_or(0.0),
                dur: event["dur"].as_f64(),
                pid,
                tid,
                args: event.get("args").cloned().unwrap_or(Value::Null),
            });
        }
    }
}

/// `a ×3, b`: what ran in a burst, in first-ran order, counted.
pub(super) fn summary(ran: &[&'static str]) -> String {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for what in ran {
        match counted.iter_mut().find(|(name, _)| name == what) {
            Some((_, n)) => *n += 1,
            None => counted.push((what, 1)),
        }
    }
    let parts: Vec<String> = counted
        .iter()
        .map(|(name, n)| if *n == 1 { short_name(name) } else { format!("{} ×{n}", short_name(name)) })
        .collect();
    parts.join(", ")
}

/// A URL's path and query, which is what tells one page of a site from another in a lane.
pub(super) fn short_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}
