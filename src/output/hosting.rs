//! Host configuration: `_headers` (security and cache headers) and `_redirects` (cohort
//! routing) for hosts that read them.

use crate::config::Site;

/// Cohort variant paths: (cohort id, site path of the default page).
pub type Variants = Vec<(String, String)>;

pub fn headers(site: &Site, csp: &str) -> String {
    let bp = &site.base_path;
    format!(
        "{bp}*\n  Content-Security-Policy: {csp}\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: strict-origin-when-cross-origin\n  Permissions-Policy: interest-cohort=(), browsing-topics=()\n\n{bp}_cohort/f/*\n  Cache-Control: public, max-age=31536000, immutable\n"
    )
}

pub fn redirects(site: &Site, variants: &Variants) -> String {
    let mut out = String::new();
    for (id, path) in variants {
        let from = site.url(path);
        let to = site.url(&format!("c/{id}/{path}"));
        out.push_str(&format!("{from} {to} 200! Cookie=cohort_{id}\n"));
    }
    out
}
