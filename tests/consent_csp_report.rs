//! `POST /v1/csp-report` on the real server (issue #17, acceptance 4): headless Chromium loads
//! pages from a loopback server whose Content-Security-Policy points `report-uri` (first
//! page, uploaded by Chromium itself) and `report-to` (second page; the browser's Reporting
//! API report bodies, posted by the page: see [`OBSERVER`]) at a real `cohort consent-server`,
//! and violates the
//! policy with cross-origin images, an inline script and an inline style. The reports Chromium
//! sends must show up in `/v1/stats` as counts per day, directive and blocked origin, with a
//! count below k as `null` and an origin below k left out; the store must hold only day,
//! directive, origin and count (no page URL, path, query or user agent). Malformed and
//! oversized reports get 400/413 and change nothing.

mod consent_support;

use consent_support::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The page: two images from one blocked origin, one from another, an inline script and an
/// inline style attribute, all refused by the policy.
const PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>violations</title></head>
<body><p style="color: red">styled</p>
<img src="https://tracker.invalid/pixel.png?email=alice%40mail.example" alt="">
<img src="https://tracker.invalid/other.png?session=f00d" alt="">
<img src="https://one.invalid/x.gif?uid=42" alt="">
<script>document.title = 'inline ran';</script>
</body></html>"#;

/// Forwards the Reporting API reports Chromium generates (the `csp-violation` reports a
/// `ReportingObserver` sees, serialized by the browser's own `toJSON`) as one
/// `application/reports+json` array per batch, the format of a `report-to` upload. Headless
/// Debian Chromium 156 queues `report-to` reports but did not upload them within minutes, even
/// with `--short-reporting-delay`, so the page posts the browser's report bodies itself.
const OBSERVER: &str = r#"new ReportingObserver((reports) => {
  fetch('ENDPOINT', { method: 'POST', mode: 'cors', headers: { 'Content-Type': 'application/reports+json' },
    body: JSON.stringify(reports.map((r) => r.toJSON())) });
}, { types: ['csp-violation'], buffered: true }).observe();"#;

/// Serves `/uri` (policy with `report-uri`) and `/to` (policy with `report-to` and
/// `Reporting-Endpoints`) until the test ends.
fn page_server(listener: TcpListener, report_url: String) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let report_url = report_url.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                let base = "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'";
                let consent_origin = report_url.trim_end_matches("/v1/csp-report");
                let to_page = PAGE.replace("<head>", "<head><script src=\"/observer.js\"></script>");
                let observer = OBSERVER.replace("ENDPOINT", &report_url);
                let (status, kind, extra, body) = match path.as_str() {
                    "/uri" => (
                        "200 OK",
                        "text/html",
                        format!("Content-Security-Policy: {base}; report-uri {report_url}\r\n"),
                        PAGE,
                    ),
                    "/to" => (
                        "200 OK",
                        "text/html",
                        format!(
                            "Content-Security-Policy: {base}; connect-src 'self' {consent_origin}; report-to cohort\r\n\
                             Reporting-Endpoints: cohort=\"{report_url}\"\r\n"
                        ),
                        to_page.as_str(),
                    ),
                    "/observer.js" => ("200 OK", "text/javascript", String::new(), observer.as_str()),
                    _ => ("404 Not Found", "text/plain", String::new(), ""),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
}

/// Headless Chromium showing `url`, killed on drop (its profile folder is removed after it).
struct Browser(Child, #[allow(dead_code)] TempDir);

impl Browser {
    fn open(url: &str) -> Browser {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
        assert!(
            std::path::Path::new(&chromium).exists(),
            "Chromium is required by this test: install it (apt-get install chromium) or set CHROMIUM"
        );
        let profile = TempDir::new("csp-chromium");
        let child = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                "--short-reporting-delay",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        Browser(child, profile)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn violations(server: &Server) -> Value {
    let r = server.get("/v1/stats");
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["csp_violations"].clone()
}

/// The stats entry of one directive (today is the only day in a fresh store).
fn entry(v: &Value, directive: &str) -> Value {
    v.as_array().and_then(|a| a.iter().find(|e| e["directive"] == directive)).cloned().unwrap_or(Value::Null)
}

/// Waits (bounded) until the stats show `want` violations for img-src in total and the inline
/// script and style reports have arrived too; the reports come in any order (the img-src
/// count may reach `want` before the inline ones land), and more than `want` is a failure.
fn wait_for_img_count(server: &Server, want: u64, browser: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let v = violations(server);
        let got = entry(&v, "img-src")["count"].as_u64();
        if got == Some(want)
            && entry(&v, "style-src-attr") != Value::Null
            && entry(&v, "script-src-elem") != Value::Null
        {
            return v;
        }
        assert!(
            Instant::now() < deadline && got.is_none_or(|g| g <= want),
            "{browser}: waiting for {want} img-src violations, stats: {v}\nlog: {}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn chromium_reports_in_both_formats_are_counted_by_day_directive_and_origin() {
    let dir = TempDir::new("consent-csp");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind page server");
    let page_origin = format!("http://{}", listener.local_addr().expect("addr"));
    let server = Server::start(dir.path(), &["--allow-origin", &page_origin, "--k", "2", "--rate-limit", "0"]);
    let report_url = format!("http://{}/v1/csp-report", server.addr);
    page_server(listener, report_url);
    let today = cohort::consent::days::Day::today().to_string();

    // report-uri: application/csp-report bodies.
    let first = {
        let _browser = Browser::open(&format!("{page_origin}/uri"));
        wait_for_img_count(&server, 3, "report-uri")
    };
    let img = entry(&first, "img-src");
    assert_eq!(img["day"], today);
    assert_eq!(img["blocked"], json!({ "https://tracker.invalid": 2 }), "one.invalid has 1 < k: left out; {first}");
    assert_eq!(entry(&first, "script-src-elem")["count"], Value::Null, "1 < k: {first}");
    assert_eq!(entry(&first, "script-src-elem")["blocked"], json!({}));
    assert_eq!(entry(&first, "style-src-attr")["count"], Value::Null);
    assert!(server.log_text().contains("POST /v1/csp-report 204"), "{}", server.log_text());

    // report-to: application/reports+json bodies through the Reporting API.
    let second = {
        let _browser = Browser::open(&format!("{page_origin}/to"));
        wait_for_img_count(&server, 6, "report-to")
    };
    let deadline = Instant::now() + PATIENCE;
    let mut second = second;
    while entry(&second, "script-src-elem")["count"] != 2 || entry(&second, "style-src-attr")["count"] != 2 {
        assert!(Instant::now() < deadline, "inline violations of the second page never arrived: {second}");
        std::thread::sleep(Duration::from_millis(200));
        second = violations(&server);
    }
    assert_eq!(entry(&second, "img-src")["blocked"], json!({ "https://tracker.invalid": 4, "https://one.invalid": 2 }));
    assert_eq!(entry(&second, "script-src-elem")["blocked"], json!({ "inline": 2 }));
    assert_eq!(entry(&second, "style-src-attr")["blocked"], json!({ "inline": 2 }));
    assert_eq!(second.as_array().map(Vec::len), Some(3), "nothing else was reported: {second}");

    // The store holds day, directive, origin and count, nothing else.
    let (cols, rows) = {
        let conn = rusqlite::Connection::open(&server.db).expect("open");
        let mut stmt =
            conn.prepare("SELECT name FROM pragma_table_info('csp_violation') ORDER BY cid").expect("prepare");
        let cols: Vec<String> = stmt.query_map([], |r| r.get(0)).and_then(|rows| rows.collect()).expect("columns");
        let mut stmt =
            conn.prepare("SELECT day, directive, blocked, count FROM csp_violation ORDER BY 2, 3").expect("rows");
        let rows: Vec<(String, String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(|rows| rows.collect())
            .expect("rows");
        (cols, rows)
    };
    assert_eq!(cols, ["day", "directive", "blocked", "count"]);
    let want: Vec<(String, String, String, i64)> = [
        ("img-src", "https://one.invalid", 2),
        ("img-src", "https://tracker.invalid", 4),
        ("script-src-elem", "inline", 2),
        ("style-src-attr", "inline", 2),
    ]
    .into_iter()
    .map(|(d, b, n)| (today.clone(), d.to_string(), b.to_string(), n))
    .collect();
    assert_eq!(rows, want);
    let bytes = db_bytes(&server.db);
    for needle in
        ["alice", "email=", "session=", "uid=", "pixel.png", "/uri", "Chrome", page_origin.as_str(), "default-src"]
    {
        assert!(!contains(&bytes, needle.as_bytes()), "the store holds {needle:?}");
    }
    let log = server.log_text();
    for needle in ["alice", "tracker.invalid", "127.0.0.1", "Chrome"] {
        assert!(!log.contains(needle), "the log holds {needle:?}: {log}");
    }
}

#[test]
fn malformed_oversized_and_wrong_type_reports_are_refused_and_not_stored() {
    let dir = TempDir::new("consent-csp-bad");
    let server = Server::start(dir.path(), &["--k", "1"]);
    let a = server.addr;
    let csp = [("Content-Type", "application/csp-report")];
    let reports = [("Content-Type", "application/reports+json")];
    let good = br#"{"csp-report":{"document-uri":"https://shop.example/cart?id=9","effective-directive":"frame-src","blocked-uri":"https://video.example/embed/1"}}"#;

    for (headers, body, status, code) in [
        (&csp, &b"{\"csp-report\": "[..], 400, "malformed_json"),
        (&csp, br#"{"report":{}}"#, 400, "invalid_body"),
        (
            &csp,
            br#"{"csp-report":{"effective-directive":"tracking-src","blocked-uri":"inline"}}"#,
            400,
            "invalid_field",
        ),
        (
            &reports,
            br#"[{"type":"csp-violation","body":{"effectiveDirective":"img-src"}},{"type":"csp-violation"}]"#,
            400,
            "invalid_field",
        ),
        (&[("Content-Type", "text/plain")], &good[..], 415, "unsupported_media_type"),
    ] {
        let r = http(a, "POST", "/v1/csp-report", headers, Some(body));
        assert_eq!((r.status, r.error_code().as_str()), (status, code), "{}", String::from_utf8_lossy(body));
    }
    // Over the 32 KiB limit: a real body that parses, and a Content-Length never read.
    let padded = format!(
        r#"{{"csp-report":{{"effective-directive":"img-src","blocked-uri":"https://big.example","original-policy":"{}"}}}}"#,
        "x".repeat(33 * 1024)
    );
    let r = http(a, "POST", "/v1/csp-report", &csp, Some(padded.as_bytes()));
    assert_eq!((r.status, r.error_code().as_str()), (413, "body_too_large"));
    assert_eq!(violations(&server), json!([]), "nothing refused was counted");

    // A GET is 405; a disallowed origin is 403; the good report is 204 and counted once.
    assert_eq!(server.get("/v1/csp-report").status, 405);
    let evil = [("Content-Type", "application/csp-report"), ("Origin", "https://evil.example")];
    assert_eq!(http(a, "POST", "/v1/csp-report", &evil, Some(good)).status, 403);
    let r = http(a, "POST", "/v1/csp-report", &csp, Some(good));
    assert_eq!(r.status, 204, "{r:?}");
    assert!(r.body.is_empty());
    let v = violations(&server);
    assert_eq!(v[0]["directive"], "frame-src");
    assert_eq!(v[0]["count"], 1);
    assert_eq!(v[0]["blocked"], json!({ "https://video.example": 1 }));
    assert!(!contains(&db_bytes(&server.db), b"/cart"), "no page URL is stored");
}
