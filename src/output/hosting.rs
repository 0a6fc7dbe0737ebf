//! The host files every build writes: `_headers` (security and cache headers) and
//! `_redirects` (cohort routing), in the format Netlify and Cloudflare Pages read. The
//! `hosting` module translates them for other hosts.

use crate::config::Site;

/// Cohort variant routes: (cohort id, site path of the default page), sorted.
pub type Variants = Vec<(String, String)>;

pub fn headers(site: &Site, variants: &Variants, csp: &str) -> String {
    let bp = &site.base_path;
    let mut out = format!(
        "{bp}*\n  Content-Security-Policy: {csp}\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: strict-origin-when-cross-origin\n  Permissions-Policy: interest-cohort=(), browsing-topics=()\n\n{bp}_cohort/f/*\n  Cache-Control: public, max-age=31536000, immutable\n\n{bp}_images/*\n  Cache-Control: public, max-age=31536000, immutable\n"
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
        let to = site.url(&format!("c/{id}/{path}"));
        out.push_str(&format!("{from} {to} 200! Cookie=cohort_{id}\n"));
    }
    out
}
