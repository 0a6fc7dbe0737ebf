//! sitemap.xml, robots.txt and the Global Privacy Control well-known file.

use crate::config::Site;

/// Default pages only; cohort variants and fragments never appear.
pub fn sitemap(site: &Site, paths: &[(String, Option<String>)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (path, lastmod) in paths {
        out.push_str("  <url>\n    <loc>");
        out.push_str(&xml_escape(&site.permalink(path)));
        out.push_str("</loc>\n");
        if let Some(d) = lastmod {
            out.push_str(&format!("    <lastmod>{}</lastmod>\n", xml_escape(d)));
        }
        out.push_str("  </url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

/// robots.txt: everything allowed, the cohort variants and fragments left out, the sitemap named.
pub fn robots(site: &Site) -> String {
    format!(
        "User-agent: *\nDisallow: {0}{2}\nDisallow: {0}_cohort/\n\nSitemap: {1}\n",
        site.base_path,
        site.permalink(super::layout::SITEMAP),
        super::layout::VARIANTS
    )
}

/// `/.well-known/gpc.json`; `last_update` is the policy version when it is a date.
pub fn gpc(site: &Site) -> String {
    let v = &site.config.privacy.policy_version;
    let is_date = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if is_date { format!("{{\"gpc\": true, \"lastUpdate\": \"{v}\"}}\n") } else { "{\"gpc\": true}\n".to_string() }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
