//! The nonblocking socket calls every nonblocking stage makes the same way.
//!
//! A nonblocking socket never puts the thread to sleep: a call that cannot go on at once fails
//! instead, and the caller must ask again later. Stages 2 to 5 differ only in *when* they ask
//! again (on the next turn of a busy loop, when epoll says the socket is ready, when a task is
//! resumed or polled), so the calls themselves are written once, here:
//!
//! * [`connect_nonblocking`] starts a TCP handshake without waiting for it;
//! * [`finish_connect`] says whether that handshake is over, and how it went;
//! * [`not_yet`] tells "ask me again later" apart from a real error;
//! * [`out_of_descriptors`] tells when an `accept` must wait for a file descriptor to be freed
//!   (at most [`ACCEPT_BACKOFF`], then it tries again).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

// ANCHOR: socket
/// Opens a nonblocking TCP socket and starts connecting it to `addr`, without waiting for the
/// handshake: wait until the socket is writable, then ask [`finish_connect`] how it went.
///
/// std's `TcpStream::connect` always blocks, so the socket is made with socket2 and switched to
/// nonblocking *before* `connect` is called.
pub fn connect_nonblocking(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        // Loopback can complete the handshake at once.
        Ok(()) => {}
        // EINPROGRESS: the handshake has started and goes on without us. (Stable Rust has no
        // `io::ErrorKind` for it, and its number differs by system, 115 on Linux and 36 on
        // macOS, so `libc` names it.)
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// How the handshake [`connect_nonblocking`] started has gone: `Ok` once connected, the
/// handshake's own error if it failed, and a `WouldBlock` error (see [`not_yet`]) while it goes on.
///
/// A failed handshake leaves its error in the socket's `SO_ERROR`; a pending one has no peer yet
/// (`ENOTCONN`). Both questions are asked, because a socket may be reported writable spuriously.
pub fn finish_connect(socket: &impl AsFd) -> io::Result<()> {
    let socket = SockRef::from(socket);
    if let Some(error) = socket.take_error()? {
        return Err(error);
    }
    match socket.peer_addr() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e),
    }
}

/// Whether a nonblocking call failed only because it cannot go on *yet*: ask again later.
///
/// `WouldBlock` (`EAGAIN`) means no bytes have arrived, the send buffer is full, or the handshake
/// is not over. `Interrupted` (`EINTR`) means a signal arrived before the call did anything. Either
/// way nothing happened to the socket, so waiting until it is ready and asking again is right:
/// readiness is level-triggered, so a socket that was ready all along is reported ready at once.
pub fn not_yet(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}
// ANCHOR_END: socket

/// Whether `accept` failed for want of a file descriptor for the new connection: the process has
/// used up its limit (`EMFILE`; see `ulimit -n`) or the system its table (`ENFILE`).
///
/// The connection is not lost: it waits in the listen backlog. But the listener stays readable, so
/// an accept loop that goes straight back to waiting on it is woken at once, fails again, and
/// spins at full CPU, serving nobody (and, if it logs each failure, flooding its log). The loop
/// should stop watching the listener instead, until a descriptor may be free: when one of its own
/// connections closes, or, since something it cannot see may free one (another part of the
/// process, or another process for `ENFILE`), once [`ACCEPT_BACKOFF`] has passed. asyncio's
/// selector loop does the same with the timer alone: when `accept` reports that a resource ran
/// out (in `_accept_connection`), it takes the listener out of the selector and puts it back
/// after `ACCEPT_RETRY_DELAY`, a second.
pub fn out_of_descriptors(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// How long an accept loop that is [out of descriptors](out_of_descriptors) waits before it tries
/// again if none of its connections has closed by then. A failed `accept` costs little, so ten
/// tries a second cost nothing, while a descriptor freed where the loop cannot see it is put to
/// use within a tenth of a second.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Whether a *blocking* call was cut short by a signal before it did anything: call it again.
pub fn interrupted(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::Interrupted
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    #[test]
    fn a_connect_to_a_listener_finishes_and_one_to_a_closed_port_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let socket = connect_nonblocking(listener.local_addr().unwrap()).unwrap();
        assert_eq!(wait_for_connect(&socket).map_err(|e| e.kind()), Ok(()));

        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // dropped: closed
        match connect_nonblocking(closed) {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused),
            Ok(socket) => {
                assert_eq!(
                    wait_for_connect(&socket).map_err(|e| e.kind()),
                    Err(io::ErrorKind::ConnectionRefused)
                )
            }
        }
    }

    /// Asks `finish_connect` until it stops saying "not yet" (a test may spin; a stage may not).
    fn wait_for_connect(socket: &TcpStream) -> io::Result<()> {
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            match finish_connect(socket) {
                Err(e) if not_yet(&e) && Instant::now() < give_up => std::thread::yield_now(),
                result => return result,
            }
        }
    }

    #[test]
    fn only_emfile_and_enfile_are_out_of_descriptors() {
        assert!(out_of_descriptors(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(out_of_descriptors(&io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!out_of_descriptors(&io::Error::from_raw_os_error(libc::ECONNABORTED)));
        assert!(!out_of_descriptors(&io::ErrorKind::WouldBlock.into()));
    }

    #[test]
    fn only_would_block_and_interrupted_are_not_yet() {
        assert!(not_yet(&io::ErrorKind::WouldBlock.into()));
        assert!(not_yet(&io::ErrorKind::Interrupted.into()));
        assert!(!not_yet(&io::ErrorKind::ConnectionReset.into()));
        assert!(interrupted(&io::ErrorKind::Interrupted.into()));
        assert!(!interrupted(&io::ErrorKind::WouldBlock.into()));
    }
}
