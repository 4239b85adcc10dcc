//! The shared crawl state: which URLs were seen, which wait in the queue, which are done.
//!
//! `Frontier` is a plain single-owner type with no locking and no waiting. Each stage wraps it the
//! way its concurrency model needs: a `Mutex<Frontier>` shared by stage 1's threads, a plain
//! `&mut` or an `Rc<RefCell<_>>` on one thread. That difference is itself one of the lessons.
//!
//! ```
//! use crawl::{Config, Fetched, Frontier, Outcome};
//! let config = Config::from_cli_args(["crawl", "http://127.0.0.1:8000/"]).unwrap();
//! let mut frontier = Frontier::new(&config);
//! let job = frontier.pop().unwrap();
//! assert!(frontier.pop().is_none(), "one root, one job");
//! let links = vec![url::Url::parse("http://127.0.0.1:8000/a").unwrap()];
//! let page = Outcome::Page { status: 200, content_type: None, size: 0, links };
//! frontier.complete(job.clone(), Fetched { url: job.url, outcome: page, tries: 1 });
//! assert_eq!(frontier.pop().unwrap().url.path(), "/a");
//! ```

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use url::Url;

use crate::config::Config;
use crate::interrupt;
use crate::outcome::{Fetched, Outcome};
use crate::report::{Record, RedirectNote, Report};
use crate::rules::Rules;

/// One URL to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// What to fetch.
    pub url: Url,
    /// How many more redirects the chain that led here may follow (counts down from
    /// `--max-redirect`; a link found on a page starts a fresh chain).
    pub redirects_left: u32,
}

/// Seen set, queue and finished records of one crawl.
#[derive(Debug)]
pub struct Frontier {
    /// Which links may be followed (checked again for redirect targets).
    rules: Rules,
    /// `--max-redirect`: the budget a fresh chain starts with.
    max_redirect: u32,
    /// `--max-pages`: no URL beyond this many is ever queued.
    max_pages: Option<usize>,
    /// `--max-tasks`, kept for the report's last line.
    max_tasks: usize,
    /// The roots, in command-line order; the report walks the link graph from them.
    roots: Vec<Url>,
    /// Every URL ever queued: a URL is fetched at most once per crawl.
    seen: HashSet<Url>,
    /// URLs waiting for a worker, oldest first (breadth-first order).
    queue: VecDeque<Job>,
    /// Jobs handed out by `pop` and not yet `complete`d: the crawl is over only when this is zero
    /// *and* the queue is empty, because a job in flight may still add links.
    in_flight: usize,
    /// One record per finished URL.
    records: Vec<Record>,
    /// When the crawl started, for the report's elapsed time.
    started: Instant,
}

impl Frontier {
    /// A frontier holding the configured roots.
    pub fn new(config: &Config) -> Frontier {
        let mut frontier = Frontier {
            rules: config.rules.clone(),
            max_redirect: config.max_redirect,
            max_pages: config.max_pages,
            max_tasks: config.max_tasks,
            roots: config.roots.clone(),
            seen: HashSet::new(),
            queue: VecDeque::new(),
            in_flight: 0,
            records: Vec::new(),
            started: Instant::now(),
        };
        for root in &config.roots {
            frontier.add(root.clone(), config.max_redirect);
        }
        frontier
    }

    // ANCHOR: frontier
    /// The next URL to fetch, if any is queued. The caller must hand it back to [`complete`].
    /// After Ctrl-C nothing more is handed out: an interrupted crawl starts no new fetch,
    /// whichever stage runs it.
    ///
    /// [`complete`]: Frontier::complete
    pub fn pop(&mut self) -> Option<Job> {
        if interrupt::requested() {
            return None;
        }
        let job = self.queue.pop_front()?;
        self.in_flight += 1;
        Some(job)
    }

    /// The next URL to fetch, if one is queued and fewer than `--max-tasks` are in flight: what a
    /// stage that keeps count of its own fetches starts next. Hand it back to [`complete`].
    ///
    /// [`complete`]: Frontier::complete
    pub fn next_job(&mut self) -> Option<Job> {
        if self.in_flight >= self.max_tasks {
            return None;
        }
        self.pop()
    }

    /// Records a finished job and queues what it leads to: a page's unseen links, or a redirect's
    /// target while the chain has budget left and the target is allowed.
    pub fn complete(&mut self, job: Job, fetched: Fetched) {
        self.in_flight =
            self.in_flight.checked_sub(1).expect("complete() called for a job pop() did not hand out");
        let mut redirect = None;
        match &fetched.outcome {
            Outcome::Page { links, .. } => {
                for link in links {
                    self.add(link.clone(), self.max_redirect);
                }
            }
            Outcome::Redirect { location, .. } => {
                if !self.rules.allows(location) {
                    redirect = Some(RedirectNote::NotAllowed);
                } else if job.redirects_left == 0 {
                    redirect = Some(RedirectNote::LimitReached);
                } else {
                    self.add(location.clone(), job.redirects_left - 1);
                }
            }
            Outcome::Failed { .. } => {}
        }
        self.records.push(Record { fetched, redirect });
    }

    /// True when nothing is queued and nothing is in flight: the crawl is over.
    pub fn is_done(&self) -> bool {
        self.queue.is_empty() && self.in_flight == 0
    }
    // ANCHOR_END: frontier

    /// How many jobs are queued (not yet popped).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// How many popped jobs are not yet complete.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The report of everything completed so far. A frontier that is not done was interrupted
    /// (nothing else ends a crawl early), and its report says what was left.
    pub fn into_report(self) -> Report {
        let (done, unfinished) = (self.is_done(), self.in_flight + self.queue.len());
        let report = Report::new(self.roots, self.records, self.started.elapsed(), self.max_tasks);
        if done { report } else { report.interrupted(unfinished) }
    }

    fn add(&mut self, url: Url, redirects_left: u32) {
        if self.max_pages.is_some_and(|max| self.seen.len() >= max) {
            return;
        }
        if self.seen.insert(url.clone()) {
            self.queue.push_back(Job { url, redirects_left });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, FetchError};

    fn url(path: &str) -> Url {
        Url::parse("http://127.0.0.1:8000/").unwrap().join(path).unwrap()
    }

    fn frontier(extra: &[&str]) -> Frontier {
        let mut args = vec!["crawl", "http://127.0.0.1:8000/"];
        args.extend_from_slice(extra);
        Frontier::new(&Config::from_cli_args(args).unwrap())
    }

    fn page(job: &Job, links: &[&str]) -> Fetched {
        let links = links.iter().map(|l| url(l)).collect();
        let outcome = Outcome::Page { status: 200, content_type: None, size: 0, links };
        Fetched { url: job.url.clone(), outcome, tries: 1 }
    }

    fn redirect(job: &Job, to: &str) -> Fetched {
        let outcome = Outcome::Redirect { status: 302, location: Url::parse(to).unwrap() };
        Fetched { url: job.url.clone(), outcome, tries: 1 }
    }

    #[test]
    fn links_are_queued_once_in_breadth_first_order() {
        let mut f = frontier(&[]);
        let root = f.pop().unwrap();
        f.complete(root.clone(), page(&root, &["/b", "/a", "/b"]));
        let first = f.pop().unwrap();
        assert_eq!(first.url.path(), "/b");
        f.complete(first.clone(), page(&first, &["/", "/a", "/c"]));
        let order: Vec<String> = std::iter::from_fn(|| f.pop()).map(|j| j.url.path().into()).collect();
        assert_eq!(order, ["/a", "/c"]);
    }

    #[test]
    fn the_crawl_is_not_done_while_a_job_is_in_flight() {
        let mut f = frontier(&[]);
        let root = f.pop().unwrap();
        assert_eq!((f.queued(), f.in_flight()), (0, 1));
        assert!(!f.is_done(), "the root may still add links");
        let error = FetchError::new(ErrorKind::Reset, "x");
        let failed = Fetched { url: root.url.clone(), outcome: Outcome::Failed { error }, tries: 4 };
        f.complete(root, failed);
        assert!(f.is_done());
        assert_eq!(f.into_report().records().len(), 1);
    }

    #[test]
    fn a_frontier_stopped_early_reports_what_it_left() {
        let mut f = frontier(&[]);
        let root = f.pop().unwrap();
        f.complete(root.clone(), page(&root, &["/a", "/b", "/c"]));
        let _abandoned = f.pop().unwrap();
        let report = f.into_report();
        assert_eq!(report.unfinished(), Some(3), "one abandoned in flight, two never started");
        assert_eq!(report.records().len(), 1);
    }

    #[test]
    fn redirect_chains_count_down_and_stop_at_the_limit() {
        let mut f = frontier(&["--max-redirect", "1"]);
        let root = f.pop().unwrap();
        f.complete(root.clone(), redirect(&root, "http://127.0.0.1:8000/r1"));
        let r1 = f.pop().unwrap();
        assert_eq!(r1.redirects_left, 0);
        f.complete(r1.clone(), redirect(&r1, "http://127.0.0.1:8000/r2"));
        assert!(f.pop().is_none(), "limit reached: /r2 is not fetched");
        let report = f.into_report();
        assert_eq!(report.records()[1].redirect, Some(RedirectNote::LimitReached));
    }

    #[test]
    fn redirects_to_other_hosts_are_not_followed() {
        let mut f = frontier(&[]);
        let root = f.pop().unwrap();
        f.complete(root.clone(), redirect(&root, "http://example.com/"));
        assert!(f.pop().is_none());
        assert_eq!(f.into_report().records()[0].redirect, Some(RedirectNote::NotAllowed));
    }

    #[test]
    fn next_job_hands_out_at_most_max_tasks_at_once() {
        let mut f = frontier(&["--max-tasks", "2"]);
        let root = f.next_job().unwrap();
        f.complete(root.clone(), page(&root, &["/a", "/b", "/c"]));
        let (a, _b) = (f.next_job().unwrap(), f.next_job().unwrap());
        assert!(f.next_job().is_none(), "two in flight, /c waits");
        f.complete(a.clone(), page(&a, &[]));
        assert_eq!(f.next_job().unwrap().url.path(), "/c");
    }

    #[test]
    fn max_pages_caps_what_is_ever_queued() {
        let mut f = frontier(&["--max-pages", "3"]);
        let root = f.pop().unwrap();
        f.complete(root.clone(), page(&root, &["/a", "/b", "/c", "/d"]));
        let rest: Vec<Job> = std::iter::from_fn(|| f.pop()).collect();
        assert_eq!(rest.len(), 2, "the root and two more make three");
    }

    #[test]
    #[should_panic(expected = "did not hand out")]
    fn completing_a_job_twice_is_a_bug() {
        let mut f = frontier(&[]);
        let root = f.pop().unwrap();
        f.complete(root.clone(), page(&root, &[]));
        f.complete(root.clone(), page(&root, &[]));
    }
}
