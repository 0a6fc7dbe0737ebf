//! "Bought together" from the published pair counts.
//!
//! Score: **lift**, `lift(i, j) = orders(i, j) · N / (purchases(i) · purchases(j))`, the
//! factor by which buying i makes buying j more likely than chance. For a fixed product i,
//! N and purchases(i) are constants, so the ranking equals that of `orders(i, j) /
//! purchases(j)` and does not depend on the rounded order total. Minimum support: a pair
//! is used only if it comes from at least `k` orders (the file's own threshold, which
//! `cohort aggregate` already applied; re-checked for hand-edited files). When purchases(j)
//! is missing (noise pushed it below k) the pair count stands in for it, its lower bound.
//!
//! Order: in stock first, then lift (higher first), then pair count (higher first), then SKU.
//! When fewer than `n` pairs exist, the list is filled from `related` (skipping the item
//! itself and duplicates), so a shop without order data still gets a full block.

use super::{Aggregates, Item, Reason, Rec, stock_then};
use std::collections::HashMap;

/// For each item, up to `n` items bought together with it (see the module docs), filled up
/// from `related[i]` (the output of [`super::related`]; may be empty or shorter than
/// `items`). With `agg = None`, this is `related` truncated to `n`.
pub fn bought_together(items: &[Item], agg: Option<&Aggregates>, n: usize, related: &[Vec<Rec>]) -> Vec<Vec<Rec>> {
    let mut partners: Vec<Vec<(usize, u64, f64)>> = vec![Vec::new(); items.len()];
    if let Some(agg) = agg {
        let mut by_sku: HashMap<&str, usize> = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            by_sku.entry(item.sku.as_str()).or_insert(i);
        }
        for pair in &agg.pairs {
            if pair.orders < agg.k.max(1) {
                continue;
            }
            let (Some(&a), Some(&b)) = (by_sku.get(pair.a.as_str()), by_sku.get(pair.b.as_str())) else {
                continue;
            };
            if a == b {
                continue;
            }
            let together = pair.orders as f64;
            let pa = agg.purchases_of(&pair.a).unwrap_or(pair.orders).max(pair.orders) as f64;
            let pb = agg.purchases_of(&pair.b).unwrap_or(pair.orders).max(pair.orders) as f64;
            let total = (agg.orders as f64).max(pa.max(pb));
            let lift = together * total / (pa * pb);
            partners[a].push((b, pair.orders, lift));
            partners[b].push((a, pair.orders, lift));
        }
    }
    partners
        .into_iter()
        .enumerate()
        .map(|(i, mut list)| {
            list.sort_by(|x, y| stock_then(items, x.0, y.0, || y.2.total_cmp(&x.2).then_with(|| y.1.cmp(&x.1))));
            let mut out: Vec<Rec> = list
                .into_iter()
                .take(n)
                .map(|(j, orders, _)| Rec { index: j, reason: Reason::BoughtTogether { orders } })
                .collect();
            if let Some(fill) = related.get(i) {
                for rec in fill {
                    if out.len() >= n {
                        break;
                    }
                    if rec.index != i && !out.iter().any(|r| r.index == rec.index) {
                        out.push(rec.clone());
                    }
                }
            }
            out
        })
        .collect()
}
