//! `cargo run -p site -- --port 8000`
//!
//! Serves the fixture site until killed, for people: point a browser or a crawler at the URL it
//! prints. The first line on stdout is exactly `listening on http://HOST:PORT/`, with the real
//! port (useful with `--port 0`), so scripts can wait for it and read the address from it.

use std::io::Write as _;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use site::SiteConfig;

/// The fixture web site: generated pages, redirects and faults, with latency, on loopback.
#[derive(Debug, Parser)]
#[command(name = "site", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value_t = SiteConfig::default().host)]
    host: IpAddr,
    /// Port to listen on; 0 picks any free port.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Number of generated pages (/page/0 ..).
    #[arg(long, default_value_t = SiteConfig::default().pages)]
    pages: usize,
    /// Links per generated page.
    #[arg(long, default_value_t = SiteConfig::default().links)]
    links: usize,
    /// Delay before every response, in milliseconds.
    #[arg(long, default_value_t = SiteConfig::default().latency.as_millis() as u64)]
    latency_ms: u64,
    /// Seed of the generated link graph.
    #[arg(long, default_value_t = SiteConfig::default().seed)]
    seed: u64,
    /// Serve /fault/ and the fault paths as plain 404s.
    #[arg(long)]
    no_faults: bool,
    /// The URL of another site for /foreign to link to and /redirect/foreign/N to redirect to;
    /// repeat it for more.
    #[arg(long, value_name = "URL")]
    foreign: Vec<String>,
}

fn main() -> ExitCode {
    // Bad flags: clap prints the error and exits with status 2.
    let args = Args::parse();
    let config = SiteConfig {
        host: args.host,
        port: args.port,
        pages: args.pages,
        links: args.links,
        latency: Duration::from_millis(args.latency_ms),
        seed: args.seed,
        faults: !args.no_faults,
        foreign: args.foreign,
    };
    let site = match site::spawn(config) {
        Ok(site) => site,
        // A foreign URL the site cannot put into a page: a usage error, like a bad flag.
        Err(err) if err.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("site: {err}");
            return ExitCode::from(2);
        }
        Err(err) => {
            eprintln!("site: cannot listen on {}:{}: {err}", args.host, args.port);
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", site.url());
    // stdout is block-buffered when it is a pipe; whoever waits for this line must get it now.
    let _ = std::io::stdout().flush();
    // The server runs on its own thread; this one only has to keep `site` alive. `park` may
    // return spuriously, hence the loop.
    loop {
        std::thread::park();
    }
}
