//! Bought-together: the aggregates computed from a generated order file match a brute-force
//! count, and `bought_together` ranks partners exactly as a brute-force lift ranking does.

use cohort::aggregate::{self, Options};
use cohort::recommend::{self, Item, Reason};
use std::collections::{BTreeMap, BTreeSet};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Orders as (order id, sku) rows: 30 SKUs, skewed popularity, planted pairs, repeated lines,
/// and some orders split in two non-contiguous blocks.
fn generate() -> Vec<(String, String)> {
    let mut rng = Rng(1);
    let mut rows = Vec::new();
    let mut tail = Vec::new();
    for o in 0..3000u64 {
        let size = 1 + rng.next() % 4;
        let mut lines = Vec::new();
        for _ in 0..size {
            let s = (rng.next() % 30).min(rng.next() % 30); // skewed to low numbers
            lines.push(format!("P{s:02}"));
            if s.is_multiple_of(5) && rng.next().is_multiple_of(2) {
                lines.push(format!("P{:02}", s + 1)); // planted companion
            }
        }
        if rng.next().is_multiple_of(10) {
            lines.push(lines[0].clone()); // same SKU twice in one order
        }
        let id = format!("#{}", 1000 + o);
        if o % 50 == 0 && lines.len() > 1 {
            // Non-contiguous: the last line comes at the end of the file.
            let last = lines.pop().unwrap();
            tail.push((id.clone(), last));
        }
        rows.extend(lines.into_iter().map(|s| (id.clone(), s)));
    }
    rows.extend(tail);
    rows
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cohort-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn aggregates_match_brute_force_and_ranks_follow_lift() {
    let rows = generate();
    let dir = temp_dir("together");
    let csv = dir.join("orders.csv");
    let mut text = String::from("order_id,sku,quantity\n");
    for (o, s) in &rows {
        text.push_str(&format!("{o},{s},1\n"));
    }
    std::fs::write(&csv, text).unwrap();

    let k = 5;
    let opts = Options { k, ..Options::default() };
    let (agg, summary) = aggregate::aggregate_file(&csv, &opts, &mut |_| panic!("no row is bad")).unwrap();

    // Brute force: the set of SKUs of every order.
    let mut orders: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (o, s) in &rows {
        orders.entry(o).or_default().insert(s);
    }
    assert_eq!(summary.orders, orders.len() as u64);
    assert!(summary.merged_orders > 0, "the file has non-contiguous orders");
    let mut purchases: BTreeMap<String, u64> = BTreeMap::new();
    let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
    for skus in orders.values() {
        let v: Vec<&&str> = skus.iter().collect();
        for (i, a) in v.iter().enumerate() {
            *purchases.entry(a.to_string()).or_default() += 1;
            for b in &v[i + 1..] {
                *pairs.entry((a.to_string(), b.to_string())).or_default() += 1;
            }
        }
    }
    purchases.retain(|_, n| *n >= k);
    pairs.retain(|_, n| *n >= k);
    assert_eq!(agg.purchases, purchases);
    let got: BTreeMap<(String, String), u64> =
        agg.pairs.iter().map(|p| ((p.a.clone(), p.b.clone()), p.orders)).collect();
    assert_eq!(got, pairs);
    assert!(pairs.len() > 50, "a meaningful number of pairs: {}", pairs.len());

    // Ranking: brute-force lift for every product.
    let items: Vec<Item> = (0..30).map(|i| Item::new(&format!("P{i:02}"), "x", "c", &[], "")).collect();
    let related = vec![Vec::new(); items.len()];
    let n = 5;
    let together = recommend::bought_together(&items, Some(&agg), n, &related);
    let total = agg.orders as f64;
    for (i, item) in items.iter().enumerate() {
        let mut partners: Vec<(f64, u64, String)> = pairs
            .iter()
            .filter_map(|((a, b), &c)| {
                let other = if *a == item.sku {
                    b
                } else if *b == item.sku {
                    a
                } else {
                    return None;
                };
                let lift = c as f64 * total / (purchases[&item.sku] as f64 * purchases[other] as f64);
                Some((lift, c, other.clone()))
            })
            .collect();
        partners.sort_by(|x, y| y.0.total_cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
        partners.truncate(n);
        let expected: Vec<(String, u64)> = partners.into_iter().map(|(_, c, s)| (s, c)).collect();
        let got: Vec<(String, u64)> = together[i]
            .iter()
            .map(|r| match r.reason {
                Reason::BoughtTogether { orders } => (items[r.index].sku.clone(), orders),
                _ => panic!("no fill expected"),
            })
            .collect();
        assert_eq!(got, expected, "bought together with {}", item.sku);
    }
    // The planted companions are found: P00 with P01.
    assert!(together[0].iter().any(|r| items[r.index].sku == "P01"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn falls_back_to_related_and_fills_up_to_n() {
    let items = vec![
        Item::new("A", "Tent", "camping", &["outdoor"], "two person tent"),
        Item::new("B", "Stakes", "camping", &["outdoor"], "tent stakes"),
        Item::new("C", "Mat", "camping", &["outdoor"], "sleeping mat"),
        Item::new("D", "Stove", "camping", &["outdoor"], "camping stove"),
    ];
    let related = recommend::related(&items, 3);
    // No order data: exactly related.
    assert_eq!(recommend::bought_together(&items, None, 3, &related), related);

    // One pair with data: it comes first with its count, the rest is filled from related.
    let agg = cohort::recommend::Aggregates {
        k: 10,
        epsilon: None,
        max_skus_per_order: None,
        orders: 500,
        purchases: [("A".to_string(), 40), ("D".to_string(), 30)].into_iter().collect(),
        pairs: vec![cohort::recommend::Pair { a: "A".into(), b: "D".into(), orders: 12 }],
    };
    let t = recommend::bought_together(&items, Some(&agg), 3, &related);
    assert_eq!(t[0][0].index, 3);
    assert_eq!(t[0][0].reason.text(&items, None), "Bought together in 12 orders");
    assert_eq!(t[0].len(), 3);
    let idx: Vec<usize> = t[0].iter().map(|r| r.index).collect();
    assert!(!idx.contains(&0), "never the item itself");
    assert_eq!(idx.iter().collect::<BTreeSet<_>>().len(), 3, "no duplicates: {idx:?}");
    // Items unknown to the catalog and pairs below k are ignored.
    let mut agg2 = agg.clone();
    agg2.pairs = vec![
        cohort::recommend::Pair { a: "A".into(), b: "ZZZ".into(), orders: 50 },
        cohort::recommend::Pair { a: "A".into(), b: "B".into(), orders: 3 },
    ];
    let t2 = recommend::bought_together(&items, Some(&agg2), 3, &related);
    assert_eq!(t2, related);
}
