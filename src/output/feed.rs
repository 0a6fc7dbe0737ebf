//! `/feeds/google.xml`: a Google Merchant Center product feed (RSS 2.0 with the `g:`
//! namespace), written when `[feeds] google = true`. One item per product, or per variant
//! (with `g:item_group_id`) for a product with `[[variants]]`. Prices and availability come
//! from the same values as the pages' JSON-LD, so the feed cannot differ from them; the
//! order is the listing order, so the feed is deterministic.

use crate::content::Shop;
use crate::content::money::Money;
use crate::content::product::{Availability, Product};
use std::fmt::Write;

/// The feed's path in the output.
pub const GOOGLE_PATH: &str = super::layout::GOOGLE_FEED;

/// Google takes at most ten additional images.
const MAX_ADDITIONAL_IMAGES: usize = 10;

/// The feed's text.
pub fn google(shop: &Shop) -> String {
    let site = &shop.site;
    let c = &site.config;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n",
    );
    let _ = writeln!(out, "<title>{}</title>", text(&c.title));
    let _ = writeln!(out, "<link>{}</link>", text(&site.permalink("")));
    let description = if c.description.is_empty() { &c.title } else { &c.description };
    let _ = writeln!(out, "<description>{}</description>", text(description));
    for p in &shop.products {
        if p.variants.is_empty() {
            item(
                &mut out,
                shop,
                p,
                &Offer {
                    id: &p.sku,
                    title: p.title.clone(),
                    price: p.price,
                    compare_at: p.compare_at,
                    availability: p.availability,
                    group: None,
                },
            );
        }
        for v in &p.variants {
            let offer = Offer {
                id: &v.sku,
                title: format!("{} ({})", p.title, v.label()),
                price: v.price,
                compare_at: v.compare_at,
                availability: v.availability,
                group: Some(&p.sku),
            };
            item(&mut out, shop, p, &offer);
        }
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// What differs between the items of one product.
struct Offer<'a> {
    id: &'a str,
    title: String,
    price: Money,
    compare_at: Option<Money>,
    availability: Availability,
    group: Option<&'a str>,
}

fn item(out: &mut String, shop: &Shop, p: &Product, o: &Offer) {
    let site = &shop.site;
    let brand = shop.site.config.feeds.brand.as_deref().unwrap_or(&site.config.title);
    let description = if p.summary.trim().is_empty() { &p.body_text } else { &p.summary };
    out.push_str("<item>\n");
    let mut tag = |name: &str, value: &str| {
        if !value.trim().is_empty() {
            let _ = writeln!(out, "  <g:{name}>{}</g:{name}>", text(value));
        }
    };
    // A sale: Google wants the regular price in g:price and the one charged in g:sale_price.
    let (price, sale) = match o.compare_at.filter(|c| c.minor > o.price.minor) {
        Some(regular) => (regular, Some(o.price)),
        None => (o.price, None),
    };
    tag("id", o.id);
    tag("title", &o.title);
    tag("description", description);
    tag("link", &site.permalink(&format!("products/{}/", p.slug)));
    let mut images = p.images.iter().map(|i| site.permalink(&i.path));
    if let Some(first) = images.next() {
        tag("image_link", &first);
    }
    for more in images.take(MAX_ADDITIONAL_IMAGES) {
        tag("additional_image_link", &more);
    }
    tag("availability", o.availability.name());
    tag("price", &amount(&price));
    if let Some(s) = sale {
        tag("sale_price", &amount(&s));
    }
    tag("brand", brand);
    tag("mpn", o.id);
    tag("condition", "new");
    if let Some(g) = o.group {
        tag("item_group_id", g);
    }
    tag("product_type", &p.category);
    out.push_str("</item>\n");
}

/// "89.00 EUR", as the feed specification writes prices.
fn amount(m: &Money) -> String {
    format!("{} {}", m.decimal(), m.currency.code)
}

/// XML character data: `&`, `<`, `>` escaped, characters XML 1.0 cannot hold dropped.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}
