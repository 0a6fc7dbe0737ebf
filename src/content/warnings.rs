//! Mistakes that still make a valid shop, found when the catalog is assembled and printed
//! as warnings by every command that builds: a category that is probably a misspelling of
//! another, and a cohort interest that no product's category or tag matches.

use super::{Taxon, product::Product};
use crate::config::Site;
use crate::diagnostics::{Diagnostic, edit_distance, suggest};
use std::path::Path;

/// A mistake that does not stop the build: a [`Diagnostic`] of severity warning, with the
/// `cohort check` rule that reports it (and the cohort it concerns, if any).
pub type Warning = Diagnostic;

/// A file in `products/` that is neither a product file nor a bundle.
pub fn stray(path: &Path) -> Warning {
    Diagnostic::new(path, "not a product (products are .md files or folders with an index.md); left out")
        .warning("content/not-a-product")
}

/// Whether two category slugs look like one meant twice: a singular and its plural, or a
/// small typo (one edit for short words, two for longer ones).
fn near(a: &str, b: &str) -> bool {
    let plural = |one: &str, many: &str| {
        many.strip_suffix('s').is_some_and(|s| s == one || s.strip_suffix('e') == Some(one))
            || many.strip_suffix("ies").is_some_and(|s| one.strip_suffix('y') == Some(s))
    };
    if plural(a, b) || plural(b, a) {
        return true;
    }
    let limit = if a.chars().count().min(b.chars().count()) <= 4 { 1 } else { 2 };
    (1..=limit).contains(&edit_distance(a, b))
}

/// A warning for every category only one product uses whose name is close to another
/// category's, naming both files.
pub fn near_duplicate_categories(products: &[Product], categories: &[Taxon]) -> Vec<Warning> {
    let mut out = Vec::new();
    for lone in categories.iter().filter(|c| c.products.len() == 1) {
        let other = categories
            .iter()
            .filter(|c| c.slug != lone.slug && near(&lone.slug, &c.slug))
            // Two lone categories are one warning, on the first of them.
            .filter(|c| c.products.len() > 1 || lone.slug < c.slug)
            .max_by_key(|c| (c.products.len(), std::cmp::Reverse(c.slug.clone())));
        let (Some(other), Some(p)) = (other, products.get(lone.products[0])) else {
            continue;
        };
        let Some(first) = other.products.first().and_then(|&i| products.get(i)) else {
            continue;
        };
        let more = match other.products.len() {
            1 => " uses".to_string(),
            n => format!(" and {} more use", n - 1),
        };
        let message = format!(
            "category `{}` is used by this product only, while {}{more} `{}`: a second category is made for it",
            lone.name,
            first.source.display(),
            other.name,
        );
        out.push(
            Diagnostic::new(p.source.clone(), message)
                .warning("content/near-duplicate-category")
                .at_line(p.key_lines.get("category").copied().unwrap_or(0), 0, None)
                .hint(format!("if you meant the same one, write category = \"{}\"", other.name)),
        );
    }
    out
}

/// A warning for every cohort interest in shop.toml that matches no product's category or
/// tag, with the closest one in use as a suggestion.
pub fn unmatched_interests(root: &Path, site: &Site, categories: &[Taxon], tags: &[Taxon]) -> Vec<Warning> {
    let used: Vec<&str> = categories.iter().chain(tags).map(|t| t.slug.as_str()).collect();
    let source = std::fs::read_to_string(root.join("shop.toml")).unwrap_or_default();
    let mut out = Vec::new();
    for cohort in &site.config.cohorts {
        let id = cohort.id.get_ref();
        for interest in &cohort.interests {
            let slug = super::slugify(interest);
            if used.contains(&slug.as_str()) {
                continue;
            }
            let hint = match suggest(&slug, used.iter().copied()) {
                Some(best) => format!("did you mean \"{best}\"?"),
                None if used.is_empty() => "no product has a category or tags yet".to_string(),
                None => format!("the categories and tags in use are: {}", shown(&used)),
            };
            let message =
                format!("cohort `{id}` has the interest `{interest}`, which no product's category or tag matches");
            out.push(
                Diagnostic::new("shop.toml", message)
                    .warning("ethics/cohort-interest-unmatched")
                    .at_line(interest_line(&source, cohort.id.span().start, interest).unwrap_or(0), 0, None)
                    .hint(hint)
                    .for_cohort(id.clone()),
            );
        }
    }
    out
}

/// At most twelve names, then how many more.
fn shown(names: &[&str]) -> String {
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let more = sorted.len().saturating_sub(12);
    let mut text = sorted.into_iter().take(12).collect::<Vec<_>>().join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// The line of the first `interests` line after byte `from` that names `interest`.
fn interest_line(source: &str, from: usize, interest: &str) -> Option<usize> {
    let from = source.get(..from).map_or(0, |before| before.lines().count().max(1) - 1);
    let quoted = format!("\"{interest}\"");
    source
        .lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.trim_start().starts_with("interests") && l.contains(&quoted))
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::near;

    #[test]
    fn near_categories() {
        assert!(near("shoe", "shoes"));
        assert!(near("box", "boxes"));
        assert!(near("accessory", "accessories"));
        assert!(near("cookwear", "cookware"));
        assert!(near("tea", "tee"));
        assert!(!near("hat", "bag"));
        assert!(!near("knives", "kitchen"));
        assert!(!near("shoes", "shoes"));
    }
}
