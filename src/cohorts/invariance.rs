//! The price invariance guard (privacy invariant 8): every cohort sees the same price,
//! availability and SKU for every product and every variant of one. After rendering, each fragment and variant is
//! scanned: every product it mentions (an element with `data-sku`) must carry its own
//! `data-price` and `data-availability` if it states them, and every amount of money in it
//! must be the price or compare-at price of a product it mentions.

use crate::content::Shop;
use std::collections::HashMap;

/// What the guard knows of each product: its price, compare-at price and availability.
pub struct Reference {
    by_sku: HashMap<String, (i64, Option<i64>, &'static str)>,
    /// A product's SKU → the prices and compare-at prices of its variants, which a text that
    /// mentions the product may show.
    variant_amounts: HashMap<String, Vec<i64>>,
    symbol_or_code: Vec<String>,
    digits: u32,
}

impl Reference {
    /// The reference of every product's price, availability and SKU.
    pub fn new(shop: &Shop) -> Reference {
        // A variant is a product of its own here: its SKU, price and availability.
        let by_sku =
            shop.products
                .iter()
                .flat_map(|p| {
                    let own = (p.sku.clone(), (p.price.minor, p.compare_at.map(|m| m.minor), p.availability.name()));
                    let variants = p.variants.iter().map(|v| {
                        (v.sku.clone(), (v.price.minor, v.compare_at.map(|m| m.minor), v.availability.name()))
                    });
                    std::iter::once(own).chain(variants)
                })
                .collect();
        let variant_amounts = shop
            .products
            .iter()
            .filter(|p| !p.variants.is_empty())
            .map(|p| {
                (
                    p.sku.clone(),
                    p.variants
                        .iter()
                        .flat_map(|v| std::iter::once(v.price.minor).chain(v.compare_at.map(|m| m.minor)))
                        .collect(),
                )
            })
            .collect();
        let sample = shop.site.currency.parse("1").map(|m| m.display()).unwrap_or_default();
        let marker = sample.trim_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ',' || c == ' ').to_string();
        Reference { by_sku, variant_amounts, symbol_or_code: vec![marker], digits: shop.site.currency.digits }
    }

    /// Checks one rendered fragment or page; the error says what differs.
    ///
    /// One pass over the tags that carry a `data-` attribute: a tag's `data-price` and
    /// `data-availability` are compared with the product of the same tag's `data-sku`; every
    /// SKU mentioned adds its prices to the amounts the text may show.
    pub fn check(&self, html: &str) -> Result<(), String> {
        let mut allowed: Vec<i64> = Vec::new();
        let mut rest = html;
        while let Some(at) = memchr::memmem::find(rest.as_bytes(), b"data-") {
            let tag_start = rest[..at].rfind('<').unwrap_or(0);
            let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
            let tag = &rest[tag_start..tag_end];
            rest = &rest[tag_end..];
            // Snipcart's buy buttons name the product `data-item-id` and its price
            // `data-item-price`: the price its crawler checks must be the product's.
            if let Some(id) = attribute(tag, "data-item-id") {
                let price = self.by_sku.get(id).map(|p| p.0);
                let Some(price) = price else {
                    return Err(format!("a buy button names SKU `{id}`, which no product has"));
                };
                if let Some(shown) = attribute(tag, "data-item-price")
                    && parse_minor(shown, self.digits) != Some(price)
                {
                    return Err(format!(
                        "the buy button of `{id}` carries data-item-price=\"{shown}\" instead of its price"
                    ));
                }
            }
            let Some(sku) = attribute(tag, "data-sku") else {
                continue;
            };
            let Some((price, compare, availability)) = self.by_sku.get(sku) else {
                return Err(format!("it mentions SKU `{sku}`, which no product has"));
            };
            allowed.push(*price);
            allowed.extend(*compare);
            allowed.extend(self.variant_amounts.get(sku).into_iter().flatten());
            if let Some(shown) = attribute(tag, "data-price")
                && parse_minor(shown, self.digits) != Some(*price)
            {
                return Err(format!("product `{sku}` shows data-price=\"{shown}\" instead of its price"));
            }
            // A checkout form's hidden price field (PayPal's `amount`, Foxy's `price||...`),
            // marked with the SKU it prices: its value is what the provider receives.
            if tag.starts_with("<input")
                && let Some(shown) = attribute(tag, "value")
                && parse_minor(shown, self.digits) != Some(*price)
            {
                return Err(format!("the checkout field of `{sku}` sends the price \"{shown}\" instead of its price"));
            }
            if let Some(shown) = attribute(tag, "data-availability")
                && shown != *availability
            {
                return Err(format!("product `{sku}` shows availability `{shown}` instead of `{availability}`"));
            }
        }
        for (marker, number, minor) in self.amounts(html) {
            if !allowed.contains(&minor) {
                return Err(format!(
                    "it shows the amount `{marker}{number}`, which is not the price of any product it mentions"
                ));
            }
        }
        Ok(())
    }

    /// Every amount of money written in the text: the currency marker followed (or preceded)
    /// by a number.
    fn amounts<'h>(&'h self, html: &'h str) -> Vec<(&'h str, &'h str, i64)> {
        let number_char = |c: char| c.is_ascii_digit() || c == '.' || c == ',';
        let mut found = Vec::new();
        for marker in &self.symbol_or_code {
            if marker.is_empty() {
                continue;
            }
            for at in memchr::memmem::find_iter(html.as_bytes(), marker.as_bytes()) {
                let after = html[at + marker.len()..].trim_start();
                let end = after.find(|c: char| !number_char(c)).unwrap_or(after.len());
                let mut number = after[..end].trim_end_matches(['.', ',']);
                if number.is_empty() {
                    let before = html[..at].trim_end();
                    let start = before.rfind(|c: char| !number_char(c)).map_or(0, |i| i + 1);
                    number = before[start..].trim_start_matches(['.', ',']);
                }
                if number.is_empty() {
                    continue;
                }
                let minor = if number.contains(',') {
                    parse_minor(&number.replace(',', ""), self.digits)
                } else {
                    parse_minor(number, self.digits)
                };
                if let Some(minor) = minor {
                    found.push((marker.as_str(), number, minor));
                }
            }
        }
        found
    }
}

/// "89.00" / "89" / "89.0" → minor units with `digits` decimals; -1 when it has more
/// (non-zero) decimals than the currency.
fn parse_minor(s: &str, digits: u32) -> Option<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits as usize;
    if frac.len() > digits && frac.bytes().skip(digits).any(|b| b != b'0') {
        return Some(-1);
    }
    let mut v: i64 = whole.parse().ok()?;
    let mut frac_bytes = frac.bytes();
    for _ in 0..digits {
        let d = frac_bytes.next().map_or(0, |b| i64::from(b - b'0'));
        v = v.checked_mul(10)?.checked_add(d)?;
    }
    Some(v)
}

/// The value of `attr="..."` in one tag, if the tag has it (as a whole attribute name).
fn attribute<'h>(tag: &'h str, attr: &str) -> Option<&'h str> {
    let mut from = 0;
    while let Some(i) = tag[from..].find(attr) {
        let at = from + i;
        let after = &tag[at + attr.len()..];
        let boundary = tag[..at].ends_with(|c: char| c.is_ascii_whitespace());
        if boundary && let Some(value) = after.strip_prefix("=\"") {
            return value.split('"').next();
        }
        from = at + attr.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_minor;

    #[test]
    fn amounts_parse_to_minor_units() {
        assert_eq!(parse_minor("89.00", 2), Some(8900));
        assert_eq!(parse_minor("89", 2), Some(8900));
        assert_eq!(parse_minor("84.5", 2), Some(8450));
        assert_eq!(parse_minor("1200", 0), Some(1200));
        assert_eq!(parse_minor("1200.00", 0), Some(1200));
        assert_eq!(parse_minor("1.999", 2), Some(-1));
        assert_eq!(parse_minor("1.990", 2), Some(199));
        assert_eq!(parse_minor("12,50", 2), None);
    }
}
