//! HTTP for `cohort serve`: answers from the in-memory site like a static host would
//! (content types, `index.html` for folders, `/dir` → `/dir/`, the site's `404.html`, the
//! `_headers` rules and the cohort cookie routing of `_redirects`), plus the serve-only
//! routes under `/__cohort/` and the consent API.
//!
//! [`Server::answer`] has no I/O: a request value in, a [`Reply`] out, so the path rules are
//! tested directly. Paths are checked before anything is looked up: `..` and `.` segments,
//! backslashes, encoded slashes, NUL and control characters are refused with 403, overlong or
//! malformed targets get 404. Only files the build produced are in memory, so nothing outside
//! the site can be served whatever a path says; static files are read at build time and a
//! symlink whose target lies outside the shop is left out.

use super::livereload::{self, Hub};
use super::site::{Bytes, SiteFiles, pattern_matches, splice};
use crate::net::http::{Connection, Incoming, Timeouts};
use crate::net::pool::Ticket;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, PoisonError, RwLock};

/// Longest request target accepted.
pub const MAX_TARGET: usize = 2048;
/// Largest request body read (the consent API takes 4 KiB).
pub const MAX_BODY: usize = 4096;

/// A request as [`Server::answer`] sees it.
#[derive(Debug, Clone)]
pub struct Req {
    /// The request method.
    pub method: String,
    /// The request target: path and optional query.
    pub target: String,
    /// The `Cookie` header (the cohort cookie routes variants).
    pub cookie: Option<String>,
    /// The `Origin` header (for the consent API).
    pub origin: Option<String>,
    /// The `Content-Type` header (for the consent API).
    pub content_type: Option<String>,
    /// None when the body was longer than [`MAX_BODY`].
    pub body: Option<Vec<u8>>,
}

impl Default for Req {
    /// `GET /` with no headers and an empty body.
    fn default() -> Req {
        Req {
            method: "GET".into(),
            target: "/".into(),
            cookie: None,
            origin: None,
            content_type: None,
            body: Some(Vec::new()),
        }
    }
}

/// An answer: status, headers and body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }
    fn text(status: u16, body: &str) -> Reply {
        Reply::new(status, "text/plain; charset=utf-8", body.as_bytes())
    }
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The consent API as mounted in serve mode: a request in, a reply out (see
/// [`super::consent`]).
pub type ConsentHandler = dyn Fn(&Req) -> Option<Reply> + Send + Sync;

/// What serve answers from: the site in memory, the live-reload hub and the consent API.
pub struct Server {
    /// The served site, swapped in place by rebuilds.
    pub files: Arc<RwLock<SiteFiles>>,
    /// Open pages waiting for a reload or an error.
    pub hub: Arc<Hub>,
    /// The consent API under `/v1`, when serve mounts one.
    pub consent: Option<Box<ConsentHandler>>,
}

/// The content type of a file, by extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "wasm" => "application/wasm",
        _ => match path.rsplit('/').next() {
            Some(crate::output::layout::HEADERS | crate::output::layout::REDIRECTS) => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        },
    }
}

/// Checks a request path (without query) and returns it decoded, without the leading
/// slash. Err carries the status: 403 for an attempt to leave the site, 404 otherwise.
pub fn safe_path(raw: &str) -> Result<String, u16> {
    if raw.len() > MAX_TARGET || !raw.starts_with('/') {
        return Err(404);
    }
    let lower = raw.to_ascii_lowercase();
    if raw.contains(['\\', '\0']) || ["%5c", "%2f", "%00"].iter().any(|e| lower.contains(e)) {
        return Err(403);
    }
    let decoded = crate::html::percent_decode(raw).ok_or(404u16)?;
    let text = String::from_utf8(decoded).map_err(|_| 404u16)?;
    if text.chars().any(char::is_control) || text.contains('\\') {
        return Err(403);
    }
    let rest = &text[1..];
    let segments: Vec<&str> = rest.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if *seg == ".." || *seg == "." {
            return Err(403);
        }
        if seg.is_empty() && i + 1 != segments.len() {
            return Err(404);
        }
        if seg.len() > 255 {
            return Err(404);
        }
    }
    Ok(rest.to_string())
}

/// A query parameter's raw value.
fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

fn valid_cohort_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Server {
    /// Answers one request (everything but the event stream).
    pub fn answer(&self, req: &Req) -> Reply {
        let (path, query) = req.target.split_once('?').unwrap_or((req.target.as_str(), ""));
        let path = path.split('#').next().unwrap_or_default();
        if let Some(consent) = &self.consent
            && let Some(reply) = consent(req)
        {
            return reply;
        }
        if req.body.is_none() {
            return Reply::text(413, "request body too large");
        }
        if req.method != "GET" && req.method != "HEAD" {
            let mut r = Reply::text(405, "method not allowed");
            r.headers.push(("Allow".into(), "GET, HEAD".into()));
            return r;
        }
        if let Some(rest) = path.strip_prefix("/__cohort/") {
            return self.internal(rest);
        }
        let rel = match safe_path(path) {
            Ok(rel) => rel,
            Err(status) => return Reply::text(status, if status == 403 { "forbidden" } else { "not found" }),
        };
        let site = self.files.read().unwrap_or_else(PoisonError::into_inner);
        let Some(rel) = rel.strip_prefix(site.base_path.trim_start_matches('/')) else {
            return self.not_found(&site, path);
        };
        let rel = rel.to_string();
        if rel == crate::output::layout::HEADERS || rel == crate::output::layout::REDIRECTS {
            return self.not_found(&site, path);
        }
        let file = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.clone() };
        if !site.contains(&file) {
            if site.contains(&format!("{rel}/index.html")) {
                let mut location = format!("{path}/");
                if !query.is_empty() {
                    location = format!("{location}?{query}");
                }
                let mut r = Reply::text(301, "moved");
                r.headers.push(("Location".into(), location));
                return r;
            }
            return self.not_found(&site, path);
        }
        let preview = query_param(query, "cohort").filter(|id| valid_cohort_id(id));
        let (served, body) = match preview {
            Some(id) => self.preview(&site, &file, id),
            None => self.routed(&site, path, &file, req.cookie.as_deref()),
        };
        let Some(body) = body else {
            return self.not_found(&site, path);
        };
        self.reply(&site, 200, path, &served, &body)
    }

    /// The file and bytes for a request, after the cohort cookie routing of `_redirects`.
    fn routed(&self, site: &SiteFiles, url_path: &str, file: &str, cookie: Option<&str>) -> (String, Option<Bytes>) {
        if let (Some(cookie), Some(rules)) = (cookie, site.routes.get(url_path)) {
            let names: Vec<&str> = cookie.split(';').map(|c| c.trim().split('=').next().unwrap_or_default()).collect();
            for rule in rules {
                if names.contains(&rule.cookie.as_str()) {
                    let to = rule.to.strip_prefix(&site.base_path).unwrap_or(rule.to.trim_start_matches('/'));
                    let to_file =
                        if to.is_empty() || to.ends_with('/') { format!("{to}index.html") } else { to.to_string() };
                    if let Some(bytes) = site.get(&to_file) {
                        return (to_file, Some(bytes));
                    }
                }
            }
        }
        (file.to_string(), site.get(file))
    }

    /// The page as cohort `id` sees it: its full-page variant, or the default page with
    /// that cohort's fragments spliced into its slots.
    fn preview(&self, site: &SiteFiles, file: &str, id: &str) -> (String, Option<Bytes>) {
        let variant = crate::output::layout::variant(id, file);
        if let Some(bytes) = site.get(&variant) {
            return (variant, Some(bytes));
        }
        let Some(bytes) = site.get(file) else { return (file.to_string(), None) };
        if !file.ends_with(".html") {
            return (file.to_string(), Some(bytes));
        }
        let html = splice(&String::from_utf8_lossy(&bytes), id, |h| site.get(&crate::output::layout::fragment(h)));
        (file.to_string(), Some(Bytes::from(html.into_bytes())))
    }

    fn not_found(&self, site: &SiteFiles, url_path: &str) -> Reply {
        match site.get("404.html") {
            Some(body) => self.reply(site, 404, url_path, "404.html", &body),
            None => Reply::text(404, "not found"),
        }
    }

    /// A file with its type, the `_headers` rules of its path and, for HTML, the
    /// live-reload script.
    fn reply(&self, site: &SiteFiles, status: u16, url_path: &str, file: &str, body: &Bytes) -> Reply {
        let ctype = content_type(file);
        // `site` is locked for this response, so the build id is not newer than the page.
        let body =
            if ctype.starts_with("text/html") { livereload::inject(body, &self.hub.build_id()) } else { body.to_vec() };
        let mut r = Reply::new(status, ctype, body);
        for rule in &site.header_rules {
            if pattern_matches(&rule.pattern, url_path) {
                for (name, value) in &rule.headers {
                    r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                    r.headers.push((name.clone(), value.clone()));
                }
            }
        }
        if r.header("Cache-Control").is_none() {
            r.headers.push(("Cache-Control".into(), "no-cache".into()));
        }
        if ctype.starts_with("text/html") && !site.routes.is_empty() {
            r.headers.push(("Vary".into(), "Cookie".into()));
        }
        r
    }

    /// Serve-only routes: the live-reload script, the cohort list for the switcher, and
    /// the list and raw bytes of every file (for tests and tools).
    fn internal(&self, rest: &str) -> Reply {
        let site = self.files.read().unwrap_or_else(PoisonError::into_inner);
        match rest {
            "livereload.js" => Reply::new(200, "text/javascript; charset=utf-8", livereload::SCRIPT.as_bytes()),
            "cohorts.json" => Reply::new(200, "application/json", site.cohorts_json.to_vec()),
            "manifest.json" => {
                let paths: Vec<String> = site.paths().into_iter().collect();
                Reply::new(200, "application/json", serde_json::to_vec(&paths).unwrap_or_default())
            }
            _ => match rest.strip_prefix("raw/").map(|p| safe_path(&format!("/{p}"))) {
                Some(Ok(rel)) => match site.get(&rel) {
                    Some(bytes) => Reply::new(200, content_type(&rel), bytes.to_vec()),
                    None => Reply::text(404, "not found"),
                },
                Some(Err(status)) => Reply::text(status, "refused"),
                None => Reply::text(404, "not found"),
            },
        }
    }

    /// Serves one connection (on its own thread, from the shared accept loop of
    /// [`crate::net::pool`]): reads each request with the size and time bounds of
    /// [`crate::net::http`], answers it, and keeps the connection open while the client
    /// wants. The event stream keeps the connection for itself until the page goes away.
    pub fn serve_connection(&self, stream: TcpStream, ticket: Ticket, timeouts: Timeouts) {
        let mut conn = Connection::new(stream, timeouts, MAX_BODY, Some(ticket));
        loop {
            let (head, body, keep_alive) = match conn.next_request() {
                Incoming::Closed => return,
                Incoming::Refused(refusal) => {
                    let reply = Reply::text(refusal.status, refusal.message);
                    let _ = write(&mut conn, &reply, true, false);
                    conn.linger();
                    return;
                }
                Incoming::Request { head, body, keep_alive } => (head, body, keep_alive),
            };
            if head.method == "GET" && head.target.split('?').next() == Some(livereload::EVENTS) {
                self.event_stream(&mut conn, &head.target);
                return;
            }
            let unread_body = body.is_none();
            let req = Req {
                method: head.method.clone(),
                target: head.target.clone(),
                cookie: head.header("cookie").map(str::to_string),
                origin: head.header("origin").map(str::to_string),
                content_type: head.header("content-type").map(str::to_string),
                body,
            };
            let reply = self.answer(&req);
            let written = write(&mut conn, &reply, !keep_alive, head.method == "HEAD");
            if !keep_alive || written.is_err() {
                if unread_body {
                    conn.linger();
                }
                let _ = conn.stream().shutdown(Shutdown::Both);
                return;
            }
        }
    }

    /// Hands the connection to the live-reload hub (503 when too many pages are open).
    fn event_stream(&self, conn: &mut Connection, target: &str) {
        if self.hub.client_count() >= livereload::MAX_CLIENTS {
            let _ = write(conn, &Reply::text(503, "too many live-reload tabs"), true, false);
            return;
        }
        if let Ok(stream) = conn.stream().try_clone() {
            self.hub.stream(target, Box::new(stream));
        }
    }
}

/// Writes a reply on a connection.
fn write(conn: &mut Connection, reply: &Reply, close: bool, head_only: bool) -> std::io::Result<()> {
    let headers = reply.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    conn.respond(reply.status, headers, &reply.body, close, head_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_paths_are_refused() {
        for p in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/..%2fetc",
            "/..\\etc",
            "/%5c..%5cetc",
            "/a%00.html",
            "/./x",
        ] {
            assert_eq!(safe_path(p), Err(403), "{p}");
        }
        assert_eq!(safe_path("etc/passwd"), Err(404));
        assert_eq!(safe_path(&format!("/{}", "a".repeat(3000))), Err(404));
        assert_eq!(safe_path("/%zz"), Err(404));
        assert_eq!(safe_path("/products/x/"), Ok("products/x/".into()));
        assert_eq!(safe_path("/caf%C3%A9/"), Ok("café/".into()));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x.PNG"), "image/png");
        assert_eq!(content_type("sitemap.xml"), "application/xml");
        assert_eq!(content_type("blob"), "application/octet-stream");
    }
}
