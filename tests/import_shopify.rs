//! `cohort import shopify`: both header dialects of Shopify's product export, written here
//! to match Shopify's documented columns, with variants, several images, HTML bodies, tags
//! and values a spreadsheet mangled; the imported shop builds and shows each variant's price.

mod common;
use common::*;
use std::path::Path;

const CLASSIC_HEADER: &str = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,Variant Image,Variant Weight Unit,Cost per item,Status";

/// The long-standing dialect: a boot in two sizes and two colours (one size sold out, one
/// price with a comma, a barcode in scientific notation, one that lost its leading zero),
/// three images, an extra image-only row; a mug with Shopify's "Default Title"; a draft.
fn classic_export() -> String {
    let rows = [
        r#"trail-runner,Trail Runner,"<h2>Grip</h2><script>alert(1)</script><p>Light and <strong>grippy</strong>, with a <a href=""https://example.com/care"">care guide</a>.</p><ul><li>Waterproof</li><li>Vegan</li></ul>",Fern & Flint,Apparel & Accessories > Shoes,Shoes,"outdoor, running, Trail",TRUE,Size,41,Color,Moss,,,TR-41-M,800,shopify,5,deny,manual,89.00,109.00,TRUE,TRUE,3.65275E+11,https://cdn.shopify.com/s/files/1/tr-side.jpg?v=1,1,Side view,FALSE,Trail Runner,Light and grippy.,,g,40.00,active"#,
        r#"trail-runner,,,,,,,,,42,,Moss,,,TR-42-M,800,shopify,0,deny,manual,"94,50",,TRUE,TRUE,0123456789012,https://cdn.shopify.com/s/files/1/tr-sole.jpg?v=1,2,The sole,,,,,g,40.00,"#,
        r#"trail-runner,,,,,,,,,42,,Slate,,,TR-42-S,800,shopify,3,deny,manual,99.00,,TRUE,TRUE,12345678901,,,,,,,,g,40.00,"#,
        r#"trail-runner,,,,,,,,,,,,,,,,,,,,,,,,,https://cdn.shopify.com/s/files/1/tr-top.jpg?v=1,3,From above,,,,,,,"#,
        r#"enamel-mug,Enamel Mug,<p>A mug for camp.</p>,Fern & Flint,,Kitchen,kitchen,TRUE,Title,Default Title,,,,,MUG-1,300,shopify,10,deny,manual,12.00,15.00,TRUE,TRUE,,https://cdn.shopify.com/s/files/1/mug.jpg,1,,FALSE,,,,g,4.00,active"#,
        r#"old-lamp,Old Lamp,<p>Gone.</p>,Fern & Flint,,Home,,FALSE,Title,Default Title,,,,,LAMP-1,300,shopify,0,deny,manual,30.00,,TRUE,TRUE,,,,,FALSE,,,,g,4.00,archived"#,
    ];
    format!("{CLASSIC_HEADER}\n{}\n", rows.join("\n"))
}

const CURRENT_HEADER: &str = "Title,URL handle,Description,Vendor,Product category,Type,Tags,Published on online store,Status,SKU,Barcode,Option1 name,Option1 value,Option1 Linked To,Option2 name,Option2 value,Option2 Linked To,Option3 name,Option3 value,Option3 Linked To,Price,Price / International,Compare-at price,Compare-at price / International,Cost per item,Charge tax,Tax code,Unit price total measure,Unit price total measure unit,Unit price base measure,Unit price base measure unit,Inventory tracker,Inventory quantity,Continue selling when out of stock,Weight value (grams),Weight unit for display,Requires shipping,Fulfillment service,Product image URL,Image position,Image alt text,Variant image URL,Gift card,SEO title,SEO description";

/// The newer dialect (Title first, `URL handle`, `Price`, `Product image URL` ...): a shell
/// in three sizes, one sold out but still sold, one with a sale price; and a knife.
fn current_export() -> String {
    let rows = [
        r#"Rain Shell,rain-shell,"<p>Taped seams.</p><p>Packs into its <em>own</em> pocket.</p>",Fern & Flint,Apparel & Accessories > Clothing > Outerwear,Outerwear,"outdoor, rain",TRUE,Active,RS-S,4006381333931,Size,S,,,,,,,,159.00,,,,60.00,TRUE,,,,,,shopify,4,FALSE,350,g,TRUE,manual,https://cdn.shopify.com/s/files/1/shell-front.jpg?v=2,1,Front,,FALSE,Rain Shell,A light jacket that packs into its pocket."#,
        r#",rain-shell,,,,,,,,RS-M,4006381333948,,M,,,,,,,,149.00,,179.00,,60.00,TRUE,,,,,,shopify,0,TRUE,350,g,TRUE,manual,https://cdn.shopify.com/s/files/1/shell-back.jpg?v=2,2,Back,https://cdn.shopify.com/s/files/1/shell-m.jpg,,,"#,
        r#",rain-shell,,,,,,,,RS-L,4006381333955,,L,,,,,,,,165.00,,,,60.00,TRUE,,,,,,shopify,0,FALSE,350,g,TRUE,manual,,,,,,,"#,
        r#"Chef Knife,chef-knife,<p>Carbon steel.</p>,Fern & Flint,,Kitchen,kitchen,TRUE,Active,CK-1,,Title,Default Title,,,,,,,,79.00,,,,30.00,TRUE,,,,,,shopify,7,FALSE,200,g,TRUE,manual,,,,,FALSE,,"#,
    ];
    format!("{CURRENT_HEADER}\n{}\n", rows.join("\n"))
}

fn new_shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shop.toml"),
        "title = \"Imported\"\nbase_url = \"https://imported.example.com\"\ncurrency = \"EUR\"\n\n[[cohorts]]\nid = \"outdoor\"\nlabel = \"Outdoor\"\ninterests = [\"outdoor\"]\n",
    )
    .unwrap();
    dir
}

fn import(shop: &Path, csv: &str, extra: &[&str]) -> (i32, String) {
    let file = shop.join("export.csv");
    std::fs::write(&file, csv).unwrap();
    let mut args = vec!["import", "shopify", file.to_str().unwrap(), "--root", shop.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, _, stderr) = run(&args);
    (code, stderr)
}

/// (sku, price, availability) of every variant row on a product page.
fn variant_rows(html: &str) -> Vec<(String, String, String)> {
    html.split("<tr data-variant ")
        .skip(1)
        .map(|row| {
            let attr = |name: &str| {
                row.split(&format!("{name}=\"")).nth(1).and_then(|s| s.split('"').next()).unwrap_or("").to_string()
            };
            (attr("data-sku"), attr("data-price"), attr("data-availability"))
        })
        .collect()
}

fn rows(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

#[test]
fn the_classic_export_imports_warns_and_builds_with_each_variants_price() {
    let shop = new_shop();
    let (code, stderr) = import(shop.path(), &classic_export(), &[]);
    assert_eq!(code, 0, "{stderr}");
    // Mangled values and drafts are warned about, each at its line.
    for want in [
        "export.csv:2: barcode `3.65275E+11` was turned into scientific notation",
        "export.csv:3: price `94,50` was written with a comma",
        "export.csv:4: barcode `12345678901` has 11 digits: a spreadsheet probably dropped a leading zero",
        "export.csv:7: `old-lamp` is archived in Shopify; imported with draft = true",
    ] {
        assert!(stderr.contains(want), "{want}:\n{stderr}");
    }
    assert!(!stderr.contains("0123456789012"), "a 13-digit barcode is fine: {stderr}");
    assert!(
        stderr.contains("Imported 3 products (3 variants, 4 images listed for you to copy in; none downloaded)"),
        "{stderr}"
    );
    assert!(stderr.contains("with 4 warnings"), "{stderr}");

    let boot = read(&shop.path().join("products/trail-runner.md"));
    assert!(boot.contains("tags = [\"outdoor\", \"running\", \"Trail\"]"), "{boot}");
    assert!(boot.contains("category = \"Shoes\""), "{boot}");
    assert!(boot.contains("summary = \"Light and grippy.\""), "{boot}");
    assert!(boot.contains("# images = [{ src = \"tr-side.jpg\", alt = \"Side view\" }, { src = \"tr-sole.jpg\", alt = \"The sole\" }, { src = \"tr-top.jpg\", alt = \"From above\" }]"), "{boot}");
    assert!(boot.contains("#   tr-top.jpg  <-  https://cdn.shopify.com/s/files/1/tr-top.jpg?v=1"), "{boot}");
    // The HTML body became Markdown.
    assert!(boot.contains("## Grip"), "{boot}");
    assert!(boot.contains("Light and **grippy**, with a [care guide](https://example.com/care)."), "{boot}");
    assert!(!boot.contains("<p>") && !boot.contains("alert"), "no HTML, no script: {boot}");
    let mug = read(&shop.path().join("products/enamel-mug.md"));
    assert!(mug.contains("sku = \"MUG-1\"") && mug.contains("compare_at_price = \"15.00\""), "{mug}");
    assert!(!mug.contains("[options]"), "Default Title is no option: {mug}");
    assert!(read(&shop.path().join("products/old-lamp.md")).contains("draft = true"));

    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let html = read(&out.join("products/trail-runner/index.html"));
    assert_eq!(
        variant_rows(&html),
        rows(&[
            ("TR-41-M", "89.00", "in_stock"),
            ("TR-42-M", "94.50", "out_of_stock"),
            ("TR-42-S", "99.00", "in_stock")
        ])
    );
    assert!(html.contains("<del><span class=\"visually-hidden\">Was </span>€109.00</del> <ins><span class=\"visually-hidden\">Now </span>€89.00</ins>"));
    let ld = jsonld(&html);
    let offers: Vec<&str> =
        ld[0]["hasVariant"].as_array().unwrap().iter().map(|v| v["offers"]["price"].as_str().unwrap()).collect();
    assert_eq!(offers, ["89.00", "94.50", "99.00"]);
    let mug = read(&out.join("products/enamel-mug/index.html"));
    assert!(mug.contains("data-sku=\"MUG-1\" data-price=\"12.00\""), "{mug}");
    assert!(!out.join("products/old-lamp/index.html").exists(), "the archived product is a draft");
}

#[test]
fn the_current_export_imports_and_builds_with_each_variants_price() {
    let shop = new_shop();
    let csv = current_export();
    let (code, stderr) = import(shop.path(), &csv, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Imported 2 products (3 variants, 3 images listed"), "{stderr}");
    assert!(stderr.contains("with 0 warnings"), "{stderr}");
    let shell = read(&shop.path().join("products/rain-shell.md"));
    assert!(shell.contains("category = \"Outerwear\"") && shell.contains("tags = [\"outdoor\", \"rain\"]"), "{shell}");
    assert!(shell.ends_with("+++\nTaped seams.\n\nPacks into its *own* pocket.\n"), "{shell}");
    assert!(
        shell.contains("shell-m.jpg  <-  https://cdn.shopify.com/s/files/1/shell-m.jpg"),
        "variant image listed: {shell}"
    );

    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let html = read(&out.join("products/rain-shell/index.html"));
    assert_eq!(
        variant_rows(&html),
        // M: none in stock but Shopify keeps selling it; L: none and it does not.
        rows(&[("RS-S", "159.00", "in_stock"), ("RS-M", "149.00", "in_stock"), ("RS-L", "165.00", "out_of_stock")])
    );
    assert!(html.contains("<del><span class=\"visually-hidden\">Was </span>€179.00</del> <ins><span class=\"visually-hidden\">Now </span>€149.00</ins>"));
    let knife = read(&out.join("products/chef-knife/index.html"));
    assert!(knife.contains("data-sku=\"CK-1\" data-price=\"79.00\" data-availability=\"in_stock\""));

    // Byte order mark and CRLF line ends (as Excel saves) give the same files.
    let again = new_shop();
    let (code, stderr) = import(again.path(), &format!("\u{feff}{}", csv.replace('\n', "\r\n")), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&again.path().join("products/rain-shell.md")).replace("\r\n", "\n"), shell);
}

#[test]
fn an_existing_product_file_is_never_overwritten_without_force() {
    let shop = new_shop();
    std::fs::create_dir_all(shop.path().join("products")).unwrap();
    let mine = "+++\ntitle = \"My knife\"\nsku = \"MINE\"\nprice = \"1.00\"\ncategory = \"x\"\n+++\n";
    std::fs::write(shop.path().join("products/chef-knife.md"), mine).unwrap();
    let (code, stderr) = import(shop.path(), &current_export(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "export.csv:5: products/chef-knife.md already exists; nothing was overwritten (use --force to replace it)"
        ),
        "{stderr}"
    );
    assert_eq!(read(&shop.path().join("products/chef-knife.md")), mine);
    assert!(!shop.path().join("products/rain-shell.md").exists(), "nothing is written when anything fails");
    let (code, stderr) = import(shop.path(), &current_export(), &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(read(&shop.path().join("products/chef-knife.md")).contains("sku = \"CK-1\""));
}

#[test]
fn bad_exports_are_errors_with_line_numbers_and_write_nothing() {
    let empty = tempfile::tempdir().unwrap();
    let (code, stderr) = import(empty.path(), &classic_export(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("has no shop.toml: import into a shop (create one with `cohort init DIR`"), "{stderr}");
    assert!(!empty.path().join("products").exists());

    let shop = new_shop();
    // A missing required column.
    let no_price = classic_export().replace("Variant Price", "Variant Prize");
    let (code, stderr) = import(shop.path(), &no_price, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("export.csv:1: the header has no Variant Price (or Price) column"), "{stderr}");
    // Not a product export at all.
    let (code, stderr) = import(shop.path(), "Name,Email,Lineitem sku\n#1001,a@b.c,X\n", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "export.csv:1: the header has no Handle (or URL handle), no Title, no Variant Price (or Price) column"
        ),
        "{stderr}"
    );

    // A malformed row (a missing quote swallows a comma), a bad price, invalid UTF-8 and
    // a row without a handle: each reported at its line, in one run.
    let mut csv = classic_export().into_bytes();
    let extra = [
        "bad-row,Bad,<p>a</p>,V,,T,,TRUE,Title,Default Title,,,,,B-1,1,shopify,1,deny,manual,1.00,,TRUE,TRUE,,,,,FALSE,,,,g,1,active,extra".as_bytes().to_vec(),
        "bad-price,Bad price,,V,,T,,TRUE,Title,Default Title,,,,,BP-1,1,shopify,1,deny,manual,abc,,TRUE,TRUE,,,,,FALSE,,,,g,1,active".as_bytes().to_vec(),
        b"latin,Caf\xe9,,V,,T,,TRUE,Title,Default Title,,,,,L-1,1,shopify,1,deny,manual,2.00,,TRUE,TRUE,,,,,FALSE,,,,g,1,active".to_vec(),
        ",No handle,,V,,T,,TRUE,Title,Default Title,,,,,N-1,1,shopify,1,deny,manual,2.00,,TRUE,TRUE,,,,,FALSE,,,,g,1,active".as_bytes().to_vec(),
    ];
    for row in extra {
        csv.extend_from_slice(&row);
        csv.push(b'\n');
    }
    let file = shop.path().join("export.csv");
    std::fs::write(&file, &csv).unwrap();
    let (code, _, stderr) =
        run(&["import", "shopify", file.to_str().unwrap(), "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    for want in [
        "export.csv:8: this row has 36 fields but the header has 35",
        "export.csv:9: price `abc`: this is not a price",
        "export.csv:10: this row is not valid UTF-8",
        "export.csv:11: this row has no handle",
        "4 problems found; nothing was written.",
    ] {
        assert!(stderr.contains(want), "{want}:\n{stderr}");
    }
    assert!(!shop.path().join("products/trail-runner.md").exists());
    let leftovers: Vec<_> = std::fs::read_dir(shop.path().join("products")).unwrap().collect();
    assert!(leftovers.is_empty(), "no staging folder is left behind: {leftovers:?}");
}

#[test]
fn a_handle_that_comes_back_later_is_warned_about_and_left_out() {
    let shop = new_shop();
    let mut csv = classic_export();
    csv.push_str("trail-runner,Trail Runner again,,,,Shoes,,TRUE,Title,Default Title,,,,,TR-AGAIN,1,shopify,1,deny,manual,1.00,,TRUE,TRUE,,,,,FALSE,,,,g,1,active\n");
    let (code, stderr) = import(shop.path(), &csv, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("export.csv:8: handle `trail-runner` appears again (first at line 2); these rows are left out"),
        "{stderr}"
    );
    assert!(!read(&shop.path().join("products/trail-runner.md")).contains("TR-AGAIN"));
}

/// 50,000 rows: 2,000 products of 25 sizes each. The import streams (one product's rows in
/// memory at a time), finishes, and a bad row near the end is reported at its line.
#[test]
fn fifty_thousand_rows_import_and_a_late_bad_row_is_found_by_its_line() {
    let mut csv = String::from(CLASSIC_HEADER);
    csv.push('\n');
    for p in 0..2000 {
        for s in 0..25 {
            let first = s == 0;
            csv.push_str(&format!(
                "item-{p},{},{},V,,Gear,\"a, b\",TRUE,{},{},,,,,SKU-{p}-{s},1,shopify,{},deny,manual,{}.{:02},,TRUE,TRUE,,,,,FALSE,,,,g,1,active\n",
                if first { format!("Item {p}") } else { String::new() },
                if first { "<p>Body</p>" } else { "" },
                if first { "Size" } else { "" },
                s + 30,
                s % 3,
                10 + s,
                p % 100,
            ));
        }
    }
    assert_eq!(csv.lines().count(), 50_001);
    let shop = new_shop();
    let (code, stderr) = import(shop.path(), &csv, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Imported 2000 products (50000 variants"), "{stderr}");
    let item = read(&shop.path().join("products/item-1999.md"));
    assert!(item.contains("sku = \"SKU-1999-24\"\noptions = { size = \"54\" }\nprice = \"34.99\""), "{item}");

    let late =
        csv.replacen("SKU-1999-20,1,shopify,2,deny,manual,30.99", "SKU-1999-20,1,shopify,2,deny,manual,30.9.9", 1);
    assert_ne!(late, csv);
    let other = new_shop();
    let (code, stderr) = import(other.path(), &late, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("export.csv:49997: price `30.9.9`"), "{stderr}");
}
