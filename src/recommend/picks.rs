//! Per-cohort picks for the home page: products whose tags or category match one of the
//! cohort's interests (case-insensitive), most bought first.
//!
//! Order: in stock first, then published purchases (higher first; absent counts as 0), then
//! the merchant's weight (lower first), then date (newest first; no date last), then SKU.
//! Products that match no interest are not padded in: a cohort block says "because you
//! chose X" and must be true. With no interests (the default, non-personalized home page)
//! every product qualifies and the reason is popularity, or the merchant's order when
//! there is no order data.

use super::related::norm_label;
use super::{Aggregates, Item, Reason, Rec, stock_then};

/// Up to `n` picks for a cohort with these `interests` (tags or categories).
pub fn picks(items: &[Item], interests: &[String], agg: Option<&Aggregates>, n: usize) -> Vec<Rec> {
    let wanted: Vec<String> = interests.iter().map(|s| norm_label(s)).filter(|s| !s.is_empty()).collect();
    let popularity = |i: usize| agg.and_then(|a| a.purchases_of(&items[i].sku)).unwrap_or(0);
    let mut chosen: Vec<(usize, Reason)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let reason = if interests.is_empty() {
            match popularity(i) {
                0 => Reason::Featured,
                orders => Reason::Popular { orders },
            }
        } else {
            let category = norm_label(&item.category);
            let tags: Vec<String> = item.tags.iter().map(|t| norm_label(t)).collect();
            match wanted.iter().find(|w| **w == category || tags.contains(w)) {
                Some(w) => Reason::CohortInterest { interest: w.clone() },
                None => continue,
            }
        };
        chosen.push((i, reason));
    }
    chosen.sort_by(|a, b| {
        let (x, y) = (&items[a.0], &items[b.0]);
        stock_then(items, a.0, b.0, || {
            popularity(b.0).cmp(&popularity(a.0)).then_with(|| x.weight.cmp(&y.weight)).then_with(|| {
                match (&x.date, &y.date) {
                    (Some(dx), Some(dy)) => dy.cmp(dx),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            })
        })
    });
    chosen.into_iter().take(n).map(|(index, reason)| Rec { index, reason }).collect()
}
