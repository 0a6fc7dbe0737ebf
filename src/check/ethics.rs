//! Ethics rules: whom a cohort targets and whether cohorts are treated alike.
//!
//! A cohort must not be built around a special category of personal data (GDPR Art. 9:
//! health, beliefs, ethnic origin, politics, union membership, sex life, genetic or
//! biometric data) or around minors. That is decided by words: `sensitive-words.toml` beside
//! this file (categories of words and stems in several EU languages), plus the shop's
//! `[check] extra_sensitive_words`. A merchant who has considered a finding can acknowledge
//! it per cohort with a reason. Every cohort must also see the same price, availability and
//! SKU (privacy invariant 8), and should match at least one product.

use super::{Ctx, Finding, Locator};
use crate::content::{Shop, slugify};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The word list shipped with Cohort.
pub const WORD_LIST: &str = include_str!("sensitive-words.toml");

#[derive(Debug, Deserialize)]
struct WordList {
    category: Vec<Category>,
}

/// One category of sensitive words (sensitive-words.toml) and the rule that reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    /// Its id, as findings name it.
    pub id: String,
    /// `ethics/special-category` or `ethics/minors`.
    pub rule: String,
    /// What the category is in the law's words.
    pub article: String,
    /// Words, or stems ending in `*`, that place a cohort in the category.
    pub words: Vec<String>,
}

/// The built-in categories (an unreadable list is a bug caught by the tests; it yields none).
pub fn categories() -> Vec<Category> {
    toml::from_str::<WordList>(WORD_LIST).map(|l| l.category).unwrap_or_default()
}

/// Lower-case words of `text`: runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The first word sequence of `text` matching `entry` (see sensitive-words.toml), as written.
fn matches(entry: &str, text_words: &[String]) -> bool {
    let entry = entry.trim().to_lowercase();
    let (entry, stem) = match entry.strip_suffix('*') {
        Some(e) => (e.to_string(), true),
        None => (entry, false),
    };
    let parts = words(&entry);
    let Some((last, first)) = parts.split_last() else { return false };
    if text_words.len() < parts.len() {
        return false;
    }
    (0..=text_words.len() - parts.len()).any(|i| {
        first.iter().enumerate().all(|(k, p)| text_words[i + k] == *p) && {
            let w = &text_words[i + first.len()];
            if stem { w.starts_with(last.as_str()) } else { w == last }
        }
    })
}

/// A category's matches in one cohort: (field, entry) pairs.
type Hits<'a> = (&'a Category, Vec<(&'a str, String)>);

/// Cohort rules on shop.toml: sensitive targeting and cohorts that match no product.
pub fn cohorts(shop: &Shop, locator: &Locator) -> Vec<Finding> {
    let config = &shop.site.config;
    let mut cats = categories();
    if !config.check.extra_sensitive_words.is_empty() {
        cats.push(Category {
            id: "shop-listed".into(),
            rule: "ethics/special-category".into(),
            article: "a word this shop lists in [check] extra_sensitive_words".into(),
            words: config.check.extra_sensitive_words.clone(),
        });
    }
    let toml = locator.shop_toml();
    let mut out = Vec::new();
    let product_terms: BTreeSet<String> = shop
        .products
        .iter()
        .flat_map(|p| std::iter::once(slugify(&p.category)).chain(p.tags.iter().map(|t| slugify(t))))
        .collect();
    for cohort in &config.cohorts {
        let id = cohort.id.get_ref();
        let start = cohort.id.span().start.min(toml.len());
        let line_of = |needle: &str| -> usize {
            let lower = toml[start..].to_lowercase();
            let at = lower.find(&needle.to_lowercase()).unwrap_or(0);
            crate::html::line_of(toml, start + at)
        };
        let mut fields: Vec<(&str, String)> =
            vec![("id", id.clone()), ("label", cohort.label.clone()), ("description", cohort.description.clone())];
        fields.extend(cohort.interests.iter().map(|i| ("interests", i.clone())));
        fields.extend(cohort.campaigns.iter().map(|c| ("campaigns", c.clone())));
        let mut hits: BTreeMap<&str, Hits> = BTreeMap::new();
        for (field, value) in &fields {
            let text_words = words(value);
            for cat in &cats {
                if let Some(entry) = cat.words.iter().find(|e| matches(e, &text_words)) {
                    hits.entry(cat.id.as_str()).or_insert((cat, Vec::new())).1.push((field, entry.clone()));
                }
            }
        }
        for (_, (cat, found)) in hits {
            let (field, entry) = &found[0];
            let rule: &'static str =
                if cat.rule == "ethics/minors" { "ethics/minors" } else { "ethics/special-category" };
            let shown: Vec<String> =
                found.iter().map(|(f, e)| format!("{f} (\"{}\")", e.trim_end_matches('*'))).collect();
            let line = line_of(entry.trim_end_matches('*').split('-').next().unwrap_or(""));
            let what = if rule == "ethics/minors" { "minors" } else { "a special category of personal data" };
            out.push(
                Finding::error(
                    rule,
                    "shop.toml",
                    line,
                    format!(
                        "cohort `{id}` appears to target {what}: {} — its {} {}",
                        cat.article,
                        shown.join(", "),
                        if found.len() == 1 { "matches" } else { "match" }
                    ),
                )
                .fix(format!(
                    "build the cohort around what people buy, not who they are; if it is fine (e.g. the word means something else here), add acknowledge = [{{ rule = \"{rule}\", reason = \"...\" }}] to the cohort (matched in {field})"
                ))
                .for_cohort(id),
            );
        }
        let interests: Vec<String> = cohort.interests.iter().map(|i| slugify(i)).collect();
        if !interests.iter().any(|i| product_terms.contains(i)) {
            let line = if cohort.interests.is_empty() { line_of(id) } else { line_of("interests") };
            out.push(
                Finding::warning(
                    "ethics/cohort-no-products",
                    "shop.toml",
                    line,
                    format!(
                        "no product's category or tags match cohort `{id}`'s interests ({}), so it sees the default shop",
                        if cohort.interests.is_empty() { "none given".to_string() } else { cohort.interests.join(", ") }
                    ),
                )
                .fix("list categories or tags your products use in interests, or remove the cohort")
                .for_cohort(id),
            );
        }
    }
    out
}

/// Price, availability or SKU in a cohort variant (`/c/`) or fragment (`/_cohort/f/`) that
/// differ from the product's own.
pub fn variants(ctx: &Ctx) -> Vec<Finding> {
    let reference: BTreeMap<&str, (String, &str)> =
        ctx.shop.products.iter().map(|p| (p.sku.as_str(), (p.price.decimal(), p.availability.name()))).collect();
    let mut out = Vec::new();
    for scan in ctx.built.scans.iter().filter(|s| {
        s.file.starts_with(crate::output::layout::VARIANTS) || s.file.starts_with(crate::output::layout::FRAGMENTS)
    }) {
        for item in &scan.priced {
            let problem = match reference.get(item.sku.as_str()) {
                None => Some(format!("shows SKU `{}`, which no product has", item.sku)),
                Some((price, availability)) => {
                    if item.price.as_ref().is_some_and(|p| p != price) {
                        Some(format!(
                            "shows SKU `{}` at {} where every other page says {price}",
                            item.sku,
                            item.price.as_deref().unwrap_or("")
                        ))
                    } else if item.availability.as_ref().is_some_and(|a| a != availability) {
                        Some(format!(
                            "shows SKU `{}` as {} where every other page says {availability}",
                            item.sku,
                            item.availability.as_deref().unwrap_or("")
                        ))
                    } else {
                        None
                    }
                }
            };
            if let Some(problem) = problem {
                let (file, line) = ctx.locator.locate(&scan.file, item.line, "data-price");
                out.push(
                    Finding::error("ethics/cohort-price-difference", file, line, format!("a cohort's version {problem}"))
                        .fix("show every cohort the same price, availability and SKU: take them from the product, never from the cohort")
                        .on_page(&scan.file),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_list_parses_and_has_every_category() {
        let ids: Vec<String> = categories().into_iter().map(|c| c.id).collect();
        for id in [
            "health",
            "religion",
            "ethnic-origin",
            "political-opinion",
            "trade-union",
            "sex-life",
            "genetic-biometric",
            "minors",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
        }
    }

    #[test]
    fn words_stems_and_phrases_match() {
        let w = words("Diabetic-friendly baking, Weight loss plans");
        assert!(matches("diabet*", &w));
        assert!(matches("weight-loss", &w));
        assert!(!matches("loss-weight", &w));
        assert!(!matches("race", &words("trail racing")));
        assert!(matches("kids", &words("Kids' corner")));
        assert!(!matches("kid", &words("kidney beans")));
    }
}
