//! Transports and protocols, as in asyncio: the loop moves the bytes, a protocol reacts to them.
//!
//! A [`Protocol`] is an object the loop calls when something happens on its connection
//! (`connection_made`, `data_received`, `eof_received`, `connection_lost`). It never reads a
//! socket or waits; it answers through its [`Transport`] (`write`, `close`, `abort`), which
//! buffers what the socket cannot take yet and asks the loop to say when it can.
//!
//! ```no_run
//! // An echo server: every byte received is written back.
//! use stage3_callbacks::event_loop::EventLoop;
//! use stage3_callbacks::protocol::{serve, Protocol, Transport};
//!
//! struct Echo;
//! impl Protocol for Echo {
//!     fn data_received(&mut self, transport: &Transport, data: &[u8]) {
//!         transport.write(data);
//!     }
//! }
//!
//! let event_loop = EventLoop::new()?;
//! let listener = std::net::TcpListener::bind("127.0.0.1:8888")?;
//! serve(&event_loop, listener, || Echo)?;
//! event_loop.run()?;
//! # std::io::Result::Ok(())
//! ```
//!
//! Order of calls: `connection_made` once, then any number of `data_received`, then at most one
//! `eof_received` (the peer closed its side; the transport closes after it), then
//! `connection_lost` exactly once, with the error if the connection failed. A connection that
//! could not be made at all gets only `connection_lost(Some(error))`. `connection_lost` always
//! comes from a fresh turn of the loop (scheduled with `call_soon`), never from inside another
//! call to the protocol, so the protocol is never re-entered.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;

use crawl::socket::{connect_nonblocking, finish_connect, not_yet};

use crate::event_loop::{EventLoop, Interest, Ready, Token, WeakEventLoop};

pub use crate::server::{Server, serve};

/// Bytes asked of one `read`. The buffer lives on the stack for the call, not per connection.
const READ_CHUNK: usize = 16 * 1024;

/// What the loop calls as things happen on one connection. Every method has a default that does
/// nothing, except `data_received`.
pub trait Protocol: 'static {
    /// The connection is up; `transport` is how to write to it.
    fn connection_made(&mut self, _transport: &Transport) {}
    /// Bytes arrived.
    fn data_received(&mut self, transport: &Transport, data: &[u8]);
    /// The peer will send nothing more. The transport closes after this returns.
    fn eof_received(&mut self, _transport: &Transport) {}
    /// The connection is gone: closed (`None`) or failed (`Some`). Called exactly once.
    fn connection_lost(&mut self, _error: Option<io::Error>) {}
}

/// Delivers `connection_lost` to the protocol.
type OnLost = Box<dyn FnOnce(Option<io::Error>)>;

/// One connection's writing end, shared by the protocol and the loop. Cloning is cheap.
#[derive(Clone)]
pub struct Transport {
    shared: Rc<Shared>,
}

struct Shared {
    /// The loop, weakly: the loop owns this transport (through the socket's callback).
    event_loop: WeakEventLoop,
    /// The socket; taken out when the transport closes, so the descriptor closes then.
    socket: RefCell<Option<Rc<TcpStream>>>,
    /// The socket's registration.
    token: Cell<Option<Token>>,
    /// Bytes `write` accepted that the socket has not taken yet.
    outgoing: RefCell<Vec<u8>>,
    /// Until the nonblocking connect completes, writability means "connect finished".
    connected: Cell<bool>,
    /// `close` was called: stop reading, flush `outgoing`, then close.
    closing: Cell<bool>,
    /// The socket is closed and `connection_lost` is scheduled.
    closed: Cell<bool>,
    /// The socket's callback ([`on_ready`]) is running: it re-arms the socket once, when it
    /// returns, so a `write` or `close` made from inside it (an echo) leaves the re-arm to it,
    /// instead of paying an `epoll_ctl` that the callback's own would undo.
    in_callback: Cell<bool>,
    /// Calls the protocol's `connection_lost`; taken when the transport closes.
    on_lost: RefCell<Option<OnLost>>,
}

impl Transport {
    /// Queues `data` for sending. Never blocks: what the socket cannot take now is buffered, and
    /// the loop is asked to say when the socket is writable again.
    pub fn write(&self, data: &[u8]) {
        if self.shared.closing.get() || self.shared.closed.get() {
            return;
        }
        self.shared.outgoing.borrow_mut().extend_from_slice(data);
        if self.shared.connected.get() {
            self.flush();
            self.rearm();
        }
    }

    /// Closes after everything written so far has been sent; `connection_lost(None)` follows.
    pub fn close(&self) {
        self.shared.closing.set(true);
        if self.shared.outgoing.borrow().is_empty() {
            self.force_close(None);
        } else {
            self.rearm();
        }
    }

    /// Closes at once, dropping unsent bytes; `connection_lost(None)` follows.
    pub fn abort(&self) {
        self.force_close(None);
    }

    /// Whether the transport has been closed (or is closing).
    pub fn is_closing(&self) -> bool {
        self.shared.closing.get() || self.shared.closed.get()
    }

    /// Writes as much of `outgoing` as the socket takes now.
    fn flush(&self) {
        let Some(socket) = self.shared.socket.borrow().clone() else { return };
        let mut outgoing = self.shared.outgoing.borrow_mut();
        while !outgoing.is_empty() {
            match (&*socket).write(&outgoing) {
                Ok(n) => drop(outgoing.drain(..n)),
                // The socket's send buffer is full: the loop will say when it has room.
                Err(e) if not_yet(&e) => break,
                Err(e) => {
                    drop(outgoing);
                    return self.force_close(Some(e));
                }
            }
        }
        let flushed = outgoing.is_empty();
        drop(outgoing);
        if flushed && self.shared.closing.get() {
            self.force_close(None);
        }
    }

    /// Tells the loop what to wake this connection for next.
    fn rearm(&self) {
        let (Some(token), Some(lp)) = (self.shared.token.get(), self.shared.event_loop.upgrade()) else {
            return;
        };
        if self.shared.closed.get() || self.shared.in_callback.get() {
            return;
        }
        let interest = if !self.shared.connected.get() {
            Interest::WRITE // the nonblocking connect reports its end as writability
        } else {
            Interest {
                readable: !self.shared.closing.get(),
                writable: !self.shared.outgoing.borrow().is_empty(),
            }
        };
        if let Err(e) = lp.modify(token, interest) {
            self.force_close(Some(e));
        }
    }

    /// Closes the socket now and schedules `connection_lost` (once).
    fn force_close(&self, error: Option<io::Error>) {
        if self.shared.closed.replace(true) {
            return;
        }
        self.shared.outgoing.borrow_mut().clear();
        let lp = self.shared.event_loop.upgrade();
        if let (Some(token), Some(lp)) = (self.shared.token.take(), &lp) {
            let _ = lp.deregister(token);
        }
        // Dropping our `Rc` closes the descriptor (the loop dropped its own in `deregister`).
        self.shared.socket.borrow_mut().take();
        if let (Some(on_lost), Some(lp)) = (self.shared.on_lost.borrow_mut().take(), lp) {
            lp.call_soon(move |_| on_lost(error));
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("closed", &self.shared.closed.get()).finish_non_exhaustive()
    }
}

// ANCHOR: connect
/// Opens a connection to `addr` for `protocol` without waiting: the connect is started, and the
/// loop calls `connection_made` when it completes (or `connection_lost` with the error).
pub fn connect<P: Protocol>(lp: &EventLoop, addr: SocketAddr, protocol: P) -> io::Result<Transport> {
    // The socket becomes writable when the handshake is over, one way or the other.
    attach(lp, connect_nonblocking(addr)?, protocol, false)
}
// ANCHOR_END: connect

/// Makes `stream` a transport for `protocol` and registers it with the loop.
pub(crate) fn attach<P: Protocol>(
    lp: &EventLoop,
    stream: TcpStream,
    protocol: P,
    connected: bool,
) -> io::Result<Transport> {
    let socket = Rc::new(stream);
    let protocol = Rc::new(RefCell::new(protocol));
    let lost_protocol = Rc::clone(&protocol);
    let transport = Transport {
        shared: Rc::new(Shared {
            event_loop: lp.downgrade(),
            socket: RefCell::new(Some(Rc::clone(&socket))),
            token: Cell::new(None),
            outgoing: RefCell::new(Vec::new()),
            connected: Cell::new(connected),
            closing: Cell::new(false),
            closed: Cell::new(false),
            in_callback: Cell::new(false),
            on_lost: RefCell::new(Some(Box::new(move |error| {
                lost_protocol.borrow_mut().connection_lost(error)
            }))),
        }),
    };
    // An accepted connection starts disarmed: `connection_made` must run before any data.
    let interest = if connected { Interest::NONE } else { Interest::WRITE };
    let on_ready = {
        let (transport, protocol) = (transport.clone(), Rc::clone(&protocol));
        move |_: &EventLoop, ready: Ready| on_ready(&transport, &protocol, ready)
    };
    let token = lp.register(socket, interest, on_ready)?;
    transport.shared.token.set(Some(token));
    if connected {
        let transport = transport.clone();
        lp.call_soon(move |_| made(&transport, &protocol));
    }
    Ok(transport)
}

/// The connection is up: tell the protocol, then start reading.
fn made<P: Protocol>(transport: &Transport, protocol: &RefCell<P>) {
    transport.shared.connected.set(true);
    protocol.borrow_mut().connection_made(transport);
    transport.flush();
    transport.rearm();
}

// ANCHOR: on_ready
/// The socket's callback: the loop says it is ready; move bytes and tell the protocol.
fn on_ready<P: Protocol>(transport: &Transport, protocol: &RefCell<P>, ready: Ready) {
    if transport.shared.closed.get() {
        return;
    }
    if !transport.shared.connected.get() {
        // The socket is writable: the nonblocking connect may be over (or the wake was spurious).
        let Some(socket) = transport.shared.socket.borrow().clone() else { return };
        match finish_connect(&*socket) {
            Ok(()) => made(transport, protocol),
            Err(e) if not_yet(&e) => transport.rearm(),
            Err(error) => transport.force_close(Some(error)),
        }
        return;
    }
    transport.shared.in_callback.set(true);
    if ready.writable {
        transport.flush();
    }
    if ready.readable && !transport.is_closing() {
        read_once(transport, protocol);
    }
    transport.shared.in_callback.set(false);
    transport.rearm();
}

/// One `read`: the loop re-arms the socket afterwards, and unread bytes wake it again at once.
fn read_once<P: Protocol>(transport: &Transport, protocol: &RefCell<P>) {
    let Some(socket) = transport.shared.socket.borrow().clone() else { return };
    let mut buffer = [0; READ_CHUNK];
    match (&*socket).read(&mut buffer) {
        Ok(0) => {
            // EOF: the peer closed its sending side.
            protocol.borrow_mut().eof_received(transport);
            transport.close();
        }
        Ok(n) => protocol.borrow_mut().data_received(transport, &buffer[..n]),
        // Nothing to read after all (a spurious wake-up): wait for the next event.
        Err(e) if not_yet(&e) => {}
        Err(e) => transport.force_close(Some(e)),
    }
}
// ANCHOR_END: on_ready
