//! The example shop, built by the real binary: every product page with its title, price,
//! links and JSON-LD; the sitemap; and the cohort contract of SPEC sections 3-4 (variants
//! exactly where a cohort changes a page, content-addressed fragments, noindex variants).

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

struct Expected {
    slug: String,
    title: String,
    sku: String,
    price: String,
    draft: bool,
}

/// Reads the products' front matter independently of the generator.
fn products() -> Vec<Expected> {
    let dir = repo().join("example-shop/products");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        let (file, slug) = if path.is_dir() {
            (path.join("index.md"), path.file_name().unwrap().to_string_lossy().into_owned())
        } else {
            (path.clone(), path.file_stem().unwrap().to_string_lossy().into_owned())
        };
        let text = read(&file);
        let fm = text.split("+++").nth(1).expect("front matter");
        let v: toml::Table = toml::from_str(fm).expect("valid TOML");
        out.push(Expected {
            slug: v.get("slug").and_then(|s| s.as_str()).map_or(slug, str::to_string),
            title: v["title"].as_str().unwrap().to_string(),
            sku: v["sku"].as_str().unwrap().to_string(),
            price: v["price"].as_str().unwrap().to_string(),
            draft: v.get("draft").and_then(|d| d.as_bool()).unwrap_or(false),
        });
    }
    out.sort_by(|a, b| a.slug.cmp(&b.slug));
    out
}

fn build_example() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_ok(&repo().join("example-shop"), &out);
    (dir, out)
}

fn html_pages(out: &Path) -> BTreeMap<String, String> {
    tree(out)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, b)| (p, String::from_utf8(b).expect("UTF-8 HTML")))
        .collect()
}

fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| html[i + needle.len()..].split('"').next().unwrap_or("").to_string())
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[test]
fn example_shop_has_real_size() {
    let all = products();
    let published: Vec<_> = all.iter().filter(|p| !p.draft).collect();
    assert!(published.len() >= 24, "at least 24 products");
    let cats: BTreeSet<String> = std::fs::read_dir(repo().join("example-shop/products"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| {
            let p = e.path();
            let f = if p.is_dir() { p.join("index.md") } else { p };
            let text = read(&f);
            let v: toml::Table = toml::from_str(text.split("+++").nth(1).unwrap()).unwrap();
            v["category"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(cats.len() >= 4, "at least 4 categories: {cats:?}");
}

#[test]
fn every_product_page_has_title_price_and_matching_json_ld() {
    let (_dir, out) = build_example();
    for p in products() {
        let page = out.join(format!("products/{}/index.html", p.slug));
        if p.draft {
            assert!(!page.exists(), "draft {} must not be built", p.slug);
            continue;
        }
        let html = read(&page);
        let title = element_text(&html, "title").expect("a title");
        assert!(unescape(&title).starts_with(&p.title), "{}: title {title}", p.slug);
        assert_eq!(unescape(&element_text(&html, "h1").unwrap()), p.title);
        let display = format!("€{}", group(&p.price));
        assert!(html.contains(&display), "{}: price {display} not shown", p.slug);
        let ld = jsonld(&html);
        assert_eq!(ld.len(), 1, "{}: one JSON-LD block", p.slug);
        assert_eq!(ld[0]["name"], p.title.as_str());
        assert_eq!(ld[0]["sku"], p.sku.as_str());
        assert_eq!(ld[0]["offers"]["price"], normalize_price(&p.price).as_str());
        assert_eq!(ld[0]["offers"]["priceCurrency"], "EUR");
        assert!(ld[0]["offers"]["availability"].as_str().unwrap().starts_with("https://schema.org/"));
        assert!(ld[0]["image"].as_array().is_some_and(|a| !a.is_empty()), "{}: product image in JSON-LD", p.slug);
        assert!(html.contains("<meta property=\"og:title\""));
        assert!(html.contains("<meta property=\"product:price:amount\""));
    }
}

fn normalize_price(p: &str) -> String {
    match p.split_once('.') {
        Some((w, f)) => format!("{w}.{f:0<2}"),
        None => format!("{p}.00"),
    }
}

fn group(p: &str) -> String {
    let n = normalize_price(p);
    let (w, f) = n.split_once('.').unwrap();
    let mut g = String::new();
    for (i, c) in w.chars().enumerate() {
        if i > 0 && (w.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(c);
    }
    format!("{g}.{f}")
}

#[test]
fn every_internal_link_and_image_resolves() {
    let (_dir, out) = build_example();
    for (path, html) in html_pages(&out) {
        for attr in ["href", "src"] {
            for link in attr_values(&html, attr) {
                let link = unescape(&link);
                let Some(target) = link.strip_prefix('/') else { continue };
                let target = target.split(['#', '?']).next().unwrap();
                let file = if target.is_empty() || target.ends_with('/') {
                    format!("{target}index.html")
                } else {
                    target.to_string()
                };
                assert!(out.join(&file).is_file(), "{path} links to {link}, which does not exist");
            }
        }
    }
}

#[test]
fn sitemap_has_every_default_page_and_nothing_else() {
    let (_dir, out) = build_example();
    let sitemap = read(&out.join("sitemap.xml"));
    let locs: BTreeSet<String> = sitemap
        .match_indices("<loc>")
        .map(|(i, _)| sitemap[i + 5..].split("</loc>").next().unwrap().to_string())
        .collect();
    let pages: BTreeSet<String> = tree(&out)
        .keys()
        .filter(|p| p.ends_with("index.html") && !p.starts_with("c/") && !p.starts_with("preferences/"))
        .map(|p| format!("https://shop.example.com/{}", p.trim_end_matches("index.html")))
        .collect();
    assert_eq!(locs, pages);
    for p in products().iter().filter(|p| p.draft) {
        assert!(!sitemap.contains(&p.slug), "draft {} in sitemap", p.slug);
    }
}

/// (slot name, keys, inline content) for each slot of a page.
fn slots(html: &str) -> Vec<(String, BTreeMap<String, String>, String)> {
    let mut out = Vec::new();
    let open = "<div class=\"cohort-slot\" data-cohort-slot=\"";
    for (i, _) in html.match_indices(open) {
        let rest = &html[i + open.len()..];
        let name = rest.split('"').next().unwrap().to_string();
        let keys_start = rest.find("data-cohort-keys='").unwrap() + "data-cohort-keys='".len();
        let keys_json = rest[keys_start..].split('\'').next().unwrap();
        let keys: BTreeMap<String, String> = serde_json::from_str(keys_json).expect("keys are JSON");
        let content_start = rest.find('>').unwrap() + 1;
        let content = inner_div(&rest[content_start..]);
        out.push((name, keys, content));
    }
    out
}

/// The content up to the `</div>` that closes the slot (counting nested divs).
fn inner_div(s: &str) -> String {
    let mut depth = 1;
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with("<div") {
            depth += 1;
        } else if s[i..].starts_with("</div>") {
            depth -= 1;
            if depth == 0 {
                return s[..i].to_string();
            }
        }
        i += s[i..].chars().next().map_or(1, char::len_utf8);
    }
    panic!("unclosed slot");
}

#[test]
fn cohort_variants_fragments_and_routing_files() {
    let (_dir, out) = build_example();
    let files = tree(&out);
    let cohorts = ["outdoor", "kitchen", "workshop", "garden"];
    let pages = html_pages(&out);
    let mut fragments_used = BTreeSet::new();
    let mut variants_expected = BTreeSet::new();
    for (path, html) in pages.iter().filter(|(p, _)| !p.starts_with("c/") && !p.starts_with("_cohort/")) {
        // The banner is a fragment too, named by each page's placeholder.
        if let Some((_, rest)) = html.split_once(r#"data-cohort-banner=""#) {
            let hash = rest.split('"').next().unwrap_or_default();
            let file = format!("_cohort/f/{hash}.html");
            assert!(files.contains_key(&file), "{path}: banner {file} missing");
            fragments_used.insert(file);
        }
        let page_slots = slots(html);
        let personalized: BTreeSet<&String> = page_slots.iter().flat_map(|(_, k, _)| k.keys()).collect();
        for (_, keys, default) in &page_slots {
            for (cohort, hash) in keys {
                assert!(cohorts.contains(&cohort.as_str()), "unknown cohort {cohort}");
                let file = format!("_cohort/f/{hash}.html");
                let fragment = String::from_utf8(
                    files.get(&file).unwrap_or_else(|| panic!("{path}: fragment {file} missing")).clone(),
                )
                .unwrap();
                assert_ne!(&fragment, default, "{path}: a cohort keyed to content equal to the default");
                fragments_used.insert(file);
            }
        }
        let kind_has_variants = path == "index.html" || path.starts_with("categories/");
        for cohort in cohorts {
            let variant = format!("c/{cohort}/{path}");
            let should = kind_has_variants && personalized.contains(&cohort.to_string());
            assert_eq!(files.contains_key(&variant), should, "variant {variant}: expected {should}");
            if should {
                variants_expected.insert(variant.clone());
                let v = String::from_utf8(files[&variant].clone()).unwrap();
                assert!(v.contains("<meta name=\"robots\" content=\"noindex\">"), "{variant} is noindex");
                let canonical = format!(
                    "<link rel=\"canonical\" href=\"https://shop.example.com/{}\">",
                    path.trim_end_matches("index.html")
                );
                assert!(v.contains(&canonical), "{variant} canonical to the default page");
                for ((name, keys, default), (vname, vkeys, vcontent)) in page_slots.iter().zip(slots(&v)) {
                    assert_eq!(name, &vname);
                    assert_eq!(keys, &vkeys);
                    let expected = match keys.get(cohort) {
                        Some(h) => String::from_utf8(files[&format!("_cohort/f/{h}.html")].clone()).unwrap(),
                        None => default.clone(),
                    };
                    assert_eq!(vcontent, expected, "{variant}: slot {name} is the cohort's fragment spliced in");
                }
            }
        }
    }
    let all_variants: BTreeSet<String> = files.keys().filter(|p| p.starts_with("c/")).cloned().collect();
    assert_eq!(all_variants, variants_expected, "no variant without a cohort difference");
    assert!(variants_expected.len() >= 4, "the example shop exercises variants");
    let all_fragments: BTreeSet<String> = files.keys().filter(|p| p.starts_with("_cohort/f/")).cloned().collect();
    assert_eq!(all_fragments, fragments_used, "every fragment is referenced");
    let mut contents = BTreeSet::new();
    for f in &all_fragments {
        assert!(contents.insert(files[f].clone()), "fragment {f} duplicates another's content");
        let name = f.trim_start_matches("_cohort/f/").trim_end_matches(".html");
        assert_eq!(name.len(), 16);
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let robots = read(&out.join("robots.txt"));
    assert!(robots.contains("Disallow: /c/") && robots.contains("Disallow: /_cohort/"));
    assert!(!read(&out.join("sitemap.xml")).contains("/c/"));
    let redirects = read(&out.join("_redirects"));
    assert_eq!(redirects.lines().count(), all_variants.len(), "one routing rule per variant");
}

#[test]
fn example_shop_builds_byte_identically_twice() {
    let (_a, out_a) = build_example();
    let (_b, out_b) = build_example();
    assert!(tree(&out_a) == tree(&out_b), "two builds differ");
}

#[test]
fn every_cohort_sees_the_same_prices() {
    let (_dir, out) = build_example();
    let mut price_of: BTreeMap<String, String> = BTreeMap::new();
    for p in products() {
        price_of.insert(p.sku.clone(), normalize_price(&p.price));
    }
    let mut checked = 0;
    for (path, html) in html_pages(&out) {
        let needle = "data-sku=\"";
        for (i, _) in html.match_indices(needle) {
            let sku = html[i + needle.len()..].split('"').next().unwrap();
            let tag_end = i + html[i..].find('>').unwrap();
            let tag = &html[i..tag_end];
            if let Some(p) = tag.split("data-price=\"").nth(1) {
                let price = p.split('"').next().unwrap();
                assert_eq!(Some(&price.to_string()), price_of.get(sku), "{path}: {sku} priced {price}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "checked {checked} product mentions");
}
