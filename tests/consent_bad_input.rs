//! Hostile and broken requests over raw TCP: each gets its documented status (a JSON error),
//! nothing panics, and the server keeps answering `/healthz` between cases, while slow
//! clients that never finish their request are connected beside it (and cut off with 408).

mod consent_support;

use consent_support::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn post(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "POST /v1/consent HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn json(body: &str) -> Vec<u8> {
    post("application/json", body.as_bytes())
}

fn get(target: &[u8]) -> Vec<u8> {
    let mut raw = b"GET ".to_vec();
    raw.extend_from_slice(target);
    raw.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw
}

fn valid_with(policy: serde_json::Value, purposes: serde_json::Value, ui: serde_json::Value) -> Vec<u8> {
    json(&serde_json::json!({ "policy_version": policy, "purposes": purposes, "ui": ui }).to_string())
}

#[test]
fn malformed_requests_get_documented_statuses() {
    use serde_json::json as j;
    let dir = TempDir::new("consent-bad");
    let server = Server::start(dir.path(), &["--rate-limit", "0", "--read-timeout", "1"]);
    let a = server.addr;
    let ok_purposes = j!({"personalization": true, "analytics": false});

    // Slow clients that never finish their request, connected while the table runs.
    let mut stalled: Vec<TcpStream> = (0..20).filter_map(|_| TcpStream::connect(a).ok()).collect();
    for s in &mut stalled {
        let _ = s.write_all(b"POST /v1/consent HTTP/1.1\r\nContent-Le");
    }

    let mut nested = "[".repeat(2000);
    nested.push_str(&"]".repeat(2000));
    let mut nul_body = br#"{"policy_version":"v1","#.to_vec();
    nul_body.extend_from_slice(b"\0\0\0");
    let mut bad_utf8 = br#"{"policy_version":""#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    bad_utf8.extend_from_slice(br#"","purposes":{"personalization":true,"analytics":true},"ui":"x"}"#);
    let long_receipt = format!("/v1/consent/{}", "a".repeat(3000));
    let big_head = format!("GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n", "p".repeat(9000));

    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("broken JSON", json("{"), 400),
        ("truncated JSON", json(r#"{"policy_version": "v1", "purposes": {"personalization": true"#), 400),
        ("empty body", json(""), 400),
        ("null", json("null"), 400),
        ("array", json("[]"), 400),
        ("string", json("\"consent\""), 400),
        ("policy_version a number", valid_with(j!(20261101), ok_purposes.clone(), j!(UI)), 400),
        ("policy_version empty", valid_with(j!(""), ok_purposes.clone(), j!(UI)), 400),
        ("policy_version 65 chars", valid_with(j!("v".repeat(65)), ok_purposes.clone(), j!(UI)), 400),
        ("policy_version control char", valid_with(j!("v1\u{7}"), ok_purposes.clone(), j!(UI)), 400),
        ("policy_version escaped NUL", valid_with(j!("v1\u{0}"), ok_purposes.clone(), j!(UI)), 400),
        ("purposes an array", valid_with(j!("v1"), j!([true, false]), j!(UI)), 400),
        ("purpose as string", valid_with(j!("v1"), j!({"personalization": "true", "analytics": false}), j!(UI)), 400),
        ("purpose null", valid_with(j!("v1"), j!({"personalization": null, "analytics": false}), j!(UI)), 400),
        ("purpose as number", valid_with(j!("v1"), j!({"personalization": 1, "analytics": 0}), j!(UI)), 400),
        ("unknown purpose", valid_with(j!("v1"), j!({"personalization": true, "analytics": false, "tracking": true}), j!(UI)), 400),
        ("missing purpose", valid_with(j!("v1"), j!({"personalization": true}), j!(UI)), 400),
        ("ui too short", valid_with(j!("v1"), ok_purposes.clone(), j!("abc123")), 400),
        ("ui not hex", valid_with(j!("v1"), ok_purposes.clone(), j!("z".repeat(64))), 400),
        ("ui a number", valid_with(j!("v1"), ok_purposes.clone(), j!(42)), 400),
        ("unknown top-level field", json(&consent_body("v1", true, true).replace("{\"policy", "{\"ip\":\"1.2.3.4\",\"policy")), 400),
        ("deeply nested", json(&nested), 400),
        ("NUL bytes in body", post("application/json", &nul_body), 400),
        ("invalid UTF-8 in body", post("application/json", &bad_utf8), 400),
        ("1 MB body", json(&"x".repeat(1 << 20)), 413),
        ("5000-byte body", json(&format!("{{\"policy_version\":\"{}\"}}", "v".repeat(4980))), 413),
        ("huge Content-Length", b"POST /v1/consent HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 18446744073709551616\r\n\r\n".to_vec(), 413),
        ("text/plain", post("text/plain", consent_body("v1", true, true).as_bytes()), 415),
        ("application/jsonp", post("application/jsonp", consent_body("v1", true, true).as_bytes()), 415),
        ("form encoded", post("application/x-www-form-urlencoded", b"policy_version=v1"), 415),
        ("very long receipt", get(long_receipt.as_bytes()), 404),
        ("uppercase receipt", get(b"/v1/consent/0123456789ABCDEF0123456789ABCDEF"), 404),
        ("dot-dot in receipt", get(b"/v1/consent/../stats"), 404),
        ("dot-dot path", get(b"/v1/../../etc/passwd"), 404),
        ("encoded dot-dot", get(b"/v1/consent/%2e%2e%2f%2e%2e%2fetc%2fpasswd"), 404),
        ("invalid UTF-8 in target", get(b"/v1/consent/\xff\xfe"), 400),
        ("NUL in target", get(b"/v1/stats\0"), 400),
        ("NUL in a header", b"GET /v1/stats HTTP/1.1\r\nX-A: a\0b\r\n\r\n".to_vec(), 400),
        ("garbage request line", b"HELLO\r\n\r\n".to_vec(), 400),
        ("HTTP/2 version", b"GET /v1/stats HTTP/2.0\r\n\r\n".to_vec(), 400),
        ("absolute-form target", b"GET http://x/v1/stats HTTP/1.1\r\n\r\n".to_vec(), 400),
        ("head over 8 KiB", big_head.into_bytes(), 431),
        ("chunked body", b"POST /v1/consent HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n".to_vec(), 411),
        ("conflicting Content-Length", b"POST /v1/consent HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".to_vec(), 400),
        ("negative Content-Length", b"POST /v1/consent HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n".to_vec(), 400),
        ("unknown method", b"BREW /v1/consent HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(), 405),
        ("preflight without Origin", b"OPTIONS /v1/consent HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(), 403),
        ("head never finishes", b"GET /v1/stats HTTP/1.1\r\nHost: x\r\n".to_vec(), 408),
        ("body never finishes", b"POST /v1/consent HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"policy".to_vec(), 408),
    ];
    assert!(cases.len() >= 30);

    for (name, raw, expected) in &cases {
        let started = Instant::now();
        let r = raw_request(a, raw).unwrap_or_else(|| panic!("{name}: no response"));
        assert_eq!(r.status, *expected, "{name}: {:?}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        assert!(v["error"].is_string() && v["message"].is_string(), "{name}: {v}");
        // A bound on the read deadline (about a second), with room for a busy machine.
        assert!(started.elapsed() < Duration::from_secs(15), "{name} took {:?}", started.elapsed());
        server.assert_healthy();
    }

    // A valid request still works, with the slow clients still connected.
    assert_eq!(server.post_consent(&consent_body("v1", true, false)).status, 201);
    let log = server.log_text();
    assert!(!log.contains("panicked"), "{log}");
    // The stalled clients were cut off by the read deadline, with a 408.
    for s in &mut stalled {
        let _ = s.set_read_timeout(Some(PATIENCE));
        let r = read_response(s).expect("the stalled client got an answer");
        assert_eq!(r.status, 408);
    }
    drop(stalled);
    server.assert_healthy();
}
