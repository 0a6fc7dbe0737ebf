//! The host files every build writes: `_headers` (security and cache headers) and
//! `_redirects` (cohort routing), in the format Netlify and Cloudflare Pages read. The
//! `hosting` module translates them for other hosts.

use super::layout;
use crate::config::Site;

/// The cookie that routes a request to cohort `ID`'s variants is `cohort_ID`.
pub const COOKIE_PREFIX: &str = "cohort_";

/// One `_headers` block: a path pattern (`*` matches anything) and the headers it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    /// The path pattern, e.g. `/*` or `/_cohort/f/*`.
    pub pattern: String,
    /// (name, value) in file order.
    pub headers: Vec<(String, String)>,
}

/// One cohort rule of `_redirects`: a request for `from` carrying cookie `cookie` gets `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The default page's site path, e.g. `/categories/x/`.
    pub from: String,
    /// The variant's site path, e.g. `/c/outdoor/categories/x/`.
    pub to: String,
    /// The cookie's name, e.g. `cohort_outdoor`.
    pub cookie: String,
}

impl Route {
    /// The cohort id the rule's cookie names, if it is a cohort cookie.
    pub fn cohort(&self) -> Option<&str> {
        self.cookie.strip_prefix(COOKIE_PREFIX)
    }
}

/// Parses a Netlify `_headers` file: a path pattern on its own line, then its headers on
/// indented `Name: value` lines. Comments (`#`) and blank lines are skipped. The one reader
/// of the file, for `cohort serve` and `cohort hosting` alike.
pub fn parse_headers(text: &str) -> Vec<HeaderRule> {
    let mut rules: Vec<HeaderRule> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let (Some(rule), Some((name, value))) = (rules.last_mut(), trimmed.split_once(':')) {
                rule.headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        } else {
            rules.push(HeaderRule { pattern: trimmed.to_string(), headers: Vec::new() });
        }
    }
    rules
}

/// Parses the cohort rules of `_redirects`, in file order: `FROM TO 200! Cookie=NAME[,NAME]`
/// (other lines are ignored: the build writes only these). The one reader of the file.
pub fn parse_redirects(text: &str) -> Vec<Route> {
    let mut routes = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4 || fields[0].starts_with('#') || !fields[2].starts_with("200") {
            continue;
        }
        let Some(cookies) = fields[3..].iter().find_map(|f| f.strip_prefix("Cookie=")) else {
            continue;
        };
        for name in cookies.split(',') {
            routes.push(Route { from: fields[0].to_string(), to: fields[1].to_string(), cookie: name.to_string() });
        }
    }
    routes
}

/// Cohort variant routes: (cohort id, site path of the default page), sorted.
pub type Variants = Vec<(String, String)>;

/// `_headers`: the CSP and security headers for every path, immutable caching for fragments, `Vary: Cookie` on routed pages.
pub fn headers(site: &Site, variants: &Variants, csp: &str) -> String {
    let bp = &site.base_path;
    let reporting = crate::output::csp::reporting_endpoints(site)
        .map(|v| format!("\n  Reporting-Endpoints: {v}"))
        .unwrap_or_default();
    let mut out = format!(
        "{bp}*\n  Content-Security-Policy: {csp}{reporting}\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: strict-origin-when-cross-origin\n  Permissions-Policy: interest-cohort=(), browsing-topics=()\n\n{bp}{fragments}*\n  Cache-Control: public, max-age=31536000, immutable\n\n{bp}{images}/*\n  Cache-Control: public, max-age=31536000, immutable\n",
        fragments = layout::FRAGMENTS,
        images = crate::images::OUTPUT_DIR
    );
    let mut routed: Vec<&str> = variants.iter().map(|(_, p)| p.as_str()).collect();
    routed.sort();
    routed.dedup();
    for path in routed {
        out.push_str(&format!("\n{}\n  Vary: Cookie\n", site.url(path)));
    }
    out
}

/// One rule per variant path: a request carrying cookie `cohort_ID` gets `/c/ID/PATH`.
/// `200!` makes Netlify rewrite even though the default file exists.
pub fn redirects(site: &Site, variants: &Variants) -> String {
    let mut out = String::new();
    for (id, path) in variants {
        let from = site.url(path);
        let to = site.url(&layout::variant(id, path));
        out.push_str(&format!("{from} {to} 200! Cookie={COOKIE_PREFIX}{id}\n"));
    }
    out
}
