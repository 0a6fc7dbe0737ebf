//! `cohort import`: product files from another platform's export. Only Shopify's product
//! CSV for now (`shopify.rs` reads it, `convert.rs` writes one product file per handle,
//! `mangled.rs` spots what spreadsheets do to values).
//!
//! Nothing is written unless the whole export converts: product files are first written
//! into a hidden folder inside `products/` and moved into place at the end. Nothing is
//! downloaded: image URLs are listed in each product file for the merchant to copy in.

pub mod convert;
pub mod mangled;
pub mod shopify;

use shopify::Problem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What an import did, for the summary line.
#[derive(Debug, Default)]
pub struct Summary {
    /// Product files written.
    pub products: usize,
    /// Variants in them.
    pub variants: usize,
    /// Images listed in them.
    pub images: usize,
    /// Warnings given.
    pub warnings: usize,
    /// The files written.
    pub written: Vec<PathBuf>,
}

/// Why an import wrote nothing: every error, with its line.
#[derive(Debug)]
pub struct Failed {
    /// Every error tied to a line of the export.
    pub errors: Vec<Problem>,
    /// An error not tied to a line (no shop, the file cannot be opened ...), as printed.
    pub fatal: Option<String>,
}

/// What to import, and where.
pub struct Options<'a> {
    /// The shop (with shop.toml).
    pub root: &'a Path,
    /// The export.
    pub file: &'a Path,
    /// Replace product files that already exist.
    pub force: bool,
}

/// Imports a Shopify product export into `root/products/`. `warn` receives each warning
/// as it is found.
pub fn shopify(options: &Options, warn: &mut dyn FnMut(&Problem)) -> Result<Summary, Failed> {
    let fatal = |m: String| Failed { errors: Vec::new(), fatal: Some(m) };
    if !options.root.join("shop.toml").is_file() {
        return Err(fatal(format!(
            "error: {} has no shop.toml: import into a shop (create one with `cohort init DIR`, or pass --root)",
            options.root.display()
        )));
    }
    let site = crate::config::Config::load(options.root, None).map_err(|d| fatal(d.to_string()))?;
    let file = std::fs::File::open(options.file)
        .map_err(|e| fatal(format!("error: {}: cannot open the export: {e}", options.file.display())))?;
    let products = options.root.join("products");
    std::fs::create_dir_all(&products)
        .map_err(|e| fatal(format!("error: cannot create {}: {e}", products.display())))?;
    let staging = tempfile::Builder::new()
        .prefix(".cohort-import-")
        .tempdir_in(&products)
        .map_err(|e| fatal(format!("error: cannot write in {}: {e}", products.display())))?;

    let mut summary = Summary::default();
    let mut errors: Vec<Problem> = Vec::new();
    let mut handles: HashMap<String, u64> = HashMap::new();
    let mut skus: HashMap<String, u64> = HashMap::new();
    let mut staged: Vec<String> = Vec::new();
    let mut warned = |p: Problem, summary: &mut Summary| {
        summary.warnings += 1;
        warn(&p);
    };
    let mut on_group = |rows: Vec<shopify::Row>| {
        let line = rows.first().map_or(0, |r| r.line);
        let handle = rows.first().map(|r| r.handle.clone()).unwrap_or_default();
        if let Some(first) = handles.get(&handle) {
            let message = format!(
                "handle `{handle}` appears again (first at line {first}); these rows are left out: keep a product's rows together, or give it another handle"
            );
            warned(Problem { line, message }, &mut summary);
            return;
        }
        handles.insert(handle, line);
        let mut notes = Vec::new();
        let converted = convert::convert(&rows, site.currency, &mut |p| notes.push(p), &mut errors);
        for n in notes {
            warned(n, &mut summary);
        }
        let Some(c) = converted else { return };
        for (sku, at) in &c.skus {
            if let Some(first) = skus.insert(sku.clone(), *at) {
                errors.push(Problem {
                    line: *at,
                    message: format!("SKU `{sku}` is already used at line {first}; every variant needs its own SKU"),
                });
            }
        }
        if let Err(m) = check_target(&products, &c.slug, options.force) {
            errors.push(Problem { line, message: m });
            return;
        }
        match std::fs::write(staging.path().join(format!("{}.md", c.slug)), &c.text) {
            Ok(()) => staged.push(c.slug),
            Err(e) => errors.push(Problem { line, message: format!("cannot write the product file: {e}") }),
        }
        summary.products += 1;
        summary.variants += c.variants;
        summary.images += c.images;
    };
    let mut row_errors = Vec::new();
    let mut on_error = |p: Problem| row_errors.push(p);
    let read = shopify::read_groups(std::io::BufReader::new(file), &mut on_group, &mut on_error);
    read.map_err(|message| Failed { errors: vec![Problem { line: 1, message }], fatal: None })?;
    errors.extend(row_errors);
    if !errors.is_empty() {
        errors.sort_by_key(|p| p.line);
        return Err(Failed { errors, fatal: None });
    }
    if staged.is_empty() {
        return Err(fatal(format!("error: {}: the export holds no product rows", options.file.display())));
    }
    for slug in staged {
        let target = products.join(format!("{slug}.md"));
        std::fs::rename(staging.path().join(format!("{slug}.md")), &target)
            .map_err(|e| fatal(format!("error: cannot move {} into place: {e}", target.display())))?;
        summary.written.push(target);
    }
    Ok(summary)
}

/// A product file may be written at `products/SLUG.md` unless one is there already (only
/// with `force`), or a bundle `products/SLUG/` holds that product.
fn check_target(products: &Path, slug: &str, force: bool) -> Result<(), String> {
    let flat = products.join(format!("{slug}.md"));
    let bundle = products.join(slug).join("index.md");
    if bundle.exists() {
        return Err(format!(
            "products/{slug}/index.md already exists; move it away to import `{slug}` (--force replaces only products/SLUG.md files)"
        ));
    }
    if flat.exists() && !force {
        return Err(format!("products/{slug}.md already exists; nothing was overwritten (use --force to replace it)"));
    }
    Ok(())
}
