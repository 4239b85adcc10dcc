//! One 1 KiB round trip over loopback, against five echo servers.
//!
//! ```text
//! cargo bench --bench echo
//! ```
//!
//! The client is the same blocking socket each time; the servers differ: stage 3's protocol
//! (callbacks), stage 5's tasks, tokio's current-thread runtime, smol's single-threaded executor
//! (`async-executor`'s `LocalExecutor` with `async-io`'s `Async` sockets), and a thread per
//! connection.
//! Each server runs on a thread of its own and is shut down after its benchmark.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use crawl::socket::{ACCEPT_BACKOFF, out_of_descriptors};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MESSAGE: usize = 1024;

/// A running server: its address, and how to stop it.
struct Server {
    addr: SocketAddr,
    stop: Box<dyn FnOnce()>,
}

fn stage3_server() -> Server {
    use stage3_callbacks::event_loop::EventLoop;
    use stage3_callbacks::protocol::{Protocol, Transport, serve};
    struct Echo;
    impl Protocol for Echo {
        fn data_received(&mut self, transport: &Transport, data: &[u8]) {
            transport.write(data);
        }
    }
    let (ready, addr) = mpsc::channel();
    let thread = thread::spawn(move || {
        let lp = EventLoop::new().unwrap();
        let server = serve(&lp, TcpListener::bind("127.0.0.1:0").unwrap(), || Echo).unwrap();
        ready.send((server.local_addr(), lp.remote())).unwrap();
        lp.run().unwrap();
        drop(server);
    });
    let (addr, remote) = addr.recv().unwrap();
    let stop = move || {
        remote.call_soon_threadsafe(|lp| lp.stop()).unwrap();
        drop(remote);
        thread.join().unwrap();
    };
    Server { addr, stop: Box::new(stop) }
}

/// A server on a thread of its own: `serve` sends its address on `ready`, then serves until
/// `stop` fires; [`Server::stop`] fires it and joins the thread.
fn on_a_thread(
    serve: impl FnOnce(mpsc::Sender<SocketAddr>, futures::channel::oneshot::Receiver<()>) + Send + 'static,
) -> Server {
    let (ready, addr) = mpsc::channel();
    let (stop_sender, stop_receiver) = futures::channel::oneshot::channel::<()>();
    let thread = thread::spawn(move || serve(ready, stop_receiver));
    let addr = addr.recv().unwrap();
    let stop = move || {
        stop_sender.send(()).unwrap();
        thread.join().unwrap();
    };
    Server { addr, stop: Box::new(stop) }
}

fn stage5_server() -> Server {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use stage5_async_await::net::{TcpListener, TcpStream};
    async fn echo(mut stream: TcpStream) {
        let mut buffer = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = stream.read(&mut buffer).await {
            if stream.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    }
    on_a_thread(|ready, stop_receiver| {
        stage5_async_await::run(async move {
            let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
            ready.send(listener.local_addr().unwrap()).unwrap();
            let accept = async {
                while let Ok((stream, _)) = listener.accept().await {
                    stage5_async_await::spawn(echo(stream));
                }
            };
            futures::future::select(Box::pin(accept), stop_receiver).await;
        });
    })
}

fn tokio_server() -> Server {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (ready, addr) = mpsc::channel();
    let (stop_sender, stop_receiver) = tokio::sync::oneshot::channel::<()>();
    let thread = thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready.send(listener.local_addr().unwrap()).unwrap();
            let accept = async {
                while let Ok((mut stream, _)) = listener.accept().await {
                    tokio::spawn(async move {
                        let mut buffer = vec![0; 16 * 1024];
                        while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                            if stream.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            };
            tokio::select! {
                () = accept => {}
                _ = stop_receiver => {}
            }
        });
    });
    let addr = addr.recv().unwrap();
    let stop = move || {
        stop_sender.send(()).unwrap();
        thread.join().unwrap();
    };
    Server { addr, stop: Box::new(stop) }
}

fn smol_server() -> Server {
    use async_executor::LocalExecutor;
    use async_io::Async;
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    on_a_thread(|ready, stop_receiver| {
        let ex = LocalExecutor::new();
        async_io::block_on(ex.run(async {
            let listener = Async::<TcpListener>::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
            ready.send(listener.get_ref().local_addr().unwrap()).unwrap();
            let accept = async {
                while let Ok((mut stream, _)) = listener.accept().await {
                    ex.spawn(async move {
                        let mut buffer = vec![0; 16 * 1024];
                        while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                            if stream.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                    })
                    .detach();
                }
            };
            futures::future::select(Box::pin(accept), stop_receiver).await;
        }));
    })
}

fn thread_per_connection_server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stopping = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stopping);
    let thread = thread::spawn(move || {
        let mut connections = Vec::new();
        let mut short = false; // out of file descriptors since the last accept that worked
        for stream in listener.incoming() {
            if stop_flag.load(Ordering::SeqCst) {
                break; // the connection that woke `accept` was the stop signal
            }
            let mut stream = match stream {
                Ok(stream) => {
                    short = false;
                    stream
                }
                // Accepting again at once would fail again at once: a spin, not a wait. The
                // connection waits in the backlog; sleep until a descriptor may be free.
                Err(e) if out_of_descriptors(&e) => {
                    if !std::mem::replace(&mut short, true) {
                        crawl::log!("echo bench: out of file descriptors: pausing accepts");
                    }
                    thread::sleep(ACCEPT_BACKOFF);
                    continue;
                }
                Err(_) => continue,
            };
            connections.push(thread::spawn(move || {
                let mut buffer = vec![0; 16 * 1024];
                while let Ok(n @ 1..) = stream.read(&mut buffer) {
                    if stream.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }));
        }
        for connection in connections {
            connection.join().unwrap(); // each ends when its client closes
        }
    });
    let stop = move || {
        stopping.store(true, Ordering::SeqCst);
        drop(TcpStream::connect(addr).unwrap()); // wakes the blocked `accept`
        thread.join().unwrap();
    };
    Server { addr, stop: Box::new(stop) }
}

/// Starts one kind of echo server.
type StartServer = fn() -> Server;

fn echo(c: &mut Criterion) {
    let servers: [(&str, StartServer); 5] = [
        ("stage3-protocol", stage3_server),
        ("stage5-tasks", stage5_server),
        ("tokio", tokio_server),
        ("smol", smol_server),
        ("thread-per-connection", thread_per_connection_server),
    ];
    let mut group = c.benchmark_group("echo_1KiB");
    group.throughput(Throughput::Bytes(MESSAGE as u64));
    for (name, start) in servers {
        let server = start();
        let mut client = TcpStream::connect(server.addr).unwrap();
        client.set_nodelay(true).unwrap();
        let message = vec![7u8; MESSAGE];
        let mut echoed = vec![0u8; MESSAGE];
        group.bench_function(name, |b| {
            b.iter(|| {
                client.write_all(&message).unwrap();
                client.read_exact(&mut echoed).unwrap();
            })
        });
        drop(client);
        (server.stop)();
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = echo
}
criterion_main!(benches);
