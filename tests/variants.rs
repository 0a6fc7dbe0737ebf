//! Product variants (`[[variants]]`): the page, the JSON-LD, the errors and the price
//! invariance guard.

mod common;
use common::*;
use std::path::Path;

const RUNNER: &str = r#"+++
title = "Trail Runner 2"
sku = "TR2"
price = "89.00"
category = "shoes"
tags = ["outdoor"]
date = 2026-10-01
summary = "Light, grippy, waterproof."
buy_url = "https://buy.example.com/tr2"

[options]
size = ["41", "42"]
color = ["Moss", "Slate"]

[[variants]]
sku = "TR2-41-MOSS"
options = { size = "41", color = "Moss" }
price = "89.00"

[[variants]]
sku = "TR2-42-MOSS"
options = { size = "42", color = "Moss" }
price = "94.50"
compare_at_price = "109.00"
buy_url = "https://buy.example.com/tr2-42"

[[variants]]
sku = "TR2-42-SLATE"
options = { color = "Slate", size = "42" }
price = "99.00"
availability = "out_of_stock"

[cohort.outdoor]
badge = "Trail pick"
+++
Grippy lugs.
"#;

fn shop_with(product: &str) -> tempfile::TempDir {
    let shop = copy_fixture("basic");
    std::fs::write(shop.path().join("products/trail-runner-2.md"), product).unwrap();
    shop
}

fn build(root: &Path) -> (i32, String) {
    let (code, _, stderr) = run(&["build", "--root", root.to_str().unwrap()]);
    (code, stderr)
}

#[test]
fn a_product_with_variants_lists_each_with_its_own_price_and_controls() {
    let shop = shop_with(RUNNER);
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let html = read(&out.join("products/trail-runner-2/index.html"));
    // One labelled <select> per option.
    // Options come in the order of their names (the front matter table is sorted).
    for (i, name) in ["Color", "Size"].iter().enumerate() {
        let n = i + 1;
        assert!(html.contains(&format!("<label for=\"option-{n}\">{name}</label>")), "{html}");
        assert!(html.contains(&format!("<select id=\"option-{n}\" data-option=\"{n}\">")), "{html}");
    }
    assert!(html.contains("<option selected>41</option><option>42</option>"), "first variant preselected: {html}");
    assert!(html.contains("<option selected>Moss</option><option>Slate</option>"), "{html}");
    // The no-script list: every variant with its price, availability and own buy link.
    assert!(html.contains("data-sku=\"TR2-41-MOSS\" data-price=\"89.00\" data-availability=\"in_stock\""));
    assert!(html.contains("data-sku=\"TR2-42-MOSS\" data-price=\"94.50\" data-availability=\"in_stock\""));
    assert!(html.contains("data-sku=\"TR2-42-SLATE\" data-price=\"99.00\" data-availability=\"out_of_stock\""));
    assert!(html.contains("<del><span class=\"visually-hidden\">Was </span>€109.00</del> <ins><span class=\"visually-hidden\">Now </span>€94.50</ins>"));
    assert!(html.contains("href=\"https://buy.example.com/tr2-42\""), "the variant's own buy link");
    assert!(html.contains("href=\"https://buy.example.com/tr2\""), "other variants inherit the product's link");
    // The inline picker script is allowed by its hash in the CSP.
    let headers = read(&out.join("_headers"));
    let script = html.split("<script>").nth(1).and_then(|s| s.split("</script>").next()).expect("picker script");
    assert!(script.contains("data-variant-picker"));
    let hash = format!("'sha256-{}'", base64_sha256(script.as_bytes()));
    assert!(headers.contains(&hash), "CSP allows the picker: {hash}");
}

#[test]
fn variants_become_a_product_group_in_json_ld() {
    let shop = shop_with(RUNNER);
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let html = read(&out.join("products/trail-runner-2/index.html"));
    let ld = jsonld(&html);
    let group = &ld[0];
    validate(group);
    assert_eq!(group["@type"], "ProductGroup");
    assert_eq!(group["productGroupID"], "TR2");
    assert_eq!(group["variesBy"], serde_json::json!(["https://schema.org/color", "https://schema.org/size"]));
    let variants = group["hasVariant"].as_array().expect("hasVariant");
    let got: Vec<(String, String, String, String, String)> = variants
        .iter()
        .map(|v| {
            assert_eq!(v["@type"], "Product");
            assert_eq!(v["offers"]["@type"], "Offer");
            assert_eq!(v["offers"]["priceCurrency"], "EUR");
            let s = |x: &serde_json::Value| x.as_str().unwrap_or_default().to_string();
            (s(&v["sku"]), s(&v["size"]), s(&v["color"]), s(&v["offers"]["price"]), s(&v["offers"]["availability"]))
        })
        .collect();
    let want = [
        ("TR2-41-MOSS", "41", "Moss", "89.00", "https://schema.org/InStock"),
        ("TR2-42-MOSS", "42", "Moss", "94.50", "https://schema.org/InStock"),
        ("TR2-42-SLATE", "42", "Slate", "99.00", "https://schema.org/OutOfStock"),
    ];
    let want: Vec<_> =
        want.iter().map(|w| (w.0.into(), w.1.into(), w.2.into(), w.3.into(), w.4.into())).collect::<Vec<_>>();
    assert_eq!(got, want);
    // A product without variants keeps its plain Product + Offer.
    let boot = jsonld(&read(&out.join("products/hiking-boot/index.html")));
    validate(&boot[0]);
    assert_eq!(boot[0]["@type"], "Product");
    assert_eq!(boot[0]["offers"]["@type"], "Offer");
}

#[test]
fn every_variant_problem_is_reported_in_one_run_with_its_place() {
    let bad = RUNNER
        .replace("price = \"99.00\"", "price = \"99,00\"")
        .replace("options = { size = \"41\", color = \"Moss\" }", "options = { size = \"41\", colour = \"Moss\" }")
        .replace("availability = \"out_of_stock\"", "availability = \"out_of_stock\"\nstock = 3");
    let shop = shop_with(&bad);
    // A second, valid product whose variant takes the rain shell's SKU.
    let clash = RUNNER
        .replace("sku = \"TR2\"", "sku = \"TR3\"")
        .replace("TR2-", "TR3-")
        .replace("sku = \"TR3-42-MOSS\"", "sku = \"RS-10\"");
    std::fs::write(shop.path().join("products/trail-runner-3.md"), clash).unwrap();
    let (code, stderr) = build(shop.path());
    assert_eq!(code, 1, "{stderr}");
    let file = "products/trail-runner-2.md";
    assert!(
        stderr.contains("products/trail-runner-3.md:21:1: the SKU `RS-10` is already used by products/rain-shell.md"),
        "{stderr}"
    );
    for (line, col, what) in [
        (17, 11, "variant option `colour` is not in the product's [options]"),
        (30, 9, "bad price \"99,00\": a price uses a dot"),
        (32, 1, "unknown key `stock` in a [[variants]] table"),
    ] {
        assert!(stderr.contains(&format!("{file}:{line}:{col}")), "{what} at {line}:{col}:\n{stderr}");
        assert!(stderr.contains(what), "{what}:\n{stderr}");
    }
}

#[test]
fn a_cohort_table_cannot_change_variants() {
    let bad = RUNNER.replace("badge = \"Trail pick\"", "badge = \"Trail pick\"\nvariants = []");
    let shop = shop_with(&bad);
    let (code, stderr) = build(shop.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cohort `outdoor` cannot change `variants`"), "{stderr}");
}

const HONEST_COPY: &str = r#"<div>{{ product.badge }}{% for v in product.variants %}<p data-sku="{{ v.sku }}" data-price="{{ v.price_decimal }}" data-availability="{{ v.availability }}">{{ v.label }} {{ v.price }}</p>{% endfor %}</div>"#;

#[test]
fn the_guard_lets_a_cohort_see_every_variant_at_its_price() {
    let shop = shop_with(RUNNER);
    std::fs::create_dir_all(shop.path().join("templates/slots")).unwrap();
    std::fs::write(shop.path().join("templates/slots/copy.html"), HONEST_COPY).unwrap();
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let html = read(&out.join("products/trail-runner-2/index.html"));
    assert!(html.contains("\"outdoor\":"), "the outdoor cohort has its own copy fragment");
}

#[test]
fn a_cohort_that_would_change_one_variants_price_fails_the_build() {
    let shop = shop_with(RUNNER);
    std::fs::create_dir_all(shop.path().join("templates/slots")).unwrap();
    let leak = HONEST_COPY.replace(
        "data-price=\"{{ v.price_decimal }}\"",
        "data-price=\"{% if cohort and v.sku == 'TR2-42-MOSS' %}79.00{% else %}{{ v.price_decimal }}{% endif %}\"",
    );
    std::fs::write(shop.path().join("templates/slots/copy.html"), &leak).unwrap();
    let (code, stderr) = build(shop.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("price invariance guard"), "{stderr}");
    assert!(stderr.contains("product `TR2-42-MOSS` shows data-price=\"79.00\" instead of its price"), "{stderr}");

    let shown = HONEST_COPY
        .replace("{{ v.price }}", "{% if cohort and v.sku == 'TR2-42-MOSS' %}€79.00{% else %}{{ v.price }}{% endif %}");
    std::fs::write(shop.path().join("templates/slots/copy.html"), &shown).unwrap();
    let (code, stderr) = build(shop.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("it shows the amount `€79.00`"), "{stderr}");
}

/// Checks a page's JSON-LD against schemas/product-jsonld.schema.json.
fn validate(json: &serde_json::Value) {
    let text = read(&repo().join("schemas/product-jsonld.schema.json"));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(json).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}\n{json:#}");
}

fn base64_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
