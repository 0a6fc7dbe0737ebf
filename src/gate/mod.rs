//! Third parties under consent (SPEC section 5, invariant 12): the build-time HTML rewriter.
//!
//! [`rewrite`] takes a page's HTML and the shop's declarations ([`Gate`]) and returns the
//! page with every element that loads from a declared third party whose purpose needs
//! consent made inert, in the form consent managers share:
//!
//! - `<script src>` from such an origin, or an inline script that names it, becomes
//!   `<script type="text/plain" data-cohort-purpose="PURPOSE">` (an original `type`, such as
//!   `module`, is kept in `data-cohort-type`);
//! - an `<iframe>` becomes a click-to-load placeholder that names the provider and the
//!   purpose, with the frame kept inert in a `<template>`;
//! - `<img>`, `<source>` and `<link>` keep their URL in `data-cohort-src`, `data-cohort-srcset`
//!   or `data-cohort-href`.
//!
//! A page with gated elements (rewritten here or written so by hand) gets
//! `/cohort-gate.js`, which activates them once the visitor agrees; with
//! `google_consent_mode` every page gets `/cohort-consent-mode.js` first in its `<head>`.
//! The rewriter is idempotent: a rewritten page comes back unchanged. Cohort's build and
//! `cohort personalize` both call it, on every page they write.

use crate::config::{Purpose, Site, ThirdParty};
use crate::output::csp::{origin_of, parse_attrs};

/// The served path (under the site's base path) of the gating script.
pub const GATE_SCRIPT: &str = "cohort-gate.js";
/// The served path (under the site's base path) of the Consent Mode bridge.
pub const CONSENT_MODE_SCRIPT: &str = "cohort-consent-mode.js";

/// The declarations the rewriter works from, prepared once per site.
pub struct Gate {
    /// (origin, host, third party) for every origin of a party whose purpose needs consent.
    parties: Vec<(String, String, ThirdParty)>,
    base_path: String,
    preferences_url: String,
    consent_mode: bool,
}

/// Something the rewriter did or found, at a 1-based line of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The line of the element's start tag.
    pub line: usize,
    /// What happened, in words a merchant can act on.
    pub message: String,
    /// Whether it is a problem to fix (a marked element that would not wait for consent, a
    /// purpose that differs from the declaration) rather than a report of what was gated.
    pub problem: bool,
}

/// What [`rewrite`] returns.
#[derive(Debug, Clone)]
pub struct Rewritten {
    /// The page as it is to be written.
    pub html: String,
    /// One entry per element the rewriter gated or could not gate.
    pub findings: Vec<Finding>,
    /// Gated elements on the page (rewritten here or already in gated form).
    pub gated: usize,
}

impl Gate {
    /// The declarations of `site`.
    pub fn new(site: &Site) -> Gate {
        let privacy = &site.config.privacy;
        let mut parties = Vec::new();
        for t in privacy.third_parties.iter().filter(|t| t.purpose.needs_consent()) {
            for o in t.origins() {
                if let Some(origin) = origin_of(o) {
                    let host = origin.split_once("://").map_or(origin.as_str(), |(_, h)| h).to_string();
                    parties.push((origin, host, t.clone()));
                }
            }
        }
        Gate {
            parties,
            base_path: site.base_path.clone(),
            preferences_url: site.url("preferences/"),
            consent_mode: privacy.google_consent_mode,
        }
    }

    /// The party an absolute or protocol-relative URL loads from, when it needs consent.
    fn party_of_url(&self, url: &str) -> Option<&ThirdParty> {
        let url = url.trim();
        let owned;
        let url = if let Some(rest) = url.strip_prefix("//") {
            owned = format!("https://{rest}");
            owned.as_str()
        } else {
            url
        };
        let origin = origin_of(url)?;
        // http and https of the same host are the same provider.
        let host = origin.split_once("://").map_or(origin.as_str(), |(_, h)| h);
        self.parties.iter().find(|(o, h, _)| *o == origin || h == host).map(|(_, _, t)| t)
    }

    /// The party an inline script names (its code loads from that host).
    fn party_in_code(&self, code: &str) -> Option<&ThirdParty> {
        let lower = code.to_ascii_lowercase();
        self.parties.iter().find(|(_, h, _)| lower.contains(h.as_str())).map(|(_, _, t)| t)
    }
}

/// Gates the third-party elements of one page (see the module documentation).
pub fn rewrite(html: &str, gate: &Gate) -> Rewritten {
    rewrite_as(html, gate, true)
}

/// Gates the elements of a part of a page (a cohort slot's content, before it is hashed
/// into a fragment): as [`rewrite`], but adds no script, since the page around it does.
pub fn rewrite_fragment(html: &str, gate: &Gate) -> Rewritten {
    rewrite_as(html, gate, false)
}

fn rewrite_as(html: &str, gate: &Gate, page: bool) -> Rewritten {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 256);
    let mut findings = Vec::new();
    let mut gated = 0;
    let mut copied = 0; // bytes of `html` already in `out`
    let mut at = 0;
    let mut line = 1;
    let mut line_at = 0;
    let mut line_of = |pos: usize| {
        line += bytes[line_at..pos].iter().filter(|&&b| b == b'\n').count();
        line_at = pos;
        line
    };
    while let Some(i) = memchr::memchr(b'<', &bytes[at..]).map(|i| at + i) {
        if bytes[i..].starts_with(b"<!--") {
            at = find(bytes, i + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let name_end =
            bytes[i + 1..].iter().position(|b| !b.is_ascii_alphanumeric()).map_or(bytes.len(), |p| i + 1 + p);
        let name = html[i + 1..name_end].to_ascii_lowercase();
        if !matches!(name.as_str(), "script" | "iframe" | "img" | "source" | "link" | "template" | "div") {
            at = i + 1;
            continue;
        }
        let Some(end_of_tag) = tag_end(bytes, name_end) else { break };
        let attrs_text = &html[name_end..end_of_tag];
        let attrs = parse_attrs(attrs_text);
        let attr = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| decode(v));
        let start_line = line_of(i);
        let after_tag = end_of_tag + 1;
        match name.as_str() {
            "div" => {
                // A click-to-load placeholder (written here before, or by hand).
                at = after_tag;
                if attr("data-cohort-embed").is_some() {
                    gated += 1;
                }
            }
            "template" => {
                // The inert frames of placeholders are left alone (and so is any template:
                // its content does not load).
                at = find_ci(bytes, after_tag, b"</template").unwrap_or(bytes.len());
            }
            "script" => {
                let body_end = find_ci(bytes, after_tag, b"</script").unwrap_or(bytes.len());
                at = body_end;
                if let Some(p) = attr("data-cohort-purpose") {
                    gated += 1;
                    let ty = attr("type").unwrap_or_default();
                    if !ty.eq_ignore_ascii_case("text/plain") {
                        findings.push(Finding { line: start_line, problem: true, message: format!("a script marked data-cohort-purpose=\"{p}\" runs at once: give it type=\"text/plain\" so it waits for consent") });
                    }
                    check_purpose(gate, attr("src").as_deref(), &p, start_line, &mut findings);
                    continue;
                }
                let src = attr("src");
                let party = match &src {
                    Some(s) => gate.party_of_url(s),
                    None if is_executable_type(attr("type").as_deref()) => {
                        gate.party_in_code(&html[after_tag..body_end])
                    }
                    None => None,
                };
                let Some(t) = party else { continue };
                if src.is_some() && !is_executable_type(attr("type").as_deref()) {
                    continue;
                }
                let mut tag = String::from("<script type=\"text/plain\"");
                tag.push_str(&format!(" data-cohort-purpose=\"{}\"", t.purpose.as_str()));
                if let Some(ty) = attr("type").filter(|t| !t.trim().is_empty()) {
                    tag.push_str(&format!(" data-cohort-type=\"{}\"", escape(&ty)));
                }
                tag.push_str(&without(attrs_text, &["type"]));
                tag.push('>');
                out.push_str(&html[copied..i]);
                out.push_str(&tag);
                copied = after_tag;
                gated += 1;
                findings.push(Finding {
                    line: start_line,
                    problem: false,
                    message: format!(
                        "{} script from {} ({}) gated: it runs only after the visitor agrees to {}",
                        if src.is_some() { "a" } else { "an inline" },
                        t.display_name(),
                        t.purpose.as_str(),
                        t.purpose.as_str()
                    ),
                });
            }
            "iframe" => {
                let close = find_ci(bytes, after_tag, b"</iframe");
                let end = close.and_then(|c| tag_end(bytes, c + 1).map(|e| e + 1)).unwrap_or(after_tag);
                at = end;
                let Some(src) = attr("src") else { continue };
                let Some(t) = gate.party_of_url(&src) else { continue };
                out.push_str(&html[copied..i]);
                out.push_str(&placeholder(gate, t, attr("title").as_deref(), &html[i..end]));
                copied = end;
                gated += 1;
                findings.push(Finding {
                    line: start_line,
                    problem: false,
                    message: format!(
                        "a frame from {} ({}) replaced by a click-to-load placeholder",
                        t.display_name(),
                        t.purpose.as_str()
                    ),
                });
            }
            _ => {
                // img, source, link: the URL moves to data-cohort-*, so nothing loads.
                at = after_tag;
                if attr("data-cohort-purpose").is_some() {
                    gated += 1;
                    continue;
                }
                let url_attrs: &[&str] = if name == "link" { &["href"] } else { &["src", "srcset"] };
                let party = url_attrs.iter().filter_map(|a| attr(a)).find_map(|u| {
                    // A srcset names the same origin in each candidate; its first URL decides.
                    let first = u.split_whitespace().next().unwrap_or("").to_string();
                    gate.party_of_url(&first)
                });
                let Some(t) = party else { continue };
                if name == "link" {
                    let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
                    // A link that loads nothing (a plain hyperlink relation) stays.
                    if !rel.split_whitespace().any(|r| {
                        matches!(
                            r,
                            "stylesheet"
                                | "preload"
                                | "prefetch"
                                | "preconnect"
                                | "dns-prefetch"
                                | "icon"
                                | "modulepreload"
                        )
                    }) {
                        continue;
                    }
                }
                let mut tag = format!("<{name} data-cohort-purpose=\"{}\"", t.purpose.as_str());
                tag.push_str(&renamed(attrs_text, url_attrs));
                tag.push('>');
                out.push_str(&html[copied..i]);
                out.push_str(&tag);
                copied = after_tag;
                gated += 1;
                findings.push(Finding {
                    line: start_line,
                    problem: false,
                    message: format!(
                        "{} from {} ({}) gated: it loads only after the visitor agrees to {}",
                        if name == "link" { "a stylesheet or link" } else { "an image" },
                        t.display_name(),
                        t.purpose.as_str(),
                        t.purpose.as_str()
                    ),
                });
            }
        }
    }
    out.push_str(&html[copied..]);
    if !page {
        return Rewritten { html: out, findings, gated };
    }
    if gated > 0 && !out.contains(&format!("{}{GATE_SCRIPT}\"", gate.base_path)) {
        let tag = format!("<script src=\"{}{GATE_SCRIPT}\" defer></script>\n", gate.base_path);
        match rfind_ci(out.as_bytes(), b"</body") {
            Some(at) => out.insert_str(at, &tag),
            None => out.push_str(&tag),
        }
    }
    if gate.consent_mode && !out.contains(&format!("{}{CONSENT_MODE_SCRIPT}\"", gate.base_path)) {
        let tag = format!("\n<script src=\"{}{CONSENT_MODE_SCRIPT}\"></script>", gate.base_path);
        match head_open_end(out.as_bytes()) {
            Some(at) => out.insert_str(at, &tag),
            None => out.insert_str(0, tag.trim_start()),
        }
    }
    Rewritten { html: out, findings, gated }
}

/// A finding when a hand-gated element's purpose differs from its declaration.
fn check_purpose(gate: &Gate, src: Option<&str>, purpose: &str, line: usize, findings: &mut Vec<Finding>) {
    let declared = src.and_then(|s| gate.party_of_url(s)).map(|t| t.purpose);
    if !Purpose::ALL.iter().any(|p| p.as_str() == purpose) {
        findings.push(Finding {
            line,
            problem: true,
            message: format!(
                "data-cohort-purpose=\"{purpose}\" is not a purpose: use functional, analytics or marketing"
            ),
        });
    } else if let Some(d) = declared.filter(|d| d.as_str() != purpose) {
        findings.push(Finding {
            line,
            problem: true,
            message: format!("data-cohort-purpose=\"{purpose}\" but shop.toml declares this origin as {}", d.as_str()),
        });
    }
}

/// The click-to-load placeholder for a frame: it names the provider, the purpose and what
/// loading it means, and keeps the original frame (inert) in a `<template>`.
fn placeholder(gate: &Gate, t: &ThirdParty, title: Option<&str>, frame: &str) -> String {
    let name = escape(t.display_name());
    let purpose = t.purpose.as_str();
    let what = if t.description.trim().is_empty() {
        title.map(escape).unwrap_or_else(|| "Embedded content".to_string())
    } else {
        escape(t.description.trim())
    };
    let policy = if t.policy_url.trim().is_empty() {
        String::new()
    } else {
        format!(" <a href=\"{}\" rel=\"noopener\">{name}'s privacy policy</a>.", escape(t.policy_url.trim()))
    };
    format!(
        "<div class=\"cohort-embed\" data-cohort-embed data-cohort-purpose=\"{purpose}\" data-cohort-provider=\"{name}\"><p class=\"cohort-embed-note\"><strong>{what}</strong> from {name} ({purpose}). It loads only when you allow it: {name} then receives your IP address and may store data on this device.{policy}</p><p class=\"cohort-embed-actions\"><button type=\"button\" class=\"cohort-choice\" data-cohort-load>Load from {name}</button> <a href=\"{}\">Allow {purpose} content on every page</a></p><template>{frame}</template></div>",
        escape(&gate.preferences_url)
    )
}

/// Whether a `<script>` start tag's inside (its attributes) is a gated inline script:
/// `type="text/plain"`, `data-cohort-purpose`, no `src`. Its code runs once the visitor
/// agrees, so the CSP allows it by its hash.
pub fn is_gated_inline(attrs_text: &str) -> bool {
    let attrs = parse_attrs(attrs_text);
    let has = |n: &str| attrs.iter().any(|(k, _)| k == n);
    has("data-cohort-purpose")
        && !has("src")
        && attrs.iter().any(|(k, v)| k == "type" && v.trim().eq_ignore_ascii_case("text/plain"))
}

/// Whether a `type` attribute value makes a `<script>` executable.
fn is_executable_type(ty: Option<&str>) -> bool {
    let Some(t) = ty else { return true };
    let t = t.trim().to_ascii_lowercase();
    let t = t.split(';').next().unwrap_or("").trim();
    matches!(
        t,
        "" | "module" | "text/javascript" | "application/javascript" | "application/ecmascript" | "text/ecmascript"
    )
}

/// The attribute text with the named attributes removed (kept as written otherwise).
fn without(attrs_text: &str, names: &[&str]) -> String {
    rebuild(attrs_text, |n| if names.contains(&n) { None } else { Some(n.to_string()) })
}

/// The attribute text with the named attributes renamed to `data-cohort-NAME`.
fn renamed(attrs_text: &str, names: &[&str]) -> String {
    rebuild(attrs_text, |n| Some(if names.contains(&n) { format!("data-cohort-{n}") } else { n.to_string() }))
}

/// Re-serializes attributes (name → new name or dropped), values quoted with `"`.
fn rebuild(attrs_text: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::new();
    for (name, value) in parse_attrs(attrs_text) {
        let Some(n) = f(&name) else { continue };
        out.push(' ');
        out.push_str(&n);
        if !value.is_empty() || attrs_text.contains(&format!("{name}=")) {
            out.push_str("=\"");
            out.push_str(&value.replace('"', "&quot;"));
            out.push('"');
        }
    }
    out
}

/// The end (`>`) of a start tag whose attributes begin at `from`, skipping quoted values.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (k, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(k),
            None => {}
        }
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

fn find_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|p| from + p)
}

fn rfind_ci(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    bytes.windows(needle.len()).rposition(|w| w.eq_ignore_ascii_case(needle))
}

/// Just after the `<head ...>` start tag.
fn head_open_end(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find_ci(bytes, from, b"<head") {
        if bytes.get(i + 5).is_some_and(|&b| b == b'>' || b.is_ascii_whitespace()) {
            return tag_end(bytes, i + 5).map(|e| e + 1);
        }
        from = i + 5;
    }
    None
}

/// The few character references attribute values carry in practice.
fn decode(v: &str) -> String {
    if !v.contains('&') {
        return v.to_string();
    }
    v.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(consent_mode: bool) -> Gate {
        let party = |name: &str, origin: &str, purpose: Purpose| ThirdParty {
            name: name.into(),
            origin: origin.into(),
            purpose,
            kinds: vec![],
            description: String::new(),
            companions: vec![],
            stores: vec![],
            policy_url: "https://example.org/privacy".into(),
            reason: String::new(),
        };
        let mut parties = Vec::new();
        for t in [
            party("Analytics", "https://www.googletagmanager.com", Purpose::Analytics),
            party("YouTube", "https://www.youtube-nocookie.com", Purpose::Functional),
            party("Ads", "https://ads.example", Purpose::Marketing),
        ] {
            let host = t.origin.split_once("://").map(|(_, h)| h.to_string()).unwrap_or_default();
            parties.push((t.origin.clone(), host, t));
        }
        Gate { parties, base_path: "/".into(), preferences_url: "/preferences/".into(), consent_mode }
    }

    #[test]
    fn gates_scripts_frames_and_images_and_is_idempotent() {
        let html = "<!doctype html><html><head>\n<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-1\"></script>\n<script>gtag('config')</script>\n<script>var s='https://www.googletagmanager.com/gtm.js'</script>\n</head><body>\n<iframe src=\"https://www.youtube-nocookie.com/embed/x\" title=\"Video\"></iframe>\n<img src=\"https://ads.example/p.gif\" alt=\"\">\n<script src=\"/own.js\"></script><!-- <script src=\"https://ads.example/x.js\"></script> -->\n</body></html>";
        let r = rewrite(html, &gate(false));
        assert_eq!(r.gated, 4, "{}", r.html);
        assert!(r.html.contains("<script type=\"text/plain\" data-cohort-purpose=\"analytics\" async src=\"https://www.googletagmanager.com/gtag/js?id=G-1\"></script>"), "{}", r.html);
        assert!(r.html.contains("<script>gtag('config')</script>"), "an inline script that names no third party runs");
        assert!(r.html.contains("<script type=\"text/plain\" data-cohort-purpose=\"analytics\">var s="));
        assert!(
            r.html.contains("data-cohort-embed data-cohort-purpose=\"functional\" data-cohort-provider=\"YouTube\"")
        );
        assert!(r.html.contains(
            "<template><iframe src=\"https://www.youtube-nocookie.com/embed/x\" title=\"Video\"></iframe></template>"
        ));
        assert!(r.html.contains(
            "<img data-cohort-purpose=\"marketing\" data-cohort-src=\"https://ads.example/p.gif\" alt=\"\">"
        ));
        assert!(
            r.html.contains("<!-- <script src=\"https://ads.example/x.js\"></script> -->"),
            "comments are left alone"
        );
        assert!(r.html.contains("<script src=\"/own.js\"></script>"));
        assert!(r.html.contains("<script src=\"/cohort-gate.js\" defer></script>\n</body>"));
        let lines: Vec<usize> = r.findings.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![2, 4, 6, 7]);
        let again = rewrite(&r.html, &gate(false));
        assert_eq!(again.html, r.html, "a second pass changes nothing");
        assert_eq!(again.gated, 4);
    }

    #[test]
    fn fragments_are_gated_without_scripts() {
        let r =
            rewrite_fragment("<p>x</p><iframe src=\"https://www.youtube-nocookie.com/embed/y\"></iframe>", &gate(true));
        assert_eq!(r.gated, 1);
        assert!(r.html.contains("data-cohort-embed") && !r.html.contains("<script"), "{}", r.html);
    }

    #[test]
    fn pages_without_third_parties_are_unchanged() {
        let html = "<html><head><script src=\"/cohort.js\" defer></script></head><body><iframe src=\"/map.html\"></iframe></body></html>";
        let r = rewrite(html, &gate(false));
        assert_eq!(r.html, html);
        assert_eq!(r.gated, 0);
    }

    #[test]
    fn consent_mode_goes_first_in_head() {
        let r =
            rewrite("<html><head lang=\"en\"><script src=\"/x.js\"></script></head><body></body></html>", &gate(true));
        assert!(
            r.html.starts_with(
                "<html><head lang=\"en\">\n<script src=\"/cohort-consent-mode.js\"></script><script src=\"/x.js\">"
            ),
            "{}",
            r.html
        );
        assert_eq!(rewrite(&r.html, &gate(true)).html, r.html);
    }

    #[test]
    fn hand_gated_scripts_are_counted_and_checked() {
        let html = "<body><script type=\"text/plain\" data-cohort-purpose=\"marketing\" src=\"https://www.googletagmanager.com/x.js\"></script>\n<script data-cohort-purpose=\"analytics\">x()</script></body>";
        let r = rewrite(html, &gate(false));
        assert_eq!(r.gated, 2);
        assert_eq!(r.findings.len(), 2, "{:?}", r.findings);
        assert!(r.findings[0].message.contains("declares this origin as analytics"));
        assert_eq!(r.findings[1].line, 2);
        assert!(r.html.contains("cohort-gate.js"));
    }
}
