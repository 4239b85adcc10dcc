//! The book is in step with the code: its generated diffs are fresh, each stage's files keep at
//! least their floor's share of the stage before's (the diff path), its includes name files and
//! anchors that exist, every file in it is used, its data parses and matches its tables, and
//! every command it tells a reader to run is shown with what it printed, or marked as one that
//! is not run.
//! Each failure says which command fixes it.

use book_gen::{bench, book_src, data, diff_path, diffs, includes, lab, reach, render, repo_root, runs};

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn the_stage_diffs_in_the_book_are_fresh() {
    assert_none(diffs::check(&repo_root()));
}

#[test]
fn each_stage_keeps_its_floors_share_of_the_stage_before() {
    assert_none(diff_path::check(&repo_root()));
}

#[test]
fn every_include_names_an_existing_file_and_anchor() {
    let root = repo_root();
    let book = book_src(&root);
    assert!(!includes::markdown_files(&book).is_empty(), "no chapters under {}", book.display());
    assert_none(includes::check(&root, &book));
}

#[test]
fn every_file_in_the_book_is_reachable_and_every_link_leads_somewhere() {
    let root = repo_root();
    assert_none(reach::check(&root, &book_src(&root)));
}

#[test]
fn the_measurements_parse_and_every_table_and_chart_matches_them() {
    let root = repo_root();
    let measured = data::load(&root).unwrap_or_else(|e| panic!("{e}: run `{}`", data::COMMAND));
    assert!(!measured.rows.is_empty(), "tour.json has no rows: run `{}`", data::COMMAND);
    assert!(measured.command.starts_with("cargo run --release -p tour"), "{}", measured.command);
    assert!(!measured.machine.cpu.is_empty() && measured.machine.cores > 0, "{:?}", measured.machine);
    for row in &measured.rows {
        assert!(row.wall_secs > 0.0 && row.cpu_secs >= 0.0 && row.urls > 0, "{row:?}");
    }
    assert_none(render::check(&root));
}

#[test]
fn the_measurements_were_taken_on_the_site_as_it_is() {
    // A fault added, removed or changed in `site::FAULTS` changes the report's error rows, so
    // data measured before it is stale even though it still parses.
    let measured = data::load(&repo_root()).unwrap_or_else(|e| panic!("{e}: run `{}`", data::COMMAND));
    assert_none(data::check_site(&measured));
}

#[test]
fn the_sites_fault_table_and_the_readmes_flags_are_fresh() {
    let root = repo_root();
    let files = book_gen::regenerated(&root).unwrap_or_else(|e| panic!("{e}"));
    assert_none(book_gen::compare(&root, &files, book_gen::REGEN));
}

#[test]
fn every_stage_appears_in_the_measurements() {
    let measured = data::load(&repo_root()).unwrap_or_else(|e| panic!("{e}: run `{}`", data::COMMAND));
    for stage in tour::stages::ALL.iter().map(|run| run.stage) {
        assert!(
            measured.rows.iter().any(|row| row.stage == stage),
            "stage {stage} was not measured: run `{}`",
            data::COMMAND
        );
    }
}

#[test]
fn the_lab_was_measured_with_the_tour_and_every_lab_table_and_chart_matches_it() {
    let root = repo_root();
    let fix = data::COMMAND;
    let measured = lab::load(&root).unwrap_or_else(|e| panic!("{e}: run `{fix}`"));
    let tour = data::load(&root).unwrap_or_else(|e| panic!("{e}: run `{fix}`"));
    assert!(measured.same_run_as(&tour), "lab.json and tour.json come from different runs: run `{fix}`");
    let [switch, memory, c10k, syscalls, page_syscalls, scaling] = [
        lab::SWITCH_ARGS,
        lab::MEMORY_ARGS,
        lab::C10K_ARGS,
        lab::SYSCALLS_ARGS,
        lab::PAGE_SYSCALLS_ARGS,
        lab::SCALING_ARGS,
    ]
    .map(data::release_tour_command);
    let commands = [&*switch, &*memory, &*c10k, &*syscalls, &*page_syscalls, &*scaling, bench::COMMAND];
    assert_eq!(measured.commands(), commands, "run `{fix}`");
    let switch = &measured.switch.result;
    assert!(switch.thread_switch_ns > 0.0 && switch.task_switch_ns > 0.0, "{switch:?}: run `{fix}`");
    for kind in ["stage4-task", "stage5-task", "tokio-task", "smol-task", "os-thread"] {
        let row = measured.memory_row(kind).unwrap_or_else(|| panic!("no {kind} in lab.json: run `{fix}`"));
        assert!(row.count > 0 && row.bytes_each > 0.0, "{row:?}: run `{fix}`");
    }
    for stage in ["stage5-tasks", "stage1-threads"] {
        let row = measured.c10k_row(stage).unwrap_or_else(|| panic!("no {stage} in lab.json: run `{fix}`"));
        assert_eq!(row.connections, lab::C10K_CONNECTIONS, "{row:?}: run `{fix}`");
        assert!(row.wall_secs > 0.0 && row.threads > 0, "{row:?}: run `{fix}`");
    }
    let servers: Vec<&str> = measured.syscalls.result.iter().map(|row| row.server.as_str()).collect();
    assert_eq!(servers, tour::lab::syscalls::SERVERS, "run `{fix}`");
    for row in &measured.syscalls.result {
        assert_eq!(row.messages, lab::SYSCALLS_MESSAGES, "{row:?}: run `{fix}`");
        assert!(row.per_message > 0.0 && !row.calls.is_empty(), "{row:?}: run `{fix}`");
    }
    for id in bench::ids() {
        let ns = measured.bench_ns(&id).unwrap_or_else(|| panic!("no bench {id} in lab.json: run `{fix}`"));
        assert!(ns > 0.0, "{id}: {ns} ns: run `{fix}`");
    }
    assert_none(render::check(&root));
}

#[test]
fn every_command_in_the_book_and_the_readme_is_recorded_or_marked_and_its_flags_parse() {
    // Runs nothing: the recordings are made by `cargo run -p book-gen -- runs`, which fails on a
    // command that takes longer than `runs::LIMIT`. Here: every sh command is recorded or marked,
    // its recording is of the command as written, its page shows it, and a crawl's flags parse.
    let root = repo_root();
    let commands = runs::all_commands(&root);
    assert!(commands.iter().any(|c| c.page == "README.md"), "no sh commands found in README.md");
    assert!(commands.iter().any(|c| c.marked()) && commands.iter().any(|c| !c.marked()), "{commands:?}");
    assert_none(runs::check(&root));
}

#[test]
fn every_row_of_the_tour_has_a_timeline_and_every_picture_matches_its_trace() {
    assert_none(book_gen::timeline::check(&repo_root()));
}
