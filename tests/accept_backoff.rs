//! An accept loop that runs out of file descriptors pauses; it does not spin.
//!
//! Each server runs with its descriptor limit at [`LIMIT`] (`ulimit -n` in the shell that execs
//! it): room for a handful of connections beside stdio, the poller and the listener. More clients
//! than that connect, and none goes on until all have. The kernel completes their handshakes and
//! queues them in the listen backlog, where those the server cannot accept yet wait; so once the
//! server runs short, the backlog stays non-empty, and the shortage lasts, until the last client
//! is accepted. Each client then sends a line and reads it back (or asks the site for a page),
//! holds its connection for [`HOLD`] (the site holds it for its latency instead) and closes, which
//! frees a descriptor for the next. So the server is out of descriptors for several holds in a
//! row, and must spend them waiting: one that tried `accept` again at once would keep a CPU busy,
//! and one that printed each failure would print thousands of lines.
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::*;

/// The servers' descriptor limit: after stdio, the poller's few and the listener, a handful of
/// connections fit.
const LIMIT: usize = 12;

/// How long an echo client keeps its connection after its line came back, and the site's
/// latency: long enough that the servers spend most of each run out of descriptors.
const HOLD: Duration = Duration::from_millis(200);

/// How long a client waits for its answer: far beyond the few holds a run takes, so that only a
/// server that never serves it reaches it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// What a server prints (after its prefix, if it has one) when a shortage of descriptors starts.
const PAUSING: &str = "out of file descriptors: pausing accepts until a connection closes";

/// What it prints when the shortage is over. Once every client has left, a server must find that
/// out within a back-off or two; this is far beyond that.
const RESUMED: &str = "accepting again: every waiting connection has been accepted";
const RESUMED_WITHIN: Duration = Duration::from_secs(10);

/// Fewer stderr lines than this: a server prints a line when a shortage starts and one when it
/// ends, and a run has one shortage. A server that printed each failed `accept` would print
/// thousands.
const MAX_LINES: usize = 10;

/// The most CPU time a server may use per second of the run. Waiting costs next to nothing (a
/// clock tick or two in a whole run), while a server that spins keeps a CPU busy for much of each
/// second (about half of it or more, when this test was run against spinning servers).
const MAX_CPU_RATIO: f64 = 0.2;

#[test]
fn stage3_echo_server_pauses_its_accepts_when_out_of_descriptors() {
    serve_more_clients_than_fit(&example("callback_echo_server"), &["--port", "0"], 30, echo_client);
}

#[test]
fn stage3_echo_server_ends_a_shortage_that_left_no_one_waiting() {
    // Exactly as many clients as fit: the last one takes the last descriptor, and the `accept`
    // after it fails with EMFILE although nobody is left in the backlog. When a connection closes,
    // the server must try `accept` again to find that out: a listener only re-armed would never
    // be woken, and the shortage would never be said to be over.
    let fit = LIMIT - open_at_start(LIMIT) - stage3_callbacks::DESCRIPTORS.own - 1; // - 1: the listener
    serve_more_clients_than_fit(&example("callback_echo_server"), &["--port", "0"], fit, echo_client);
}

#[test]
fn stage5_echo_server_pauses_its_accepts_when_out_of_descriptors() {
    serve_more_clients_than_fit(&example("echo_server"), &["--port", "0"], 15, echo_client);
}

#[test]
fn site_pauses_its_accepts_when_out_of_descriptors() {
    let latency = HOLD.as_millis().to_string();
    let args = ["--port", "0", "--pages", "3", "--latency-ms", &latency];
    serve_more_clients_than_fit(&bin("site"), &args, 15, http_client);
}

/// Runs `server` with `args` under [`LIMIT`], connects `clients` clients to it, then runs `client`
/// on each connection at once, and checks that every one was served, that the server used little
/// CPU and printed few lines meanwhile, and that it did run out of descriptors.
fn serve_more_clients_than_fit(
    server: &Path,
    args: &[&str],
    clients: usize,
    client: fn(TcpStream, usize) -> Result<(), String>,
) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""))
        .arg(server)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    // Lines as they come, so that the end of the shortage can be waited for.
    let (lines_sent, lines) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let stderr = std::thread::spawn(move || {
        for line in stderr.lines() {
            let _ = lines_sent.send(line?);
        }
        Ok::<(), std::io::Error>(())
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr: SocketAddr = first
        .trim_end()
        .strip_prefix("listening on ")
        .map(|addr| addr.trim_start_matches("http://").trim_end_matches('/'))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("{}: first line {first:?}", server.display()));
    // The rest of stdout (the echo servers log each connection) must not fill the pipe.
    let drain = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));

    let (cpu_before, started) = (cpu_time(child.id()), Instant::now());
    let all_connected = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let all_connected = Arc::clone(&all_connected);
            std::thread::spawn(move || {
                let stream = connect(addr);
                all_connected.wait();
                client(stream?, i)
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .enumerate()
        .filter_map(|(i, t)| t.join().unwrap().err().map(|e| format!("client {i}: {e}")))
        .collect();
    let cpu = cpu_time(child.id()) - cpu_before;
    let wall = started.elapsed();

    let mut seen = Vec::new();
    let give_up = Instant::now() + RESUMED_WITHIN;
    while !seen.iter().any(|line: &String| line.ends_with(RESUMED)) {
        match lines.recv_timeout(give_up.saturating_duration_since(Instant::now())) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    stderr.join().unwrap().expect("the server's stderr");
    seen.extend(lines.try_iter());
    let stderr = seen.iter().map(|line| format!("{line}\n")).collect::<String>();
    drain.join().unwrap().expect("the server's stdout");
    let what = server.file_name().unwrap().to_string_lossy();
    let lines = stderr.lines().count();
    let head: String = stderr.lines().take(MAX_LINES).map(|line| format!("{line}\n")).collect();
    assert!(failures.is_empty(), "{what}: {failures:#?}\nstderr ({lines} lines) begins:\n{head}");
    assert!(lines < MAX_LINES, "{what} printed {lines} lines on stderr; they begin:\n{head}");
    let ratio = cpu.as_secs_f64() / wall.as_secs_f64();
    assert!(ratio < MAX_CPU_RATIO, "{what} used {cpu:?} of CPU in {wall:?}: it spins");
    // Otherwise the limit was not reached, and the run proved nothing.
    assert!(stderr.contains(PAUSING), "{what} never ran out of descriptors; stderr:\n{stderr}");
    assert!(stderr.contains(RESUMED), "{what} never said the shortage was over; stderr:\n{stderr}");
}

/// Sends a line, reads it back, holds the connection for [`HOLD`], closes.
fn echo_client(mut stream: TcpStream, i: usize) -> Result<(), String> {
    let line = format!("client {i}\n");
    stream.write_all(line.as_bytes()).map_err(|e| format!("write: {e}"))?;
    let mut echoed = vec![0; line.len()];
    stream.read_exact(&mut echoed).map_err(|e| format!("read: {e}"))?;
    if echoed != line.as_bytes() {
        return Err(format!("sent {line:?}, got back {:?}", String::from_utf8_lossy(&echoed)));
    }
    std::thread::sleep(HOLD);
    Ok(())
}

/// Asks for a page and reads the response to its end (the site closes after one).
fn http_client(mut stream: TcpStream, _: usize) -> Result<(), String> {
    let host = stream.peer_addr().map_err(|e| format!("peer address: {e}"))?;
    let request = format!("GET /page/0 HTTP/1.1\r\nHost: {host}\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| format!("read: {e}"))?;
    if !response.starts_with(b"HTTP/1.1 200 ") {
        return Err(format!("response {:?}", String::from_utf8_lossy(&response)));
    }
    Ok(())
}

/// Connects (the kernel completes the handshake whether or not the server has accepted yet) with
/// [`CLIENT_TIMEOUT`] on reads.
fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).map_err(|e| format!("set a timeout: {e}"))?;
    Ok(stream)
}

/// The CPU time a live process has used so far, user and system: fields 14 and 15 of
/// `/proc/PID/stat`, in clock ticks.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server is alive");
    // The command name, field 2, is in parentheses and may hold spaces: count from after it.
    let fields: Vec<&str> = stat.rsplit_once(") ").expect("a stat line").1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).unwrap().expect("CLK_TCK");
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}
