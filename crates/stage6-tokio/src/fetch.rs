//! Fetching one URL on tokio.
//!
//! Put this beside stage 5's `fetch.rs`: only the `use` lines differ. The function needs two
//! things of a runtime, a `TcpStream` whose reads and writes are futures and a `timeout` that
//! drops the future it bounds; stage 5 built them itself (`net.rs`, `time.rs`), tokio ships them.
//! Under the `.await`s the idea is stage 5's: a nonblocking socket registered with epoll, a waker
//! kept until the socket is ready, a deadline kept in the loop's timers rather than in a thread.

use crawl::http::{self, Progress, Response, ResponseDecoder};
use crawl::{Config, FetchError, Fetched, Outcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use url::Url;

/// Bytes asked of one `read`.
const READ_CHUNK: usize = 16 * 1024;

// ANCHOR: fetch
/// Fetches `url`, retrying connection-level failures up to `--max-tries` times.
pub async fn fetch(url: &Url, config: &Config) -> Fetched {
    let mut tries = 0;
    let outcome = loop {
        tries += 1;
        // The whole try, connect to last byte, is bounded: when time runs out the try's future
        // is dropped, which closes its socket.
        let result = match timeout(config.timeout, fetch_once(url, config)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FetchError::timeout()),
        };
        match result {
            Ok(response) => break Outcome::from_response(url, &response, &config.rules),
            Err(error) => {
                config.log_failed_try(url, tries, &error);
                if tries < config.max_tries && error.kind.is_retryable() {
                    continue;
                }
                break Outcome::Failed { error };
            }
        }
    };
    let fetched = Fetched { url: url.clone(), outcome, tries };
    config.log_fetched(&fetched);
    fetched
}

/// One try: one connection, one request, one response.
async fn fetch_once(url: &Url, config: &Config) -> Result<Response, FetchError> {
    let addr = crawl::resolve::socket_addr(url)?;
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&http::encode_request(url, &config.request)).await?;
    let mut decoder = ResponseDecoder::new(config.limits);
    let mut buffer = Vec::new();
    loop {
        // Wait for bytes before lending `read` a buffer: a connection waiting on a slow server
        // then holds no buffer at all (10,000 of them: 160 MB less; see `tour c10k`).
        stream.readable().await?;
        buffer.resize(READ_CHUNK, 0);
        let n = stream.read(&mut buffer).await?; // 0 means the server closed: the decoder decides
        if let Progress::Done(response) = decoder.feed(&buffer[..n])? {
            return Ok(response);
        }
    }
}
// ANCHOR_END: fetch
