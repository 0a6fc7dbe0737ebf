//! SPEC section 9, invariant 5: the consent API stores and logs nothing that identifies a
//! person. Requests carry a distinctive forwarded address, real-IP header, user agent and
//! cookie; afterwards the raw bytes of the SQLite file, its -wal and -shm files and the
//! server's log must contain none of them, and the log not the client's address or receipts.

mod consent_support;

use consent_support::*;

const XFF: &str = "203.0.113.77";
const REAL_IP: &str = "198.51.100.99";
const AGENT: &str = "ZebraUmbrellaBrowser/9.9.1";
const COOKIE_VALUE: &str = "sid-f00dfacecafe4242";

fn identifying_headers() -> Vec<(&'static str, String)> {
    vec![
        ("X-Forwarded-For", format!("{XFF}, 10.9.8.7")),
        ("X-Real-IP", REAL_IP.to_string()),
        ("Forwarded", format!("for={XFF};proto=https")),
        ("User-Agent", AGENT.to_string()),
        ("Cookie", format!("session={COOKIE_VALUE}; cohort_outdoor=1")),
        ("Origin", ORIGIN.to_string()),
        ("Content-Type", "application/json".to_string()),
    ]
}

#[test]
fn no_identifier_in_store_or_logs() {
    let dir = TempDir::new("consent-privacy");
    let mut server = Server::start(dir.path(), &["--rate-limit", "40"]);
    let headers = identifying_headers();
    let hdrs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let policy = "privacy-test-policy-7731";

    let mut receipts = Vec::new();
    for i in 0..12 {
        let body = consent_body(policy, i % 2 == 0, i % 3 == 0);
        let r = http(server.addr, "POST", "/v1/consent", &hdrs, Some(body.as_bytes()));
        assert_eq!(r.status, 201, "{r:?}");
        receipts.push(r.json()["receipt"].as_str().unwrap_or("").to_string());
    }
    for receipt in &receipts[..4] {
        let path = format!("/v1/consent/{receipt}");
        assert_eq!(http(server.addr, "GET", &path, &hdrs, None).status, 200);
    }
    let path = format!("/v1/consent/{}", receipts[0]);
    assert_eq!(http(server.addr, "DELETE", &path, &hdrs, None).status, 204);
    assert_eq!(http(server.addr, "GET", "/v1/stats", &hdrs, None).status, 200);
    assert_eq!(http(server.addr, "POST", "/v1/consent", &hdrs, Some(b"{bad")).status, 400);
    // Reach the rate limit, so the limiter has held the address.
    let mut limited = false;
    for _ in 0..40 {
        if http(server.addr, "GET", "/v1/stats", &hdrs, None).status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited);

    let db = server.db.clone();
    let check_store = |when: &str| {
        let bytes = db_bytes(&db);
        assert!(!bytes.is_empty());
        assert!(contains(&bytes, receipts[1].as_bytes()), "sanity: the scan sees stored receipts");
        for needle in [XFF, REAL_IP, "10.9.8.7", AGENT, "ZebraUmbrella", COOKIE_VALUE, "127.0.0.1", "session="] {
            assert!(!contains(&bytes, needle.as_bytes()), "{when}: store holds {needle:?}");
        }
    };
    check_store("while running");

    assert!(server.signal_and_wait("TERM").is_some_and(|s| s.success()));
    check_store("after shutdown");

    let log = server.log_text();
    assert!(log.contains("POST /v1/consent 201"), "sanity: requests are logged: {log}");
    assert!(log.contains("GET /v1/consent/:receipt 200"), "path template, not receipt");
    for needle in [XFF, REAL_IP, "10.9.8.7", AGENT, "ZebraUmbrella", COOKIE_VALUE, "127.0.0.1", policy, UI] {
        assert!(!log.contains(needle), "log holds {needle:?}:\n{log}");
    }
    for receipt in &receipts {
        assert!(!log.contains(receipt.as_str()), "log holds a receipt");
    }

    // The table has exactly the SPEC columns.
    let conn = rusqlite::Connection::open(&server.db).expect("open");
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('consent') ORDER BY cid").expect("prepare");
    let cols: Vec<String> = stmt.query_map([], |r| r.get(0)).and_then(|rows| rows.collect()).expect("columns");
    assert_eq!(
        cols,
        [
            "receipt",
            "policy_version",
            "personalization",
            "analytics",
            "ui",
            "recorded",
            "expires",
            "functional",
            "marketing"
        ]
    );
    let tables: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0)).expect("tables");
    assert_eq!(tables, 2, "consent and csp_violation, no other table");
}
