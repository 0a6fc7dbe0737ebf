//! The `cohort` command: parses the command line and hands each subcommand to its
//! function in `cohort::cmd`. Usage errors exit 2 (clap), shop problems exit 1.

use clap::{Parser, Subcommand};
use cohort::cmd;
use std::process::ExitCode;

// A build of 100,000 products makes and frees some 140 million small values (template
// values, strings, HTML) from two or more threads at once; glibc's allocator spent a fifth
// of the build's CPU time in malloc and free (perf, bench/scale.sh), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "cohort", version, about = "A static shop generator that personalizes without tracking anyone")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new shop from the built-in default theme
    Init(cmd::init::InitArgs),
    /// Build the shop into a static site
    Build(cmd::build::BuildArgs),
    /// Build, serve locally, rebuild on change and reload the browser
    Serve(cmd::serve::ServeArgs),
    /// Audit content, ethics and privacy on the sources and a fresh build (nothing is written)
    Check(cmd::check::CheckArgs),
    /// Run the consent endpoint (receipts with no identifier in them)
    ConsentServer(cmd::consent::ConsentArgs),
    /// Write the consent endpoint as a Cloudflare Worker over D1 (worker.js, wrangler.toml, migration)
    ConsentWorker(cmd::consent_worker::ConsentWorkerArgs),
    /// Print the routing and header configuration for a host
    Hosting(cmd::hosting::HostingArgs),
    /// Turn an order export into anonymized counts for recommendations
    Aggregate(cmd::aggregate::AggregateArgs),
    /// Product files from another platform's export: `cohort import shopify FILE.csv`
    Import(cmd::import::ImportArgs),
    /// Plugin mode: add cohorts, runtime, consent pages, CSP and routing to a site another generator built
    Personalize(cmd::personalize::PersonalizeArgs),
}

fn main() -> ExitCode {
    // The consent server keeps SIGPIPE ignored: signal-hook's wake-up pipe relies on it, and
    // its log writes already ignore a closed stdout or stderr (a server keeps serving).
    if std::env::args_os().nth(1).is_none_or(|command| command != "consent-server") {
        quiet_on_closed_pipe();
    }
    no_transparent_huge_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(args),
        Command::Build(args) => cmd::build::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::ConsentServer(args) => cmd::consent::run(args),
        Command::ConsentWorker(args) => cmd::consent_worker::run(args),
        Command::Aggregate(args) => cmd::aggregate::run(args),
        Command::Hosting(args) => cmd::hosting::run(args),
        Command::Personalize(args) => cmd::personalize::run(args),
        Command::Import(args) => cmd::import::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("{}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

/// A closed stdout or stderr (`cohort build 2>&1 | head -1`) ends the process quietly, as it
/// ends `ls | head`: the default action of SIGPIPE, which Rust programs otherwise ignore (and
/// then panic in `println!`). Sockets are unaffected: the standard library writes to them with
/// `MSG_NOSIGNAL`, so a client that hangs up never stops a server.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread starts; it only restores the
    // default disposition of one signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Transparent huge pages off for this process. Where the system has them `always` (many
/// distributions), every fresh 2 MiB of mimalloc's heap was zeroed at its first touch: a
/// quarter of the CPU samples of a 100,000-product rebuild (`clear_page_erms` under
/// `do_huge_pmd_anonymous_page` in `perf`), and 9.8 s against 7.4 s of wall time.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE changes a flag of this process only; it takes no pointer.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
