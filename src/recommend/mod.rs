//! The recommendation engine: related products, bought-together and per-cohort picks.
//!
//! It knows nothing of the shop model on purpose: the build converts each product into an
//! [`Item`] (a handful of plain fields) and gets back indexes into that slice, each with a
//! [`Reason`] that can be shown in plain language. Everything is decided at build time from
//! the catalog and from `data/aggregates.toml` (counts only, see [`crate::aggregate`]);
//! nothing here sees a visitor.
//!
//! How to call it (all functions are deterministic: same input, same output):
//!
//! ```
//! use cohort::recommend::{self, Item};
//! let items = vec![
//!     Item::new("TR2-001", "Trail Runner 2", "shoes", &["outdoor", "running"], "Light grippy trail shoe"),
//!     Item::new("SOCK-3", "Merino Socks", "socks", &["outdoor", "running"], "Warm merino socks for trail running"),
//! ];
//! let related = recommend::related(&items, 4);              // per item
//! let agg = None;                                           // recommend::load(path)? in a build
//! let together = recommend::bought_together(&items, agg, 4, &related);
//! let picks = recommend::picks(&items, &["outdoor".to_string()], agg, 8);
//! assert_eq!(related[0][0].index, 1);
//! assert_eq!(related[0][0].reason.text(&items, None), "Shares outdoor, running, trail");
//! assert_eq!(together[0][0].index, 1);  // no order data: falls back to related
//! assert_eq!(picks[0].reason.text(&items, Some("Outdoor")), "Because you chose Outdoor");
//! ```
//!
//! * [`related`] (`related.rs`): content similarity from tags, category and TF-IDF of the
//!   text, through an inverted index with capped posting lists, in parallel.
//! * [`bought_together`] (`together.rs`): pairs from the aggregates ranked by lift, filled up
//!   from `related`.
//! * [`picks`] (`picks.rs`): products matching a cohort's interests, by popularity.
//!
//! Ordering rule shared by all three: in-stock items first; ties end on the SKU, then the
//! index, so results never depend on hash or thread order.

mod picks;
mod related;
mod together;

pub use crate::aggregate::{Aggregates, Pair, load};
pub use picks::picks;
pub use related::related;
pub use together::bought_together;

/// One product as the engine sees it.
#[derive(Debug, Clone, Default)]
pub struct Item {
    /// The product's stock-keeping unit, as in the aggregates; the last tie-break before
    /// the index.
    pub sku: String,
    /// Used only to word reasons ("Similar to Trail Runner 2"); empty falls back to the SKU.
    pub title: String,
    /// The product's category; empty for none. Compared trimmed and case-insensitively.
    pub category: String,
    /// The product's tags, compared trimmed and case-insensitively; also the interests a
    /// cohort's picks match.
    pub tags: Vec<String>,
    /// Title + summary + body as plain text; the engine tokenizes it.
    pub text: String,
    /// Whether it can be bought now; in-stock items sort before the others everywhere.
    pub in_stock: bool,
    /// Lower sorts first (the merchant's manual order).
    pub weight: i64,
    /// "YYYY-MM-DD"; later is newer.
    pub date: Option<String>,
}

impl Item {
    /// An in-stock item with weight 0 and no date; the text is prefixed with the title.
    pub fn new(sku: &str, title: &str, category: &str, tags: &[&str], text: &str) -> Item {
        Item {
            sku: sku.to_string(),
            title: title.to_string(),
            category: category.to_string(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            text: format!("{title} {text}"),
            in_stock: true,
            weight: 0,
            date: None,
        }
    }
}

/// One recommendation: an index into the items slice and why it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// The recommended item: an index into the slice the engine was given.
    pub index: usize,
    /// Why it was chosen; [`Reason::text`] words it.
    pub reason: Reason,
}

/// Why an item is recommended.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Content similarity to item `to`; `shared` lists up to three shared tags, the shared
    /// category, or shared words, most specific first.
    SimilarTo {
        /// The item it is similar to (an index into the items slice).
        to: usize,
        /// Up to three shared features worth showing, most specific first; may be empty.
        shared: Vec<String>,
    },
    /// Both items were in this many orders (as published in the aggregates).
    BoughtTogether {
        /// Distinct orders holding both SKUs, as the aggregates publish it (noised and
        /// rounded when they were made with `--epsilon`).
        orders: u64,
    },
    /// Matches this interest (a tag or category) of the cohort.
    CohortInterest {
        /// The matched interest, trimmed and lower case.
        interest: String,
    },
    /// No interests given: the most bought items, `orders` from the aggregates.
    Popular {
        /// Distinct orders holding the item, as the aggregates publish it (never 0).
        orders: u64,
    },
    /// No interests and no order data: the merchant's own order (weight, then date).
    Featured,
}

impl Reason {
    /// The reason in plain language. `cohort_label` is the cohort's label, used by
    /// [`Reason::CohortInterest`] ("Because you chose Outdoor"); other reasons ignore it.
    pub fn text(&self, items: &[Item], cohort_label: Option<&str>) -> String {
        match self {
            Reason::SimilarTo { to, shared } => {
                let name = items
                    .get(*to)
                    .map(|i| if i.title.is_empty() { i.sku.as_str() } else { i.title.as_str() })
                    .unwrap_or("this product");
                if shared.is_empty() {
                    format!("Similar to {name}")
                } else {
                    // The block says whose neighbours these are ("share ... with NAME"), so
                    // each item says only what it shares (a fifth of a product page's
                    // "why" text on a large catalog was the product's own name, repeated).
                    format!("Shares {}", shared.join(", "))
                }
            }
            Reason::BoughtTogether { orders } => {
                format!("Bought together in {orders} {}", plural(*orders, "order", "orders"))
            }
            Reason::CohortInterest { interest } => match cohort_label {
                Some(label) => format!("Because you chose {label}"),
                None => format!("Matches your interest in {interest}"),
            },
            Reason::Popular { orders } => {
                format!("Popular: bought in {orders} {}", plural(*orders, "order", "orders"))
            }
            Reason::Featured => "Featured".to_string(),
        }
    }
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Orders by: in stock first, then `then`, then SKU, then index.
pub(crate) fn stock_then<F>(items: &[Item], a: usize, b: usize, then: F) -> std::cmp::Ordering
where
    F: FnOnce() -> std::cmp::Ordering,
{
    items[b]
        .in_stock
        .cmp(&items[a].in_stock)
        .then_with(then)
        .then_with(|| items[a].sku.cmp(&items[b].sku))
        .then_with(|| a.cmp(&b))
}
