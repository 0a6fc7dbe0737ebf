//! `cohort serve` keeps `/feeds/google.xml` true to the pages: a price edit (the fast path
//! of the incremental rebuild) reaches the feed too.

mod serve_support;
use serve_support::*;

#[test]
fn a_price_edit_reaches_the_served_feed() {
    let shop = basic_shop();
    let toml = std::fs::read_to_string(shop.path().join("shop.toml")).unwrap();
    std::fs::write(shop.path().join("shop.toml"), format!("{toml}\n[feeds]\ngoogle = true\n")).unwrap();
    let s = start(shop.path());
    let events = s.events();
    assert!(events.next_named("hello").is_some());
    let feed = s.get("/feeds/google.xml").text();
    assert!(feed.contains("<g:id>KN-200</g:id>") && feed.contains("<g:price>79.00 EUR</g:price>"), "{feed}");

    edit(shop.path(), "products/chef-knife.md", "price = \"79.00\"", "price = \"83.25\"");
    assert!(events.next_named("reload").is_some(), "a reload after the edit");
    s.wait_for("/products/chef-knife/", "the new price on the page", |b| b.contains("€83.25"));
    let feed =
        s.wait_for("/feeds/google.xml", "the new price in the feed", |b| b.contains("<g:price>83.25 EUR</g:price>"));
    assert!(!feed.contains("79.00 EUR"), "{feed}");
}
