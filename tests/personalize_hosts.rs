//! Every host target serves the same Content-Security-Policy for the same page of a site
//! `cohort personalize` changed (SPEC section 6): `cohort hosting --site` translates the
//! `_headers` personalize wrote, and a page with inline scripts, a `<style>` block and
//! `style` attributes gets exactly that policy from real nginx and Caddy on loopback, from
//! the Cloudflare worker under Node, and from the parsed Vercel and Netlify files.

mod common;
mod personalize_support;

use personalize_support::{built_site, personalize, read};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);
/// The page under test: inline script (the layout's), `<style>` block, `style` attributes.
const PAGE: &str = "/styled/";

struct Server(Child);
impl Drop for Server {
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

/// The personalized fixture: (temp dir, shop root, site folder, the policy of `_headers`).
fn personalized() -> (tempfile::TempDir, PathBuf, PathBuf, String) {
    let dir = built_site(&[
        (
            "layouts/shortcodes/styled.html",
            "<style>.lamp{color:#a40}</style><p class=\"lamp\" style=\"display:none\">Sold out</p>\n",
        ),
        ("content/styled.md", "+++\ntitle = \"Styled\"\n+++\n{{< styled >}}\n"),
    ]);
    let root = dir.path().to_path_buf();
    let (code, out, err) = personalize(&root);
    assert_eq!(code, 0, "{out}{err}");
    let headers = read(&root, "_headers");
    let policy = headers
        .lines()
        .find_map(|l| l.trim().strip_prefix("Content-Security-Policy: "))
        .expect("a policy in _headers")
        .to_string();
    assert!(policy.contains("'unsafe-hashes'") && policy.contains("script-src 'self' 'sha256-"), "{policy}");
    // Servers dropping privileges must be able to read the tree.
    let mut p = Some(dir.path());
    while let Some(d) = p {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755));
        p = d.parent().filter(|d| d.starts_with(std::env::temp_dir()) && *d != std::env::temp_dir());
    }
    let site = root.join("public");
    (dir, root, site, policy)
}

fn hosting(target: &str, root: &Path, site: &Path) -> String {
    let (code, stdout, stderr) = common::run(&[
        "hosting",
        "--target",
        target,
        "--root",
        root.to_str().expect("utf-8"),
        "--site",
        site.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The Content-Security-Policy header and the body of GET `path`, once the server answers.
fn fetch(port: u16, path: &str) -> (Vec<String>, Vec<u8>) {
    let start = Instant::now();
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) => {
                assert!(start.elapsed() < PATIENCE, "no server on {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"), "{head}");
    let csp = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case("content-security-policy"))
        .map(|(_, v)| v.trim().to_string())
        .collect();
    (csp, raw[split + 4..].to_vec())
}

fn which(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain(["/usr/sbin", "/usr/bin"]) {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    let package = if name == "node" { "nodejs" } else { name };
    panic!("{name} is not installed (apt-get install -y {package}); .ci/run installs it");
}

fn page_bytes(site: &Path) -> Vec<u8> {
    std::fs::read(site.join("styled/index.html")).expect("the page")
}

#[test]
fn nginx_serves_the_policy_of_headers() {
    let (tmp, root, site, policy) = personalized();
    let config = hosting("nginx", &root, &site);
    let port = free_port();
    let work = tmp.path().join("nginx");
    std::fs::create_dir_all(&work).expect("mkdir");
    let w = work.display();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {w}/nginx.pid;\nerror_log {w}/error.log;\nevents {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  client_body_temp_path {w}/body;\n  proxy_temp_path {w}/proxy;\n  fastcgi_temp_path {w}/fastcgi;\n  uwsgi_temp_path {w}/uwsgi;\n  scgi_temp_path {w}/scgi;\n{}\n}}\n",
        config.replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
    );
    std::fs::write(work.join("nginx.conf"), conf).expect("write");
    let child = Command::new(which("nginx"))
        .args(["-c", &work.join("nginx.conf").display().to_string(), "-p", &work.display().to_string()])
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let _server = Server(child);
    let (csp, body) = fetch(port, PAGE);
    assert_eq!(csp, [policy], "nginx");
    assert!(body == page_bytes(&site));
}

#[test]
fn caddy_serves_the_policy_of_headers() {
    let (tmp, root, site, policy) = personalized();
    let port = free_port();
    let config = hosting("caddy", &root, &site).replace(":80 {", &format!("http://127.0.0.1:{port} {{"));
    let file = tmp.path().join("Caddyfile");
    let data = tmp.path().join("caddy-data");
    std::fs::write(
        &file,
        format!("{{\n  admin off\n  auto_https off\n  storage file_system {}\n}}\n{config}", data.display()),
    )
    .expect("write");
    let child = Command::new(which("caddy"))
        .args(["run", "--config", &file.display().to_string(), "--adapter", "caddyfile"])
        .env("HOME", tmp.path())
        .env("XDG_DATA_HOME", tmp.path())
        .env("XDG_CONFIG_HOME", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caddy");
    let _server = Server(child);
    let (csp, body) = fetch(port, PAGE);
    assert_eq!(csp, [policy], "caddy");
    assert!(body == page_bytes(&site));
}

/// Runs `script` (an ES module) under Node and returns its stdout.
fn node(tmp: &Path, script: &str) -> String {
    let file = tmp.join("run.mjs");
    std::fs::write(&file, script).expect("write");
    let output = Command::new(which("node")).arg(&file).output().expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn the_cloudflare_worker_sets_the_policy_of_headers() {
    let (tmp, root, site, policy) = personalized();
    let worker = tmp.path().join("worker.mjs");
    std::fs::write(&worker, hosting("cloudflare", &root, &site)).expect("write");
    // Pages' static assets, without any header of their own: what the worker sets is all
    // the browser gets.
    let script = format!(
        r#"import worker from {worker:?};
import {{ readFileSync }} from "node:fs";
const env = {{ ASSETS: {{ fetch: async (req) => {{
  const p = new URL(req.url).pathname;
  return new Response(readFileSync({root:?} + p + (p.endsWith("/") ? "index.html" : "")), {{ status: 200 }});
}} }} }};
for (const cookie of [null, "cohort_outdoor=1"]) {{
  const headers = cookie ? {{ Cookie: cookie }} : {{}};
  const res = await worker.fetch(new Request("https://shop.example.com{PAGE}", {{ headers }}), env);
  console.log(JSON.stringify({{ status: res.status, csp: res.headers.get("content-security-policy") }}));
}}
"#,
        worker = worker.display().to_string(),
        root = site.display().to_string(),
    );
    let out = node(tmp.path(), &script);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    for l in lines {
        assert_eq!(l["status"], 200, "{l}");
        assert_eq!(l["csp"].as_str(), Some(policy.as_str()), "{l}");
    }
}

#[test]
fn vercel_routes_give_the_page_the_policy_of_headers() {
    let (tmp, root, site, policy) = personalized();
    let config = hosting("vercel", &root, &site);
    serde_json::from_str::<serde_json::Value>(&config).expect("vercel.json parses");
    // Vercel's routes, as the platform applies them before the filesystem: every matching
    // route's headers, in order, until one without `continue`.
    let script = format!(
        r#"const config = {config};
const headers = {{}};
for (const r of config.routes) {{
  if (r.handle === "filesystem") break;
  if (r.has) continue;
  if (!new RegExp(r.src).test("{PAGE}")) continue;
  for (const [k, v] of Object.entries(r.headers || {{}})) headers[k.toLowerCase()] = v;
  if (!r.continue) break;
}}
console.log(JSON.stringify(headers["content-security-policy"] || null));
"#
    );
    let out = node(tmp.path(), &script);
    assert_eq!(serde_json::from_str::<String>(out.trim()).expect("a policy"), policy);
}

#[test]
fn netlify_headers_give_the_page_exactly_one_policy() {
    let (_tmp, root, site, policy) = personalized();
    let text = hosting("netlify", &root, &site);
    let headers = text.split("# ---- _headers ----\n").nth(1).expect("the _headers part");
    // Netlify applies every rule whose pattern matches; two policies would both apply.
    let mut found = Vec::new();
    let mut applies = false;
    for line in headers.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            let p = line.trim();
            applies = p.strip_suffix('*').map_or(p == PAGE, |prefix| PAGE.starts_with(prefix));
        } else if applies && let Some(v) = line.trim().strip_prefix("Content-Security-Policy: ") {
            found.push(v.to_string());
        }
    }
    assert_eq!(found, [policy]);
}
