//! `cohort serve`: build, serve on the loopback address, watch, rebuild, live reload.

use super::{CmdResult, Failure};
use crate::serve::{ServeError, ServeOptions, run as serve};
use std::path::PathBuf;
use std::time::Duration;

/// The arguments of `cohort serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The shop folder (with shop.toml)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Port to listen on (0 picks a free one; the first line printed says which)
    #[arg(short = 'p', long, default_value_t = 1111)]
    pub port: u16,
    /// Open the site in a browser (xdg-open)
    #[arg(long)]
    pub open: bool,
    /// Seconds a client may take to send one request (for tests)
    #[arg(long, default_value_t = 10, hide = true, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub read_timeout: u64,
}

/// Runs `cohort serve` until it is stopped.
pub fn run(args: ServeArgs) -> CmdResult {
    let options = ServeOptions {
        root: args.root,
        bind: args.bind,
        port: args.port,
        open: args.open,
        read_timeout: Duration::from_secs(args.read_timeout),
    };
    serve(&options).map_err(|e| match e {
        ServeError::Usage(message) => Failure::usage(message),
        ServeError::Runtime(message) => Failure::new(message),
    })
}
