//! One conformance suite for every implementation of the consent API (SPEC section 7): the
//! Rust server on SQLite, the Rust server on PostgreSQL (a private cluster) and the
//! Cloudflare Worker over D1 under `wrangler dev`. Each test starts its implementation with
//! `--allow-origin ORIGIN --k 2` and no rate limit, runs [`conformance`] against its address
//! over raw HTTP/1.1, then scans the store and the logs for the client's address, user agent
//! and cookie (SPEC section 9, invariant 5). Nothing is skipped: a missing PostgreSQL or
//! wrangler fails its test.

mod consent_support;

use consent_support::pg::PgCluster;
use consent_support::worker::WorkerDev;
use consent_support::*;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

const XFF: &str = "203.0.113.77";
const AGENT: &str = "ZebraUmbrellaBrowser/9.9.1";
const COOKIE_VALUE: &str = "sid-f00dfacecafe4242";

/// Headers of a browser on the shop, with identifiers none of them may keep.
fn browser(content_type: &'static str) -> Vec<(&'static str, String)> {
    vec![
        ("Origin", ORIGIN.to_string()),
        ("Content-Type", content_type.to_string()),
        ("X-Forwarded-For", XFF.to_string()),
        ("CF-Connecting-IP", XFF.to_string()),
        ("User-Agent", AGENT.to_string()),
        ("Cookie", format!("session={COOKIE_VALUE}")),
    ]
}

fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, String)], body: Option<&[u8]>) -> Resp {
    let h: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    http(addr, method, path, &h, body)
}

fn code(r: &Resp) -> (u16, String) {
    (r.status, if r.body.is_empty() { String::new() } else { r.error_code() })
}

/// Polls `/v1/stats` until `done` holds (stores may cache for a second).
fn stats_until(addr: SocketAddr, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = http(addr, "GET", "/v1/stats", &[], None);
        assert_eq!(r.status, 200, "{r:?}");
        let v = r.json();
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: stats never matched: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The API contract every implementation must meet; returns the receipts it created.
fn conformance(a: SocketAddr) -> Vec<String> {
    let json_h = browser("application/json");
    assert_eq!(http(a, "GET", "/healthz", &[], None).status, 200);

    // POST, GET, DELETE.
    let mut receipts = Vec::new();
    for (policy, p, an) in
        [("conf-a", true, false), ("conf-a", true, true), ("conf-a", false, false), ("conf-b", true, true)]
    {
        let r = send(a, "POST", "/v1/consent", &json_h, Some(consent_body(policy, p, an).as_bytes()));
        assert_eq!(r.status, 201, "{r:?}");
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some(ORIGIN));
        assert_eq!(r.header("Cache-Control"), Some("no-store"));
        let v = r.json();
        let receipt = v["receipt"].as_str().unwrap_or("").to_string();
        assert!(receipt.len() == 32 && receipt.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{v}");
        assert_eq!(
            v["purposes"],
            json!({"personalization": p, "functional": false, "analytics": an, "marketing": false})
        );
        assert_eq!(v["policy_version"], policy);
        assert_eq!(v["ui"], UI);
        let recorded = cohort::consent::days::Day::parse(v["recorded"].as_str().unwrap_or("")).expect("recorded");
        assert_eq!(v["expires"], recorded.plus(395).to_string());
        assert_eq!(v.as_object().map(|o| o.len()), Some(6), "exactly the SPEC fields: {v}");
        let got = http(a, "GET", &format!("/v1/consent/{receipt}"), &[], None);
        assert_eq!(got.status, 200);
        assert_eq!(got.json(), v);
        receipts.push(receipt);
    }
    let four = json!({"policy_version": "conf-c", "purposes": {"personalization": false, "functional": true, "analytics": false, "marketing": true}, "ui": UI});
    let r = send(a, "POST", "/v1/consent", &json_h, Some(four.to_string().as_bytes()));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["purposes"]["marketing"], true);
    let gone = r.json()["receipt"].as_str().unwrap_or("").to_string();
    let path = format!("/v1/consent/{gone}");
    let del = send(a, "DELETE", &path, &json_h, None);
    assert_eq!((del.status, del.body.len()), (204, 0));
    assert_eq!(code(&http(a, "GET", &path, &[], None)), (404, "not_found".into()));
    assert_eq!(code(&send(a, "DELETE", &path, &json_h, None)), (404, "not_found".into()));

    // Every error status of the contract, with its code.
    let post = |ct: &'static str, body: &[u8]| send(a, "POST", "/v1/consent", &browser(ct), Some(body));
    let base = consent_body("v1", true, false);
    for (body, want) in [
        ("{\"policy_version\": ".to_string(), "malformed_json"),
        ("[]".to_string(), "invalid_body"),
        (base.replace("\"ui\"", "\"extra\":1,\"ui\""), "unknown_field"),
        (base.replace("\"analytics\"", "\"tracking\""), "unknown_purpose"),
        (base.replace("\"personalization\":true", "\"functional\":true"), "missing_field"),
        (base.replace("true", "\"yes\""), "invalid_field"),
        (base.replace("\"v1\"", "\"V1\""), "invalid_field"),
        (base.replace(UI, "abc"), "invalid_field"),
    ] {
        assert_eq!(code(&post("application/json", body.as_bytes())), (400, want.to_string()), "{body}");
    }
    assert_eq!(code(&post("text/plain", base.as_bytes())), (415, "unsupported_media_type".into()));
    let big = format!("{{\"policy_version\":\"{}\"}}", "x".repeat(5000));
    assert_eq!(code(&post("application/json", big.as_bytes())), (413, "body_too_large".into()));
    let evil = [("Origin", "https://evil.example".to_string()), ("Content-Type", "application/json".to_string())];
    let r = send(a, "POST", "/v1/consent", &evil, Some(base.as_bytes()));
    assert_eq!(code(&r), (403, "origin_not_allowed".into()));
    assert!(r.header("Access-Control-Allow-Origin").is_none());
    assert_eq!(code(&send(a, "DELETE", &format!("/v1/consent/{}", receipts[0]), &evil, None)).0, 403);
    for p in ["/v2/consent", "/v1/consent/0123456789abcdef0123456789abcdef", "/v1/consent/nope", "/"] {
        assert_eq!(code(&http(a, "GET", p, &[], None)), (404, "not_found".into()), "{p}");
    }
    for (method, p, allow) in [
        ("PUT", "/v1/consent", "POST, OPTIONS"),
        ("POST", "/v1/stats", "GET, OPTIONS"),
        ("GET", "/v1/csp-report", "POST, OPTIONS"),
        ("PUT", &format!("/v1/consent/{}", receipts[0]), "GET, DELETE, OPTIONS"),
    ] {
        let r = http(a, method, p, &[("Content-Type", "application/json")], Some(b"{}"));
        assert_eq!(code(&r), (405, "method_not_allowed".into()), "{method} {p}");
        assert_eq!(r.header("Allow"), Some(allow), "{method} {p}");
    }

    // CORS preflight.
    let pre = http(a, "OPTIONS", "/v1/consent", &[("Origin", ORIGIN), ("Access-Control-Request-Method", "POST")], None);
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("Access-Control-Allow-Origin"), Some(ORIGIN));
    assert_eq!(pre.header("Access-Control-Allow-Methods"), Some("POST, OPTIONS"));
    assert_eq!(pre.header("Access-Control-Allow-Headers"), Some("Content-Type"));
    assert!(pre.header("Vary").is_some_and(|v| v.contains("Origin")));
    let pre = http(a, "OPTIONS", "/v1/consent", &[("Origin", "https://evil.example")], None);
    assert_eq!(code(&pre), (403, "origin_not_allowed".into()));

    // CSP reports, both formats; refused ones change nothing.
    let report = |ct: &'static str, body: &str| send(a, "POST", "/v1/csp-report", &browser(ct), Some(body.as_bytes()));
    let old = r#"{"csp-report":{"document-uri":"https://shop.example/p?email=alice","effective-directive":"img-src","blocked-uri":"https://t.example/px?id=1"}}"#;
    let new = r#"[{"type":"csp-violation","url":"https://shop.example/","user_agent":"ZebraUmbrellaBrowser/9.9.1","body":{"effectiveDirective":"img-src","blockedURL":"https://t.example/other"}},{"type":"deprecation","body":{}},{"type":"csp-violation","body":{"effectiveDirective":"script-src-elem","blockedURL":"inline"}}]"#;
    assert_eq!(report("application/csp-report", old).status, 204);
    assert_eq!(report("application/reports+json", new).status, 204);
    assert_eq!(code(&report("application/csp-report", "{")), (400, "malformed_json".into()));
    assert_eq!(code(&report("application/csp-report", r#"{"csp-report":{"effective-directive":"x-src"}}"#)).0, 400);
    assert_eq!(code(&report("text/plain", old)), (415, "unsupported_media_type".into()));
    let huge = old.replace("email=alice", &"a".repeat(33 * 1024));
    assert_eq!(code(&report("application/csp-report", &huge)), (413, "body_too_large".into()));

    // Stats with k = 2: conf-a has 3 records (2 personalization, 1 analytics); conf-b and
    // conf-c have fewer than k and are left out; img-src from t.example counts 2, the inline
    // script 1 (null).
    let s = stats_until(a, "stats", |s| {
        s["policy_versions"][0]["records"] == 3 && s["csp_violations"].as_array().is_some_and(|v| v.len() == 2)
    });
    assert_eq!(s["k"], 2);
    assert_eq!(
        s["policy_versions"],
        json!([{"policy_version": "conf-a", "records": 3, "purposes": {"personalization": 2, "functional": null, "analytics": null, "marketing": null}}])
    );
    let today = cohort::consent::days::Day::today().to_string();
    assert_eq!(
        s["csp_violations"],
        json!([
            {"day": today, "directive": "img-src", "count": 2, "blocked": {"https://t.example": 2}},
            {"day": today, "directive": "script-src-elem", "count": null, "blocked": {}},
        ])
    );
    receipts
}

/// No identifier in the store's raw bytes or text, nor in the log.
fn assert_no_identifier(store: &[u8], log: &str, receipts: &[String]) {
    assert!(contains(store, receipts[1].as_bytes()), "sanity: the scan sees stored receipts");
    for needle in [XFF, AGENT, "ZebraUmbrella", COOKIE_VALUE, "session=", "email=alice", "/px?id"] {
        assert!(!contains(store, needle.as_bytes()), "the store holds {needle:?}");
        assert!(!log.contains(needle), "the log holds {needle:?}:\n{log}");
    }
}

#[test]
fn rust_server_on_sqlite() {
    let dir = TempDir::new("conf-sqlite");
    let mut server = Server::start(dir.path(), &["--k", "2", "--rate-limit", "0"]);
    let receipts = conformance(server.addr);
    assert!(server.signal_and_wait("TERM").is_some_and(|s| s.success()));
    assert_no_identifier(&db_bytes(&server.db), &server.log_text(), &receipts);
}

#[test]
fn rust_server_on_postgres() {
    let cluster = PgCluster::start();
    let url = cluster.url("cohort");
    let mut server =
        Server::start_db(Path::new(&url), &cluster.path().join("server.log"), &["--k", "2", "--rate-limit", "0"]);
    let receipts = conformance(server.addr);
    assert!(server.signal_and_wait("TERM").is_some_and(|s| s.success()));
    let mut store = cluster.dump().into_bytes();
    store.extend_from_slice(cluster.log_text().as_bytes());
    assert_no_identifier(&store, &server.log_text(), &receipts);
}

#[test]
fn cloudflare_worker_on_d1_under_wrangler_dev() {
    let worker = WorkerDev::start(ORIGIN, &["--k", "2", "--rate-limit", "0"]);
    let receipts = conformance(worker.addr);
    assert_no_identifier(&worker.store_bytes(), &worker.log_text(), &receipts);
}
