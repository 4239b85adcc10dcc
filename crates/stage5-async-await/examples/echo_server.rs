//! An echo server on `TcpListener`: a task per connection, written as straight-line code.
//!
//! ```text
//! cargo run -p stage5-async-await --example echo_server -- --port 8888
//! nc 127.0.0.1 8888        # or: telnet 127.0.0.1 8888; type lines, see them come back
//! ```
//!
//! Put this beside stage 3's `examples/echo_server.rs`: the protocol's four callbacks become one
//! loop of `read().await` and `write_all().await` in a task, and the connection's state lives in
//! local variables instead of struct fields. Still one thread, still no blocking call.
//!
//! As with stage 3's, run it under `ulimit -n 12` and connect more clients than fit: `accept`
//! prints one line when it runs out of file descriptors and waits; the clients it cannot take yet
//! wait in the backlog, and are served as others leave.

use std::io;
use std::net::SocketAddr;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use stage5_async_await::net::{TcpListener, TcpStream};
use stage5_async_await::{run, spawn};

// ANCHOR: echo
/// One connection: read what arrives, write it back, until the client closes its side.
async fn echo(mut stream: TcpStream, id: usize) {
    println!("connection {id} made");
    let mut buffer = vec![0; 16 * 1024];
    let result: io::Result<()> = async {
        loop {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                println!("connection {id}: the client closed its side");
                return Ok(());
            }
            stream.write_all(&buffer[..n]).await?;
        }
    }
    .await;
    drop(stream);
    match result {
        Ok(()) => println!("connection {id} closed"),
        Err(e) => println!("connection {id} lost: {e}"),
    }
}

async fn serve(addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    println!("listening on {}", listener.local_addr()?);
    for id in 1.. {
        let (stream, _peer) = listener.accept().await?;
        spawn(echo(stream, id)); // the handle is dropped: the task runs on, detached
    }
    Ok(())
}
// ANCHOR_END: echo

fn main() -> io::Result<()> {
    crawl::exit::quiet_on_closed_stdout(); // `| head`: a quiet exit, not a panic at the next line
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match args.as_slice() {
        [] => 8888,
        [flag, port] if flag == "--port" => port.parse().unwrap_or_else(|_| {
            eprintln!("error: --port {port:?} is not a number");
            std::process::exit(2);
        }),
        _ => {
            eprintln!("error: usage: [--port PORT] (default 8888)");
            std::process::exit(2);
        }
    };
    run(serve(SocketAddr::from(([127, 0, 0, 1], port))))
}
