//! `cohort consent-server`: the consent endpoint of SPEC section 7 (see `cohort::consent`).
//! Turns the command line into a [`ServerConfig`], prints the bound address as the first
//! line on stdout (so `--bind 127.0.0.1:0` is usable by scripts and tests), then serves
//! until SIGTERM or SIGINT.

use super::{CmdResult, Failure};
use crate::consent::api::{ApiConfig, DEFAULT_K, DEFAULT_RETENTION_DAYS, POLICY_VERSION_RULE, is_policy_version};
use crate::consent::server::{self, ServerConfig, ServerError, StoreLocation};
use crate::net::http::Timeouts;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The arguments of `cohort consent-server`.
#[derive(clap::Args, Debug)]
pub struct ConsentArgs {
    /// SQLite database file (created if missing), or a PostgreSQL URL `postgres://...`
    /// (several servers may share one database)
    #[arg(long, value_name = "FILE|URL")]
    pub db: PathBuf,
    /// Address to listen on; port 0 picks a free port (the bound address is printed)
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub bind: String,
    /// Origin allowed to call the API from a browser, e.g. `https://shop.example.com` (repeatable)
    #[arg(long = "allow-origin", value_name = "ORIGIN", required = true, num_args = 1..)]
    pub allow_origin: Vec<String>,
    /// Days a receipt is kept after the day it was recorded
    #[arg(long, default_value_t = DEFAULT_RETENTION_DAYS, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub retention_days: u32,
    /// Counts below k are reported as null by GET /v1/stats (and a policy version with fewer
    /// than k records is not listed)
    #[arg(long, default_value_t = DEFAULT_K)]
    pub k: u64,
    /// A policy version the shop published, e.g. 2026-11-01 (repeatable); POST /v1/consent
    /// accepts only these. Without it: any date or short lowercase slug
    #[arg(long = "policy-version", value_name = "VERSION")]
    pub policy_version: Vec<String>,
    /// Requests per minute per client address; 0 turns the limit off
    #[arg(long, value_name = "PER_MINUTE", default_value_t = 60)]
    pub rate_limit: u32,
    /// Length of the rate-limit window in seconds (for tests; the limit counts per window)
    #[arg(long, default_value_t = 60, hide = true, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub rate_window_secs: u64,
    /// Seconds a client may take to send one request (head and body)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub read_timeout: u64,
    /// Most connections open at once (default: 64 per core, at least 128); when all are
    /// taken, the one that waited longest for its client is closed to make room
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_connections: Option<u64>,
    /// Seconds between deletions of expired receipts while running
    #[arg(long, default_value_t = 3600, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub purge_every_secs: u64,
}

/// Refuses an origin that is not `scheme://host[:port]` as a browser sends it.
fn check_origin(origin: &str) -> Result<(), Failure> {
    let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
        && origin.split_once("://").is_some_and(|(_, host)| {
            !host.is_empty() && !host.contains('/') && host.bytes().all(|b| b.is_ascii_graphic())
        });
    if ok && origin != "*" {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "--allow-origin {origin:?}: give an origin as a browser sends it, scheme://host[:port] \
             with no path or trailing slash, e.g. https://shop.example.com (no wildcard)"
        )))
    }
}

/// Refuses the `--allow-origin` and `--policy-version` values the consent API cannot use;
/// `cohort consent-server` and `cohort consent-worker` take the same ones.
pub(crate) fn check_api_args(allow_origins: &[String], policy_versions: &[String]) -> Result<(), Failure> {
    for origin in allow_origins {
        check_origin(origin)?;
    }
    for version in policy_versions {
        if !is_policy_version(version) {
            return Err(Failure::usage(format!(
                "--policy-version {version:?}: a policy version is {POLICY_VERSION_RULE}, \
                 the same as `policy_version` in shop.toml"
            )));
        }
    }
    Ok(())
}

/// Runs `cohort consent-server` until SIGTERM or SIGINT.
pub fn run(args: ConsentArgs) -> CmdResult {
    check_api_args(&args.allow_origin, &args.policy_version)?;
    let config = ServerConfig {
        db: StoreLocation::from_arg(args.db.as_os_str()),
        bind: args.bind,
        api: ApiConfig {
            prefix: "/v1".to_string(),
            allow_origins: args.allow_origin,
            retention_days: args.retention_days,
            k: args.k,
            policy_versions: args.policy_version,
        },
        rate_limit: args.rate_limit,
        rate_window: Duration::from_secs(args.rate_window_secs),
        timeouts: Timeouts {
            idle: Duration::from_secs(args.read_timeout.saturating_mul(3)),
            request: Duration::from_secs(args.read_timeout),
            write: Duration::from_secs(args.read_timeout),
        },
        max_connections: args
            .max_connections
            .map_or_else(ServerConfig::default_max_connections, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        purge_every: Duration::from_secs(args.purge_every_secs),
    };
    server::run(config, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    })
    .map_err(|e| match e {
        ServerError::Usage(message) => Failure::usage(message),
        ServerError::Runtime(message) => Failure::new(message),
    })
}
