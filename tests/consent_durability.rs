//! A 201 means durable (SPEC section 7): consents are posted from several threads, the server
//! is killed with SIGKILL in the middle of the stream, restarted on the same database, and
//! every receipt that was answered 201 must be there with the same content.

mod consent_support;

use consent_support::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn every_201_survives_sigkill() {
    let dir = TempDir::new("consent-durable");
    let mut server = Server::start(dir.path(), &["--rate-limit", "0"]);
    let addr = server.addr;
    let acknowledged: Arc<Mutex<Vec<serde_json::Value>>> = Arc::new(Mutex::new(Vec::new()));
    let failed_after_kill = Arc::new(AtomicBool::new(false));

    let workers: Vec<_> = (0..6)
        .map(|t| {
            let acknowledged = Arc::clone(&acknowledged);
            let failed_after_kill = Arc::clone(&failed_after_kill);
            std::thread::spawn(move || {
                for i in 0..5000 {
                    let body = consent_body(&format!("durable-{t}"), i % 2 == 0, i % 3 == 0);
                    let raw = format!(
                        "POST /v1/consent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    match raw_request(addr, raw.as_bytes()) {
                        Some(r) if r.status == 201 => {
                            if let Ok(mut ack) = acknowledged.lock() {
                                ack.push(r.json());
                            }
                        }
                        Some(r) => panic!("unexpected answer before the kill: {r:?}"),
                        None => {
                            failed_after_kill.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + PATIENCE;
    while acknowledged.lock().map(|a| a.len()).unwrap_or(0) < 300 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    for w in workers {
        w.join().expect("worker");
    }
    assert!(failed_after_kill.load(Ordering::SeqCst), "the kill interrupted the stream");
    let acknowledged = acknowledged.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(acknowledged.len() >= 300, "got {} acknowledgements", acknowledged.len());

    let restarted = Server::start_db(&server.db, &dir.path().join("server2.log"), &["--rate-limit", "0"]);
    for record in &acknowledged {
        let receipt = record["receipt"].as_str().expect("receipt");
        let got = restarted.get(&format!("/v1/consent/{receipt}"));
        assert_eq!(got.status, 200, "receipt {receipt} acknowledged with 201 was lost");
        assert_eq!(&got.json(), record);
    }
    eprintln!("{} acknowledged receipts all survived SIGKILL", acknowledged.len());
}
