//! `cohort consent-worker --out DIR`: writes the consent API as a Cloudflare Worker over D1
//! (see [`crate::consent::worker`]), configured like `cohort consent-server`.

use super::consent::check_api_args;
use super::{CmdResult, Failure};
use crate::consent::api::{DEFAULT_K, DEFAULT_RETENTION_DAYS};
use crate::consent::worker::{self, PLACEHOLDER_DATABASE_ID, WorkerConfig};
use std::path::PathBuf;

/// The arguments of `cohort consent-worker`.
#[derive(clap::Args, Debug)]
pub struct ConsentWorkerArgs {
    /// Folder to write worker.js, wrangler.toml and migrations/ into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Origin allowed to call the API from a browser, e.g. `https://shop.example.com` (repeatable)
    #[arg(long = "allow-origin", value_name = "ORIGIN", required = true, num_args = 1..)]
    pub allow_origin: Vec<String>,
    /// Days a receipt is kept after the day it was recorded
    #[arg(long, default_value_t = DEFAULT_RETENTION_DAYS, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub retention_days: u32,
    /// Counts below k are reported as null by GET /v1/stats
    #[arg(long, default_value_t = DEFAULT_K)]
    pub k: u64,
    /// A policy version the shop published (repeatable); without it, any date or short slug
    #[arg(long = "policy-version", value_name = "VERSION")]
    pub policy_version: Vec<String>,
    /// Writes (POST, DELETE) per minute for all clients together; 0 turns the limit off
    #[arg(long, value_name = "PER_MINUTE", default_value_t = 6000)]
    pub rate_limit: u32,
    /// The Worker's name on Cloudflare
    #[arg(long, default_value = "cohort-consent")]
    pub name: String,
    /// The D1 database id printed by `wrangler d1 create` (a placeholder is written without it)
    #[arg(long, value_name = "ID")]
    pub database_id: Option<String>,
}

/// Writes the Worker's files and prints what to do next.
pub fn run(args: ConsentWorkerArgs) -> CmdResult {
    check_api_args(&args.allow_origin, &args.policy_version)?;
    let name_ok = |s: &str| {
        !s.is_empty() && s.len() <= 63 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !name_ok(&args.name) {
        return Err(Failure::usage(format!(
            "--name {:?}: a Worker name is 1 to 63 lowercase letters, digits and hyphens",
            args.name
        )));
    }
    let config = WorkerConfig {
        database_name: args.name.clone(),
        name: args.name,
        database_id: args.database_id.unwrap_or_else(|| PLACEHOLDER_DATABASE_ID.to_string()),
        allow_origins: args.allow_origin,
        retention_days: args.retention_days,
        k: args.k,
        policy_versions: args.policy_version,
        rate_limit: args.rate_limit,
    };
    let written = worker::write(&args.out, &config).map_err(|e| Failure::new(format!("error: {e}")))?;
    for name in written {
        println!("wrote {}", args.out.join(name).display());
    }
    println!("next: see the deploy steps in docs/consent-server.md (wrangler d1 create, migrations apply, deploy)");
    Ok(())
}
