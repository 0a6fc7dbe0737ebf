//! `[[cohorts]]`, `[personalization]`, `[recommendations]` and the hero: who the shop
//! personalizes for and how much, with the checks on cohort ids and variant page kinds.

use crate::diagnostics::{Diagnostic, Diagnostics, suggest};
use serde::Deserialize;
use std::collections::BTreeSet;
use toml::Spanned;

/// A home page hero: a title, a sentence and an optional image.
#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Hero {
    /// The heading.
    pub title: String,
    /// The text under it.
    #[serde(default)]
    pub text: String,
    /// An image: a file under the shop's `static/` (or the theme's).
    #[serde(default)]
    pub image: Option<String>,
}

/// `[recommendations]`: how many products each recommendation list shows.
#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendations {
    /// Related products on a product page.
    #[serde(default = "four")]
    pub related: usize,
    /// "Bought together" products on a product page (from the aggregates).
    #[serde(default = "four")]
    pub bought_together: usize,
    /// A cohort's picks on the home page.
    #[serde(default = "eight")]
    pub picks: usize,
}

impl Default for Recommendations {
    fn default() -> Self {
        Recommendations { related: 4, bought_together: 4, picks: 8 }
    }
}

/// `[personalization]`: which pages get whole-page variants besides the slot fragments.
#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Personalization {
    /// Page kinds that also get full-page variants under `/c/COHORT/`.
    #[serde(default = "default_page_variants")]
    pub page_variants: Vec<Spanned<String>>,
    /// Of a paginated listing, how many first pages get full-page variants (0: every page).
    /// Later pages are personalized by their fragments alone, as product pages are: this
    /// keeps the host's routing rules at about (home + categories) × cohorts.
    #[serde(default = "one")]
    pub variant_pages: usize,
}

impl Default for Personalization {
    fn default() -> Self {
        Personalization { page_variants: default_page_variants(), variant_pages: 1 }
    }
}

impl Personalization {
    /// Whether page `page` (1-based) of a listing gets full-page variants.
    pub fn listing_page_has_variants(&self, page: usize) -> bool {
        self.variant_pages == 0 || page <= self.variant_pages
    }
}

/// The page kinds a full-page variant can be made of.
pub const VARIANT_KINDS: [&str; 2] = ["home", "category"];

/// `[[cohorts]]`: one group of visitors a shop shows different content to, chosen by the
/// visitor (never inferred).
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortConfig {
    /// The cohort's id: a-z, 0-9 and `-` (it names folders and cookies).
    pub id: Spanned<String>,
    /// What visitors see in the cohort switcher.
    pub label: String,
    /// A sentence about who the cohort is for.
    #[serde(default)]
    pub description: String,
    /// Product tags or categories this cohort cares about (its picks, on-device interest counts).
    #[serde(default)]
    pub interests: Vec<String>,
    /// `utm_campaign` values that select this cohort on arrival.
    #[serde(default)]
    pub campaigns: Vec<String>,
    /// The home page hero this cohort sees instead of the default.
    #[serde(default)]
    pub hero: Option<Hero>,
    /// `cohort check` findings about this cohort that the merchant accepts, with a reason.
    #[serde(default)]
    pub acknowledge: Vec<Acknowledgement>,
}

/// A finding of `cohort check` the merchant has looked at and accepts, with the reason.
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    /// The rule id of the finding, e.g. `ethics/special-category`.
    pub rule: String,
    /// Why the merchant accepts it (printed with the finding).
    pub reason: String,
}

fn one() -> usize {
    1
}
fn four() -> usize {
    4
}
fn eight() -> usize {
    8
}
fn default_page_variants() -> Vec<Spanned<String>> {
    VARIANT_KINDS.iter().map(|k| Spanned::new(0..0, k.to_string())).collect()
}

/// Whether `id` can name a cohort: a-z, 0-9 and `-`, not empty.
pub fn valid_cohort_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `page_variants` names only page kinds that can have variants.
pub(super) fn validate_page_variants(
    personalization: &Personalization,
    diags: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
) {
    for kind in &personalization.page_variants {
        if !VARIANT_KINDS.contains(&kind.get_ref().as_str()) {
            let mut d = at(kind.span(), format!("`{}` is not a page kind that can have variants", kind.get_ref()));
            d = d.hint(match suggest(kind.get_ref(), VARIANT_KINDS) {
                Some(s) => format!("did you mean \"{s}\"? The kinds are: {}", VARIANT_KINDS.join(", ")),
                None => format!("the kinds are: {}", VARIANT_KINDS.join(", ")),
            });
            diags.push(d);
        }
    }
}

/// Every cohort id is valid and defined once.
pub(super) fn validate_cohort_ids(
    cohorts: &[CohortConfig],
    diags: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
) {
    let mut seen = BTreeSet::new();
    for cohort in cohorts {
        let id = cohort.id.get_ref();
        if !valid_cohort_id(id) {
            diags.push(
                at(cohort.id.span(), format!("cohort id `{id}` may only use a-z, 0-9 and -"))
                    .hint(format!("e.g. id = \"{}\"", crate::content::slugify(id))),
            );
        }
        if !seen.insert(id.clone()) {
            diags.push(
                at(cohort.id.span(), format!("cohort id `{id}` is defined twice")).hint("give each cohort its own id"),
            );
        }
    }
}
