//! `cohort aggregate --format snipcart|paypal|foxy` on the real binary: the order exports of
//! the hosted checkouts, with personal data in every column that has it (names, emails,
//! addresses, phones, notes, transaction and invoice numbers). Nothing identifying reaches
//! the output file or any message; the k threshold holds; the format is also detected from
//! the header; noise runs clean too.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cohort");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cohort-aggchk-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).arg("aggregate").args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PEOPLE: &[(&str, &str, &str, &str, &str)] = &[
    ("Jane Doe", "jane.doe@example.com", "12 Rosemary Lane", "Springfield", "+44 7700 900123"),
    ("Omar Haddad", "omar.h@example.org", "4 Harbour Road", "Portwell", "+33 6 12 34 56 78"),
    ("Li Wei", "li.wei@example.net", "88 Cedar Avenue", "Northby", "+1 555 0199"),
];

/// SKUs of order `o` of 40: SKU-A in all, SKU-B in 30, SKU-C in 9 (below k), SKU-D in 10.
fn skus(o: usize) -> Vec<&'static str> {
    let mut v = vec!["SKU-A"];
    if o < 30 {
        v.push("SKU-B");
    }
    if o < 9 {
        v.push("SKU-C");
    }
    if o >= 30 {
        v.push("SKU-D");
    }
    v
}

/// The export in `format`, and every identifying string in it.
fn export(format: &str) -> (String, Vec<String>) {
    let mut secrets: Vec<String> = Vec::new();
    let mut csv = String::new();
    for o in 0..40 {
        let (name, email, street, city, phone) = PEOPLE[o % PEOPLE.len()];
        let (first, last) = name.split_once(' ').unwrap();
        match format {
            "snipcart" => {
                if o == 0 {
                    csv.push_str("Invoice Number,Creation Date,Status,Email,Billing Name,Billing Address,Billing City,Billing Phone,Shipping Name,Shipping Address,Item Id,Item Name,Item Price,Item Quantity,Notes\n");
                }
                let invoice = format!("SNIP-{}", 7301 + o);
                secrets.push(invoice.clone());
                for sku in skus(o) {
                    csv.push_str(&format!("{invoice},2026-11-02,Processed,{email},{name},\"{street}\",{city},{phone},{name},\"{street}, {city}\",{sku},Thing,9.00,1,\"ring {name} on {phone}\"\n"));
                }
            }
            "paypal" => {
                if o == 0 {
                    csv.push_str("Date,Time,TimeZone,Name,Type,Status,Currency,Gross,Fee,Net,From Email Address,To Email Address,Transaction ID,Shipping Address,Address Status,Item Title,Item ID,Quantity,Invoice Number,Contact Phone Number,Receipt ID\n");
                }
                let txn = format!("8XY{:05}AB67890{:02}", 41000 + o, o);
                let receipt = format!("4412-{:04}-8899-{:04}", 1200 + o, 3300 + o);
                secrets.extend([txn.clone(), receipt.clone()]);
                // The payment row: the buyer, no item.
                csv.push_str(&format!("02/11/2026,10:00:00,CET,{name},Shopping Cart Payment Received,Completed,EUR,27.00,-1.00,26.00,{email},sales@shop.example.com,{txn},\"{street}, {city}\",Confirmed,,,,INV-{o},{phone},{receipt}\n"));
                for sku in skus(o) {
                    csv.push_str(&format!("02/11/2026,10:00:00,CET,{name},Shopping Cart Item,Completed,EUR,9.00,,,{email},sales@shop.example.com,{txn},\"{street}, {city}\",Confirmed,Thing,{sku},1,INV-{o},{phone},\n"));
                }
            }
            "foxy" => {
                if o == 0 {
                    csv.push_str("transaction_id,transaction_date,customer_first_name,customer_last_name,customer_email,customer_address1,customer_city,customer_phone,customer_ip,product_code,product_name,product_price,product_quantity\n");
                }
                let id = format!("{}", 93_770_000 + o);
                let ip = format!("203.0.113.{}", 10 + o);
                secrets.extend([id.clone(), ip.clone()]);
                for sku in skus(o) {
                    csv.push_str(&format!("{id},2026-11-02 10:00:00,{first},{last},{email},\"{street}\",{city},{phone},{ip},{sku},Thing,9.00,1\n"));
                }
            }
            _ => unreachable!(),
        }
    }
    for (name, email, street, city, phone) in PEOPLE {
        secrets.extend([name, email, street, city, phone].iter().map(|s| s.to_string()));
        secrets.extend(name.split(' ').map(str::to_string));
    }
    secrets.push("@".into());
    (csv, secrets)
}

fn assert_clean(haystack: &str, secrets: &[String], what: &str) {
    for s in secrets {
        assert!(!haystack.contains(s.as_str()), "{what} contains {s:?}:\n{haystack}");
    }
}

fn check_format(format: &str) {
    let dir = temp_dir(format);
    let (csv, secrets) = export(format);
    std::fs::write(dir.join("orders.csv"), csv).unwrap();
    for args in [
        vec!["--orders", "orders.csv", "--format", format, "-o", "given.toml"],
        vec!["--orders", "orders.csv", "-o", "detected.toml"],
        vec!["--orders", "orders.csv", "--format", format, "--epsilon", "1", "-o", "noisy.toml"],
    ] {
        let (code, stdout, stderr) = run(&dir, &args);
        assert_eq!(code, 0, "{format} {args:?}: {stderr}");
        assert_clean(&stdout, &secrets, "stdout");
        assert_clean(&stderr, &secrets, "stderr");
        assert!(stderr.contains(&format!("{format} export")), "{stderr}");
        assert!(!stderr.contains("skipped:"), "no row is skipped: {stderr}");
        let out_file = args[args.len() - 1];
        let out = std::fs::read_to_string(dir.join(out_file)).unwrap();
        assert_clean(&out, &secrets, out_file);
    }
    for file in ["given.toml", "detected.toml"] {
        let agg = cohort::aggregate::load(&dir.join(file)).unwrap().unwrap();
        assert_eq!(agg.orders, 40, "{format}: orders are grouped by their order number");
        let purchases: Vec<(&str, u64)> = agg.purchases.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        assert_eq!(purchases, [("SKU-A", 40), ("SKU-B", 30), ("SKU-D", 10)], "{format}: SKU-C is below k");
        let pairs: Vec<(&str, &str, u64)> = agg.pairs.iter().map(|p| (p.a.as_str(), p.b.as_str(), p.orders)).collect();
        assert_eq!(pairs, [("SKU-A", "SKU-B", 30), ("SKU-A", "SKU-D", 10)]);
    }
    assert_eq!(std::fs::read(dir.join("given.toml")).unwrap(), std::fs::read(dir.join("detected.toml")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn snipcart_export_leaves_nothing_identifying() {
    check_format("snipcart");
}

#[test]
fn paypal_export_leaves_nothing_identifying() {
    check_format("paypal");
}

#[test]
fn foxy_export_leaves_nothing_identifying() {
    check_format("foxy");
}

#[test]
fn a_missing_column_names_the_format_not_the_data() {
    let dir = temp_dir("missing");
    std::fs::write(dir.join("orders.csv"), "transaction_id,customer_email,sku\n1,jane.doe@example.com,A\n").unwrap();
    let (code, _, stderr) = run(&dir, &["--orders", "orders.csv", "--format", "foxy"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("missing column `product_code`"), "{stderr}");
    assert!(stderr.contains("Foxy transaction export"), "{stderr}");
    assert!(!stderr.contains("jane"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
