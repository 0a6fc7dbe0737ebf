//! Honest recommendation blocks on the default theme, on the example shop built by the real
//! binary: no product in its own blocks, no product twice across "You may also like" and
//! "Often bought together", "bought together" only with order data, the home block titled
//! "Featured" without sales data and "Popular right now" with it, and one "Why am I seeing
//! this?" per block (never one per card); the home page's featured block and new arrivals
//! share no product, and product pages carry no site-wide picks block that could repeat the
//! product itself.

mod common;
use common::*;
use std::path::Path;

/// The `data-sku` of every card inside the `<section class="CLASS"` block of a page.
fn block_skus(html: &str, class: &str) -> Option<Vec<String>> {
    let start = html.find(&format!("<section class=\"{class}\""))?;
    let end = start + html[start..].find("</section>")?;
    let block = &html[start..end];
    Some(
        block
            .match_indices("<article class=\"card\" data-sku=\"")
            .map(|(i, m)| {
                let rest = &block[i + m.len()..];
                rest[..rest.find('"').expect("closed attribute")].to_string()
            })
            .collect(),
    )
}

/// The page's own product SKU.
fn own_sku(html: &str) -> String {
    let m = "<article class=\"product\" data-sku=\"";
    let i = html.find(m).expect("a product article") + m.len();
    html[i..i + html[i..].find('"').expect("closed")].to_string()
}

fn product_pages(site: &Path) -> Vec<(String, String)> {
    let mut pages: Vec<(String, String)> = std::fs::read_dir(site.join("products"))
        .expect("products/")
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), read(&e.path().join("index.html"))))
        .collect();
    pages.sort();
    pages
}

fn example_shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("example-shop"), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("public"));
    let _ = std::fs::remove_dir_all(dir.path().join("data"));
    dir
}

/// Every block on a product page: no self, no product in both blocks, one "why" per block.
fn assert_blocks_honest(name: &str, html: &str) {
    let own = own_sku(html);
    let related = block_skus(html, "related").unwrap_or_default();
    let together = block_skus(html, "together").unwrap_or_default();
    assert!(!related.contains(&own), "{name}: the product is in its own related block");
    assert!(!together.contains(&own), "{name}: the product is in its own bought-together block");
    for sku in &related {
        assert!(!together.contains(sku), "{name}: {sku} is shown in both related and bought together");
    }
    let mut seen = related.clone();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), related.len(), "{name}: a product twice in the related block");
    assert!(
        !html.contains("<section class=\"picks\""),
        "{name}: a site-wide picks block, which can show the product itself"
    );
    let blocks =
        ["<section class=\"related\"", "<section class=\"together\""].iter().filter(|b| html.contains(*b)).count();
    assert_eq!(
        html.matches("Why am I seeing this?").count(),
        blocks,
        "{name}: one \"Why am I seeing this?\" per block"
    );
}

#[test]
fn without_order_data_there_is_no_bought_together_block_and_the_home_block_says_featured() {
    let shop = example_shop();
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let home = read(&out.join("index.html"));
    assert!(
        home.contains("<h2 id=\"picks-title\">Featured</h2>"),
        "the home block without sales data is titled Featured"
    );
    let featured = block_skus(&home, "picks").expect("a featured block");
    let newest = block_skus(&home, "new-arrivals").expect("new arrivals");
    assert_eq!(newest.len(), 8, "new arrivals are filled up to eight");
    for sku in &featured {
        assert!(!newest.contains(sku), "{sku} is both featured and a new arrival on the home page");
    }
    assert!(!home.contains("Popular right now"), "no popularity claim without sales data");
    let pages = product_pages(&out);
    assert!(pages.len() >= 20);
    for (name, html) in &pages {
        assert!(block_skus(html, "together").is_none(), "{name}: a bought-together block without order data");
        assert!(!html.contains("Often bought together"), "{name}");
        assert!(block_skus(html, "related").is_some_and(|r| !r.is_empty()), "{name}: no related block");
        assert_blocks_honest(name, html);
    }
}

#[test]
fn with_order_data_bought_together_appears_and_related_leaves_its_products_out() {
    let shop = example_shop();
    let out = shop.path().join("public");
    // Orders in which the Fernpack 28 is bought with three other products, 12 times each.
    let mut csv = String::from("order_id,sku\n");
    for n in 0..40 {
        csv.push_str(&format!("o{n},FF-PK-F28\n"));
        let partner = ["FF-PK-FHP", "FF-SH-TR2", "FF-TL-AS200", "FF-OW-SRS"][n % 4];
        csv.push_str(&format!("o{n},{partner}\n"));
    }
    let orders = shop.path().join("orders.csv");
    std::fs::write(&orders, csv).expect("write orders");
    let (code, stdout, stderr) = run(&[
        "aggregate",
        "--orders",
        orders.to_str().expect("utf8"),
        "--format",
        "generic",
        "--k",
        "5",
        "-o",
        shop.path().join("data/aggregates.toml").to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "aggregate failed:\n{stdout}\n{stderr}");
    build_ok(shop.path(), &out);
    let home = read(&out.join("index.html"));
    assert!(
        home.contains("<h2 id=\"picks-title\">Popular right now</h2>"),
        "with sales data the home block is a popularity block"
    );
    let pack = read(&out.join("products/fernpack-28/index.html"));
    let together = block_skus(&pack, "together").expect("a bought-together block with order data");
    assert!(!together.is_empty());
    assert!(pack.contains("Bought together in"), "the reasons say what the block is");
    for (name, html) in &product_pages(&out) {
        assert_blocks_honest(name, html);
    }
}
