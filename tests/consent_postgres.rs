//! `cohort consent-server --db postgres://...` on a private PostgreSQL cluster: every 201
//! survives SIGKILL with two servers writing to one database and one killed mid-load (the
//! other keeps answering), and neither the tables nor PostgreSQL's statement log nor the
//! server's log hold the client's address, user agent or cookies (SPEC §9, invariant 5).

mod consent_support;

use consent_support::pg::PgCluster;
use consent_support::*;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn start(cluster: &PgCluster, log: &str, extra: &[&str]) -> Server {
    let url = cluster.url("cohort");
    Server::start_db(Path::new(&url), &cluster.path().join(log), extra)
}

fn post(addr: SocketAddr, body: &str) -> Option<Resp> {
    let raw = format!(
        "POST /v1/consent HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw_request(addr, raw.as_bytes())
}

#[test]
fn every_201_survives_sigkill_of_one_of_two_servers_on_one_database() {
    let cluster = PgCluster::start();
    let mut victim = start(&cluster, "victim.log", &["--rate-limit", "0"]);
    let survivor = start(&cluster, "survivor.log", &["--rate-limit", "0"]);
    let acknowledged: Arc<Mutex<Vec<serde_json::Value>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let cut_off = Arc::new(AtomicUsize::new(0));
    let survivor_acks = Arc::new(AtomicUsize::new(0));

    let workers: Vec<_> = (0..8)
        .map(|t| {
            let (acknowledged, stop, cut_off, survivor_acks) =
                (Arc::clone(&acknowledged), Arc::clone(&stop), Arc::clone(&cut_off), Arc::clone(&survivor_acks));
            // Even workers write through the server that is killed, odd ones through the other.
            let addr = if t % 2 == 0 { victim.addr } else { survivor.addr };
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) && i < 20_000 {
                    i += 1;
                    match post(addr, &consent_body(&format!("pg-{t}"), i % 2 == 0, i % 3 == 0)) {
                        Some(r) if r.status == 201 => {
                            if t % 2 == 1 {
                                survivor_acks.fetch_add(1, Ordering::SeqCst);
                            }
                            if let Ok(mut ack) = acknowledged.lock() {
                                ack.push(r.json());
                            }
                        }
                        Some(r) => panic!("unexpected answer: {r:?}"),
                        None if t % 2 == 0 => {
                            cut_off.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                        None => panic!("the surviving server stopped answering"),
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + PATIENCE;
    while acknowledged.lock().map(|a| a.len()).unwrap_or(0) < 600 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    victim.child.kill().expect("SIGKILL");
    let _ = victim.child.wait();
    // The survivor keeps acknowledging after the kill.
    let after_kill = survivor_acks.load(Ordering::SeqCst);
    let deadline = Instant::now() + PATIENCE;
    while survivor_acks.load(Ordering::SeqCst) < after_kill + 200 {
        assert!(Instant::now() < deadline, "the surviving server stopped acknowledging after the kill");
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("worker");
    }
    assert_eq!(cut_off.load(Ordering::SeqCst), 4, "the kill interrupted every writer of the killed server");
    let acknowledged = acknowledged.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(acknowledged.len() >= 800, "got {} acknowledgements", acknowledged.len());

    // Every acknowledged receipt is in the database, through the survivor and a new server.
    let restarted = start(&cluster, "restarted.log", &["--rate-limit", "0"]);
    for record in &acknowledged {
        let receipt = record["receipt"].as_str().expect("receipt");
        for server in [&survivor, &restarted] {
            let got = server.get(&format!("/v1/consent/{receipt}"));
            assert_eq!(got.status, 200, "receipt {receipt} acknowledged with 201 was lost");
            assert_eq!(&got.json(), record);
        }
    }
    let rows: i64 = cluster.client().query_one("SELECT count(*) FROM consent", &[]).expect("count").get(0);
    assert!(rows as usize >= acknowledged.len());
    eprintln!("{} acknowledged receipts (two servers, one killed) all survived", acknowledged.len());
}

const XFF: &str = "203.0.113.77";
const REAL_IP: &str = "198.51.100.99";
const AGENT: &str = "ZebraUmbrellaBrowser/9.9.1";
const COOKIE_VALUE: &str = "sid-f00dfacecafe4242";

#[test]
fn no_identifier_in_tables_or_logs() {
    let cluster = PgCluster::start();
    let mut server = start(&cluster, "server.log", &["--rate-limit", "40", "--k", "1"]);
    let headers = [
        ("X-Forwarded-For", format!("{XFF}, 10.9.8.7")),
        ("X-Real-IP", REAL_IP.to_string()),
        ("Forwarded", format!("for={XFF};proto=https")),
        ("User-Agent", AGENT.to_string()),
        ("Cookie", format!("session={COOKIE_VALUE}; cohort_outdoor=1")),
        ("Origin", ORIGIN.to_string()),
        ("Content-Type", "application/json".to_string()),
    ];
    let hdrs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let mut receipts = Vec::new();
    for i in 0..12 {
        let body = consent_body("privacy-pg-7731", i % 2 == 0, i % 3 == 0);
        let r = http(server.addr, "POST", "/v1/consent", &hdrs, Some(body.as_bytes()));
        assert_eq!(r.status, 201, "{r:?}");
        receipts.push(r.json()["receipt"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(http(server.addr, "GET", &format!("/v1/consent/{}", receipts[1]), &hdrs, None).status, 200);
    assert_eq!(http(server.addr, "DELETE", &format!("/v1/consent/{}", receipts[0]), &hdrs, None).status, 204);
    let mut report_headers = hdrs.clone();
    report_headers.retain(|(n, _)| *n != "Content-Type");
    report_headers.push(("Content-Type", "application/csp-report"));
    let report = format!(
        r#"{{"csp-report":{{"document-uri":"https://shop.example/p?ip={XFF}","effective-directive":"img-src","blocked-uri":"https://t.example/x?ua={AGENT}","user-agent":"{AGENT}"}}}}"#
    );
    assert_eq!(http(server.addr, "POST", "/v1/csp-report", &report_headers, Some(report.as_bytes())).status, 204);
    assert_eq!(http(server.addr, "GET", "/v1/stats", &hdrs, None).status, 200);
    assert!(server.signal_and_wait("TERM").is_some_and(|s| s.success()));

    let dump = cluster.dump();
    assert!(dump.contains(&receipts[1]), "sanity: the dump sees stored receipts:\n{dump}");
    assert!(dump.contains("https://t.example"), "sanity: the violation was counted:\n{dump}");
    let pg_log = cluster.log_text();
    assert!(pg_log.contains("INSERT INTO consent"), "sanity: statements are logged");
    let log = server.log_text();
    assert!(log.contains("POST /v1/consent 201"), "{log}");
    for (what, text) in [("tables", &dump), ("PostgreSQL log", &pg_log), ("server log", &log)] {
        for needle in [XFF, REAL_IP, "10.9.8.7", AGENT, "ZebraUmbrella", COOKIE_VALUE, "session=", "127.0.0.1"] {
            assert!(!text.contains(needle), "{what} holds {needle:?}:\n{text}");
        }
    }
    for receipt in &receipts {
        assert!(!log.contains(receipt.as_str()), "the server log holds a receipt");
    }
    let mut client = cluster.client();
    let cols: Vec<String> = client
        .query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'consent' ORDER BY ordinal_position",
            &[],
        )
        .expect("columns")
        .iter()
        .map(|r| r.get(0))
        .collect();
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
    let tables: Vec<String> = client
        .query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", &[])
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, ["cohort_schema", "consent", "csp_violation"]);
}
