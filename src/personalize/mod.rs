//! Plugin mode, `cohort personalize`: adds what `cohort build` adds to a site that another
//! generator (Hugo, Zola, Eleventy) built.
//!
//! The merchant marks slots in their own templates with `data-cohort-slot="NAME"` elements.
//! Personalize reads the shop (shop.toml and the products, possibly from the other
//! generator's content folder, [`products`]), renders each slot with the theme's slot
//! templates through the same [`Renderer`] as the build (fragment hashes, the price
//! invariance guard), and edits the other generator's pages with a small scanner
//! ([`site`]) that changes only the slot elements and one injected block per page (the
//! banner, the page's configuration and `cohort.js`). It writes the fragments, full-page
//! variants for the kinds in `page_variants`, `cohort.js`, `/privacy/` and `/preferences/`,
//! `_headers` (CSP with the hash of every inline script in the site), `_redirects` and
//! `/.well-known/gpc.json`, then runs the privacy audit of `cohort check` on the result and
//! undoes everything if it fails.
//!
//! Idempotence: what personalize created is listed in `_cohort/manifest.json`; a re-run
//! strips its injected block and keys attributes from every page before applying them
//! again, rewrites only files whose bytes change, and removes files it created before that
//! it no longer needs. Running it twice leaves the same bytes as running it once.

mod files;
mod finish;
mod front;
mod pages;
mod paths;
mod policy;
pub mod products;
pub mod site;
mod steps;
mod write;

use files::read_manifest;
use pages::{layout_page, read_page, slot_key};
use policy::plan_policy;

use crate::build::Recommendations;
use crate::check;
use crate::content::Shop;
use crate::content::product::Product;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::output::csp;
use crate::plan::PageKind;
use crate::render::{Renderer, SlotVersions, context};
use crate::theme::Theme;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The manifest of what personalize created, inside the site folder.
pub const MANIFEST: &str = "_cohort/manifest.json";
/// The banner's stylesheet (at the site root, beside `cohort.js`).
pub const STYLESHEET: &str = "cohort.css";
/// Its bytes: small, themable with CSS custom properties (`--cohort-bg`, `--cohort-fg`,
/// `--cohort-accent`, ...), inheriting the site's fonts.
pub const BANNER_CSS: &str = include_str!("cohort.css");
const HOST_BEGIN: &str = "# cohort personalize: begin (rewritten on every run)";
const HOST_END: &str = "# cohort personalize: end";

/// What `cohort personalize` works on: the other generator's site folder, the shop folder
/// and, optionally, where the products come from.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The other generator's output folder.
    pub site: PathBuf,
    /// The shop folder: shop.toml, optional `products/`, `templates/`, `data/aggregates.toml`.
    pub root: PathBuf,
    /// Product files of the other generator (`content/products/*.md`); default: the shop's
    /// own `products/` in Cohort's format.
    pub products: Option<String>,
}

/// What a successful [`personalize`] run did, for the command's summary line.
#[derive(Debug, Default)]
pub struct Report {
    /// HTML pages of the other generator that carry the runtime.
    pub pages: usize,
    /// Slot elements (`data-cohort-slot`) filled, summed over all pages.
    pub slots: usize,
    /// Distinct fragment files (`_cohort/f/HASH.html`) the slots' cohort versions need.
    pub fragments: usize,
    /// Full-page variants written (one per page and cohort, for the kinds in `page_variants`).
    pub variants: usize,
    /// Products in the loaded catalog.
    pub products: usize,
    /// Files written (created or changed; files whose bytes were already right are not counted).
    pub written: usize,
    /// Files an earlier run created that this run no longer needs, now removed.
    pub removed: usize,
    /// Notes for the merchant: skipped files, audit warnings.
    pub warnings: Vec<String>,
    /// The privacy audit of the result (warnings only when personalize succeeded).
    pub audit: check::Report,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

/// Why [`personalize`] (or [`load`]) failed.
#[derive(Debug)]
pub enum Error {
    /// Problems in the shop's files or the site's templates, each with its place.
    Invalid(Diagnostics),
    /// The privacy audit found errors; nothing was changed.
    Refused(check::Report),
    /// A file could not be read or written; the message names it and the cause.
    Io(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Invalid(d) => write!(f, "{d}"),
            Error::Refused(r) => write!(
                f,
                "{}personalize refused the site: the privacy audit found {} error{}; the site folder was left untouched.",
                r.text(),
                r.errors(),
                if r.errors() == 1 { "" } else { "s" }
            ),
            Error::Io(e) => write!(f, "error: {e}"),
        }
    }
}

/// A shop for plugin mode: its catalog, theme, and where each product's page is.
pub struct Loaded {
    /// The validated shop: shop.toml and the products, in catalog order.
    pub shop: Shop,
    /// The shop's theme, without its static files (they are not copied into the other
    /// generator's site), with the `site` global set.
    pub theme: Theme,
    /// `data/aggregates.toml`, when the shop has one.
    pub aggregates: Option<crate::recommend::Aggregates>,
    /// The site path of each product's page, by product index.
    pub product_paths: Vec<String>,
    /// Each product's page in the site's other languages, by product index.
    pub translated_paths: Vec<Vec<String>>,
}

/// Loads shop.toml, the theme (for its slot, privacy and preferences templates) and the
/// products: from `options.products` in Hugo/Zola format, else from the shop's `products/`.
pub fn load(options: &Options) -> Result<Loaded, Error> {
    let root = &options.root;
    let site = crate::config::Config::load(root, None).map_err(Error::Invalid)?;
    let mut diags = Vec::new();
    let mut found: Vec<(Product, String, Vec<String>)> = Vec::new();
    match &options.products {
        Some(pattern) => {
            let files = products::glob(pattern);
            if files.is_empty() {
                return Err(Error::Invalid(Diagnostics(vec![
                    Diagnostic::new(pattern, "no product file matches this pattern").hint(
                        "give the other generator's product files, e.g. --products 'content/products/*.md' (quote it so the shell does not expand it)",
                    ),
                ])));
            }
            let (list, d) = products::read_foreign(&site, &files, &options.site);
            diags.extend(d);
            found.extend(list.into_iter().map(|f| (f.product, f.path, f.translations)));
        }
        None => {
            let (files, _) = crate::content::find_products(root);
            for (rel, bundle) in files {
                match crate::content::load_product(&site, root, &rel, bundle.as_deref()) {
                    Ok(p) => {
                        let path = format!("products/{}/", p.slug);
                        found.push((p, path, Vec::new()));
                    }
                    Err(ds) => diags.extend(ds),
                }
            }
        }
    }
    let mut path_of: HashMap<String, (String, Vec<String>)> = HashMap::new();
    let mut list = Vec::new();
    for (p, path, translations) in found {
        path_of.insert(p.sku.clone(), (path, translations));
        list.push(p);
    }
    let shop = Shop::assemble(root, site, list, Vec::new(), &[], diags, false).map_err(Error::Invalid)?;
    let (product_paths, translated_paths) =
        shop.products.iter().map(|p| path_of.remove(&p.sku).unwrap_or_default()).unzip();
    let mut theme = Theme::load(root, &shop.site.config.theme).map_err(Error::Invalid)?;
    // The theme's static files are not copied into another generator's site.
    theme.static_files.clear();
    theme.engine.add_global("site", &context::site(&shop, &theme.name));
    let aggregates = crate::build::load_aggregates(root).map_err(|e| match e {
        crate::build::BuildError::Invalid(d) => Error::Invalid(d),
        other => Error::Io(other.to_string()),
    })?;
    Ok(Loaded { shop, theme, aggregates, product_paths, translated_paths })
}

/// Where a slot's versions come from: the slot name and the job that gives its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SlotKey {
    name: String,
    kind: PageKind,
    path: String,
}

/// One page of the other generator, as it was before personalize touched it.
struct PageIn {
    /// File relative to the site folder ("products/x/index.html").
    file: String,
    /// Site path ("products/x/", "" for home, "404.html").
    path: String,
    kind: PageKind,
    html: String,
    slots: Vec<(site::Marked, SlotKey)>,
    /// A `data-cohort-page` container and the page content it receives.
    container: Option<(site::Marked, String)>,
    /// Whether personalize creates this page (privacy or preferences in a layout).
    created: bool,
    /// The page's inline scripts, styles and style attributes (before personalize).
    sources: csp::Sources,
}

/// A file personalize writes, and how.
struct Output {
    file: String,
    bytes: Vec<u8>,
    how: How,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// A new file personalize owns (listed in the manifest).
    Created,
    /// `_headers` or `_redirects` the other generator wrote: personalize's block is appended.
    Merged,
}

/// Personalizes the site folder in place. See the module documentation. The steps, each a
/// function: read the pages (`steps::read_pages`), add the notice pages, render the slots,
/// refuse clashes, plan the policy, write the pages (`finish::write_pages`), assemble the
/// site-wide files (`finish::site_files`), then write, audit and undo on failure
/// (`finish::commit`).
pub fn personalize(options: &Options) -> Result<Report, Error> {
    let start = Instant::now();
    let dir = &options.site;
    if !dir.is_dir() {
        return Err(Error::Invalid(Diagnostics(vec![
            Diagnostic::new(dir, "the site folder does not exist or is not a folder").hint(
                "build the other generator first (hugo, zola build, eleventy) and pass its output folder with --site",
            ),
        ])));
    }
    steps::refuse_links(dir)?;
    let loaded = load(options)?;
    let Loaded { shop, theme, aggregates, product_paths, translated_paths } = &loaded;
    let recs: Recommendations = crate::build::recommendations(shop, aggregates.as_ref());
    let renderer = renderer(shop, theme, product_paths, &recs)?;
    let previous = read_manifest(dir);
    let mut report = Report { products: shop.products.len(), ..Report::default() };

    // 1. Read every page of the other generator (not the files personalize created).
    let (mut pages, other_html) =
        steps::read_pages(dir, &previous, shop, product_paths, translated_paths, &mut report)?;

    // 2. The privacy notice and the preferences page, in the site's own shell if it can.
    steps::add_notice_pages(&mut pages, &renderer, shop, dir)?;

    // 3. Each distinct slot, rendered once: its default and each cohort's version.
    let versions = steps::render_slots(&pages, &renderer, &options.root)?;

    // 4. What will be created, checked first: personalize never overwrites a file of the
    //    other generator that it does not own.
    let variant_cohorts = write::variant_cohorts(shop, &pages, &versions);
    let fragments = write::fragments(&versions);
    let host_files: Vec<(&str, bool)> = [crate::output::layout::HEADERS, crate::output::layout::REDIRECTS]
        .into_iter()
        .map(|f| (f, !previous.created.contains(f) && dir.join(f).exists()))
        .collect();
    write::refuse_clashes(dir, &previous, shop, &pages, &variant_cohorts, &fragments, &host_files)?;

    // 5. The policy: one for the whole site in `_headers` when it fits, else each page's own.
    let ui = &renderer.consent_ui;
    let plan = plan_policy(&shop.site, &pages, &versions, &csp::scan(&ui.banner).0, &other_html, dir);
    report.warnings.extend(plan.warnings.iter().cloned());

    // 6. Pages and their variants, assembled and written one by one (in parallel), so the
    //    site is never held in memory whole; what was there before is kept for the undo.
    let gate = crate::gate::Gate::new(&shop.site);
    let ctx = write::Ctx { dir, shop, ui, plan: &plan, versions: &versions, gate: &gate };
    let mut done = finish::write_pages(&ctx, &pages, &variant_cohorts, &mut report);
    for f in &other_html {
        report.warnings.push(format!("{f}: not a full HTML page (no <html>, <head> or <body>); left as it is"));
    }
    report.slots = pages.iter().map(|p| p.slots.len()).sum();
    report.fragments = fragments.len();

    // 7. Fragments and the site-wide files, and the manifest of what personalize created.
    let outputs = finish::site_files(dir, &shop.site, &fragments, &plan.header, &host_files, &mut done)?;

    // 8. Write, audit, and undo if the audit fails.
    let audit = finish::commit(dir, shop, theme, &outputs, &mut done)?;
    report.removed = finish::remove_stale(dir, &previous, &done.created);
    renderer.consent_ui.save_record(&shop.root).map_err(|e| {
        Error::Io(format!(
            "cannot write the consent UI record in {}: {e}",
            shop.root.join("consent-records/ui").display()
        ))
    })?;
    report.written = done.written;
    report.audit = audit;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// The renderer of the slots, with each product's card pointing at its page in the site.
fn renderer<'a>(
    shop: &'a Shop,
    theme: &'a Theme,
    product_paths: &[String],
    recs: &'a Recommendations,
) -> Result<Renderer<'a>, Error> {
    let cards = shop
        .products
        .iter()
        .zip(product_paths)
        .map(|(p, path)| {
            let mut c = context::card_json(shop, p);
            c["url"] = serde_json::json!(shop.site.url(path));
            c["permalink"] = serde_json::json!(shop.site.permalink(path));
            minijinja::Value::from(minijinja::value::Serde(&c))
        })
        .collect();
    Renderer::with_cards(shop, theme, cards, recs).map_err(|e| Error::Invalid(Diagnostics(vec![e.to_diagnostic()])))
}

/// Writes each cohort version of `slots` as its fragment, `DIR/_cohort/f/HASH.html`
/// (content-addressed: a file already holding those bytes is left alone). Returns how many
/// distinct fragments the slots have.
pub fn write_fragments<'a>(dir: &Path, slots: impl IntoIterator<Item = &'a SlotVersions>) -> std::io::Result<usize> {
    let mut seen = BTreeSet::new();
    for v in slots {
        for (_, hash, html) in &v.cohorts {
            if !seen.insert(hash.clone()) {
                continue;
            }
            let path = dir.join("_cohort").join("f").join(format!("{hash}.html"));
            if std::fs::read(&path).is_ok_and(|b| b == html.as_bytes()) {
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, html)?;
        }
    }
    Ok(seen.len())
}
