//! A product's `[[variants]]`: combinations of its options, each with its own SKU, price,
//! compare-at price, availability and buy link (as Shopify and Snipcart model them).
//!
//! Each table is read key by key (not through serde) so that every problem in every
//! variant is reported in one run, each at its line and column.

use super::money::Money;
use super::product::{Availability, Product};
use crate::config::Site;
use crate::diagnostics::{Diagnostic, Diagnostics, suggest};
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// One `[[variants]]` table as written.
pub type RawVariant = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// A purchasable combination of a product's options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variant {
    /// Its SKU, unique in the shop.
    pub sku: String,
    /// One value per product option, in the order of the product's `[options]`.
    pub options: Vec<(String, String)>,
    /// Its price (the product's unless it sets one).
    pub price: Money,
    /// Its was-price (the product's unless it sets one).
    pub compare_at: Option<Money>,
    /// Whether it can be bought (the product's unless it sets one).
    pub availability: Availability,
    /// Its hosted checkout link (the product's unless it sets one).
    pub buy_url: Option<String>,
    /// Line of the variant's `sku` in the source file, for shop-wide checks.
    pub line: usize,
}

impl Variant {
    /// "41 / Black": the option values, for labels and feeds.
    pub fn label(&self) -> String {
        self.options.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" / ")
    }
    /// Whether it is sold below its compare-at price.
    pub fn on_sale(&self) -> bool {
        self.compare_at.is_some_and(|c| c.minor > self.price.minor)
    }
}

const KEYS: [&str; 6] = ["sku", "options", "price", "compare_at_price", "availability", "buy_url"];

/// What a variant takes from its product: its options, and the values it inherits when
/// it does not set them.
pub struct Defaults<'a> {
    /// The product's `[options]`.
    pub options: &'a [(String, Vec<String>)],
    /// The product's price.
    pub price: Option<Money>,
    /// The product's was-price.
    pub compare_at: Option<Money>,
    /// The product's availability.
    pub availability: Option<Availability>,
    /// The product's `buy_url`.
    pub buy_url: Option<&'a str>,
    /// The product's SKU (a variant's must differ).
    pub product_sku: &'a str,
}

/// Parses every `[[variants]]` table of one product. `fm` is the front matter text and
/// `line0` its first line in the file.
pub fn parse_all(
    site: &Site,
    rel: &Path,
    fm: &str,
    line0: usize,
    raw: &[RawVariant],
    defaults: &Defaults,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Variant> {
    let at = |span: std::ops::Range<usize>, msg: String| Diagnostic::new(rel, msg).at_offset(fm, span.start, line0);
    let mut out = Vec::new();
    let mut seen_sku: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen_combo: BTreeMap<Vec<(String, String)>, String> = BTreeMap::new();
    for (n, table) in raw.iter().enumerate() {
        let before = errors.len();
        let v = parse_one(site, table, defaults, &at, errors);
        let Some(v) = v.filter(|_| errors.len() == before) else { continue };
        if let Some(sku_key) = table.keys().find(|k| k.get_ref() == "sku") {
            if v.sku == defaults.product_sku {
                errors.push(
                    at(sku_key.span(), format!("variant {} has the product's own SKU `{}`", n + 1, v.sku)).hint(
                        "the product's sku names the whole group; give each variant its own, e.g. sku = \"TR2-001-41\"",
                    ),
                );
                continue;
            }
            if let Some(first) = seen_sku.insert(v.sku.clone(), n + 1) {
                errors.push(
                    at(sku_key.span(), format!("variant {} repeats the SKU `{}` of variant {first}", n + 1, v.sku))
                        .hint("every variant needs its own SKU"),
                );
                continue;
            }
        }
        if !v.options.is_empty()
            && let Some(first) = seen_combo.insert(v.options.clone(), v.sku.clone())
        {
            errors.push(
                Diagnostic::new(rel, format!("variant `{}` has the same options as variant `{first}`", v.sku))
                    .at_line(v.line, 1, None)
                    .hint("each variant is one combination of options; change or remove one of them"),
            );
            continue;
        }
        out.push(v);
    }
    out
}

fn parse_one(
    site: &Site,
    table: &RawVariant,
    defaults: &Defaults,
    at: &impl Fn(std::ops::Range<usize>, String) -> Diagnostic,
    errors: &mut Vec<Diagnostic>,
) -> Option<Variant> {
    let options = defaults.options;
    let mut sku = None;
    let mut chosen = None;
    let (mut price, mut compare_at) = (defaults.price, defaults.compare_at);
    let mut availability = defaults.availability;
    let mut buy_url = defaults.buy_url.map(str::to_string);
    let mut line = 0;
    for (key, value) in table {
        let text = value.get_ref().as_str();
        let need_string =
            |k: &str| at(value.span(), format!("`{k}` must be a string")).hint(format!("e.g. {k} = \"...\""));
        match (key.get_ref().as_str(), text) {
            ("sku", Some(s)) if !s.trim().is_empty() => {
                sku = Some(s.trim().to_string());
                line = at(key.span(), String::new()).line;
            }
            ("sku", _) => errors.push(
                at(value.span(), "a variant's SKU must be a non-empty string".into()).hint("e.g. sku = \"TR2-001-41\""),
            ),
            ("options", _) => chosen = parse_options(value, options, at, errors),
            (k @ ("price" | "compare_at_price"), Some(s)) => match site.currency.parse(s) {
                Ok(m) if k == "price" => {
                    price = Some(m);
                    // A variant with its own price has no compare-at price unless it says so.
                    if !table.keys().any(|k| k.get_ref() == "compare_at_price") {
                        compare_at = None;
                    }
                }
                Ok(m) => compare_at = Some(m),
                Err(e) => errors.push(at(value.span(), format!("bad {k} \"{s}\": {}", e.message())).hint(e.hint())),
            },
            ("availability", Some(s)) => match Availability::NAMES.iter().position(|n| *n == s) {
                Some(i) => {
                    availability = Some([Availability::InStock, Availability::OutOfStock, Availability::Preorder][i])
                }
                None => errors.push(
                    at(value.span(), format!("unknown availability `{s}`"))
                        .hint(format!("use one of: {}", Availability::NAMES.join(", "))),
                ),
            },
            ("buy_url", Some(s)) => {
                let s = s.trim();
                if !(s.starts_with("https://") || s.starts_with("http://")) || s.contains(['"', '<', '>', ' ']) {
                    errors.push(
                        at(value.span(), format!("`{s}` is not a web address"))
                            .hint("buy_url is a plain link to a hosted checkout, e.g. \"https://buy.stripe.com/...\""),
                    );
                }
                buy_url = Some(s.to_string());
            }
            (k, None) if KEYS.contains(&k) => errors.push(need_string(k)),
            (k, _) => {
                let hint = match suggest(k, KEYS) {
                    Some(s) => format!("did you mean `{s}`? A variant may set: {}", KEYS.join(", ")),
                    None => format!("a variant may set: {}", KEYS.join(", ")),
                };
                errors.push(at(key.span(), format!("unknown key `{k}` in a [[variants]] table")).hint(hint));
            }
        }
    }
    let Some(sku) = sku else {
        if !table.keys().any(|k| k.get_ref() == "sku") {
            let first = table.keys().next().map_or(0..0, Spanned::span);
            errors.push(at(first, "a variant has no sku".into()).hint("add sku = \"...\" to every [[variants]] table"));
        }
        return None;
    };
    if chosen.is_none() && !table.keys().any(|k| k.get_ref() == "options") && !options.is_empty() {
        let span = table.keys().find(|k| k.get_ref() == "sku").map_or(0..0, Spanned::span);
        errors.push(
            at(span, format!("variant `{sku}` chooses no options"))
                .hint(format!("add options = {{ {} }}", example_choice(options))),
        );
    }
    let chosen = match chosen {
        Some(c) => c,
        None if options.is_empty() && !table.keys().any(|k| k.get_ref() == "options") => Vec::new(),
        None => return None,
    };
    Some(Variant { sku, options: chosen, price: price?, compare_at, availability: availability?, buy_url, line })
}

/// `options = { size = "41" }`: one value for each of the product's options, each one of
/// the values `[options]` lists.
fn parse_options(
    value: &Spanned<toml::Value>,
    options: &[(String, Vec<String>)],
    at: &impl Fn(std::ops::Range<usize>, String) -> Diagnostic,
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<(String, String)>> {
    let Some(table) = value.get_ref().as_table() else {
        errors.push(
            at(value.span(), "a variant's options must be a table".into())
                .hint(format!("e.g. options = {{ {} }}", example_choice(options))),
        );
        return None;
    };
    let before = errors.len();
    let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
    for (name, v) in table {
        let Some((_, allowed)) = options.iter().find(|(n, _)| n == name) else {
            let hint = match (suggest(name, names.iter().copied()), names.is_empty()) {
                (_, true) => format!("the product has no [options]; add e.g. [options] {name} = [...] first"),
                (Some(s), _) => format!("did you mean `{s}`? The product's options are: {}", names.join(", ")),
                (None, _) => format!("the product's options are: {}", names.join(", ")),
            };
            errors.push(
                at(value.span(), format!("variant option `{name}` is not in the product's [options]")).hint(hint),
            );
            continue;
        };
        match v.as_str() {
            Some(s) if allowed.iter().any(|a| a == s) => {}
            Some(s) => errors.push(
                at(value.span(), format!("`{s}` is not one of the values of option `{name}`"))
                    .hint(format!("use one of: {} (or add it to [options])", allowed.join(", "))),
            ),
            None => errors.push(at(value.span(), format!("the value of option `{name}` must be a string"))),
        }
    }
    for name in &names {
        if !table.contains_key(*name) {
            errors.push(
                at(value.span(), format!("the variant does not choose a value for option `{name}`"))
                    .hint(format!("a variant sets every option: options = {{ {} }}", example_choice(options))),
            );
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(
        options
            .iter()
            .filter_map(|(n, _)| table.get(n).and_then(|v| v.as_str()).map(|v| (n.clone(), v.to_string())))
            .collect(),
    )
}

fn example_choice(options: &[(String, Vec<String>)]) -> String {
    if options.is_empty() {
        return "size = \"41\"".into();
    }
    options
        .iter()
        .map(|(n, v)| format!("{n} = \"{}\"", v.first().map_or("", String::as_str)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Shop-wide: no variant SKU may be used by another product or another product's variant.
/// (Product SKUs among themselves are checked by the caller.)
pub fn check_unique_skus(products: &[Product], diags: &mut Diagnostics) {
    let mut sorted: Vec<&Product> = products.iter().collect();
    sorted.sort_by(|a, b| a.source.cmp(&b.source));
    let mut owner: BTreeMap<&str, &Path> = sorted.iter().map(|p| (p.sku.as_str(), p.source.as_path())).collect();
    for p in sorted {
        for v in &p.variants {
            if let Some(first) = owner.insert(&v.sku, &p.source) {
                diags.push(
                    Diagnostic::new(&p.source, format!("the SKU `{}` is already used by {}", v.sku, first.display()))
                        .at_line(v.line, 1, None)
                        .hint("every product and variant needs its own SKU; change one of them"),
                );
                owner.insert(&v.sku, first);
            }
        }
    }
}
