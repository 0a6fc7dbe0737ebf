//! Host routing on the hosts' own local runtimes, offline: Cloudflare Pages with `wrangler
//! pages dev` (its workerd runs the cohort `_worker.js` in front of the static assets, with
//! `_headers` and `_redirects`), and Netlify with `netlify dev --offline` (which applies
//! `_redirects`, cookie conditions included, and `_headers`). For each: a visitor with a
//! `cohort_ID` cookie gets the variant where one exists and the default elsewhere, no cookie or
//! an unknown cohort gets the default, the Content-Security-Policy of `_headers` arrives on
//! every page, and fragments are served (with their immutable caching on Pages; netlify dev
//! replaces every Cache-Control with its own `max-age=0`, so there the rule is checked in
//! `_headers` by tests/hosting.rs). Vercel has no local server without an account; its CLI's
//! `vercel build` runs offline and must accept the `vercel.json` of `cohort hosting`. Real
//! nginx and Caddy run in tests/hosting.rs.
//!
//! The runtimes are pinned in tests/runtimes (`npm ci --ignore-scripts`, run here when they
//! are missing). Each server runs in its own process group, which a guard ends on drop (also
//! when an assertion fails); every wait has a deadline.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a runtime may take to start, or a request to be answered (workerd and netlify-cli
/// start in seconds; this bound is for a busy machine).
const PATIENCE: Duration = Duration::from_secs(120);

/// A server and everything it started (workerd, netlify's static server): one process group,
/// ended on drop with SIGTERM, then SIGKILL after 5 s.
struct Group {
    child: Child,
    log: PathBuf,
}

impl Group {
    fn spawn(mut cmd: Command, log: PathBuf) -> Group {
        let file = std::fs::File::create(&log).expect("log file");
        let err = file.try_clone().expect("log file");
        cmd.stdin(Stdio::null()).stdout(file).stderr(err).process_group(0);
        let child = cmd.spawn().expect("the runtime starts");
        Group { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `GET /` on `port` is answered, failing with the runtime's log if it exits
    /// or the deadline passes.
    fn wait_ready(&mut self, port: u16) {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the runtime exited ({status}) before it was ready:\n{}", self.log());
            }
            if let Ok((200, _, _)) = try_get(port, "/", None) {
                return;
            }
            assert!(start.elapsed() < PATIENCE, "not ready on {port} within {PATIENCE:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: kill(2) with a negative pid signals the group this guard created.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left in the group (a grandchild that ignored SIGTERM).
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A plain HTTP/1.0 GET: (status, lower-cased head, body).
fn try_get(port: u16, path: &str, cookie: Option<&str>) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{cookie}Connection: close\r\n\r\n")?;
    // Framed by Content-Length or chunks, not by the close: workerd keeps an HTTP/1.0
    // connection open for seconds after the response.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let split = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other("closed before the end of headers"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    let length = header(&head, "content-length").first().and_then(|l| l.parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let done = match length {
            Some(len) => body.len() >= len,
            None if chunked => body.windows(5).any(|w| w == b"0\r\n\r\n") && chunks_complete(&body),
            None => false,
        };
        if done {
            break;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    if chunked {
        body = dechunk(&body).ok_or_else(|| std::io::Error::other("bad chunked body"))?;
    }
    Ok((status, head, body))
}

/// Whether a chunked body has arrived up to its last (empty) chunk.
fn chunks_complete(data: &[u8]) -> bool {
    dechunk(data).is_some()
}

fn get(port: u16, path: &str, cookie: Option<&str>) -> (u16, String, Vec<u8>) {
    try_get(port, path, cookie).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// The payload of a complete chunked body, or None while it is incomplete.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..eol]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        let chunk = data.get(eol + 2..eol + 2 + size)?;
        out.extend_from_slice(chunk);
        data = data.get(eol + 2 + size + 2..)?;
    }
}

fn header<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.lines().filter_map(|l| l.strip_prefix(&format!("{name}:"))).map(str::trim).collect()
}

/// `tests/runtimes` with its node_modules (npm ci --ignore-scripts the first time).
fn runtimes() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = repo().join("tests/runtimes");
        let bins = ["node_modules/.bin/wrangler", "node_modules/.bin/netlify", "node_modules/.bin/vercel"];
        if bins.iter().any(|b| !dir.join(b).is_file()) {
            let ok = Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("npm runs (apt-get install -y npm)");
            assert!(ok.success(), "npm ci in tests/runtimes failed");
        }
        dir
    })
}

/// The basic fixture, built: (temp dir, shop root, output folder).
fn built_site() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let root = shop.path().to_path_buf();
    (shop, root, out)
}

/// Every default page with no cookie, an unknown cohort and each cohort (plus another cookie
/// before it), and the file each must get.
fn expectations(out: &Path) -> Vec<(String, Option<String>, PathBuf)> {
    let mut cases = Vec::new();
    let mut variants = 0;
    for path in tree(out).keys().filter(|p| p.ends_with("index.html") && !p.starts_with("c/")) {
        let url = format!("/{}", path.trim_end_matches("index.html"));
        cases.push((url.clone(), None, out.join(path)));
        cases.push((url.clone(), Some("cohort_nope=1".to_string()), out.join(path)));
        for id in ["outdoor", "kitchen"] {
            let variant = out.join(format!("c/{id}/{path}"));
            let expected = if variant.is_file() {
                variants += 1;
                variant
            } else {
                out.join(path)
            };
            cases.push((url.clone(), Some(format!("theme=dark; cohort_{id}=1")), expected));
        }
    }
    assert!(variants >= 3, "the fixture has variants to route to");
    cases
}

/// The policy `_headers` gives every page.
fn csp_of(out: &Path) -> String {
    let headers = read(&out.join("_headers"));
    let line = headers.lines().find_map(|l| l.trim().strip_prefix("Content-Security-Policy:")).expect("a CSP");
    line.trim().to_string()
}

/// Checks every case; `Vary: Cookie` must be on every routed page, and also on the variant
/// responses when `vary_on_variants` (netlify dev applies `_headers` by the rewritten path,
/// so a variant served for `/` does not get the rule for `/`).
fn check_pages(port: u16, out: &Path, vary_on_variants: bool) -> usize {
    let csp = csp_of(out);
    let routed: Vec<String> =
        read(&out.join("_redirects")).lines().filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect();
    let cases = expectations(out);
    for (url, cookie, expected) in &cases {
        let (status, head, body) = get(port, url, cookie.as_deref());
        assert_eq!(status, 200, "{url} {cookie:?}: {head}");
        assert!(body == std::fs::read(expected).unwrap(), "{url} with {cookie:?} did not serve {}", expected.display());
        let policies = header(&head, "content-security-policy");
        assert_eq!(policies, vec![csp.to_ascii_lowercase().as_str()], "{url}: the CSP of _headers, once");
        assert!(header(&head, "x-content-type-options") == ["nosniff"], "{url}: {head}");
        let is_variant = expected.starts_with(out.join("c"));
        if routed.contains(url) && (vary_on_variants || !is_variant) {
            let vary = header(&head, "vary").join(",");
            assert!(vary.contains("cookie"), "{url} {cookie:?}: a routed page varies on the cookie: {head}");
        }
    }
    let (status, _, body) = get(port, "/no/such/page/", Some("cohort_outdoor=1"));
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("Page not found"), "the shop's 404 page");
    cases.len()
}

/// Each fragment, following at most one same-site redirect (Pages drops `.html`): the bytes
/// of the file, and the response head.
fn fragments(port: u16, out: &Path) -> Vec<String> {
    let mut heads = Vec::new();
    for path in tree(out).keys().filter(|p| p.starts_with("_cohort/f/")) {
        let (mut status, mut head, mut body) = get(port, &format!("/{path}"), None);
        if status == 308 || status == 301 {
            let location = header(&head, "location").first().map(|l| l.to_string()).expect("a location");
            assert!(location.starts_with("/_cohort/f/"), "stays on the fragment path: {location}");
            (status, head, body) = get(port, &location, None);
        }
        assert_eq!(status, 200, "{path}: {head}");
        assert!(body == std::fs::read(out.join(path)).unwrap(), "{path} bytes");
        heads.push(head);
    }
    assert!(!heads.is_empty(), "the fixture has fragments");
    heads
}

#[test]
fn cloudflare_pages_dev_routes_cookies_with_the_worker() {
    let (tmp, root, out) = built_site();
    let (code, worker, stderr) =
        run(&["hosting", "--target", "cloudflare", "--root", root.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(out.join("_worker.js"), worker).unwrap();
    let port = free_port();
    let mut cmd = Command::new(runtimes().join("node_modules/.bin/wrangler"));
    cmd.args(["pages", "dev", out.to_str().unwrap(), "--ip", "127.0.0.1", "--port", &port.to_string()])
        .args(["--inspector-port", &free_port().to_string(), "--compatibility-date", "2025-04-01"])
        .args(["--persist-to", tmp.path().join("state").to_str().unwrap(), "--show-interactive-dev-session=false"])
        .current_dir(tmp.path())
        .env("HOME", tmp.path())
        .env("XDG_CONFIG_HOME", tmp.path().join("config"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true");
    let mut server = Group::spawn(cmd, tmp.path().join("wrangler.log"));
    server.wait_ready(port);
    let cases = check_pages(port, &out, true);
    for head in fragments(port, &out) {
        assert_eq!(header(&head, "cache-control"), ["public, max-age=31536000, immutable"], "{head}");
    }
    // Pages read the other files too: the cohort rules of _redirects are refused there (no
    // conditions), which is why the worker routes.
    let log = server.log();
    assert!(log.contains("header rules"), "_headers was read:\n{log}");
    assert!(cases > 20, "{cases} requests");
}

#[test]
fn netlify_dev_routes_cookies_with_redirects_and_headers() {
    let (tmp, root, out) = built_site();
    let port = free_port();
    let mut cmd = Command::new(runtimes().join("node_modules/.bin/netlify"));
    cmd.args(["dev", "--offline", "--no-open", "--dir", "public", "--framework", "#static"])
        .args(["--port", &port.to_string()])
        .current_dir(&root)
        .env("HOME", tmp.path())
        .env("XDG_CONFIG_HOME", tmp.path().join("config"))
        .env("NETLIFY_TELEMETRY_DISABLED", "1")
        .env("BROWSER", "none");
    let mut server = Group::spawn(cmd, tmp.path().join("netlify.log"));
    server.wait_ready(port);
    let cases = check_pages(port, &out, false);
    for head in fragments(port, &out) {
        assert!(head.contains("content-security-policy"), "{head}");
    }
    assert!(cases > 20, "{cases} requests");
}

/// Vercel's own CLI (39.4.2, offline: a local project file stands in for `vercel pull`)
/// accepts the `vercel.json` of `cohort hosting --target vercel` and turns it into Build
/// Output whose routes send each cohort cookie to its variant in the main phase.
#[test]
fn vercel_build_accepts_the_vercel_json() {
    let (tmp, root, out) = built_site();
    let (code, config, stderr) =
        run(&["hosting", "--target", "vercel", "--root", root.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(root.join("vercel.json"), config).unwrap();
    std::fs::create_dir_all(root.join(".vercel")).unwrap();
    let project = r#"{"projectId":"prj_local","orgId":"team_local","settings":{"framework":null,"outputDirectory":"public","buildCommand":"true","installCommand":"true"}}"#;
    std::fs::write(root.join(".vercel/project.json"), project).unwrap();
    let output = Command::new(runtimes().join("node_modules/.bin/vercel"))
        .args(["build", "--yes"])
        .current_dir(&root)
        .env("HOME", tmp.path())
        .env("VERCEL_TELEMETRY_DISABLED", "1")
        .output()
        .expect("vercel runs");
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "vercel build:\n{log}");
    let built: serde_json::Value =
        serde_json::from_str(&read(&root.join(".vercel/output/config.json"))).expect("Build Output config");
    let routes = built["routes"].as_array().expect("routes");
    // Vercel's build drops the trailing `{"handle": "filesystem"}` (the filesystem then comes
    // after the main routes) and adds its error phase: the cohort routes must come before
    // the first phase change.
    let fs_at = routes.iter().position(|r| r.get("handle").is_some()).expect("a phase after the routes");
    let redirects = read(&out.join("_redirects"));
    for line in redirects.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let id = parts[3].trim_start_matches("Cookie=cohort_");
        let at = routes
            .iter()
            .position(|r| {
                r["has"][0]["key"] == format!("cohort_{id}") && r["dest"] == format!("{}index.html", parts[1])
            })
            .unwrap_or_else(|| panic!("no route for {line}"));
        assert!(at < fs_at, "{line}: in the main phase");
    }
    assert!(root.join(".vercel/output/static/index.html").is_file());
}
