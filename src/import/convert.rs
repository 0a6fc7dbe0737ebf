//! One handle's rows → one Cohort product file (TOML front matter and Markdown).

use super::mangled;
use super::shopify::{Field, Problem, Row};
use crate::content::money::{Currency, Money};
use std::fmt::Write;

/// What one product's rows gave: its file's text, counts for the summary, and the notes.
pub struct Converted {
    /// The file's name under products/, without `.md`.
    pub slug: String,
    /// The file's text.
    pub text: String,
    /// Variants written.
    pub variants: usize,
    /// Images listed.
    pub images: usize,
    /// Every SKU with the line it comes from (a SKU used twice is an error).
    pub skus: Vec<(String, u64)>,
}

struct Variant {
    sku: String,
    options: Vec<(String, String)>,
    price: Money,
    compare_at: Option<Money>,
    availability: &'static str,
}

/// Converts the rows of one handle. Errors make the product unusable; warnings are notes.
pub fn convert(
    rows: &[Row],
    currency: Currency,
    warn: &mut dyn FnMut(Problem),
    errors: &mut Vec<Problem>,
) -> Option<Converted> {
    let first = rows.first()?;
    let line = first.line;
    let slug = crate::content::slugify(&first.handle);
    let before = errors.len();
    if slug.is_empty() {
        errors.push(Problem { line, message: format!("handle `{}` has no letters or digits", first.handle) });
    }
    if first.title.is_empty() {
        errors.push(Problem {
            line,
            message: format!(
                "the first row of `{}` has no Title; a product's first row holds its fields",
                first.handle
            ),
        });
    }
    let option_names: Vec<String> = first
        .options
        .iter()
        .map(|(n, _)| n.trim().to_lowercase())
        .take_while(|n| !n.is_empty())
        .filter(|n| n != "title")
        .collect();
    let mut variants = Vec::new();
    for (n, row) in rows.iter().filter(|r| r.is_variant()).enumerate() {
        if let Some(v) = variant(row, n, &first.handle, &option_names, currency, warn, errors) {
            variants.push(v);
        }
    }
    if variants.is_empty() && errors.len() == before {
        errors.push(Problem { line, message: format!("`{}` has no row with a price", first.handle) });
    }
    if errors.len() > before {
        return None;
    }
    let draft = draft_note(first, warn);
    let images = images(rows);
    let text = write_file(first, &slug, &option_names, &variants, &images, draft, warn);
    let mut skus: Vec<(String, u64)> =
        variants.iter().zip(rows.iter().filter(|r| r.is_variant())).map(|(v, r)| (v.sku.clone(), r.line)).collect();
    if !option_names.is_empty() {
        // The product's own SKU (its handle) names the group: no variant may have it.
        skus.push((first.handle.clone(), line));
    }
    Some(Converted {
        slug,
        text,
        variants: if option_names.is_empty() { 0 } else { variants.len() },
        images: images.len(),
        skus,
    })
}

fn variant(
    row: &Row,
    n: usize,
    handle: &str,
    option_names: &[String],
    currency: Currency,
    warn: &mut dyn FnMut(Problem),
    errors: &mut Vec<Problem>,
) -> Option<Variant> {
    let line = row.line;
    let mut money = |raw: &str, what: &str| -> Option<Money> {
        let (fixed, note) = mangled::price(raw);
        if let Some(note) = note {
            warn(Problem { line, message: note });
        }
        match currency.parse(&fixed) {
            Ok(m) => Some(m),
            Err(e) => {
                errors.push(Problem { line, message: format!("{what} `{raw}`: {}; {}", e.message(), e.hint()) });
                None
            }
        }
    };
    let price = money(&row.price, "price");
    let compare = row.get(Field::Compare);
    let compare_at = if compare.is_empty() { None } else { money(compare, "compare-at price") };
    let mut sku = row.get(Field::Sku).trim_start_matches('\'').to_string();
    if mangled::is_scientific(&sku) {
        warn(Problem {
            line,
            message: format!("SKU `{sku}` was turned into scientific notation by a spreadsheet; its digits are lost"),
        });
    }
    if sku.is_empty() {
        sku = format!("{}-{}", handle.to_uppercase(), n + 1);
        warn(Problem {
            line,
            message: format!("this variant has no SKU; it is given `{sku}` (change it in the product file)"),
        });
    }
    if let Some(p) = mangled::barcode_problem(row.get(Field::Barcode)) {
        warn(Problem { line, message: p });
    }
    let options: Vec<(String, String)> =
        option_names.iter().zip(row.options.iter()).map(|(name, (_, value))| (name.clone(), value.clone())).collect();
    if let Some((name, _)) = options.iter().find(|(_, v)| v.is_empty()) {
        errors.push(Problem { line, message: format!("this variant of `{handle}` has no value for option `{name}`") });
        return None;
    }
    let price = price?;
    Some(Variant {
        sku,
        options,
        price,
        compare_at: compare_at.filter(|c| c.minor > price.minor),
        availability: availability(row),
    })
}

/// Out of stock when the quantity is tracked, zero or less, and the shop does not keep
/// selling; in stock otherwise.
fn availability(row: &Row) -> &'static str {
    let qty = row.get(Field::Qty);
    let policy = row.get(Field::Policy).to_lowercase();
    let continues = policy == "continue" || policy == "true";
    match qty.parse::<i64>() {
        Ok(q) if q <= 0 && !continues => "out_of_stock",
        _ => "in_stock",
    }
}

/// Drafts and archived products are imported as drafts (built only with `--drafts`).
fn draft_note(first: &Row, warn: &mut dyn FnMut(Problem)) -> bool {
    let status = first.get(Field::Status).to_lowercase();
    let published = first.get(Field::Published).to_lowercase();
    let why = if status == "archived" {
        Some("archived")
    } else if status == "draft" {
        Some("a draft")
    } else if published == "false" {
        Some("not published")
    } else {
        None
    };
    if let Some(why) = why {
        warn(Problem {
            line: first.line,
            message: format!("`{}` is {why} in Shopify; imported with draft = true", first.handle),
        });
    }
    why.is_some()
}

/// The product's images in position order, then each variant image not already listed.
fn images(rows: &[Row]) -> Vec<(String, String)> {
    let mut list: Vec<(u64, usize, String, String)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let src = r.get(Field::ImageSrc);
        if !src.is_empty() {
            let pos = r.get(Field::ImagePosition).parse().unwrap_or(u64::MAX);
            list.push((pos, i, src.to_string(), r.get(Field::ImageAlt).to_string()));
        }
    }
    list.sort();
    let mut out: Vec<(String, String)> = list.into_iter().map(|(_, _, s, a)| (s, a)).collect();
    for r in rows {
        let v = r.get(Field::VariantImage);
        if !v.is_empty() && !out.iter().any(|(s, _)| s == v) {
            out.push((v.to_string(), String::new()));
        }
    }
    out
}

/// A TOML string: quoted and escaped.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        s.to_string()
    } else {
        q(s)
    }
}

/// Text safe on one comment line.
fn comment(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn write_file(
    first: &Row,
    slug: &str,
    option_names: &[String],
    variants: &[Variant],
    images: &[(String, String)],
    draft: bool,
    warn: &mut dyn FnMut(Problem),
) -> String {
    let mut t = String::from("+++\n");
    let lead = &variants[0];
    let grouped = !option_names.is_empty();
    let sku = if grouped { first.handle.clone() } else { lead.sku.clone() };
    let _ = writeln!(t, "title = {}", q(&first.title));
    let _ = writeln!(t, "sku = {}", q(&sku));
    let _ = writeln!(t, "price = {}", q(&lead.price.decimal()));
    if let Some(c) = lead.compare_at.filter(|_| !grouped) {
        let _ = writeln!(t, "compare_at_price = {}", q(&c.decimal()));
    }
    let _ = writeln!(t, "category = {}", q(&category(first, warn)));
    let tags: Vec<String> = first.get(Field::Tags).split(',').map(str::trim).filter(|s| !s.is_empty()).map(q).collect();
    if !tags.is_empty() {
        let _ = writeln!(t, "tags = [{}]", tags.join(", "));
    }
    let any_available = variants.iter().any(|v| v.availability != "out_of_stock");
    if !any_available {
        let _ = writeln!(t, "availability = \"out_of_stock\"");
    }
    if !first.get(Field::SeoDescription).is_empty() {
        let _ = writeln!(t, "summary = {}", q(first.get(Field::SeoDescription)));
    }
    if draft {
        t.push_str("draft = true\n");
    }
    let _ = writeln!(t, "# Imported from Shopify: handle `{}`.", comment(&first.handle));
    if !first.get(Field::Vendor).is_empty() {
        let _ = writeln!(t, "# Vendor: {}", comment(first.get(Field::Vendor)));
    }
    if !images.is_empty() {
        write_images(&mut t, slug, images);
    }
    if grouped {
        t.push_str("\n[options]\n");
        for (i, name) in option_names.iter().enumerate() {
            let mut values: Vec<&str> = Vec::new();
            for v in variants {
                if !values.contains(&v.options[i].1.as_str()) {
                    values.push(&v.options[i].1);
                }
            }
            let _ = writeln!(t, "{} = [{}]", key(name), values.iter().map(|v| q(v)).collect::<Vec<_>>().join(", "));
        }
        for v in variants {
            write_variant(&mut t, v);
        }
    }
    t.push_str("+++\n");
    t.push_str(&body(first, warn));
    t
}

fn write_variant(t: &mut String, v: &Variant) {
    let opts: Vec<String> = v.options.iter().map(|(n, val)| format!("{} = {}", key(n), q(val))).collect();
    let _ = writeln!(
        t,
        "\n[[variants]]\nsku = {}\noptions = {{ {} }}\nprice = {}",
        q(&v.sku),
        opts.join(", "),
        q(&v.price.decimal())
    );
    if let Some(c) = v.compare_at {
        let _ = writeln!(t, "compare_at_price = {}", q(&c.decimal()));
    }
    if v.availability != "in_stock" {
        let _ = writeln!(t, "availability = {}", q(v.availability));
    }
}

/// Images stay where Shopify keeps them: nothing is downloaded (no network), and pages may
/// load nothing from other origins, so they are listed for the merchant to copy in.
fn write_images(t: &mut String, slug: &str, images: &[(String, String)]) {
    t.push_str("# Images in the export (not downloaded; pages load nothing from other sites). Save each into\n");
    t.push_str("# static/images/ under the name shown, then remove the \"# \" before `images`:\n");
    let mut specs = Vec::new();
    for (n, (url, alt)) in images.iter().enumerate() {
        let name = file_name(url).unwrap_or_else(|| format!("{slug}-{}.jpg", n + 1));
        let _ = writeln!(t, "#   {}  <-  {}", comment(&name), comment(url));
        specs.push(if alt.is_empty() { q(&name) } else { format!("{{ src = {}, alt = {} }}", q(&name), q(alt)) });
    }
    let _ = writeln!(t, "# images = [{}]", comment(&specs.join(", ")));
}

/// The last path segment of a URL, without its query: "https://cdn/x/boot.jpg?v=1" → "boot.jpg".
fn file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let ok = !name.is_empty()
        && name.contains('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    ok.then(|| name.to_string())
}

fn category(first: &Row, warn: &mut dyn FnMut(Problem)) -> String {
    let kind = first.get(Field::Type);
    if !crate::content::slugify(kind).is_empty() {
        return kind.to_string();
    }
    let taxonomy = first.get(Field::Category).rsplit('>').next().unwrap_or("").trim();
    if !crate::content::slugify(taxonomy).is_empty() {
        return taxonomy.to_string();
    }
    warn(Problem {
        line: first.line,
        message: format!("`{}` has no Type or Product category; its category is \"uncategorized\"", first.handle),
    });
    "uncategorized".into()
}

/// The description as Markdown (htmd); the HTML itself if it cannot be converted.
fn body(first: &Row, warn: &mut dyn FnMut(Problem)) -> String {
    let html = first.get(Field::Body);
    if html.is_empty() {
        return String::new();
    }
    // Scripts, styles and embeds are left out: the description is text, and pages load
    // nothing the shop did not declare.
    let converter =
        htmd::HtmlToMarkdown::builder().skip_tags(vec!["script", "style", "iframe", "object", "embed", "head"]).build();
    match converter.convert(html) {
        Ok(md) => {
            let md = md.trim().to_string();
            format!("{md}\n")
        }
        Err(e) => {
            warn(Problem {
                line: first.line,
                message: format!("the description could not be converted to Markdown ({e}); kept as HTML"),
            });
            format!("{html}\n")
        }
    }
}
