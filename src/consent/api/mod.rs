//! The consent API handler (SPEC section 7), with no I/O of its own.
//!
//! [`Api::handle`] takes an [`ApiRequest`] (method, target, the two headers that matter, the
//! body already read under the size bound) and a [`Store`], and returns an [`ApiResponse`].
//! The HTTP listener in [`super::server`] is one caller; `cohort serve` can mount the same
//! handler under its prefix. The request value carries no client address, user agent or
//! cookie: the handler cannot leak what it never sees.

use super::csp_report::{self, MAX_REPORT_BODY};
use super::days::Day;
use super::store::{PolicyCounts, Record, Store, ViolationCount, violations_kept_from};
use serde_json::{Map, Value, json};

mod body;

use body::is_json_type;

pub use body::{
    Consent, Invalid, MAX_POLICY_VERSION, POLICY_VERSION_RULE, is_policy_version, is_receipt, new_receipt,
    parse_consent,
};

/// Largest accepted request body, in bytes.
pub const MAX_BODY: usize = 4096;
/// The purposes a visitor can agree to, in SPEC order: Cohort's own personalization, then the
/// purposes of declared third parties (`necessary` needs no consent and is not recorded).
pub const PURPOSES: [&str; 4] = ["personalization", "functional", "analytics", "marketing"];
/// Purposes a body must carry; the others default to false (runtimes before third-party
/// gating sent only these two).
pub const REQUIRED_PURPOSES: [&str; 2] = ["personalization", "analytics"];
/// Retention when `--retention-days` is not given: 13 months (395 days), the longest the
/// CNIL recommends keeping proof of consent around a cookie choice.
pub const DEFAULT_RETENTION_DAYS: u32 = 395;
/// The k of `GET /v1/stats` when `--k` is not given.
pub const DEFAULT_K: u64 = 10;
/// How the handler is mounted and what it admits.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Path prefix of the API, such as `/v1` (no trailing slash).
    pub prefix: String,
    /// Origins allowed to make cross-origin requests, exactly as browsers send them.
    pub allow_origins: Vec<String>,
    /// Days a record is kept after the day it was recorded.
    pub retention_days: u32,
    /// Counts below this are reported as `null` by the stats endpoint, and a policy version
    /// with fewer live records than this is left out of it.
    pub k: u64,
    /// The policy versions the shop published; `POST /v1/consent` accepts only these. Empty:
    /// any version of the shape [`is_policy_version`] checks.
    pub policy_versions: Vec<String>,
}

/// A request as the handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    /// `GET`, `POST`, `DELETE`, `OPTIONS` ...
    pub method: &'a str,
    /// The request target: path plus optional `?query` (ignored).
    pub target: &'a str,
    /// The `Origin` header, for CORS.
    pub origin: Option<&'a str>,
    /// The `Content-Type` header (a POST body must be JSON).
    pub content_type: Option<&'a str>,
    /// The body, read under [`MAX_BODY`].
    pub body: Body<'a>,
}

/// The request body, read by the caller without ever holding more than [`MAX_BODY`] + 1 bytes.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// All of it (empty without a body).
    Complete(&'a [u8]),
    /// Longer than [`MAX_BODY`] (by Content-Length or by reading one byte too many).
    TooLarge,
}

/// A response: status, extra headers and a body (JSON or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers beside the ones every response gets.
    pub headers: Vec<(&'static str, String)>,
    /// JSON, or empty.
    pub body: Vec<u8>,
}

impl ApiResponse {
    fn json(status: u16, value: &Value) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("Content-Type", "application/json".to_string())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    fn empty(status: u16) -> ApiResponse {
        ApiResponse { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A JSON error `{"error": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> ApiResponse {
        ApiResponse::json(status, &json!({ "error": code, "message": message }))
    }

    /// 429 with `Retry-After` in whole seconds (at least 1).
    pub fn too_many_requests(retry_after_secs: u64) -> ApiResponse {
        let mut r = ApiResponse::error(
            429,
            "too_many_requests",
            "Too many requests from this address; try again after the Retry-After delay.",
        );
        r.headers.push(("Retry-After", retry_after_secs.max(1).to_string()));
        r
    }

    /// The value of a header this response carries.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Which endpoint a target names. Logs show only [`Route::template`], never the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `PREFIX/consent`: record a choice.
    Consent,
    /// `PREFIX/consent/RECEIPT`: read or delete one.
    ConsentItem(&'a str),
    /// `PREFIX/stats`: the k-anonymous counts.
    Stats,
    /// `PREFIX/csp-report`: CSP violation reports.
    CspReport,
    /// `/healthz`: whether the store can write.
    Healthz,
    /// Anything else.
    Unknown,
}

impl Route<'_> {
    /// The path template, safe to log.
    pub fn template(&self) -> &'static str {
        match self {
            Route::Consent => "/v1/consent",
            Route::ConsentItem(_) => "/v1/consent/:receipt",
            Route::Stats => "/v1/stats",
            Route::CspReport => "/v1/csp-report",
            Route::Healthz => "/healthz",
            Route::Unknown => "(unknown)",
        }
    }

    fn methods(&self) -> &'static str {
        match self {
            Route::Consent => "POST, OPTIONS",
            Route::ConsentItem(_) => "GET, DELETE, OPTIONS",
            Route::Stats => "GET, OPTIONS",
            Route::CspReport => "POST, OPTIONS",
            Route::Healthz => "GET, HEAD",
            Route::Unknown => "",
        }
    }
}

/// The handler: configuration plus the pure request → response function.
#[derive(Debug, Clone)]
pub struct Api {
    config: ApiConfig,
}

impl Api {
    /// A handler mounted as `config` says (a trailing slash of the prefix is dropped).
    pub fn new(mut config: ApiConfig) -> Api {
        while config.prefix.ends_with('/') {
            config.prefix.pop();
        }
        Api { config }
    }

    /// How it is mounted.
    pub fn config(&self) -> &ApiConfig {
        &self.config
    }

    /// Which endpoint `target` names.
    pub fn route<'a>(&self, target: &'a str) -> Route<'a> {
        let path = target.split(['?', '#']).next().unwrap_or("");
        if path == "/healthz" {
            return Route::Healthz;
        }
        let Some(rest) = path.strip_prefix(self.config.prefix.as_str()) else {
            return Route::Unknown;
        };
        match rest {
            "/consent" => Route::Consent,
            "/stats" => Route::Stats,
            "/csp-report" => Route::CspReport,
            _ => match rest.strip_prefix("/consent/") {
                Some(receipt) if !receipt.is_empty() && !receipt.contains('/') => Route::ConsentItem(receipt),
                _ => Route::Unknown,
            },
        }
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.config.allow_origins.iter().any(|o| o == origin)
    }

    /// Answers one request. `today` is the UTC day used for `recorded` and expiry.
    pub fn handle(&self, req: &ApiRequest<'_>, store: &dyn Store, today: Day) -> ApiResponse {
        let route = self.route(req.target);
        let allowed_origin = req.origin.filter(|o| self.origin_allowed(o));
        let mut response = self.dispatch(route, req, allowed_origin, store, today);
        if let Some(origin) = allowed_origin
            && response.header("Access-Control-Allow-Origin").is_none()
        {
            response.headers.push(("Access-Control-Allow-Origin", origin.to_string()));
        }
        if route != Route::Healthz {
            response.headers.push(("Vary", "Origin".to_string()));
            response.headers.push(("Cache-Control", "no-store".to_string()));
        }
        response.headers.push(("X-Content-Type-Options", "nosniff".to_string()));
        response
    }

    fn dispatch(
        &self,
        route: Route<'_>,
        req: &ApiRequest<'_>,
        allowed_origin: Option<&str>,
        store: &dyn Store,
        today: Day,
    ) -> ApiResponse {
        if route == Route::Unknown {
            return ApiResponse::error(404, "not_found", "No such endpoint.");
        }
        if req.method == "OPTIONS" && route != Route::Healthz {
            return match allowed_origin {
                Some(origin) => {
                    let mut r = ApiResponse::empty(204);
                    r.headers.push(("Access-Control-Allow-Origin", origin.to_string()));
                    r.headers.push(("Access-Control-Allow-Methods", route.methods().to_string()));
                    r.headers.push(("Access-Control-Allow-Headers", "Content-Type".to_string()));
                    r.headers.push(("Access-Control-Max-Age", "600".to_string()));
                    r.headers.push(("Allow", route.methods().to_string()));
                    r
                }
                None => ApiResponse::error(403, "origin_not_allowed", "This origin may not call the consent API."),
            };
        }
        let method_ok = match route {
            Route::Consent => req.method == "POST",
            Route::ConsentItem(_) => req.method == "GET" || req.method == "DELETE",
            Route::Stats => req.method == "GET",
            Route::CspReport => req.method == "POST",
            Route::Healthz => req.method == "GET" || req.method == "HEAD",
            Route::Unknown => false,
        };
        if !method_ok {
            let mut r =
                ApiResponse::error(405, "method_not_allowed", &format!("Allowed methods here: {}.", route.methods()));
            r.headers.push(("Allow", route.methods().to_string()));
            return r;
        }
        let state_changing = req.method == "POST" || req.method == "DELETE";
        if state_changing && req.origin.is_some() && allowed_origin.is_none() {
            return ApiResponse::error(403, "origin_not_allowed", "This origin may not call the consent API.");
        }
        match route {
            Route::Healthz => match store.writable() {
                Ok(()) => ApiResponse::json(200, &json!({ "status": "ok" })),
                Err(_) => {
                    let mut r = ApiResponse::error(503, "store_unavailable", "The consent store cannot write.");
                    r.headers.push(("Retry-After", "5".to_string()));
                    r
                }
            },
            Route::Stats => match (store.stats(today), store.violations(violations_kept_from(today))) {
                (Ok(counts), Ok(violations)) => ApiResponse::json(200, &self.stats_json(&counts, &violations)),
                _ => unavailable(),
            },
            Route::CspReport => self.csp_report(req, store, today),
            Route::Consent => self.create(req, store, today),
            Route::ConsentItem(receipt) => {
                if !is_receipt(receipt) {
                    return not_found();
                }
                if req.method == "GET" {
                    match store.get(receipt, today) {
                        Ok(Some(record)) => ApiResponse::json(200, &record_json(&record)),
                        Ok(None) => not_found(),
                        Err(_) => unavailable(),
                    }
                } else {
                    match store.delete(receipt) {
                        Ok(true) => ApiResponse::empty(204),
                        Ok(false) => not_found(),
                        Err(_) => unavailable(),
                    }
                }
            }
            Route::Unknown => not_found(),
        }
    }

    fn create(&self, req: &ApiRequest<'_>, store: &dyn Store, today: Day) -> ApiResponse {
        let body = match req.body {
            Body::TooLarge => {
                return ApiResponse::error(413, "body_too_large", &format!("The body is over {MAX_BODY} bytes."));
            }
            Body::Complete(body) if body.len() > MAX_BODY => {
                return ApiResponse::error(413, "body_too_large", &format!("The body is over {MAX_BODY} bytes."));
            }
            Body::Complete(body) => body,
        };
        if !is_json_type(req.content_type) {
            return ApiResponse::error(
                415,
                "unsupported_media_type",
                "Send the body as Content-Type: application/json.",
            );
        }
        let consent = match parse_consent(body) {
            Ok(c) => c,
            Err((code, message)) => return ApiResponse::error(400, code, &message),
        };
        let published = &self.config.policy_versions;
        if !published.is_empty() && !published.contains(&consent.policy_version) {
            let message = format!(
                "The field `policy_version` is not a version this shop published; accepted: {}.",
                published.join(", ")
            );
            return ApiResponse::error(400, "invalid_field", &message);
        }
        let Some(receipt) = new_receipt() else {
            return unavailable();
        };
        let record = Record {
            receipt,
            policy_version: consent.policy_version,
            personalization: consent.personalization,
            functional: consent.functional,
            analytics: consent.analytics,
            marketing: consent.marketing,
            ui: consent.ui,
            recorded: today,
            expires: today.plus(self.config.retention_days),
        };
        let answer = record_json(&record);
        match store.insert(record) {
            Ok(()) => ApiResponse::json(201, &answer),
            Err(_) => unavailable(),
        }
    }

    fn csp_report(&self, req: &ApiRequest<'_>, store: &dyn Store, today: Day) -> ApiResponse {
        let body = match req.body {
            Body::Complete(body) if body.len() <= MAX_REPORT_BODY => body,
            _ => {
                return ApiResponse::error(
                    413,
                    "body_too_large",
                    &format!("The report is over {MAX_REPORT_BODY} bytes."),
                );
            }
        };
        if !csp_report::is_report_type(req.content_type) {
            return ApiResponse::error(
                415,
                "unsupported_media_type",
                "Send reports as application/csp-report (report-uri) or application/reports+json (report-to).",
            );
        }
        let violations = match csp_report::parse_reports(body) {
            Ok(v) => v,
            Err((code, message)) => return ApiResponse::error(400, code, &message),
        };
        match store.add_violations(today, &violations) {
            Ok(()) => ApiResponse::empty(204),
            Err(_) => unavailable(),
        }
    }

    fn stats_json(&self, counts: &[PolicyCounts], violations: &[ViolationCount]) -> Value {
        let k = self.config.k;
        let shown = |n: u64| if n >= k { json!(n) } else { Value::Null };
        // A version below k is left out: it may be a string one client sent.
        let versions: Vec<Value> = counts
            .iter()
            .filter(|c| c.records >= k)
            .map(|c| {
                json!({
                    "policy_version": c.policy_version,
                    "records": shown(c.records),
                    "purposes": {
                        "personalization": shown(c.personalization),
                        "functional": shown(c.functional),
                        "analytics": shown(c.analytics),
                        "marketing": shown(c.marketing),
                    }
                })
            })
            .collect();
        json!({ "k": k, "policy_versions": versions, "csp_violations": violations_json(violations, k) })
    }
}

/// Violation counts per day and directive, newest day first: the total (`null` below k) and
/// the blocked origins whose own count reaches k (an origin below k is left out: it may be a
/// string one client sent).
pub fn violations_json(violations: &[ViolationCount], k: u64) -> Value {
    let mut groups: Vec<(Day, &str, u64, Map<String, Value>)> = Vec::new();
    for v in violations {
        let same = groups.last().is_some_and(|g| g.0 == v.day && g.1 == v.directive);
        if !same {
            groups.push((v.day, v.directive.as_str(), 0, Map::new()));
        }
        if let Some(group) = groups.last_mut() {
            group.2 += v.count;
            if v.count >= k {
                group.3.insert(v.blocked.clone(), json!(v.count));
            }
        }
    }
    groups.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    Value::Array(
        groups
            .into_iter()
            .map(|(day, directive, total, blocked)| {
                json!({
                    "day": day.to_string(),
                    "directive": directive,
                    "count": if total >= k { json!(total) } else { Value::Null },
                    "blocked": blocked,
                })
            })
            .collect(),
    )
}

fn not_found() -> ApiResponse {
    ApiResponse::error(404, "not_found", "No such receipt.")
}

fn unavailable() -> ApiResponse {
    let mut r = ApiResponse::error(
        503,
        "store_unavailable",
        "The consent store is unavailable; nothing was recorded. Try again later.",
    );
    r.headers.push(("Retry-After", "5".to_string()));
    r
}

/// The JSON form of a record, as answered by POST and GET.
pub fn record_json(r: &Record) -> Value {
    json!({
        "receipt": r.receipt,
        "policy_version": r.policy_version,
        "purposes": {
            "personalization": r.personalization,
            "functional": r.functional,
            "analytics": r.analytics,
            "marketing": r.marketing,
        },
        "ui": r.ui,
        "recorded": r.recorded.to_string(),
        "expires": r.expires.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::store::{PolicyCounts, StoreError};
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MemStore(Mutex<HashMap<String, Record>>);

    impl Store for MemStore {
        fn insert(&self, r: Record) -> Result<(), StoreError> {
            self.0.lock().unwrap().insert(r.receipt.clone(), r);
            Ok(())
        }
        fn get(&self, receipt: &str, today: Day) -> Result<Option<Record>, StoreError> {
            Ok(self.0.lock().unwrap().get(receipt).filter(|r| r.expires >= today).cloned())
        }
        fn delete(&self, receipt: &str) -> Result<bool, StoreError> {
            Ok(self.0.lock().unwrap().remove(receipt).is_some())
        }
        fn stats(&self, _today: Day) -> Result<Vec<PolicyCounts>, StoreError> {
            let map = self.0.lock().unwrap();
            let n = map.len() as u64;
            let p = map.values().filter(|r| r.personalization).count() as u64;
            Ok(vec![PolicyCounts {
                policy_version: "v1".into(),
                records: n,
                personalization: p,
                functional: 0,
                analytics: 0,
                marketing: 0,
            }])
        }
        fn writable(&self) -> Result<(), StoreError> {
            Ok(())
        }
        fn add_violations(&self, _day: Day, _v: &[csp_report::Violation]) -> Result<(), StoreError> {
            Ok(())
        }
        fn violations(&self, _since: Day) -> Result<Vec<ViolationCount>, StoreError> {
            Ok(Vec::new())
        }
        fn purge_expired(&self, today: Day) -> Result<usize, StoreError> {
            let mut map = self.0.lock().unwrap();
            let before = map.len();
            map.retain(|_, r| r.expires >= today);
            Ok(before - map.len())
        }
        fn close(&self) {}
    }

    fn api() -> Api {
        Api::new(ApiConfig {
            prefix: "/v1/".into(),
            allow_origins: vec!["https://shop.example".into()],
            retention_days: 10,
            k: 2,
            policy_versions: Vec::new(),
        })
    }

    fn req<'a>(method: &'a str, target: &'a str, body: &'a [u8]) -> ApiRequest<'a> {
        ApiRequest {
            method,
            target,
            origin: None,
            content_type: Some("application/json; charset=utf-8"),
            body: Body::Complete(body),
        }
    }

    const UI: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn four_purposes_round_trip_and_the_two_new_ones_default_to_false() {
        let api = api();
        let store = MemStore::default();
        let today = Day(20_786);
        let body = format!(
            r#"{{"policy_version":"v1","purposes":{{"personalization":false,"functional":true,"analytics":false,"marketing":true}},"ui":"{UI}"}}"#
        );
        let r = api.handle(&req("POST", "/v1/consent", body.as_bytes()), &store, today);
        assert_eq!(r.status, 201);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["purposes"]["functional"], true);
        assert_eq!(v["purposes"]["marketing"], true);
        assert_eq!(v["purposes"]["personalization"], false);
        let old =
            format!(r#"{{"policy_version":"v1","purposes":{{"personalization":true,"analytics":true}},"ui":"{UI}"}}"#);
        let r = api.handle(&req("POST", "/v1/consent", old.as_bytes()), &store, today);
        assert_eq!(r.status, 201);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["purposes"]["functional"], false);
        assert_eq!(v["purposes"]["marketing"], false);
        let missing = format!(r#"{{"policy_version":"v1","purposes":{{"functional":true}},"ui":"{UI}"}}"#);
        let r = api.handle(&req("POST", "/v1/consent", missing.as_bytes()), &store, today);
        assert_eq!(r.status, 400);
    }

    #[test]
    fn create_get_delete_and_stats() {
        let api = api();
        let store = MemStore::default();
        let today = Day(20_786);
        let body =
            format!(r#"{{"policy_version":"v1","purposes":{{"personalization":true,"analytics":false}},"ui":"{UI}"}}"#);
        let r = api.handle(&req("POST", "/v1/consent", body.as_bytes()), &store, today);
        assert_eq!(r.status, 201);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        let receipt = v["receipt"].as_str().unwrap().to_string();
        assert!(is_receipt(&receipt));
        assert_eq!(v["expires"], "2026-12-09");
        let path = format!("/v1/consent/{receipt}");
        let got = api.handle(&req("GET", &path, b""), &store, today);
        assert_eq!(got.status, 200);
        assert_eq!(serde_json::from_slice::<Value>(&got.body).unwrap(), v);
        assert_eq!(api.handle(&req("GET", &path, b""), &store, today.plus(11)).status, 404);
        let stats = api.handle(&req("GET", "/v1/stats?x", b""), &store, today);
        let s: Value = serde_json::from_slice(&stats.body).unwrap();
        assert_eq!(s["policy_versions"], json!([]), "1 < k = 2: the version is not listed");
        assert_eq!(api.handle(&req("DELETE", &path, b""), &store, today).status, 204);
        assert_eq!(api.handle(&req("DELETE", &path, b""), &store, today).status, 404);
    }
}
