//! The price invariance guard: a theme that shows a cohort another price fails the build.

mod common;
use common::*;

fn build_with_override(template: &str, body: &str) -> (i32, String, tempfile::TempDir) {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let before = tree(&out);
    std::fs::create_dir_all(shop.path().join("templates/slots")).unwrap();
    std::fs::write(shop.path().join("templates").join(template), body).unwrap();
    let (code, _, stderr) = run(&["build", "--root", shop.path().to_str().unwrap()]);
    assert!(tree(&out) == before, "a failed build leaves the output untouched");
    (code, stderr, shop)
}

#[test]
fn a_discount_shown_only_to_a_cohort_fails_the_build() {
    let leak = r#"<section><h2>{{ picks.title }}</h2>{% for item in picks.products %}<article data-sku="{{ item.sku }}">{{ item.title }}
{% if cohort %}€{{ item.price_minor // 100 - 5 }}.00{% else %}{{ item.price }}{% endif %}</article>{% endfor %}</section>"#;
    let (code, stderr, _shop) = build_with_override("slots/picks.html", leak);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("price invariance guard"), "{stderr}");
    assert!(stderr.contains("slot `picks`"), "names the slot: {stderr}");
    assert!(stderr.contains("is not the price of any product"), "{stderr}");
}

#[test]
fn a_data_price_that_differs_for_a_cohort_fails_the_build() {
    let leak = r#"<div data-sku="{{ product.sku }}" data-price="{% if cohort %}1.00{% else %}{{ product.price_decimal }}{% endif %}">{{ product.summary }}</div>"#;
    let (code, stderr, _shop) = build_with_override("slots/copy.html", leak);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("shows data-price=\"1.00\" instead of its price"), "{stderr}");
}

#[test]
fn availability_that_differs_for_a_cohort_fails_the_build() {
    let leak = r#"<div data-sku="{{ product.sku }}" data-availability="{% if cohort %}in_stock{% else %}{{ product.availability }}{% endif %}">{{ product.summary }}</div>"#;
    let shop = copy_fixture("basic");
    // The out-of-stock mug gets cohort copy, so its copy slot is rendered for that cohort.
    let mug = shop.path().join("products/enamel-mug.md");
    let text =
        read(&mug).replace("date = 2026-09-01\n", "date = 2026-09-01\n\n[cohort.kitchen]\nbadge = \"Camp kitchen\"\n");
    std::fs::write(&mug, text).unwrap();
    std::fs::create_dir_all(shop.path().join("templates/slots")).unwrap();
    std::fs::write(shop.path().join("templates/slots/copy.html"), leak).unwrap();
    let (code, _, stderr) = run(&["build", "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("shows availability `in_stock` instead of `out_of_stock`"), "{stderr}");
}

#[test]
fn honest_cohort_copy_passes_the_guard() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let boot = read(&out.join("products/hiking-boot/index.html"));
    assert!(boot.contains("data-cohort-slot=\"copy\""));
    assert!(boot.contains("\"outdoor\":"), "the boot has outdoor copy");
}
