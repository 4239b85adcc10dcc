//! `book-gen`: regenerates the book's diffs and data, or checks them.
//!
//! ```text
//! cargo run -p book-gen -- diffs      # book/src/diffs/*.diff from the stage crates
//! cargo run -p book-gen -- diff-path  # how much of each stage's file is unchanged from the stage before; fails below a floor
//! cargo run -p book-gen -- data       # runs the release tour and its lab; book/src/data/ (JSON, tables, charts)
//! cargo run -p book-gen -- render     # redraws book/src/data/ from tour.json and lab.json, without measuring
//! cargo run -p book-gen -- timeline   # only the timelines: runs `tour timeline`; book/src/data/timeline/
//! cargo run -p book-gen -- runs       # runs every command of the book's and the README's sh blocks; book/src/data/runs/
//! cargo run -p book-gen -- runs TEXT  # only the commands containing TEXT (the digests and the other recordings left as they are)
//! cargo run -p book-gen -- regen      # diffs, the site's fault table, the README's flags, the snapshots, the runs; then lists stale data
//! cargo run -p book-gen -- browser-check  # the built book (mdbook build book) in headless Chromium; target/book-check/
//! cargo run -p book-gen -- check      # what the tests check: stale diffs, the diff path's floors, includes, reachability, data
//! ```

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::process::{Command, ExitCode};

use book_gen::{browser, data, diff_path, diffs, includes, lab, reach, render, runs, timeline};

const USAGE: &str = "usage: book-gen diffs | diff-path | data | render | timeline | runs [TEXT] | regen | check | browser-check";

fn main() -> ExitCode {
    let root = book_gen::repo_root();
    let command = std::env::args().nth(1).unwrap_or_default();
    let result = match command.as_str() {
        "diffs" => diffs::generate(&root).and_then(|files| book_gen::write_all(&files)).map(|changed| {
            println!("{changed} of {} diffs changed in {}", diffs::DIFFS.len(), diffs::DIR);
        }),
        "diff-path" => match diff_path::measure(&root) {
            Ok(rows) => {
                print!("{}", diff_path::table(&root, &rows));
                let below = rows.iter().filter(|row| !row.holds()).count();
                println!("{below} of {} files below their floor", rows.len());
                return if below == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE };
            }
            Err(e) => Err(e),
        },
        "data" => data::collect(&root).and_then(|measured| {
            let lab = lab::collect(&root, &measured)?;
            let dir = root.join(data::DIR);
            let mut files = vec![
                (dir.join(data::JSON), data::to_json(&measured)),
                (dir.join(lab::JSON), lab::to_json(&lab)),
            ];
            files.extend(render::generate(&root, &measured, &lab));
            files.extend(record_timelines(&root, data::COMMAND)?);
            book_gen::write_all(&files)?;
            println!(
                "measured on {}; wrote {} files in {}",
                render::machine_line(&measured),
                files.len(),
                data::DIR
            );
            Ok(())
        }),
        "render" => data::load(&root).and_then(|measured| {
            let lab = lab::load(&root)?;
            let mut files = render::generate(&root, &measured, &lab);
            files.extend(timeline::generate(&root, &timeline::load(&root)?)?);
            let changed = book_gen::write_all(&files)?;
            println!(
                "{changed} files redrawn in {} from {}, {} and the traces in {}",
                data::DIR,
                data::JSON,
                lab::JSON,
                timeline::DIR
            );
            Ok(())
        }),
        "timeline" => record_timelines(&root, timeline::COMMAND).and_then(|files| {
            let changed = book_gen::write_all(&files)?;
            println!(
                "timelines recorded and drawn: {changed} of {} files changed in {}",
                files.len(),
                timeline::DIR
            );
            Ok(())
        }),
        "runs" => match std::env::args().nth(2) {
            Some(only) => record_some_runs(&root, &only),
            None => record_runs(&root),
        },
        "browser-check" => browser::run(&root),
        "regen" => regen(&root),
        "check" => {
            let book = book_gen::book_src(&root);
            let problems: Vec<String> = [
                diffs::check(&root),
                diff_path::check(&root),
                includes::check(&root, &book),
                reach::check(&root, &book),
                runs::check(&root),
                render::check(&root),
                timeline::check(&root),
                data::load(&root).map(|data| data::check_site(&data)).unwrap_or_default(),
                book_gen::regenerated(&root)
                    .map(|files| book_gen::compare(&root, &files, book_gen::REGEN))
                    .unwrap_or_else(|e| vec![e.to_string()]),
            ]
            .concat();
            for problem in &problems {
                eprintln!("{problem}");
            }
            if !problems.is_empty() {
                return ExitCode::FAILURE;
            }
            println!("the book's diffs, diff path, includes, files, commands and data are in order");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `regen`: everything derived from the code, rewritten; then what is stale among the measured
/// data, which takes minutes to re-measure and so is only reported.
fn regen(root: &Path) -> io::Result<()> {
    let mut files = diffs::generate(root)?;
    files.extend(book_gen::regenerated(root)?);
    let changed = book_gen::write_all(&files)?;
    println!(
        "{changed} of {} generated files changed (diffs, the site's fault table, the README's flags)",
        files.len()
    );

    // The snapshot and example tests, in insta's force-update mode (`INSTA_UPDATE=force`, which
    // also rewrites a header whose command alone changed): each snapshot is written in place
    // instead of failing its test, so one run updates all of them.
    let before = snapshots(root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["test", "-p", "async-evolution", "--test", "snapshots", "--test", "examples"])
        .env("INSTA_UPDATE", "force")
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "the snapshot tests failed ({status}) for a reason other than a snapshot"
        )));
    }
    let after = snapshots(root)?;
    // A snapshot that grew or shrank moves the end of the chapters' line-range includes of it.
    let chapters = includes::with_fresh_snapshot_ranges(&book_gen::book_src(root));
    book_gen::write_all(&chapters)?;
    for (chapter, _) in &chapters {
        println!("{}: its snapshot includes now take the whole output", book_gen::relative(root, chapter));
    }
    let changed: Vec<&String> =
        after.iter().filter(|(path, text)| before.get(*path) != Some(text)).map(|(p, _)| p).collect();
    match changed.len() {
        0 => println!("snapshots: all as they were"),
        n => println!(
            "snapshots: {n} rewritten; review them with `git diff tests/snapshots` before committing: {changed:?}"
        ),
    }

    record_runs(root)?;

    let mut stale = render::check(root);
    stale.extend(timeline::check(root));
    stale.extend(data::load(root).map(|data| data::check_site(&data)).unwrap_or_default());
    if stale.is_empty() {
        println!("measured data: in order");
    } else {
        println!("measured data: stale ({} re-measures it, in minutes):", data::COMMAND);
        for problem in &stale {
            println!("  {problem}");
        }
    }
    Ok(())
}

/// `runs`: every recorded command run again, its recording rewritten; names the ones whose
/// output changed, and removes the recordings no command records any more.
fn record_runs(root: &Path) -> io::Result<()> {
    let (files, failures) = runs::record(root)?;
    let changed: Vec<String> = files
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()))
        .map(|(path, _)| book_gen::relative(root, path))
        .collect();
    book_gen::write_all(&files)?;
    // A command that failed keeps no recording; only the ones no command records are removed.
    let removed = if failures.is_empty() { runs::remove_orphans(root, &files)? } else { Vec::new() };
    if failures.is_empty() {
        // Last: its final line is a digest of the recordings as they are now.
        book_gen::write_all(&[(root.join(runs::SOURCES), runs::sources(root))])?;
    }
    println!(
        "runs: {} commands recorded in {}; {} changed{}, {} removed",
        files.len(),
        runs::DIR,
        changed.len(),
        if changed.is_empty() { String::new() } else { format!(" ({})", changed.join(", ")) },
        removed.len()
    );
    every_command_recorded(&failures)
}

/// Runs `tour timeline` into the book and returns its record, pictures and captions (the traces
/// themselves the tour has written in place).
fn record_timelines(root: &Path, generated_by: &str) -> io::Result<Vec<(std::path::PathBuf, String)>> {
    let record = timeline::collect(root, generated_by)?;
    let mut files = vec![(root.join(timeline::DIR).join(timeline::JSON), timeline::to_json(&record))];
    files.extend(timeline::generate(root, &record)?);
    Ok(files)
}

/// `runs TEXT`: only the commands whose text contains `TEXT` run again and re-recorded, for a
/// command just added to a page; the digests of the sources, which say that every recording is
/// fresh, are left as they were, and the digest of the recordings is made anew.
fn record_some_runs(root: &Path, only: &str) -> io::Result<()> {
    let (files, failures) = runs::record_only(root, Some(only))?;
    let changed = book_gen::write_all(&files)?;
    book_gen::write_all(&[(root.join(runs::SOURCES), runs::with_recordings_line(root))])?;
    println!(
        "runs: {} commands containing {only:?} recorded in {}; {changed} changed",
        files.len(),
        runs::DIR
    );
    every_command_recorded(&failures)
}

/// An error listing the commands that could not be recorded, if any.
fn every_command_recorded(failures: &[String]) -> io::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    Err(io::Error::other(format!("{} commands have no recording:\n{}", failures.len(), failures.join("\n"))))
}

/// Every snapshot file's name and text.
fn snapshots(root: &Path) -> io::Result<BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("tests/snapshots"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "snap") {
            all.insert(book_gen::relative(root, &path), std::fs::read_to_string(&path)?);
        }
    }
    Ok(all)
}
