//! `recommend::related` on a small hand-made catalog: exact expected lists, reasons,
//! stock ordering, no self-recommendation, and independence from input order.

use cohort::recommend::{self, Item, Reason};

fn catalog() -> Vec<Item> {
    let mut items = vec![
        Item::new("TR2", "Trail Runner 2", "shoes", &["outdoor", "running"], "Light grippy waterproof trail shoe"),
        Item::new("HK1", "Hiking Boot", "shoes", &["outdoor", "hiking"], "Waterproof leather boot for mountain trails"),
        Item::new("SOCK", "Merino Socks", "socks", &["outdoor", "running"], "Merino wool socks for trail running"),
        Item::new("PAN", "Cast Iron Pan", "kitchen", &["cooking"], "Heavy cast iron skillet"),
        Item::new("KNIFE", "Chef Knife", "kitchen", &["cooking"], "Sharp steel chef knife"),
        Item::new(
            "JKT",
            "Rain Jacket",
            "apparel",
            &["outdoor", "hiking"],
            "Waterproof breathable jacket for mountain hikes",
        ),
        Item::new("MUG", "Enamel Mug", "kitchen", &["camping"], "Enamel mug for camping trips"),
        Item::new("LAMP", "Desk Lamp", "home", &[], "LED lamp"),
    ];
    items[5].in_stock = false; // the rain jacket is sold out
    items
}

fn skus(items: &[Item], recs: &[recommend::Rec]) -> Vec<String> {
    recs.iter().map(|r| items[r.index].sku.clone()).collect()
}

#[test]
fn expected_lists_for_a_small_catalog() {
    let items = catalog();
    let related = recommend::related(&items, 4);
    assert_eq!(related.len(), items.len());
    let got: Vec<(String, Vec<String>)> =
        items.iter().zip(&related).map(|(it, r)| (it.sku.clone(), skus(&items, r))).collect();
    for (sku, list) in &got {
        println!("{sku}: {list:?}");
    }
    let expect = |sku: &str, list: &[&str]| {
        let found = &got.iter().find(|(s, _)| s == sku).unwrap().1;
        assert_eq!(found, &list.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "related for {sku}");
    };
    // Same tags and words "trail", "running": the socks first; then the boot (outdoor,
    // shoes, waterproof); the sold-out jacket last although it shares outdoor and waterproof.
    expect("TR2", &["SOCK", "HK1", "JKT"]);
    // The jacket shares outdoor, hiking, waterproof and mountain, but is sold out: last.
    expect("HK1", &["TR2", "SOCK", "JKT"]);
    expect("SOCK", &["TR2", "HK1", "JKT"]);
    // Kitchen: the knife shares category and tag, the mug only the category.
    expect("PAN", &["KNIFE", "MUG"]);
    expect("KNIFE", &["PAN", "MUG"]);
    expect("JKT", &["HK1", "TR2", "SOCK"]);
    expect("MUG", &["KNIFE", "PAN"]);
    // Nothing in common with anything: no padding.
    expect("LAMP", &[]);
}

#[test]
fn never_the_item_itself_and_at_most_n() {
    let items = catalog();
    for n in 0..4 {
        for (i, recs) in recommend::related(&items, n).iter().enumerate() {
            assert!(recs.len() <= n);
            assert!(recs.iter().all(|r| r.index != i));
        }
    }
}

#[test]
fn reasons_name_what_is_shared() {
    let items = catalog();
    let related = recommend::related(&items, 4);
    let pan = 3;
    let knife = &related[pan][0];
    assert_eq!(knife.reason, Reason::SimilarTo { to: pan, shared: vec!["cooking".into(), "kitchen".into()] });
    assert_eq!(knife.reason.text(&items, None), "Shares cooking, kitchen");
    let mug = &related[pan][1];
    assert_eq!(mug.reason.text(&items, None), "Shares kitchen");
    // Rarest tag first: "running" (2 products) before "outdoor" (4), then a shared word.
    assert_eq!(related[0][0].reason.text(&items, None), "Shares running, outdoor, trail");
}

#[test]
fn result_does_not_depend_on_input_order() {
    let items = catalog();
    let forward = recommend::related(&items, 4);
    let mut reversed = items.clone();
    reversed.reverse();
    let backward = recommend::related(&reversed, 4);
    for (i, item) in items.iter().enumerate() {
        let j = reversed.iter().position(|r| r.sku == item.sku).unwrap();
        assert_eq!(skus(&items, &forward[i]), skus(&reversed, &backward[j]), "{}", item.sku);
    }
}

#[test]
fn ties_break_on_sku_and_empty_catalog_is_fine() {
    assert!(recommend::related(&[], 4).is_empty());
    // Four identical products: each gets the other three in SKU order.
    let items: Vec<Item> =
        ["D", "B", "A", "C"].iter().map(|s| Item::new(s, "Same", "cat", &["tag"], "same words here")).collect();
    let related = recommend::related(&items, 4);
    assert_eq!(skus(&items, &related[0]), ["A", "B", "C"]);
    assert_eq!(skus(&items, &related[2]), ["B", "C", "D"]);
}

#[test]
fn larger_generated_catalog_is_deterministic() {
    let items: Vec<Item> = (0..3000)
        .map(|i| {
            let mut it = Item::new(
                &format!("S{i:05}"),
                &format!("Product {i}"),
                &format!("c{}", i % 7),
                &[["a", "b", "c", "d"][i % 4], ["x", "y", "z"][i % 3]],
                &format!("word{} word{} word{} common", i % 97, i % 89, i % 13),
            );
            it.in_stock = i % 5 != 0;
            it
        })
        .collect();
    let a = recommend::related(&items, 5);
    let b = recommend::related(&items, 5);
    assert_eq!(a, b);
    for (i, recs) in a.iter().enumerate() {
        assert_eq!(recs.len(), 5);
        assert!(recs.iter().all(|r| r.index != i));
        // In stock first.
        let stock: Vec<bool> = recs.iter().map(|r| items[r.index].in_stock).collect();
        assert!(stock.windows(2).all(|w| w[0] >= w[1]), "{stock:?}");
    }
}

/// Below the caps (≤ 100 products per tag and category, ≤ 24 distinct words per product,
/// no word in more than 300 products) the inverted index must return exactly the top n of
/// the documented score, computed here by brute force over all pairs.
#[test]
fn matches_brute_force_below_the_caps() {
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
    let mut rng = Rng(3);
    let n_items = 250;
    let items: Vec<Item> = (0..n_items)
        .map(|i| {
            let words: Vec<String> = (0..12).map(|_| format!("w{}", rng.next() % 60)).collect();
            let tags: Vec<String> = (0..1 + rng.next() % 3).map(|_| format!("t{}", rng.next() % 12)).collect();
            Item {
                sku: format!("S{:03}", (i * 7919) % 1000),
                title: String::new(),
                category: format!("c{}", rng.next() % 5),
                tags,
                text: words.join(" "),
                in_stock: !rng.next().is_multiple_of(4),
                weight: 0,
                date: None,
            }
        })
        .collect();
    use std::collections::{BTreeMap, BTreeSet};
    let n = n_items as f64;
    let idf = |df: usize| (1.0 + n / df as f64).ln();
    let norm = |v: &mut BTreeMap<String, f64>| {
        let s = v.values().map(|w| w * w).sum::<f64>().sqrt();
        v.values_mut().for_each(|w| *w /= s);
    };
    let mut word_df: BTreeMap<String, usize> = BTreeMap::new();
    let mut tag_df: BTreeMap<String, usize> = BTreeMap::new();
    for it in &items {
        for w in it.text.split(' ').collect::<BTreeSet<_>>() {
            *word_df.entry(w.to_string()).or_default() += 1;
        }
        for t in it.tags.iter().collect::<BTreeSet<_>>() {
            *tag_df.entry(t.clone()).or_default() += 1;
        }
    }
    assert!(tag_df.values().all(|&d| d <= 100));
    let vectors: Vec<(BTreeMap<String, f64>, BTreeMap<String, f64>)> = items
        .iter()
        .map(|it| {
            let mut tf: BTreeMap<String, f64> = BTreeMap::new();
            for w in it.text.split(' ') {
                *tf.entry(w.to_string()).or_default() += 1.0;
            }
            let mut text: BTreeMap<String, f64> =
                tf.into_iter().map(|(w, c)| (w.clone(), (1.0 + c.ln()) * idf(word_df[&w]))).collect();
            norm(&mut text);
            let mut tags: BTreeMap<String, f64> = it.tags.iter().map(|t| (t.clone(), idf(tag_df[t]))).collect();
            norm(&mut tags);
            (text, tags)
        })
        .collect();
    let dot = |a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>| {
        a.iter().filter_map(|(k, x)| b.get(k).map(|y| x * y)).sum::<f64>()
    };
    let score = |i: usize, j: usize| {
        0.5 * dot(&vectors[i].0, &vectors[j].0)
            + 0.35 * dot(&vectors[i].1, &vectors[j].1)
            + if items[i].category == items[j].category { 0.15 } else { 0.0 }
    };
    let k = 4;
    let related = recommend::related(&items, k);
    for (i, recs) in related.iter().enumerate() {
        let mut all: Vec<(bool, f64, usize)> =
            (0..items.len()).filter(|&j| j != i).map(|j| (items[j].in_stock, score(i, j), j)).collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(items[a.2].sku.cmp(&items[b.2].sku)));
        assert_eq!(recs.len(), k);
        for (pos, rec) in recs.iter().enumerate() {
            let (stock, best, _) = all[pos];
            assert_eq!(items[rec.index].in_stock, stock, "item {i} position {pos}");
            // Equal up to float rounding (f32 in the engine, f64 here).
            assert!((score(i, rec.index) - best).abs() < 1e-4, "item {i} position {pos}");
        }
    }
}
