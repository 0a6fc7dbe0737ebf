//! `cohort serve`: build, serve on the loopback address, watch, rebuild, live reload.

use super::{CmdResult, Failure};
use crate::serve::{ServeOptions, run as serve};
use std::path::PathBuf;

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
}

pub fn run(args: ServeArgs) -> CmdResult {
    let options = ServeOptions { root: args.root, bind: args.bind, port: args.port, open: args.open };
    serve(&options).map_err(Failure::new)
}
