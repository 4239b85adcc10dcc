//! The command line every stage shares, and the validated [`Config`] it turns into.
//!
//! The flags are defined once, here, as [`CrawlArgs`]. A stage that needs more (stage 1's `--mode`)
//! flattens its own `clap::Args` struct beside them through [`Cli`]; the others use [`NoStageArgs`].
//! Misuse is one clear line on stderr and exit status 2, before any request is made.
//!
//! Every stage exits with the same statuses:
//!
//! | status | when | stderr |
//! |---|---|---|
//! | 0 | the crawl ran to its end (URLs that failed are rows in the report) | progress only |
//! | 1 | no root could be reached (its name does not resolve, or nothing listens on its port); the report is printed | `error: no root could be reached: ...` |
//! | 1 | the crawl ran, but its `--timeline` file could not be written (a full disk); the report is printed | `error: --timeline FILE: cannot write the file: ...` |
//! | 1 | stages 3 to 6: the event loop (tokio's runtime) cannot be created, the system refusing its descriptors (a `ulimit -n` too low for it is status 2, below); no report ([`crate::or_exit`]) | `error: cannot create the event loop: ...` |
//! | 2 | command-line misuse ([`EXIT_USAGE`]), or an open-file limit with no room for one request, before any request | `error: ...` or clap's one line |
//! | 130 | Ctrl-C ([`interrupt::EXIT_INTERRUPTED`]); the report of what was finished is printed | `interrupted: ...` |

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser};
use regex::Regex;
use url::Url;

use crate::descriptors::{self, Needs};
use crate::http::{Limits, RequestOptions};
use crate::interrupt;
use crate::report::Report;
use crate::resolve::Resolver;
use crate::rules::{self, Rules};
use crate::timeline;

/// Exit status for command-line misuse (as BSD's `EX_USAGE` convention and clap use).
pub const EXIT_USAGE: u8 = 2;

/// The longest `--timeout` accepted: a day. Longer is surely a typo, and a deadline that far off
/// would not fit every stage's clock arithmetic (`Instant + Duration` panics on overflow).
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// `--max-tries` when it is not given: enough for a fault that fails twice and then answers.
pub const DEFAULT_MAX_TRIES: u32 = 4;

/// Exit status when no root could be reached, so a script can tell "the site is down" from "the
/// site has broken links" (status 0, failures as rows).
pub const EXIT_UNREACHABLE: u8 = 1;

/// The flags every stage takes, identical in every stage (the README's "What every stage promises").
#[derive(Clone, Debug, Args)]
pub struct CrawlArgs {
    /// Root URLs to crawl; without a scheme, http:// is assumed
    #[arg(value_name = "ROOT", required = true)]
    pub roots: Vec<String>,
    /// Most requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_tasks: usize,
    /// Most redirects followed in one chain
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_redirect: u32,
    /// Most tries per URL: a failed try is tried again, unless the name did not resolve or the body was too large
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TRIES)]
    pub max_tries: u32,
    /// Skip URLs matching this regular expression
    #[arg(long, value_name = "REGEX")]
    pub exclude: Option<String>,
    /// Match hosts by their last two labels instead of exactly (with or without www.)
    #[arg(long)]
    pub lenient: bool,
    /// Time limit for one request, in seconds (fractions allowed)
    #[arg(long, value_name = "SECS", default_value_t = 10.0, allow_negative_numbers = true)]
    pub timeout: f64,
    /// Crawl at most this many URLs
    #[arg(long, value_name = "N")]
    pub max_pages: Option<usize>,
    /// Largest response body accepted, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// The User-Agent header sent with every request
    #[arg(long, value_name = "TEXT", default_value = RequestOptions::DEFAULT_USER_AGENT)]
    pub user_agent: String,
    /// Show the stage's waiting on stderr
    #[arg(long)]
    pub trace: bool,
    /// Record what the crawl did over time into FILE (Chrome trace format: open it in Perfetto)
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Print nothing on stderr
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print every fetch and the detail of every error on stderr
    #[arg(short, long)]
    pub verbose: bool,
    /// A test hook, hidden from `--help`: every lookup of a host name first sleeps this long, as
    /// a slow DNS server would (tests cannot slow down the system's resolver).
    #[arg(long, value_name = "SECS", default_value_t = 0.0, hide = true, allow_negative_numbers = true)]
    pub resolver_delay: f64,
}

/// A stage's whole command line: the shared flags plus the stage's own.
#[derive(Debug, Parser)]
pub struct Cli<E: Args> {
    #[command(flatten)]
    pub crawl: CrawlArgs,
    #[command(flatten)]
    pub stage: E,
}

/// For the stages that add no flags of their own.
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct NoStageArgs {}

/// How much goes to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: nothing.
    Quiet,
    /// Default: failures, one line each.
    Normal,
    /// `-v`: every fetch, and the detail of every error.
    Verbose,
}

/// A validated crawl configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the crawl starts (http, fragment-free).
    pub roots: Vec<Url>,
    /// At most this many requests in flight (>= 1).
    pub max_tasks: usize,
    /// The redirect budget of a chain.
    pub max_redirect: u32,
    /// Tries per URL (>= 1).
    pub max_tries: u32,
    /// Which URLs may be crawled.
    pub rules: Rules,
    /// Deadline for one request, connect to last byte.
    pub timeout: Duration,
    /// Cap on URLs crawled.
    pub max_pages: Option<usize>,
    /// What every request carries besides its URL, handed to `http::encode_request`.
    pub request: RequestOptions,
    /// Size limits handed to the HTTP decoder.
    pub limits: Limits,
    /// How host names become addresses.
    pub resolver: Resolver,
    /// `--trace`: the stage prints its waiting on stderr.
    pub trace: bool,
    /// `--timeline FILE`: where to write what the crawl did over time (see [`crate::timeline`]).
    pub timeline: Option<PathBuf>,
    /// The program's name, which names its process in the timeline.
    pub program: &'static str,
    /// What else goes to stderr.
    pub verbosity: Verbosity,
}

impl Config {
    /// Validates parsed flags. The error is one line, ready to print after `error: `.
    pub fn from_args(args: &CrawlArgs) -> Result<Config, String> {
        let roots = args.roots.iter().map(|root| rules::parse_root(root)).collect::<Result<Vec<_>, _>>()?;
        let exclude = match &args.exclude {
            Some(pattern) => Some(Regex::new(pattern).map_err(|e| {
                let why = e.to_string().lines().last().unwrap_or_default().trim().to_string();
                format!("--exclude {pattern:?} is not a valid regular expression: {why}")
            })?),
            None => None,
        };
        if args.max_tasks == 0 {
            return Err("--max-tasks must be at least 1".into());
        }
        if args.max_tries == 0 {
            return Err("--max-tries must be at least 1".into());
        }
        if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= MAX_TIMEOUT_SECS) {
            return Err(format!(
                "--timeout {} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECS} (a day)",
                args.timeout
            ));
        }
        if !(args.resolver_delay.is_finite() && (0.0..=MAX_TIMEOUT_SECS).contains(&args.resolver_delay)) {
            return Err(format!(
                "--resolver-delay {} must be a number of seconds from 0 to a day",
                args.resolver_delay
            ));
        }
        let request = RequestOptions::new(&args.user_agent)?;
        let verbosity = match (args.quiet, args.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        };
        Ok(Config {
            rules: Rules::new(&roots, exclude, args.lenient),
            roots,
            max_tasks: args.max_tasks,
            max_redirect: args.max_redirect,
            max_tries: args.max_tries,
            timeout: Duration::from_secs_f64(args.timeout),
            max_pages: args.max_pages,
            request,
            limits: Limits { max_body: args.max_body, ..Limits::default() },
            resolver: Resolver::with_delay(Duration::from_secs_f64(args.resolver_delay)),
            trace: args.trace,
            timeline: args.timeline.clone(),
            program: "crawl",
            verbosity,
        })
    }

    /// Parses and validates a command line of the shared flags only (for tests and tools). The
    /// first item is the program name, as in `std::env::args`.
    pub fn from_cli_args<I, T>(args: I) -> Result<Config, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let cli = Cli::<NoStageArgs>::try_parse_from(args).map_err(|e| first_line(&e.to_string()))?;
        Config::from_args(&cli.crawl)
    }
}

/// The shared flags as a reader types them, in `--help`'s order: `ROOT...`, `--max-tasks N`,
/// `-q, --quiet`. Read from clap's own definition of [`CrawlArgs`], so that the README's list
/// (written by `cargo run -p book-gen -- regen`) and the tests cannot drift from it.
pub fn shared_flags() -> Vec<String> {
    let command = CrawlArgs::augment_args(clap::Command::new("crawl"));
    let flags = command.get_arguments().filter(|arg| !arg.is_hide_set());
    flags
        .map(|arg| {
            let value = arg.get_value_names().and_then(|names| names.first()).map(|name| name.to_string());
            let takes_value = arg.get_action().takes_values();
            match (arg.get_short(), arg.get_long()) {
                (None, None) => format!("{}...", value.unwrap_or_default()),
                (short, Some(long)) => {
                    let short = short.map(|s| format!("-{s}, ")).unwrap_or_default();
                    let value = value.filter(|_| takes_value).map(|v| format!(" {v}")).unwrap_or_default();
                    format!("{short}--{long}{value}")
                }
                (Some(short), None) => format!("-{short}"),
            }
        })
        .collect()
}

/// Parses a stage's command line. On misuse prints one line on stderr and returns the exit code
/// to use (2; 0 for `--help` and `--version`, which clap prints in full).
pub fn parse<E: Args + FromArgMatches>(
    bin: &'static str,
    about: &'static str,
    args: impl IntoIterator<Item = OsString>,
) -> Result<(Config, E), ExitCode> {
    let command = Cli::<E>::command().name(bin).bin_name(bin).about(about);
    let cli = command.try_get_matches_from(args).and_then(|matches| Cli::<E>::from_arg_matches(&matches));
    let cli = match cli {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprintln!("{} (see --help)", first_line(&e.to_string()));
            return Err(ExitCode::from(EXIT_USAGE));
        }
        Err(e) => {
            let _ = e.print();
            return Err(ExitCode::SUCCESS);
        }
    };
    match Config::from_args(&cli.crawl) {
        Ok(config) => Ok((Config { program: bin, ..config }, cli.stage)),
        Err(why) => {
            eprintln!("error: {why}");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// The whole `main` of a stage with no flags of its own: parse, crawl, print the report. `needs`
/// says what the stage opens beside a socket per request (see [`crate::descriptors`]).
pub fn run_stage(
    bin: &'static str,
    about: &'static str,
    args: impl IntoIterator<Item = OsString>,
    needs: Needs,
    crawl: impl FnOnce(&Config) -> Report,
) -> ExitCode {
    match parse::<NoStageArgs>(bin, about, args) {
        Ok((config, NoStageArgs {})) => crawl_and_report(config, needs, crawl),
        Err(code) => code,
    }
}

/// Fits `--max-tasks` to the open-file limit, watches for Ctrl-C, crawls, prints the report;
/// returns the exit status (see the table in the module docs of [`crate::config`]).
pub fn crawl_and_report(mut config: Config, needs: Needs, crawl: impl FnOnce(&Config) -> Report) -> ExitCode {
    // First, so that a path that cannot be written is an error before any request, and so that
    // the file's descriptor is counted as open when the requests are fitted below.
    if let Some(path) = &config.timeline
        && let Err(why) = timeline::start(path, config.program)
    {
        eprintln!("error: {why}");
        return ExitCode::from(EXIT_USAGE);
    }
    if let Err(why) = config.fit_to_descriptors(needs) {
        eprintln!("error: {why}");
        return ExitCode::from(EXIT_USAGE);
    }
    // Before the crawl starts any thread: see `interrupt::install`.
    if let Err(e) = interrupt::install() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let report = crawl(&config);
    let written = timeline::finish();
    let status = print_report(&report);
    match (written, &config.timeline) {
        (Err(e), Some(path)) => {
            // Printed even with `-q`, after the report: the crawl ran, its timeline was lost.
            eprintln!("error: --timeline {}: cannot write the file: {e}", path.display());
            if status == ExitCode::SUCCESS { ExitCode::FAILURE } else { status }
        }
        _ => status,
    }
}

/// Prints the report on stdout and returns the crawl's exit status. A closed stdout (`| head`)
/// is not an error worth a panic.
pub fn print_report(report: &Report) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{report}").and_then(|()| out.flush());
    if report.unfinished().is_some() {
        return ExitCode::from(interrupt::EXIT_INTERRUPTED);
    }
    if let Some(why) = report.roots_unreachable() {
        // Printed even with `-q`: this is the run's verdict, not progress.
        eprintln!("error: {why}");
        return ExitCode::from(EXIT_UNREACHABLE);
    }
    ExitCode::SUCCESS
}

impl Config {
    /// Lowers `--max-tasks` to the requests that fit under the open-file limit (see
    /// [`crate::descriptors`]), with one line on stderr when it does (unless `-q`). Fails when not
    /// even one request fits.
    pub fn fit_to_descriptors(&mut self, needs: Needs) -> Result<(), String> {
        let Some(room) = descriptors::room(needs) else { return Ok(()) };
        let (limit, in_use, own) = (room.limit, room.in_use, needs.own);
        let why = format!(
            "the process may open {limit} files, {in_use} are open, and this stage needs {own} of its own"
        );
        if room.tasks == 0 {
            return Err(format!("no file descriptor is left for a request: {why} (see `ulimit -n`)"));
        }
        if self.max_tasks > room.tasks {
            if self.verbosity != Verbosity::Quiet {
                crate::log!(
                    "warning: --max-tasks lowered from {} to {}: {why} (see `ulimit -n`)",
                    self.max_tasks,
                    room.tasks
                );
            }
            self.max_tasks = room.tasks;
        }
        Ok(())
    }

    /// Reports one failed try on stderr (unless `-q`); with `-v`, the OS's own words too.
    pub fn log_failed_try(&self, url: &Url, tries: u32, error: &crate::FetchError) {
        if interrupt::requested() {
            return; // after Ctrl-C, failures are the interruption's doing, not the site's
        }
        match self.verbosity {
            Verbosity::Quiet => {}
            Verbosity::Normal => {
                crate::log!("{url}: try {tries} of {} failed: {}", self.max_tries, error.kind)
            }
            Verbosity::Verbose => crate::log!("{url}: try {tries} of {} failed: {error}", self.max_tries),
        }
    }

    /// With `-v`, one line on stderr per finished URL.
    pub fn log_fetched(&self, fetched: &crate::Fetched) {
        if self.verbosity == Verbosity::Verbose {
            let what = match &fetched.outcome {
                crate::Outcome::Page { status, links, .. } => format!("{status}, {} links", links.len()),
                crate::Outcome::Redirect { status, location } => format!("{status} -> {location}"),
                crate::Outcome::Failed { error } => format!("failed: {}", error.kind),
            };
            crate::log!("{}: {what}", fetched.url);
        }
    }
}

/// The first paragraph of an error message as one line (clap puts the missing argument's name
/// on the line after "required arguments were not provided:").
fn first_line(text: &str) -> String {
    let paragraph: Vec<&str> =
        text.lines().map(str::trim).skip_while(|l| l.is_empty()).take_while(|l| !l.is_empty()).collect();
    if paragraph.is_empty() { "error".to_string() } else { paragraph.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, String> {
        Config::from_cli_args(std::iter::once("crawl").chain(args.iter().copied()))
    }

    #[test]
    fn the_shared_flags_are_spelled_as_typed() {
        let flags = shared_flags();
        assert_eq!(flags.first().map(String::as_str), Some("ROOT..."));
        for flag in ["--max-tasks N", "--timeout SECS", "--lenient", "-q, --quiet"] {
            assert!(flags.iter().any(|f| f == flag), "{flag}: {flags:?}");
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = config(&["example.com"]).unwrap();
        assert_eq!(c.roots[0].as_str(), "http://example.com/");
        assert_eq!((c.max_tasks, c.max_redirect, c.max_tries), (10, 10, 4));
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.limits.max_body, Limits::DEFAULT_MAX_BODY);
        assert_eq!(c.verbosity, Verbosity::Normal);
    }

    #[test]
    fn fractional_timeouts_are_allowed() {
        let c = config(&["h", "--timeout", "0.25"]).unwrap();
        assert_eq!(c.timeout, Duration::from_millis(250));
    }

    #[test]
    fn a_max_tasks_beyond_the_open_file_limit_is_lowered_to_what_fits() {
        let mut c = config(&["h", "-q", "--max-tasks", "1000000000"]).unwrap();
        let Some(room) = descriptors::room(Needs::SOCKET_PER_TASK) else { return }; // no limit
        c.fit_to_descriptors(Needs::SOCKET_PER_TASK).unwrap();
        // Other tests open and close files meanwhile: within a few of what was measured.
        assert!(
            c.max_tasks.abs_diff(room.tasks) < 16 && c.max_tasks < 1_000_000_000,
            "{} {room:?}",
            c.max_tasks
        );
        let mut small = config(&["h", "--max-tasks", "3"]).unwrap();
        small.fit_to_descriptors(Needs::SOCKET_PER_TASK).unwrap();
        assert_eq!(small.max_tasks, 3, "what fits is left alone");
        let mut none = config(&["h", "--max-tasks", "3"]).unwrap();
        let everything = Needs { own: usize::try_from(room.limit).unwrap(), per_task: 1 };
        assert!(none.fit_to_descriptors(everything).unwrap_err().contains("ulimit -n"));
    }

    #[test]
    fn misuse_is_one_line() {
        for (args, expected) in [
            (&["https://example.com/"][..], "https"),
            (&["http://exa mple.com/"][..], "malformed"),
            (&["h", "--exclude", "("][..], "--exclude"),
            (&["h", "--max-tasks", "0"][..], "--max-tasks"),
            (&["h", "--max-tries", "0"][..], "--max-tries"),
            (&["h", "--timeout", "0"][..], "--timeout"),
            (&["h", "--timeout", "nan"][..], "--timeout"),
            (&["h", "--timeout", "86401"][..], "at most 86400"),
            (&["h", "--user-agent", "a\r\nb: c"][..], "--user-agent"),
            (&["h", "--resolver-delay", "nan"][..], "--resolver-delay"),
            (&["h", "--resolver-delay", "86401"][..], "--resolver-delay"),
            (&["h", "--resolver-delay", "-1"][..], "--resolver-delay"),
            (&["h", "--max-tasks", "ten"][..], "invalid value"),
            (&["h", "--frobnicate"][..], "unexpected argument"),
            (&[][..], "required"),
        ] {
            let err = config(args).unwrap_err();
            assert!(err.contains(expected), "{args:?}: {err}");
            assert!(!err.contains('\n'), "{args:?}: {err}");
        }
    }
}
