//! What the server has seen: requests, requests per `Host`, and open connections.
//!
//! Tests use these to check a crawler's behaviour from the outside: that it fetched each page
//! once (`requests`), never wandered to another host name (`requests_for_host`), and never had
//! more connections open than its concurrency limit (`peak_connections`).
//!
//! The server writes and a test thread reads, so every number is an atomic. `SeqCst` is used
//! throughout: it is the ordering nobody has to think about, and its cost is nothing next to the
//! socket calls around it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};

/// The server's counters, shared between the server thread and whoever holds the
/// [`RunningSite`](crate::RunningSite).
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests whose head was read and parsed, whatever their host, path or outcome.
    requests: AtomicU64,
    /// Connections accepted and not yet finished.
    open: AtomicU64,
    /// The largest `open` has been since start or the last [`Counters::reset_peak`].
    peak: AtomicU64,
    /// Requests per `Host` header value; a `BTreeMap` so [`Counters::hosts`] comes out sorted.
    /// Only touched once per request, so a plain mutex is fine.
    by_host: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    /// Requests served so far (request heads read), for all hosts.
    pub fn requests(&self) -> u64 {
        self.requests.load(SeqCst)
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> u64 {
        self.open.load(SeqCst)
    }

    /// The most connections that were open at once since the site started or since the last
    /// [`reset_peak`](Counters::reset_peak).
    pub fn peak_connections(&self) -> u64 {
        self.peak.load(SeqCst)
    }

    /// Starts a new peak measurement from the connections open now, e.g. between two crawls
    /// against the same site.
    pub fn reset_peak(&self) {
        self.peak.store(self.open.load(SeqCst), SeqCst);
    }

    /// Requests that carried exactly this `Host` header value, e.g. `"127.0.0.1:8000"`.
    pub fn requests_for_host(&self, host_header: &str) -> u64 {
        self.hosts_map().get(host_header).copied().unwrap_or(0)
    }

    /// Every `Host` header value seen, with its request count, sorted by host.
    pub fn hosts(&self) -> Vec<(String, u64)> {
        self.hosts_map().iter().map(|(host, count)| (host.clone(), *count)).collect()
    }

    /// Counts one request whose head has been parsed. A request without a `Host` header counts
    /// in [`requests`](Counters::requests) only.
    pub(crate) fn record_request(&self, host: Option<&str>) {
        self.requests.fetch_add(1, SeqCst);
        if let Some(host) = host {
            *self.hosts_map().entry(host.to_owned()).or_insert(0) += 1;
        }
    }

    /// Counts a newly accepted connection; it stays counted until the returned guard is dropped.
    pub(crate) fn open_connection(self: &Arc<Self>) -> OpenGuard {
        let now = self.open.fetch_add(1, SeqCst) + 1;
        self.peak.fetch_max(now, SeqCst);
        OpenGuard { counters: Arc::clone(self) }
    }

    fn hosts_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        // A panic while holding this lock cannot leave the map half-updated in a way that
        // matters, so a poisoned lock is simply used as it is.
        self.by_host.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open connection in [`Counters::open_connections`]. Dropping it, which happens however the
/// connection ends (normally, on an error, or at shutdown), gives the slot back.
#[derive(Debug)]
pub(crate) struct OpenGuard {
    /// The counters to decrement on drop.
    counters: Arc<Counters>,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, SeqCst);
    }
}
