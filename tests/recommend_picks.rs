//! Cohort picks: only products matching the interests, ranked in stock first, then by
//! popularity, weight, date (newest) and SKU; reasons in plain words.

use cohort::recommend::{self, Aggregates, Item, Reason};

fn item(sku: &str, category: &str, tags: &[&str], weight: i64, date: Option<&str>) -> Item {
    let mut it = Item::new(sku, &format!("Product {sku}"), category, tags, "");
    it.weight = weight;
    it.date = date.map(str::to_string);
    it
}

fn catalog() -> Vec<Item> {
    let mut items = vec![
        item("A", "shoes", &["Outdoor"], 0, Some("2026-01-01")),
        item("B", "shoes", &["running"], 0, Some("2026-05-01")),
        item("C", "hiking", &[], 5, None),
        item("D", "kitchen", &["cooking"], 0, None),
        item("E", "bags", &["outdoor", "travel"], 1, Some("2026-03-01")),
        item("F", "bags", &["outdoor"], 1, Some("2026-04-01")),
        item("G", "bags", &["outdoor"], 1, Some("2026-04-01")),
        item("H", "bags", &["outdoor"], -3, None),
    ];
    items[7].in_stock = false;
    items
}

fn skus(items: &[Item], recs: &[recommend::Rec]) -> Vec<String> {
    recs.iter().map(|r| items[r.index].sku.clone()).collect()
}

#[test]
fn honours_interests_and_merchant_order_without_data() {
    let items = catalog();
    let interests = vec!["outdoor".to_string(), "Hiking".to_string()];
    let p = recommend::picks(&items, &interests, None, 10);
    // Matches by tag (case-insensitive) or category; B and D do not match.
    // In stock first; weight ascending; newest first (F and G tie on date → SKU); no date last.
    assert_eq!(skus(&items, &p), ["A", "F", "G", "E", "C", "H"]);
    assert_eq!(p[4].reason, Reason::CohortInterest { interest: "hiking".into() });
    assert_eq!(p[0].reason.text(&items, Some("Outdoor & trail")), "Because you chose Outdoor & trail");
    assert_eq!(p[0].reason.text(&items, None), "Matches your interest in outdoor");
    assert_eq!(recommend::picks(&items, &interests, None, 2).len(), 2);
    assert!(recommend::picks(&items, &["nothing".to_string()], None, 8).is_empty());
}

#[test]
fn popularity_comes_before_weight() {
    let items = catalog();
    let agg = Aggregates {
        k: 10,
        epsilon: None,
        max_skus_per_order: None,
        orders: 900,
        purchases: [("E".to_string(), 50), ("C".to_string(), 20), ("B".to_string(), 99)].into_iter().collect(),
        pairs: vec![],
    };
    let interests = vec!["outdoor".to_string(), "hiking".to_string()];
    let p = recommend::picks(&items, &interests, Some(&agg), 10);
    assert_eq!(skus(&items, &p), ["E", "C", "A", "F", "G", "H"]);

    // No interests: the default home page, most bought first, then the merchant's order.
    let all = recommend::picks(&items, &[], Some(&agg), 4);
    // A and D share weight 0; A has a date, D has none.
    assert_eq!(skus(&items, &all), ["B", "E", "C", "A"]);
    assert_eq!(all[0].reason.text(&items, None), "Popular: bought in 99 orders");
    assert_eq!(all[3].reason, Reason::Featured);
}
