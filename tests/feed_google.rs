//! `/feeds/google.xml`: a Google Merchant Center feed (RSS 2.0, `g:` namespace) whose
//! prices and availability are those of the pages' JSON-LD, item for item.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

const G: &str = "http://base.google.com/ns/1.0";

const RUNNER: &str = r#"+++
title = "Trail Runner 2 <Wet & Wild>"
sku = "TR2"
price = "89.00"
category = "shoes"
tags = ["outdoor"]
images = ["/hero.png", "/images/mug.png"]
summary = "Light, grippy & waterproof."

[options]
size = ["41", "42"]

[[variants]]
sku = "TR2-41"
options = { size = "41" }

[[variants]]
sku = "TR2-42"
options = { size = "42" }
price = "94.50"
compare_at_price = "109.00"
availability = "preorder"
+++
Grippy lugs.
"#;

fn feed_shop() -> tempfile::TempDir {
    let shop = copy_fixture("basic");
    let toml = read(&shop.path().join("shop.toml"));
    std::fs::write(
        shop.path().join("shop.toml"),
        format!("{toml}\n[feeds]\ngoogle = true\nbrand = \"Fern & Flint\"\n"),
    )
    .unwrap();
    std::fs::write(shop.path().join("products/trail-runner-2.md"), RUNNER).unwrap();
    shop
}

/// Each item's `g:` fields (name → values, in order).
fn items(xml: &str) -> Vec<BTreeMap<String, Vec<String>>> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("the feed is not well-formed XML: {e}\n{xml}"));
    let rss = doc.root_element();
    assert_eq!(rss.tag_name().name(), "rss");
    assert_eq!(rss.attribute("version"), Some("2.0"));
    assert_eq!(rss.lookup_namespace_uri(Some("g")), Some(G));
    let channel = rss.children().find(|n| n.has_tag_name("channel")).expect("a channel");
    for required in ["title", "link", "description"] {
        assert!(channel.children().any(|n| n.has_tag_name(required)), "channel has {required}");
    }
    channel
        .children()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for f in item.children().filter(|n| n.is_element()) {
                assert_eq!(f.tag_name().namespace(), Some(G), "every item field is in the g: namespace");
                fields.entry(f.tag_name().name().to_string()).or_default().push(f.text().unwrap_or("").to_string());
            }
            fields
        })
        .collect()
}

/// sku → (price, schema.org availability) from every product page's JSON-LD.
fn page_offers(out: &Path) -> BTreeMap<String, (String, String)> {
    let mut offers = BTreeMap::new();
    for entry in std::fs::read_dir(out.join("products")).unwrap() {
        let page = entry.unwrap().path().join("index.html");
        if !page.is_file() {
            continue;
        }
        for ld in jsonld(&read(&page)) {
            let list = match ld["@type"].as_str() {
                Some("ProductGroup") => ld["hasVariant"].as_array().cloned().unwrap_or_default(),
                _ => vec![ld.clone()],
            };
            for p in list {
                let o = &p["offers"];
                let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
                offers.insert(s(&p["sku"]), (s(&o["price"]), s(&o["availability"])));
            }
        }
    }
    offers
}

#[test]
fn the_feed_has_every_required_field_and_matches_the_pages_exactly() {
    let shop = feed_shop();
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let xml = read(&out.join("feeds/google.xml"));
    let items = items(&xml);
    let offers = page_offers(&out);
    assert!(offers.len() >= 5, "{offers:?}");
    let mut seen = BTreeMap::new();
    for item in &items {
        let one = |k: &str| {
            item.get(k).and_then(|v| v.first()).cloned().unwrap_or_else(|| panic!("item lacks g:{k}: {item:?}"))
        };
        for k in ["id", "title", "description", "link", "availability", "price", "brand", "condition", "product_type"] {
            assert!(!one(k).trim().is_empty(), "g:{k} is empty: {item:?}");
            assert_eq!(item[k].len(), 1, "one g:{k}");
        }
        assert!(item.contains_key("mpn") || item.contains_key("gtin"), "g:gtin or g:mpn: {item:?}");
        assert!(["in_stock", "out_of_stock", "preorder"].contains(&one("availability").as_str()));
        let price_ok = |p: &str| {
            p.strip_suffix(" EUR")
                .is_some_and(|n| n.split_once('.').is_some_and(|(w, f)| !w.is_empty() && f.len() == 2))
        };
        assert!(price_ok(&one("price")), "{item:?}");
        let id = one("id");
        // The price a shopper pays (sale price when on sale) and availability are the page's.
        let charged = item.get("sale_price").map_or_else(|| one("price"), |s| s[0].clone());
        assert!(price_ok(&charged));
        let (page_price, page_availability) = offers.get(&id).unwrap_or_else(|| panic!("no page offers {id}"));
        assert_eq!(charged, format!("{page_price} EUR"), "price of {id}");
        let schema = match one("availability").as_str() {
            "in_stock" => "https://schema.org/InStock",
            "out_of_stock" => "https://schema.org/OutOfStock",
            _ => "https://schema.org/PreOrder",
        };
        assert_eq!(schema, page_availability, "availability of {id}");
        let link = one("link");
        let path = link.strip_prefix("https://test.example.com/").expect("absolute link");
        assert!(out.join(path).join("index.html").is_file(), "{link} is a page");
        seen.insert(id, item.clone());
    }
    assert_eq!(seen.keys().collect::<Vec<_>>(), offers.keys().collect::<Vec<_>>(), "one item per offer on the pages");
    assert_eq!(items.len(), seen.len(), "no item twice");

    // Variants: one item each, grouped; the sale is price = compare-at, sale_price = price.
    let v42 = &seen["TR2-42"];
    assert_eq!(v42["item_group_id"], ["TR2"]);
    assert_eq!(v42["price"], ["109.00 EUR"]);
    assert_eq!(v42["sale_price"], ["94.50 EUR"]);
    assert_eq!(v42["availability"], ["preorder"]);
    assert_eq!(v42["title"], ["Trail Runner 2 <Wet & Wild> (42)"], "escaped and read back");
    assert_eq!(v42["brand"], ["Fern & Flint"]);
    assert_eq!(v42["image_link"], ["https://test.example.com/hero.png"]);
    assert_eq!(v42["additional_image_link"], ["https://test.example.com/images/mug.png"]);
    assert_eq!(seen["TR2-41"]["price"], ["89.00 EUR"]);
    assert!(!seen["TR2-41"].contains_key("sale_price"));
    assert!(!seen.contains_key("TR2"), "the group itself is no item");
    assert!(!seen["RS-10"].contains_key("item_group_id"));
    assert!(!seen.contains_key("PROTO-1"), "drafts are not in the feed");

    // Deterministic: a second build writes the same bytes.
    build_ok(shop.path(), &out);
    assert_eq!(read(&out.join("feeds/google.xml")), xml);
}

#[test]
fn no_feed_unless_the_shop_asks_for_one() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    assert!(!out.join("feeds").exists());
    let toml = read(&shop.path().join("shop.toml"));
    std::fs::write(shop.path().join("shop.toml"), format!("{toml}\n[feeds]\ngogle = true\n")).unwrap();
    let (code, _, stderr) = run(&["build", "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("did you mean `google`"), "{stderr}");
}
