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

pub mod products;
pub mod site;

use crate::build::Recommendations;
use crate::check::{self, Built, Ctx, Locator};
use crate::content::product::Product;
use crate::content::{Shop, slugify};
use crate::diagnostics::{Diagnostic, Diagnostics, line_col};
use crate::output::{csp, hosting, sitemap};
use crate::plan::{Job, PageKind};
use crate::render::{Renderer, SlotVersions, context};
use crate::runtime;
use crate::theme::Theme;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The manifest of what personalize created, inside the site folder.
pub const MANIFEST: &str = "_cohort/manifest.json";
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
    let by_path: HashMap<&str, usize> = product_paths.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
    let mut files: Vec<String> = walk(dir).into_iter().filter(|f| !previous.created.contains(f)).collect();
    files.sort();
    let read: Vec<Result<Option<PageIn>, Diagnostic>> = files
        .par_iter()
        .filter(|f| f.ends_with(".html") || f.ends_with(".htm"))
        .map(|f| read_page(dir, f, shop, &by_path))
        .collect();
    let mut pages = Vec::new();
    let mut diags = Vec::new();
    let mut other_html = Vec::new();
    for (r, f) in read.into_iter().zip(files.iter().filter(|f| f.ends_with(".html") || f.ends_with(".htm"))) {
        match r {
            Ok(Some(p)) => pages.push(p),
            Ok(None) => other_html.push(f.clone()),
            Err(d) => diags.push(d),
        }
    }
    if !diags.is_empty() {
        return Err(Error::Invalid(Diagnostics(diags).sorted()));
    }

    // 2. The privacy notice and the preferences page, in the site's own layout if it can.
    for (kind, path, template, title) in [
        (PageKind::Privacy, "privacy/", "privacy.html", "Privacy notice"),
        (PageKind::Preferences, "preferences/", "preferences.html", "Privacy preferences"),
    ] {
        let job = Job { kind, path: path.into(), template, inputs: Vec::new(), in_sitemap: false };
        let rendered = renderer.render(&job).map_err(|e| Error::Invalid(Diagnostics(vec![e.to_diagnostic()])))?;
        let content = site::main_content(&rendered.html).to_string();
        let page_name = path.trim_end_matches('/');
        if let Some(existing) = pages.iter_mut().find(|p| p.path == path) {
            let marks = site::find_marked(&existing.html, "data-cohort-page").unwrap_or_default();
            let Some(m) = marks.into_iter().find(|m| m.value == page_name) else {
                return Err(Error::Invalid(Diagnostics(vec![
                    Diagnostic::new(dir.join(&existing.file), format!("the site already has a page at /{path}, without a place for Cohort's {}", title.to_lowercase()))
                        .hint(format!("put an element <div data-cohort-page=\"{page_name}\"></div> where the notice goes (see docs/plugin-mode.md, step 4), or remove the page")),
                ])));
            };
            existing.kind = kind;
            existing.container = Some((m, content));
            continue;
        }
        let html = layout_page(&pages, shop, title, path, &content);
        let marked = site::find_marked(&html, "data-cohort-slot").unwrap_or_default();
        let slots = marked.into_iter().filter_map(|m| slot_key(&m, kind, path, shop).ok().map(|k| (m, k))).collect();
        pages.push(PageIn {
            file: format!("{path}index.html"),
            path: path.into(),
            kind,
            html,
            slots,
            container: None,
            created: true,
        });
    }

    // 3. Each distinct slot, rendered once: its default and each cohort's version.
    let keys: BTreeSet<&SlotKey> = pages.iter().flat_map(|p| p.slots.iter().map(|(_, k)| k)).collect();
    let rendered: Vec<(SlotKey, Result<SlotVersions, crate::render::RenderError>)> = keys
        .into_par_iter()
        .map(|k| {
            let job = Job { kind: k.kind, path: k.path.clone(), template: "", inputs: Vec::new(), in_sitemap: false };
            (k.clone(), renderer.slot_versions(&job, &k.name))
        })
        .collect();
    let mut versions: HashMap<SlotKey, SlotVersions> = HashMap::new();
    let mut errors = Vec::new();
    for (k, r) in rendered {
        match r {
            Ok(v) => {
                versions.insert(k, v);
            }
            Err(e) => errors.push(format!("slot `{}` (/{}): {e}", k.name, k.path)),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(Diagnostics(
            errors
                .into_iter()
                .map(|e| {
                    Diagnostic::new(options.root.join("templates/slots"), e)
                        .hint("check the slot templates of the theme and the products they show")
                })
                .collect(),
        )));
    }

    // 4. What will be created, checked first: personalize never overwrites a file of the
    //    other generator that it does not own.
    let variant_kinds: BTreeSet<&str> = shop.site.page_variant_kinds().collect();
    let variant_cohorts: Vec<Vec<&str>> = pages
        .iter()
        .map(|page| {
            let wants = matches!(page.kind, PageKind::Home | PageKind::Category(..))
                && variant_kinds.contains(page.kind.name());
            if !wants {
                return Vec::new();
            }
            shop.site
                .config
                .cohorts
                .iter()
                .map(|c| c.id.get_ref().as_str())
                .filter(|id| {
                    page.slots
                        .iter()
                        .any(|(_, k)| versions.get(k).is_some_and(|v| v.cohorts.iter().any(|(cid, _, _)| cid == id)))
                })
                .collect()
        })
        .collect();
    let mut fragments: BTreeMap<&str, &str> = BTreeMap::new();
    for v in versions.values() {
        for (_, hash, html) in &v.cohorts {
            fragments.insert(hash, html);
        }
    }
    let host_files: Vec<(&str, bool)> = [crate::output::layout::HEADERS, crate::output::layout::REDIRECTS]
        .into_iter()
        .map(|f| (f, !previous.created.contains(f) && dir.join(f).exists()))
        .collect();
    let s = &shop.site;
    let mut planned: Vec<String> = pages.iter().filter(|p| p.created).map(|p| p.file.clone()).collect();
    for (page, ids) in pages.iter().zip(&variant_cohorts) {
        planned.extend(ids.iter().map(|id| crate::output::layout::variant(id, &page.file)));
    }
    planned.extend(fragments.keys().map(|h| crate::output::layout::fragment(h)));
    planned.push(crate::output::layout::RUNTIME.into());
    if s.config.privacy.honor_gpc {
        planned.push(crate::output::layout::GPC.into());
    }
    planned.extend(host_files.iter().filter(|(_, theirs)| !theirs).map(|(f, _)| f.to_string()));
    let clashes: Vec<Diagnostic> = planned
        .iter()
        .filter(|f| !previous.created.contains(*f) && dir.join(f).exists())
        .map(|f| {
            Diagnostic::new(dir.join(f), "personalize needs to write this file, but it belongs to the site").hint(
                "rename or remove it in the other generator's sources (Cohort owns /cohort.js, /_cohort/, /c/, /privacy/ and /preferences/ unless they carry a data-cohort-page container, /.well-known/gpc.json)",
            )
        })
        .collect();
    if !clashes.is_empty() {
        return Err(Error::Invalid(Diagnostics(clashes)));
    }

    // 5. Pages and their variants, assembled and written one by one (in parallel), so the
    //    site is never held in memory whole; what was there before is kept for the undo.
    let ui = &renderer.consent_ui;
    let written_pages: Vec<PageWrite> = pages
        .par_iter()
        .zip(&variant_cohorts)
        .map(|(page, ids)| {
            let mut w = PageWrite::default();
            let interests = crate::render::page_interests(shop, page.kind);
            let block = format!(
                "{}{}\n<script type=\"application/json\" id=\"cohort-config\">{}</script>\n<script src=\"{}cohort.js\" defer></script>{}",
                site::BEGIN,
                ui.banner.trim_end(),
                runtime::page_config(shop, &ui.hash, &interests),
                s.base_path,
                site::END
            );
            let html = assemble(page, &versions, None, &block);
            w.put(dir, &page.file, html, page.created);
            for id in ids {
                let html = assemble(page, &versions, Some(id), &block);
                let mut head = String::new();
                if !site::head_has(&html, "name=\"robots\"") {
                    head.push_str("<meta name=\"robots\" content=\"noindex\">\n");
                }
                if !site::head_has(&html, "rel=\"canonical\"") {
                    head.push_str(&format!("<link rel=\"canonical\" href=\"{}\">\n", s.permalink(&page.path)));
                }
                // A page without </head> gets its noindex tag at the top.
                let html = site::insert_in_head(&html, &head).unwrap_or_else(|| format!("{head}{html}"));
                w.put(dir, &crate::output::layout::variant(id, &page.file), html, true);
                w.routes.push((id.to_string(), page.path.clone()));
            }
            w
        })
        .collect();
    let mut undo: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    let mut routes = Vec::new();
    let mut hashes: BTreeSet<String> = BTreeSet::new();
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
        hashes.extend(w.scripts);
        created_hashes.extend(w.created);
        write_errors.extend(w.error);
    }
    for f in &other_html {
        if let Ok(text) = std::fs::read_to_string(dir.join(f)) {
            hashes.extend(csp::inline_script_hashes(&text));
        }
        report.warnings.push(format!("{f}: not a full HTML page (no <html>, <head> or <body>); left as it is"));
    }
    report.slots = pages.iter().map(|p| p.slots.len()).sum();
    report.fragments = fragments.len();

    // 6. Fragments and the site-wide files.
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
    if s.config.privacy.honor_gpc {
        outputs.push(Output {
            file: crate::output::layout::GPC.into(),
            bytes: sitemap::gpc(s).into_bytes(),
            how: How::Created,
        });
    }
    let policy = csp::policy(s, &hashes);
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

    // 7. Write, audit, and undo if the audit fails.
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

/// What writing one page and its variants did.
#[derive(Default)]
struct PageWrite {
    /// (path, previous bytes) of each file written.
    undo: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// CSP hashes of the inline scripts of what was written.
    scripts: Vec<String>,
    /// Created files and the hash of their bytes (for the manifest).
    created: Vec<(String, String)>,
    routes: Vec<(String, String)>,
    written: usize,
    error: Option<String>,
}

impl PageWrite {
    fn put(&mut self, dir: &Path, file: &str, html: String, created: bool) {
        if self.error.is_some() {
            return;
        }
        self.scripts.extend(csp::inline_script_hashes(&html));
        if created {
            self.created.push((file.to_string(), crate::cohorts::fragment_hash(&html)));
        }
        match write_file(dir, file, html.as_bytes(), &mut self.undo) {
            Ok(wrote) => self.written += usize::from(wrote),
            Err(e) => self.error = Some(e),
        }
    }
}

/// Writes `bytes` at `rel` unless the file already holds them; records (path, previous
/// bytes) in `undo` before it writes. Returns whether it wrote.
fn write_file(dir: &Path, rel: &str, bytes: &[u8], undo: &mut Vec<(PathBuf, Option<Vec<u8>>)>) -> Result<bool, String> {
    let path = safe_join(dir, rel)?;
    let old = std::fs::read(&path).ok();
    if old.as_deref() == Some(bytes) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    undo.push((path.clone(), old));
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(true)
}

/// Reads one HTML file: None when it is not a full page (no `<html>`, `<head>` or `<body>`).
fn read_page(
    dir: &Path,
    file: &str,
    shop: &Shop,
    by_path: &HashMap<&str, usize>,
) -> Result<Option<PageIn>, Diagnostic> {
    let shown = dir.join(file);
    let Ok(bytes) = std::fs::read(&shown) else {
        return Err(Diagnostic::new(&shown, "cannot read the file").hint("check its permissions"));
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
    let marked = site::find_marked(&html, "data-cohort-slot").map_err(at)?;
    let mut slots = Vec::new();
    for m in marked {
        let key = slot_key(&m, kind, &path, shop)
            .map_err(|(msg, hint)| at(site::MarkError { offset: m.start, message: msg, hint }))?;
        slots.push((m, key));
    }
    Ok(Some(PageIn { file: file.to_string(), path, kind, html, slots, container: None, created: false }))
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

/// The page with its slots filled (the default, or `cohort`'s versions on a variant), its
/// container filled, and the injected block.
fn assemble(page: &PageIn, versions: &HashMap<SlotKey, SlotVersions>, cohort: Option<&str>, block: &str) -> String {
    let html = &page.html;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (m, key) in &page.slots {
        let Some(v) = versions.get(key) else { continue };
        let keys: Vec<(String, String)> = v.cohorts.iter().map(|(c, h, _)| (c.clone(), h.clone())).collect();
        let mut extra = site::keys_attr(&keys);
        let mut content = v.default_html.as_str();
        if let Some(id) = cohort {
            extra.push_str(&format!(" data-cohort-shown=\"{id}\""));
            if let Some((_, _, h)) = v.cohorts.iter().find(|(c, _, _)| c == id) {
                content = h;
            }
        }
        let tag = site::start_tag_with(html, m, &extra);
        edits.push((m.start, m.inner_end, format!("{tag}{content}")));
    }
    if let Some((m, content)) = &page.container {
        edits.push((m.inner_start, m.inner_end, content.clone()));
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(html.len() + 4096);
    let mut at = 0;
    for (s, e, text) in edits {
        if s < at {
            continue;
        }
        out.push_str(&html[at..s]);
        out.push_str(&text);
        at = e;
    }
    out.push_str(&html[at..]);
    site::inject(&out, block)
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
        let body = site::drop_page_meta(&site::replace_title(&body, &html_escape(&full_title)));
        let canonical = format!("<link rel=\"canonical\" href=\"{}\">\n", s.permalink(path));
        if let Some(with_head) = site::insert_in_head(&body, &canonical) {
            return with_head;
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<link rel=\"canonical\" href=\"{canon}\">\n</head>\n<body>\n<main id=\"main\">\n{content}\n</main>\n<p><a href=\"{home}\">{shop}</a></p>\n</body>\n</html>\n",
        lang = html_escape(&s.config.language),
        t = html_escape(&full_title),
        canon = s.permalink(path),
        home = s.url(""),
        shop = html_escape(&s.config.title),
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Every file under `dir`, relative, with `/` separators.
fn walk(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| Some(e.path().strip_prefix(dir).ok()?.to_string_lossy().replace('\\', "/")))
        .collect()
}

/// What a previous run created and still owns.
#[derive(Default)]
struct Manifest {
    /// Files listed in the manifest whose bytes are still those personalize wrote (a file
    /// the other generator wrote over since then is the site's again), and the manifest.
    created: BTreeSet<String>,
}

fn read_manifest(dir: &Path) -> Manifest {
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else { return Manifest::default() };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { return Manifest::default() };
    let listed: Vec<(String, String)> = value
        .get("created")
        .and_then(|c| c.as_object())
        .map(|m| {
            m.iter()
                .filter(|(f, _)| safe_rel(f))
                .filter_map(|(f, h)| Some((f.clone(), h.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut created: BTreeSet<String> = listed
        .par_iter()
        .filter(|(f, hash)| {
            std::fs::read(dir.join(f))
                .is_ok_and(|bytes| crate::cohorts::fragment_hash(&String::from_utf8_lossy(&bytes)) == *hash)
        })
        .map(|(f, _)| f.clone())
        .collect();
    created.insert(MANIFEST.to_string());
    Manifest { created }
}

/// The manifest: each file personalize created with the hash of its bytes, and the files of
/// the site it appended a block to.
fn manifest_json(created: &BTreeMap<String, String>, merged: &BTreeSet<String>) -> String {
    let v = serde_json::json!({
        "version": 1,
        "about": "Written by `cohort personalize`: the files it created (with the first 64 bits of the sha256 of their bytes; it replaces or removes them on the next run unless they changed since) and the files of the site it appended a block to.",
        "created": created,
        "merged": merged,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn strip_host_block(text: &str) -> String {
    let Some(b) = text.find(HOST_BEGIN) else { return text.to_string() };
    let e = text[b..].find(HOST_END).map_or(text.len(), |e| b + e + HOST_END.len());
    let e = if text[e..].starts_with('\n') { e + 1 } else { e };
    format!("{}{}", &text[..b], &text[e..])
}

fn safe_rel(rel: &str) -> bool {
    !(rel.is_empty()
        || rel.starts_with('/')
        || rel.contains('\\')
        || rel.contains('\0')
        || rel.split('/').any(|p| p == ".."))
}

fn safe_join(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    if safe_rel(rel) { Ok(dir.join(rel)) } else { Err(format!("refusing to write outside the site folder: {rel}")) }
}

fn rollback(dir: &Path, undo: Vec<(PathBuf, Option<Vec<u8>>)>) {
    for (path, old) in undo.into_iter().rev() {
        match old {
            Some(bytes) => {
                let _ = std::fs::write(&path, bytes);
            }
            None => {
                let _ = std::fs::remove_file(&path);
                remove_empty_parents(dir, &path);
            }
        }
    }
}

fn remove_empty_parents(dir: &Path, path: &Path) {
    let mut p = path.parent();
    while let Some(d) = p {
        if d == dir || !d.starts_with(dir) || std::fs::remove_dir(d).is_err() {
            break;
        }
        p = d.parent();
    }
}
