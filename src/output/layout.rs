//! Every path Cohort writes into a built site, formatted (and read back) in one place:
//! pages, cohort variants, content-addressed fragments and the site-wide files. The
//! renderer, the build, `cohort serve`, `cohort personalize` and the host files all take
//! their paths from here, so moving a file is a change to this module alone.

/// Folder of the content-addressed slot fragments (`_cohort/f/HASH.html`).
pub const FRAGMENTS: &str = "_cohort/f/";
/// Folder of the full-page cohort variants (`c/ID/PATH`).
pub const VARIANTS: &str = "c/";
/// The runtime script every page loads.
pub const RUNTIME: &str = "cohort.js";
/// The site's cohort list, which `cohort.js` fetches once personalization is on.
pub const COHORTS: &str = "_cohort/cohorts.json";
/// The sitemap.
pub const SITEMAP: &str = "sitemap.xml";
/// robots.txt.
pub const ROBOTS: &str = "robots.txt";
/// The Global Privacy Control statement.
pub const GPC: &str = ".well-known/gpc.json";
/// Security and cache headers, in the format Netlify and Cloudflare Pages read.
pub const HEADERS: &str = "_headers";
/// Cohort routing, in the format Netlify and Cloudflare Pages read.
pub const REDIRECTS: &str = "_redirects";
/// The Google Merchant Center product feed.
pub const GOOGLE_FEED: &str = "feeds/google.xml";
/// The privacy notice page (a site path).
pub const PRIVACY: &str = "privacy/";
/// The privacy preferences page (a site path).
pub const PREFERENCES: &str = "preferences/";

/// The file of the fragment with content hash `hash`.
pub fn fragment(hash: &str) -> String {
    format!("{FRAGMENTS}{hash}.html")
}

/// The file a site path is written to: `products/x/` → `products/x/index.html`; a path that
/// names an `.html` file (`404.html`) is its own file.
pub fn page_file(path: &str) -> String {
    if path.ends_with(".html") { path.to_string() } else { format!("{path}index.html") }
}

/// Cohort `id`'s variant of the output file (or site path) `file`: `c/ID/FILE`.
pub fn variant(id: &str, file: &str) -> String {
    format!("{VARIANTS}{id}/{file}")
}

/// The cohort id of a variant file (`c/ID/...`), if `file` is one.
pub fn variant_cohort(file: &str) -> Option<&str> {
    let (id, _) = file.strip_prefix(VARIANTS)?.split_once('/')?;
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_their_parts() {
        assert_eq!(fragment("abc"), "_cohort/f/abc.html");
        assert_eq!(page_file("products/x/"), "products/x/index.html");
        assert_eq!(page_file(""), "index.html");
        assert_eq!(page_file("404.html"), "404.html");
        assert_eq!(variant("outdoor", "index.html"), "c/outdoor/index.html");
        assert_eq!(variant_cohort("c/outdoor/categories/x/index.html"), Some("outdoor"));
        assert_eq!(variant_cohort("categories/x/index.html"), None);
    }
}
