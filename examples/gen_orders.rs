//! Writes a synthetic Shopify-style order export for benchmarks and tests:
//! `cargo run --release --example gen_orders -- OUT.csv LINES [SKUS]`.
//!
//! Every row carries fake personal data (name, email, address, phone) so that the privacy
//! of `cohort aggregate` can be checked on realistic input. Deterministic (fixed seed);
//! SKU popularity follows a Zipf-like law and orders have 1–6 lines.

use std::io::Write;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_orders OUT.csv LINES [SKUS]");
        std::process::exit(2);
    }
    let lines: u64 = args[2].parse()?;
    let skus: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(5000);
    // Zipf(1) cumulative weights.
    let mut cdf = Vec::with_capacity(skus);
    let mut total = 0.0;
    for r in 1..=skus {
        total += 1.0 / r as f64;
        cdf.push(total);
    }
    let mut rng = Rng(42);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[1])?);
    writeln!(
        out,
        "Name,Email,Financial Status,Lineitem quantity,Lineitem name,Lineitem sku,Billing Name,Billing Street,Billing City,Billing Zip,Phone"
    )?;
    let first = ["Jane", "Omar", "Li", "Ana", "Kofi", "Ingrid", "Raj", "Mia"];
    let last = ["Doe", "Haddad", "Wei", "Souza", "Mensah", "Berg", "Patel", "Rossi"];
    let mut written = 0u64;
    let mut order = 1000u64;
    while written < lines {
        order += 1;
        let size = 1 + rng.below(6);
        let who = rng.below(64);
        let (f, l) = (first[(who % 8) as usize], last[(who / 8) as usize]);
        for line in 0..size {
            if written == lines {
                break;
            }
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let sku = cdf.partition_point(|&c| c < u).min(skus - 1);
            let qty = 1 + rng.below(3);
            if line == 0 {
                writeln!(
                    out,
                    "#{order},{}.{}{order}@example.com,paid,{qty},Product {sku},SKU-{sku:05},{f} {l},{} Example Street,Exampletown,{:05},+44 7700 {:06}",
                    f.to_lowercase(),
                    l.to_lowercase(),
                    1 + who,
                    10000 + who * 7,
                    order
                )?;
            } else {
                writeln!(out, "#{order},,,{qty},Product {sku},SKU-{sku:05},,,,,")?;
            }
            written += 1;
        }
    }
    out.flush()?;
    Ok(())
}
