//! The site as `cohort serve` holds it: every output file in memory, in layers that mirror
//! the order in which `cohort build` writes them (rendered pages and fragments, then copied
//! static files, then the site-wide files), plus the `_headers` and `_redirects` rules
//! parsed from the files themselves so development routes and answers like a host would.

use crate::output::layout;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A served file's bytes, shared between layers and responses.
pub type Bytes = Arc<[u8]>;

pub use crate::output::hosting::HeaderRule;
use crate::output::hosting::{parse_headers, parse_redirects};

/// One cohort rule of `_redirects`: requests for its path carrying cookie `cookie` get `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortRoute {
    /// The variant's site path.
    pub to: String,
    /// The cookie's name (`cohort_ID`).
    pub cookie: String,
}

/// Every file of the served site, in memory.
#[derive(Debug, Default)]
pub struct SiteFiles {
    /// Rendered pages, variants and fragments.
    pub pages: HashMap<String, Bytes>,
    /// Static and bundle files, copied as they are (they win over pages, as in a build).
    pub copied: HashMap<String, Bytes>,
    /// sitemap.xml, robots.txt, _headers, _redirects ... (win over everything).
    pub sitewide: HashMap<String, Bytes>,
    /// `_headers`, parsed.
    pub header_rules: Vec<HeaderRule>,
    /// Site path (as in `_redirects`, e.g. "/categories/x/") → rules in file order.
    pub routes: HashMap<String, Vec<CohortRoute>>,
    /// Site path prefix from base_url ("/" or "/shop/").
    pub base_path: String,
    /// `[{"id", "label"}]` of the shop's cohorts, for the preview switcher.
    pub cohorts_json: Bytes,
}

impl SiteFiles {
    /// The bytes at `rel` (relative to the site root, no leading slash).
    pub fn get(&self, rel: &str) -> Option<Bytes> {
        self.sitewide.get(rel).or_else(|| self.copied.get(rel)).or_else(|| self.pages.get(rel)).cloned()
    }

    /// Whether any layer has `rel`.
    pub fn contains(&self, rel: &str) -> bool {
        self.sitewide.contains_key(rel) || self.copied.contains_key(rel) || self.pages.contains_key(rel)
    }

    /// Every file path, sorted.
    pub fn paths(&self) -> BTreeSet<String> {
        self.pages.keys().chain(self.copied.keys()).chain(self.sitewide.keys()).cloned().collect()
    }

    /// Re-reads the rules after `_headers` or `_redirects` changed.
    pub fn refresh_rules(&mut self) {
        let text = |name: &str| self.sitewide.get(name).map(|b| String::from_utf8_lossy(b).into_owned());
        self.header_rules = text(layout::HEADERS).map(|t| parse_headers(&t)).unwrap_or_default();
        self.routes = HashMap::new();
        for route in text(layout::REDIRECTS).map(|t| parse_redirects(&t)).unwrap_or_default() {
            self.routes.entry(route.from).or_default().push(CohortRoute { to: route.to, cookie: route.cookie });
        }
    }
}

/// Whether a `_headers` pattern matches `path`: `*` stands for any run of characters
/// (slashes included), as on Netlify; everything else matches itself.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == path;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !path.starts_with(first) || path.len() < first.len() + last.len() || !path.ends_with(last) {
        return false;
    }
    let mut rest = &path[first.len()..path.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Shows a default page as cohort `id` sees it: each slot whose keys name `id` gets that
/// fragment's content inline and `data-cohort-shown`, as on a full-page variant. `fragment`
/// looks a fragment up by hash. Slots without a fragment for `id` keep the default.
pub fn splice(html: &str, id: &str, fragment: impl Fn(&str) -> Option<Bytes>) -> String {
    const KEYS: &str = "data-cohort-keys='";
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(KEYS) {
        let after_keys = &rest[at + KEYS.len()..];
        let Some(close) = after_keys.find('\'') else { break };
        let keys: HashMap<String, String> = serde_json::from_str(&after_keys[..close]).unwrap_or_default();
        let Some(tag_end) = after_keys[close..].find('>').map(|i| close + i) else { break };
        let head_len = at + KEYS.len() + tag_end;
        let content_start = head_len + 1;
        let Some(content_len) = slot_content_len(&rest[content_start..]) else { break };
        match keys.get(id).and_then(|h| fragment(h)) {
            Some(bytes) => {
                out.push_str(&rest[..head_len]);
                out.push_str(&format!(" data-cohort-shown=\"{id}\">"));
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            None => out.push_str(&rest[..content_start + content_len]),
        }
        rest = &rest[content_start + content_len..];
    }
    out.push_str(rest);
    out
}

/// Length of a slot's content: up to the `</div>` that closes the slot's own `<div>`.
fn slot_content_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with("</div>") {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
            i += 6;
        } else if rest.starts_with("<div") && rest[4..].starts_with([' ', '>', '\n', '\t']) {
            depth += 1;
            i += 4;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_patterns() {
        assert!(pattern_matches("/*", "/anything/at/all"));
        assert!(pattern_matches("/_cohort/f/*", "/_cohort/f/abc.html"));
        assert!(!pattern_matches("/_cohort/f/*", "/products/x/"));
        assert!(pattern_matches("/a/*/c", "/a/b/c"));
        assert!(pattern_matches("/exact", "/exact"));
        assert!(!pattern_matches("/exact", "/exact/"));
    }

    #[test]
    fn headers_file() {
        let rules = parse_headers("/*\n  X-A: 1\n  X-B: two: parts\n\n# c\n/f/*\n  Cache-Control: max-age=1\n");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].headers, vec![("X-A".into(), "1".into()), ("X-B".into(), "two: parts".into())]);
        assert_eq!(rules[1].pattern, "/f/*");
    }

    #[test]
    fn redirects_file() {
        let r = parse_redirects("/ /c/k/ 200! Cookie=cohort_k\n/x/ /c/k/x/ 200! Cookie=cohort_k\n/bad\n");
        let first = crate::output::hosting::Route { from: "/".into(), to: "/c/k/".into(), cookie: "cohort_k".into() };
        assert_eq!(r[0], first);
        assert_eq!(r[0].cohort(), Some("k"));
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn splicing_replaces_only_the_named_cohort() {
        let html = "<p>a</p><div class=\"cohort-slot\" data-cohort-slot=\"s\" data-cohort-keys='{\"k\":\"h1\"}'><div>default</div></div><p>b</p>";
        let frag: Bytes = Arc::from(&b"<i>cohort</i>"[..]);
        let out = splice(html, "k", |h| (h == "h1").then(|| frag.clone()));
        assert_eq!(
            out,
            "<p>a</p><div class=\"cohort-slot\" data-cohort-slot=\"s\" data-cohort-keys='{\"k\":\"h1\"}' data-cohort-shown=\"k\"><i>cohort</i></div><p>b</p>"
        );
        assert_eq!(splice(html, "other", |_| None), html);
    }
}
