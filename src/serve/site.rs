//! The site as `cohort serve` holds it: every output file in memory, in layers that mirror
//! the order in which `cohort build` writes them (rendered pages and fragments, then copied
//! static files, then the site-wide files), plus the `_headers` and `_redirects` rules
//! parsed from the files themselves so development routes and answers like a host would.

use crate::html::{self, Token};
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
/// looks a fragment up by hash. Slots without a fragment for `id` keep the default. The
/// slots are found with the tokenizer of [`crate::html`].
pub fn splice(page: &str, id: &str, fragment: impl Fn(&str) -> Option<Bytes>) -> String {
    let tokens = html::tokens(page);
    let mut out = String::with_capacity(page.len());
    let mut copied = 0;
    let mut i = 0;
    while i < tokens.len() {
        let Token::Start(tag) = &tokens[i] else {
            i += 1;
            continue;
        };
        let keys = tag.attrs().into_iter().find(|a| a.name == "data-cohort-keys").map(|a| a.value());
        // The slot's own content ends at its end tag; nested slots come with it.
        let close = keys.zip(html::matching_end(&tokens, i)).and_then(|(keys, end)| match tokens[end] {
            Token::End { start, .. } => Some((keys, end, start)),
            _ => None,
        });
        let Some((keys, end, content_end)) = close else {
            i += 1;
            continue;
        };
        let keys: HashMap<String, String> = serde_json::from_str(&keys).unwrap_or_default();
        if let Some(bytes) = keys.get(id).and_then(|h| fragment(h)) {
            out.push_str(&page[copied..tag.end - 1]);
            out.push_str(&format!(" data-cohort-shown=\"{id}\">"));
            out.push_str(&String::from_utf8_lossy(&bytes));
            copied = content_end;
        }
        i = end + 1;
    }
    out.push_str(&page[copied..]);
    out
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
