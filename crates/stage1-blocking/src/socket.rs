//! The blocking socket of [`fetch`](crate::fetch), with the two things a real program adds to it.
//!
//! Reading [`fetch`](crate::fetch), take this as `std::net::TcpStream`: every call sleeps in the
//! kernel until it can go on, or until the timeout set before it expires. Besides, real
//! applications will want to:
//!
//! * stop on Ctrl-C, although a thread asleep in `read` runs no code that could notice: the
//!   socket is registered with [`unblock`], which shuts it down under the sleeping thread;
//! * see where the time goes: with `--trace`, each call says how long its thread slept in it;
//!   with `--timeline`, each is a span on its thread's track.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::unblock;

// ANCHOR: socket
/// A connected, blocking TCP stream that Ctrl-C can shut down.
#[derive(Debug)]
pub struct Socket {
    /// The stream. Shared with the Ctrl-C registry through an `Arc`, not a second descriptor: at
    /// 10,000 connections that would be 20,000 files.
    stream: Arc<TcpStream>,
    /// Shuts `stream` down on Ctrl-C for as long as it lives.
    _unblock: unblock::Registration,
    /// `--trace`: say how long each call slept.
    trace: bool,
}

impl Socket {
    /// Connects to `addr`, sleeping through the handshake for at most `timeout`.
    pub fn connect(addr: SocketAddr, timeout: Duration, trace: bool) -> io::Result<Socket> {
        let stream = Arc::new(traced(trace, "connect", || TcpStream::connect_timeout(&addr, timeout))?);
        let unblock = unblock::shut_down_on_interrupt(&stream);
        Ok(Socket { stream, _unblock: unblock, trace })
    }

    /// Bounds every `read` from now on: one that sleeps longer fails with `WouldBlock`.
    pub fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))
    }

    /// Bounds every `write` from now on: one that sleeps longer fails with `WouldBlock`.
    pub fn set_write_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.stream.set_write_timeout(Some(timeout))
    }
}

// ANCHOR_END: socket

impl Read for Socket {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        traced(self.trace, "read", || (&*self.stream).read(buffer))
    }
}

impl Write for Socket {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        traced(self.trace, "write", || (&*self.stream).write(bytes))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // a socket has no buffer of ours to flush
    }
}

/// Runs one blocking call; with `--trace`, says how long the thread slept in it; with
/// `--timeline`, records it as a span.
fn traced<T>(trace: bool, call: &'static str, f: impl FnOnce() -> T) -> T {
    let _blocked = crawl::timeline::span(match call {
        "connect" => "blocked in connect",
        "read" => "blocked in read",
        _ => "blocked in write",
    });
    if !trace {
        return f();
    }
    let started = Instant::now();
    let result = f();
    let thread = std::thread::current();
    crawl::log!(
        "[trace] thread {} blocked {:>8.3} ms in {call}",
        thread.name().unwrap_or("unnamed"),
        started.elapsed().as_secs_f64() * 1000.0
    );
    result
}
