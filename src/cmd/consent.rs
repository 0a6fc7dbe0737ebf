//! `cohort consent-server` (placeholder until the consent issue lands).
use super::{CmdResult, Failure};

#[derive(clap::Args, Debug)]
pub struct ConsentArgs {}

pub fn run(_args: ConsentArgs) -> CmdResult {
    Err(Failure::new("consent-server: not built yet"))
}
