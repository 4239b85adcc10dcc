//! Turning a URL's host into a socket address.
//!
//! Name resolution (`getaddrinfo`) is a blocking call, and every stage makes it on its own thread:
//! in stages 2 to 6 that is the loop's thread, which waits for the resolver meanwhile, and the
//! resolver's wait is not bounded by `--timeout`. asyncio avoids the stall by running
//! `getaddrinfo` on its default thread pool. The fixture site is addressed by IP literal, which
//! resolves without asking anyone, so in this project's runs it never waits; a crawler of the
//! real web would move it off the loop.

use std::net::{SocketAddr, ToSocketAddrs};

use url::Url;

use crate::error::{ErrorKind, FetchError};

/// The first address of `url`'s host and port (80 when absent).
pub fn socket_addr(url: &Url) -> Result<SocketAddr, FetchError> {
    let host = url.host_str().ok_or_else(|| FetchError::new(ErrorKind::Dns, format!("{url} has no host")))?;
    let port = url.port_or_known_default().unwrap_or(80);
    // `[::1]` is how url spells an IPv6 host; the resolver wants it bare.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(|e| FetchError::new(ErrorKind::Dns, format!("{host}: {e}")))?
        .next()
        .ok_or_else(|| FetchError::new(ErrorKind::Dns, format!("{host}: no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_without_a_lookup() {
        let v4 = Url::parse("http://127.0.0.1:8000/x").unwrap();
        assert_eq!(socket_addr(&v4).unwrap(), "127.0.0.1:8000".parse().unwrap());
        let v6 = Url::parse("http://[::1]/").unwrap();
        assert_eq!(socket_addr(&v6).unwrap(), "[::1]:80".parse().unwrap());
    }
}
