//! Cancellation safety: what a future that is dropped halfway through a read takes with it.
//!
//! ```text
//! cargo run -p stage5-async-await --example cancel_safety
//! cargo run -p stage5-async-await --example cancel_safety -- --unit-ms 1000
//! ```
//!
//! A writer sends one 12-byte record, "hello, world", in three pieces 1 unit apart, then closes.
//! A reader waits for a record, but only 1.5 units at a time (the `timeout` could as well be a
//! `select` against a heartbeat): when the time is up it says so and waits again. Twice:
//!
//! * **lossy**: the record being read is a local variable of `read_record`'s future, as in a
//!   `read_exact`. The first timeout drops the future with the 8 bytes it holds; the next try
//!   reads the last 4, and the stream ends with the record never whole.
//! * **kept**: the record is the caller's, lent to `read_into` by `&mut`. The timeout drops the
//!   same future, but the 8 bytes are already in the caller's buffer; the next try adds the last
//!   4, and the record is whole.
//!
//! The difference is where the buffer lives, nothing else. A future is *cancel-safe* when
//! dropping it at any of its `.await`s loses nothing its caller needs: `read` is (a read that has
//! not completed has taken no bytes), `read_into` is (each read's bytes reach the caller's buffer
//! before the next `.await`), `read_record` is not. tokio's documentation says which of its
//! methods are, under "Cancel safety": `read`, yes; `read_exact`, no.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use stage5_async_await::net::{TcpListener, TcpStream};
use stage5_async_await::spawn;
use stage5_async_await::time::{sleep, timeout};

#[path = "shared/timed.rs"]
mod timed;
use timed::timed;

/// The record the writer sends, and the pieces it sends it in.
const PIECES: [&str; 3] = ["hell", "o, w", "orld"];
/// The length of a record: all the pieces.
const RECORD_LEN: usize = 12;

// ANCHOR: cancel_safety
/// Reads into `record` until it holds a whole record. Cancel-safe: each read's bytes are in
/// `record`, the caller's, before the next `.await`, so dropping this future loses none.
async fn read_into(socket: &mut TcpStream, record: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0; RECORD_LEN];
    while record.len() < RECORD_LEN {
        let n = socket.read(&mut chunk[..RECORD_LEN - record.len()]).await?;
        if n == 0 {
            return Err(ended(record.len()));
        }
        record.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// Reads a whole record, as `read_exact` does. Not cancel-safe: what it has read so far is in
/// its own future, and goes when the future is dropped.
async fn read_record(socket: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut record = Partial(Vec::new()); // lives in this future
    read_into(socket, &mut record.0).await?;
    Ok(std::mem::take(&mut record.0))
}

/// Waits for a record 1.5 units at a time; the record is inside the future that times out.
async fn lossy(mut socket: TcpStream, unit: Duration) {
    loop {
        match timeout(unit * 3 / 2, read_record(&mut socket)).await {
            Ok(Ok(record)) => println!("got {:?}", String::from_utf8_lossy(&record)),
            Ok(Err(e)) => return println!("{e}"),
            Err(_elapsed) => println!("no record yet; waiting again"),
        }
    }
}

/// The same, with the record outside the future that times out.
async fn kept(mut socket: TcpStream, unit: Duration) {
    let mut record = Vec::new(); // lives in this caller, across the timeouts
    loop {
        match timeout(unit * 3 / 2, read_into(&mut socket, &mut record)).await {
            Ok(Ok(())) => println!("got {:?}", String::from_utf8_lossy(&std::mem::take(&mut record))),
            Ok(Err(e)) => return println!("{e}"),
            Err(_elapsed) => println!("no record yet, {} bytes kept; waiting again", record.len()),
        }
    }
}
// ANCHOR_END: cancel_safety

/// A record being read by [`read_record`]; says what it held when it is dropped unfinished.
struct Partial(Vec<u8>);

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            println!("  dropped unfinished: {:?}", String::from_utf8_lossy(&self.0));
        }
    }
}

/// The error of a stream that ends: between records, or `read` bytes into one.
fn ended(read: usize) -> io::Error {
    let when = if read == 0 { "between records".to_string() } else { format!("{read} bytes into a record") };
    io::Error::new(io::ErrorKind::UnexpectedEof, format!("the stream ended {when}"))
}

/// Sends the pieces 1 unit apart to the first client of `listener`, then closes.
async fn write_pieces(listener: TcpListener, unit: Duration) -> io::Result<()> {
    let (mut socket, _peer) = listener.accept().await?;
    for (i, piece) in PIECES.into_iter().enumerate() {
        if i > 0 {
            sleep(unit).await;
        }
        socket.write_all(piece.as_bytes()).await?;
    }
    socket.close().await
}

/// Starts the writer on loopback and hands the reader's end of the connection to `reader`.
async fn with_writer<F: Future<Output = ()>>(unit: Duration, reader: impl FnOnce(TcpStream) -> F) {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind on loopback");
    let addr = listener.local_addr().expect("a bound address");
    let writer = spawn(write_pieces(listener, unit));
    let socket = TcpStream::connect(addr).await.expect("connect on loopback");
    reader(socket).await;
    writer.await.expect("the writer does not panic").expect("the writer's socket works");
}

fn main() {
    let unit = crawl::demo::millis_flag("--unit-ms", 100);
    timed("lossy: the record is inside the future", unit, with_writer(unit, move |s| lossy(s, unit)));
    timed("kept: the record is outside the future", unit, with_writer(unit, move |s| kept(s, unit)));
}
