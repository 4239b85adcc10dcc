//! Memory tuning for connections that wait: a read buffer that takes no memory while its socket
//! has nothing to read. (Real applications will want something like it: tokio's `readable()`
//! exists for this.)
//!
//! A task's future keeps every variable that lives across an `.await`. A `[u8; 16384]` buffer
//! declared before the read loop is 16 KiB in every waiting connection's task, bytes or not:
//! 160 MB for 10,000 connections waiting on a slow server (see `tour c10k`). So the buffer starts
//! empty and grows to its size only once the socket says bytes are there.

use std::io;
use std::ops::Deref;

use futures::io::AsyncReadExt;

use crate::net::TcpStream;

/// A buffer for one `read` at a time, allocated the first time bytes are there to read.
#[derive(Debug)]
pub(crate) struct ReadBuffer {
    /// Empty until the first read; then `size` bytes, of which the last read filled the front.
    bytes: Vec<u8>,
    /// Bytes asked of one read.
    size: usize,
}

impl ReadBuffer {
    /// An empty buffer that will read up to `size` bytes at a time.
    pub(crate) fn new(size: usize) -> ReadBuffer {
        ReadBuffer { bytes: Vec::new(), size }
    }

    /// Waits until `socket` has bytes (or EOF, or an error), then reads into the buffer: the
    /// number of bytes read, 0 at end of stream. They are at the front of the buffer.
    pub(crate) async fn read(&mut self, socket: &mut TcpStream) -> io::Result<usize> {
        socket.readable().await?;
        self.bytes.resize(self.size, 0);
        socket.read(&mut self.bytes).await
    }
}

/// The bytes, as `buffer[..n]` takes them after a read of `n`.
impl Deref for ReadBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}
