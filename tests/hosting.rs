//! Host routing, proved on real servers: the configuration `cohort hosting` prints is
//! loaded into nginx and Caddy (Debian packages) on loopback ports, and the Cloudflare
//! worker runs under Node. A request carrying `cohort_ID` gets the variant where one exists
//! and the default elsewhere; no cookie or an unknown cohort gets the default.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a test waits for a server to start or answer: generous for a busy machine,
/// bounded so a broken server fails the test; every wait ends as soon as it is answered.
const PATIENCE: Duration = Duration::from_secs(60);

struct Server(Child);
impl Drop for Server {
    /// A graceful stop first (nginx's workers exit with their master on SIGTERM), then a kill.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A plain HTTP/1.0 GET; returns (status, headers, body).
fn get(port: u16, path: &str, cookie: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{cookie}\r\n").expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, head, raw[split + 4..].to_vec())
}

fn wait_for(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < PATIENCE, "server did not start on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Builds the basic fixture and returns (temp dir, output folder).
fn built_site() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    // Servers dropping privileges must be able to read the tree.
    let mut p = Some(shop.path());
    while let Some(dir) = p {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        p = dir.parent().filter(|d| d.starts_with(std::env::temp_dir()) && *d != std::env::temp_dir());
    }
    let root = shop.path().to_path_buf();
    (shop, root, out)
}

fn hosting(target: &str, root: &Path, out: &Path) -> String {
    let (code, stdout, stderr) =
        run(&["hosting", "--target", target, "--root", root.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

/// Every default page, and for each cohort the file a visitor with its cookie must get.
fn expectations(out: &Path) -> Vec<(String, Option<String>, PathBuf)> {
    let cohorts = ["outdoor", "kitchen"];
    let mut cases = Vec::new();
    let mut variants_seen = 0;
    for path in tree(out).keys().filter(|p| p.ends_with("index.html") && !p.starts_with("c/")) {
        let url = format!("/{}", path.trim_end_matches("index.html"));
        cases.push((url.clone(), None, out.join(path)));
        cases.push((url.clone(), Some("cohort_nope=1".to_string()), out.join(path)));
        for id in cohorts {
            let variant = out.join(format!("c/{id}/{path}"));
            let expected = if variant.is_file() {
                variants_seen += 1;
                variant
            } else {
                out.join(path)
            };
            cases.push((url.clone(), Some(format!("theme=dark; cohort_{id}=1")), expected));
        }
    }
    assert!(variants_seen >= 3, "the fixture has variants to route to");
    cases
}

fn check_routing(port: u16, out: &Path) {
    for (url, cookie, expected) in expectations(out) {
        let (status, head, body) = get(port, &url, cookie.as_deref());
        assert_eq!(status, 200, "{url} {cookie:?}: {head}");
        assert!(
            body == std::fs::read(&expected).unwrap(),
            "{url} with {cookie:?} did not serve {}",
            expected.display()
        );
        assert!(head.to_ascii_lowercase().contains("x-content-type-options: nosniff"), "{url}: {head}");
    }
    let (status, _, body) = get(port, "/no/such/page/", Some("cohort_outdoor=1"));
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("Page not found"));
    let fragment = tree(out).keys().find(|p| p.starts_with("_cohort/f/")).cloned().expect("a fragment");
    let (status, head, _) = get(port, &format!("/{fragment}"), None);
    assert_eq!(status, 200);
    assert!(head.contains("immutable"), "fragments are cached forever: {head}");
}

#[test]
fn nginx_routes_cookies_to_variants() {
    let (tmp, root, out) = built_site();
    let config = hosting("nginx", &root, &out);
    let port = free_port();
    let work = tmp.path().join("nginx");
    std::fs::create_dir_all(&work).unwrap();
    let w = work.display();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {w}/nginx.pid;\nerror_log {w}/error.log;\nevents {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  client_body_temp_path {w}/body;\n  proxy_temp_path {w}/proxy;\n  fastcgi_temp_path {w}/fastcgi;\n  uwsgi_temp_path {w}/uwsgi;\n  scgi_temp_path {w}/scgi;\n{}\n}}\n",
        config.replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
    );
    std::fs::write(work.join("nginx.conf"), conf).unwrap();
    let nginx = which("nginx");
    let child = Command::new(nginx)
        .args(["-c", work.join("nginx.conf").to_str().unwrap(), "-p", work.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nginx");
    let _server = Server(child);
    wait_for(port);
    check_routing(port, &out);
}

#[test]
fn caddy_routes_cookies_to_variants() {
    let (tmp, root, out) = built_site();
    let port = free_port();
    let config = hosting("caddy", &root, &out).replace(":80 {", &format!("http://127.0.0.1:{port} {{"));
    let file = tmp.path().join("Caddyfile");
    std::fs::write(
        &file,
        format!(
            "{{\n  admin off\n  auto_https off\n  storage file_system {}\n}}\n{config}",
            tmp.path().join("caddy-data").display()
        ),
    )
    .unwrap();
    let child = Command::new(which("caddy"))
        .args(["run", "--config", file.to_str().unwrap(), "--adapter", "caddyfile"])
        .env("HOME", tmp.path())
        .env("XDG_DATA_HOME", tmp.path())
        .env("XDG_CONFIG_HOME", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caddy");
    let _server = Server(child);
    wait_for(port);
    check_routing(port, &out);
}

#[test]
fn cloudflare_worker_routes_cookies_to_variants() {
    let (tmp, root, out) = built_site();
    let worker = tmp.path().join("worker.mjs");
    std::fs::write(&worker, hosting("cloudflare", &root, &out)).unwrap();
    let cases: Vec<serde_json::Value> = expectations(&out)
        .into_iter()
        .map(|(url, cookie, expected)| serde_json::json!({"url": url, "cookie": cookie, "expected": expected.strip_prefix(&out).unwrap().to_string_lossy()}))
        .collect();
    let script = format!(
        r#"import worker from {worker:?};
import {{ readFileSync, existsSync, statSync }} from "node:fs";
const root = {root:?};
const env = {{ ASSETS: {{ fetch: async (req) => {{
  let p = new URL(req.url).pathname;
  let file = root + p + (p.endsWith("/") ? "index.html" : "");
  if (!existsSync(file) || statSync(file).isDirectory()) return new Response("missing", {{ status: 404 }});
  return new Response(readFileSync(file), {{ status: 200 }});
}} }} }};
const cases = {cases};
let failures = 0;
for (const c of cases) {{
  const headers = c.cookie ? {{ Cookie: c.cookie }} : {{}};
  const res = await worker.fetch(new Request("https://shop.example.com" + c.url, {{ headers }}), env);
  const body = Buffer.from(await res.arrayBuffer());
  const want = readFileSync(root + "/" + c.expected);
  if (res.status !== 200 || !body.equals(want)) {{ failures++; console.error("FAIL", c.url, c.cookie, "wanted", c.expected); }}
}}
console.log(JSON.stringify({{ cases: cases.length, failures }}));
process.exit(failures ? 1 : 0);
"#,
        worker = worker.display().to_string(),
        root = out.display().to_string(),
        cases = serde_json::Value::Array(cases)
    );
    let test = tmp.path().join("run.mjs");
    std::fs::write(&test, script).unwrap();
    let output = Command::new(which("node")).arg(&test).output().expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("\"failures\":0"), "{stdout}");
}

#[test]
fn vercel_routes_come_before_the_filesystem() {
    let (_tmp, root, out) = built_site();
    let config: serde_json::Value = serde_json::from_str(&hosting("vercel", &root, &out)).expect("vercel.json parses");
    let routes = config["routes"].as_array().expect("routes");
    let fs_at = routes.iter().position(|r| r["handle"] == "filesystem").expect("filesystem handle");
    let cohort_routes: Vec<&serde_json::Value> = routes.iter().filter(|r| r.get("has").is_some()).collect();
    let redirects = read(&out.join("_redirects"));
    assert_eq!(cohort_routes.len(), redirects.lines().count(), "one route per variant");
    for r in &cohort_routes {
        let at = routes.iter().position(|x| x == *r).unwrap();
        assert!(at < fs_at, "cohort routes must run before the filesystem");
        let dest = r["dest"].as_str().unwrap();
        assert!(out.join(dest.trim_start_matches('/')).is_file(), "{dest} exists");
        assert!(r["has"][0]["key"].as_str().unwrap().starts_with("cohort_"));
    }
}

#[test]
fn netlify_gets_one_rule_per_variant_path() {
    let (_tmp, root, out) = built_site();
    let text = hosting("netlify", &root, &out);
    let redirects = read(&out.join("_redirects"));
    let variants: Vec<String> = tree(&out).keys().filter(|p| p.starts_with("c/")).cloned().collect();
    assert_eq!(redirects.lines().count(), variants.len());
    for line in redirects.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.len(), 4, "{line}");
        assert_eq!(parts[2], "200!");
        let id = parts[3].strip_prefix("Cookie=cohort_").expect("cookie condition");
        assert!(parts[1].starts_with(&format!("/c/{id}/")));
        assert!(out.join(format!("{}index.html", parts[1].trim_start_matches('/'))).is_file());
        assert!(text.contains(line));
    }
    assert!(read(&out.join("_headers")).contains("Vary: Cookie"));
}

fn which(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain(["/usr/sbin", "/usr/bin"]) {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    // Debian's package for `node` is `nodejs`.
    let package = if name == "node" { "nodejs" } else { name };
    panic!("{name} is not installed (apt-get install -y {package}); .ci/run installs it");
}
