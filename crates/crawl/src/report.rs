//! The report every stage prints on stdout: one line per URL, sorted, then a summary.
//!
//! It must come out byte-identical from every stage and every mode (apart from the elapsed time on
//! the last line), however the fetches interleaved. So nothing in it may depend on completion
//! order: rows are sorted by URL, and the "new" count of a page is computed here, afterwards, by
//! walking the link graph breadth-first from the roots in a fixed order, rather than recorded
//! when the page happened to finish.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::{self, Write as _};
use std::time::Duration;

use url::Url;

use crate::error::ErrorKind;
use crate::outcome::{Fetched, Outcome};

/// One finished URL as the frontier recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The URL, its outcome and tries.
    pub fetched: Fetched,
    /// For a redirect that was not followed, why not.
    pub redirect: Option<RedirectNote>,
}

/// Why a redirect's target was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectNote {
    /// The chain used up `--max-redirect`.
    LimitReached,
    /// The target is not crawlable (another host, https, excluded).
    NotAllowed,
}

/// The finished crawl.
#[derive(Clone, Debug)]
pub struct Report {
    /// The roots, in command-line order: where the breadth-first walk for "new" starts.
    roots: Vec<Url>,
    /// One record per URL, sorted by URL.
    records: Vec<Record>,
    /// Wall time of the crawl.
    elapsed: Duration,
    /// `--max-tasks`, echoed on the last line.
    max_tasks: usize,
    /// For a crawl cut short by Ctrl-C (see [`crate::interrupt`]), how many URLs it had found and
    /// not finished; `None` when the crawl ran to its end.
    unfinished: Option<usize>,
}

impl Report {
    pub fn new(roots: Vec<Url>, mut records: Vec<Record>, elapsed: Duration, max_tasks: usize) -> Report {
        records.sort_by(|a, b| a.fetched.url.as_str().cmp(b.fetched.url.as_str()));
        Report { roots, records, elapsed, max_tasks, unfinished: None }
    }

    /// The same report, marked as cut short with `unfinished` URLs found and not finished (queued,
    /// or abandoned mid-fetch: which of the two depends on the stage's bookkeeping, so the report
    /// gives only the sum).
    pub fn interrupted(self, unfinished: usize) -> Report {
        Report { unfinished: Some(unfinished), ..self }
    }

    /// How many URLs were left unfinished, if the crawl was interrupted.
    pub fn unfinished(&self) -> Option<usize> {
        self.unfinished
    }

    /// The records, sorted by URL.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// How many URLs ended in an error.
    pub fn errors(&self) -> usize {
        self.records.iter().filter(|r| r.fetched.outcome.is_error()).count()
    }

    /// When no root could even be connected to (its name did not resolve, or nothing listened),
    /// one line saying so: the crawl then found nothing at all, which is more likely a mistyped
    /// address or a server that is down than a fact about a site. A root that answered, however
    /// badly, is a row like any other URL.
    pub fn roots_unreachable(&self) -> Option<String> {
        let unreachable = self.roots.iter().map(|root| {
            let record = self.records.iter().find(|record| record.fetched.url == *root)?;
            match &record.fetched.outcome {
                Outcome::Failed { error } if matches!(error.kind, ErrorKind::Dns | ErrorKind::Connect) => {
                    Some(format!("{root} ({error})"))
                }
                _ => None,
            }
        });
        let unreachable: Vec<String> = unreachable.collect::<Option<_>>()?;
        (!unreachable.is_empty()).then(|| format!("no root could be reached: {}", unreachable.join(", ")))
    }

    /// How long the crawl took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// For each fetched URL, how many of its links (or its redirect target) it was the first to
    /// lead to, in a breadth-first walk from the roots that visits links in sorted order.
    fn new_counts(&self) -> HashMap<&Url, usize> {
        let by_url: HashMap<&Url, &Record> = self.records.iter().map(|r| (&r.fetched.url, r)).collect();
        let mut discovered: HashSet<&Url> = self.roots.iter().collect();
        let mut queue: VecDeque<&Url> = self.roots.iter().collect();
        let mut counts = HashMap::new();
        while let Some(url) = queue.pop_front() {
            let Some(record) = by_url.get(url) else { continue };
            let leads_to: Vec<&Url> = match &record.fetched.outcome {
                Outcome::Page { links, .. } => links.iter().collect(),
                Outcome::Redirect { location, .. } if record.redirect.is_none() => vec![location],
                _ => Vec::new(),
            };
            let mut new = 0;
            for next in leads_to {
                if discovered.insert(next) {
                    new += 1;
                    queue.push_back(next);
                }
            }
            counts.insert(url, new);
        }
        counts
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.records.iter().map(|r| r.fetched.url.as_str().len()).max().unwrap_or(0);
        let new_counts = self.new_counts();
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        let mut errors: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut pages, mut redirects, mut bytes) = (0, 0, 0);
        for record in &self.records {
            let Fetched { url, outcome, tries } = &record.fetched;
            let mut line = format!("{:<width$}  ", url.as_str());
            match outcome {
                Outcome::Page { status, content_type, size, links } => {
                    pages += 1;
                    bytes += size;
                    *statuses.entry(*status).or_default() += 1;
                    let content_type = content_type.as_deref().unwrap_or("-");
                    *types.entry(content_type).or_default() += 1;
                    let new = new_counts.get(url).copied().unwrap_or(0);
                    write!(
                        line,
                        "{status} {content_type:<10} {size:>8} bytes {:>3} links {new:>3} new",
                        links.len()
                    )?;
                }
                Outcome::Redirect { status, location } => {
                    redirects += 1;
                    *statuses.entry(*status).or_default() += 1;
                    write!(line, "{status} -> {location}")?;
                    match record.redirect {
                        Some(RedirectNote::LimitReached) => line.push_str(" (redirect limit reached)"),
                        Some(RedirectNote::NotAllowed) => line.push_str(" (not followed: not allowed)"),
                        None => {}
                    }
                }
                Outcome::Failed { error } => {
                    *errors.entry(error.kind.name()).or_default() += 1;
                    write!(line, "error {}", error.kind)?;
                }
            }
            if *tries > 1 || outcome.is_error() {
                write!(line, " ({tries} {})", if *tries == 1 { "try" } else { "tries" })?;
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        let list = |counts: &mut dyn Iterator<Item = String>| counts.collect::<Vec<_>>().join(", ");
        let error_count: usize = errors.values().sum();
        writeln!(f)?;
        writeln!(f, "Summary")?;
        writeln!(f, "  urls       {}", self.records.len())?;
        writeln!(f, "  pages      {pages} ({})", list(&mut types.iter().map(|(t, n)| format!("{t} {n}"))))?;
        writeln!(f, "  redirects  {redirects}")?;
        writeln!(
            f,
            "  errors     {error_count} ({})",
            list(&mut errors.iter().map(|(k, n)| format!("{k} {n}")))
        )?;
        writeln!(f, "  statuses   {}", list(&mut statuses.iter().map(|(s, n)| format!("{s}: {n}"))))?;
        writeln!(f, "  bytes      {bytes}")?;
        let ending = match self.unfinished {
            None => "Finished",
            Some(unfinished) => {
                writeln!(f, "  unfinished {unfinished} (interrupted)")?;
                "Interrupted after"
            }
        };
        writeln!(
            f,
            "{ending} {} urls in {:.3} secs (max_tasks={})",
            self.records.len(),
            self.elapsed.as_secs_f64(),
            self.max_tasks
        )
    }
}

/// The report text with the elapsed time replaced by `X`, for comparing two runs.
pub fn without_time(report: &str) -> String {
    let mut out = String::with_capacity(report.len());
    for line in report.lines() {
        let last_line = line.starts_with("Finished ") || line.starts_with("Interrupted after ");
        match (last_line, line.find(" in "), line.find(" secs")) {
            (true, Some(start), Some(end)) if start < end => {
                out.push_str(&line[..start + 4]);
                out.push('X');
                out.push_str(&line[end..]);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The number of URLs and of errors, read back from a printed report's summary.
pub fn counts(report: &str) -> Option<(usize, usize)> {
    let field = |name: &str| -> Option<usize> {
        let line = report.lines().find_map(|l| l.strip_prefix(name))?;
        line.split_whitespace().next()?.parse().ok()
    };
    Some((field("  urls ")?, field("  errors ")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, FetchError};

    fn url(path: &str) -> Url {
        Url::parse("http://h/").unwrap().join(path).unwrap()
    }

    fn page(path: &str, links: &[&str]) -> Record {
        let links = links.iter().map(|l| url(l)).collect();
        let outcome = Outcome::Page { status: 200, content_type: Some("text/html".into()), size: 10, links };
        Record { fetched: Fetched { url: url(path), outcome, tries: 1 }, redirect: None }
    }

    fn report(records: Vec<Record>) -> Report {
        Report::new(vec![url("/")], records, Duration::from_millis(1500), 3)
    }

    #[test]
    fn rows_are_sorted_whatever_the_completion_order() {
        let a = report(vec![page("/", &["/b", "/a"]), page("/b", &[]), page("/a", &[])]).to_string();
        let b = report(vec![page("/a", &[]), page("/", &["/a", "/b"]), page("/b", &[])]).to_string();
        assert_eq!(a, b);
        let urls: Vec<&str> = a.lines().take(3).map(|l| l.split_whitespace().next().unwrap()).collect();
        assert_eq!(urls, ["http://h/", "http://h/a", "http://h/b"]);
    }

    #[test]
    fn new_counts_follow_a_fixed_breadth_first_walk() {
        // "/" finds /a and /b; /a finds /c first (sorted walk), so /b's link to /c is not new.
        let r = report(vec![
            page("/", &["/a", "/b"]),
            page("/b", &["/c", "/"]),
            page("/a", &["/c"]),
            page("/c", &[]),
        ]);
        let counts = r.new_counts();
        assert_eq!(counts[&url("/")], 2);
        assert_eq!(counts[&url("/a")], 1);
        assert_eq!(counts[&url("/b")], 0);
    }

    #[test]
    fn rows_and_summary_say_what_happened() {
        let error = FetchError::new(ErrorKind::Timeout, "slow");
        let failed = Record {
            fetched: Fetched { url: url("/slow"), outcome: Outcome::Failed { error }, tries: 4 },
            redirect: None,
        };
        let moved = Record {
            fetched: Fetched {
                url: url("/moved"),
                outcome: Outcome::Redirect { status: 301, location: Url::parse("http://x/").unwrap() },
                tries: 2,
            },
            redirect: Some(RedirectNote::NotAllowed),
        };
        let text = report(vec![page("/", &["/slow", "/moved"]), failed, moved]).to_string();
        assert!(text.contains("http://h/slow   error timeout (4 tries)\n"), "{text}");
        assert!(text.contains("301 -> http://x/ (not followed: not allowed) (2 tries)\n"), "{text}");
        assert!(text.contains("200 text/html        10 bytes   2 links   2 new\n"), "{text}");
        assert!(text.contains("  errors     1 (timeout 1)\n"), "{text}");
        assert!(text.contains("  statuses   200: 1, 301: 1\n"), "{text}");
        assert!(text.ends_with("Finished 3 urls in 1.500 secs (max_tasks=3)\n"), "{text}");
        assert_eq!(counts(&text), Some((3, 1)));
        assert!(without_time(&text).ends_with("Finished 3 urls in X secs (max_tasks=3)\n"));
        assert!(!text.contains("unfinished"), "{text}");
    }

    #[test]
    fn a_crawl_that_reached_no_root_says_so() {
        let error = FetchError::new(ErrorKind::Connect, "refused");
        let failed = |path: &str| Record {
            fetched: Fetched { url: url(path), outcome: Outcome::Failed { error: error.clone() }, tries: 4 },
            redirect: None,
        };
        let both_failed =
            Report::new(vec![url("/"), url("/b")], vec![failed("/"), failed("/b")], Duration::ZERO, 1);
        assert_eq!(
            both_failed.roots_unreachable().as_deref(),
            Some("no root could be reached: http://h/ (connect: refused), http://h/b (connect: refused)")
        );
        let one_answered =
            Report::new(vec![url("/"), url("/b")], vec![failed("/"), page("/b", &[])], Duration::ZERO, 1);
        assert_eq!(one_answered.roots_unreachable(), None);
        let answered_badly = Record {
            fetched: Fetched {
                url: url("/"),
                outcome: Outcome::Failed { error: FetchError::new(ErrorKind::Malformed, "x") },
                tries: 1,
            },
            redirect: None,
        };
        let malformed = Report::new(vec![url("/")], vec![answered_badly], Duration::ZERO, 1);
        assert_eq!(malformed.roots_unreachable(), None, "it answered: a row, not an unreachable root");
    }

    #[test]
    fn an_interrupted_report_says_so_and_what_was_left() {
        let text = report(vec![page("/", &["/a"])]).interrupted(7).to_string();
        assert!(text.contains("  bytes      10\n  unfinished 7 (interrupted)\n"), "{text}");
        assert!(text.ends_with("Interrupted after 1 urls in 1.500 secs (max_tasks=3)\n"), "{text}");
        assert!(without_time(&text).ends_with("Interrupted after 1 urls in X secs (max_tasks=3)\n"));
    }
}
