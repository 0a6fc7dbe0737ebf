//! `cohort check`: content, ethics and privacy checks on the sources and a fresh build in a
//! temporary folder. Prints one finding per line (or JSON); exit 1 when any error remains.

use super::{CmdResult, Failure};
use std::path::PathBuf;

/// How `cohort check` prints its findings: one per line, or one JSON document.
// clap would print variant doc comments in `--help`; `help = None` on each variant keeps
// them for rustdoc only.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum Format {
    /// `text` (the default): one finding per line, as [`crate::check::Report::text`] prints it.
    #[default]
    #[value(help = None::<&str>)]
    Text,
    /// `json`: the whole report as one JSON document ([`crate::check::Report::json`]).
    #[value(help = None::<&str>)]
    Json,
}

/// The arguments of `cohort check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The shop folder (with shop.toml)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `cohort check`.
pub fn run(args: CheckArgs) -> CmdResult {
    let report = crate::check::run(&args.root);
    match args.format {
        Format::Text => print!("{}", report.text()),
        Format::Json => print!("{}", report.json()),
    }
    if report.errors() > 0 { Err(Failure::new("")) } else { Ok(()) }
}
