//! What the recommendation blocks of one build show: the catalog turned into the engine's
//! items, and the engine's lists (featured, per-cohort picks, related, bought together)
//! turned into the `(index, reason text)` pairs the renderer prints.

use crate::content::Shop;
use crate::content::product::Availability;
use crate::recommend;
use crate::render::Recs;
use rayon::prelude::*;

/// What recommendation blocks show, computed once per build from the catalog and the
/// anonymized aggregates (see `recommend`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recommendations {
    /// What everyone sees before choosing a cohort.
    pub featured: Vec<(usize, String)>,
    /// Whether `featured` is ranked by order counts (a popularity block) rather than by the
    /// merchant's own order (a featured block): the block is titled for what it is.
    pub featured_popular: bool,
    /// Each cohort's picks, in the order of `[[cohorts]]`.
    pub cohort_picks: Vec<Vec<(usize, String)>>,
    /// Each product's "related" block.
    pub related: Recs,
    /// Each product's "bought together" block.
    pub together: Recs,
}

/// The engine's view of the catalog: one [`recommend::Item`] per product, same order.
pub fn items(shop: &Shop) -> Vec<recommend::Item> {
    shop.products
        .par_iter()
        .map(|p| recommend::Item {
            sku: p.sku.clone(),
            title: p.title.clone(),
            category: p.category.clone(),
            tags: p.tags.clone(),
            text: format!("{} {} {}", p.title, p.summary, p.body_text),
            in_stock: p.availability != Availability::OutOfStock,
            weight: p.weight,
            date: p.date.clone(),
        })
        .collect()
}

/// Every recommendation list of the build (see [`recommendations_for`]).
pub fn recommendations(shop: &Shop, aggregates: Option<&recommend::Aggregates>) -> Recommendations {
    recommendations_for(&items(shop), &shop.site.config, aggregates)
}

/// [`recommendations`] from the engine's items alone, so watch mode can compute them on
/// another thread.
pub fn recommendations_for(
    items: &[recommend::Item],
    config: &crate::config::Config,
    aggregates: Option<&recommend::Aggregates>,
) -> Recommendations {
    let r = &config.recommendations;
    // A featured item's reason is the block's own rule; it gets no line of its own.
    let texts = |recs: Vec<recommend::Rec>, label: Option<&str>| -> Vec<(usize, String)> {
        recs.into_iter()
            .map(|rec| match rec.reason {
                recommend::Reason::Featured => (rec.index, String::new()),
                reason => (rec.index, reason.text(items, label)),
            })
            .collect()
    };
    // "Bought together" comes from order counts only (no fill from similarity: a block that
    // says "bought together" must mean it), and "related" leaves out what that block shows,
    // so no product appears twice on one product page.
    // The related lists use both cores; the picks (a pass over the catalog per cohort) run
    // beside them.
    let ((together, related), (featured_recs, cohort_recs)) = rayon::join(
        || {
            let together = recommend::bought_together(items, aggregates, r.bought_together, &[]);
            let related =
                distinct_related(recommend::related(items, r.related + r.bought_together), &together, r.related);
            (together, related)
        },
        || {
            let featured = recommend::picks(items, &[], aggregates, r.picks);
            let cohorts: Vec<Vec<recommend::Rec>> =
                config.cohorts.par_iter().map(|c| recommend::picks(items, &c.interests, aggregates, r.picks)).collect();
            (featured, cohorts)
        },
    );
    let featured_popular = featured_recs.iter().any(|rec| matches!(rec.reason, recommend::Reason::Popular { .. }));
    let featured = texts(featured_recs, None);
    let cohort_picks = cohort_recs.into_iter().map(|list| texts(list, None)).collect();
    let to_texts =
        |all: Vec<Vec<recommend::Rec>>| -> Recs { all.into_par_iter().map(|list| texts(list, None)).collect() };
    Recommendations {
        featured,
        featured_popular,
        cohort_picks,
        related: to_texts(related),
        together: to_texts(together),
    }
}

/// Each product's related list without itself and without what its "bought together" block
/// shows, cut to `n`.
fn distinct_related(
    related: Vec<Vec<recommend::Rec>>,
    together: &[Vec<recommend::Rec>],
    n: usize,
) -> Vec<Vec<recommend::Rec>> {
    related
        .into_iter()
        .enumerate()
        .map(|(i, list)| {
            let shown = together.get(i).map_or(&[][..], Vec::as_slice);
            list.into_iter()
                .filter(|rec| rec.index != i && !shown.iter().any(|t| t.index == rec.index))
                .take(n)
                .collect()
        })
        .collect()
}
