//! Benchmark of the recommendation engine on a synthetic catalog:
//! `cargo run --release --example bench_recommend -- 10000 100000`.
//!
//! Each product has a category (one of 60), 2–6 tags (from 800, Zipf-like) and 80 words of
//! text drawn from a 30,000-word Zipf-like vocabulary, roughly like real product copy.
//! Prints the time of `related` (index build included) and of `picks`, per size.

use cohort::recommend::{self, Item};
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn zipf(&mut self, cdf: &[f64]) -> usize {
        let total = cdf[cdf.len() - 1];
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
    }
}

fn cdf(n: usize) -> Vec<f64> {
    let mut total = 0.0;
    (1..=n)
        .map(|r| {
            total += 1.0 / r as f64;
            total
        })
        .collect()
}

fn catalog(n: usize) -> Vec<Item> {
    let mut rng = Rng(7);
    let words = cdf(30_000);
    let tags = cdf(800);
    (0..n)
        .map(|i| {
            let text: Vec<String> = (0..80).map(|_| format!("w{}", rng.zipf(&words))).collect();
            let ntags = 2 + (rng.next() % 5) as usize;
            Item {
                sku: format!("SKU-{i:06}"),
                title: format!("Product {i}"),
                category: format!("cat{}", rng.next() % 60),
                tags: (0..ntags).map(|_| format!("tag{}", rng.zipf(&tags))).collect(),
                text: text.join(" "),
                in_stock: !rng.next().is_multiple_of(10),
                weight: (rng.next() % 5) as i64,
                date: Some(format!("2026-{:02}-{:02}", 1 + rng.next() % 12, 1 + rng.next() % 28)),
            }
        })
        .collect()
}

/// User + system CPU seconds of this process so far (from /proc; 0 where unavailable).
/// On a shared machine the wall time depends on other load; CPU time much less so.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000] } else { sizes };
    println!("rayon threads: {}", rayon::current_num_threads());
    for n in sizes {
        let items = catalog(n);
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let related = recommend::related(&items, 4);
        let related_time = t.elapsed();
        let related_cpu = cpu_seconds() - cpu;
        let filled = related.iter().filter(|r| r.len() == 4).count();
        // A checksum of every list, to compare engine versions on the same catalog.
        let checksum = related.iter().flatten().fold(0u64, |h, r| (h ^ r.index as u64).wrapping_mul(0x0100_0000_01b3));
        let t = Instant::now();
        let together = recommend::bought_together(&items, None, 4, &related);
        let picks = recommend::picks(&items, &["tag1".to_string(), "cat3".to_string()], None, 8);
        let rest = t.elapsed();
        println!(
            "{n} products: related {:.3} s wall, {related_cpu:.2} s CPU ({filled} with 4 results, checksum {checksum:016x}); bought_together + picks {:.3} s ({} / {})",
            related_time.as_secs_f64(),
            rest.as_secs_f64(),
            together.len(),
            picks.len()
        );
    }
}
