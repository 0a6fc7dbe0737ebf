//! Integration tests of `cohort consent-server` against the real binary on 127.0.0.1 with a
//! real SQLite file: the POST/GET/DELETE/stats flow, every error status of SPEC section 7,
//! CORS, the rate limit, the store becoming unavailable, retention and clean shutdown.

mod consent_support;

use cohort::consent::days::Day;
use consent_support::*;
use std::time::{Duration, Instant};

#[test]
fn full_flow_post_get_delete_stats() {
    let dir = TempDir::new("consent-flow");
    let server = Server::start(dir.path(), &["--k", "2"]);
    server.assert_healthy();

    let mut receipts = Vec::new();
    for (policy, p, a) in [
        ("2026-11-01", true, false),
        ("2026-11-01", true, true),
        ("2026-11-01", false, false),
        ("2026-10-01", true, true),
    ] {
        let before = Day::today();
        let r = server.post_consent(&consent_body(policy, p, a));
        assert_eq!(r.status, 201, "{r:?}");
        let v = r.json();
        let receipt = v["receipt"].as_str().expect("receipt").to_string();
        assert_eq!(receipt.len(), 32);
        assert!(receipt.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(v["policy_version"], policy);
        assert_eq!(v["purposes"]["personalization"], p);
        assert_eq!(v["purposes"]["analytics"], a);
        assert_eq!(v["ui"], UI);
        let recorded = Day::parse(v["recorded"].as_str().unwrap_or("")).expect("recorded day");
        assert!(recorded == before || recorded == Day::today());
        assert_eq!(v["expires"], recorded.plus(395).to_string(), "default retention is 395 days");
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 6, "exactly the SPEC fields: {keys:?}");
        receipts.push((receipt, v));
    }
    assert_ne!(receipts[0].0, receipts[1].0);

    for (receipt, created) in &receipts {
        let got = server.get(&format!("/v1/consent/{receipt}"));
        assert_eq!(got.status, 200);
        assert_eq!(&got.json(), created, "GET answers the same record");
    }

    let stats = server.get("/v1/stats");
    assert_eq!(stats.status, 200);
    let s = stats.json();
    assert_eq!(s["k"], 2);
    let versions = s["policy_versions"].as_array().expect("array");
    assert_eq!(versions.len(), 1, "2026-10-01 has 1 record < k and is not listed: {s}");
    assert_eq!(versions[0]["policy_version"], "2026-11-01");
    assert_eq!(versions[0]["records"], 3);
    assert_eq!(versions[0]["purposes"]["personalization"], 2);
    assert!(versions[0]["purposes"]["analytics"].is_null(), "1 analytics < k");

    let (receipt, _) = &receipts[0];
    let path = format!("/v1/consent/{receipt}");
    let del = http(server.addr, "DELETE", &path, &[], None);
    assert_eq!(del.status, 204);
    assert!(del.body.is_empty());
    assert_eq!(server.get(&path).status, 404);
    let again = http(server.addr, "DELETE", &path, &[], None);
    assert_eq!(again.status, 404);
    assert_eq!(again.error_code(), "not_found");

    // Stats are cached for at most a second: they catch up (bounded wait).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let s = server.get("/v1/stats").json();
        if s["policy_versions"][0]["records"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the stats never caught up: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_error_status_from_real_requests() {
    let dir = TempDir::new("consent-errors");
    let server = Server::start(dir.path(), &[]);
    let a = server.addr;
    let json = [("Content-Type", "application/json")];

    // 400: malformed and invalid bodies, naming the field.
    let r = server.post_consent("{\"policy_version\": ");
    assert_eq!((r.status, r.error_code().as_str()), (400, "malformed_json"));
    let r = server.post_consent(&consent_body("v1", true, false).replace("true", "\"yes\""));
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap_or("").contains("purposes.personalization"), "{r:?}");
    let r = server.post_consent(&consent_body("v1", true, false).replace("\"ui\"", "\"extra\":1,\"ui\""));
    assert_eq!((r.status, r.error_code().as_str()), (400, "unknown_field"));
    assert!(r.json()["message"].as_str().unwrap_or("").contains("`extra`"));

    // 403: a state-changing request from an origin not in the list.
    for (method, path) in [("POST", "/v1/consent"), ("DELETE", "/v1/consent/0123456789abcdef0123456789abcdef")] {
        let body = consent_body("v1", true, true);
        let r = http(a, method, path, &[("Origin", "https://evil.example"), json[0]], Some(body.as_bytes()));
        assert_eq!((r.status, r.error_code().as_str()), (403, "origin_not_allowed"), "{method}");
        assert!(r.header("Access-Control-Allow-Origin").is_none());
    }

    // 404: unknown endpoint, unknown or malformed receipt.
    for path in ["/v2/consent", "/v1/consent/0123456789abcdef0123456789abcdef", "/v1/consent/nope", "/"] {
        let r = server.get(path);
        assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"), "{path}");
    }

    // 405 with Allow.
    let r = http(a, "PUT", "/v1/consent", &json, Some(b"{}"));
    assert_eq!((r.status, r.error_code().as_str()), (405, "method_not_allowed"));
    assert_eq!(r.header("Allow"), Some("POST, OPTIONS"));
    let r = http(a, "POST", "/v1/stats", &json, Some(b"{}"));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("GET, OPTIONS"));

    // 413: by Content-Length (never read) and by a real 5 KiB body.
    let big = format!("{{\"policy_version\":\"{}\"}}", "x".repeat(5000));
    let r = server.post_consent(&big);
    assert_eq!((r.status, r.error_code().as_str()), (413, "body_too_large"));
    let r = raw_request(
        a,
        b"POST /v1/consent HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{",
    )
    .expect("response");
    assert_eq!(r.status, 413);

    // 415: not JSON.
    let body = consent_body("v1", true, false);
    let r = http(a, "POST", "/v1/consent", &[("Content-Type", "text/plain")], Some(body.as_bytes()));
    assert_eq!((r.status, r.error_code().as_str()), (415, "unsupported_media_type"));
    let r = http(a, "POST", "/v1/consent", &[], Some(body.as_bytes()));
    assert_eq!(r.status, 415, "no content type");
    let r =
        http(a, "POST", "/v1/consent", &[("Content-Type", "Application/JSON; charset=utf-8")], Some(body.as_bytes()));
    assert_eq!(r.status, 201, "parameters and case are fine");

    // Every error is JSON with exactly error and message.
    let r = server.get("/nope");
    let v = r.json();
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(v.as_object().map(|o| o.len()), Some(2));
    assert!(v["message"].is_string());
    server.assert_healthy();
}

#[test]
fn cors_admits_only_listed_origins() {
    let dir = TempDir::new("consent-cors");
    let server = Server::start(dir.path(), &["--allow-origin", "http://localhost:1111"]);
    let a = server.addr;
    let preflight = |origin: &str, path: &str| {
        http(
            a,
            "OPTIONS",
            path,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
            None,
        )
    };
    for origin in [ORIGIN, "http://localhost:1111"] {
        let r = preflight(origin, "/v1/consent");
        assert_eq!(r.status, 204, "{origin}");
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some(origin));
        assert!(r.header("Vary").is_some_and(|v| v.contains("Origin")));
        assert!(r.header("Access-Control-Allow-Methods").is_some_and(|m| m.contains("POST")));
        assert!(
            r.header("Access-Control-Allow-Headers").is_some_and(|h| h.to_ascii_lowercase().contains("content-type"))
        );
    }
    let r = preflight(ORIGIN, "/v1/consent/0123456789abcdef0123456789abcdef");
    assert!(r.header("Access-Control-Allow-Methods").is_some_and(|m| m.contains("DELETE")));

    for origin in ["https://evil.example", "https://shop.example.evil", "http://shop.example", "null", "*"] {
        let r = preflight(origin, "/v1/consent");
        assert_eq!(r.status, 403, "{origin}");
        assert!(r.header("Access-Control-Allow-Origin").is_none(), "{origin}");
    }

    let body = consent_body("v1", true, false);
    let r = http(
        a,
        "POST",
        "/v1/consent",
        &[("Origin", ORIGIN), ("Content-Type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some(ORIGIN));
    let receipt = r.json()["receipt"].as_str().unwrap_or("").to_string();

    // A read from another origin is answered without CORS headers (the browser hides it).
    let r = http(a, "GET", &format!("/v1/consent/{receipt}"), &[("Origin", "https://evil.example")], None);
    assert_eq!(r.status, 200);
    assert!(r.header("Access-Control-Allow-Origin").is_none());

    // No Origin header (curl, wrk, server-to-server) is not a browser: allowed, no CORS headers.
    let r = server.post_consent(&body);
    assert_eq!(r.status, 201);
    assert!(r.header("Access-Control-Allow-Origin").is_none());

    let r = http(a, "DELETE", &format!("/v1/consent/{receipt}"), &[("Origin", ORIGIN)], None);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some(ORIGIN));
}

#[test]
fn cli_refuses_wildcard_origin() {
    let dir = TempDir::new("consent-wild");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cohort"))
        .arg("consent-server")
        .arg("--db")
        .arg(dir.path().join("c.db"))
        .args(["--bind", "127.0.0.1:0", "--allow-origin", "*"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wildcard"));
}

#[test]
fn rate_limit_reached_and_recovered() {
    let dir = TempDir::new("consent-rate");
    let server = Server::start(dir.path(), &["--rate-limit", "3", "--rate-window-secs", "2"]);
    for _ in 0..3 {
        assert_eq!(server.get("/v1/stats").status, 200);
    }
    let limited_at = Instant::now();
    let r = server.get("/v1/stats");
    assert_eq!((r.status, r.error_code().as_str()), (429, "too_many_requests"));
    let retry: u64 = r.header("Retry-After").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=2).contains(&retry), "{retry}");
    let body = consent_body("v1", true, false);
    assert_eq!(server.post_consent(&body).status, 429, "writes are limited too");
    assert_eq!(server.get("/healthz").status, 200, "health checks are not limited");

    std::thread::sleep(Duration::from_secs(retry).saturating_sub(limited_at.elapsed()) + Duration::from_millis(100));
    // Refused requests do not extend the window (it is fixed), so polling is harmless.
    let deadline = Instant::now() + PATIENCE;
    let mut recovered = false;
    while Instant::now() < deadline {
        let r = server.get("/v1/stats");
        if r.status == 200 {
            recovered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(recovered, "the window reopened");
    assert_eq!(server.post_consent(&body).status, 201);
}

#[test]
fn store_unavailable_gives_503_then_recovers() {
    let dir = TempDir::new("consent-503");
    let server = Server::start(dir.path(), &[]);
    let body = consent_body("v1", true, false);
    assert_eq!(server.post_consent(&body).status, 201);

    // Another process takes the write lock (a maintenance job, a stuck backup): the server
    // cannot commit, so it must not claim the record is durable.
    let locker = rusqlite::Connection::open(&server.db).expect("open db");
    locker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let r = server.post_consent(&body);
    assert_eq!((r.status, r.error_code().as_str()), (503, "store_unavailable"), "{r:?}");
    assert!(r.header("Retry-After").is_some());
    let del = http(server.addr, "DELETE", "/v1/consent/0123456789abcdef0123456789abcdef", &[], None);
    assert_eq!(del.status, 503);
    // Health means "can write": it says so too (the probe answer lives up to a second).
    wait_for_health(&server, 503);
    locker.execute_batch("ROLLBACK").expect("unlock");
    drop(locker);
    wait_for_health(&server, 200);

    let r = server.post_consent(&body);
    assert_eq!(r.status, 201, "recovers once the lock is gone");
    let count: i64 = rusqlite::Connection::open(&server.db)
        .and_then(|c| c.query_row("SELECT count(*) FROM consent", [], |row| row.get(0)))
        .expect("count");
    assert_eq!(count, 2, "the refused record was not stored");
}

/// Polls `/healthz` until it answers `status`, for at most 10 seconds.
fn wait_for_health(server: &Server, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = server.get("/healthz");
        if r.status == status {
            return;
        }
        assert!(Instant::now() < deadline, "healthz stayed {} (waiting for {status}): {r:?}", r.status);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigterm_finishes_and_checkpoints() {
    let dir = TempDir::new("consent-term");
    let mut server = Server::start(dir.path(), &[]);
    let r = server.post_consent(&consent_body("v1", false, false));
    assert_eq!(r.status, 201);
    let receipt = r.json()["receipt"].as_str().unwrap_or("").to_string();
    let status = server.signal_and_wait("TERM").expect("exited");
    assert!(status.success(), "{status:?}");
    let wal = dir.path().join("consent.db-wal");
    assert!(std::fs::metadata(&wal).map(|m| m.len() == 0).unwrap_or(true), "WAL checkpointed");
    let log = server.log_text();
    assert!(log.contains("stopped: store closed"), "{log}");

    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
    assert_eq!(version, 3, "every schema step ran");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("mode");
    assert_eq!(mode, "wal");
    let found: i64 =
        conn.query_row("SELECT count(*) FROM consent WHERE receipt = ?1", [&receipt], |r| r.get(0)).expect("query");
    assert_eq!(found, 1);
}

#[test]
fn expired_receipts_are_deleted_at_start_and_periodically() {
    let dir = TempDir::new("consent-retention");
    let mut server = Server::start(dir.path(), &["--retention-days", "30"]);
    let r = server.post_consent(&consent_body("v1", true, true));
    assert_eq!(r.status, 201);
    let live = r.json();
    let recorded = Day::parse(live["recorded"].as_str().unwrap_or("")).expect("day");
    assert_eq!(live["expires"], recorded.plus(30).to_string());
    assert!(server.signal_and_wait("TERM").is_some_and(|s| s.success()));

    let insert_expired = |receipt: &str| {
        let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
        conn.execute(
            "INSERT INTO consent (receipt, policy_version, personalization, analytics, ui, recorded, expires) \
                 VALUES (?1, 'v0', 1, 0, ?2, '2020-01-01', '2020-12-31')",
            [receipt, UI],
        )
        .expect("insert");
    };
    let old1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    insert_expired(old1);

    let server = Server::start(dir.path(), &["--purge-every-secs", "1"]);
    let count = |receipt: &str| -> i64 {
        rusqlite::Connection::open(dir.path().join("consent.db"))
            .and_then(|c| c.query_row("SELECT count(*) FROM consent WHERE receipt = ?1", [receipt], |r| r.get(0)))
            .expect("count")
    };
    assert_eq!(count(old1), 0, "deleted at start");
    let live_receipt = live["receipt"].as_str().unwrap_or("");
    assert_eq!(server.get(&format!("/v1/consent/{live_receipt}")).status, 200);

    let old2 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    insert_expired(old2);
    assert_eq!(server.get(&format!("/v1/consent/{old2}")).status, 404, "expired is never served");
    let deadline = Instant::now() + PATIENCE;
    while count(old2) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(count(old2), 0, "deleted by the periodic purge");
    assert_eq!(count(live_receipt), 1);
}
