//! The Content-Security-Policy of a personalized site. Every inline script, `<style>` block
//! and `style` attribute of the site's pages, of Cohort's banner and of each slot's versions
//! is allowed by its hash. When the policy for the whole site fits in [`csp::HEADER_BUDGET`]
//! it goes into `_headers` (one policy for every page, what every host target serves); when
//! it does not (many pages, each with its own inline script), each page carries its own
//! policy in a `<meta http-equiv="Content-Security-Policy">` at the top of its head, and
//! `_headers` keeps only [`csp::HEADER_ONLY`] (the directives a meta policy cannot carry and
//! none that would block a hash). Either way no response's policy exceeds the budget unless
//! one page alone needs more, which is reported.

use super::{PageIn, SlotKey, site};
use crate::config::Site;
use crate::output::csp::{self, Sources};
use crate::render::SlotVersions;
use std::collections::HashMap;
use std::path::Path;

/// Where the policy goes, decided once for the site.
pub(super) struct Plan<'a> {
    /// The `_headers` policy.
    pub header: String,
    /// Whether each page carries its own policy.
    pub per_page: bool,
    pub warnings: Vec<String>,
    site: &'a Site,
    banner: Sources,
    slots: HashMap<&'a SlotKey, Sources>,
}

/// Decides where the policy goes. `banner` is what personalize injects into every page.
pub(super) fn plan_policy<'a>(
    site: &'a Site,
    pages: &'a [PageIn],
    versions: &'a HashMap<SlotKey, SlotVersions>,
    banner: &Sources,
    other_html: &[String],
    dir: &Path,
) -> Plan<'a> {
    let slots: HashMap<&SlotKey, Sources> = versions
        .iter()
        .map(|(k, v)| {
            let mut s = csp::scan(&v.default_html).0;
            for (_, _, html) in &v.cohorts {
                s.extend(&csp::scan(html).0);
            }
            (k, s)
        })
        .collect();
    let mut all = banner.clone();
    for p in pages {
        all.extend(&p.sources);
    }
    for s in slots.values() {
        all.extend(s);
    }
    let mut warnings = csp::missing_companions(site);
    for f in other_html {
        // Not full pages (fragments a theme fetches): their scripts run only if a page
        // inserts them, under that page's policy; hashed in when the policy is site-wide.
        if let Ok(text) = std::fs::read_to_string(dir.join(f)) {
            all.extend(&csp::scan(&text).0);
        }
    }
    let whole = csp::policy_for(site, &all);
    let mut plan = Plan { header: whole, per_page: false, warnings: Vec::new(), site, banner: banner.clone(), slots };
    if !csp::fits_header(&plan.header) {
        plan.per_page = true;
        plan.header = csp::HEADER_ONLY.to_string();
        for p in pages {
            if let Some(policy) = plan.page_policy(p)
                && !csp::fits_header(&policy)
            {
                warnings.push(format!(
                    "{}: its own Content-Security-Policy is {} bytes (more than {}): it has {} distinct inline scripts, styles and style attributes; move some into files",
                    p.file,
                    policy.len(),
                    csp::HEADER_BUDGET,
                    p.sources.scripts.len() + p.sources.styles.len() + p.sources.style_attrs.len()
                ));
            }
        }
    }
    plan.warnings = warnings;
    plan
}

impl Plan<'_> {
    /// The page's own policy when pages carry one.
    fn page_policy(&self, page: &PageIn) -> Option<String> {
        if !self.per_page {
            return None;
        }
        let mut s = self.banner.clone();
        s.extend(&page.sources);
        for (_, key) in &page.slots {
            if let Some(v) = self.slots.get(key) {
                s.extend(v);
            }
        }
        Some(csp::policy_for(self.site, &s))
    }

    /// The meta element for the page, when pages carry their own policy.
    pub(crate) fn page_meta(&self, page: &PageIn) -> Option<String> {
        self.page_policy(page).map(|p| csp::meta_tag(&p))
    }
}

/// The page with `meta` (between the injection markers, so a re-run removes it) at the top
/// of its head: after `<head>` and a `<meta charset>` right after it, which must stay within
/// the first 1,024 bytes.
pub(super) fn with_meta(html: &str, meta: Option<&str>) -> String {
    let Some(meta) = meta else { return html.to_string() };
    let block = format!("{}{meta}{}", site::BEGIN, site::END);
    let at = head_top(html);
    format!("{}{block}{}", &html[..at], &html[at..])
}

/// Where the head's first content goes.
fn head_top(html: &str) -> usize {
    use crate::html::Token;
    let tokens = crate::html::tokens(html);
    let mut at = None;
    for t in &tokens {
        match t {
            Token::Start(tag) if tag.name == "head" => at = Some(tag.end),
            Token::Start(tag) if at.is_some() && tag.name == "meta" => {
                let charset = tag.attrs().iter().any(|a| a.name == "charset");
                if charset && html[at.unwrap_or(0)..tag.start].trim().is_empty() {
                    at = Some(tag.end);
                }
                break;
            }
            Token::Start(tag) if at.is_none() && tag.name == "html" => at = Some(tag.end),
            _ if at.is_some() => break,
            _ => {}
        }
    }
    at.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_goes_after_head_and_charset() {
        let m = Some("<meta http-equiv=x>");
        let b = format!("{}<meta http-equiv=x>{}", site::BEGIN, site::END);
        assert_eq!(
            with_meta("<html><head>\n<meta charset=utf-8><title>t</title></head></html>", m),
            format!("<html><head>\n<meta charset=utf-8>{b}<title>t</title></head></html>")
        );
        assert_eq!(with_meta("<html><head><title>t</title>", m), format!("<html><head>{b}<title>t</title>"));
        assert_eq!(site::strip(&with_meta("<html><head><title>t</title>", m)), "<html><head><title>t</title>");
    }
}
