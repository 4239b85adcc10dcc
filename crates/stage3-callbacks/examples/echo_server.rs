//! An echo server written as a protocol: the loop moves the bytes, the protocol answers.
//!
//! ```text
//! cargo run -p stage3-callbacks --example callback_echo_server -- --port 8888
//! nc 127.0.0.1 8888        # or: telnet 127.0.0.1 8888; type lines, see them come back
//! ```
//!
//! One thread serves every connection: no thread per client, no blocking call anywhere. Add
//! `--trace` to watch the loop wait and dispatch.
//!
//! Run it under `ulimit -n 12` and connect more clients than fit: `serve` prints one line when it
//! runs out of file descriptors and pauses its accepts; the clients it cannot take yet wait in the
//! backlog, and are served as others leave.

use std::io;
use std::net::TcpListener;

use stage3_callbacks::event_loop::EventLoop;
use stage3_callbacks::protocol::{Protocol, Transport, serve};

// ANCHOR: echo
/// One connection's protocol: whatever arrives is written back.
struct Echo {
    /// Which connection this is, for the log lines.
    id: usize,
}

impl Protocol for Echo {
    fn connection_made(&mut self, _: &Transport) {
        println!("connection {} made", self.id);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        transport.write(data);
    }

    fn eof_received(&mut self, _: &Transport) {
        println!("connection {}: the client closed its side", self.id);
    }

    fn connection_lost(&mut self, error: Option<io::Error>) {
        match error {
            None => println!("connection {} closed", self.id),
            Some(e) => println!("connection {} lost: {e}", self.id),
        }
    }
}
// ANCHOR_END: echo

fn main() -> io::Result<()> {
    crawl::exit::quiet_on_closed_stdout(); // `| head`: a quiet exit, not a panic at the next line
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match args.iter().position(|a| a == "--port") {
        Some(i) => args.get(i + 1).and_then(|p| p.parse().ok()).unwrap_or_else(|| {
            eprintln!("error: --port needs a number");
            std::process::exit(2);
        }),
        None => 8888,
    };
    let event_loop = EventLoop::new()?;
    event_loop.set_trace(args.iter().any(|a| a == "--trace"));
    let mut next_id = 0;
    let server = serve(&event_loop, TcpListener::bind(("127.0.0.1", port))?, move || {
        next_id += 1;
        Echo { id: next_id }
    })?;
    println!("listening on {}", server.local_addr());
    event_loop.run()
}
