//! `recommend::related` on a small hand-made catalog: exact expected lists, reasons,
//! stock ordering, no self-recommendation, and independence from input order.

use cohort::recommend::{self, Item, Reason};

fn catalog() -> Vec<Item> {
    let mut items = vec![
        Item::new(
            "TR2",
            "Trail Runner 2",
            "shoes",
            &["outdoor", "running"],
            "Light grippy waterproof trail shoe",
        ),
        Item::new(
            "HK1",
            "Hiking Boot",
            "shoes",
            &["outdoor", "hiking"],
            "Waterproof leather boot for mountain trails",
        ),
        Item::new(
            "SOCK",
            "Merino Socks",
            "socks",
            &["outdoor", "running"],
            "Merino wool socks for trail running",
        ),
        Item::new(
            "PAN",
            "Cast Iron Pan",
            "kitchen",
            &["cooking"],
            "Heavy cast iron skillet",
        ),
        Item::new(
            "KNIFE",
            "Chef Knife",
            "kitchen",
            &["cooking"],
            "Sharp steel chef knife",
        ),
        Item::new(
            "JKT",
            "Rain Jacket",
            "apparel",
            &["outdoor", "hiking"],
            "Waterproof breathable jacket for mountain hikes",
        ),
        Item::new(
            "MUG",
            "Enamel Mug",
            "kitchen",
            &["camping"],
            "Enamel mug for camping trips",
        ),
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
    let got: Vec<(String, Vec<String>)> = items
        .iter()
        .zip(&related)
        .map(|(it, r)| (it.sku.clone(), skus(&items, r)))
        .collect();
    for (sku, list) in &got {
        println!("{sku}: {list:?}");
    }
    let expect = |sku: &str, list: &[&str]| {
        let found = &got.iter().find(|(s, _)| s == sku).unwrap().1;
        assert_eq!(
            found,
            &list.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "related for {sku}"
        );
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
    assert_eq!(
        knife.reason,
        Reason::SimilarTo {
            to: pan,
            shared: vec!["cooking".into(), "kitchen".into()]
        }
    );
    assert_eq!(
        knife.reason.text(&items, None),
        "Similar to Cast Iron Pan: shares cooking, kitchen"
    );
    let mug = &related[pan][1];
    assert_eq!(
        mug.reason.text(&items, None),
        "Similar to Cast Iron Pan: shares kitchen"
    );
    // Rarest tag first: "running" (2 products) before "outdoor" (4), then a shared word.
    assert_eq!(
        related[0][0].reason.text(&items, None),
        "Similar to Trail Runner 2: shares running, outdoor, trail"
    );
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
        assert_eq!(
            skus(&items, &forward[i]),
            skus(&reversed, &backward[j]),
            "{}",
            item.sku
        );
    }
}

#[test]
fn ties_break_on_sku_and_empty_catalog_is_fine() {
    assert!(recommend::related(&[], 4).is_empty());
    // Four identical products: each gets the other three in SKU order.
    let items: Vec<Item> = ["D", "B", "A", "C"]
        .iter()
        .map(|s| Item::new(s, "Same", "cat", &["tag"], "same words here"))
        .collect();
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
