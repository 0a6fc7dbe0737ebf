//! Health and start-up errors (issue 14, item 4): `HEAD /healthz` is answered like `GET`
//! without a body; `/healthz` means "the store can write" (a write probe), so it turns 503
//! when the disk is full (simulated with a file size limit); a `--db` or `--bind` that cannot
//! be used is a usage error (exit status 2).

mod consent_support;

use consent_support::*;
use std::process::Command;

#[test]
fn head_healthz_is_200_without_a_body() {
    let dir = TempDir::new("consent-head");
    let server = Server::start(dir.path(), &[]);
    let r = raw_request(server.addr, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("a response");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.is_empty());
    let get = server.get("/healthz");
    assert_eq!(r.header("content-length"), Some(get.body.len().to_string().as_str()));
    // HEAD elsewhere in the API is still refused, and says what is allowed.
    let r = http(server.addr, "HEAD", "/v1/stats", &[], None);
    assert_eq!(r.status, 405);
    let r = http(server.addr, "POST", "/healthz", &[], None);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}

#[test]
fn healthz_turns_503_when_the_store_cannot_write() {
    let dir = TempDir::new("consent-full");
    let server = Server::start_file_limited(dir.path(), 192 * 1024, &["--rate-limit", "0"]);
    server.assert_healthy();
    let mut refused = None;
    for i in 0..2000 {
        let r = server.post_consent(&consent_body("2026-11-01", true, false));
        if r.status != 201 {
            refused = Some((i, r));
            break;
        }
    }
    let (i, r) = refused.expect("the file size limit was never reached");
    assert_eq!(r.status, 503, "write {i}: {r:?}");
    assert_eq!(r.error_code(), "store_unavailable");
    // The probe result is reused for up to a second: wait for a fresh one, with a bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let h = server.get("/healthz");
        if h.status == 503 {
            assert_eq!(h.error_code(), "store_unavailable");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "healthz stays {} while writes fail", h.status);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Reads still work.
    assert_eq!(server.get("/v1/stats").status, 200);
}

fn consent_server(db: &std::path::Path, bind: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(["consent-server", "--allow-origin", ORIGIN, "--bind", bind, "--db"])
        .arg(db)
        .output()
        .expect("run cohort")
}

#[test]
fn a_db_or_bind_that_cannot_be_used_exits_2() {
    let dir = TempDir::new("consent-usage");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = taken.local_addr().expect("addr").to_string();
    let good_db = dir.path().join("c.db");
    let cases = [
        (dir.path().join("no/such/folder/c.db"), "127.0.0.1:0", "--db"),
        (dir.path().to_path_buf(), "127.0.0.1:0", "--db"),
        (good_db.clone(), "256.0.0.1:80", "--bind"),
        (good_db.clone(), "nonsense", "--bind"),
        (good_db, taken.as_str(), "--bind"),
    ];
    for (db, bind, flag) in &cases {
        let out = consent_server(db, bind);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--db {} --bind {bind}: {stderr}", db.display());
        assert!(stderr.contains(flag), "the message names {flag}: {stderr}");
    }
}
