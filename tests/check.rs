//! `cohort check`, run as the real binary on small shops built from one base fixture plus
//! one change each: every rule is seeded once and must be the only thing reported, at the
//! right file and line, with exit status 1 for errors and 0 for warnings only.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cohort");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

struct Fixture(PathBuf);

impl Fixture {
    /// A clean shop: three products with images and alt text, a page, one cohort.
    fn new(name: &str) -> Fixture {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let f = Fixture(dir);
        f.write(
            "shop.toml",
            r#"title = "Test Shop"
base_url = "https://shop.example.com"
currency = "EUR"
description = "Things for the kitchen and home."

[privacy]
policy_version = "2026-11-01"
controller = "Test Shop Ltd, 1 Example Street"
contact = "privacy@shop.example.com"

[[cohorts]]
id = "kitchen"
label = "Kitchen"
description = "Shown when you choose Kitchen on the preferences page."
interests = ["kitchen"]
campaigns = ["autumn-kitchen"]
"#,
        );
        f.write(
            "products/skillet.md",
            r#"+++
title = "Skillet"
sku = "SK-1"
price = "49.00"
category = "cookware"
tags = ["kitchen"]
images = [{ src = "skillet.png", alt = "A black cast-iron skillet" }]
date = 2026-10-01
summary = "Heavy, pre-seasoned, oven-safe."

[cohort.kitchen]
badge = "Kitchen favourite"
+++
A skillet that browns and sears.

## Care

Oil it after washing.
"#,
        );
        f.write(
            "products/apron.md",
            r#"+++
title = "Apron"
sku = "AP-1"
price = "34.00"
compare_at_price = "39.00"
category = "textiles"
tags = ["kitchen"]
images = [{ src = "apron.png", alt = "A linen apron" }]
date = 2026-09-15
summary = "Washed linen with a deep pocket."
+++
Softens with every wash.
"#,
        );
        f.write(
            "products/throw.md",
            r#"+++
title = "Wool Throw"
sku = "TH-1"
price = "89.00"
category = "textiles"
tags = ["home"]
images = [{ src = "throw.png", alt = "A grey wool throw" }]
date = 2026-11-01
summary = "Undyed wool from one farm."
+++
Warm and heavy.
"#,
        );
        f.write("pages/about.md", "+++\ntitle = \"About\"\n+++\nWe sell a few good things. See the [skillet care](/products/skillet/#care).\n");
        for img in ["skillet.png", "apron.png", "throw.png"] {
            let path = f.0.join("static/images").join(img);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("create fixture folder");
            image::RgbImage::from_pixel(8, 6, image::Rgb([120, 90, 60])).save(&path).expect("write a real PNG");
        }
        f
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create fixture folder");
        }
        std::fs::write(path, text).expect("write fixture file");
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.0.join(rel)).expect("read fixture file")
    }

    fn replace(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// The line of `rel` (1-based) that contains `needle`.
    fn line_of(&self, rel: &str, needle: &str) -> u64 {
        let text = self.read(rel);
        let i = text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not in {rel}"));
        i as u64 + 1
    }

    fn check(&self) -> Outcome {
        let out = Command::new(BIN)
            .args(["check", "--format", "json", "--root"])
            .arg(&self.0)
            .output()
            .expect("run cohort check");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let json: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr)));
        Outcome { code: out.status.code().unwrap_or(-1), json, stdout }
    }

    fn check_text(&self) -> (i32, String) {
        let out = Command::new(BIN).args(["check", "--root"]).arg(&self.0).output().expect("run cohort check");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

struct Outcome {
    code: i32,
    json: Value,
    stdout: String,
}

impl Outcome {
    fn findings(&self) -> Vec<&Value> {
        self.json["findings"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
    }

    /// Asserts every finding is `rule` (none acknowledged), at least one is at `file:line`,
    /// and the exit status fits the severity. Returns the findings.
    fn only(&self, rule: &str, file: &str, line: u64) -> Vec<&Value> {
        let findings = self.findings();
        assert!(!findings.is_empty(), "expected {rule}, got nothing");
        for f in &findings {
            assert_eq!(f["rule"], rule, "unexpected finding: {}", self.stdout);
        }
        assert!(
            findings.iter().any(|f| f["file"] == file && f["line"] == line),
            "no {rule} at {file}:{line}: {}",
            self.stdout
        );
        let error = findings.iter().any(|f| f["severity"] == "error");
        assert_eq!(self.code, if error { 1 } else { 0 }, "{}", self.stdout);
        findings
    }
}

#[test]
fn the_base_fixture_is_clean() {
    let f = Fixture::new("clean");
    let o = f.check();
    assert_eq!(o.findings().len(), 0, "{}", o.stdout);
    assert_eq!(o.code, 0);
    assert!(!f.0.join("public").exists(), "check must not write the output folder");
}

#[test]
fn an_invalid_shop_is_reported_as_findings() {
    let f = Fixture::new("invalid");
    f.replace("products/apron.md", "price = \"34.00\"", "price = 34.00");
    let o = f.check();
    let line = f.line_of("products/apron.md", "price = 34.00");
    o.only("content/invalid", "products/apron.md", line);
    assert_eq!(o.code, 1);
}

#[test]
fn a_broken_link_in_markdown_points_at_the_markdown() {
    let f = Fixture::new("broken-link");
    f.write("pages/about.md", "+++\ntitle = \"About\"\n+++\nIntro.\n\nSee [gone](/products/gone/).\n");
    let o = f.check();
    let found = o.only("content/broken-link", "pages/about.md", 6);
    assert!(found[0]["message"].as_str().unwrap_or("").contains("/products/gone/"));
}

#[test]
fn a_missing_anchor_is_a_broken_link() {
    let f = Fixture::new("broken-anchor");
    f.replace("pages/about.md", "/products/skillet/#care", "/products/skillet/#washing");
    let o = f.check();
    let found = o.only("content/broken-link", "pages/about.md", 4);
    assert!(found[0]["message"].as_str().unwrap_or("").contains("no element with id `washing`"), "{}", o.stdout);
}

#[test]
fn a_broken_link_in_a_template_points_at_the_template() {
    let f = Fixture::new("broken-link-template");
    let page = std::fs::read_to_string(Path::new(REPO).join("themes/default/templates/page.html")).expect("page.html");
    f.write("templates/page.html", &page.replacen("</article>", "<a href=\"/shipping/\">Shipping</a>\n</article>", 1));
    let o = f.check();
    let line = f.line_of("templates/page.html", "/shipping/");
    o.only("content/broken-link", "templates/page.html", line);
}

#[test]
fn a_missing_image_is_reported() {
    let f = Fixture::new("missing-image");
    f.write("pages/about.md", "+++\ntitle = \"About\"\n+++\nUs:\n\n![The team](/images/team.jpg)\n");
    let o = f.check();
    o.only("content/missing-image", "pages/about.md", 6);
}

#[test]
fn a_product_without_an_image_is_a_warning() {
    let f = Fixture::new("no-image");
    f.replace("products/throw.md", "images = [{ src = \"throw.png\", alt = \"A grey wool throw\" }]\n", "");
    let o = f.check();
    o.only("content/no-image", "products/throw.md", 2);
    assert_eq!(o.code, 0);
}

#[test]
fn an_image_without_alt_text_is_a_warning() {
    let f = Fixture::new("missing-alt");
    f.replace(
        "products/throw.md",
        "images = [{ src = \"throw.png\", alt = \"A grey wool throw\" }]",
        "images = [\"throw.png\"]",
    );
    let o = f.check();
    o.only("content/missing-alt", "products/throw.md", f.line_of("products/throw.md", "images ="));
    assert_eq!(o.code, 0);
}

#[test]
fn a_category_of_drafts_only_is_a_warning() {
    let f = Fixture::new("empty-category");
    f.write(
        "products/lamp.md",
        "+++\ntitle = \"Lamp\"\nsku = \"LA-1\"\nprice = \"20.00\"\ncategory = \"lighting\"\nimages = [{ src = \"throw.png\", alt = \"A lamp\" }]\ndraft = true\n+++\nBright.\n",
    );
    let o = f.check();
    o.only("content/empty-category", "products/lamp.md", f.line_of("products/lamp.md", "category ="));
    assert_eq!(o.code, 0);
}

#[test]
fn a_compare_at_price_below_the_price_is_an_error() {
    let f = Fixture::new("compare-at-price");
    f.replace("products/apron.md", "compare_at_price = \"39.00\"", "compare_at_price = \"30.00\"");
    let o = f.check();
    o.only("content/compare-at-price", "products/apron.md", f.line_of("products/apron.md", "compare_at_price"));
}

#[test]
fn a_long_summary_is_a_warning() {
    let f = Fixture::new("long-summary");
    let long = "Very good. ".repeat(40);
    f.replace("products/throw.md", "summary = \"Undyed wool from one farm.\"", &format!("summary = \"{long}\""));
    let o = f.check();
    o.only("content/long-summary", "products/throw.md", f.line_of("products/throw.md", "summary ="));
    assert_eq!(o.code, 0);
}

#[test]
fn a_duplicate_title_is_a_warning() {
    let f = Fixture::new("duplicate-title");
    f.replace("products/throw.md", "title = \"Wool Throw\"", "title = \"Apron\"");
    let o = f.check();
    let found = o.only("content/duplicate-title", "products/throw.md", 2);
    assert!(found[0]["message"].as_str().unwrap_or("").contains("apron.md"));
}

#[test]
fn a_cohort_about_health_is_an_error_and_can_be_acknowledged() {
    let f = Fixture::new("special-category");
    f.replace("shop.toml", "label = \"Kitchen\"", "label = \"Diabetic kitchen\"");
    let o = f.check();
    let line = f.line_of("shop.toml", "Diabetic");
    let found = o.only("ethics/special-category", "shop.toml", line);
    assert!(found[0]["message"].as_str().unwrap_or("").contains("health"), "{}", o.stdout);

    f.replace(
        "shop.toml",
        "campaigns = [\"autumn-kitchen\"]",
        "campaigns = [\"autumn-kitchen\"]\nacknowledge = [{ rule = \"ethics/special-category\", reason = \"Sugar-free recipes for everyone; nobody is asked about health.\" }]",
    );
    let o = f.check();
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert_eq!(o.json["acknowledged"], 1);
    assert_eq!(o.json["errors"], 0);
    let found = o.findings();
    assert_eq!(found.len(), 1);
    assert!(found[0]["acknowledged"].as_str().unwrap_or("").starts_with("Sugar-free"));
    let (code, text) = f.check_text();
    assert_eq!(code, 0);
    assert!(text.contains("acknowledged[ethics/special-category] shop.toml:"), "{text}");
}

#[test]
fn words_from_other_languages_and_the_shop_list_count() {
    let f = Fixture::new("special-category-extra");
    f.replace("shop.toml", "campaigns = [\"autumn-kitchen\"]", "campaigns = [\"autumn-kitchen\", \"wahl-partei\"]");
    let o = f.check();
    let line = f.line_of("shop.toml", "wahl-partei");
    o.only("ethics/special-category", "shop.toml", line);

    let f = Fixture::new("special-category-shop-list");
    f.replace("shop.toml", "[privacy]", "[check]\nextra_sensitive_words = [\"astrolog*\"]\n\n[privacy]");
    f.replace("shop.toml", "description = \"Shown when", "description = \"Astrology fans. Shown when");
    let o = f.check();
    let line = f.line_of("shop.toml", "Astrology fans");
    o.only("ethics/special-category", "shop.toml", line);
}

#[test]
fn a_cohort_aimed_at_children_is_an_error() {
    let f = Fixture::new("minors");
    f.replace("shop.toml", "interests = [\"kitchen\"]", "interests = [\"kitchen\", \"kids\"]");
    // A product tagged `kids`, so the interest matches one (else it is also a warning).
    f.replace("products/apron.md", "tags = [\"kitchen\"]", "tags = [\"kitchen\", \"kids\"]");
    let o = f.check();
    let line = f.line_of("shop.toml", "\"kids\"");
    o.only("ethics/minors", "shop.toml", line);
}

#[test]
fn a_cohort_price_in_a_slot_is_an_error() {
    let f = Fixture::new("cohort-price");
    let copy = std::fs::read_to_string(Path::new(REPO).join("themes/default/templates/slots/copy.html")).expect("copy");
    f.write(
        "templates/slots/copy.html",
        &copy.replacen(
            "data-sku=\"{{ product.sku }}\"",
            "data-sku=\"{{ product.sku }}\"{% if cohort %} data-price=\"1.00\"{% endif %}",
            1,
        ),
    );
    let o = f.check();
    let line = f.line_of("templates/slots/copy.html", "data-price");
    o.only("ethics/cohort-price-difference", "templates/slots/copy.html", line);
}

#[test]
fn a_cohort_matching_no_product_is_a_warning() {
    let f = Fixture::new("cohort-no-products");
    f.write(
        "shop.toml",
        &(f.read("shop.toml")
            + "\n[[cohorts]]\nid = \"garden\"\nlabel = \"Garden\"\ndescription = \"Tools for the garden.\"\ninterests = [\"garden\"]\n"),
    );
    let o = f.check();
    let line = f.line_of("shop.toml", "interests = [\"garden\"]");
    o.only("ethics/cohort-no-products", "shop.toml", line);
    assert_eq!(o.code, 0);
}

/// The default base.html with `extra` inserted after `<head>`; returns the shop's override
/// and the line where `extra` starts.
fn base_with(extra: &str) -> (String, u64) {
    let base = std::fs::read_to_string(Path::new(REPO).join("themes/default/templates/base.html")).expect("base.html");
    let at = base.find("<head>").expect("<head>") + "<head>\n".len();
    let line = base[..at].lines().count() as u64 + 1;
    (format!("{}{extra}{}", &base[..at], &base[at..]), line)
}

#[test]
fn a_google_font_in_a_template_is_a_third_party_origin() {
    let f = Fixture::new("third-party-origin");
    let (base, line) = base_with("<link rel=\"stylesheet\" href=\"https://fonts.googleapis.com/css2?family=Inter\">\n");
    f.write("templates/base.html", &base);
    let o = f.check();
    let found = o.only("privacy/third-party-origin", "templates/base.html", line);
    assert_eq!(found.len(), 1, "one finding for every page: {}", o.stdout);
    let msg = found[0]["message"].as_str().unwrap_or("");
    assert!(msg.contains("https://fonts.googleapis.com") && msg.contains("stylesheet"), "{msg}");
    let (code, text) = f.check_text();
    assert_eq!(code, 1);
    assert!(
        text.contains(&format!(
            "error[privacy/third-party-origin] templates/base.html:{line}: loads https://fonts.googleapis.com (stylesheet)"
        )),
        "{text}"
    );
    assert!(text.contains("— fix: self-host the font"), "{text}");
}

#[test]
fn an_inline_script_outside_the_csp_is_reported() {
    let f = Fixture::new("inline-script-csp");
    f.write(
        "static/landing.html",
        "<!doctype html>\n<title>Landing</title>\n<script>\nconsole.log('hi');\n</script>\n",
    );
    let o = f.check();
    o.only("privacy/inline-script-csp", "static/landing.html", 3);
}

#[test]
fn a_theme_script_using_storage_is_an_error() {
    let f = Fixture::new("theme-storage");
    f.write("static/js/app.js", "// app\nvar seen = document.cookie;\n");
    let o = f.check();
    o.only("privacy/theme-storage", "static/js/app.js", 2);
}

#[test]
fn a_storage_key_missing_from_the_notice_is_an_error() {
    let f = Fixture::new("undeclared-storage");
    // The notice without its storage table (where the theme has one), and a shop cohort.js
    // (the runtime's name, so storage itself is allowed) with a key of its own. Where the
    // build writes the runtime's cohort.js over it, the runtime's keys are the undeclared ones.
    let privacy = f.read_theme("privacy.html").replace("{% for s in storage %}", "{% for s in [] %}");
    f.write("templates/privacy.html", &privacy);
    f.write("static/cohort.js", "var K='shop.visits';\nfunction get(k){return localStorage.getItem(k)}\nget(K);\n");
    let o = f.check();
    let runtime = f.read_theme("base.html").contains("cohort.js");
    if runtime {
        let found = o.only("privacy/undeclared-storage", "/cohort.js", o.findings()[0]["line"].as_u64().unwrap_or(0));
        let keys: Vec<&str> = found.iter().filter_map(|x| x["message"].as_str()).collect();
        for key in ["cohort.consent", "cohort.interests", "cohort_"] {
            assert!(keys.iter().any(|m| m.contains(&format!("`{key}`"))), "{key}: {}", o.stdout);
        }
    } else {
        let found = o.only("privacy/undeclared-storage", "static/cohort.js", 1);
        assert!(found[0]["message"].as_str().unwrap_or("").contains("shop.visits"));
    }
}

impl Fixture {
    fn read_theme(&self, name: &str) -> String {
        std::fs::read_to_string(Path::new(REPO).join("themes/default/templates").join(name)).expect("theme template")
    }
}

#[test]
fn a_theme_without_privacy_pages_is_an_error() {
    let f = Fixture::new("notice-missing");
    let src = Path::new(REPO).join("themes/default");
    for entry in walk(&src) {
        let rel = entry.strip_prefix(&src).expect("inside").to_string_lossy().replace('\\', "/");
        if rel.starts_with("starter/") || rel.ends_with("privacy.html") {
            continue;
        }
        let mut text = std::fs::read_to_string(&entry).expect("theme file");
        if rel.starts_with("templates/") {
            text = text.replace("site.privacy_url", "site.url");
        }
        if rel == "theme.toml" {
            text = text.replacen("name = \"default\"", "name = \"bare\"", 1);
        }
        f.write(&format!("themes/bare/{rel}"), &text);
    }
    f.replace("shop.toml", "currency = \"EUR\"", "currency = \"EUR\"\ntheme = \"bare\"");
    let o = f.check();
    let found = o.only("privacy/notice-missing", "templates/privacy.html", 0);
    assert_eq!(found.len(), 1, "{}", o.stdout);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn a_notice_with_an_old_version_is_stale() {
    let f = Fixture::new("notice-stale");
    let privacy = f.read_theme("privacy.html");
    f.write("templates/privacy.html", &privacy.replace("{{ site.privacy.policy_version }}", "2025-01-01"));
    let o = f.check();
    o.only("privacy/notice-stale", "templates/privacy.html", 0);
}

#[test]
fn an_inline_script_in_a_template_is_allowed_by_hash_and_still_reported() {
    let f = Fixture::new("inline-script");
    let page = f.read_theme("page.html");
    f.write(
        "templates/page.html",
        &page.replacen("</article>", "<script>\nwindow.about = 1;\n</script>\n</article>", 1),
    );
    let o = f.check();
    let line = f.line_of("templates/page.html", "window.about");
    o.only("privacy/inline-script", "templates/page.html", line);
    assert_eq!(o.code, 0);
}

/// Acceptance 3: a Google Fonts stylesheet, an image from another host and an inline
/// script outside the CSP are each reported; declaring the image's origin clears that one
/// and puts it in the privacy notice.
#[test]
fn third_parties_are_reported_until_declared() {
    let f = Fixture::new("third-parties");
    let (base, line) = base_with(
        "<link rel=\"stylesheet\" href=\"https://fonts.googleapis.com/css2?family=Inter\">\n<meta name=\"x\" content=\"y\">\n",
    );
    f.write("templates/base.html", &base);
    let page = f.read_theme("page.html");
    f.write(
        "templates/page.html",
        &page.replacen(
            "</article>",
            "<img src=\"https://images.example.net/team.jpg\" alt=\"The team\">\n<script>\nwindow.about = 1;\n</script>\n</article>",
            1,
        ),
    );
    f.write(
        "static/landing.html",
        "<!doctype html>\n<title>Landing</title>\n<script>\nconsole.log('hi');\n</script>\n",
    );
    let o = f.check();
    assert_eq!(o.code, 1);
    let img_line = f.line_of("templates/page.html", "images.example.net");
    let script_line = f.line_of("templates/page.html", "window.about");
    let has = |rule: &str, file: &str, line: u64, text: &str| {
        o.findings().iter().any(|x| {
            x["rule"] == rule
                && x["file"] == file
                && x["line"] == line
                && x["message"].as_str().unwrap_or("").contains(text)
        })
    };
    assert!(has("privacy/third-party-origin", "templates/base.html", line, "fonts.googleapis.com"), "{}", o.stdout);
    assert!(
        has("privacy/third-party-origin", "templates/page.html", img_line, "https://images.example.net (image)"),
        "{}",
        o.stdout
    );
    assert!(has("privacy/inline-script-csp", "static/landing.html", 3, "inline script"), "{}", o.stdout);
    // The template's inline script: the build hashes it into the CSP, so a warning.
    assert!(has("privacy/inline-script", "templates/page.html", script_line, "inline script"), "{}", o.stdout);
    assert_eq!(o.findings().len(), 4, "{}", o.stdout);
    validate(&o.json);

    f.replace(
        "shop.toml",
        "contact = \"privacy@shop.example.com\"",
        "contact = \"privacy@shop.example.com\"\n\n[[privacy.third_parties]]\norigin = \"https://images.example.net\"\nname = \"Example images\"\npurpose = \"functional\"\nkinds = [\"image\"]\ndescription = \"Photos of the team on the about page\"",
    );
    let o = f.check();
    assert_eq!(o.findings().len(), 3, "{}", o.stdout);
    assert!(!o.stdout.contains("images.example.net"), "{}", o.stdout);
    // The privacy notice of a real build lists it.
    let out = f.0.join("public");
    let status = Command::new(BIN).args(["build", "--root"]).arg(&f.0).arg("-o").arg(&out).status().expect("build");
    assert!(status.success());
    let notice = std::fs::read_to_string(out.join("privacy/index.html")).expect("privacy notice");
    let notice = notice.replace("&#x2f;", "/");
    assert!(notice.contains("https://images.example.net") && notice.contains("Photos of the team"), "{notice}");
}

fn validate(json: &Value) {
    let schema_text =
        std::fs::read_to_string(Path::new(REPO).join("schemas/check-output.schema.json")).expect("schema file");
    let schema: Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(json).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}\n{json:#}");
}

#[test]
fn json_output_follows_the_schema_and_is_sorted() {
    let f = Fixture::new("schema");
    f.replace(
        "products/throw.md",
        "images = [{ src = \"throw.png\", alt = \"A grey wool throw\" }]",
        "images = [\"throw.png\"]",
    );
    f.replace("products/apron.md", "compare_at_price = \"39.00\"", "compare_at_price = \"30.00\"");
    f.replace("shop.toml", "label = \"Kitchen\"", "label = \"Kitchen for kids\"");
    let o = f.check();
    validate(&o.json);
    let keys: Vec<(String, u64)> = o
        .findings()
        .iter()
        .map(|x| (x["file"].as_str().unwrap_or("").to_string(), x["line"].as_u64().unwrap_or(0)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(o.json["errors"], 2);
    assert_eq!(o.json["warnings"], 1);
    // Stable: the same shop gives the same bytes.
    assert_eq!(f.check().stdout, o.stdout);
    // And a clean run validates too.
    validate(&Fixture::new("schema-clean").check().json);
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(BIN).args(["check", "--format", "yaml"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_example_shop_passes() {
    let shop = Path::new(REPO).join("example-shop");
    if !shop.join("shop.toml").is_file() {
        eprintln!("example-shop/ is not in this checkout yet");
        return;
    }
    let out = Command::new(BIN).args(["check", "--root"]).arg(&shop).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("error["), "{text}");
}

#[test]
fn a_category_next_to_its_singular_is_a_warning() {
    let f = Fixture::new("near-duplicate-category");
    f.replace("products/throw.md", "category = \"textiles\"", "category = \"textile\"");
    let o = f.check();
    let line = f.line_of("products/throw.md", "category = ");
    let found = o.only("content/near-duplicate-category", "products/throw.md", line);
    assert!(
        found[0]["message"].as_str().is_some_and(|m| m.contains("products/apron.md uses `textiles`")),
        "{}",
        o.stdout
    );
    assert_eq!(found[0]["fix"], "if you meant the same one, write category = \"textiles\"");
}

#[test]
fn a_cohort_interest_no_product_matches_is_a_warning() {
    let f = Fixture::new("cohort-interest-unmatched");
    f.replace("shop.toml", "interests = [\"kitchen\"]", "interests = [\"kitchen\", \"cookwear\"]");
    let o = f.check();
    let line = f.line_of("shop.toml", "interests = ");
    let found = o.only("ethics/cohort-interest-unmatched", "shop.toml", line);
    assert_eq!(found[0]["fix"], "did you mean \"cookware\"?", "{}", o.stdout);
}
