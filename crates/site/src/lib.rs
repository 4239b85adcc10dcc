//! The fixture web site: a real HTTP/1.1 server on loopback that every crawler and test runs
//! against.
//!
//! A crawler needs something to crawl, and the public web is neither deterministic nor polite to
//! hammer. This crate serves a made-up site instead:
//!
//! - **pages**: `/page/0` .. `/page/{pages-1}`, a link graph generated from a seed, with every
//!   link spelling a crawler must handle (relative, `../`, absolute, full URL, fragments, odd
//!   quoting) and every link it must refuse (mailto, other hosts, https);
//! - **redirects**: a chain, a loop and one that leaves the site;
//! - **foreign links** (opt-in, [`SiteConfig::foreign`]): links and redirects to *other* running
//!   sites, so a test can check from their counters that a crawler never went there;
//! - **faults** ([`FAULTS`]): connections that reset, truncate, trickle, stay silent, send
//!   garbage or far too much, and responses in framings a naive client gets wrong;
//! - **latency**: every response waits [`SiteConfig::latency`] before its first byte, so a
//!   crawler that fetches one page at a time is visibly slower than one that overlaps them;
//! - **counters** ([`Counters`]): how many requests arrived, for which `Host`, and how many
//!   connections were open at once, so a test can check a crawler's concurrency limit exactly.
//!
//! Everything is deterministic: the same request always gets the same bytes (the one exception,
//! `/fault/flaky`, is deterministic over a sequence of requests).
//!
//! ```no_run
//! let site = site::spawn(site::SiteConfig::default())?;
//! println!("crawl me at {}", site.url());
//! // ... run a crawler against site.url() ...
//! assert!(site.counters().requests() > 0);
//! // Dropping `site` shuts the server down.
//! # Ok::<(), std::io::Error>(())
//! ```

mod counters;
mod fault_handlers;
mod faults;
mod pages;
mod routes;
mod server;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::sync::oneshot;

pub use counters::Counters;
pub use faults::{
    FAULTS, FLAKY_CYCLE, FaultSpec, GIVE_UP_AFTER, HUGE_BODY_BYTES, Outcome, Row, docs_table, expected_errors,
};

// ANCHOR: site_config
/// What to serve and where. Start from [`SiteConfig::default`] and change what a test needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteConfig {
    /// The address to listen on. Tests also use 127.0.0.2 to get a second, distinct host.
    pub host: IpAddr,
    /// The port to listen on; 0 lets the OS pick a free one (see [`RunningSite::addr`]).
    pub port: u16,
    /// How many generated pages exist: `/page/0` .. `/page/{pages-1}`.
    pub pages: usize,
    /// How many links each generated page has (at least 1 is used, so that every page stays
    /// reachable); the index links the first `links` pages.
    pub links: usize,
    /// The delay before every response's first byte, faults included: the "network" that makes
    /// overlapping requests worthwhile.
    pub latency: Duration,
    /// The seed of the page graph: the same seed always generates the same site.
    pub seed: u64,
    /// Whether `/fault/` and the fault paths exist; when off they are plain 404s.
    pub faults: bool,
    /// Full URLs of other sites, e.g. another `RunningSite`'s [`url`](RunningSite::url). When
    /// there are any, the index links `/foreign`, a page linking each of them directly and
    /// through a redirect, `/redirect/foreign/{n}` (302 to the n-th, exactly as given). A crawler
    /// confined to this site follows none of them, and the other sites' counters prove it.
    /// Empty by default, and then the site is exactly as without this field.
    pub foreign: Vec<String>,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            pages: 200,
            links: 8,
            latency: Duration::from_millis(20),
            seed: 1,
            faults: true,
            foreign: Vec::new(),
        }
    }
}
// ANCHOR_END: site_config

/// Starts the site: binds now (so a bad address is an error here, not later), then serves on a
/// dedicated thread until the returned [`RunningSite`] is dropped.
///
/// A [`foreign`](SiteConfig::foreign) URL that could break out of an HTML attribute or a header
/// line (a quote, a space, a line break, ...) is an `InvalidInput` error.
///
/// The server is a tokio *current-thread* runtime on that one thread. One thread is plenty for a
/// fixture, and it makes the connection counters exact: a connection's task gives up its slot in
/// the same uninterrupted run that sends its last byte, before the accept loop can run again.
pub fn spawn(config: SiteConfig) -> io::Result<RunningSite> {
    // The URLs go into `href="..."` and a `Location:` line as they are: refuse what would not fit.
    if let Some(bad) = config.foreign.iter().find(|url| !server::fits_in_attribute(url)) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("unusable foreign URL {bad:?}")));
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    // Creating a tokio socket registers it with the runtime's I/O driver, so it must happen
    // "inside" the runtime; `enter` makes that so without running anything yet.
    let listener = {
        let _inside = runtime.enter();
        server::bind(SocketAddr::new(config.host, config.port))?
    };
    let addr = listener.local_addr()?;
    let counters = Arc::new(Counters::default());
    // From here on the config describes the running site, with the real port in it.
    let config = SiteConfig { port: addr.port(), ..config };
    let shared = Arc::new(server::Shared::new(config, addr, Arc::clone(&counters)));
    let (stop, stopped) = oneshot::channel();
    let thread = thread::Builder::new().name(format!("site-{}", addr.port())).spawn(move || {
        // The accept loop runs as a spawned task, not as `block_on`'s own future: a current-thread
        // runtime polls that future ahead of every task, so a new connection would be counted
        // before the task of a connection the client had already closed could see the close.
        // As a task it takes its turn in wake-up order, which keeps the counters exact.
        runtime.block_on(async {
            let _ = tokio::spawn(server::serve(listener, shared, stopped)).await;
        });
        // Dropping the runtime drops every connection task that is still running, and with
        // each task its socket: that is how shutdown closes open connections.
        drop(runtime);
    })?;
    Ok(RunningSite { addr, counters, stop: Some(stop), thread: Some(thread) })
}

/// A site being served. Dropping it shuts the server down: it stops accepting, closes every
/// open connection and waits for the server thread to finish.
#[derive(Debug)]
pub struct RunningSite {
    /// The address actually bound (with the real port when the config asked for port 0).
    addr: SocketAddr,
    /// The counters the server updates; shared so tests can read them while it runs.
    counters: Arc<Counters>,
    /// Dropping this sender tells the accept loop to stop; an `Option` so `Drop` can take it.
    stop: Option<oneshot::Sender<()>>,
    /// The server thread, joined on drop so that no connection outlives the `RunningSite`.
    thread: Option<JoinHandle<()>>,
}

impl RunningSite {
    /// The site's root URL, e.g. `http://127.0.0.1:8000/`.
    pub fn url(&self) -> String {
        // `SocketAddr`'s Display already brackets IPv6 addresses, as URLs require.
        format!("http://{}/", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the server has seen so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl Drop for RunningSite {
    fn drop(&mut self) {
        // Dropping the sender wakes the accept loop, which returns; the thread then drops the
        // runtime and every connection with it.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been printed; panicking again inside
            // `drop` would only abort the process.
            let _ = thread.join();
        }
    }
}
