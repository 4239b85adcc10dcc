//! The cost of one wait, in system calls: what an echo server asks of the kernel per message.
//!
//! One client sends a small message and waits for its echo, again and again (lock-step), to one
//! server at a time: stage 3's protocol server (callbacks on the `polling` loop), stage 5's tasks
//! (on that same loop), tokio's current-thread runtime (stage 6's), smol's single-threaded
//! executor, and a thread per connection. The server runs in a child process of its own (the tour
//! runs itself as `tour __lab syscalls-server KIND`) under `strace -f -c`, which counts every
//! system call of every thread of that process, and nothing of the client's.
//!
//! A process makes hundreds of calls before it serves anything (loading, allocating, binding) and
//! some more on its way out. So each server runs twice, for N messages and for 2N, and the
//! difference, divided by N, is what one more message costs: startup and exit cancel out.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::RUN_LAB;

/// The servers measured, in table order.
pub const SERVERS: [&str; 5] = ["stage3-protocol", "stage5-tasks", "tokio", "smol", "thread-per-connection"];

/// Bytes per message: small, so that one `read` takes all of it.
const MESSAGE: usize = 64;

/// The package that provides the tracer, for the error when it is missing.
pub const STRACE_PACKAGE: &str = "strace";

/// A per-message count below this is rounding noise between the two runs, not a call of the loop.
const SHOWN_FROM: f64 = 0.005;

/// One server's calls per echoed message, as `tour syscalls --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyscallRow {
    /// `stage3-protocol`, `stage5-tasks`, `tokio`, `smol` or `thread-per-connection`.
    pub server: String,
    /// Messages of the shorter run (the longer one sends twice as many).
    pub messages: usize,
    /// Every system call per echoed message.
    pub per_message: f64,
    /// Each call by name, per message, most frequent first (those below 0.005 left out).
    pub calls: Vec<Call>,
}

/// One system call's count per message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The call's name, as strace names it (`epoll_wait`, `recvfrom`, ...).
    pub name: String,
    /// Calls per unit of work: per echoed message, or per crawled URL (`per_page`).
    pub per_message: f64,
}

/// Whether strace can be run, or the one-line reason it cannot.
pub fn strace_available() -> Result<(), String> {
    match Command::new("strace").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "`tour syscalls` counts system calls with strace, which cannot be run ({e}): install the \
             `{STRACE_PACKAGE}` package (apt-get install {STRACE_PACKAGE})"
        )),
    }
}

/// Measures every server in `servers` with `messages` and `2 * messages` messages.
pub fn measure(messages: usize, servers: &[&str]) -> Result<Vec<SyscallRow>, String> {
    if messages == 0 {
        return Err("--messages must be at least 1".into());
    }
    servers
        .iter()
        .map(|&server| {
            let once = traced_run(server, messages)?;
            let twice = traced_run(server, 2 * messages)?;
            Ok(per_message(server, messages, &once, &twice))
        })
        .collect()
}

/// The row of `server` from the counts of a run of `messages` and one of twice as many.
fn per_message(server: &str, messages: usize, once: &[(String, u64)], twice: &[(String, u64)]) -> SyscallRow {
    let (per_message, calls) = per_unit(messages as f64, once, twice);
    SyscallRow { server: server.to_string(), messages, per_message, calls }
}

/// What `units` more of the work cost, call by call: the counts of a run with more of it less
/// those of a run with less, divided by `units`; every call, and each by name (those below
/// [`SHOWN_FROM`] left out), most frequent first.
pub fn per_unit(units: f64, less: &[(String, u64)], more: &[(String, u64)]) -> (f64, Vec<Call>) {
    let (once, twice) = (less, more);
    let count = |counts: &[(String, u64)], name: &str| {
        counts.iter().find(|(n, _)| n == name).map_or(0, |&(_, c)| c) as f64
    };
    let mut names: Vec<&str> = once.iter().chain(twice).map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut calls: Vec<Call> = names
        .into_iter()
        .map(|name| Call {
            name: name.to_string(),
            per_message: (count(twice, name) - count(once, name)) / units,
        })
        .filter(|call| call.per_message.abs() >= SHOWN_FROM)
        .collect();
    calls.sort_by(|a, b| b.per_message.total_cmp(&a.per_message).then_with(|| a.name.cmp(&b.name)));
    let total = |counts: &[(String, u64)]| counts.iter().map(|&(_, c)| c).sum::<u64>() as f64;
    ((total(twice) - total(once)) / units, calls)
}

/// Starts `server` under `strace -f -c`, echoes `messages` messages through it, lets it exit,
/// and returns strace's count of each call.
fn traced_run(server: &str, messages: usize) -> Result<Vec<(String, u64)>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the tour's own binary: {e}"))?;
    let summary =
        std::env::temp_dir().join(format!("tour-syscalls-{}-{server}-{messages}.txt", std::process::id()));
    let mut child = Command::new("strace")
        .args(["-f", "-c", "-o"])
        .arg(&summary)
        .arg("--")
        .arg(exe)
        .args([RUN_LAB, "syscalls-server", server])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start strace: {e}"))?;
    let mut first_line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("piped")).read_line(&mut first_line);
    let started = first_line
        .split_once(' ')
        .and_then(|(addr, pid)| Some((addr.parse::<SocketAddr>().ok()?, pid.trim().parse::<u32>().ok()?)))
        .ok_or_else(|| "the server did not start".to_string());
    let echoed = started.and_then(|(addr, pid)| lock_step(addr, pid, messages));
    let output = child.wait_with_output().map_err(|e| format!("strace: {e}"))?;
    let why = || {
        let stderr = String::from_utf8_lossy(&output.stderr);
        stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").to_string()
    };
    echoed.map_err(|e| format!("{server}: {e} ({})", why()))?;
    if !output.status.success() {
        return Err(format!("{server}: strace or the server failed: {}", why()));
    }
    let text = std::fs::read_to_string(&summary).map_err(|e| format!("{server}: no strace summary: {e}"));
    let _ = std::fs::remove_file(&summary);
    parse_summary(&text?).map_err(|e| format!("{server}: {e}"))
}

/// One client: `messages` times, wait until the server is asleep, send a message and read its
/// echo; then close.
///
/// Without the first step, strace would change what it counts: it stops the server at every
/// call, which slows it so much that the next message is already there when the server asks for
/// it, and the server never waits. Untraced, a lock-step server has answered long before the
/// client's next message arrives, so it waits for every message. Waiting until every thread of
/// the server sleeps in the kernel (state `S` in `/proc/PID/task/*/stat`) gives it that time back,
/// whatever the tracer costs.
fn lock_step(addr: SocketAddr, pid: u32, messages: usize) -> Result<(), String> {
    let mut client = TcpStream::connect(addr).map_err(|e| format!("cannot connect: {e}"))?;
    client.set_nodelay(true).map_err(|e| e.to_string())?;
    let message = [7u8; MESSAGE];
    let mut echoed = [0u8; MESSAGE];
    for _ in 0..messages {
        while !asleep(pid) {
            std::thread::yield_now();
        }
        client.write_all(&message).map_err(|e| format!("write: {e}"))?;
        client.read_exact(&mut echoed).map_err(|e| format!("read: {e}"))?;
    }
    Ok(()) // dropping the client closes it: the server sees end of file and exits
}

/// Whether every thread of process `pid` sleeps in the kernel, waiting (state `S`: a thread
/// running, or stopped by the tracer, is `R` or `t`).
fn asleep(pid: u32) -> bool {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return true };
    threads.flatten().all(|thread| {
        let stat = std::fs::read_to_string(thread.path().join("stat")).unwrap_or_default();
        // `PID (COMM) STATE ...`: the command may hold spaces and parentheses, the state follows the last `)`.
        stat.rsplit_once(')').is_none_or(|(_, rest)| rest.trim_start().starts_with('S'))
    })
}

/// The calls of strace's `-c` table: one line per call, `% time, seconds, usecs/call, calls,
/// [errors,] syscall`, between two rules of dashes, then a `total` line.
pub fn parse_summary(text: &str) -> Result<Vec<(String, u64)>, String> {
    let mut counts = Vec::new();
    let mut rules = 0;
    for line in text.lines() {
        if line.starts_with("------") {
            rules += 1;
            continue;
        }
        if rules != 1 {
            continue; // the header, or the total after the second rule
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(calls)) = (fields.last(), fields.get(3)) else {
            return Err(format!("an strace summary line with too few fields: {line:?}"));
        };
        let calls = calls.parse().map_err(|_| format!("an strace summary line without a count: {line:?}"))?;
        counts.push((name.to_string(), calls));
    }
    if rules < 2 {
        return Err("strace wrote no summary table".into());
    }
    Ok(counts)
}

/// The `tour syscalls` table: a line per server, its calls by name.
pub fn render(rows: &[SyscallRow]) -> String {
    let mut out = String::new();
    for row in rows {
        let calls: Vec<String> =
            row.calls.iter().map(|c| format!("{} {:.2}", c.name, c.per_message)).collect();
        out += &format!("{}: {:.2} per message: {}\n", row.server, row.per_message, calls.join(", "));
    }
    out
}

/// The server child: `tour __lab syscalls-server KIND` prints its address, serves one
/// connection, and exits when the client closes it.
pub fn server_child(args: &[String]) -> Result<(), String> {
    let [kind] = args else { return Err("usage: syscalls-server KIND".into()) };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let pid = std::process::id();
    let announce = move || println!("{addr} {pid}"); // stdout is a pipe: println! flushes each line
    match kind.as_str() {
        "stage3-protocol" => stage3_protocol(listener, announce),
        "stage5-tasks" => stage5_tasks(listener, announce),
        "tokio" => tokio_server(listener, announce),
        "smol" => smol_server(listener, announce),
        "thread-per-connection" => thread_per_connection(listener, announce),
        other => Err(format!("no server named {other}")),
    }
}

/// Stage 3's protocol, as in `benches/echo.rs`: the loop stops when the connection is lost.
fn stage3_protocol(listener: std::net::TcpListener, announce: impl FnOnce()) -> Result<(), String> {
    use stage3_callbacks::event_loop::{EventLoop, WeakEventLoop};
    use stage3_callbacks::protocol::{Protocol, Transport, serve};
    struct Echo(WeakEventLoop);
    impl Protocol for Echo {
        fn data_received(&mut self, transport: &Transport, data: &[u8]) {
            transport.write(data);
        }
        fn connection_lost(&mut self, _: Option<std::io::Error>) {
            if let Some(lp) = self.0.upgrade() {
                lp.stop();
            }
        }
    }
    let lp = EventLoop::new().map_err(|e| e.to_string())?;
    let weak = lp.downgrade();
    let server = serve(&lp, listener, move || Echo(weak.clone())).map_err(|e| e.to_string())?;
    announce();
    lp.run().map_err(|e| e.to_string())?;
    drop(server);
    Ok(())
}

/// Stage 5's tasks, as in `benches/echo.rs`: a task for the connection.
fn stage5_tasks(listener: std::net::TcpListener, announce: impl FnOnce() + 'static) -> Result<(), String> {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use stage5_async_await::net::TcpListener;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    drop(listener); // stage 5 binds its own; the port is free again at once (nothing connected)
    stage5_async_await::run(async move {
        let listener = TcpListener::bind(addr).map_err(|e| e.to_string())?;
        announce();
        let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let connection = stage5_async_await::spawn(async move {
            let mut buffer = vec![0; 16 * 1024];
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                if stream.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        });
        connection.await.map_err(|e| format!("{e:?}"))
    })
}

/// Tokio's current-thread runtime (stage 6's), as in `benches/echo.rs`.
fn tokio_server(listener: std::net::TcpListener, announce: impl FnOnce()) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        announce();
        let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let connection = tokio::spawn(async move {
            let mut buffer = vec![0; 16 * 1024];
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                if stream.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        });
        connection.await.map_err(|e| e.to_string())
    })
}

/// smol's single-threaded executor on async-io, as in `benches/echo.rs`.
fn smol_server(listener: std::net::TcpListener, announce: impl FnOnce()) -> Result<(), String> {
    use async_executor::LocalExecutor;
    use async_io::Async;
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let listener = Async::new(listener).map_err(|e| e.to_string())?;
        announce();
        let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let connection = ex.spawn(async move {
            let mut buffer = vec![0; 16 * 1024];
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                if stream.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        });
        connection.await;
        Ok(())
    }))
}

/// A thread for the connection, blocking reads and writes, as in `benches/echo.rs`.
fn thread_per_connection(listener: std::net::TcpListener, announce: impl FnOnce()) -> Result<(), String> {
    announce();
    let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
    let connection = std::thread::spawn(move || {
        let mut buffer = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = stream.read(&mut buffer) {
            if stream.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
    });
    connection.join().map_err(|_| "the connection's thread panicked".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 40.00    0.000400           2       200           epoll_wait
 30.00    0.000300           1       300       100 read
 30.00    0.000300           1       100           write
------ ----------- ----------- --------- --------- ----------------
100.00    0.001000           1       600       100 total
";

    #[test]
    fn strace_summaries_parse() {
        let counts = parse_summary(SUMMARY).unwrap();
        assert_eq!(counts, [("epoll_wait".into(), 200), ("read".into(), 300), ("write".into(), 100)]);
        assert!(parse_summary("strace: exec: No such file or directory\n").is_err());
    }

    #[test]
    fn startup_cancels_out() {
        let once = [("execve".to_string(), 1), ("read".to_string(), 10 + 2 * 100)];
        let twice = [("execve".to_string(), 1), ("read".to_string(), 10 + 2 * 200), ("futex".to_string(), 0)];
        let row = per_message("x", 100, &once, &twice);
        assert_eq!(row.per_message, 2.0);
        assert_eq!(row.calls, [Call { name: "read".into(), per_message: 2.0 }]);
        assert_eq!(render(&[row]), "x: 2.00 per message: read 2.00\n");
    }
}
