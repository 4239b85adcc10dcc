//! Sockets whose readiness is a callback.
//!
//! A [`Socket`] registers its (nonblocking) stream with the loop once, with the callback to run
//! when it is ready. `readable()` and `writable()` arm the registration: they ask the loop to make
//! that callback once, when the socket is ready for what was asked. This is the 500-lines
//! crawler's `selector.register(sock.fileno(), EVENT_WRITE, connected)`, with the callback given
//! once and the wait asked for each time (the registration is oneshot: see [`EventLoop`]).
//! Dropping the socket deregisters it and closes the descriptor.
//!
//! Before a socket can connect, its host's address must be known: [`lookup`] makes a name's
//! lookup a job on another thread, whose callback is the same kind as a socket's.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;

use crawl::FetchError;
use crawl::resolve::Lookup;

use crate::blocking::Job;
use crate::event_loop::{EventLoop, Interest, Token, WeakEventLoop};

/// Starts `lookup`: a name is looked up on another thread, and `on_done` runs on the loop when
/// the answer is there; an IP address is known at once, and `on_done` never runs.
pub fn lookup(
    lp: &EventLoop,
    lookup: Lookup,
    on_done: impl FnOnce(&EventLoop) + 'static,
) -> io::Result<Job<Result<SocketAddr, FetchError>>> {
    match lookup {
        Lookup::Known(addr) => Ok(Job::ready(lp, Ok(addr))),
        Lookup::Blocking(name) => lp.run_in_executor(move || name.run(), on_done),
    }
}

/// A nonblocking TCP stream registered with the loop.
pub struct Socket {
    /// The stream, shared with the loop's registration.
    stream: Rc<TcpStream>,
    /// The registration.
    token: Token,
    /// To re-arm and deregister.
    event_loop: WeakEventLoop,
}

impl Socket {
    // ANCHOR: readiness
    /// Registers a nonblocking stream, disarmed: `on_ready` runs once after each
    /// [`readable`](Socket::readable) or [`writable`](Socket::writable), when the socket is ready.
    pub fn register(
        lp: &EventLoop,
        stream: TcpStream,
        mut on_ready: impl FnMut(&EventLoop) + 'static,
    ) -> io::Result<Socket> {
        let stream = Rc::new(stream);
        let token = lp.register(Rc::clone(&stream), Interest::NONE, move |lp, _| on_ready(lp))?;
        Ok(Socket { stream, token, event_loop: lp.downgrade() })
    }

    /// Asks the loop to call back once the socket is readable (bytes, EOF or an error are waiting).
    pub fn readable(&self) -> io::Result<()> {
        self.wait_for(Interest::READ)
    }

    /// Asks the loop to call back once the socket is writable (or a connect has finished).
    pub fn writable(&self) -> io::Result<()> {
        self.wait_for(Interest::WRITE)
    }

    fn wait_for(&self, interest: Interest) -> io::Result<()> {
        self.event_loop()?.modify(self.token, interest)
    }
    // ANCHOR_END: readiness

    /// The loop the socket is registered with; an error once the loop is gone.
    pub fn event_loop(&self) -> io::Result<EventLoop> {
        self.event_loop.upgrade().ok_or_else(|| io::Error::other("the socket's loop is gone"))
    }
}

impl Read for Socket {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        (&*self.stream).read(buffer)
    }
}

impl Write for Socket {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        (&*self.stream).write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // a socket has no buffer of ours to flush
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let Some(lp) = self.event_loop.upgrade() {
            let _ = lp.deregister(self.token);
        }
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("token", &self.token).finish_non_exhaustive()
    }
}
