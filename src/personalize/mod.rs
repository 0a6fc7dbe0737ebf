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
mod front;
mod policy;
pub mod products;
pub mod site;
mod steps;
mod write;

use files::{manifest_json, read_manifest, remove_empty_parents, rollback, safe_join, strip_host_block, write_file};
use policy::plan_policy;

use crate::build::Recommendations;
use crate::check::{self, Built, Ctx, Locator};
use crate::content::product::Product;
use crate::content::{Shop, slugify};
use crate::diagnostics::{Diagnostic, Diagnostics, line_col};
use crate::output::{csp, hosting, sitemap};
use crate::plan::PageKind;
use crate::render::{Renderer, SlotVersions, context};
use crate::runtime;
use crate::theme::Theme;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

#[derive(Debug, Default)]
pub struct Report {
    /// HTML pages of the other generator that carry the runtime.
    pub pages: usize,
    pub slots: usize,
    pub fragments: usize,
    pub variants: usize,
    pub products: usize,
    /// Files written (created or changed) and files removed (no longer needed).
    pub written: usize,
    pub removed: usize,
    /// Notes for the merchant: skipped files, audit warnings.
    pub warnings: Vec<String>,
    /// The privacy audit of the result (warnings only when personalize succeeded).
    pub audit: check::Report,
    pub elapsed: Duration,
}

#[derive(Debug)]
pub enum Error {
    /// Problems in the shop's files or the site's templates, each with its place.
    Invalid(Diagnostics),
    /// The privacy audit found errors; nothing was changed.
    Refused(check::Report),
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
    pub shop: Shop,
    pub theme: Theme,
    pub aggregates: Option<crate::recommend::Aggregates>,
    /// The site path of each product's page, by product index.
    pub product_paths: Vec<String>,
}

/// Loads shop.toml, the theme (for its slot, privacy and preferences templates) and the
/// products: from `options.products` in Hugo/Zola format, else from the shop's `products/`.
pub fn load(options: &Options) -> Result<Loaded, Error> {
    let root = &options.root;
    let site = crate::config::Config::load(root, None).map_err(Error::Invalid)?;
    let mut diags = Vec::new();
    let mut found: Vec<(Product, String)> = Vec::new();
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
            found.extend(list.into_iter().map(|f| (f.product, f.path)));
        }
        None => {
            let (files, _) = crate::content::find_products(root);
            for (rel, bundle) in files {
                match crate::content::load_product(&site, root, &rel, bundle.as_deref()) {
                    Ok(p) => {
                        let path = format!("products/{}/", p.slug);
                        found.push((p, path));
                    }
                    Err(ds) => diags.extend(ds),
                }
            }
        }
    }
    let mut path_of: HashMap<String, String> = HashMap::new();
    let mut list = Vec::new();
    for (p, path) in found {
        path_of.insert(p.sku.clone(), path);
        list.push(p);
    }
    let shop = Shop::assemble(root, site, list, Vec::new(), &[], diags, false).map_err(Error::Invalid)?;
    let product_paths = shop.products.iter().map(|p| path_of.get(&p.sku).cloned().unwrap_or_default()).collect();
    let mut theme = Theme::load(root, &shop.site.config.theme).map_err(Error::Invalid)?;
    // The theme's static files are not copied into another generator's site.
    theme.static_files.clear();
    theme.engine.add_global("site", &context::site(&shop, &theme.name));
    let aggregates = crate::build::load_aggregates(root).map_err(|e| match e {
        crate::build::BuildError::Invalid(d) => Error::Invalid(d),
        other => Error::Io(other.to_string()),
    })?;
    Ok(Loaded { shop, theme, aggregates, product_paths })
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

/// Personalizes the site folder in place. See the module documentation.
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
    let Loaded { shop, theme, aggregates, product_paths } = &loaded;
    let recs: Recommendations = crate::build::recommendations(shop, aggregates.as_ref());
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
    let renderer = Renderer::with_cards(shop, theme, cards, &recs)
        .map_err(|e| Error::Invalid(Diagnostics(vec![e.to_diagnostic()])))?;
    let previous = read_manifest(dir);
    let mut report = Report { products: shop.products.len(), ..Report::default() };

    // 1. Read every page of the other generator (not the files personalize created).
    let (mut pages, other_html) = steps::read_pages(dir, &previous, shop, product_paths, &mut report)?;

    // 2. The privacy notice and the preferences page, in the site's own layout if it can.
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
    let s = &shop.site;
    write::refuse_clashes(dir, &previous, shop, &pages, &variant_cohorts, &fragments, &host_files)?;

    // 5. The policy: one for the whole site in `_headers` when it fits, else each page's own.
    let ui = &renderer.consent_ui;
    let plan = plan_policy(s, &pages, &versions, &csp::scan(&ui.banner).0, &other_html, dir);
    report.warnings.extend(plan.warnings.iter().cloned());

    // 6. Pages and their variants, assembled and written one by one (in parallel), so the
    //    site is never held in memory whole; what was there before is kept for the undo.
    let gate = crate::gate::Gate::new(s);
    let ctx = write::Ctx { dir, shop, ui, plan: &plan, versions: &versions, gate: &gate };
    let written_pages: Vec<write::PageWrite> =
        pages.par_iter().zip(&variant_cohorts).map(|(page, ids)| write::page(&ctx, page, ids)).collect();
    let mut undo: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    let mut routes = Vec::new();
    let mut created_hashes: BTreeMap<String, String> = BTreeMap::new();
    let mut write_errors = Vec::new();
    let mut written = 0;
    for (page, w) in pages.iter().zip(written_pages) {
        if !page.created {
            report.pages += 1;
        }
        report.variants += w.routes.len();
        written += w.written;
        undo.extend(w.undo);
        routes.extend(w.routes);
        created_hashes.extend(w.created);
        write_errors.extend(w.error);
    }
    for f in &other_html {
        report.warnings.push(format!("{f}: not a full HTML page (no <html>, <head> or <body>); left as it is"));
    }
    report.slots = pages.iter().map(|p| p.slots.len()).sum();
    report.fragments = fragments.len();

    // 7. Fragments and the site-wide files.
    routes.sort();
    routes.dedup();
    let mut outputs: Vec<Output> = fragments
        .iter()
        .map(|(hash, html)| Output {
            file: crate::output::layout::fragment(hash),
            bytes: html.as_bytes().to_vec(),
            how: How::Created,
        })
        .collect();
    outputs.push(Output {
        file: crate::output::layout::RUNTIME.into(),
        bytes: runtime::script().as_bytes().to_vec(),
        how: How::Created,
    });
    for (file, script) in runtime::extra_scripts(&s.config.privacy) {
        outputs.push(Output { file: file.into(), bytes: script.as_bytes().to_vec(), how: How::Created });
    }
    if let Some((file, list)) = runtime::cohorts_file(s) {
        outputs.push(Output { file: file.into(), bytes: list.into_bytes(), how: How::Created });
    }
    outputs.push(Output { file: STYLESHEET.into(), bytes: BANNER_CSS.as_bytes().to_vec(), how: How::Created });
    if s.config.privacy.honor_gpc {
        outputs.push(Output {
            file: crate::output::layout::GPC.into(),
            bytes: sitemap::gpc(s).into_bytes(),
            how: How::Created,
        });
    }
    let policy = plan.header.clone();
    for ((file, theirs), text) in
        host_files.iter().zip([hosting::headers(s, &routes, &policy), hosting::redirects(s, &routes)])
    {
        if *theirs {
            let existing =
                std::fs::read_to_string(dir.join(file)).map_err(|e| Error::Io(format!("cannot read {file}: {e}")))?;
            let mut merged = strip_host_block(&existing);
            if !merged.is_empty() && !merged.ends_with('\n') {
                merged.push('\n');
            }
            merged.push_str(&format!("{HOST_BEGIN}\n{text}{HOST_END}\n"));
            outputs.push(Output { file: file.to_string(), bytes: merged.into_bytes(), how: How::Merged });
        } else {
            outputs.push(Output { file: file.to_string(), bytes: text.into_bytes(), how: How::Created });
        }
    }
    for o in outputs.iter().filter(|o| o.how == How::Created) {
        created_hashes.insert(o.file.clone(), crate::cohorts::fragment_hash(&String::from_utf8_lossy(&o.bytes)));
    }
    let created: BTreeSet<String> = created_hashes.keys().cloned().chain([MANIFEST.to_string()]).collect();
    let merged: BTreeSet<String> = outputs.iter().filter(|o| o.how == How::Merged).map(|o| o.file.clone()).collect();
    outputs.push(Output {
        file: MANIFEST.into(),
        bytes: manifest_json(&created_hashes, &merged).into_bytes(),
        how: How::Created,
    });

    // 8. Write, audit, and undo if the audit fails.
    for o in &outputs {
        if !write_errors.is_empty() {
            break;
        }
        match write_file(dir, &o.file, &o.bytes, &mut undo) {
            Ok(wrote) => written += usize::from(wrote),
            Err(e) => write_errors.push(e),
        }
    }
    if let Some(e) = write_errors.into_iter().next() {
        rollback(dir, undo);
        return Err(Error::Io(e));
    }
    let built = Built::scan(dir);
    let locator = Locator::new(shop, theme);
    let ctx = Ctx::new(shop, &locator, &built);
    let audit = check::Report::finish(check::privacy::audit(&ctx));
    if audit.errors() > 0 {
        rollback(dir, undo);
        return Err(Error::Refused(audit));
    }
    let mut removed = 0;
    for stale in previous.created.iter().filter(|f| !created.contains(*f)) {
        if let Ok(path) = safe_join(dir, stale)
            && std::fs::remove_file(&path).is_ok()
        {
            removed += 1;
            remove_empty_parents(dir, &path);
        }
    }
    renderer.consent_ui.save_record(&shop.root).map_err(|e| {
        Error::Io(format!(
            "cannot write the consent UI record in {}: {e}",
            shop.root.join("consent-records/ui").display()
        ))
    })?;
    report.written = written;
    report.removed = removed;
    report.audit = audit;
    report.elapsed = start.elapsed();
    Ok(report)
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

/// Reads one HTML file: None when it is not a full page (no `<html>`, `<head>` or `<body>`).
fn read_page(
    dir: &Path,
    file: &str,
    shop: &Shop,
    by_path: &HashMap<&str, usize>,
) -> Result<Option<PageIn>, Vec<Diagnostic>> {
    let shown = dir.join(file);
    let Ok(bytes) = std::fs::read(&shown) else {
        return Err(vec![Diagnostic::new(&shown, "cannot read the file").hint("check its permissions")]);
    };
    let Ok(text) = String::from_utf8(bytes) else { return Ok(None) };
    let lower_has = |tag: &str| text.as_bytes().windows(tag.len()).any(|w| w.eq_ignore_ascii_case(tag.as_bytes()));
    if !(lower_has("<html") || lower_has("<body") || lower_has("<head")) {
        return Ok(None);
    }
    let html = site::strip(&text);
    let path = match file.strip_suffix("index.html") {
        Some(p) if p.is_empty() || p.ends_with('/') => p.to_string(),
        _ => file.to_string(),
    };
    let kind = classify(&path, shop, by_path);
    let at = |e: site::MarkError| {
        let (line, col) = line_col(&html, e.offset);
        Diagnostic::new(&shown, e.message).at_line(line, col, html.lines().nth(line - 1)).hint(e.hint)
    };
    let (sources, findings) = csp::scan(&html);
    let mut errors: Vec<Diagnostic> = findings
        .into_iter()
        .map(|f| at(site::MarkError { offset: f.offset, message: f.message, hint: f.fix }))
        .collect();
    let mut slots = Vec::new();
    match site::find_marked(&html, "data-cohort-slot") {
        Ok(marked) => {
            for m in marked {
                match slot_key(&m, kind, &path, shop) {
                    Ok(key) => slots.push((m, key)),
                    Err((message, hint)) => errors.push(at(site::MarkError { offset: m.start, message, hint })),
                }
            }
        }
        Err(e) => errors.push(at(e)),
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(PageIn { file: file.to_string(), path, kind, html, slots, container: None, created: false, sources }))
}

/// The page kind of a site path: home, a product page (by its URL), a category or tag
/// listing (`categories/NAME/`, `tags/NAME/`, `.../page/N/`), 404, or any other page.
fn classify(path: &str, shop: &Shop, by_path: &HashMap<&str, usize>) -> PageKind {
    if path.is_empty() {
        return PageKind::Home;
    }
    if path == "404.html" {
        return PageKind::NotFound;
    }
    if let Some(&i) = by_path.get(path) {
        return PageKind::Product(i);
    }
    for (prefix, taxa, is_cat) in [("categories/", &shop.categories, true), ("tags/", &shop.tags, false)] {
        let Some(rest) = path.strip_prefix(prefix) else { continue };
        let mut parts = rest.trim_end_matches('/').split('/');
        let slug = parts.next().unwrap_or_default();
        let page = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => Some(1),
            (Some("page"), Some(n), None) => n.parse().ok(),
            _ => None,
        };
        if let (Some(t), Some(n)) = (taxa.iter().position(|t| t.slug == slugify(slug)), page) {
            return if is_cat { PageKind::Category(t, n) } else { PageKind::Tag(t, n) };
        }
    }
    PageKind::Page(0)
}

/// Which data a marked slot shows: `hero` and `picks` anywhere, `copy` on a product page
/// (or any page, with `data-cohort-sku`), `grid` on a category or tag listing.
fn slot_key(m: &site::Marked, kind: PageKind, path: &str, shop: &Shop) -> Result<SlotKey, (String, String)> {
    let name = m.value.as_str();
    let generic = match kind {
        PageKind::Home => PageKind::Home,
        _ => PageKind::Page(0),
    };
    match name {
        "hero" | "picks" => Ok(SlotKey { name: name.into(), kind: generic, path: String::new() }),
        "copy" => {
            let product = match m.attr("data-cohort-sku") {
                Some(sku) => shop.products.iter().position(|p| p.sku == sku).ok_or_else(|| {
                    (
                        format!("slot `copy` names SKU `{sku}`, which no product has"),
                        "check the sku in the product's front matter".to_string(),
                    )
                })?,
                None => match kind {
                    PageKind::Product(i) => i,
                    _ => {
                        return Err((
                            format!("slot `copy` on /{path}, which is not a product page"),
                            "use it in the product template, or name the product: data-cohort-sku=\"SKU\"".into(),
                        ));
                    }
                },
            };
            Ok(SlotKey { name: name.into(), kind: PageKind::Product(product), path: path.into() })
        }
        "grid" => match kind {
            PageKind::Category(..) | PageKind::Tag(..) => Ok(SlotKey { name: name.into(), kind, path: path.into() }),
            _ => Err((
                format!("slot `grid` on /{path}, which is not a category or tag listing"),
                "use it in the taxonomy term template (categories/NAME/ or tags/NAME/)".into(),
            )),
        },
        other => {
            let known: Vec<&str> = crate::cohorts::slots::SLOTS.iter().map(|(n, _)| *n).collect();
            let hint = match crate::diagnostics::suggest(other, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? The slots are: {}", known.join(", ")),
                None => format!("the slots are: {}", known.join(", ")),
            };
            Err((format!("unknown slot `{other}`"), hint))
        }
    }
}

/// A page for `content` in the site's own layout: the home page (else the first page) with
/// a `data-cohort-main` element, its content replaced; else a minimal page.
fn layout_page(pages: &[PageIn], shop: &Shop, title: &str, path: &str, content: &str) -> String {
    let s = &shop.site;
    let full_title = format!("{title} · {}", s.config.title);
    let mut candidates: Vec<&PageIn> = pages.iter().filter(|p| !p.created).collect();
    candidates.sort_by_key(|p| (!p.path.is_empty(), p.file.clone()));
    for p in candidates {
        let Ok(marks) = site::find_marked(&p.html, "data-cohort-main") else { continue };
        let Some(m) = marks.first() else { continue };
        // The layout without the other page's slots (their keys belong to that page).
        let body = format!("{}{}{}", &p.html[..m.inner_start], format_args!("\n{content}\n"), &p.html[m.inner_end..]);
        let body = site::drop_page_meta(&site::replace_title(&body, &crate::html::escape(&full_title)));
        let canonical = format!("<link rel=\"canonical\" href=\"{}\">\n", s.permalink(path));
        if let Some(with_head) = site::insert_in_head(&body, &canonical) {
            return with_head;
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<link rel=\"canonical\" href=\"{canon}\">\n</head>\n<body>\n<main id=\"main\">\n{content}\n</main>\n<p><a href=\"{home}\">{shop}</a></p>\n</body>\n</html>\n",
        lang = crate::html::escape(&s.config.language),
        t = crate::html::escape(&full_title),
        canon = s.permalink(path),
        home = s.url(""),
        shop = crate::html::escape(&s.config.title),
    )
}
