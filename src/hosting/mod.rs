//! `cohort hosting`: routing and header configuration for each host, translated from the
//! `_headers` and `_redirects` files a build writes (so what a host gets is exactly what
//! the build decided). Hosts differ (SPEC section 6):
//!
//! - Netlify reads `_headers` and `_redirects` as they are: `Cookie=` matches a cookie's
//!   presence, and `200!` rewrites even though the default file exists.
//! - Vercel's rewrites run after the filesystem, so an existing default page would win: the
//!   cohort routes go in `routes` before `{"handle": "filesystem"}`.
//! - Cloudflare Pages' `_redirects` has no conditions: a `_worker.js` routes instead.
//! - nginx (`map` on the cookie, `try_files`) and Caddy (a matcher per cohort, `try_files`)
//!   fall back to the default file by themselves.

mod caddy;
pub mod ci;
mod cloudflare;
mod nginx;
mod vercel;

use std::collections::BTreeMap;
use std::path::Path;

/// A header rule: a path pattern (`*` matches anything) and its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    pub pattern: String,
    pub headers: Vec<(String, String)>,
}

/// What the build decided about routing and headers.
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    pub rules: Vec<HeaderRule>,
    /// Default page path → cohort id → variant path.
    pub routes: BTreeMap<String, BTreeMap<String, String>>,
    pub cohorts: Vec<String>,
    /// The site's base path ("/" or "/shop/").
    pub base_path: String,
    /// Absolute folder the site is served from.
    pub site_dir: String,
    pub headers_file: String,
    pub redirects_file: String,
}

pub const TARGETS: [&str; 5] = ["netlify", "cloudflare", "vercel", "nginx", "caddy"];

/// Parses Netlify-style `_headers`: a path line, then indented `Name: value` lines.
pub fn parse_headers(text: &str) -> Vec<HeaderRule> {
    let mut rules: Vec<HeaderRule> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let (Some(rule), Some((name, value))) = (rules.last_mut(), line.trim().split_once(':')) {
                rule.headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        } else {
            rules.push(HeaderRule { pattern: line.trim().to_string(), headers: Vec::new() });
        }
    }
    rules
}

/// Parses the cohort rules of `_redirects`: `FROM TO 200! Cookie=cohort_ID`.
pub fn parse_redirects(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut routes: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [from, to, _status, cond] = parts[..]
            && let Some(id) = cond.strip_prefix("Cookie=cohort_")
        {
            routes.entry(from.to_string()).or_default().insert(id.to_string(), to.to_string());
        }
    }
    routes
}

impl HostConfig {
    pub fn new(headers: &str, redirects: &str, cohorts: Vec<String>, base_path: &str, site_dir: &Path) -> HostConfig {
        HostConfig {
            rules: parse_headers(headers),
            routes: parse_redirects(redirects),
            cohorts,
            base_path: base_path.to_string(),
            site_dir: site_dir.display().to_string(),
            headers_file: headers.to_string(),
            redirects_file: redirects.to_string(),
        }
    }

    /// Headers every response gets (the rule for `BASE*`).
    pub fn global_headers(&self) -> Vec<(String, String)> {
        let all = format!("{}*", self.base_path);
        self.rules.iter().filter(|r| r.pattern == all).flat_map(|r| r.headers.clone()).collect()
    }

    /// Rules for a path prefix (`/_cohort/f/*` → ("/_cohort/f/", headers)), other than the
    /// global rule and the per-page `Vary: Cookie` rules.
    pub fn prefix_rules(&self) -> Vec<(String, Vec<(String, String)>)> {
        let all = format!("{}*", self.base_path);
        self.rules
            .iter()
            .filter(|r| r.pattern != all && r.pattern.ends_with('*'))
            .map(|r| (r.pattern.trim_end_matches('*').to_string(), r.headers.clone()))
            .collect()
    }

    /// The configuration for `target`.
    pub fn render(&self, target: &str) -> Option<String> {
        match target {
            "netlify" => Some(format!(
                "# cohort hosting --target netlify\n# Netlify reads these two files from the published folder; every `cohort build`\n# writes them there already. Shown here for reference.\n\n# ---- _redirects ----\n{}\n# ---- _headers ----\n{}",
                self.redirects_file, self.headers_file
            )),
            "vercel" => Some(vercel::render(self)),
            "cloudflare" => Some(cloudflare::render(self)),
            "nginx" => Some(nginx::render(self)),
            "caddy" => Some(caddy::render(self)),
            _ => None,
        }
    }
}
