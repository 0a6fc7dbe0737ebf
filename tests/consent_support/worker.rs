//! The Cloudflare Worker of `cohort consent-worker` under `wrangler dev` (tests/runtimes pins
//! wrangler 4.9.1; its local workerd and D1 run offline): written into a temporary folder,
//! its D1 migration applied locally, served on a free loopback port and stopped (its whole
//! process group) on drop. A missing wrangler fails the test with what to run: never a skip.

use super::{PATIENCE, TempDir, http};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct WorkerDev {
    child: Child,
    pub addr: SocketAddr,
    pub dir: TempDir,
    pub log: PathBuf,
}

fn wrangler() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/runtimes/node_modules/.bin/wrangler");
    assert!(
        path.exists(),
        "wrangler is required by this test: run `npm ci --prefix tests/runtimes` (wrangler 4.9.1, pinned)"
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

impl WorkerDev {
    /// Writes the Worker with `cohort consent-worker --allow-origin ORIGIN` and `extra`, then
    /// serves it; returns once `/healthz` answers 200.
    pub fn start(origin: &str, extra: &[&str]) -> WorkerDev {
        let wrangler = wrangler();
        let dir = TempDir::new("worker");
        let out = dir.path().join("worker");
        let status = Command::new(env!("CARGO_BIN_EXE_cohort"))
            .args(["consent-worker", "--out"])
            .arg(&out)
            .args(["--allow-origin", origin])
            .args(extra)
            .stdout(Stdio::null())
            .status()
            .expect("run cohort consent-worker");
        assert!(status.success(), "cohort consent-worker failed");
        let state = dir.path().join("state");
        let migrate = Command::new(&wrangler)
            .args(["d1", "migrations", "apply", "cohort-consent", "--local", "--persist-to"])
            .arg(&state)
            .current_dir(&out)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "1")
            .output()
            .expect("run wrangler d1 migrations apply");
        assert!(migrate.status.success(), "migration failed: {}", String::from_utf8_lossy(&migrate.stderr));
        let log = dir.path().join("wrangler.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let port = free_port();
        let inspector = free_port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&wrangler)
                .args(["dev", "--local", "--ip", "127.0.0.1", "--port", &port.to_string()])
                .args(["--inspector-port", &inspector.to_string(), "--persist-to"])
                .arg(&state)
                .current_dir(&out)
                .env("WRANGLER_SEND_METRICS", "false")
                .env("CI", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::from(log_file.try_clone().expect("log")))
                .stderr(Stdio::from(log_file))
                .process_group(0)
                .spawn()
                .expect("start wrangler dev")
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut dev = WorkerDev { child, addr, dir, log };
        let deadline = Instant::now() + PATIENCE * 2;
        loop {
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && http(addr, "GET", "/healthz", &[], None).status == 200
            {
                return dev;
            }
            if let Ok(Some(status)) = dev.child.try_wait() {
                panic!("wrangler dev exited ({status}): {}", dev.log_text());
            }
            assert!(Instant::now() < deadline, "wrangler dev never became healthy: {}", dev.log_text());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Everything wrangler and the Worker printed (the Worker's console output included).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The raw bytes of every file of the local D1 (and any other local state).
    pub fn store_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        let mut stack = vec![self.dir.path().join("state")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    all.extend_from_slice(&bytes);
                }
            }
        }
        all
    }
}

impl Drop for WorkerDev {
    fn drop(&mut self) {
        // wrangler runs workerd as children: end the whole group this test started.
        let group = -(self.child.id() as i32);
        // SAFETY: kill(2) on the process group this test created; no memory is involved.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}
