//! Shared helpers for the consent-server integration tests: start the real binary on
//! 127.0.0.1 with a SQLite file in a fresh temporary directory, speak raw HTTP/1.1 to it, and
//! always stop it (the child is killed on drop).
#![allow(dead_code)]

pub mod pg;
pub mod worker;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const ORIGIN: &str = "https://shop.example";

/// How long a test waits for the server to start, answer or change state: generous for a
/// busy machine, bounded so a broken server fails the test. Waits end as soon as they can.
pub const PATIENCE: Duration = Duration::from_secs(60);
pub const UI: &str = "3fa9c1d2b07e44aa3fa9c1d2b07e44aa3fa9c1d2b07e44aa3fa9c1d2b07e44aa";

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cohort-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `cohort consent-server`; killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub log: PathBuf,
}

impl Server {
    /// Starts the server on `db` with `--allow-origin ORIGIN` and the extra arguments.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::start_db(&dir.join("consent.db"), &dir.join("server.log"), extra)
    }

    pub fn start_db(db: &Path, log: &Path, extra: &[&str]) -> Server {
        Server::start_command(Command::new(env!("CARGO_BIN_EXE_cohort")), db, log, extra)
    }

    /// Starts the server with a file size limit of `bytes` (`ulimit -f`, with SIGXFSZ
    /// ignored so a write over it fails with EFBIG, as on a full disk).
    pub fn start_file_limited(dir: &Path, bytes: u64, extra: &[&str]) -> Server {
        let mut sh = Command::new("sh");
        let script = format!("trap '' XFSZ; ulimit -f {}; exec \"$0\" \"$@\"", bytes / 512);
        sh.args(["-c", &script, env!("CARGO_BIN_EXE_cohort")]);
        Server::start_command(sh, &dir.join("consent.db"), &dir.join("server.log"), extra)
    }

    fn start_command(mut command: Command, db: &Path, log: &Path, extra: &[&str]) -> Server {
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("open log file");
        let mut child = command
            .arg("consent-server")
            .arg("--db")
            .arg(db)
            .args(["--bind", "127.0.0.1:0", "--allow-origin", ORIGIN])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawn cohort");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not print its address");
            }
        };
        let addr = line.trim().strip_prefix("listening on http://").and_then(|a| a.parse().ok()).unwrap_or_else(|| {
            let _ = child.kill();
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("unexpected first line {line:?}; log: {log}")
        });
        Server { child, addr, db: db.to_path_buf(), log: log.to_path_buf() }
    }

    pub fn get(&self, path: &str) -> Resp {
        http(self.addr, "GET", path, &[], None)
    }

    pub fn post_consent(&self, body: &str) -> Resp {
        http(self.addr, "POST", "/v1/consent", &[("Content-Type", "application/json")], Some(body.as_bytes()))
    }

    /// Sends a signal with kill(1) and waits (bounded) for the process to exit.
    pub fn signal_and_wait(&mut self, signal: &str) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn assert_healthy(&self) {
        let r = self.get("/healthz");
        assert_eq!(r.status, 200, "healthz: {r:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    pub fn error_code(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }
}

/// One request on a fresh connection (`Connection: close`).
pub fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(b) = body {
        raw.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    raw.push_str("\r\n");
    let mut bytes = raw.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    raw_request(addr, &bytes).expect("a complete response")
}

/// Sends raw bytes and reads one response (until the server closes or the length is read).
pub fn raw_request(addr: SocketAddr, bytes: &[u8]) -> Option<Resp> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    stream.set_read_timeout(Some(PATIENCE)).ok()?;
    stream.set_write_timeout(Some(PATIENCE)).ok()?;
    // A refused body may make the server stop reading; what was written is enough.
    let _ = stream.write_all(bytes);
    read_response(&mut stream)
}

/// Reads one response from a stream.
pub fn read_response(stream: &mut TcpStream) -> Option<Resp> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(len);
    Some(Resp { status, headers, body })
}

pub fn consent_body(policy: &str, personalization: bool, analytics: bool) -> String {
    serde_json::json!({
        "policy_version": policy,
        "purposes": { "personalization": personalization, "analytics": analytics },
        "ui": UI,
    })
    .to_string()
}

/// Every file belonging to the database (main, -wal, -shm), read as raw bytes.
pub fn db_bytes(db: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(name)) {
            all.extend_from_slice(&bytes);
        }
    }
    all
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
