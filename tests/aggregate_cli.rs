//! `cohort aggregate` run as a real binary: no personal data anywhere in its output or
//! messages, k threshold, determinism, noise through the binary, malformed input.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cohort");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cohort-aggcli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(BIN).arg("aggregate").args(args).current_dir(dir).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const PEOPLE: &[(&str, &str, &str, &str, &str)] = &[
    ("Jane Doe", "jane.doe@example.com", "12 Rosemary Lane", "Springfield", "+44 7700 900123"),
    ("Omar Haddad", "omar.h@example.org", "4 Harbour Road", "Portwell", "+33 6 12 34 56 78"),
    ("Li Wei", "li.wei@example.net", "88 Cedar Avenue", "Northby", "+1 555 0199"),
    ("Ana Souza", "ana.souza@example.com", "7 Praça Nova", "Riobranco", "+55 11 91234 5678"),
];

/// A Shopify export: 40 orders; SKU-A in every order, SKU-B in 30, SKU-C in 9 (below k = 10),
/// SKU-D in 10 (exactly k). Order numbers are "#5001"... on every line item row.
fn shopify_export() -> (String, Vec<String>) {
    let mut csv = String::from(
        "Name,Email,Financial Status,Paid at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing Street,Billing City,Billing Phone,Shipping Name,Notes\n",
    );
    let mut secrets: Vec<String> = Vec::new();
    for o in 0..40 {
        let (name, email, street, city, phone) = PEOPLE[o % PEOPLE.len()];
        let order = format!("#{}", 5001 + o);
        secrets.push(order.clone());
        let mut skus = vec!["SKU-A"];
        if o < 30 {
            skus.push("SKU-B");
        }
        if o < 9 {
            skus.push("SKU-C");
        }
        if o >= 30 {
            skus.push("SKU-D");
        }
        for (line, sku) in skus.iter().enumerate() {
            if line == 0 {
                csv.push_str(&format!(
                    "{order},{email},paid,2026-11-0{} 10:00,1,Thing,9.00,{sku},{name},\"{street}\",{city},{phone},{name},\"call {name} at {phone}\"\n",
                    1 + o % 9
                ));
            } else {
                csv.push_str(&format!("{order},{email},,,2,Thing,9.00,{sku},,,,,,\n"));
            }
        }
    }
    for (name, email, street, city, phone) in PEOPLE {
        secrets.extend([name, email, street, city, phone].iter().map(|s| s.to_string()));
    }
    secrets.push("Jane".into());
    secrets.push("example.com".into());
    secrets.push("@".into());
    (csv, secrets)
}

fn assert_clean(haystack: &str, secrets: &[String], what: &str) {
    for s in secrets {
        assert!(!haystack.contains(s.as_str()), "{what} contains {s:?}:\n{haystack}");
    }
    // No order number of the form #5001..#5040 in any spelling.
    for o in 5001..5041 {
        assert!(!haystack.contains(&o.to_string()), "{what} contains order number {o}:\n{haystack}");
    }
}

#[test]
fn no_personal_data_in_output_or_messages_and_k_threshold() {
    let dir = temp_dir("pii");
    let (mut csv, secrets) = shopify_export();
    // A ragged row (line 91) and a row with an empty SKU (line 92), both full of personal data.
    csv.push_str("#5041,jane.doe@example.com,paid,Jane Doe,12 Rosemary Lane\n");
    csv.push_str("#5042,omar.h@example.org,paid,,1,Thing,9.00,,Omar Haddad,4 Harbour Road,Portwell,+33 6 12 34 56 78,Omar Haddad,\n");
    std::fs::write(dir.join("orders.csv"), csv).unwrap();
    let r = run(&dir, &["--orders", "orders.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Default output: data/aggregates.toml relative to the current folder.
    let out = std::fs::read_to_string(dir.join("data/aggregates.toml")).unwrap();
    assert_clean(&out, &secrets, "aggregates.toml");
    assert_clean(&r.stdout, &secrets, "stdout");
    assert_clean(&r.stderr, &secrets, "stderr");
    // Bad rows are reported by line number only.
    assert!(r.stderr.contains("line 91: skipped: its number of fields differs"), "{}", r.stderr);
    assert!(r.stderr.contains("line 92: skipped: the SKU is empty"), "{}", r.stderr);
    assert!(r.stderr.contains("shopify export"), "{}", r.stderr);

    let agg = cohort::aggregate::load(&dir.join("data/aggregates.toml")).unwrap().unwrap();
    assert_eq!(agg.k, 10);
    assert_eq!(agg.epsilon, None);
    assert_eq!(agg.orders, 40);
    let purchases: Vec<(&str, u64)> = agg.purchases.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    // SKU-C (9 orders) is below k and absent; SKU-D (exactly 10) is present.
    assert_eq!(purchases, [("SKU-A", 40), ("SKU-B", 30), ("SKU-D", 10)]);
    let pairs: Vec<(&str, &str, u64)> = agg.pairs.iter().map(|p| (p.a.as_str(), p.b.as_str(), p.orders)).collect();
    assert_eq!(pairs, [("SKU-A", "SKU-B", 30), ("SKU-A", "SKU-D", 10)]);
    assert!(!out.contains("SKU-C"));
    for line in out.lines().filter(|l| l.contains(" = ") && !l.starts_with("k =")) {
        if let Some(n) = line.rsplit(" = ").next().and_then(|v| v.parse::<u64>().ok())
            && !line.starts_with("format")
        {
            assert!(n >= 10, "count below k: {line}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn same_input_gives_byte_identical_output() {
    let dir = temp_dir("determinism");
    let (csv, _) = shopify_export();
    std::fs::write(dir.join("orders.csv"), csv).unwrap();
    assert_eq!(run(&dir, &["--orders", "orders.csv", "-o", "one.toml", "--k", "5"]).code, 0);
    assert_eq!(run(&dir, &["--orders", "orders.csv", "-o", "two.toml", "--k", "5", "--format", "shopify"]).code, 0);
    let one = std::fs::read(dir.join("one.toml")).unwrap();
    let two = std::fs::read(dir.join("two.toml")).unwrap();
    assert_eq!(one, two);
    assert!(String::from_utf8_lossy(&one).contains("\"SKU-C\" = 9"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn epsilon_noise_through_the_binary_is_centred_with_laplace_variance() {
    // 20 SKUs, each in 400 single-SKU orders: no pairs, 20 noisy counts per run. With a Laplace
    // scale of 16, a count of 400 falls below k = 10 with probability 0.5·e^(-390/16) ≈ 1e-11
    // per draw (a count of 200 did so about once in 500 runs of this test).
    let dir = temp_dir("noise");
    let mut csv = String::from("order_id,sku\n");
    let mut order = 0;
    for s in 0..20 {
        for _ in 0..400 {
            order += 1;
            csv.push_str(&format!("{order},N{s:02}\n"));
        }
    }
    std::fs::write(dir.join("orders.csv"), csv).unwrap();
    let scale = cohort::aggregate::privacy::laplace_scale(1.0, 5); // 16
    let mut errors = Vec::new();
    for run_no in 0..30 {
        let out = format!("run{run_no}.toml");
        let r = run(&dir, &["--orders", "orders.csv", "--epsilon", "1", "-o", &out]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let agg = cohort::aggregate::load(&dir.join(&out)).unwrap().unwrap();
        assert_eq!(agg.epsilon, Some(1.0));
        assert_eq!(agg.max_skus_per_order, Some(5));
        assert_eq!(agg.purchases.len(), 20, "a count of 400 does not fall below k = 10");
        assert_eq!(agg.orders % 100, 0, "the order total is rounded");
        errors.extend(agg.purchases.values().map(|&v| v as f64 - 400.0));
    }
    let n = errors.len() as f64;
    let mean = errors.iter().sum::<f64>() / n;
    let var = errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // Laplace(b): variance 2b²; rounding adds about 1/12.
    let expected_var = 2.0 * scale * scale + 1.0 / 12.0;
    let se_mean = expected_var.sqrt() / n.sqrt(); // ≈ 0.92 for 600 samples
    assert!(mean.abs() < 6.0 * se_mean, "mean {mean}, bound {}", 6.0 * se_mean);
    // SE of the sample variance for Laplace ≈ σ²·√(5/n) (kurtosis 6): ≈ 9 % here.
    let se_var = expected_var * (5.0 / n).sqrt();
    assert!((var - expected_var).abs() < 6.0 * se_var, "variance {var}, expected {expected_var} ± {}", 6.0 * se_var);
    // Two runs with noise differ (the noise comes from the OS random source).
    let a = std::fs::read(dir.join("run0.toml")).unwrap();
    let b = std::fs::read(dir.join("run1.toml")).unwrap();
    assert_ne!(a, b);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn epsilon_bounds_each_orders_contribution() {
    // One order with 8 SKUs repeated 20 times: with M = 3 only the first 3 SKUs count.
    let dir = temp_dir("bound");
    let mut csv = String::from("order_id,sku\n");
    for o in 0..20 {
        for s in ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"] {
            csv.push_str(&format!("{o},{s}\n"));
        }
    }
    std::fs::write(dir.join("orders.csv"), csv).unwrap();
    let r = run(&dir, &["--orders", "orders.csv", "--epsilon", "1000", "--max-skus-per-order", "3", "--k", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let agg = cohort::aggregate::load(&dir.join("data/aggregates.toml")).unwrap().unwrap();
    let skus: Vec<&str> = agg.purchases.keys().map(String::as_str).collect();
    assert_eq!(skus, ["S1", "S2", "S3"]);
    assert_eq!(agg.pairs.len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_input_gives_clear_errors_never_a_panic() {
    let dir = temp_dir("malformed");
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();

    // Empty file.
    write("empty.csv", b"");
    let r = run(&dir, &["--orders", "empty.csv"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("empty.csv: the file is empty"), "{}", r.stderr);

    // Missing columns, named; the header's other fields are not echoed.
    write("nocols.csv", b"order,jane@example.com\n1,A\n");
    let r = run(&dir, &["--orders", "nocols.csv"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("missing column `order_id` and `sku`"), "{}", r.stderr);
    assert!(!r.stderr.contains("jane"), "{}", r.stderr);
    write("shop.csv", b"Name,Email,Lineitem quantity\n#1,a@b.c,1\n");
    let r = run(&dir, &["--orders", "shop.csv", "--format", "shopify"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("missing column `Lineitem sku`"), "{}", r.stderr);

    // Ragged rows, bad quantity, non-UTF-8 SKU: skipped with their line numbers; a
    // non-UTF-8 name column (Latin-1 export) is fine because it is never read.
    let mut bytes = b"order_id,sku,quantity,name\n".to_vec();
    for o in 0..12 {
        bytes.extend_from_slice(format!("{o},A,1,Jos").as_bytes());
        bytes.extend_from_slice(b"\xe9\n"); // Latin-1 "é"
    }
    bytes.extend_from_slice(b"20,A\n"); // line 14: ragged
    bytes.extend_from_slice(b"21,A,1,x,extra\n"); // line 15: ragged
    bytes.extend_from_slice(b"22,A,lots,x\n"); // line 16: bad quantity
    bytes.extend_from_slice(b"23,\xff\xfe,1,x\n"); // line 17: SKU not UTF-8
    bytes.extend_from_slice(b"24,\"multi\nline\",1,x\n"); // lines 18-19: quoted newline, fine
    write("ragged.csv", &bytes);
    let r = run(&dir, &["--orders", "ragged.csv", "--k", "2", "-o", "r.toml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (line, why) in [
        (14, "number of fields"),
        (15, "number of fields"),
        (16, "quantity is not a whole number"),
        (17, "not valid UTF-8"),
    ] {
        assert!(
            r.stderr.contains(&format!("line {line}: skipped: ")) && r.stderr.contains(why),
            "{line}: {}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("lots") && !r.stderr.contains("extra"), "{}", r.stderr);
    let out = std::fs::read_to_string(dir.join("r.toml")).unwrap();
    assert!(out.contains("\"A\" = 12"), "{out}");

    // Every row bad: exit 1, nothing written.
    write("allbad.csv", b"order_id,sku\n1,\n,A\n3\n");
    let r = run(&dir, &["--orders", "allbad.csv", "-o", "none.toml"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no usable row"), "{}", r.stderr);
    assert!(r.stderr.contains("line 2: skipped") && r.stderr.contains("line 4: skipped"), "{}", r.stderr);
    assert!(!dir.join("none.toml").exists());

    // Header only.
    write("header.csv", b"order_id,sku\n");
    assert_eq!(run(&dir, &["--orders", "header.csv"]).code, 1);
    // Binary garbage.
    write("garbage.csv", &[0u8, 159, 146, 150, 10, 255, 0, 1, 2, 10]);
    let r = run(&dir, &["--orders", "garbage.csv"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Missing file, bad epsilon, bad k.
    let r = run(&dir, &["--orders", "nope.csv"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("nope.csv: cannot open"), "{}", r.stderr);
    assert_eq!(run(&dir, &["--orders", "ragged.csv", "--epsilon", "0"]).code, 2);
    assert_eq!(run(&dir, &["--orders", "ragged.csv", "--epsilon", "NaN"]).code, 2);
    assert_eq!(run(&dir, &["--orders", "ragged.csv", "--k", "1"]).code, 2);
    // A panic would have exited with 101; every status above is 1 or 2.
    assert!(!r.stderr.contains("panicked"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn crlf_line_endings_bom_and_reordered_columns() {
    let dir = temp_dir("crlf");
    let mut csv = String::from("\u{feff}Lineitem sku,Email,Name,Lineitem quantity\r\n");
    for o in 0..12 {
        csv.push_str(&format!("SKU-X,p{o}@example.com,#{o},1\r\nSKU-Y,,#{o},1\r\n"));
    }
    std::fs::write(dir.join("orders.csv"), csv).unwrap();
    let r = run(&dir, &["--orders", "orders.csv", "-o", "out.toml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("shopify export, 24 rows used, 0 skipped"), "{}", r.stderr);
    let out = std::fs::read_to_string(dir.join("out.toml")).unwrap();
    assert!(out.contains("\"SKU-X\" = 12\n\"SKU-Y\" = 12\n"), "{out}");
    assert!(out.contains("a = \"SKU-X\"\nb = \"SKU-Y\"\norders = 12\n"), "{out}");
    assert!(!out.contains("example.com"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14 item 10: an unclosed quote used to swallow the rest of the file into one field
/// ("60 rows used, 1 skipped" while 60 rows were lost). It is an error naming the line where
/// the quoted field began, and nothing is written.
#[test]
fn an_unclosed_quote_is_an_error_naming_its_line() {
    let dir = temp_dir("unclosed-quote");
    let mut csv = String::from("order_id,sku,quantity\n");
    for o in 0..60 {
        csv.push_str(&format!("{},SKU-{},1\n", 100 + o, o % 3));
    }
    // Line 62: a quote opened and never closed; the 60 rows after it vanished into it.
    csv.push_str("200,\"SKU-X,1\n");
    for o in 0..60 {
        csv.push_str(&format!("{},SKU-{},1\n", 300 + o, o % 3));
    }
    std::fs::write(dir.join("orders.csv"), &csv).unwrap();
    let r = run(&dir, &["--orders", "orders.csv", "--k", "2", "--output", "agg.toml"]);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains("line 62"), "names the line where the quote began: {}", r.stderr);
    assert!(r.stderr.contains("quote"), "says what is wrong: {}", r.stderr);
    assert!(!dir.join("agg.toml").exists(), "nothing is written");
    // A quoted field that spans lines and is closed stays fine, also on the last line.
    let ok = "order_id,sku,quantity\n1,A,1\n2,A,1\n2,\"B\",1\n3,\"C\nD\",1\n4,\"E\"\"F\",1";
    std::fs::write(dir.join("ok.csv"), ok).unwrap();
    let r = run(&dir, &["--orders", "ok.csv", "--k", "2", "--output", "ok.toml"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
