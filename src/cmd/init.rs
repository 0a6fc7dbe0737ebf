//! `cohort init` (placeholder until the generator issue lands).
use super::{CmdResult, Failure};

#[derive(clap::Args, Debug)]
pub struct InitArgs {}

pub fn run(_args: InitArgs) -> CmdResult {
    Err(Failure::new("init: not built yet"))
}
