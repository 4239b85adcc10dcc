//! The listening side of transports and protocols: `serve` accepts connections and gives each one
//! a protocol from a factory (asyncio's `loop.create_server`). Re-exported from
//! [`protocol`](crate::protocol), where the connections' own side lives.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::rc::{Rc, Weak};

use crawl::socket::{ACCEPT_BACKOFF, not_yet, out_of_descriptors};

use crate::event_loop::{EventLoop, Interest, Ready, TimerId, Token, WeakEventLoop};
use crate::protocol::{Protocol, Transport, attach};

/// A listening socket whose accepted connections each get a protocol from a factory.
#[derive(Debug)]
pub struct Server {
    /// The listener's registration.
    token: Token,
    /// The loop it is registered with.
    event_loop: WeakEventLoop,
    /// Where it listens (with the real port when bound to port 0).
    local_addr: SocketAddr,
}

impl Server {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting. Connections already accepted carry on.
    pub fn close(&self) {
        if let Some(lp) = self.event_loop.upgrade() {
            let _ = lp.deregister(self.token);
        }
    }
}

// ANCHOR: serve
/// Accepts connections on `listener`, giving each a protocol made by `factory`.
///
/// Out of file descriptors, `accept` fails and the connection waits in the backlog, while the
/// listener stays readable: re-armed at once, it would wake the loop at once, for ever. So the
/// server leaves it disarmed until one of its connections closes or [`ACCEPT_BACKOFF`] passes
/// (see [`out_of_descriptors`]), and then accepts again. It logs a line when the shortage starts
/// and one when it is over, not one per failed `accept`.
pub fn serve<P, F>(lp: &EventLoop, listener: TcpListener, factory: F) -> io::Result<Server>
where
    P: Protocol,
    F: FnMut() -> P + 'static,
{
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let listener = Rc::new(listener);
    let acceptor = Rc::new_cyclic(|me| Acceptor {
        me: me.clone(),
        listener: Rc::clone(&listener),
        factory: RefCell::new(factory),
        token: Cell::new(None),
        event_loop: lp.downgrade(),
        paused: Cell::new(None),
        short: Cell::new(false),
    });
    let accepting = Rc::clone(&acceptor);
    let registered = lp.register(listener, Interest::READ, move |lp, _: Ready| accepting.accept_all(lp))?;
    acceptor.token.set(Some(registered));
    Ok(Server { token: registered, event_loop: lp.downgrade(), local_addr })
}

/// What [`serve`]'s listener callback, its back-off timer and its connections share. The callback
/// owns it; the timer and the connections hold it weakly, so that `Server::close` frees it.
struct Acceptor<F> {
    /// Itself, weakly: for the timer and the connections, which must not keep it alive.
    me: Weak<Acceptor<F>>,
    /// The listening socket (the loop holds it too, as the registered source).
    listener: Rc<TcpListener>,
    /// Makes each accepted connection's protocol.
    factory: RefCell<F>,
    /// The listener's registration, set once it is registered.
    token: Cell<Option<Token>>,
    /// The loop, for the connections, which have no handle of their own.
    event_loop: WeakEventLoop,
    /// The back-off timer while `accept` is paused; the listener is disarmed meanwhile.
    paused: Cell<Option<TimerId>>,
    /// Out of descriptors since the backlog was last found empty: the episode logged once.
    short: Cell<bool>,
}

impl<P: Protocol, F: FnMut() -> P + 'static> Acceptor<F> {
    /// Accepts everything that is waiting (each accept is cheap and the backlog may be long),
    /// then watches the listener for more; or pauses, when `accept` fails.
    fn accept_all(&self, lp: &EventLoop) {
        loop {
            match self.listener.accept() {
                Ok((stream, _peer)) => {
                    let on_close: Weak<dyn ConnectionClosed> = self.me.clone();
                    let protocol = Served { protocol: (self.factory.borrow_mut())(), on_close };
                    let accepted =
                        stream.set_nonblocking(true).and_then(|()| attach(lp, stream, protocol, true));
                    if let Err(e) = accepted {
                        crawl::log!("accept: {e}");
                    }
                }
                // The backlog is empty: wait for the next connection.
                Err(e) if not_yet(&e) => break self.caught_up(),
                // The peer gave up before we accepted: there is nobody to serve; take the next.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => return self.pause(lp, &e),
            }
        }
        if let Some(token) = self.token.get() {
            let _ = lp.modify(token, Interest::READ);
        }
    }

    /// `accept` failed, out of descriptors or for a reason another `accept` right away would
    /// likely meet too: leaves the listener disarmed until [`resume`](Acceptor::resume), from a
    /// closing connection or from the timer.
    fn pause(&self, lp: &EventLoop, error: &io::Error) {
        if !out_of_descriptors(error) {
            crawl::log!("accept: {error}"); // rare, and once per pause, not in a loop
        } else if !self.short.replace(true) {
            crawl::log!("out of file descriptors: pausing accepts until a connection closes");
        }
        let acceptor = self.me.clone();
        let timer = lp.call_later(ACCEPT_BACKOFF, move |lp| {
            if let Some(acceptor) = acceptor.upgrade() {
                acceptor.resume(lp);
            }
        });
        self.paused.set(Some(timer));
    }

    /// The backlog has been found empty: a shortage of descriptors, if there was one, is over.
    fn caught_up(&self) {
        if self.short.replace(false) {
            crawl::log!("accepting again: every waiting connection has been accepted");
        }
    }
}

/// What a connection tells its server when it closes, without knowing the server's factory type.
trait ConnectionClosed {
    /// One of the server's descriptors is free again: end a pause, if there is one.
    fn connection_closed(&self);
}

impl<P: Protocol, F: FnMut() -> P + 'static> ConnectionClosed for Acceptor<F> {
    fn connection_closed(&self) {
        if let Some(lp) = self.event_loop.upgrade() {
            self.resume(&lp);
        }
    }
}

impl<P: Protocol, F: FnMut() -> P + 'static> Acceptor<F> {
    /// Ends a pause, if there is one, by accepting again at once: the backlog may be empty by
    /// now (Linux fails `accept` with `EMFILE` even then), and a listener that were only re-armed
    /// would wait for a new client to find that out. Called when the timer fires and when any
    /// connection of this server closes.
    fn resume(&self, lp: &EventLoop) {
        if let Some(timer) = self.paused.take() {
            lp.cancel(timer); // nothing to cancel when it is the timer that called
            self.accept_all(lp);
        }
    }
}

/// A served connection's protocol, which also tells its server when the connection is gone: its
/// descriptor is closed by then, so a server paused for want of one can accept again.
struct Served<P> {
    /// The protocol the factory made; every call goes to it.
    protocol: P,
    /// The server, weakly: a connection may outlive it.
    on_close: Weak<dyn ConnectionClosed>,
}

impl<P: Protocol> Protocol for Served<P> {
    fn connection_made(&mut self, transport: &Transport) {
        self.protocol.connection_made(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        self.protocol.data_received(transport, data);
    }

    fn eof_received(&mut self, transport: &Transport) {
        self.protocol.eof_received(transport);
    }

    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.protocol.connection_lost(error);
        if let Some(server) = self.on_close.upgrade() {
            server.connection_closed();
        }
    }
}
// ANCHOR_END: serve
