//! `cohort consent-worker`: the consent API as a Cloudflare Worker over D1, for shops on a
//! static host with no server of their own. The Worker (`worker.js`) implements the API of
//! [`super::api`] (routes, validation, limits, status codes, CORS, k on stats, expiry and
//! `POST /v1/csp-report`); this module writes it with its `wrangler.toml` and the D1 schema
//! migration into a folder, ready for `wrangler d1 migrations apply` and `wrangler deploy`.

use std::path::Path;

/// The Worker's code (one ES module, no dependencies).
pub const WORKER_JS: &str = include_str!("worker/worker.js");
/// The D1 schema: the tables and columns of the SQLite store, plus the global rate counter.
pub const MIGRATION_SQL: &str = include_str!("worker/0001_consent.sql");
/// A `database_id` to replace with the one `wrangler d1 create` prints (local runs accept it).
pub const PLACEHOLDER_DATABASE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// What the Worker is configured with (the `[vars]` and names of its `wrangler.toml`).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The Worker's name on Cloudflare.
    pub name: String,
    /// The D1 database's name and id.
    pub database_name: String,
    /// The D1 database id (see [`PLACEHOLDER_DATABASE_ID`]).
    pub database_id: String,
    /// Origins allowed to call the API from a browser.
    pub allow_origins: Vec<String>,
    /// Days a receipt is kept after the day it was recorded.
    pub retention_days: u32,
    /// The k of `/v1/stats`.
    pub k: u64,
    /// The published policy versions (empty: any of the strict shape).
    pub policy_versions: Vec<String>,
    /// Writes per minute, all clients together; 0 turns the limit off.
    pub rate_limit: u32,
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `wrangler.toml` for `config`.
pub fn wrangler_toml(config: &WorkerConfig) -> String {
    format!(
        "# Written by `cohort consent-worker`: the Cohort consent API on Cloudflare Workers + D1.\n\
         # Deploy: see docs/consent-server.md (wrangler d1 create, migrations apply --remote, deploy).\n\
         name = {name}\n\
         main = \"worker.js\"\n\
         compatibility_date = \"2025-04-01\"\n\
         # Logs stay off: the Worker logs nothing about visitors, and Cloudflare's request logs\n\
         # would hold addresses.\n\
         [observability]\n\
         enabled = false\n\n\
         [vars]\n\
         ALLOW_ORIGINS = {origins}\n\
         K = \"{k}\"\n\
         RETENTION_DAYS = \"{retention}\"\n\
         POLICY_VERSIONS = {versions}\n\
         RATE_LIMIT = \"{rate}\"\n\
         PREFIX = \"/v1\"\n\n\
         [[d1_databases]]\n\
         binding = \"DB\"\n\
         database_name = {db_name}\n\
         # Replace with the id `wrangler d1 create {db_bare}` prints.\n\
         database_id = {db_id}\n\
         migrations_dir = \"migrations\"\n\n\
         # Daily deletion of expired receipts and of violation counts older than 30 days.\n\
         [triggers]\n\
         crons = [\"17 3 * * *\"]\n",
        name = toml_string(&config.name),
        origins = toml_string(&config.allow_origins.join(",")),
        k = config.k,
        retention = config.retention_days,
        versions = toml_string(&config.policy_versions.join(",")),
        rate = config.rate_limit,
        db_name = toml_string(&config.database_name),
        db_bare = config.database_name,
        db_id = toml_string(&config.database_id),
    )
}

/// Writes `worker.js`, `wrangler.toml` and `migrations/0001_consent.sql` into `out`.
pub fn write(out: &Path, config: &WorkerConfig) -> Result<Vec<String>, String> {
    let files = [
        ("worker.js", WORKER_JS.to_string()),
        ("wrangler.toml", wrangler_toml(config)),
        ("migrations/0001_consent.sql", MIGRATION_SQL.to_string()),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = out.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(name.to_string());
    }
    Ok(written)
}
