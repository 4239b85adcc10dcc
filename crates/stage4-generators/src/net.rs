//! Sockets whose readiness is a future.
//!
//! Stage 3's [`Socket`](stage3_callbacks::net::Socket) makes a callback when it is ready. Here
//! that callback completes a [`Future`], and `readable()` and `writable()` return the future to
//! wait on: the bridge from callbacks to coroutines, which can only wait on futures. Everything
//! else (the registration, reading, writing, closing on drop) is stage 3's socket, unchanged.
//!
//! A name lookup ([`PendingLookup`]) is bridged the same way: stage 3's job on another thread, whose callback
//! completes a future.

use std::cell::RefCell;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::task::Poll;

use crawl::FetchError;
use stage3_callbacks::blocking::Job;
use stage3_callbacks::event_loop::EventLoop;

use crate::future::Future;

/// A nonblocking TCP stream registered with the loop, whose readiness is a future.
#[derive(Debug)]
pub struct Socket {
    /// Stage 3's socket; its readiness callback completes `waiter`.
    socket: stage3_callbacks::net::Socket,
    /// The future the next readiness event completes (at most one wait at a time).
    waiter: Rc<RefCell<Option<Future<()>>>>,
}

impl Socket {
    // ANCHOR: readiness
    /// Registers a nonblocking stream, disarmed: the future each [`readable`](Socket::readable) or
    /// [`writable`](Socket::writable) returns is done when the socket is ready.
    pub fn register(lp: &EventLoop, stream: TcpStream) -> io::Result<Socket> {
        let waiter: Rc<RefCell<Option<Future<()>>>> = Rc::new(RefCell::new(None));
        let wake = Rc::clone(&waiter);
        let socket = stage3_callbacks::net::Socket::register(lp, stream, move |_| {
            // The loop says the socket is ready: complete whatever waits on it.
            if let Some(future) = wake.borrow_mut().take() {
                let _ = future.set_result(());
            }
        })?;
        Ok(Socket { socket, waiter })
    }

    /// A future done once the socket is readable (bytes, EOF or an error are waiting).
    pub fn readable(&self) -> io::Result<Future<()>> {
        self.wait_for("readable", stage3_callbacks::net::Socket::readable)
    }

    /// A future done once the socket is writable (or a connect has finished).
    pub fn writable(&self) -> io::Result<Future<()>> {
        self.wait_for("writable", stage3_callbacks::net::Socket::writable)
    }

    /// Arms the registration with `arm` and returns the future its callback will complete. Fails,
    /// as stage 3's `readable()` and `writable()` do, if the socket cannot be armed.
    fn wait_for(
        &self,
        what: &str,
        arm: fn(&stage3_callbacks::net::Socket) -> io::Result<()>,
    ) -> io::Result<Future<()>> {
        let lp = self.socket.event_loop().expect("a task steps on its loop, so the loop is alive");
        let future = Future::new(&lp, format!("{what}({:?})", self.socket));
        *self.waiter.borrow_mut() = Some(future.clone());
        arm(&self.socket)?;
        Ok(future)
    }
    // ANCHOR_END: readiness
}

/// A stage-4 socket is stage 3's, with a future for its readiness: it reads and writes as that one.
impl Deref for Socket {
    type Target = stage3_callbacks::net::Socket;

    fn deref(&self) -> &Self::Target {
        &self.socket
    }
}

impl DerefMut for Socket {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.socket
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// A host's address being looked up, whose completion is a future.
#[derive(Debug)]
pub struct PendingLookup {
    /// Stage 3's job; its callback completes `done`.
    job: Job<Result<SocketAddr, FetchError>>,
    /// Done once the job's call has returned (never, for an address known at once: nothing
    /// waits on it then, because [`PendingLookup::poll`] is ready).
    done: Future<()>,
}

impl PendingLookup {
    /// Starts `lookup`: a name on another thread, an IP address at once.
    pub fn start(lp: &EventLoop, lookup: crawl::resolve::Lookup) -> io::Result<PendingLookup> {
        let done = Future::new(lp, "lookup");
        let finish = done.clone();
        let job = stage3_callbacks::net::lookup(lp, lookup, move |_| {
            let _ = finish.set_result(());
        })?;
        Ok(PendingLookup { job, done })
    }

    /// The address once the lookup is over; `Pending` until then.
    pub fn poll(&mut self) -> Poll<Result<SocketAddr, FetchError>> {
        self.job.poll()
    }

    /// A future done once the lookup is over.
    pub fn done(&self) -> Future<()> {
        self.done.clone()
    }
}
