//! Turning a URL's host into a socket address, within the try's deadline.
//!
//! An IP address needs no lookup: [`Resolver::lookup`] answers at once with
//! [`Lookup::Known`]. A name needs the system's resolver (`getaddrinfo`), which is a *blocking*
//! call: it may wait seconds for a DNS server, and nothing can cut it short. A stage that made it
//! on its loop's thread would stall every other fetch meanwhile, and `--timeout` could not bound
//! it. So a name is a [`Lookup::Blocking`], and each stage runs it off its own thread, as asyncio
//! runs `getaddrinfo` on its default executor (`loop.getaddrinfo` is `run_in_executor`):
//!
//! | stage | where the lookup runs | how the try waits for it |
//! |---|---|---|
//! | 1 | a thread of its own ([`Background`]) | blocked in [`Background::wait`], at most until the deadline |
//! | 2 | a thread of its own ([`Background`]) | [`Background::poll`] on every busy turn |
//! | 3, 4 | a thread of the loop's `run_in_executor` | a callback (stage 4: a future) when it is done |
//! | 5, 6 | `spawn_blocking`'s pool | `.await` on its handle, inside the try's `timeout` |
//!
//! A try whose deadline comes first gives up on the lookup; the thread finishes it unheard.
//!
//! Tests cannot make the system's resolver slow, so [`Resolver`] has a test hook: a hidden
//! `--resolver-delay SECS` makes every lookup of a name sleep first, as a slow DNS server would.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::task::Poll;
use std::time::Duration;

use url::{Host, Url};

use crate::error::{ErrorKind, FetchError};

/// How the crawl looks up host names: the system's resolver, optionally slowed down for tests.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    /// How long every lookup of a name sleeps before it asks the system (`--resolver-delay`, a
    /// test hook; zero otherwise).
    delay: Duration,
}

/// Where a URL's address will come from.
#[derive(Debug)]
pub enum Lookup {
    /// The host is an IP address: no one needs asking.
    Known(SocketAddr),
    /// The host is a name: [`NameLookup::run`] asks the resolver, blocking its thread.
    Blocking(NameLookup),
}

/// A lookup of a name, not made yet. It is `Send`: it is made to be run on another thread.
#[derive(Debug)]
pub struct NameLookup {
    /// The name, as the resolver wants it.
    host: String,
    /// The URL's port (80 when absent).
    port: u16,
    /// The [`Resolver`]'s test delay.
    delay: Duration,
}

impl Resolver {
    /// A resolver whose every lookup of a name first sleeps `delay` (zero: none).
    pub fn with_delay(delay: Duration) -> Resolver {
        Resolver { delay }
    }

    /// Where `url`'s address comes from: at once for an IP address, from the resolver for a name.
    pub fn lookup(&self, url: &Url) -> Result<Lookup, FetchError> {
        let port = url.port_or_known_default().unwrap_or(80);
        let ip = match url.host() {
            None => return Err(FetchError::new(ErrorKind::Dns, format!("{url} has no host"))),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(name)) => {
                return Ok(Lookup::Blocking(NameLookup { host: name.to_string(), port, delay: self.delay }));
            }
        };
        Ok(Lookup::Known(SocketAddr::new(ip, port)))
    }
}

impl NameLookup {
    /// Asks the system's resolver (after the test delay), blocking the calling thread: the first
    /// address it gives. A lookup that panics is a failed lookup ([`lookup_panicked`]), so that
    /// every stage, whichever thread runs it, reports it the same way.
    pub fn run(self) -> Result<SocketAddr, FetchError> {
        let _blocked = crate::timeline::span("blocked in getaddrinfo");
        let lookup = || {
            std::thread::sleep(self.delay);
            let host = self.host.as_str();
            (host, self.port)
                .to_socket_addrs()
                .map_err(|e| FetchError::new(ErrorKind::Dns, format!("{host}: {e}")))?
                .next()
                .ok_or_else(|| FetchError::new(ErrorKind::Dns, format!("{host}: no address")))
        };
        std::panic::catch_unwind(lookup).unwrap_or_else(|_| Err(lookup_panicked()))
    }
}

/// A lookup on a thread of its own, or one that needed none: stages 1 and 2.
#[derive(Debug)]
pub enum Background {
    /// An IP address: the answer, already there.
    Known(SocketAddr),
    /// A name: its thread sends the answer to `answer` when it has one. `cut_short` is another
    /// way in, to end a wait for it early ([`Background::cut_short`]).
    Running {
        /// Where the answer arrives.
        answer: mpsc::Receiver<Result<SocketAddr, FetchError>>,
        /// A sender of the same channel, for [`Background::cut_short`].
        cut_short: mpsc::Sender<Result<SocketAddr, FetchError>>,
    },
}

impl Background {
    /// Starts `lookup`: a thread for a name, nothing for an address. A thread the OS refuses (a
    /// process or system limit) fails this try, with the OS's error.
    pub fn start(lookup: Lookup) -> Result<Background, FetchError> {
        let name = match lookup {
            Lookup::Known(addr) => return Ok(Background::Known(addr)),
            Lookup::Blocking(name) => name,
        };
        // Unbounded, so that neither of its two senders can ever block.
        let (sender, answer) = mpsc::channel();
        let cut_short = sender.clone();
        std::thread::Builder::new()
            .name("resolver".into())
            .spawn(move || {
                let _ = sender.send(name.run()); // the try may have given up: nobody hears it
            })
            .map_err(|e| FetchError::from_io(&e))?;
        Ok(Background::Running { answer, cut_short })
    }

    /// Something that ends a [`wait`](Background::wait) for this lookup at once, from any thread,
    /// with an `io` error "interrupted": stage 1's Ctrl-C. `None` for an address known already.
    pub fn cut_short(&self) -> Option<impl FnOnce() + Send + 'static> {
        let Background::Running { cut_short, .. } = self else { return None };
        let cut_short = cut_short.clone();
        Some(move || {
            let _ = cut_short.send(Err(FetchError::new(ErrorKind::Io, "interrupted")));
        })
    }

    /// The answer if it has come, without waiting.
    pub fn poll(&self) -> Poll<Result<SocketAddr, FetchError>> {
        match self {
            Background::Known(addr) => Poll::Ready(Ok(*addr)),
            Background::Running { answer, .. } => match answer.try_recv() {
                Ok(answer) => Poll::Ready(answer),
                Err(mpsc::TryRecvError::Empty) => Poll::Pending,
                // (Not while `self` holds `cut_short`, a sender of the same channel.)
                Err(mpsc::TryRecvError::Disconnected) => Poll::Ready(Err(lookup_panicked())),
            },
        }
    }

    /// The answer, waiting for it at most `timeout`; a timeout error after that.
    pub fn wait(self, timeout: Duration) -> Result<SocketAddr, FetchError> {
        match self {
            Background::Known(addr) => Ok(addr),
            Background::Running { answer, .. } => {
                let _blocked = crate::timeline::span("blocked waiting for the lookup"); // `--timeline`
                let answer = answer.recv_timeout(timeout);
                match answer {
                    Ok(answer) => answer,
                    Err(mpsc::RecvTimeoutError::Timeout) => Err(FetchError::timeout()),
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(lookup_panicked()),
                }
            }
        }
    }
}

/// The error for a lookup that panicked.
pub fn lookup_panicked() -> FetchError {
    FetchError::new(ErrorKind::Dns, "the lookup panicked")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn known(url: &str) -> SocketAddr {
        match Resolver::default().lookup(&Url::parse(url).unwrap()).unwrap() {
            Lookup::Known(addr) => addr,
            Lookup::Blocking(name) => panic!("{url}: an IP address needs no lookup, got {name:?}"),
        }
    }

    #[test]
    fn ip_addresses_need_no_lookup() {
        assert_eq!(known("http://127.0.0.1:8000/x"), "127.0.0.1:8000".parse().unwrap());
        assert_eq!(known("http://[::1]/"), "[::1]:80".parse().unwrap());
    }

    #[test]
    fn a_name_is_looked_up_by_the_system() {
        let url = Url::parse("http://localhost:8000/").unwrap();
        let Lookup::Blocking(name) = Resolver::default().lookup(&url).unwrap() else {
            panic!("a name needs a lookup");
        };
        assert_eq!(name.run().unwrap().port(), 8000);
    }

    #[test]
    fn a_slow_lookup_is_given_up_at_the_timeout() {
        let resolver = Resolver::with_delay(Duration::from_secs(10));
        let url = Url::parse("http://localhost/").unwrap();
        let started = Instant::now();
        let lookup = Background::start(resolver.lookup(&url).unwrap()).unwrap();
        let error = lookup.wait(Duration::from_millis(50)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited {:?} for a 10 s lookup",
            started.elapsed()
        );
        let background = Background::start(resolver.lookup(&url).unwrap()).unwrap();
        assert!(background.poll().is_pending(), "a lookup that sleeps 10 s is not done at once");
        let cut_short = background.cut_short().expect("a name's lookup can be cut short");
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            cut_short();
        });
        let started = Instant::now();
        let error = background.wait(Duration::from_secs(10)).unwrap_err();
        assert_eq!((error.kind, error.detail.as_str()), (ErrorKind::Io, "interrupted"));
        assert!(started.elapsed() < Duration::from_secs(5), "cut short after {:?}", started.elapsed());
    }
}
