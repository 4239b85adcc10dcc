//! The command line of the stage crates' example programs (the echo servers' `--port` aside): at
//! most one flag, a number of milliseconds (`--unit-ms 100`, `--latency-ms 60`), or none; a few
//! examples also take `--timeline FILE` ([`millis_flag_and_timeline`]). Anything else is one line
//! on stderr and exit status 2.
//!
//! Those examples read their command line here first, so this is also where a closed stdout is
//! made to end them quietly, with status 0 (`example | head -1`: see [`crate::exit`]).

use std::time::{Duration, Instant};

/// Reads `[FLAG MS]` from the process's arguments; `default_ms` when absent.
pub fn millis_flag(flag: &str, default_ms: u64) -> Duration {
    crate::exit::quiet_on_closed_stdout();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args, flag, default_ms) {
        Ok(ms) => Duration::from_millis(ms),
        Err(why) => usage_error(&why),
    }
}

/// As [`millis_flag`], for an example whose tasks are worth seeing over time: `[FLAG MS]
/// [--timeline FILE]`. With `--timeline`, records to `FILE` under the name `name` from now on, in
/// the crawls' format; the example writes it with [`finish_timeline`] when it ends.
pub fn millis_flag_and_timeline(flag: &str, default_ms: u64, name: &str) -> Duration {
    crate::exit::quiet_on_closed_stdout();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let timeline = match split_timeline(&mut args) {
        Ok(timeline) => timeline,
        Err(why) => usage_error(&why),
    };
    let unit = match parse(&args, flag, default_ms) {
        Ok(ms) => Duration::from_millis(ms),
        Err(why) => usage_error(&format!("{why} [--timeline FILE]")),
    };
    // After the flags are known good, so that a misused command line leaves no file behind.
    if let Some(path) = timeline
        && let Err(why) = crate::timeline::start(std::path::Path::new(&path), name)
    {
        usage_error(&why);
    }
    unit
}

/// Takes `--timeline FILE` out of `args`, if it is there.
fn split_timeline(args: &mut Vec<String>) -> Result<Option<String>, String> {
    let Some(at) = args.iter().position(|arg| arg == "--timeline") else { return Ok(None) };
    let Some(path) = args.get(at + 1).cloned() else { return Err("--timeline needs a FILE".to_string()) };
    args.drain(at..at + 2);
    Ok(Some(path))
}

/// Writes the timeline [`millis_flag_and_timeline`] started (nothing when none was asked for).
pub fn finish_timeline() {
    if let Err(e) = crate::timeline::finish() {
        eprintln!("error: --timeline: cannot write the file: {e}");
    }
}

/// For an example that takes no flag: any argument is misuse.
pub fn no_flags() {
    crate::exit::quiet_on_closed_stdout();
    if std::env::args_os().len() > 1 {
        usage_error("usage: no arguments");
    }
}

fn usage_error(why: &str) -> ! {
    eprintln!("error: {why}");
    std::process::exit(crate::config::EXIT_USAGE.into());
}

/// Prints `took N.N units`, the line the examples' tests read their timing claims from.
pub fn print_took(started: Instant, unit: Duration) {
    println!("took {:.1} units", started.elapsed().as_secs_f64() / unit.as_secs_f64());
}

fn parse(args: &[String], flag: &str, default_ms: u64) -> Result<u64, String> {
    match args {
        [] => Ok(default_ms),
        [name, ms] if name == flag => ms.parse().map_err(|_| format!("{flag} {ms:?} is not a number")),
        _ => Err(format!("usage: [{flag} MS] (default {default_ms})")),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, split_timeline};

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_optional_number_of_milliseconds() {
        assert_eq!(parse(&args(&[]), "--unit-ms", 100), Ok(100));
        assert_eq!(parse(&args(&["--unit-ms", "250"]), "--unit-ms", 100), Ok(250));
        assert!(parse(&args(&["--unit-ms", "soon"]), "--unit-ms", 100).unwrap_err().contains("not a number"));
        assert!(parse(&args(&["--other", "1"]), "--unit-ms", 100).unwrap_err().starts_with("usage"));
    }

    #[test]
    fn a_timeline_flag_is_taken_out_wherever_it_is() {
        let mut both = args(&["--timeline", "/tmp/t.json", "--unit-ms", "250"]);
        assert_eq!(split_timeline(&mut both), Ok(Some("/tmp/t.json".to_string())));
        assert_eq!(both, args(&["--unit-ms", "250"]));
        let mut none = args(&["--unit-ms", "250"]);
        assert_eq!(split_timeline(&mut none), Ok(None));
        assert!(split_timeline(&mut args(&["--timeline"])).is_err());
    }
}
