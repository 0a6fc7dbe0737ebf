//! `cohort build` (placeholder until the generator issue lands).
use super::{CmdResult, Failure};

#[derive(clap::Args, Debug)]
pub struct BuildArgs {}

pub fn run(_args: BuildArgs) -> CmdResult {
    Err(Failure::new("build: not built yet"))
}
