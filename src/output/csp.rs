//! The Content-Security-Policy for `_headers`: the site's own origin, the consent endpoint's
//! origin for `connect-src`, the declared third parties, and the sha256 of every inline
//! executable script found in the rendered output (so a theme or a product's raw HTML that
//! adds one keeps working, and anything else inline is blocked). Never `'unsafe-inline'`
//! or `'unsafe-eval'`.

use crate::config::Site;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// `'sha256-BASE64'` sources of the inline scripts in `html` that a browser would execute.
/// Data blocks (`type="application/json"`, `application/ld+json`, ...) are not executed and
/// need no hash; scripts with `src` are covered by `'self'` or not at all.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = find_tag(bytes, at, b"<script") {
        let after_name = start + "<script".len();
        // `<scripts>` or `<script-x>` are other elements.
        if bytes.get(after_name).is_some_and(|&c| !(c.is_ascii_whitespace() || c == b'>' || c == b'/')) {
            at = after_name;
            continue;
        }
        let Some(tag_end) = memchr::memchr(b'>', &bytes[after_name..]).map(|i| after_name + i) else { break };
        let attrs = &html[after_name..tag_end];
        let body_start = tag_end + 1;
        let body_end = find_tag(bytes, body_start, b"</script").unwrap_or(bytes.len());
        // A gated inline script (`type="text/plain" data-cohort-purpose=...`, see
        // crate::gate) runs once cohort-gate.js activates it, so it needs its hash too.
        if is_executable(attrs) || crate::gate::is_gated_inline(attrs) {
            let digest = Sha256::digest(&bytes[body_start..body_end]);
            out.push(format!("'sha256-{}'", base64(&digest)));
        }
        at = body_end;
    }
    out
}

/// Where `tag` (starting with `<`, matched without regard to ASCII case) first appears in
/// `bytes` at or after `from`.
fn find_tag(bytes: &[u8], from: usize, tag: &[u8]) -> Option<usize> {
    let rest = bytes.get(from..)?;
    memchr::memchr_iter(b'<', rest)
        .map(|i| from + i)
        .find(|&i| bytes.get(i..i + tag.len()).is_some_and(|w| w.eq_ignore_ascii_case(tag)))
}

/// Whether a `<script>` with these attributes runs inline code.
fn is_executable(attrs: &str) -> bool {
    let attrs = parse_attrs(attrs);
    if attrs.iter().any(|(n, _)| n == "src") {
        return false;
    }
    match attrs.iter().find(|(n, _)| n == "type") {
        None => true,
        Some((_, t)) => {
            let t = t.trim().to_ascii_lowercase();
            let t = t.split(';').next().unwrap_or("").trim().to_string();
            t.is_empty()
                || t == "module"
                || t == "text/javascript"
                || t == "application/javascript"
                || t == "application/ecmascript"
                || t == "text/ecmascript"
        }
    }
}

/// Attribute names (lower case) and raw values of a start tag's inside.
pub fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            break;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                i = vs;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = s[vs..i.min(b.len())].to_string();
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = s[vs..i].to_string();
            }
        }
        out.push((name, value));
    }
    out
}

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL; None for a path.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// The policy value. `hashes` are `'sha256-...'` sources, sorted and unique. Each declared
/// third party (and its companions) appears only in the directives of its `kinds`.
pub fn policy(site: &Site, hashes: &BTreeSet<String>) -> String {
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
    let directive = |kind: LoadKind, extra: &[String]| -> String {
        let mut v = vec!["'self'".to_string()];
        for o in origins_for(kind).into_iter().chain(extra.iter().cloned()) {
            if !v.contains(&o) {
                v.push(o);
            }
        }
        v.join(" ")
    };
    let hashes: Vec<String> = hashes.iter().cloned().collect();
    let consent: Vec<String> = origin_of(&privacy.consent_endpoint).into_iter().collect();
    // A hosted checkout that takes a form post (PayPal, Foxy) is the one other form target.
    let form = match site.checkout.as_ref().and_then(crate::checkout::Checkout::form_origin) {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {script}; style-src {style}; img-src {img}; font-src {font}; connect-src {connect}; frame-src {frame}; media-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action {form}",
        script = directive(LoadKind::Script, &hashes),
        style = directive(LoadKind::Style, &[]),
        img = directive(LoadKind::Image, &[]),
        font = directive(LoadKind::Font, &[]),
        connect = directive(LoadKind::Connect, &consent),
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
