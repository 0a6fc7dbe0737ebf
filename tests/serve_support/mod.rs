//! Helpers for the `cohort serve` integration tests: start the real binary on a free
//! loopback port with a copy of a shop, talk raw HTTP over TcpStream (so no client
//! normalizes paths), read the live-reload event stream, and poll with a bound. The child
//! process is killed when the handle is dropped.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for what it expects (a rebuild, an event, a terminal line) before
/// it gives up: generous, because the tests run on busy machines, and bounded, so a defect
/// ends in a failure rather than a hang. Every wait returns as soon as its condition holds.
pub const REBUILD_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Served {
    child: Child,
    pub port: u16,
    pub root: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == &name.to_ascii_lowercase()).map(|(_, v)| v.as_str())
    }
}

/// Starts `cohort serve --root ROOT -p 0` and waits for `Serving on http://127.0.0.1:PORT`.
pub fn start(root: &Path) -> Served {
    start_with(root, &[])
}

/// [`start`] with extra arguments.
pub fn start_with(root: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(["serve", "--root", root.to_str().expect("utf8"), "-p", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cohort binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let stderr_pipe = child.stderr.take().expect("stderr");
    let stderr = Arc::new(Mutex::new(String::new()));
    let sink = stderr.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        for _ in lines {}
    });
    let first = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("cohort serve printed no address; stderr:\n{}", stderr.lock().unwrap());
        }
    };
    let port: u16 = first
        .strip_prefix("Serving on http://127.0.0.1:")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
    Served { child, port, root: root.to_path_buf(), stderr }
}

/// Sends `request` as is and reads the whole response (the server closes or sends
/// Content-Length bytes).
pub fn raw(port: u16, request: &[u8]) -> Resp {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(REBUILD_TIMEOUT)).expect("timeout");
    stream.write_all(request).expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if let Some(resp) = parse(&buf)
                    && resp.body.len() >= content_length(&resp)
                {
                    return resp;
                }
            }
            Err(_) => break,
        }
    }
    parse(&buf).unwrap_or_else(|| panic!("no HTTP response to {:?}", String::from_utf8_lossy(request)))
}

fn content_length(r: &Resp) -> usize {
    r.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(usize::MAX)
}

fn parse(buf: &[u8]) -> Option<Resp> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Resp { status, headers, body: buf[end + 4..].to_vec() })
}

impl Served {
    pub fn get(&self, target: &str) -> Resp {
        self.get_with(target, "")
    }

    /// GET with extra header lines (each ending in \r\n).
    pub fn get_with(&self, target: &str, extra: &str) -> Resp {
        let req = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n");
        raw(self.port, req.as_bytes())
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (for at most [`REBUILD_TIMEOUT`]) until the server has printed a terminal line
    /// that `check` accepts, and returns it. The server prints a rebuild's line before it
    /// sends the reload event, but the line reaches this process through a pipe and a reader
    /// thread, so a test that has seen the event must still wait for the line.
    pub fn wait_for_line(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let stderr = self.stderr();
            if let Some(line) = stderr.lines().find(|l| check(l)) {
                return line.to_string();
            }
            assert!(start.elapsed() < REBUILD_TIMEOUT, "the server never printed {what}; its stderr:\n{stderr}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls `target` until `check` accepts the body, for at most [`REBUILD_TIMEOUT`].
    pub fn wait_for(&self, target: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let body = self.get(target).text();
            if check(&body) {
                return body;
            }
            assert!(
                start.elapsed() < REBUILD_TIMEOUT,
                "{target} never showed {what}; last body:\n{body}\nserver stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every file the server holds, with its bytes (no live-reload tag).
    pub fn site(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        let list: Vec<String> = serde_json::from_slice(&self.get("/__cohort/manifest.json").body).expect("manifest");
        list.into_iter()
            .map(|p| {
                let r = self.get(&format!("/__cohort/raw/{}", encode(&p)));
                assert_eq!(r.status, 200, "raw {p}");
                (p, r.body)
            })
            .collect()
    }

    pub fn events(&self) -> Events {
        Events::open(self.port)
    }

    /// Opens `path` as a browser would: the page, and the event stream its live-reload
    /// script opens.
    pub fn open_page(&self, path: &str) -> LivePage<'_> {
        let html = self.get(path).text();
        let events = Events::open_at(self.port, &events_target(&html));
        LivePage { served: self, path: path.to_string(), html, events }
    }
}

/// The event-stream address the live-reload script of `html` connects to: the
/// `data-events` attribute of its script tag, as `livereload.js` reads it, or the bare
/// endpoint when the tag has none.
pub fn events_target(html: &str) -> String {
    let Some(at) = html.find("<script src=\"/__cohort/livereload.js\"") else {
        panic!("the page has no live-reload script:\n{html}")
    };
    let tag = &html[at..at + html[at..].find('>').unwrap_or(0)];
    tag.split_once("data-events=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(|| "/__cohort/events".to_string(), |(target, _)| target.replace("&amp;", "&"))
}

/// `html` without its live-reload script tag (None when it has none): the bytes the build
/// wrote.
pub fn without_livereload(html: &str) -> Option<String> {
    let start = html.find("<script src=\"/__cohort/livereload.js\"")?;
    let end = start + html[start..].find("</script>")? + "</script>".len();
    Some(format!("{}{}", &html[..start], &html[end..]))
}

/// A page open in a browser with the live-reload script running: the HTML it loaded and
/// the event stream the script holds. [`LivePage::follow`] does what the script does on
/// each event (a reload: drop the stream, load the page again, open a new stream from it).
pub struct LivePage<'a> {
    served: &'a Served,
    path: String,
    pub html: String,
    events: Events,
}

impl LivePage<'_> {
    /// The next event on the page's stream within [`REBUILD_TIMEOUT`].
    pub fn next_event(&self) -> Option<(String, serde_json::Value)> {
        self.events.next()
    }

    /// Reloads as the script does after a reload event; `beforestream` runs between
    /// loading the page and opening its new stream (a browser spends that time on the
    /// page's other requests and its scripts).
    pub fn reload(&mut self, beforestream: impl FnOnce(&str)) {
        self.events = Events::closed();
        self.html = self.served.get(&self.path).text();
        beforestream(&self.html);
        self.events = Events::open_at(self.served.port, &events_target(&self.html));
    }

    /// Follows the stream (reloading on each reload event, ignoring the others) until the
    /// page holds what `check` accepts; fails after [`REBUILD_TIMEOUT`].
    pub fn follow_until(&mut self, what: &str, check: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + REBUILD_TIMEOUT;
        let mut seen = Vec::new();
        while !check(&self.html) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.rx.recv_timeout(left) {
                Ok((name, data)) => {
                    seen.push(name.clone());
                    if name == "reload" && !data.contains("\"css_only\":true") {
                        self.reload(|_| {});
                    }
                }
                Err(_) => panic!(
                    "the page {} never showed {what}: no reload came to its stream (events seen: {seen:?}); the server serves:\n{}\nits stderr:\n{}",
                    self.path,
                    self.served.get(&format!("/__cohort/raw{}index.html", self.path)).text(),
                    self.served.stderr()
                ),
            }
        }
    }
}

/// Percent-encodes what a request line cannot carry as is.
pub fn encode(p: &str) -> String {
    p.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A live-reload event stream read on a thread; events arrive on a channel.
pub struct Events {
    rx: Receiver<(String, String)>,
    stream: Option<TcpStream>,
}

impl Drop for Events {
    /// Closes the connection (the reader thread holds a clone of it), as a page that goes
    /// away does.
    fn drop(&mut self) {
        if let Some(stream) = &self.stream {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Events {
    pub fn open(port: u16) -> Events {
        Events::open_at(port, "/__cohort/events")
    }

    /// A stream of `target` (the endpoint with a query, as a page's script opens it).
    pub fn open_at(port: u16, target: &str) -> Events {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("write");
        let reader = stream.try_clone().expect("clone");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut name = String::new();
            let mut data = String::new();
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                } else if line.is_empty()
                    && !name.is_empty()
                    && tx.send((std::mem::take(&mut name), std::mem::take(&mut data))).is_err()
                {
                    return;
                }
            }
        });
        Events { rx, stream: Some(stream) }
    }

    /// No stream (a page that is navigating away).
    fn closed() -> Events {
        Events { rx: channel().1, stream: None }
    }

    /// The next event named `name` within [`REBUILD_TIMEOUT`], skipping others.
    pub fn next_named(&self, name: &str) -> Option<serde_json::Value> {
        let deadline = Instant::now() + REBUILD_TIMEOUT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok((n, data)) if n == name => return serde_json::from_str(&data).ok(),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    /// The next event of any name.
    pub fn next(&self) -> Option<(String, serde_json::Value)> {
        self.rx.recv_timeout(REBUILD_TIMEOUT).ok().map(|(n, d)| (n, serde_json::from_str(&d).unwrap_or_default()))
    }
}

/// Copies a folder (the test fixtures) into `to`: the same helper the other tests use.
pub use common::copy_dir;

/// A copy of the `basic` fixture shop in a temporary folder.
pub fn basic_shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sites/basic"), dir.path());
    dir
}

/// Replaces the first `from` in `file` with `to`, writing through a temporary file and a
/// rename, as many editors save.
pub fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {file}: {e}"));
    assert!(text.contains(from), "{file} does not contain {from:?}");
    write_by_rename(&path, &text.replacen(from, to, 1));
}

pub fn write_by_rename(path: &Path, text: &str) {
    let tmp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap().to_string_lossy()));
    std::fs::write(&tmp, text).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename");
}

/// Builds `root` with `cohort build` into `out`.
pub fn build(root: &Path, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(["build", "--root", root.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .output()
        .expect("build runs");
    assert!(o.status.success(), "build failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// Every file under `dir` with its bytes.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}
