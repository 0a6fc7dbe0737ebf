//! `data/aggregates.toml`: absent file, malformed file (file:line:col), round trip and
//! deterministic bytes.

use cohort::recommend::{self, Aggregates, Pair};
use std::collections::BTreeMap;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cohort-aggfmt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn absent_file_is_none() {
    let dir = temp_dir("absent");
    assert_eq!(recommend::load(&dir.join("data/aggregates.toml")), Ok(None));
}

#[test]
fn malformed_file_names_line_and_column() {
    let dir = temp_dir("bad");
    let path = dir.join("aggregates.toml");
    std::fs::write(&path, "[meta]\nformat = 1\nk = 10\norders = \"many\"\n").unwrap();
    let err = recommend::load(&path).unwrap_err();
    assert!(err.starts_with(&format!("{}:4:", path.display())), "{err}");
    std::fs::write(&path, "[meta]\nformat = 1\nk = 10\norders = 5\n\n[purchases]\n\"A\" = 1\n\"B\" 2\n").unwrap();
    let err = recommend::load(&path).unwrap_err();
    assert!(err.starts_with(&format!("{}:8:", path.display())), "{err}");
    std::fs::write(&path, "[meta]\nformat = 1\nk = 10\norders = 5\nsecret = 1\n").unwrap();
    let err = recommend::load(&path).unwrap_err();
    assert!(err.contains(":5:") && err.contains("secret"), "{err}");
    std::fs::write(&path, "[meta]\nformat = 2\nk = 10\norders = 5\n").unwrap();
    assert!(recommend::load(&path).unwrap_err().contains("format = 2"));
    std::fs::write(&path, b"[meta]\nformat = 1\xff\n").unwrap();
    assert!(recommend::load(&path).unwrap_err().contains(":2:"));
}

#[test]
fn round_trip_and_byte_identical_writes() {
    let dir = temp_dir("roundtrip");
    let mut purchases = BTreeMap::new();
    purchases.insert("Z-1".to_string(), 40);
    purchases.insert("A \"x\"".to_string(), 12);
    purchases.insert("Ünïcode".to_string(), 11);
    let agg = Aggregates {
        k: 10,
        epsilon: None,
        max_skus_per_order: None,
        orders: 1200,
        purchases,
        pairs: vec![
            Pair { a: "Z-1".into(), b: "Ünïcode".into(), orders: 10 },
            Pair { a: "A \"x\"".into(), b: "Z-1".into(), orders: 11 },
        ],
    };
    let one = dir.join("one.toml");
    let two = dir.join("sub/two.toml");
    agg.write(&one).unwrap();
    agg.write(&two).unwrap();
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());
    let back = recommend::load(&one).unwrap().unwrap();
    let mut sorted = agg.clone();
    sorted.pairs.sort();
    assert_eq!(back, sorted);
    let text = std::fs::read_to_string(&one).unwrap();
    assert!(text.contains("[meta]\nformat = 1\nk = 10\norders = 1200\n"), "{text}");
    assert!(!text.contains("epsilon"), "no epsilon line without noise");
    // Pairs sorted by (a, b).
    assert!(text.find("a = \"A \\\"x\\\"\"").unwrap() < text.find("a = \"Z-1\"").unwrap());
}
