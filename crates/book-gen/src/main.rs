//! `book-gen`: regenerates the book's diffs and data, or checks them.
//!
//! ```text
//! cargo run -p book-gen -- diffs      # book/src/diffs/*.diff from the stage crates
//! cargo run -p book-gen -- diff-path  # how much of each stage's file is unchanged from the stage before; fails below a floor
//! cargo run -p book-gen -- data       # runs the release tour and its lab; book/src/data/ (JSON, tables, charts)
//! cargo run -p book-gen -- render     # redraws book/src/data/ from tour.json and lab.json, without measuring
//! cargo run -p book-gen -- check      # what the tests check: stale diffs, the diff path's floors, includes, reachability, data
//! ```

use std::process::ExitCode;

use book_gen::{data, diff_path, diffs, includes, lab, reach, render};

const USAGE: &str = "usage: book-gen diffs | diff-path | data | render | check";

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
            let changed = book_gen::write_all(&render::generate(&root, &measured, &lab))?;
            println!("{changed} files redrawn in {} from {} and {}", data::DIR, data::JSON, lab::JSON);
            Ok(())
        }),
        "check" => {
            let book = book_gen::book_src(&root);
            let problems: Vec<String> = [
                diffs::check(&root),
                diff_path::check(&root),
                includes::check(&root, &book),
                reach::check(&root, &book),
                render::check(&root),
            ]
            .concat();
            for problem in &problems {
                eprintln!("{problem}");
            }
            if !problems.is_empty() {
                return ExitCode::FAILURE;
            }
            println!("the book's diffs, diff path, includes, files and data are in order");
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
