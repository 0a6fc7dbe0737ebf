//! Cohorts: personalization decided at build time for a few named segments.
//!
//! A page marks its cohort-dependent regions as *slots* ([`slots`]); each cohort's version of
//! a slot is rendered on its own and written once, by content hash, as a fragment; pages of
//! the kinds in `page_variants` also get a full-page variant under `/c/COHORT/`
//! (`render`). [`invariance`] checks that no cohort ever sees another price.

pub mod invariance;
pub mod slots;

use sha2::{Digest, Sha256};

/// The content address of a fragment: the first 16 hex digits (64 bits) of its sha256.
pub fn fragment_hash(html: &str) -> String {
    let digest = Sha256::digest(html.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// For each cohort (in the order of `[[cohorts]]`) and each product, whether the product's
/// category or one of its tags is among the cohort's interests: those products come first
/// in the cohort's listings. The taxa with the interests' slugs list exactly those products.
pub fn interest_matches(shop: &crate::content::Shop) -> Vec<Vec<bool>> {
    shop.site
        .config
        .cohorts
        .iter()
        .map(|c| {
            let interests: std::collections::BTreeSet<String> =
                c.interests.iter().map(|i| crate::content::slugify(i)).collect();
            let mut matching = vec![false; shop.products.len()];
            for taxon in shop.categories.iter().chain(&shop.tags).filter(|t| interests.contains(&t.slug)) {
                for &i in &taxon.products {
                    if let Some(m) = matching.get_mut(i) {
                        *m = true;
                    }
                }
            }
            matching
        })
        .collect()
}
