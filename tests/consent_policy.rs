//! Policy versions (issue 14, item 3): the server accepts only the versions the shop
//! published (`--policy-version`, repeatable) or, without that list, only the strict shape of
//! a date or short slug, so no e-mail address, bidi override or zero-width character can be
//! stored; and `GET /v1/stats` never lists a version with fewer than k records, so one
//! client cannot publish a string of its choice.

mod consent_support;

use consent_support::*;
use std::process::Command;

#[test]
fn only_published_versions_are_accepted() {
    let dir = TempDir::new("consent-policy-list");
    let server = Server::start(
        dir.path(),
        &["--rate-limit", "0", "--policy-version", "2026-11-01", "--policy-version", "2026-12-01"],
    );
    for ok in ["2026-11-01", "2026-12-01"] {
        assert_eq!(server.post_consent(&consent_body(ok, true, false)).status, 201, "{ok}");
    }
    let r = server.post_consent(&consent_body("2027-01-01", true, false));
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.error_code(), "invalid_field");
    let message = r.json()["message"].as_str().unwrap_or("").to_string();
    assert!(message.contains("policy_version") && message.contains("2026-11-01"), "{message}");
}

#[test]
fn without_a_list_only_dates_and_short_slugs_are_accepted() {
    let dir = TempDir::new("consent-policy-shape");
    let server = Server::start(dir.path(), &["--rate-limit", "0"]);
    for ok in ["2026-11-01", "v2", "2026.1"] {
        assert_eq!(server.post_consent(&consent_body(ok, true, false)).status, 201, "{ok}");
    }
    for bad in ["visitor@mail.example", "v\u{202e}1", "v1\u{200b}", "V2", "a b", &"v".repeat(33)] {
        let r = server.post_consent(&consent_body(bad, true, false));
        assert_eq!(r.status, 400, "{bad:?} was accepted: {r:?}");
        assert_eq!(r.error_code(), "invalid_field", "{bad:?}");
    }
}

#[test]
fn stats_never_list_a_version_below_k() {
    let dir = TempDir::new("consent-policy-k");
    let server = Server::start(dir.path(), &["--rate-limit", "0", "--k", "3"]);
    assert_eq!(server.post_consent(&consent_body("tracking-id-4711", true, true)).status, 201);
    for _ in 0..3 {
        assert_eq!(server.post_consent(&consent_body("2026-11-01", true, false)).status, 201);
    }
    let stats = server.get("/v1/stats");
    assert_eq!(stats.status, 200);
    let text = String::from_utf8_lossy(&stats.body).into_owned();
    assert!(!text.contains("tracking-id-4711"), "a version below k is published: {text}");
    let versions = stats.json()["policy_versions"].as_array().cloned().unwrap_or_default();
    assert_eq!(versions.len(), 1, "{text}");
    assert_eq!(versions[0]["policy_version"], "2026-11-01");
    assert_eq!(versions[0]["records"], 3);
}

#[test]
fn a_malformed_policy_version_flag_is_a_usage_error() {
    let dir = TempDir::new("consent-policy-flag");
    let out = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(["consent-server", "--bind", "127.0.0.1:0", "--allow-origin", ORIGIN, "--policy-version", "Nov 2026"])
        .arg("--db")
        .arg(dir.path().join("c.db"))
        .output()
        .expect("run cohort");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--policy-version"));
}
