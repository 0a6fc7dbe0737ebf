//! The Content-Security-Policy: the site's own origin, the consent endpoint's origin for
//! `connect-src`, the declared third parties (each only in the directives of its `kinds`),
//! and the sha256 of every inline executable script, inline `<style>` block and `style`
//! attribute (the latter under CSP Level 3 `'unsafe-hashes'`) found in the pages. Never
//! `'unsafe-inline'` or `'unsafe-eval'`.
//!
//! What no hash can allow (inline event handlers such as `onclick`, `javascript:` URLs) is
//! reported by [`scan`] as a [`Finding`] with its place and a fix.
//!
//! A policy longer than [`HEADER_BUDGET`] does not go into a header: [`fits_header`]
//! tells the caller (personalize) to give each page its own policy in a
//! `<meta http-equiv="Content-Security-Policy">` ([`meta_tag`]) and the header only the
//! directives a meta policy cannot carry ([`HEADER_ONLY`]).

use crate::config::Site;
use crate::html::{self, Token};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The longest policy personalize puts into `_headers` (hosts and browsers refuse header
/// lines much longer than a few KiB; 4 KiB is within what all of them accept).
pub const HEADER_BUDGET: usize = 4096;

/// The header policy when each page carries its own in a meta element: the directives a
/// meta policy cannot set (`frame-ancestors`) and the ones that need no hash.
pub const HEADER_ONLY: &str = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'";

/// The inline sources of a page (or of a whole site): `'sha256-…'` values, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// Inline executable `<script>` elements.
    pub scripts: BTreeSet<String>,
    /// Inline `<style>` elements.
    pub styles: BTreeSet<String>,
    /// `style="…"` attributes (allowed with `'unsafe-hashes'`).
    pub style_attrs: BTreeSet<String>,
}

impl Sources {
    /// Adds everything of `other`.
    pub fn extend(&mut self, other: &Sources) {
        self.scripts.extend(other.scripts.iter().cloned());
        self.styles.extend(other.styles.iter().cloned());
        self.style_attrs.extend(other.style_attrs.iter().cloned());
    }
}

/// Something in a page that the policy blocks and no hash can allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Byte offset in the page.
    pub offset: usize,
    /// What it is, e.g. "inline event handler `onclick` on `<button>`".
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// The inline sources of `html` and what the policy would block in it.
pub fn scan(html: &str) -> (Sources, Vec<Finding>) {
    let mut sources = Sources::default();
    let mut findings = Vec::new();
    let mut open: Option<(String, bool)> = None;
    for token in html::tokens(html) {
        match token {
            Token::Start(tag) => {
                let attrs = tag.attrs();
                open = match tag.name.as_str() {
                    // A gated inline script runs once cohort-gate.js activates it (see
                    // inline_script_hashes): hashed too, so a re-run keeps its hash.
                    "script" => {
                        Some(("script".into(), is_executable(&attrs) || crate::gate::is_gated_inline(tag.attrs_text)))
                    }
                    "style" => Some(("style".into(), true)),
                    _ => None,
                };
                for a in &attrs {
                    check_attr(&tag.name, a, &mut sources, &mut findings);
                }
            }
            Token::Raw { element, text, .. } => {
                if let Some((name, true)) = &open
                    && *name == element
                {
                    let hash = hash_source(text.as_bytes());
                    if element == "script" {
                        sources.scripts.insert(hash);
                    } else {
                        sources.styles.insert(hash);
                    }
                }
                open = None;
            }
            Token::End { .. } => open = None,
        }
    }
    (sources, findings)
}

fn check_attr(tag: &str, a: &html::Attr, sources: &mut Sources, findings: &mut Vec<Finding>) {
    if a.name == "style" {
        sources.style_attrs.insert(hash_source(a.value().as_bytes()));
    } else if a.name.len() > 2 && a.name.starts_with("on") && a.name[2..].bytes().all(|c| c.is_ascii_lowercase()) {
        findings.push(Finding {
            offset: a.at,
            message: format!("inline event handler `{}` on <{tag}>: the Content-Security-Policy blocks it", a.name),
            fix: format!(
                "move the code into a script file and attach it with addEventListener(\"{}\", ...); for <link rel=\"preload\" onload=...> use a plain <link rel=\"stylesheet\">",
                &a.name[2..]
            ),
        });
    } else if matches!(a.name.as_str(), "href" | "src" | "action" | "formaction" | "xlink:href") {
        let v: String = a.value().chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
        if v.get(..11).is_some_and(|p| p.eq_ignore_ascii_case("javascript:")) {
            findings.push(Finding {
                offset: a.at,
                message: format!("`{}=\"javascript:…\"` on <{tag}>: the Content-Security-Policy blocks it", a.name),
                fix: "use a <button type=\"button\"> with a listener from a script file (or a real link target)".into(),
            });
        }
    }
}

/// `'sha256-BASE64'` of a source text.
fn hash_source(bytes: &[u8]) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(bytes)))
}

/// `'sha256-BASE64'` sources of the inline scripts in `html` that a browser would execute.
/// Data blocks (`type="application/json"`, `application/ld+json`, ...) are not executed and
/// need no hash; scripts with `src` are covered by `'self'` or not at all.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Most pages have none: a look at each `<script` tag spares them the full pass.
    if !html::script_tags_anywhere(html).any(|tag| runs_inline(&tag)) {
        return out;
    }
    let mut executable = false;
    for token in html::Tokens::new(html) {
        match token {
            // A gated inline script (`type="text/plain" data-cohort-purpose=...`, see
            // crate::gate) runs once cohort-gate.js activates it, so it needs its hash too.
            Token::Start(tag) => executable = tag.name == "script" && runs_inline(&tag),
            Token::Raw { element, text, .. } if element == "script" && executable => {
                out.push(hash_source(text.as_bytes()));
            }
            _ => executable = false,
        }
    }
    out
}

/// Whether a `<script>` start tag runs inline code, now or once cohort-gate.js activates it.
fn runs_inline(tag: &html::Tag) -> bool {
    is_executable(&tag.attrs()) || crate::gate::is_gated_inline(tag.attrs_text)
}

/// Whether a `<script>` with these attributes runs inline code.
fn is_executable(attrs: &[html::Attr]) -> bool {
    !attrs.iter().any(|a| a.name == "src")
        && html::is_executable_type(attrs.iter().find(|a| a.name == "type").map(|a| a.value()).as_deref())
}

use crate::html::origin_of;

/// Well-known providers whose first origin loads from a second one at run time: (origin,
/// companion, what the companion serves).
pub const KNOWN_COMPANIONS: [(&str, &str, &str); 7] = [
    ("https://fonts.googleapis.com", "https://fonts.gstatic.com", "the font files (kinds = [\"style\", \"font\"])"),
    ("https://www.youtube.com", "https://i.ytimg.com", "the video thumbnails"),
    ("https://www.youtube-nocookie.com", "https://i.ytimg.com", "the video thumbnails"),
    ("https://player.vimeo.com", "https://i.vimeocdn.com", "the video thumbnails"),
    ("https://www.googletagmanager.com", "https://www.google-analytics.com", "the measurement requests"),
    ("https://use.typekit.net", "https://p.typekit.net", "the font usage requests"),
    ("https://cdn.snipcart.com", "https://app.snipcart.com", "the cart API"),
];

/// The companion a well-known `origin` needs, with a sentence for a hint.
pub fn companion_of(origin: &str) -> Option<(&'static str, &'static str)> {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    KNOWN_COMPANIONS.iter().find(|(o, _, _)| *o == origin).map(|(_, c, what)| (*c, *what))
}

/// Warnings for declared third parties that lack the companion their provider needs.
pub fn missing_companions(site: &Site) -> Vec<String> {
    let mut out = Vec::new();
    for t in &site.config.privacy.third_parties {
        let Some((companion, what)) = companion_of(&t.origin) else { continue };
        if t.origins().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(companion)) {
            continue;
        }
        if site
            .config
            .privacy
            .third_parties
            .iter()
            .any(|o| o.origin.trim_end_matches('/').eq_ignore_ascii_case(companion))
        {
            continue;
        }
        out.push(format!(
            "shop.toml: third party {} loads {what} from {companion}, which the policy blocks; add companions = [\"{companion}\"] to its [[privacy.third_parties]] entry",
            t.origin
        ));
    }
    out
}

/// The policy value for a build: `hashes` are the inline scripts' `'sha256-...'` sources.
pub fn policy(site: &Site, hashes: &BTreeSet<String>) -> String {
    policy_for(site, &Sources { scripts: hashes.clone(), ..Sources::default() })
}

/// The policy value allowing `sources`. Each declared third party (and its companions)
/// appears only in the directives of its `kinds`.
pub fn policy_for(site: &Site, sources: &Sources) -> String {
    use crate::config::LoadKind;
    let privacy = &site.config.privacy;
    let origins_for = |kind: LoadKind| -> Vec<String> {
        let mut v: Vec<String> = privacy
            .third_parties
            .iter()
            .filter(|t| t.kinds.contains(&kind))
            .flat_map(|t| t.origins().filter_map(origin_of).collect::<Vec<_>>())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let directive = |kind: LoadKind, extra: &[&BTreeSet<String>]| -> String {
        let mut v = vec!["'self'".to_string()];
        v.extend(origins_for(kind));
        for set in extra {
            v.extend(set.iter().cloned());
        }
        v.join(" ")
    };
    let consent: BTreeSet<String> = origin_of(&privacy.consent_endpoint).into_iter().collect();
    let mut style = directive(LoadKind::Style, &[&sources.styles, &sources.style_attrs]);
    if !sources.style_attrs.is_empty() {
        style = style.replacen("'self'", "'self' 'unsafe-hashes'", 1);
    }
    // A hosted checkout that takes a form post (PayPal, Foxy) is the one other form target.
    let form = match site.checkout.as_ref().and_then(crate::checkout::Checkout::form_origin) {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {script}; style-src {style}; img-src {img}; font-src {font}; connect-src {connect}; frame-src {frame}; media-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action {form}",
        script = directive(LoadKind::Script, &[&sources.scripts]),
        img = directive(LoadKind::Image, &[]),
        font = directive(LoadKind::Font, &[]),
        connect = directive(LoadKind::Connect, &[&consent]),
        frame = directive(LoadKind::Frame, &[]),
    ) + &report_directives(site)
}

/// With a consent endpoint, violations are reported to `ENDPOINT/csp-report` (SPEC section
/// 7): `report-uri` for browsers without the Reporting API, `report-to` naming the
/// endpoint that [`reporting_endpoints`] declares.
fn report_directives(site: &Site) -> String {
    match csp_report_url(site) {
        Some(url) => format!("; report-uri {url}; report-to {REPORT_GROUP}"),
        None => String::new(),
    }
}

/// The group name of the violation report endpoint in `Reporting-Endpoints`.
pub const REPORT_GROUP: &str = "cohort-csp";

/// `ENDPOINT/csp-report` when a consent endpoint is configured.
pub fn csp_report_url(site: &Site) -> Option<String> {
    let e = site.config.privacy.consent_endpoint.trim().trim_end_matches('/');
    (!e.is_empty()).then(|| format!("{e}/csp-report"))
}

/// The `Reporting-Endpoints` header value that goes with the policy, if any.
pub fn reporting_endpoints(site: &Site) -> Option<String> {
    csp_report_url(site).map(|url| format!("{REPORT_GROUP}=\"{url}\""))
}

/// Whether a policy may go into `_headers` as it is.
pub fn fits_header(policy: &str) -> bool {
    policy.len() <= HEADER_BUDGET
}

/// The meta element of a page's own policy (without the directives a meta policy ignores:
/// `frame-ancestors`, `report-uri`, `report-to`, `sandbox`).
pub fn meta_tag(policy: &str) -> String {
    let kept: Vec<&str> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| {
            // Browsers ignore these in a meta policy, and say so in the console.
            !d.is_empty() && !["frame-ancestors", "report-uri", "report-to", "sandbox"].iter().any(|n| d.starts_with(n))
        })
        .collect();
    let content = kept.join("; ").replace('&', "&amp;").replace('"', "&quot;");
    format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{content}\">")
}

/// The policy of a page's `<meta http-equiv="Content-Security-Policy">`, if it has one.
pub fn meta_policy(html: &str) -> Option<String> {
    crate::html::find_ci(html, 0, "content-security-policy")?;
    html::tokens(html).into_iter().find_map(|t| match t {
        Token::Start(tag) if tag.name == "meta" => {
            let attrs = tag.attrs();
            let equiv = attrs.iter().find(|a| a.name == "http-equiv")?.value();
            if !equiv.trim().eq_ignore_ascii_case("content-security-policy") {
                return None;
            }
            Some(attrs.iter().find(|a| a.name == "content")?.value())
        }
        _ => None,
    })
}

/// Standard base64 with padding, for CSP hashes.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn finds_only_executable_inline_scripts() {
        let html = r#"<script type="application/json" id="c">{"a":1}</script>
<script src="/cohort.js" defer></script><script type="application/ld+json">{}</script>
<SCRIPT>alert(1)</SCRIPT><script type=module>x()</script><scripts>no</scripts>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2);
        // sha256("alert(1)") in base64, as browsers compute it.
        assert_eq!(hashes[0], "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
    }

    #[test]
    fn a_script_tag_that_is_not_a_script_element_has_no_hash() {
        // In a comment, in a style's text, in an attribute value: the quick look sees them,
        // the full pass knows they are not scripts.
        for html in [
            "<!-- <script>old()</script> --><p>x</p>",
            "<style>/* <script>x()</script> */</style>",
            r#"<p title="<script>x()</script>">y</p>"#,
            "<scripts>no</scripts><script src=/a.js></script><script type=application/json>{}</script>",
            "<script",
        ] {
            assert_eq!(inline_script_hashes(html), Vec::<String>::new(), "{html}");
        }
        let gated = r#"<script type="text/plain" data-cohort-purpose="analytics">track()</script>"#;
        assert_eq!(inline_script_hashes(gated).len(), 1, "a gated inline script is hashed too");
    }

    #[test]
    fn styles_attributes_and_what_no_hash_allows() {
        let html = "<style>p{color:red}</style>\n<p style=\"display:none\">x</p>\n<button onclick=\"go()\">b</button>\n<a href=\" JavaScript:void(0)\">a</a><a href=\"/javascript:\">ok</a>";
        let (s, f) = scan(html);
        assert_eq!(s.styles.len(), 1);
        assert_eq!(s.style_attrs, BTreeSet::from([hash_source(b"display:none")]));
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(html::line_col(html, f[0].offset).0, 3);
        assert!(f[0].message.contains("onclick"), "{}", f[0].message);
        assert!(f[1].message.contains("javascript:"), "{}", f[1].message);
    }

    #[test]
    fn meta_policy_drops_frame_ancestors() {
        let m = meta_tag("default-src 'self'; frame-ancestors 'none'; style-src 'self' 'sha256-a+b='");
        assert_eq!(
            m,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; style-src 'self' 'sha256-a+b='\">"
        );
        assert_eq!(companion_of("https://fonts.googleapis.com/").map(|c| c.0), Some("https://fonts.gstatic.com"));
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://Consent.Example.com:8443/v1").as_deref(),
            Some("https://consent.example.com:8443")
        );
        assert_eq!(origin_of("/v1"), None);
        assert_eq!(origin_of(""), None);
        assert_eq!(origin_of("javascript://x"), None);
    }
}
