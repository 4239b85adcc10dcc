//! The stage's command-line crawler. Every stage's `main.rs` is this file with its own crate name;
//! the flags are `crawl`'s, so every stage is driven the same way.
//!
//! ```text
//! cargo run -p site -- --port 8000 &
//! cargo run -p stage6-tokio -- http://127.0.0.1:8000/ --max-tasks 10
//! ```

fn main() -> std::process::ExitCode {
    stage6_tokio::main(std::env::args_os())
}
