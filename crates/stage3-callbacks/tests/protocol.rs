//! Transports and protocols over real loopback sockets.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::rc::Rc;
use std::time::Duration;

use stage3_callbacks::event_loop::EventLoop;
use stage3_callbacks::protocol::{Protocol, Transport, connect, serve};

/// Echoes bytes back; logs what the loop told it.
struct Echo {
    log: Rc<RefCell<Vec<String>>>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, _: &Transport) {
        self.log.borrow_mut().push("made".into());
    }
    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        transport.write(data);
    }
    fn eof_received(&mut self, _: &Transport) {
        self.log.borrow_mut().push("eof".into());
    }
    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.log.borrow_mut().push(format!("lost {:?}", error.map(|e| e.kind())));
    }
}

#[test]
fn the_echo_server_answers_many_concurrent_clients() {
    const CLIENTS: usize = 100;
    const ROUNDS: usize = 20;
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let factory_log = Rc::clone(&log);
    let server =
        serve(&lp, TcpListener::bind("127.0.0.1:0").unwrap(), move || Echo { log: Rc::clone(&factory_log) })
            .unwrap();
    let addr = server.local_addr();
    // The clients are plain blocking threads; all of them are connected at once.
    let clients = std::thread::spawn(move || {
        let streams: Vec<TcpStream> = (0..CLIENTS).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let threads: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(i, mut stream)| {
                std::thread::spawn(move || {
                    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    for round in 0..ROUNDS {
                        let message = format!("client {i} round {round}\n");
                        stream.write_all(message.as_bytes()).unwrap();
                        let mut echoed = vec![0; message.len()];
                        stream.read_exact(&mut echoed).unwrap();
                        assert_eq!(echoed, message.as_bytes());
                    }
                    stream.shutdown(Shutdown::Write).unwrap();
                    let mut rest = Vec::new();
                    stream.read_to_end(&mut rest).unwrap(); // the server closes after our EOF
                    assert!(rest.is_empty());
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    });
    // Stop serving once every client has had its last byte echoed and its EOF handled.
    let poll_log = Rc::clone(&log);
    fn check(lp: &EventLoop, log: Rc<RefCell<Vec<String>>>, server: Rc<stage3_callbacks::protocol::Server>) {
        if log.borrow().iter().filter(|l| l.starts_with("lost")).count() == CLIENTS {
            server.close();
        } else {
            lp.call_later(Duration::from_millis(5), move |lp| check(lp, log, server));
        }
    }
    check(&lp, poll_log, Rc::new(server));
    lp.run().unwrap();
    clients.join().unwrap();
    let log = log.borrow();
    assert_eq!(log.iter().filter(|l| *l == "made").count(), CLIENTS);
    assert_eq!(log.iter().filter(|l| *l == "eof").count(), CLIENTS);
    assert_eq!(log.iter().filter(|l| *l == "lost None").count(), CLIENTS);
}

#[test]
fn a_reset_reaches_connection_lost_exactly_once_with_the_error() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let factory_log = Rc::clone(&log);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = serve(&lp, listener, move || Echo { log: Rc::clone(&factory_log) }).unwrap();
    let addr = server.local_addr();
    let peer = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(b"hello").unwrap();
        let mut echoed = [0; 5];
        stream.read_exact(&mut echoed).unwrap();
        // Unread bytes at close make the kernel send RST instead of FIN.
        socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap();
        drop(stream);
    });
    let done = Rc::new(server);
    let l = Rc::clone(&log);
    fn wait(lp: &EventLoop, log: Rc<RefCell<Vec<String>>>, server: Rc<stage3_callbacks::protocol::Server>) {
        if log.borrow().iter().any(|l| l.starts_with("lost")) {
            // Give a duplicate call the chance to show up before stopping.
            lp.call_later(Duration::from_millis(50), move |_| server.close());
        } else {
            lp.call_later(Duration::from_millis(5), move |lp| wait(lp, log, server));
        }
    }
    wait(&lp, l, done);
    lp.run().unwrap();
    peer.join().unwrap();
    assert_eq!(*log.borrow(), ["made", "lost Some(ConnectionReset)"]);
}

#[test]
fn a_refused_connect_gets_only_connection_lost() {
    let lp = EventLoop::new().unwrap();
    // Bind, note the port, close: nothing listens there now.
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let result = connect(&lp, addr, Echo { log: Rc::clone(&log) });
    if let Ok(_transport) = result {
        lp.run().unwrap();
        assert_eq!(*log.borrow(), ["lost Some(ConnectionRefused)"]);
    } else {
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    }
    assert_eq!(lp.registered(), 0);
}

#[test]
fn writes_larger_than_the_socket_buffer_are_buffered_and_flushed() {
    const SIZE: usize = 8 * 1024 * 1024;
    struct Sender;
    impl Protocol for Sender {
        fn connection_made(&mut self, transport: &Transport) {
            transport.write(&vec![7u8; SIZE]); // far more than a socket buffer: must not block
            transport.close(); // closes only after everything is sent
        }
        fn data_received(&mut self, _: &Transport, _: &[u8]) {}
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(100)); // let the sender's buffer fill up
        let mut all = Vec::new();
        stream.read_to_end(&mut all).unwrap();
        all
    });
    let lp = EventLoop::new().unwrap();
    connect(&lp, addr, Sender).unwrap();
    lp.run().unwrap();
    let received = reader.join().unwrap();
    assert_eq!(received.len(), SIZE);
    assert!(received.iter().all(|&b| b == 7));
}
