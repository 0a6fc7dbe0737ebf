//! What templates see: the `site` global, product cards, JSON-LD and per-page variables.
//! Every value is computed here, in Rust, so both engines render the same data and no
//! template has to do arithmetic on money.

use crate::content::Shop;
use crate::content::product::{Availability, Product};
use crate::content::variant::Variant;
use serde_json::{Value, json};

/// The `site` variable: configuration and navigation, the same on every page.
pub fn site(shop: &Shop, theme_name: &str) -> Value {
    let site = &shop.site;
    let c = &site.config;
    let taxa = |list: &[crate::content::Taxon], prefix: &str| -> Vec<Value> {
        list.iter()
            .map(|t| json!({"name": t.name, "slug": t.slug, "url": site.url(&format!("{prefix}/{}/", t.slug)), "count": t.products.len()}))
            .collect()
    };
    let hero = default_hero(shop);
    json!({
        "title": c.title,
        "description": c.description,
        "favicon": site.url(if c.favicon.is_empty() { "favicon.svg" } else { c.favicon.trim_start_matches('/') }),
        "favicon_type": favicon_type(&c.favicon),
        "language": c.language,
        "currency": site.currency.code,
        "base_url": site.base_url,
        "url": site.url(""),
        "theme": theme_name,
        "categories": taxa(&shop.categories, "categories"),
        "tags": taxa(&shop.tags, "tags"),
        "menu": shop.pages.iter().filter(|p| p.in_menu).map(|p| json!({"title": p.title, "url": site.url(&format!("pages/{}/", p.slug))})).collect::<Vec<_>>(),
        "privacy_url": site.url(crate::output::layout::PRIVACY),
        "preferences_url": site.url(crate::output::layout::PREFERENCES),
        "hero": hero,
        "cohorts": c.cohorts.iter().map(|k| json!({"id": k.id.get_ref(), "label": k.label, "description": k.description})).collect::<Vec<_>>(),
        "privacy": {
            "policy_version": c.privacy.policy_version,
            "controller": c.privacy.controller,
            "contact": c.privacy.contact,
            "consent_endpoint": c.privacy.consent_endpoint,
            "consent_max_age_days": c.privacy.consent_max_age_days,
            "honor_gpc": c.privacy.honor_gpc,
            "third_parties": c.privacy.third_parties,
            "google_consent_mode": c.privacy.google_consent_mode,
            "purposes": consent_purposes(&c.privacy.third_parties),
            "declared": crate::config::Purpose::ALL.iter().map(|p| (p.as_str().to_string(), json!(c.privacy.third_parties.iter().any(|t| t.purpose == *p)))).collect::<serde_json::Map<_, _>>(),
            "necessary_third_parties": c.privacy.third_parties.iter().filter(|t| !t.purpose.needs_consent()).map(third_party_value).collect::<Vec<_>>(),
        },
        "product_count": shop.products.len(),
        "checkout": crate::checkout::site_value(site),
    })
}

/// The purposes a visitor is asked about for third parties (functional, analytics,
/// marketing, those declared), each with its label, what it means and its third parties,
/// for the banner, the preferences page and the privacy notice.
fn consent_purposes(parties: &[crate::config::ThirdParty]) -> Vec<Value> {
    use crate::config::Purpose;
    Purpose::ALL
        .into_iter()
        .filter(|p| p.needs_consent())
        .filter_map(|p| {
            let list: Vec<Value> = parties.iter().filter(|t| t.purpose == p).map(third_party_value).collect();
            if list.is_empty() {
                return None;
            }
            let (label, meaning) = match p {
                Purpose::Functional => ("Functional", "Features from other services that you can see on the page, such as videos or maps. Without it they show a placeholder you can click to load once."),
                Purpose::Analytics => ("Analytics", "Measuring visits to improve the shop: how many people view which pages. The services below set their own cookies to tell visits apart."),
                Purpose::Marketing => ("Marketing", "Advertising: measuring which ads bring visitors and showing this shop's ads on other sites. The services below may recognise your browser across sites."),
                Purpose::Necessary => ("Necessary", ""),
            };
            Some(json!({"id": p.as_str(), "label": label, "description": meaning, "third_parties": list}))
        })
        .collect()
}

/// A declared third party as templates see it: `name` (the display name), `origin`,
/// `purpose`, `description`, `stores` (`name`, `kind`, `lifetime`), `policy_url`, `reason`.
fn third_party_value(t: &crate::config::ThirdParty) -> Value {
    json!({
        "name": t.display_name(),
        "origin": t.origin,
        "purpose": t.purpose.as_str(),
        "description": t.description,
        "stores": t.stores,
        "policy_url": t.policy_url,
        "reason": t.reason,
    })
}

/// One image of a product for templates (see [`picture_value`]).
fn image_value(shop: &Shop, image: &crate::content::product::Image) -> Value {
    picture_value(shop, &image.path, Some(&image.source), &image.alt)
}

/// An image as templates see it: `url` (the largest file of the fallback format), `alt`,
/// `width`/`height` (that file's, so pages reserve the photo's real shape), and for a
/// processed image (`crate::images`) `srcset`, `sizes`, `type` and `sources` (the WebP
/// `srcset`, for a `<source>` element). An image Cohort does not process (SVG, a theme's
/// embedded file) keeps its own URL, and its size when the header can be read.
pub fn picture_value(shop: &Shop, site_path: &str, file: Option<&std::path::Path>, alt: &str) -> Value {
    let site = &shop.site;
    let site_path = site_path.trim_start_matches('/');
    let Some(p) = shop.images.get(site_path) else {
        let mut v = json!({"url": site.url(site_path), "alt": alt});
        if let Some(Ok(size)) = file.map(imagesize::size) {
            v["width"] = json!(size.width);
            v["height"] = json!(size.height);
        }
        return v;
    };
    let url = |v: &crate::images::Variant| site.url(&format!("{}/{}", crate::images::OUTPUT_DIR, v.name));
    let srcset = |mime: &str| p.of(mime).map(|v| format!("{} {}w", url(v), v.width)).collect::<Vec<_>>().join(", ");
    let fallback = p.fallback_mime();
    let Some(largest) = p.largest() else {
        return json!({"url": site.url(site_path), "alt": alt});
    };
    let sources: Vec<Value> = if fallback != "image/webp" && p.of("image/webp").next().is_some() {
        vec![json!({"type": "image/webp", "srcset": srcset("image/webp")})]
    } else {
        Vec::new()
    };
    json!({
        "url": url(largest),
        "alt": alt,
        "width": largest.width,
        "height": largest.height,
        "type": fallback,
        "srcset": srcset(fallback),
        "sizes": site.config.images.sizes,
        "sources": sources,
    })
}

/// The MIME type of the shop's icon, from its file name (the theme's default is SVG).
fn favicon_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".png") {
        "image/png"
    } else if lower.ends_with(".ico") {
        "image/x-icon"
    } else {
        "image/svg+xml"
    }
}

/// The home hero everyone sees before choosing a cohort.
pub fn default_hero(shop: &Shop) -> Value {
    let c = &shop.site.config;
    match &c.hero {
        Some(h) => hero_value(shop, &h.title, &h.text, h.image.as_deref()),
        None => hero_value(shop, &c.title, &c.description, None),
    }
}

/// A hero for templates: `title`, `text`, `image` (its URL) and `picture` (the image value
/// of [`picture_value`], for the `picture` function), both null without an image.
pub fn hero_value(shop: &Shop, title: &str, text: &str, image: Option<&str>) -> Value {
    let picture = image.map(|i| picture_value(shop, i, None, ""));
    let url = picture.as_ref().and_then(|p| p.get("url").cloned());
    json!({"title": title, "text": text, "image": url, "picture": picture})
}

/// A product as listings, recommendation blocks and the product page show it, converted
/// once for the template engine (cards are shared by every page that shows the product).
pub fn card(shop: &Shop, p: &Product) -> minijinja::Value {
    super::partial_cache::ProductCard::value(minijinja::Value::from(minijinja::value::Serde(&Card::of(shop, p))))
}

/// [`card`] as JSON.
pub fn card_json(shop: &Shop, p: &Product) -> Value {
    serde_json::to_value(Card::of(shop, p)).unwrap_or_default()
}

/// A product card, serialized straight into a template value (building it as JSON first
/// and converting that was a tenth of a rebuild at 100,000 products). Fields are in name
/// order, as a JSON object's keys are, so a theme iterating a card sees the same order
/// either way.
#[derive(serde::Serialize)]
struct Card<'a> {
    availability: &'static str,
    availability_label: &'static str,
    badge: (),
    buy_url: Option<&'a str>,
    cart: Value,
    category: Link<'a>,
    compare_at: Option<String>,
    currency: &'static str,
    date: Option<&'a str>,
    image: Option<Value>,
    images: Vec<Value>,
    on_sale: bool,
    options: Vec<CardOption<'a>>,
    permalink: String,
    price: String,
    price_decimal: String,
    price_minor: i64,
    sku: &'a str,
    slug: &'a str,
    summary: &'a str,
    tags: Vec<Link<'a>>,
    title: &'a str,
    url: String,
    variants: Vec<Value>,
}

/// A category or tag on a card: its name and page.
#[derive(serde::Serialize)]
struct Link<'a> {
    name: &'a str,
    url: String,
}

/// One option of a product without variants: its name and values.
#[derive(serde::Serialize)]
struct CardOption<'a> {
    name: &'a str,
    values: &'a [String],
}

impl<'a> Card<'a> {
    fn of(shop: &Shop, p: &'a Product) -> Card<'a> {
        let site = &shop.site;
        let images: Vec<Value> = p.images.iter().map(|i| image_value(shop, i)).collect();
        let link = |prefix: &str, name: &'a str| Link {
            name,
            url: site.url(&format!("{prefix}/{}/", crate::content::slugify(name))),
        };
        Card {
            availability: p.availability.name(),
            availability_label: p.availability.label(),
            badge: (),
            buy_url: p.buy_url.as_deref(),
            cart: crate::checkout::cart_value(site, p, None),
            category: link("categories", &p.category),
            compare_at: p.compare_at.map(|m| m.display()),
            currency: site.currency.code,
            date: p.date.as_deref(),
            image: images.first().cloned(),
            images,
            on_sale: p.compare_at.is_some_and(|c| c.minor > p.price.minor),
            options: p.options.iter().map(|(name, values)| CardOption { name, values }).collect(),
            permalink: site.permalink(&format!("products/{}/", p.slug)),
            price: p.price.display(),
            price_decimal: p.price.decimal(),
            price_minor: p.price.minor,
            sku: &p.sku,
            slug: &p.slug,
            summary: &p.summary,
            tags: p.tags.iter().map(|t| link("tags", t)).collect(),
            title: &p.title,
            url: site.url(&format!("products/{}/", p.slug)),
            variants: p.variants.iter().map(|v| variant_json(site, p, v)).collect(),
        }
    }
}

/// A variant as templates see it: its options, its own price and availability.
fn variant_json(site: &crate::config::Site, p: &Product, v: &Variant) -> Value {
    json!({
        "sku": v.sku,
        "label": v.label(),
        "options": v.options.iter().map(|(n, val)| json!({"name": n, "value": val})).collect::<Vec<_>>(),
        "price": v.price.display(),
        "price_decimal": v.price.decimal(),
        "price_minor": v.price.minor,
        "compare_at": v.compare_at.map(|m| m.display()),
        "on_sale": v.on_sale(),
        "availability": v.availability.name(),
        "availability_label": v.availability.label(),
        "buy_url": v.buy_url,
        "cart": crate::checkout::cart_value(site, p, Some(v)),
    })
}

/// schema.org Product JSON-LD, escaped so it can sit inside `<script>` whatever the
/// product's text holds. A product with variants is a `ProductGroup` whose `hasVariant`
/// lists each variant as a Product with its own Offer.
pub fn product_jsonld(shop: &Shop, p: &Product) -> String {
    let site = &shop.site;
    let url = site.permalink(&format!("products/{}/", p.slug));
    let offer = |price: &crate::content::money::Money, availability: Availability| {
        let mut offer = json!({
            "@type": "Offer",
            "url": url,
            "price": price.decimal(),
            "priceCurrency": site.currency.code,
            "availability": availability.schema(),
            "itemCondition": "https://schema.org/NewCondition",
        });
        if let Some(seller) = Some(&site.config.title).filter(|t| !t.is_empty()) {
            offer["seller"] = json!({"@type": "Organization", "name": seller});
        }
        offer
    };
    let images: Vec<String> = p.images.iter().map(|i| site.permalink(&i.path)).collect();
    if !p.variants.is_empty() {
        return script_safe_json(&product_group(p, &url, &images, &offer));
    }
    let mut value = json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": p.title,
        "sku": p.sku,
        "description": p.summary,
        "category": p.category,
        "image": images,
        "url": url,
        "offers": offer(&p.price, p.availability),
    });
    // An empty list says nothing; on a large catalog without photos it is 11 bytes a page.
    if images.is_empty()
        && let Some(o) = value.as_object_mut()
    {
        o.remove("image");
    }
    script_safe_json(&value)
}

/// The schema.org property an option name stands for, when there is one.
fn schema_property(option: &str) -> Option<&'static str> {
    match option.to_lowercase().as_str() {
        "size" | "größe" | "taille" => Some("size"),
        "color" | "colour" | "farbe" | "couleur" => Some("color"),
        "material" => Some("material"),
        "pattern" => Some("pattern"),
        _ => None,
    }
}

fn product_group(
    p: &Product,
    url: &str,
    images: &[String],
    offer: &dyn Fn(&crate::content::money::Money, Availability) -> Value,
) -> Value {
    let varies_by: Vec<Value> = p
        .options
        .iter()
        .map(|(name, _)| match schema_property(name) {
            Some(prop) => json!(format!("https://schema.org/{prop}")),
            None => json!(name),
        })
        .collect();
    let variants: Vec<Value> = p
        .variants
        .iter()
        .map(|v| {
            let mut item = json!({
                "@type": "Product",
                "name": format!("{} ({})", p.title, v.label()),
                "sku": v.sku,
                "image": images,
                "offers": offer(&v.price, v.availability),
            });
            let mut extra = Vec::new();
            for (name, value) in &v.options {
                match schema_property(name) {
                    Some(prop) => item[prop] = json!(value),
                    None => extra.push(json!({"@type": "PropertyValue", "name": name, "value": value})),
                }
            }
            if !extra.is_empty() {
                item["additionalProperty"] = json!(extra);
            }
            item
        })
        .collect();
    json!({
        "@context": "https://schema.org",
        "@type": "ProductGroup",
        "name": p.title,
        "productGroupID": p.sku,
        "description": p.summary,
        "category": p.category,
        "image": images,
        "url": url,
        "variesBy": varies_by,
        "hasVariant": variants,
    })
}

/// JSON text that cannot close a `<script>` element or open a comment in it.
pub fn script_safe_json(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Open Graph availability words.
pub fn og_availability(p: &Product) -> &'static str {
    match p.availability {
        crate::content::product::Availability::InStock => "in stock",
        crate::content::product::Availability::OutOfStock => "out of stock",
        crate::content::product::Availability::Preorder => "preorder",
    }
}
