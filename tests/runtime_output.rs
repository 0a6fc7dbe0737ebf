//! The runtime's part of the output: `/cohort.js`, the page config block, the consent-UI
//! records, the privacy and preferences pages, and the Content-Security-Policy in `_headers`.

mod common;

use common::{copy_fixture, run};
use sha2::{Digest, Sha256};
use std::path::Path;

fn build(root: &Path) -> String {
    let (code, out, err) = run(&["build", "--root", root.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "build failed: {out}{err}");
    out
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join("public").join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn config_block(html: &str) -> serde_json::Value {
    let start = html.find(r#"<script type="application/json" id="cohort-config">"#).expect("config block") + 51;
    let end = start + html[start..].find("</script>").expect("end of config");
    serde_json::from_str(&html[start..end]).expect("config is JSON")
}

/// The banner a page shows: the file its placeholder names (`cohort.js` fetches it only when
/// the banner has to be shown), which must be one file for every page.
fn banner_of(root: &Path, html: &str) -> String {
    let at = html.find(r#"<div id="cohort-banner" data-cohort-banner=""#).expect("the banner's placeholder");
    let rest = &html[at + r#"<div id="cohort-banner" data-cohort-banner=""#.len()..];
    let (hash, tail) = rest.split_once('"').expect("a hash");
    assert!(tail.starts_with(" hidden></div>"), "the placeholder is empty and hidden: {}", &tail[..40.min(tail.len())]);
    assert!(hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    let banner = read(root, &format!("_cohort/f/{hash}.html"));
    assert_eq!(cohort::cohorts::fragment_hash(&banner), hash, "named by its content");
    banner
}

fn csp(root: &Path) -> String {
    let headers = read(root, "_headers");
    headers
        .lines()
        .find_map(|l| l.trim().strip_prefix("Content-Security-Policy: "))
        .expect("a CSP in _headers")
        .to_string()
}

#[test]
fn cohort_js_is_served_as_built_and_within_budget() {
    let shop = copy_fixture("basic");
    build(shop.path());
    let served = std::fs::read(shop.path().join("public/cohort.js")).expect("cohort.js");
    assert_eq!(served, cohort::runtime::script().as_bytes());
    let size = cohort::runtime::gzipped_size();
    assert!(size <= cohort::runtime::GZIP_BUDGET, "{size} bytes gzipped");
}

#[test]
fn every_page_carries_the_banner_config_and_script_and_no_inline_code() {
    let shop = copy_fixture("basic");
    build(shop.path());
    let index = read(shop.path(), "index.html");
    let cfg = config_block(&index);
    assert_eq!(cfg["v"], "2026-11-01");
    assert_eq!(cfg["e"], "/v1");
    assert_eq!(cfg["m"], 180);
    assert_eq!(cfg["g"], true);
    assert_eq!(cfg["t"], cohort::runtime::INTEREST_THRESHOLD);
    // The cohort list is one file for the whole site, named with a hash of its content.
    let list = cohort_list(shop.path(), &cfg);
    assert_eq!(list[0]["id"], "outdoor");
    assert_eq!(list[0]["campaigns"][0], "spring-trail");
    assert!(!index.contains("spring-trail"), "no page carries the cohort list");
    for file in
        ["index.html", "products/rain-shell/index.html", "privacy/index.html", "preferences/index.html", "404.html"]
    {
        let html = read(shop.path(), file);
        let banner = banner_of(shop.path(), &html);
        assert!(banner.contains(r#"<section id="cohort-banner""#), "{file}: banner");
        assert!(banner.contains(r#"data-cohort-consent="reject""#), "{file}: banner");
        assert!(!html.contains("data-cohort-consent"), "{file}: the banner is not in the page as well");
        assert!(html.contains(r#"<script src="/cohort.js" defer></script>"#), "{file}: runtime");
        assert_eq!(config_block(&html)["u"], cfg["u"], "{file}: one consent UI");
        assert!(!html.contains(" style="), "{file}: inline style attribute");
        assert!(!html.to_ascii_lowercase().contains(" onclick="), "{file}: inline handler");
        assert!(cohort::output::csp::inline_script_hashes(&html).is_empty(), "{file}: inline script");
    }
    // A product page's interests are its category and tags, as slugs.
    let product = read(shop.path(), "products/rain-shell/index.html");
    let interests = config_block(&product)["i"].clone();
    assert!(interests.as_array().is_some_and(|a| !a.is_empty()), "{interests}");
}

#[test]
fn the_config_block_cannot_be_closed_by_shop_text() {
    let shop = copy_fixture("basic");
    let toml_path = shop.path().join("shop.toml");
    let text = std::fs::read_to_string(&toml_path).expect("shop.toml");
    let text = text.replace("label = \"Kitchen\"", "label = \"</script><script>alert(1)</script>\"");
    std::fs::write(&toml_path, text).expect("write");
    build(shop.path());
    let index = read(shop.path(), "index.html");
    assert!(!index.contains("<script>alert(1)"));
    assert_eq!(cohort_list(shop.path(), &config_block(&index))[1]["label"], "</script><script>alert(1)</script>");
}

/// The cohort list a page's config names (`c`: the file, `?` and a hash of its bytes).
fn cohort_list(root: &Path, cfg: &serde_json::Value) -> serde_json::Value {
    let url = cfg["c"].as_str().expect("a cohort list URL");
    let (file, version) = url.split_once('?').expect("a versioned URL");
    let text = read(root, file);
    let digest: String = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(version, &digest[..16], "the version is the list's hash");
    serde_json::from_str(&text).expect("the cohort list is JSON")
}

#[test]
fn a_shop_without_cohorts_has_no_cohort_list_and_pages_list_only_counted_interests() {
    let shop = copy_fixture("basic");
    build(shop.path());
    // Only interests some cohort has are counted, so a page lists no others.
    let list = cohort_list(shop.path(), &config_block(&read(shop.path(), "index.html")));
    let counted: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .flat_map(|c| c["interests"].as_array().expect("interests"))
        .filter_map(|i| i.as_str())
        .collect();
    for file in ["products/rain-shell/index.html", "index.html"] {
        for i in config_block(&read(shop.path(), file))["i"].as_array().expect("interests") {
            assert!(counted.contains(&i.as_str().expect("slug")), "{file}: {i} is no cohort's interest");
        }
    }
    // The same shop without cohorts (and so without products' [cohort.ID] tables).
    let toml_path = shop.path().join("shop.toml");
    let text = std::fs::read_to_string(&toml_path).expect("shop.toml");
    let without: String = text.split("[[cohorts]]").next().expect("before the cohorts").to_string();
    std::fs::write(&toml_path, without.replace("page_variants = [\"home\", \"category\"]", "")).expect("write");
    for entry in walkdir::WalkDir::new(shop.path().join("products")).into_iter().filter_map(Result::ok) {
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        if let Some(at) = text.find("\n[cohort.") {
            let end = text[at..].find("\n+++").map_or(text.len(), |e| at + e);
            std::fs::write(entry.path(), format!("{}{}", &text[..at], &text[end..])).expect("write");
        }
    }
    build(shop.path());
    let cfg = config_block(&read(shop.path(), "products/rain-shell/index.html"));
    assert!(cfg.get("c").is_none(), "no cohort list URL: {cfg}");
    assert_eq!(cfg["i"], serde_json::json!([]));
    assert!(!shop.path().join("public/_cohort/cohorts.json").exists());
}

#[test]
fn consent_ui_records_are_named_by_their_sha256_and_kept() {
    let shop = copy_fixture("basic");
    build(shop.path());
    let hash = config_block(&read(shop.path(), "index.html"))["u"].as_str().expect("hash").to_string();
    let record = shop.path().join("consent-records/ui").join(format!("{hash}.html"));
    let bytes = std::fs::read(&record).expect("the record is written");
    let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(digest, hash, "the file name is the sha256 of its bytes");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.contains(r#"data-cohort-consent="reject""#), "holds the banner");
    assert!(text.contains(r#"id="cohort-prefs""#), "holds the preferences wording");
    assert!(text.contains("cohort.consent"), "holds cohort.js");

    // Written only if absent: a second build leaves it alone.
    std::fs::write(&record, "kept as it was").expect("write");
    build(shop.path());
    assert_eq!(std::fs::read_to_string(&record).expect("read"), "kept as it was");

    // A new wording is a new record; the old one stays.
    let templates = shop.path().join("templates/partials");
    std::fs::create_dir_all(&templates).expect("mkdir");
    let banner = include_str!("../themes/default/templates/partials/consent-banner.html")
        .replace("May we remember", "Could we remember");
    std::fs::write(templates.join("consent-banner.html"), banner).expect("write");
    build(shop.path());
    let new_hash = config_block(&read(shop.path(), "index.html"))["u"].as_str().expect("hash").to_string();
    assert_ne!(new_hash, hash);
    assert!(record.exists());
    assert!(shop.path().join("consent-records/ui").join(format!("{new_hash}.html")).exists());
    let index = read(shop.path(), "index.html");
    assert!(banner_of(shop.path(), &index).contains("Could we remember"));
    assert!(
        std::fs::read_to_string(shop.path().join("consent-records/ui").join(format!("{new_hash}.html")))
            .expect("record")
            .contains(&banner_of(shop.path(), &index)),
        "the record holds the served banner byte for byte"
    );
}

#[test]
fn a_banner_with_an_inline_script_stays_in_the_page() {
    let shop = copy_fixture("basic");
    let templates = shop.path().join("templates/partials");
    std::fs::create_dir_all(&templates).expect("mkdir");
    let banner = include_str!("../themes/default/templates/partials/consent-banner.html")
        .replace("</section>", "<script>/* theme code */</script></section>");
    std::fs::write(templates.join("consent-banner.html"), banner).expect("write");
    build(shop.path());
    let index = read(shop.path(), "index.html");
    assert!(index.contains(r#"<section id="cohort-banner""#), "inline, where a fetched copy's script would not run");
    assert!(!index.contains("data-cohort-banner="), "no placeholder");
    assert!(!cohort::output::csp::inline_script_hashes(&index).is_empty(), "its script is hashed for the CSP");
}

#[test]
fn the_csp_allows_only_self_the_endpoint_and_hashed_inline_scripts() {
    let shop = copy_fixture("basic");
    build(shop.path());
    let policy = csp(shop.path());
    for part in [
        "default-src 'self'",
        "script-src 'self';",
        "connect-src 'self';",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(part), "missing {part} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");

    // An absolute endpoint is allowed for connect-src only; a theme's inline script is hashed.
    let toml_path = shop.path().join("shop.toml");
    let text = std::fs::read_to_string(&toml_path).expect("shop.toml");
    let text = text.replace(
        "contact = \"privacy@test.example.com\"",
        "contact = \"privacy@test.example.com\"\nconsent_endpoint = \"https://consent.example.net/v1\"",
    );
    std::fs::write(&toml_path, text).expect("write");
    let templates = shop.path().join("templates");
    std::fs::create_dir_all(&templates).expect("mkdir");
    std::fs::write(
        templates.join("page.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>{{ content.title }}</h1><script>console.log(1)</script>{% endblock %}",
    )
    .expect("write");
    build(shop.path());
    let policy = csp(shop.path());
    let digest = Sha256::digest(b"console.log(1)");
    let b64 = base64(&digest);
    assert!(policy.contains(&format!("script-src 'self' 'sha256-{b64}';")), "{policy}");
    assert!(policy.contains("connect-src 'self' https://consent.example.net;"), "{policy}");
    assert!(!policy.contains("default-src 'self' https://consent"), "{policy}");
}

#[test]
fn the_privacy_notice_lists_every_stored_item_and_the_shop_facts() {
    let shop = copy_fixture("basic");
    build(shop.path());
    let privacy = read(shop.path(), "privacy/index.html");
    for item in cohort::runtime::STORAGE {
        assert!(privacy.contains(&format!("<code>{}</code>", item.name)), "{} is not listed", item.name);
    }
    for fact in ["Test Shop Ltd", "privacy@test.example.com", "2026-11-01", "180 days", "supervisory authority"] {
        assert!(privacy.contains(fact), "missing {fact}");
    }
    let prefs = read(shop.path(), "preferences/index.html");
    assert!(prefs.contains(r#"<meta name="robots" content="noindex">"#));
    for id in ["cohort-personalization", "cohort-choice-none", "cohort-choice-outdoor", "cohort-choice-kitchen"] {
        assert!(prefs.contains(&format!("id=\"{id}\"")) && prefs.contains(&format!("for=\"{id}\"")), "{id} labelled");
    }
    // No pre-ticked box: the only preselected control is the neutral "No preference".
    assert_eq!(prefs.matches(" checked").count(), 1);
    assert!(prefs.contains(r#"id="cohort-choice-none" value="" checked>"#));
}

#[test]
fn the_default_theme_has_no_inline_styles_or_handlers() {
    for entry in
        walkdir::WalkDir::new(common::repo().join("themes/default/templates")).into_iter().filter_map(Result::ok)
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read").to_ascii_lowercase();
        let name = entry.path().display().to_string();
        assert!(!text.contains(" style="), "{name}: style attribute");
        assert!(!text.contains("<style"), "{name}: style element");
        for handler in [" onclick=", " onload=", " onerror=", " onsubmit=", " onchange=", " oninput="] {
            assert!(!text.contains(handler), "{name}: {handler}");
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            out.push(if k <= chunk.len() { T[((n >> (18 - 6 * k)) & 63) as usize] as char } else { '=' });
        }
    }
    out
}
