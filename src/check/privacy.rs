//! Privacy rules on the built output (SPEC sections 2, 5, 6 and 9): nothing loads from an
//! undeclared origin; every inline script is allowed by the CSP in `_headers` by its hash;
//! only `cohort.js` touches cookies or storage; `/privacy/` and `/preferences/` exist and are
//! current (policy version, third parties); every cookie or storage key a script uses is
//! declared in the privacy notice.

use super::{Ctx, Finding, RefKind, Target};
use crate::html::decode_entities;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Every privacy rule on the scanned build: origins, inline scripts and the CSP, storage,
/// the declarations, gating.
pub fn audit(ctx: &Ctx) -> Vec<Finding> {
    let mut out = origins(ctx);
    out.extend(inline_scripts(ctx));
    out.extend(storage(ctx));
    out.extend(declarations(ctx));
    out.extend(gating(ctx));
    out
}

/// Hosts whose scripts measure or advertise: declaring one `necessary` (loaded without
/// consent) is almost always wrong.
const TRACKING_HOSTS: &[&str] = &[
    "googletagmanager.com",
    "google-analytics.com",
    "analytics.google.com",
    "doubleclick.net",
    "googlesyndication.com",
    "googleadservices.com",
    "connect.facebook.net",
    "facebook.com",
    "hotjar.com",
    "clarity.ms",
    "segment.com",
    "segment.io",
    "mixpanel.com",
    "plausible.io",
    "matomo.cloud",
    "bat.bing.com",
    "snap.licdn.com",
    "analytics.tiktok.com",
    "static.ads-twitter.com",
    "js.hs-scripts.com",
];

/// `privacy/necessary-third-party` (a warning): a third party declared `necessary` that
/// looks like analytics, advertising or a tag manager, or that only embeds frames (a video
/// or a map is a feature the visitor can click to load: functional).
fn declarations(ctx: &Ctx) -> Vec<Finding> {
    use crate::config::{LoadKind, Purpose};
    let toml = std::fs::read_to_string(ctx.shop.root.join("shop.toml")).unwrap_or_default();
    let mut out = Vec::new();
    for t in ctx.shop.site.config.privacy.third_parties.iter().filter(|t| t.purpose == Purpose::Necessary) {
        let line = toml.find(&format!("\"{}\"", t.origin)).map_or(0, |at| crate::html::line_of(&toml, at));
        let tracker = t.origins().find(|o| {
            let host = o.split_once("://").map_or(*o, |(_, h)| h).split('/').next().unwrap_or("").to_ascii_lowercase();
            TRACKING_HOSTS.iter().any(|h| host == *h || host.ends_with(&format!(".{h}")))
        });
        let why = if let Some(o) = tracker {
            format!(
                "{} ({o}) is declared necessary, but it is an analytics, advertising or tag-manager host: it would load before any choice",
                t.display_name()
            )
        } else if !t.kinds.is_empty() && t.kinds.iter().all(|k| *k == LoadKind::Frame) {
            format!(
                "{} is declared necessary, but it only embeds frames (a video, a map): visitors can click to load those",
                t.display_name()
            )
        } else {
            continue;
        };
        out.push(
            Finding::warning("privacy/necessary-third-party", "shop.toml", line, why).fix(
                "give it purpose = \"analytics\", \"marketing\" or \"functional\" so it waits for consent; keep necessary only for what the shop cannot work without (a payment provider's checkout)",
            ),
        );
    }
    out
}

/// `privacy/gated-element`: elements marked for consent that would not wait for it (a
/// `data-cohort-purpose` script without `type="text/plain"`) or whose purpose differs from
/// the declaration of their origin, as [`crate::gate::rewrite`] reports them.
fn gating(ctx: &Ctx) -> Vec<Finding> {
    let gate = crate::gate::Gate::new(&ctx.shop.site);
    ctx.built
        .scans
        .par_iter()
        .filter(|scan| scan.file.ends_with(".html") && !scan.file.starts_with("_cohort/"))
        .flat_map_iter(|scan| {
            let html = ctx.built.read(&scan.file).unwrap_or_default();
            crate::gate::rewrite(&html, &gate)
                .findings
                .into_iter()
                .filter(|f| f.problem)
                .map(|f| {
                    let (file, line) = ctx.locator.locate(&scan.file, f.line, "data-cohort-purpose");
                    Finding::error("privacy/gated-element", file, line, f.message)
                        .fix("write gated scripts as <script type=\"text/plain\" data-cohort-purpose=\"PURPOSE\" src=...>, with the purpose shop.toml declares for their origin")
                        .on_page(&scan.file)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `privacy/third-party-origin`: loads from other origins, in HTML, CSS and JS.
fn origins(ctx: &Ctx) -> Vec<Finding> {
    let allowed = ctx.allowed_origins();
    // The hosted checkout of `[checkout]` is where the add-to-cart and checkout forms post.
    let checkout_form = ctx.shop.site.checkout.as_ref().and_then(crate::checkout::Checkout::form_origin);
    let declare = "or, if it must stay, declare it in shop.toml: [[privacy.third_parties]] name = \"...\", origin = \"ORIGIN\", purpose = \"functional\" (or necessary, analytics, marketing), kinds = [\"KIND\"], description = \"...\" (it is then allowed by the CSP for those kinds and listed in the privacy notice)";
    ctx.built
        .scans
        .par_iter()
        .flat_map_iter(|scan| {
            let mut out = Vec::new();
            let mut report = |line: usize, url: &str, what: &str| {
                if let Target::External(origin) = ctx.target(&scan.file, url)
                    && !allowed.contains(&origin)
                    && !(what == "form" && checkout_form.as_deref() == Some(origin.as_str()))
                {
                    let (file, line) = ctx.locator.locate(&scan.file, line, url);
                    let first = match what {
                        "stylesheet" | "stylesheet url()" | "style url()" if url.contains("font") => {
                            "self-host the font (put the files in static/fonts/ and load them from there)"
                        }
                        "image" => "copy the image into static/images/ and link it from there",
                        "frame" => "link to the content instead of embedding it",
                        "form" => "post the form to this site or link to the other service",
                        _ => "copy the file into static/ and load it from there",
                    };
                    out.push(
                        Finding::error(
                            "privacy/third-party-origin",
                            file,
                            line,
                            format!("loads {origin} ({what}): {url}"),
                        )
                        .fix(format!("{first}, {}", declare.replace("ORIGIN", &origin)))
                        .on_page(&scan.file),
                    );
                }
            };
            for r in &scan.refs {
                let what = match r.kind {
                    RefKind::Link => continue,
                    RefKind::Load(w) => w,
                    RefKind::Submit => "form",
                };
                report(r.line, &r.url, what);
            }
            for s in &scan.scripts {
                for (line, url) in &s.js.urls {
                    report(*line, url, "script request");
                }
            }
            if let Some(js) = &scan.js {
                for (line, url) in &js.urls {
                    report(*line, url, "script request");
                }
            }
            out
        })
        .collect()
}

/// The `'sha256-…'` sources of `script-src` in `_headers`; None when there is no CSP.
fn csp_hashes(headers: &str) -> Option<HashSet<String>> {
    let mut found = None;
    for line in headers.lines() {
        let Some((name, value)) = line.trim().split_once(':') else { continue };
        if !name.trim().eq_ignore_ascii_case("content-security-policy") {
            continue;
        }
        let set: &mut HashSet<String> = found.get_or_insert_with(HashSet::new);
        for directive in value.split(';') {
            let mut parts = directive.split_whitespace();
            if matches!(parts.next(), Some("script-src" | "script-src-elem" | "default-src")) {
                set.extend(parts.filter(|p| p.starts_with("'sha256-")).map(str::to_string));
            }
        }
    }
    found
}

/// `privacy/inline-script-csp`: executable inline scripts the CSP does not allow;
/// `privacy/inline-script` (a warning): those it allows, because the build hashed them in.
fn inline_scripts(ctx: &Ctx) -> Vec<Finding> {
    let headers = ctx.built.read(crate::output::layout::HEADERS).unwrap_or_default();
    let hashes = csp_hashes(&headers);
    let mut out = Vec::new();
    for scan in ctx.built.scans.iter().filter(|s| !s.file.starts_with("_cohort/")) {
        // A page may carry its own policy (personalize does when one for the whole site would
        // not fit in a header); then the header's has no script-src to satisfy.
        let page = match scan.scripts.is_empty() {
            true => None,
            false => ctx
                .built
                .read(&scan.file)
                .as_deref()
                .and_then(crate::output::csp::meta_policy)
                .map(|p| csp_hashes(&format!("Content-Security-Policy: {p}")).unwrap_or_default()),
        };
        for s in &scan.scripts {
            let allowed = match &page {
                Some(own) => own.contains(&s.hash),
                None => hashes.as_ref().is_some_and(|h| h.contains(&s.hash)),
            };
            let (file, line) = ctx.locator.locate(&scan.file, s.line, &s.first_line);
            if allowed {
                out.push(
                    Finding::warning(
                        "privacy/inline-script",
                        file,
                        line,
                        "an inline script runs here; the build allows it in the Content-Security-Policy by its hash",
                    )
                    .fix("prefer a .js file under static/ loaded with <script src>; make sure it stores nothing and loads nothing from other origins (the other privacy rules check what they can)")
                    .on_page(&scan.file),
                );
                continue;
            }
            let why = if hashes.is_none() {
                "_headers sets no Content-Security-Policy".to_string()
            } else {
                format!("its hash {} is not in the Content-Security-Policy of _headers", s.hash)
            };
            out.push(
                Finding::error("privacy/inline-script-csp", file, line, format!("an inline script is not allowed: {why}"))
                    .fix("move the code into a file under static/ and load it with <script src=\"...\">; pages built by `cohort build` get the hash of each of their inline scripts in the CSP, static HTML files do not")
                    .on_page(&scan.file),
            );
        }
    }
    out
}

/// Storage rules: `privacy/theme-storage`, `privacy/undeclared-storage`,
/// `privacy/notice-missing` and `privacy/notice-stale`.
fn storage(ctx: &Ctx) -> Vec<Finding> {
    let notice = ctx.built.read("privacy/index.html").map(|t| decode_entities(&without_scripts(&t)));
    let preferences = ctx.built.read("preferences/index.html");
    let mut out = missing_notice_pages(ctx, notice.is_some(), preferences.is_some());
    if let Some(text) = &notice {
        out.extend(stale_notice(ctx, text));
    }
    let keys = script_storage(ctx, &mut out);
    if let Some(text) = &notice {
        out.extend(undeclared_keys(keys, text));
    }
    out
}

/// `privacy/notice-missing`: the build has no privacy notice or no preferences page.
fn missing_notice_pages(ctx: &Ctx, has_notice: bool, has_preferences: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for (page, present, template, url) in [
        ("privacy notice", has_notice, "privacy.html", "/privacy/"),
        ("preferences page", has_preferences, "preferences.html", "/preferences/"),
    ] {
        if !present {
            let template = ctx.locator.template_display(template);
            out.push(
                Finding::error(
                    "privacy/notice-missing",
                    template.clone(),
                    0,
                    format!("the build has no {page} at {url}"),
                )
                .fix(format!(
                    "use a theme that has templates/{0} (the default theme does), or add templates/{0} to the shop",
                    template.rsplit('/').next().unwrap_or("privacy.html")
                )),
            );
        }
    }
    out
}

/// `privacy/notice-stale`: the notice (its text, scripts removed) misses the current
/// policy version or a declared third party.
fn stale_notice(ctx: &Ctx, text: &str) -> Vec<Finding> {
    let privacy = &ctx.shop.site.config.privacy;
    let notice_template = ctx.locator.template_display("privacy.html");
    let mut out = Vec::new();
    if !text.contains(&privacy.policy_version) {
        out.push(
            Finding::error(
                "privacy/notice-stale",
                notice_template.clone(),
                0,
                format!("the privacy notice does not mention the current policy_version `{}`", privacy.policy_version),
            )
            .fix("show {{ site.privacy.policy_version }} in templates/privacy.html"),
        );
    }
    for tp in &privacy.third_parties {
        if !text.contains(tp.origin.trim_end_matches('/')) {
            out.push(
                Finding::error(
                    "privacy/notice-stale",
                    notice_template.clone(),
                    0,
                    format!("the privacy notice does not list the declared third party {}", tp.origin),
                )
                .fix(
                    "list every entry of site.privacy.third_parties (name, origin, purpose, description) in templates/privacy.html",
                ),
            );
        }
    }
    out
}

/// Whether a built script is one of the runtime's own: cohort-gate.js and the Consent Mode
/// bridge only read the choice cohort.js stored; the cart script keeps the cart the visitor
/// asked for (`cohort.cart`, strictly necessary storage, declared in the notice).
fn is_runtime_script(ctx: &Ctx, file: &str) -> bool {
    matches!(file, crate::output::layout::RUNTIME | crate::gate::GATE_SCRIPT | crate::gate::CONSENT_MODE_SCRIPT)
        || (file == crate::checkout::SCRIPT_PATH
            && ctx.shop.site.checkout.as_ref().is_some_and(crate::checkout::Checkout::has_cart))
}

/// `privacy/theme-storage` (a script other than the runtime's uses storage, pushed to
/// `out`), and every cookie or storage key the built scripts use, with where it is first used.
fn script_storage(ctx: &Ctx, out: &mut Vec<Finding>) -> BTreeMap<String, (String, usize)> {
    let mut keys: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for scan in &ctx.built.scans {
        let mut facts: Vec<(&super::JsFacts, Option<&str>)> = Vec::new();
        if let Some(js) = &scan.js {
            facts.push((js, None));
        }
        for s in &scan.scripts {
            facts.push((&s.js, Some(&s.first_line)));
        }
        let is_runtime = is_runtime_script(ctx, &scan.file);
        for (js, inline) in facts {
            let locate = |line: usize, needle: &str| match inline {
                Some(first) => ctx.locator.locate(&scan.file, line, first),
                None => ctx.locator.locate(&scan.file, line, needle),
            };
            if !is_runtime {
                let mut apis = BTreeSet::new();
                for (line, api) in &js.storage {
                    if !apis.insert(*api) {
                        continue;
                    }
                    let (file, line) = locate(*line, api);
                    out.push(
                        Finding::error(
                            "privacy/theme-storage",
                            file,
                            line,
                            format!("a script other than cohort.js uses {api}"),
                        )
                        .fix("remove it: only cohort.js stores anything, and only after consent (SPEC section 5)")
                        .on_page(&scan.file),
                    );
                }
            }
            for (line, key) in &js.keys {
                keys.entry(key.clone()).or_insert_with(|| locate(*line, key));
            }
        }
    }
    keys
}

/// `privacy/undeclared-storage`: a key the scripts use that the notice's text does not name.
fn undeclared_keys(keys: BTreeMap<String, (String, usize)>, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (key, (file, line)) in keys {
        if !text.contains(&key) {
            out.push(
                Finding::error(
                    "privacy/undeclared-storage",
                    file,
                    line,
                    format!("the cookie or storage key `{key}` is used but the privacy notice does not declare it"),
                )
                .fix("stop storing it, or list it in the privacy notice (templates/privacy.html) with its purpose and lifetime"),
            );
        }
    }
    out
}

/// The page without its `<script>` elements: the configuration JSON every page carries
/// names the policy version, which must not count as the notice mentioning it.
fn without_scripts(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("</script>").map_or("", |e| &rest[start + e + "</script>".len()..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{csp_hashes, without_scripts};

    #[test]
    fn scripts_are_dropped_from_the_notice_text() {
        assert_eq!(without_scripts("a<script type=x>v1</script>b<script>c"), "ab");
    }

    #[test]
    fn csp_hashes_are_read_from_headers() {
        let h = "/*\n  Content-Security-Policy: default-src 'self'; script-src 'self' 'sha256-abc=' 'sha256-d/e='\n";
        let set = csp_hashes(h).unwrap_or_default();
        assert!(set.contains("'sha256-abc='") && set.contains("'sha256-d/e='"));
        assert!(csp_hashes("/*\n  X-Frame-Options: DENY\n").is_none());
    }
}
