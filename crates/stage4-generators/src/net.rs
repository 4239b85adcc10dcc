//! Sockets whose readiness is a future.
//!
//! A [`Socket`] registers its (nonblocking) stream with stage 3's loop once. `readable()` and
//! `writable()` arm the registration and return a [`Future`] that the loop's readiness callback
//! completes: the bridge from callbacks to coroutines, which can only wait on futures.
//! Dropping the socket deregisters it and closes the descriptor.

use std::cell::RefCell;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;

use socket2::{Domain, Type};
use stage3_callbacks::event_loop::{EventLoop, Interest, Token, WeakEventLoop};

use crate::future::Future;

/// A nonblocking TCP stream registered with the loop.
pub struct Socket {
    /// The stream, shared with the loop's registration.
    stream: Rc<TcpStream>,
    /// The registration.
    token: Token,
    /// To re-arm and deregister.
    event_loop: WeakEventLoop,
    /// The future the next readiness event completes (at most one wait at a time).
    waiter: Rc<RefCell<Option<Future<()>>>>,
}

impl Socket {
    /// Starts connecting to `addr` without waiting (`EINPROGRESS`). Wait on
    /// [`writable`](Socket::writable), then check [`take_error`](Socket::take_error).
    pub fn connect(lp: &EventLoop, addr: SocketAddr) -> io::Result<Socket> {
        let socket = socket2::Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            // The handshake has started and goes on without us.
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        Socket::register(lp, socket.into())
    }

    // ANCHOR: readiness
    /// Registers a nonblocking stream (disarmed until a wait is asked for).
    pub fn register(lp: &EventLoop, stream: TcpStream) -> io::Result<Socket> {
        let stream = Rc::new(stream);
        let waiter: Rc<RefCell<Option<Future<()>>>> = Rc::new(RefCell::new(None));
        let wake = Rc::clone(&waiter);
        let token = lp.register(Rc::clone(&stream), Interest::NONE, move |_, _| {
            // The loop says the socket is ready: complete whatever waits on it.
            if let Some(future) = wake.borrow_mut().take() {
                let _ = future.set_result(());
            }
        })?;
        Ok(Socket { stream, token, event_loop: lp.downgrade(), waiter })
    }

    /// A future done when the socket is readable (bytes, EOF or an error are waiting).
    pub fn readable(&self) -> Future<()> {
        self.wait_for(Interest::READ, "readable")
    }

    /// A future done when the socket is writable (or a connect has finished).
    pub fn writable(&self) -> Future<()> {
        self.wait_for(Interest::WRITE, "writable")
    }

    fn wait_for(&self, interest: Interest, what: &str) -> Future<()> {
        let lp = self.event_loop.upgrade().expect("the socket's loop is gone");
        let future = Future::new(&lp, format!("{what}(socket {:?})", self.token));
        *self.waiter.borrow_mut() = Some(future.clone());
        if let Err(error) = lp.modify(self.token, interest) {
            // Cannot happen for a registered socket; if it did, waking at once surfaces the error
            // on the next read or write instead of waiting forever.
            eprintln!("re-arming a socket failed: {error}");
            let _ = future.set_result(());
        }
        future
    }
    // ANCHOR_END: readiness

    /// The stream, for nonblocking reads and writes.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// The error of a finished nonblocking connect (`SO_ERROR`), if it failed.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.stream.take_error()
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
