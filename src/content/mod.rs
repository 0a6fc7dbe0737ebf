//! Loading a shop folder into a typed model: configuration, products, pages, and the
//! category and tag listings derived from them. Loading collects every problem it finds.

pub mod front_matter;
pub mod markdown;
pub mod money;
pub mod page;
pub mod product;
pub mod variant;
pub mod warnings;

use crate::config::{Config, Site};
use crate::diagnostics::{Diagnostic, Diagnostics, relative};
use page::Page;
use product::Product;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A category or tag listing.
#[derive(Debug, Clone)]
pub struct Taxon {
    /// The name as the first product that uses it writes it.
    pub name: String,
    /// Its path segment (`categories/SLUG/`).
    pub slug: String,
    /// Indices into `Shop::products`, in listing order.
    pub products: Vec<usize>,
}

/// Everything a build needs from the shop's own files.
#[derive(Debug)]
pub struct Shop {
    /// The shop folder.
    pub root: PathBuf,
    /// shop.toml, validated.
    pub site: Site,
    /// Published products (drafts only with `--drafts`), sorted by listing order.
    pub products: Vec<Product>,
    /// Content pages (`pages/*.md`).
    pub pages: Vec<Page>,
    /// Category listings, sorted by slug.
    pub categories: Vec<Taxon>,
    /// Tag listings, sorted by slug.
    pub tags: Vec<Taxon>,
    /// Non-fatal notes for the merchant (printed, never hidden).
    pub warnings: Vec<warnings::Warning>,
    /// The published images (empty until `build::process_images` fills it).
    pub images: crate::images::Catalog,
}

/// How [`Shop::load`] reads a shop.
pub struct LoadOptions<'a> {
    /// Include products and pages marked `draft = true`.
    pub drafts: bool,
    /// Use this instead of shop.toml's `base_url`.
    pub base_url: Option<&'a str>,
}

/// Lowercase ASCII letters and digits joined by single dashes; other letters are kept
/// lowercase (so "Küche" stays readable), everything else becomes a dash.
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

/// Reads a file as UTF-8, or says where the first invalid byte is.
pub fn read_text(path: &Path, shown: &Path) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| Diagnostic::new(shown, format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
        let (line, column) = crate::diagnostics::line_col(&prefix, prefix.len());
        Diagnostic::new(shown, "the file is not valid UTF-8")
            .at_line(line, column, None)
            .hint("save the file as UTF-8 in your editor (most editors have an \"encoding\" option)")
    })
}

impl Shop {
    /// Where the image cache keeps its files (`crate::images::CACHE_DIR`).
    pub fn images_cache(&self) -> PathBuf {
        self.root.join(crate::images::CACHE_DIR)
    }

    /// Reads `ROOT`'s shop.toml, products and pages; every problem in every file is reported.
    pub fn load(root: &Path, options: &LoadOptions) -> Result<Shop, Diagnostics> {
        let site = Config::load(root, options.base_url)?;
        let (product_files, stray) = find_products(root);
        let results: Vec<Result<Product, Vec<Diagnostic>>> =
            product_files.par_iter().map(|(rel, bundle)| load_product(&site, root, rel, bundle.as_deref())).collect();
        let mut products = Vec::new();
        let mut diags = Vec::new();
        for r in results {
            match r {
                Ok(p) => products.push(p),
                Err(ds) => diags.extend(ds),
            }
        }
        let (pages, page_diags) = load_pages(root);
        diags.extend(page_diags);
        Shop::assemble(root, site, products, pages, &stray, diags, options.drafts)
    }

    /// Puts loaded parts together: checks what needs the whole catalog (unique SKUs and
    /// slugs), leaves drafts out unless asked, sorts, and derives the listings. `diags` are
    /// the problems found while parsing; any problem at all is an error. Watch mode calls
    /// this with a catalog it keeps up to date file by file.
    pub fn assemble(
        root: &Path,
        site: Site,
        mut products: Vec<Product>,
        mut pages: Vec<Page>,
        stray: &[PathBuf],
        parse_diags: Vec<Diagnostic>,
        drafts: bool,
    ) -> Result<Shop, Diagnostics> {
        let mut diags = Diagnostics(parse_diags);
        let mut warnings: Vec<warnings::Warning> = stray.iter().map(|s| warnings::stray(s)).collect();
        check_unique(&products, |p| &p.sku, "SKU", "sku", &mut diags);
        variant::check_unique_skus(&products, &mut diags);
        if let Some(checkout) = &site.checkout {
            crate::checkout::check_products(checkout, products.iter().filter(|p| drafts || !p.draft), &mut diags);
        }
        check_unique(&products, |p| &p.slug, "slug", "slug", &mut diags);
        let mut page_slugs: BTreeMap<&str, &Path> = BTreeMap::new();
        for p in &pages {
            if let Some(first) = page_slugs.insert(&p.slug, &p.source) {
                diags.push(
                    Diagnostic::new(&p.source, format!("the slug `{}` is already used by {}", p.slug, first.display()))
                        .hint("rename one of the files, or set a different slug = \"...\""),
                );
            }
        }
        if !diags.is_empty() {
            return Err(diags.sorted());
        }

        if !drafts {
            products.retain(|p| !p.draft);
            pages.retain(|p| !p.draft);
        }
        products.sort_by(listing_order);
        pages.sort_by(|a, b| {
            a.weight.cmp(&b.weight).then_with(|| a.title.cmp(&b.title)).then_with(|| a.slug.cmp(&b.slug))
        });
        let categories = taxa(&products, |p| vec![p.category.clone()]);
        let tags = taxa(&products, |p| p.tags.clone());
        warnings.extend(warnings::near_duplicate_categories(&products, &categories));
        if !products.is_empty() {
            warnings.extend(warnings::unmatched_interests(root, &site, &categories, &tags));
        }
        Ok(Shop {
            root: root.to_path_buf(),
            site,
            products,
            pages,
            categories,
            tags,
            warnings,
            images: Default::default(),
        })
    }
}

/// Reads and parses one product file (`rel` relative to the root; `bundle` its folder when
/// the file is `products/NAME/index.md`).
pub fn load_product(site: &Site, root: &Path, rel: &Path, bundle: Option<&Path>) -> Result<Product, Vec<Diagnostic>> {
    let text = read_text(&root.join(rel), rel).map_err(|d| vec![d])?;
    product::parse(site, root, rel, bundle, &text)
}

/// Every content page under `pages/`, and the problems found in them.
pub fn load_pages(root: &Path) -> (Vec<Page>, Vec<Diagnostic>) {
    let mut pages = Vec::new();
    let mut diags = Vec::new();
    for rel in md_files(root, "pages") {
        match read_text(&root.join(&rel), &rel).map_err(|d| vec![d]).and_then(|t| page::parse(&rel, &t)) {
            Ok(p) => pages.push(p),
            Err(ds) => diags.extend(ds),
        }
    }
    (pages, diags)
}

/// The merchant's order: weight, then newest first, then title and SKU for stability.
pub fn listing_order(a: &Product, b: &Product) -> std::cmp::Ordering {
    a.weight
        .cmp(&b.weight)
        .then_with(|| b.date.cmp(&a.date))
        .then_with(|| a.title.cmp(&b.title))
        .then_with(|| a.sku.cmp(&b.sku))
}

fn taxa(products: &[Product], names: impl Fn(&Product) -> Vec<String>) -> Vec<Taxon> {
    let mut by_slug: BTreeMap<String, Taxon> = BTreeMap::new();
    for (i, p) in products.iter().enumerate() {
        for name in names(p) {
            let slug = slugify(&name);
            let t =
                by_slug.entry(slug.clone()).or_insert_with(|| Taxon { name: name.clone(), slug, products: Vec::new() });
            if t.products.last() != Some(&i) {
                t.products.push(i);
            }
        }
    }
    by_slug.into_values().collect()
}

fn check_unique(
    products: &[Product],
    key: impl Fn(&Product) -> &String,
    what: &str,
    field: &str,
    diags: &mut Diagnostics,
) {
    let mut seen: BTreeMap<&String, &Product> = BTreeMap::new();
    let mut sorted: Vec<&Product> = products.iter().collect();
    sorted.sort_by(|a, b| a.source.cmp(&b.source));
    for p in sorted {
        if let Some(first) = seen.insert(key(p), p) {
            let line = p.key_lines.get(field).copied().unwrap_or(0);
            diags.push(
                Diagnostic::new(
                    &p.source,
                    format!("the {what} `{}` is already used by {}", key(p), first.source.display()),
                )
                .at_line(line, if line > 0 { 1 } else { 0 }, None)
                .hint(format!("every product needs its own {what}; change one of them")),
            );
            seen.insert(key(p), first);
        }
    }
}

/// Product sources: `products/*.md` and `products/*/index.md` (a bundle), sorted; plus
/// files that are neither, to warn about.
pub fn find_products(root: &Path) -> (Vec<(PathBuf, Option<PathBuf>)>, Vec<PathBuf>) {
    let dir = root.join("products");
    let mut found = Vec::new();
    let mut stray = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return (found, stray);
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let rel = relative(root, &path);
        if path.is_dir() {
            if path.join("index.md").is_file() {
                found.push((rel.join("index.md"), Some(rel)));
            } else {
                stray.push(rel);
            }
        } else if name.ends_with(".md") {
            found.push((rel, None));
        } else {
            stray.push(rel);
        }
    }
    (found, stray)
}

fn md_files(root: &Path, dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root.join(dir))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| relative(root, e.path()))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Trail Runner 2"), "trail-runner-2");
        assert_eq!(slugify("  Cast-iron & Steel!"), "cast-iron-steel");
        assert_eq!(slugify("Küche"), "küche");
        assert_eq!(slugify("../.."), "");
    }
}
