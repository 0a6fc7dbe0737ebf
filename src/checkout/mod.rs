//! `[checkout]`: a cart kept on the visitor's device (`cohort-cart.js`, localStorage
//! `cohort.cart` = SKUs and quantities only) handed to a hosted checkout the merchant already
//! uses: PayPal's cart upload, Foxy (every product field signed with HMAC-SHA256 at build
//! time), Snipcart (buy buttons its crawler validates against the page), or plain `buy_url`
//! links (Stripe Payment Links or any hosted link).
//!
//! Everything a provider receives comes from the built pages: the add-to-cart forms of the
//! product and listing pages and the catalog of the cart page, rendered from the same
//! product data as the visible price and checked by the price invariance guard. The Foxy
//! secret is read from the environment variable shop.toml names; only signatures reach the
//! output.

use crate::config::{LoadKind, Purpose, ThirdParty};
use crate::content::money::Money;
use crate::content::product::{Availability, Product};
use crate::content::variant::Variant;
use crate::diagnostics::{Diagnostic, Diagnostics};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

mod resolve;

pub use resolve::resolve;

/// The cart script as written, with comments; [`script`] is what is served.
pub const SOURCE: &str = include_str!("cohort-cart.js");

/// Where the cart script is served, relative to the site's base path.
pub const SCRIPT_PATH: &str = "cohort-cart.js";

/// The served size budget of `cohort-cart.js`, gzipped.
pub const GZIP_BUDGET: usize = 3072;

/// The one localStorage key of the cart: `{"SKU": quantity, ...}`.
pub const CART_KEY: &str = "cohort.cart";

/// The site path of the cart page.
pub const CART_PATH: &str = "cart/";

/// Snipcart's script and style sheet, loaded on the cart page only, when the visitor checks out.
pub const SNIPCART_CDN: &str = "https://cdn.snipcart.com";
/// The Snipcart version whose script the cart page loads.
pub const SNIPCART_VERSION: &str = "3.7.1";
/// PayPal's cart upload endpoint.
pub const PAYPAL_ACTION: &str = "https://www.paypal.com/cgi-bin/webscr";

/// The providers, as shop.toml names them.
pub const PROVIDERS: [&str; 4] = ["paypal", "foxy", "snipcart", "links"];

/// The hosted checkout a shop hands its cart to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// PayPal's cart upload (`cmd=_cart`, `upload=1`).
    PayPal,
    /// Foxy, with HMAC product verification.
    Foxy,
    /// Snipcart, whose crawler validates the buy buttons against the page.
    Snipcart,
    /// Plain `buy_url` links per product or variant (Stripe Payment Links...), no cart.
    Links,
}

impl Provider {
    /// The name shop.toml uses.
    pub fn name(self) -> &'static str {
        match self {
            Provider::PayPal => "paypal",
            Provider::Foxy => "foxy",
            Provider::Snipcart => "snipcart",
            Provider::Links => "links",
        }
    }
}

/// A secret that never shows in `Debug` output or messages.
#[derive(Clone, Default, Hash)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// `[checkout]` after validation.
#[derive(Debug, Clone, Hash)]
pub struct Checkout {
    /// Which hosted checkout takes the cart.
    pub provider: Provider,
    /// PayPal's `business`.
    pub business: String,
    /// Foxy's store domain.
    pub store: String,
    /// Snipcart's public API key.
    pub public_api_key: String,
    /// PayPal takes only whole amounts in this currency (HUF, TWD), though ISO 4217 gives it
    /// minor digits.
    pub whole_amounts: Option<&'static str>,
    secret: Secret,
}

impl Checkout {
    /// Whether the shop has a cart (every provider but `links`).
    pub fn has_cart(&self) -> bool {
        self.provider != Provider::Links
    }

    /// Where the add-to-cart forms and the checkout go: PayPal's endpoint or the Foxy cart.
    pub fn action(&self) -> Option<String> {
        match self.provider {
            Provider::PayPal => Some(PAYPAL_ACTION.to_string()),
            Provider::Foxy => Some(format!("https://{}/cart", self.store)),
            Provider::Snipcart | Provider::Links => None,
        }
    }

    /// The origin forms are posted to, for the CSP's `form-action`.
    pub fn form_origin(&self) -> Option<String> {
        self.action().and_then(|a| crate::html::origin_of(&a))
    }

    /// Foxy's HMAC product verification: the hex HMAC-SHA256 of code, name and value.
    pub fn foxy_signature(&self, code: &str, name: &str, value: &str) -> String {
        crate::html::hex(&hmac_sha256(self.secret.0.as_bytes(), format!("{code}{name}{value}").as_bytes()))
    }

    /// The Snipcart declaration added to `[[privacy.third_parties]]` when the shop has none.
    pub fn third_party(&self) -> Option<ThirdParty> {
        (self.provider == Provider::Snipcart).then(|| ThirdParty {
            name: "Snipcart".into(),
            origin: SNIPCART_CDN.into(),
            purpose: Purpose::Necessary,
            kinds: vec![LoadKind::Script, LoadKind::Style, LoadKind::Connect, LoadKind::Frame],
            description:
                "The checkout: takes your order, address and payment when you press Check out on the cart page".into(),
            companions: vec!["https://app.snipcart.com".into(), "https://payment.snipcart.com".into()],
            stores: vec![crate::config::StoredItem {
                name: "snipcart-cart".into(),
                kind: "localStorage".into(),
                lifetime: "until the order is placed".into(),
            }],
            policy_url: "https://snipcart.com/privacy-policy".into(),
            reason: "Orders are placed through Snipcart; it is loaded on the cart page only, when you press Check out"
                .into(),
        })
    }
}

/// HMAC-SHA256 (RFC 2104) over sha2.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

/// Checks the catalog against the provider: with `links`, every product or variant on sale
/// needs a `buy_url`; PayPal takes no item at 0.
pub fn check_products<'a>(checkout: &Checkout, products: impl Iterator<Item = &'a Product>, diags: &mut Diagnostics) {
    for p in products {
        let line = |key: &str| p.key_lines.get(key).copied().unwrap_or(0);
        let place = |d: Diagnostic, l: usize| d.at_line(l, if l > 0 { 1 } else { 0 }, None);
        match checkout.provider {
            Provider::Links => {
                if p.variants.is_empty() {
                    if p.buy_url.is_none() && p.availability != Availability::OutOfStock {
                        diags.push(place(
                            Diagnostic::new(&p.source, format!("product `{}` has no buy_url, and provider \"links\" sells through links only", p.sku)),
                            line("sku"),
                        ).hint("add buy_url = \"https://buy.stripe.com/...\" (a Stripe Payment Link or any hosted checkout link), or choose another [checkout] provider"));
                    }
                } else {
                    for v in &p.variants {
                        if v.buy_url.is_none() && v.availability != Availability::OutOfStock {
                            diags.push(place(
                                Diagnostic::new(&p.source, format!("variant `{}` has no buy_url, and provider \"links\" sells through links only", v.sku)),
                                v.line,
                            ).hint("add buy_url = \"https://buy.stripe.com/...\" to the variant (or one to the product that every variant inherits)"));
                        }
                    }
                }
            }
            Provider::PayPal => {
                let zero = |m: &Money| m.minor == 0;
                if p.variants.is_empty() && zero(&p.price) {
                    diags.push(
                        place(
                            Diagnostic::new(
                                &p.source,
                                format!("product `{}` has no price (0), which PayPal refuses", p.sku),
                            ),
                            line("price"),
                        )
                        .hint("give it a price, e.g. price = \"12.00\", or mark it out_of_stock"),
                    );
                }
                if let Some(code) = checkout.whole_amounts {
                    let fractional = |m: &Money| m.minor % 100 != 0;
                    let mut places: Vec<(String, usize)> = Vec::new();
                    if p.variants.is_empty() && fractional(&p.price) {
                        places.push((format!("product `{}`", p.sku), line("price")));
                    }
                    places.extend(
                        p.variants
                            .iter()
                            .filter(|v| fractional(&v.price))
                            .map(|v| (format!("variant `{}`", v.sku), v.line)),
                    );
                    for (what, l) in places {
                        diags.push(
                            place(
                                Diagnostic::new(
                                    &p.source,
                                    format!("{what} has a price in fractions of a {code}, which PayPal does not take"),
                                ),
                                l,
                            )
                            .hint(format!(
                                "PayPal takes whole amounts in {code}: round the price, e.g. price = \"1200\""
                            )),
                        );
                    }
                }
                for v in p.variants.iter().filter(|v| zero(&v.price)) {
                    diags.push(
                        place(
                            Diagnostic::new(
                                &p.source,
                                format!("variant `{}` has no price (0), which PayPal refuses", v.sku),
                            ),
                            v.line,
                        )
                        .hint("give the variant a price, e.g. price = \"12.00\""),
                    );
                }
            }
            Provider::Foxy | Provider::Snipcart => {}
        }
    }
}

/// One purchasable item (a product without variants, or a variant).
struct Item<'a> {
    sku: &'a str,
    name: String,
    price: &'a Money,
    available: bool,
}

fn item_of<'a>(p: &'a Product, v: Option<&'a Variant>) -> Item<'a> {
    match v {
        Some(v) => Item {
            sku: &v.sku,
            name: format!("{} ({})", p.title, v.label()),
            price: &v.price,
            available: v.availability != Availability::OutOfStock,
        },
        None => Item {
            sku: &p.sku,
            name: p.title.clone(),
            price: &p.price,
            available: p.availability != Availability::OutOfStock,
        },
    }
}

/// Foxy's signed fields of one item: (field name with its signature, value).
fn foxy_fields(c: &Checkout, item: &Item) -> Vec<(String, String)> {
    let signed =
        |name: &str, value: &str| (format!("{name}||{}", c.foxy_signature(item.sku, name, value)), value.to_string());
    let mut quantity = signed("quantity", "--OPEN--");
    quantity.0.push_str("||open");
    quantity.1 = "1".into();
    vec![signed("name", &item.name), signed("price", &item.price.decimal()), signed("code", item.sku), quantity]
}

/// The add-to-cart form of a product (`v` None) or of one of its variants, as templates see
/// it (`cart` of a card or variant), or null when it cannot be bought through the cart.
pub fn cart_value(site: &crate::config::Site, p: &Product, v: Option<&Variant>) -> Value {
    let Some(c) = site.checkout.as_ref().filter(|c| c.has_cart()) else {
        return Value::Null;
    };
    let item = item_of(p, v);
    if !item.available || (v.is_none() && !p.variants.is_empty()) {
        return Value::Null;
    }
    let url = site.permalink(&format!("products/{}/", p.slug));
    let price = item.price.decimal();
    // `price`: the field carries the price, so the template marks it for the price guard.
    let field = |n: &str, v: &str| json!({"name": n, "value": v, "price": n == "amount" || n.starts_with("price||")});
    let (fields, attrs): (Vec<Value>, Vec<Value>) = match c.provider {
        Provider::PayPal => (
            vec![
                field("cmd", "_cart"),
                field("add", "1"),
                field("business", &c.business),
                field("item_name", &item.name),
                field("item_number", item.sku),
                field("amount", &price),
                field("currency_code", site.currency.code),
            ],
            vec![],
        ),
        Provider::Foxy => (foxy_fields(c, &item).iter().map(|(n, v)| field(n, v)).collect(), vec![]),
        Provider::Snipcart => (
            vec![],
            vec![
                field("data-item-id", item.sku),
                field("data-item-price", &price),
                field("data-item-url", &url),
                field("data-item-name", &item.name),
            ],
        ),
        Provider::Links => return Value::Null,
    };
    json!({
        "provider": c.provider.name(),
        "sku": item.sku,
        "name": item.name,
        "price_decimal": price,
        "action": c.action(),
        "fields": fields,
        "attrs": attrs,
        "needs_script": c.provider == Provider::Snipcart,
    })
}

/// The cart page's variables: the checkout's settings and the catalog the script reads
/// (every item on sale: name, price in minor units, page, provider fields).
pub fn page_value(shop: &crate::content::Shop) -> Value {
    let site = &shop.site;
    let Some(c) = site.checkout.as_ref().filter(|c| c.has_cart()) else {
        return Value::Null;
    };
    let sample = Money { minor: 0, currency: site.currency }.display();
    let zero = Money { minor: 0, currency: site.currency }.decimal();
    let (pre, post) =
        sample.split_once(&zero).map_or((String::new(), String::new()), |(a, b)| (a.to_string(), b.to_string()));
    let mut items = serde_json::Map::new();
    for p in &shop.products {
        let variants: Vec<Option<&Variant>> =
            if p.variants.is_empty() { vec![None] } else { p.variants.iter().map(Some).collect() };
        for v in variants {
            let item = item_of(p, v);
            if !item.available {
                continue;
            }
            let path = format!("products/{}/", p.slug);
            let mut entry = json!({"n": item.name, "p": item.price.minor, "u": site.url(&path)});
            if c.provider == Provider::Snipcart {
                entry["a"] = json!(site.permalink(&path));
            }
            if c.provider == Provider::Foxy {
                entry["f"] = json!(foxy_fields(c, &item).into_iter().map(|(n, v)| [n, v]).collect::<Vec<_>>());
            }
            items.insert(item.sku.to_string(), entry);
        }
    }
    let mut config = json!({
        "provider": c.provider.name(),
        "currency": site.currency.code,
        "digits": site.currency.digits,
        "pre": pre,
        "post": post,
        "action": c.action(),
        "items": items,
    });
    match c.provider {
        Provider::PayPal => config["business"] = json!(c.business),
        Provider::Snipcart => {
            config["key"] = json!(c.public_api_key);
            config["js"] = json!(format!("{SNIPCART_CDN}/themes/v{SNIPCART_VERSION}/default/snipcart.js"));
            config["css"] = json!(format!("{SNIPCART_CDN}/themes/v{SNIPCART_VERSION}/default/snipcart.css"));
        }
        _ => {}
    }
    json!({
        "provider": c.provider.name(),
        "config": crate::render::context::script_safe_json(&config),
        "script": site.url(SCRIPT_PATH),
        "url": site.url(CART_PATH),
    })
}

/// The `site.checkout` value: what every page's templates need.
pub fn site_value(site: &crate::config::Site) -> Value {
    match &site.checkout {
        Some(c) => json!({
            "provider": c.provider.name(),
            "cart": c.has_cart(),
            "cart_url": site.url(CART_PATH),
            "script": site.url(SCRIPT_PATH),
        }),
        None => Value::Null,
    }
}

/// The privacy notice's line for the cart key (strictly necessary storage).
pub fn storage_entry() -> Value {
    json!({
        "name": CART_KEY,
        "store": "local_storage",
        "store_label": "Local storage",
        "purpose": "necessary",
        "what": "Your cart: the SKU and quantity of each product you added, nothing else. Set only when you add something to the cart; it needs no consent because you asked for it.",
        "lifetime": "Until you remove the products from the cart, or press Delete everything on the preferences page",
    })
}

/// `cohort-cart.js` as served (the runtime's minifier, without comments and indentation).
pub fn script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| crate::runtime::minify(SOURCE))
}

/// Gzipped size of the served cart script (best compression).
pub fn gzipped_size() -> usize {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let ok = enc.write_all(script().as_bytes()).is_ok();
    match enc.finish() {
        Ok(bytes) if ok => bytes.len(),
        _ => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(crate::html::hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let long_key = [0xaau8; 131];
        let mac = hmac_sha256(&long_key, b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(crate::html::hex(&mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret("hunter2".into())), "Secret(redacted)");
    }
}
