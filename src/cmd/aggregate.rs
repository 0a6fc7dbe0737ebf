//! `cohort aggregate` (placeholder until the aggregate issue lands).
use super::{CmdResult, Failure};

#[derive(clap::Args, Debug)]
pub struct AggregateArgs {}

pub fn run(_args: AggregateArgs) -> CmdResult {
    Err(Failure::new("aggregate: not built yet"))
}
