//! Plugin mode reads what generators write: YAML and JSON front matter besides TOML, section
//! files skipped, a theme's own field names (where a file uses them; others keep Cohort's) mapped in `[plugin.fields]`, image lists of
//! tables resolved against the static root, and prices with thousands separators refused
//! with the right fix. The Hugo fixture is built with the real `hugo`.

mod common;
mod personalize_support;

use common::tree;
use personalize_support::{built_site, personalize_glob, read};

const FIELDS: &str =
    "\n[plugin.fields]\nprice = \"actualPrice\"\ncompare_at_price = \"priceBefore\"\nsku = \"productID\"\n";

fn shop_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let mut all: Vec<(&str, &str)> = vec![
        ("static/images/lamp.jpg", "not really a jpeg"),
        ("content/products/_index.md", "---\ntitle: The shop\n---\nEverything we sell.\n"),
    ];
    all.extend_from_slice(files);
    let dir = built_site(&all);
    let toml = std::fs::read_to_string(dir.path().join("shop.toml")).expect("shop.toml") + FIELDS;
    std::fs::write(dir.path().join("shop.toml"), toml).expect("write shop.toml");
    dir
}

#[test]
fn yaml_and_json_products_with_mapped_fields_and_image_tables_are_read() {
    let dir = shop_with(&[
        (
            "content/products/lamp.md",
            "---\ntitle: Desk lamp\ndate: 2026-10-01\ncategories: [lighting]\ntags: [kitchen]\nproductID: LAMP-1\nactualPrice: \"45.00\"\npriceBefore: \"60.00\"\nimages:\n  - image: images/lamp.jpg\n  - image: /images/lamp.jpg\nsummary:\n---\nA warm lamp.\n",
        ),
        (
            "content/products/kettle.md",
            "{\n  \"title\": \"Kettle\",\n  \"categories\": [\"kitchen\"],\n  \"tags\": [\"kitchen\", \"cookware\"],\n  \"params\": { \"productID\": \"KET-1\", \"actualPrice\": \"30.00\" }\n}\nBoils water.\n",
        ),
    ]);
    let root = dir.path();
    let (code, out, err) = personalize_glob(root, "content/products/*.md");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("8 products"),
        "the six TOML products, the YAML and the JSON one; the section file is not a product: {out}"
    );
    // The products reach Cohort's blocks: their cards carry price, compare-at price, and the
    // image from the static root (not PAGE/images/lamp.jpg, which does not exist).
    let fragments: String = tree(&root.join("public"))
        .into_iter()
        .filter(|(f, _)| f.starts_with("_cohort/f/"))
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    let home = read(root, "index.html");
    let kitchen = read(root, "categories/kitchen/index.html");
    let all = format!("{home}{kitchen}{fragments}");
    assert!(all.contains("Desk lamp") && all.contains("Kettle"), "{all}");
    assert!(all.contains("45.00") && all.contains("60.00") && all.contains("30.00"), "prices: {all}");
    assert!(all.contains("/images/lamp.jpg"), "the image from the static root: {all}");
    assert!(!all.contains("/products/lamp/images/lamp.jpg"), "not resolved against the page: {all}");
}

#[test]
fn a_price_with_thousands_separators_gets_the_right_fix_at_its_line() {
    let dir = shop_with(&[(
        "content/products/lamp.md",
        "---\ntitle: Desk lamp\ncategories: [lighting]\nproductID: LAMP-1\nactualPrice: \"3,032.00\"\n---\nA warm lamp.\n",
    )]);
    let root = dir.path();
    let before = tree(&root.join("public"));
    let (code, out, err) = personalize_glob(root, "content/products/*.md");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("lamp.md:5:"), "the line of actualPrice: {err}");
    assert!(err.contains("write it as \"3032.00\""), "{err}");
    assert_eq!(tree(&root.join("public")), before);
}

#[test]
fn broken_yaml_and_image_lists_are_reported_with_their_line() {
    let dir = shop_with(&[(
        "content/products/kettle.md",
        "+++\ntitle = \"Kettle\"\ncategories = [\"kitchen\"]\nproductID = \"KET-1\"\nactualPrice = \"30.00\"\nimages = [{ alt = \"no path\" }]\n+++\n",
    )]);
    let root = dir.path();
    // Written after Hugo's build (Hugo would refuse it too).
    std::fs::write(
        root.join("content/products/lamp.md"),
        "---\ntitle: Desk lamp\nproductID: [unclosed\n---\nA lamp.\n",
    )
    .expect("write");
    let (code, out, err) = personalize_glob(root, "content/products/*.md");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("lamp.md:") && err.contains("YAML front matter does not parse"), "{err}");
    assert!(err.contains("kettle.md:6:") && err.contains("[plugin.fields] image_key"), "{err}");
}
