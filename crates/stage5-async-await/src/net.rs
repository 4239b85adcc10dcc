//! TCP as futures: `TcpStream` and `TcpListener` on the loop.
//!
//! The pattern of every I/O future: try the nonblocking call; on `WouldBlock`, keep the task's
//! waker where the socket's readiness callback will find it, arm the registration, and return
//! `Pending`. The loop (stage 3, unchanged) calls the callback when epoll reports the socket
//! ready; the callback wakes the task; the task polls again and retries the call.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crawl::socket::{ACCEPT_BACKOFF, connect_nonblocking, finish_connect, not_yet, out_of_descriptors};
use futures::io::{AsyncRead, AsyncWrite};
use stage3_callbacks::event_loop::{EventLoop, Interest, Ready, Token, WeakEventLoop};

use crate::executor::Executor;
use crate::time::timeout;

/// A nonblocking socket registered with the loop, and the tasks waiting on it.
struct Registration {
    /// The loop's handle on the socket.
    token: Token,
    /// To re-arm and deregister.
    event_loop: WeakEventLoop,
    /// Who waits to read, and who waits to write (a split stream can have both).
    waiters: Rc<RefCell<Waiters>>,
}

/// The wakers of the tasks waiting on one socket, one slot a direction.
#[derive(Default)]
struct Waiters {
    /// The task waiting for the socket to be readable (or to have a connection to accept).
    read: Option<Waker>,
    /// The task waiting for the socket to be writable (or for its connect to finish).
    write: Option<Waker>,
}

impl Waiters {
    /// What the socket must be armed for: a direction someone waits on.
    fn interest(&self) -> Interest {
        Interest { readable: self.read.is_some(), writable: self.write.is_some() }
    }
}

impl Registration {
    fn new<S: std::os::fd::AsFd + 'static>(lp: &EventLoop, source: Rc<S>) -> io::Result<Registration> {
        let waiters = Rc::new(RefCell::new(Waiters::default()));
        let own_token = Rc::new(Cell::new(None));
        let (wake, token_cell) = (Rc::clone(&waiters), Rc::clone(&own_token));
        let token = lp.register(source, Interest::NONE, move |lp: &EventLoop, ready: Ready| {
            // ANCHOR: readiness
            // The reactor's half: epoll said this socket is ready; wake whoever waits for that.
            let (read, write, still_waiting) = {
                let mut waiters = wake.borrow_mut();
                let read = if ready.readable { waiters.read.take() } else { None };
                let write = if ready.writable { waiters.write.take() } else { None };
                (read, write, waiters.interest())
            };
            // Oneshot: the event disarmed the socket. Whoever still waits (a writer, when only
            // reading became possible) needs it armed again.
            if still_waiting != Interest::NONE
                && let Some(token) = token_cell.get()
            {
                let _ = lp.modify(token, still_waiting);
            }
            read.into_iter().chain(write).for_each(Waker::wake);
            // ANCHOR_END: readiness
        })?;
        own_token.set(Some(token));
        Ok(Registration { token, event_loop: lp.downgrade(), waiters })
    }

    /// Keeps the task's waker for each direction in `wanted` (`Interest::READ`, say), and arms
    /// the registration for those and for the directions other tasks wait on.
    fn wait(&self, cx: &Context<'_>, wanted: Interest) -> io::Result<()> {
        let interest = {
            let mut waiters = self.waiters.borrow_mut();
            if wanted.readable {
                waiters.read = Some(cx.waker().clone());
            }
            if wanted.writable {
                waiters.write = Some(cx.waker().clone());
            }
            waiters.interest()
        };
        let lp = self.event_loop.upgrade().ok_or_else(|| io::Error::other("the event loop is gone"))?;
        lp.modify(self.token, interest)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(lp) = self.event_loop.upgrade() {
            let _ = lp.deregister(self.token);
        }
    }
}

/// A TCP connection whose reads and writes are futures.
pub struct TcpStream {
    /// Its registration and waiters. Declared first so it is dropped first: the loop deletes
    /// the socket from epoll before the descriptor closes.
    registration: Registration,
    /// The socket, shared with the loop's registration.
    stream: Rc<std::net::TcpStream>,
    /// The listener that accepted it, told when it closes (dangling for a connected stream).
    accepted_by: Weak<Closes>,
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream").field("peer", &self.stream.peer_addr().ok()).finish()
    }
}

impl TcpStream {
    /// Connects without blocking the thread: the connect starts (`EINPROGRESS`), the task waits
    /// for writability, then the socket's error slot says how the handshake went.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_std(connect_nonblocking(addr)?, Weak::new())?;
        std::future::poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    }

    /// Wraps a nonblocking std stream; `accepted_by` hears when it closes.
    fn from_std(stream: std::net::TcpStream, accepted_by: Weak<Closes>) -> io::Result<TcpStream> {
        let stream = Rc::new(stream);
        let registration =
            Executor::current(|executor| Registration::new(executor.event_loop(), Rc::clone(&stream)))?;
        Ok(TcpStream { registration, stream, accepted_by })
    }

    /// Ready when the connect started by [`TcpStream::connect`] is over, either way.
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match finish_connect(&*self.stream) {
            // The handshake is still under way: wake me when it is over.
            Err(e) if not_yet(&e) => {
                self.registration.wait(cx, Interest::WRITE)?;
                Poll::Pending
            }
            done => Poll::Ready(done),
        }
    }

    /// Waits until a read would not block: bytes or the end of the stream are ready (tokio's
    /// `TcpStream::readable`); a socket error (a reset) is returned here. Takes no bytes, so the
    /// caller can hold off lending a buffer to `read` until there is something to put in it.
    pub async fn readable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            // A one-byte peek answers "would a read block?" without consuming anything.
            match self.stream.peek(&mut [0; 1]) {
                Ok(_) => Poll::Ready(Ok(())), // bytes, or 0 for the end of the stream
                // Nothing yet: wake me when there is.
                Err(e) if not_yet(&e) => {
                    self.registration.wait(cx, Interest::READ)?;
                    Poll::Pending
                }
                // A real error (a reset, say). Return it: the kernel hands a socket's pending
                // error to one call only, so a `read` after this would see a clean end of stream
                // instead of the reset.
                Err(e) => Poll::Ready(Err(e)),
            }
        })
        .await
    }

    /// The std stream, for addresses and options.
    pub fn get_ref(&self) -> &std::net::TcpStream {
        &self.stream
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        // The descriptor closes just after this, with the fields; the listener's task is only
        // woken here, and runs later.
        if let Some(closes) = self.accepted_by.upgrade() {
            closes.one_closed();
        }
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match (&*self.stream).read(buf) {
            Ok(n) => Poll::Ready(Ok(n)),
            // No bytes yet: wake me when there are.
            Err(e) if not_yet(&e) => {
                self.registration.wait(cx, Interest::READ)?;
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match (&*self.stream).write(buf) {
            Ok(n) => Poll::Ready(Ok(n)),
            // The send buffer is full: wake me when it has room.
            Err(e) if not_yet(&e) => {
                self.registration.wait(cx, Interest::WRITE)?;
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // no user-space buffer: what `write` accepted is the kernel's
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown(Shutdown::Write))
    }
}

/// A listening socket whose `accept` is a future.
pub struct TcpListener {
    /// Its registration (dropped first, as for `TcpStream`).
    registration: Registration,
    /// The socket, shared with the loop's registration.
    listener: Rc<std::net::TcpListener>,
    /// Where the connections it accepted say that they closed.
    closes: Rc<Closes>,
    /// Out of descriptors since the backlog was last found empty: the episode logged once.
    short: Cell<bool>,
}

/// How a listener out of descriptors hears that one of its connections closed, freeing one.
#[derive(Default)]
struct Closes {
    /// The task that last waited for a close (if it has stopped waiting, a wake is spurious).
    waiter: RefCell<Option<Waker>>,
    /// A connection closed since the waiter started waiting.
    closed: Cell<bool>,
}

impl Closes {
    /// Done when a connection accepted by this listener closes, from now on.
    async fn next(&self) {
        self.closed.set(false);
        std::future::poll_fn(|cx| {
            if self.closed.get() {
                return Poll::Ready(());
            }
            *self.waiter.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// A connection closed: wakes the waiter.
    fn one_closed(&self) {
        self.closed.set(true);
        if let Some(waker) = self.waiter.borrow_mut().take() {
            waker.wake();
        }
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener").field("addr", &self.listener.local_addr().ok()).finish()
    }
}

impl TcpListener {
    /// Binds and listens (binding does not wait, so this is not async).
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let listener = Rc::new(listener);
        let registration =
            Executor::current(|executor| Registration::new(executor.event_loop(), Rc::clone(&listener)))?;
        Ok(TcpListener { registration, listener, closes: Rc::default(), short: Cell::new(false) })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next connection.
    ///
    /// Out of file descriptors, it waits, with the connection still in the backlog, until one
    /// of its connections closes or [`ACCEPT_BACKOFF`] passes, then tries again (see
    /// [`out_of_descriptors`]: trying at once would spin). It logs a line when the shortage starts
    /// and one when it is over, not one per try. A connection its peer gave up on before it was
    /// accepted is skipped.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            let accepted = std::future::poll_fn(|cx| match self.listener.accept() {
                Ok(accepted) => Poll::Ready(Ok(accepted)),
                // Nobody is waiting to be accepted: wake me when someone is.
                Err(e) if not_yet(&e) => {
                    if self.short.replace(false) {
                        crawl::log!("accepting again: every waiting connection has been accepted");
                    }
                    self.registration.wait(cx, Interest::READ)?;
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(e)),
            })
            .await;
            match accepted {
                Ok((stream, peer)) => {
                    stream.set_nonblocking(true)?;
                    return Ok((TcpStream::from_std(stream, Rc::downgrade(&self.closes))?, peer));
                }
                // The peer gave up before we accepted: there is nobody to serve; take the next.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) if out_of_descriptors(&e) => {
                    if !self.short.replace(true) {
                        crawl::log!("out of file descriptors: pausing accepts until a connection closes");
                    }
                    // Elapsed or not, it is time to try again.
                    let _ = timeout(ACCEPT_BACKOFF, self.closes.next()).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
