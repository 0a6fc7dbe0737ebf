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
use crate::html::{self, origin_of, parse_attrs};

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
    // With no declared party that needs consent, only elements gated by hand concern the
    // pass: a page without their attributes comes back as it is, unscanned.
    if gate.parties.is_empty() && !has_hand_gated_attribute(html) {
        let mut out = html.to_string();
        if page && gate.consent_mode {
            add_consent_mode(&mut out, gate);
        }
        return Rewritten { html: out, findings: Vec::new(), gated: 0 };
    }
    let mut pass =
        Pass { html, gate, out: String::with_capacity(html.len() + 256), findings: Vec::new(), gated: 0, copied: 0 };
    pass.run();
    let Pass { mut out, findings, gated, .. } = pass;
    if page {
        if gated > 0 {
            add_gate_script(&mut out, gate);
        }
        if gate.consent_mode {
            add_consent_mode(&mut out, gate);
        }
    }
    Rewritten { html: out, findings, gated }
}

/// Whether `html` names an attribute of an element gated by hand, in any case (as HTML
/// allows): two SIMD substring searches over a lower-cased copy, far cheaper than a pass.
fn has_hand_gated_attribute(html: &str) -> bool {
    let lower = html.as_bytes().to_ascii_lowercase();
    let find = |needle: &[u8]| memchr::memmem::find(&lower, needle).is_some();
    find(b"data-cohort-purpose") || find(b"data-cohort-embed")
}

/// The elements the rewriter looks at.
const GATED_ELEMENTS: [&str; 7] = ["script", "iframe", "img", "source", "link", "template", "div"];

/// `rel` values of a `<link>` that load something (a plain hyperlink relation loads nothing).
const LOADING_RELS: [&str; 7] =
    ["stylesheet", "preload", "prefetch", "preconnect", "dns-prefetch", "icon", "modulepreload"];

/// One start tag the rewriter looks at.
struct Element<'h> {
    /// Lower case.
    name: String,
    /// Offset of its `<`.
    start: usize,
    /// Just after its `>`.
    after: usize,
    /// The text between the name and `>`, as written.
    attrs_text: &'h str,
    attrs: Vec<(String, String)>,
    /// The line of its `<`.
    line: usize,
}

impl Element<'_> {
    /// An attribute's value, character references decoded.
    fn attr(&self, name: &str) -> Option<String> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| html::decode_entities(v))
    }
}

/// One pass of the rewriter over a page: what is written so far and what was found.
struct Pass<'h, 'g> {
    html: &'h str,
    gate: &'g Gate,
    out: String,
    findings: Vec<Finding>,
    gated: usize,
    /// Bytes of `html` already in `out`.
    copied: usize,
}

impl<'h> Pass<'h, '_> {
    /// Walks the page's start tags (comments skipped) and gates each element that needs it.
    fn run(&mut self) {
        let html = self.html;
        let bytes = html.as_bytes();
        let mut lines = html::Lines::new(html);
        let mut at = 0;
        while let Some(i) = memchr::memchr(b'<', &bytes[at..]).map(|i| at + i) {
            if html[i..].starts_with("<!--") {
                at = html[i + 4..].find("-->").map_or(bytes.len(), |e| i + 4 + e + 3);
                continue;
            }
            let name_end =
                bytes[i + 1..].iter().position(|b| !b.is_ascii_alphanumeric()).map_or(bytes.len(), |p| i + 1 + p);
            let name = html[i + 1..name_end].to_ascii_lowercase();
            if !GATED_ELEMENTS.contains(&name.as_str()) {
                at = i + 1;
                continue;
            }
            let Some(end_of_tag) = tag_end(html, name_end) else { break };
            let attrs_text = &html[name_end..end_of_tag];
            let el = Element {
                name,
                start: i,
                after: end_of_tag + 1,
                attrs_text,
                attrs: html::parse_attrs(attrs_text),
                line: lines.line_at(i),
            };
            at = match el.name.as_str() {
                "div" => self.placeholder_div(&el),
                // The inert frames of placeholders are left alone (and so is any template:
                // its content does not load).
                "template" => html::find_ci(html, el.after, "</template").unwrap_or(bytes.len()),
                "script" => self.script(&el),
                "iframe" => self.iframe(&el),
                _ => self.url_element(&el),
            };
        }
        self.out.push_str(&html[self.copied..]);
    }

    /// Writes `with` in place of the page's bytes `from..to`.
    fn replace(&mut self, from: usize, to: usize, with: &str) {
        self.out.push_str(&self.html[self.copied..from]);
        self.out.push_str(with);
        self.copied = to;
    }

    /// Records a gated element and what was done to it.
    fn record_gated(&mut self, line: usize, message: String) {
        self.gated += 1;
        self.findings.push(Finding { line, problem: false, message });
    }

    /// A click-to-load placeholder (written here before, or by hand) counts as gated.
    fn placeholder_div(&mut self, el: &Element) -> usize {
        if el.attr("data-cohort-embed").is_some() {
            self.gated += 1;
        }
        el.after
    }

    /// A `<script>`: checked when gated by hand; made inert when it loads from a declared
    /// third party or, inline, names one. Returns where its body ends.
    fn script(&mut self, el: &Element) -> usize {
        let body_end = html::find_ci(self.html, el.after, "</script").unwrap_or(self.html.len());
        if let Some(p) = el.attr("data-cohort-purpose") {
            self.gated += 1;
            let ty = el.attr("type").unwrap_or_default();
            if !ty.eq_ignore_ascii_case("text/plain") {
                self.findings.push(Finding { line: el.line, problem: true, message: format!("a script marked data-cohort-purpose=\"{p}\" runs at once: give it type=\"text/plain\" so it waits for consent") });
            }
            check_purpose(self.gate, el.attr("src").as_deref(), &p, el.line, &mut self.findings);
            return body_end;
        }
        let src = el.attr("src");
        let ty = el.attr("type");
        let executable = html::is_executable_type(ty.as_deref());
        let party = match &src {
            Some(s) if executable => self.gate.party_of_url(s),
            None if executable => self.gate.party_in_code(&self.html[el.after..body_end]),
            _ => None,
        };
        let Some(t) = party else { return body_end };
        let mut tag = String::from("<script type=\"text/plain\"");
        tag.push_str(&format!(" data-cohort-purpose=\"{}\"", t.purpose.as_str()));
        if let Some(ty) = ty.filter(|t| !t.trim().is_empty()) {
            tag.push_str(&format!(" data-cohort-type=\"{}\"", html::escape(&ty)));
        }
        tag.push_str(&without(el.attrs_text, &["type"]));
        tag.push('>');
        let message = format!(
            "{} script from {} ({}) gated: it runs only after the visitor agrees to {}",
            if src.is_some() { "a" } else { "an inline" },
            t.display_name(),
            t.purpose.as_str(),
            t.purpose.as_str()
        );
        self.replace(el.start, el.after, &tag);
        self.record_gated(el.line, message);
        body_end
    }

    /// An `<iframe>` from a declared third party becomes a click-to-load placeholder.
    /// Returns the end of the frame.
    fn iframe(&mut self, el: &Element) -> usize {
        let html = self.html;
        let close = html::find_ci(html, el.after, "</iframe");
        let end = close.and_then(|c| tag_end(html, c + 1).map(|e| e + 1)).unwrap_or(el.after);
        let Some(src) = el.attr("src") else { return end };
        let Some(t) = self.gate.party_of_url(&src) else { return end };
        let frame_placeholder = placeholder(self.gate, t, el.attr("title").as_deref(), &html[el.start..end]);
        let message = format!(
            "a frame from {} ({}) replaced by a click-to-load placeholder",
            t.display_name(),
            t.purpose.as_str()
        );
        self.replace(el.start, end, &frame_placeholder);
        self.record_gated(el.line, message);
        end
    }

    /// `<img>`, `<source>` and loading `<link>`s from a declared third party: the URL moves
    /// to `data-cohort-*`, so nothing loads.
    fn url_element(&mut self, el: &Element) -> usize {
        if el.attr("data-cohort-purpose").is_some() {
            self.gated += 1;
            return el.after;
        }
        let is_link = el.name == "link";
        let url_attrs: &[&str] = if is_link { &["href"] } else { &["src", "srcset"] };
        let party = url_attrs.iter().filter_map(|a| el.attr(a)).find_map(|u| {
            // A srcset names the same origin in each candidate; its first URL decides.
            let first = u.split_whitespace().next().unwrap_or("").to_string();
            self.gate.party_of_url(&first)
        });
        let Some(t) = party else { return el.after };
        if is_link {
            let rel = el.attr("rel").unwrap_or_default().to_ascii_lowercase();
            if !rel.split_whitespace().any(|r| LOADING_RELS.contains(&r)) {
                return el.after;
            }
        }
        let mut tag = format!("<{} data-cohort-purpose=\"{}\"", el.name, t.purpose.as_str());
        tag.push_str(&renamed(el.attrs_text, url_attrs));
        tag.push('>');
        let message = format!(
            "{} from {} ({}) gated: it loads only after the visitor agrees to {}",
            if is_link { "a stylesheet or link" } else { "an image" },
            t.display_name(),
            t.purpose.as_str(),
            t.purpose.as_str()
        );
        self.replace(el.start, el.after, &tag);
        self.record_gated(el.line, message);
        el.after
    }
}

/// Adds `cohort-gate.js` before `</body>` (at the end without one), unless the page has it.
fn add_gate_script(out: &mut String, gate: &Gate) {
    if out.contains(&format!("{}{GATE_SCRIPT}\"", gate.base_path)) {
        return;
    }
    let tag = format!("<script src=\"{}{GATE_SCRIPT}\" defer></script>\n", gate.base_path);
    match rfind_ci(out.as_bytes(), b"</body") {
        Some(at) => out.insert_str(at, &tag),
        None => out.push_str(&tag),
    }
}

/// Adds the Consent Mode bridge first in `<head>` (at the start without one), unless the
/// page has it.
fn add_consent_mode(out: &mut String, gate: &Gate) {
    if out.contains(&format!("{}{CONSENT_MODE_SCRIPT}\"", gate.base_path)) {
        return;
    }
    let tag = format!("\n<script src=\"{}{CONSENT_MODE_SCRIPT}\"></script>", gate.base_path);
    match head_open_end(out) {
        Some(at) => out.insert_str(at, &tag),
        None => out.insert_str(0, tag.trim_start()),
    }
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
    let name = html::escape(t.display_name());
    let purpose = t.purpose.as_str();
    let what = if t.description.trim().is_empty() {
        title.map(html::escape).unwrap_or_else(|| "Embedded content".to_string())
    } else {
        html::escape(t.description.trim())
    };
    let policy = if t.policy_url.trim().is_empty() {
        String::new()
    } else {
        format!(" <a href=\"{}\" rel=\"noopener\">{name}'s privacy policy</a>.", html::escape(t.policy_url.trim()))
    };
    format!(
        "<div class=\"cohort-embed\" data-cohort-embed data-cohort-purpose=\"{purpose}\" data-cohort-provider=\"{name}\"><p class=\"cohort-embed-note\"><strong>{what}</strong> from {name} ({purpose}). It loads only when you allow it: {name} then receives your IP address and may store data on this device.{policy}</p><p class=\"cohort-embed-actions\"><button type=\"button\" class=\"cohort-choice\" data-cohort-load>Load from {name}</button> <a href=\"{}\">Allow {purpose} content on every page</a></p><template>{frame}</template></div>",
        html::escape(&gate.preferences_url)
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

/// The `>` that ends a start tag whose attributes begin at `from`; None when the page ends first.
fn tag_end(html: &str, from: usize) -> Option<usize> {
    Some(html::end_of_tag(html, from)).filter(|&e| e < html.len())
}

fn rfind_ci(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    bytes.windows(needle.len()).rposition(|w| w.eq_ignore_ascii_case(needle))
}

/// Just after the `<head ...>` start tag.
fn head_open_end(html: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut from = 0;
    while let Some(i) = html::find_ci(html, from, "<head") {
        if bytes.get(i + 5).is_some_and(|&b| b == b'>' || b.is_ascii_whitespace()) {
            return tag_end(html, i + 5).map(|e| e + 1);
        }
        from = i + 5;
    }
    None
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
    fn with_no_party_declared_only_hand_gated_elements_count() {
        let none = Gate { parties: vec![], ..gate(false) };
        let page = "<html><body><script src=\"https://www.googletagmanager.com/gtag/js\"></script></body></html>";
        let r = rewrite(page, &none);
        assert_eq!((r.html.as_str(), r.gated, r.findings.len()), (page, 0, 0), "nothing declared: nothing to gate");
        // A hand-gated element, its attribute in any case, still brings the gating script.
        let hand =
            "<html><body><script type=\"text/plain\" DATA-Cohort-Purpose=\"analytics\">x()</script></body></html>";
        let r = rewrite(hand, &none);
        assert_eq!(r.gated, 1);
        assert!(r.html.contains(GATE_SCRIPT), "{}", r.html);
        let with_mode = rewrite(page, &Gate { parties: vec![], ..gate(true) });
        assert!(with_mode.html.contains(CONSENT_MODE_SCRIPT), "consent mode is added to every page");
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
