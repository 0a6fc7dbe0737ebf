//! The consent API in serve mode, so the whole consent flow works locally: the I/O-free
//! handler of [`crate::consent::api`] mounted under the shop's `consent_endpoint` path
//! (`/v1` unless shop.toml names another path), with a SQLite store in a temporary folder
//! that lasts as long as the server. Only the server's own origin may call it. No rate
//! limit: this is a development server on the loopback address.

use super::http::{ConsentHandler, Reply, Req};
use crate::consent::api::{Api, ApiConfig, ApiRequest, Body, DEFAULT_K, DEFAULT_RETENTION_DAYS};
use crate::consent::days::Day;
use crate::consent::store::SqliteStore;
use std::path::Path;

/// The mount path: the configured endpoint when it is a path on this site, else `/v1`.
pub fn prefix(endpoint: &str) -> String {
    let p = endpoint.trim_end_matches('/');
    if p.starts_with('/') && p.len() > 1 { p.to_string() } else { "/v1".to_string() }
}

/// Builds the handler for requests under the prefix and `/healthz`. `origins` are the
/// server's own origins (`http://127.0.0.1:PORT` and `http://localhost:PORT`).
pub fn mount(endpoint: &str, origins: Vec<String>) -> Result<Box<ConsentHandler>, String> {
    let temp = tempfile::Builder::new()
        .prefix("cohort-serve-consent-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder for the consent store: {e}"))?;
    let store = open_store(temp.path())?;
    let prefix = prefix(endpoint);
    let api = Api::new(ApiConfig {
        prefix: prefix.clone(),
        allow_origins: origins,
        retention_days: DEFAULT_RETENTION_DAYS,
        k: DEFAULT_K,
        // Any version of the strict shape: shop.toml's may change while serving.
        policy_versions: Vec::new(),
    });
    let handler = move |req: &Req| -> Option<Reply> {
        let _keep = &temp;
        let path = req.target.split('?').next().unwrap_or_default();
        let ours = path == "/healthz" || path == prefix || path.starts_with(&format!("{prefix}/"));
        if !ours {
            return None;
        }
        let body = match &req.body {
            Some(bytes) => Body::Complete(bytes),
            None => Body::TooLarge,
        };
        let request = ApiRequest {
            method: &req.method,
            target: &req.target,
            origin: req.origin.as_deref(),
            content_type: req.content_type.as_deref(),
            body,
        };
        let response = api.handle(&request, &store, Day::today());
        Some(Reply {
            status: response.status,
            headers: response.headers.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
            body: response.body,
        })
    };
    Ok(Box::new(handler))
}

fn open_store(dir: &Path) -> Result<SqliteStore, String> {
    SqliteStore::open(&dir.join("consent.db"), Day::today())
        .map_err(|e| format!("cannot open the consent store: {}", e.0))
}
