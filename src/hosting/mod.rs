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

pub use crate::output::hosting::HeaderRule;
use crate::output::hosting::parse_headers;

/// What the build decided about routing and headers.
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    /// The rules of `_headers`, in file order.
    pub rules: Vec<HeaderRule>,
    /// Default page path → cohort id → variant path.
    pub routes: BTreeMap<String, BTreeMap<String, String>>,
    /// The shop's cohort ids.
    pub cohorts: Vec<String>,
    /// The site's base path ("/" or "/shop/").
    pub base_path: String,
    /// Absolute folder the site is served from.
    pub site_dir: String,
    /// The text of `_headers`.
    pub headers_file: String,
    /// The text of `_redirects`.
    pub redirects_file: String,
}

/// The hosts `cohort hosting` writes configuration for.
pub const TARGETS: [&str; 5] = ["netlify", "cloudflare", "vercel", "nginx", "caddy"];

/// The cohort rules of `_redirects` (read by [`crate::output::hosting::parse_redirects`]):
/// default page path → cohort id → variant path.
pub fn parse_redirects(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut routes: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for route in crate::output::hosting::parse_redirects(text) {
        if let Some(id) = route.cohort() {
            routes.entry(route.from.clone()).or_default().insert(id.to_string(), route.to.clone());
        }
    }
    routes
}

impl HostConfig {
    /// The configuration read from a build's `_headers` and `_redirects`.
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
