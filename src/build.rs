//! `cohort build`: load → validate → plan → render (in parallel) → write (atomically).

use crate::content::{LoadOptions, Shop};
use crate::diagnostics::Diagnostics;
use crate::output::writer::{Staging, Stamp};
use crate::output::{csp, hosting, layout, sitemap};
use crate::plan::{Job, PageKind, Plan};
use crate::recommend;
use crate::render::{RenderError, RenderedPage, Renderer, context};
use crate::theme::Theme;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod error;
pub mod memo;
mod phases;
mod recommendations;
pub mod signature;

pub use error::{BuildError, IoError};
pub use phases::Phases;
pub use recommendations::{Recommendations, items, recommendations, recommendations_for};

/// What to build and how.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The shop folder (with shop.toml).
    pub root: PathBuf,
    /// Default `ROOT/public`.
    pub output: Option<PathBuf>,
    /// Replaces `base_url` from shop.toml (`--base-url`).
    pub base_url: Option<String>,
    /// Include drafts (`--drafts`).
    pub drafts: bool,
    /// Worker threads; 0 = one per core.
    pub jobs: usize,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
    /// Replace a built site even when the shop has no products (`--allow-empty`).
    pub allow_empty: bool,
    /// The process exits once the build returns (`cohort build`): the build's data is left
    /// to the operating system instead of being freed value by value (half a second at
    /// 100,000 products).
    pub exit_after: bool,
}

/// What a build wrote.
#[derive(Debug)]
pub struct BuildReport {
    /// The output folder.
    pub output: PathBuf,
    /// Pages in the output.
    pub pages: usize,
    /// Of those, how many were kept from the last build without rendering (their inputs
    /// did not change: see `memo`).
    pub unchanged: usize,
    /// Full-page cohort variants written.
    pub variants: usize,
    /// Distinct slot fragments written.
    pub fragments: usize,
    /// Static and bundle files copied.
    pub static_files: usize,
    /// Products in the catalog.
    pub products: usize,
    /// Source images published (`crate::images`).
    pub images: usize,
    /// Of those, how many were decoded and encoded by this build (the others came from the
    /// image cache).
    pub images_decoded: usize,
    /// Probable mistakes that did not stop the build.
    pub warnings: Vec<crate::diagnostics::Diagnostic>,
    /// Wall time of the whole build.
    pub elapsed: Duration,
}

/// Everything loaded and computed before rendering: the input to [`write_site`].
pub struct Prepared {
    /// The loaded catalog and settings.
    pub shop: Shop,
    /// The theme, with the shop's overrides.
    pub theme: Theme,
    /// Every page to render.
    pub plan: Plan,
    /// `data/aggregates.toml`, when the merchant has one.
    pub aggregates: Option<recommend::Aggregates>,
}

/// Loads and validates the shop, its theme and its aggregates, and plans the pages.
pub fn load(options: &BuildOptions) -> Result<Prepared, BuildError> {
    load_with(options, &Phases::quiet())
}

/// [`load`], saying each phase's end on `phases`.
pub fn load_with(options: &BuildOptions, phases: &Phases) -> Result<Prepared, BuildError> {
    let load = LoadOptions { drafts: options.drafts, base_url: options.base_url.as_deref() };
    let mut shop = Shop::load(&options.root, &load).map_err(BuildError::Invalid)?;
    phases.done(|| format!("read {} products and {} pages", shop.products.len(), shop.pages.len()));
    let mut theme = Theme::load(&options.root, &shop.site.config.theme).map_err(BuildError::Invalid)?;
    check_static_files(&options.root, &shop.site, &theme)?;
    phases.done(|| format!("loaded theme {}", theme.name));
    shop.images = process_images(&shop, &theme)?;
    if !shop.images.is_empty() {
        phases.done(|| format!("published {} images ({} processed)", shop.images.len(), shop.images.decoded));
    }
    theme.engine.add_global("site", &context::site(&shop, &theme.name));
    let plan = Plan::new(&shop, |t| theme.templates.contains_key(t));
    let aggregates = load_aggregates(&options.root)?;
    phases.done(|| format!("planned {} pages", plan.jobs.len()));
    Ok(Prepared { shop, theme, plan, aggregates })
}

/// Publishes the shop's images through the image cache (`crate::images`): decodes and
/// encodes only what the cache does not hold; one diagnostic per bad image.
pub fn process_images(shop: &Shop, theme: &Theme) -> Result<crate::images::Catalog, BuildError> {
    let (sources, mut diags) = crate::images::sources(shop, theme);
    let settings = crate::images::Settings::from_config(&shop.site.config.images);
    match crate::images::process(&shop.root, &sources, &settings) {
        Ok(catalog) if diags.is_empty() => Ok(catalog),
        Ok(_) => Err(BuildError::Invalid(diags.sorted())),
        Err(more) => {
            diags.0.extend(more.0);
            Err(BuildError::Invalid(diags.sorted()))
        }
    }
}

/// Fails with one diagnostic per file shop.toml names that neither the shop's `static/` nor
/// the theme has: the hero images (the shop's and each cohort's) and the favicon, as a missing
/// product image does.
pub fn check_static_files(root: &Path, site: &crate::config::Site, theme: &Theme) -> Result<(), BuildError> {
    let config = &site.config;
    let heroes = config
        .hero
        .iter()
        .map(|h| (0, h))
        .chain(config.cohorts.iter().filter_map(|c| c.hero.as_ref().map(|h| (c.id.span().start, h))))
        .filter_map(|(from, h)| h.image.as_deref().map(|image| (from, "hero image", image)));
    let favicon = (!config.favicon.is_empty()).then_some((0, "favicon", config.favicon.as_str()));
    let source = std::fs::read_to_string(root.join("shop.toml")).unwrap_or_default();
    let mut diags = Diagnostics::default();
    for (from, what, name) in heroes.chain(favicon) {
        let path = name.trim_start_matches('/');
        if theme.static_files.contains_key(path) {
            continue;
        }
        let quoted = format!("\"{name}\"");
        let d = crate::diagnostics::Diagnostic::new(
            "shop.toml",
            format!("{what} `{name}` does not exist (looked for static/{path})"),
        )
        .hint("put the image in static/, or fix the name");
        diags.push(match source.get(from..).and_then(|rest| rest.find(&quoted)) {
            Some(at) => d.at_offset(&source, from + at, 1),
            None => d,
        });
    }
    if diags.is_empty() { Ok(()) } else { Err(BuildError::Invalid(diags.sorted())) }
}

/// `data/aggregates.toml`, when the merchant has one.
pub fn load_aggregates(root: &Path) -> Result<Option<recommend::Aggregates>, BuildError> {
    recommend::load(&root.join("data/aggregates.toml")).map_err(|e| {
        BuildError::Invalid(Diagnostics(vec![crate::diagnostics::Diagnostic::new("data/aggregates.toml", e).hint(
            "regenerate it with `cohort aggregate --orders FILE.csv`, or delete it to recommend from the catalog alone",
        )]))
    })
}

/// `cohort build`: loads, renders and swaps the new output in atomically.
pub fn build(options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let run = || -> Result<BuildReport, BuildError> {
        let start = Instant::now();
        let phases = Phases::new(options.progress);
        let prepared = load_with(options, &phases)?;
        let output = options.output.clone().unwrap_or_else(|| options.root.join("public"));
        if !options.allow_empty {
            refuse_empty_over_built(&prepared.shop, &output)?;
        }
        let mut report = write_into(&prepared, &output, &phases, Some(&options.root), options.exit_after)?;
        report.elapsed = start.elapsed();
        if options.exit_after {
            std::mem::forget(prepared);
        }
        Ok(report)
    };
    if options.jobs > 0 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs)
            .build()
            .map_err(|e| BuildError::io("cannot start the worker threads", "", std::io::Error::other(e)))?;
        pool.install(run)
    } else {
        run()
    }
}

/// An empty catalog (no or an empty `products/`, every product a draft) must not replace a
/// built site with products by accident: a live shop would become an empty one. (An output
/// that is already empty of products, built with `--allow-empty`, may be rebuilt.)
fn refuse_empty_over_built(shop: &Shop, output: &Path) -> Result<(), BuildError> {
    let has_products = std::fs::read_dir(output.join("products")).is_ok_and(|mut entries| entries.next().is_some());
    if !shop.products.is_empty() || !has_products {
        return Ok(());
    }
    let message = format!(
        "the shop has no products (products/ is missing or empty, or every product is a draft), and {} holds a site with products: refusing to replace it with an empty shop",
        output.display()
    );
    let hint = "add products to products/, or pass --allow-empty to publish a shop without products";
    Err(BuildError::Invalid(Diagnostics(vec![crate::diagnostics::Diagnostic::new("products", message).hint(hint)])))
}

/// Renders every planned page into a staging folder and swaps it in as `output`. Writes
/// nothing into the shop's sources: the consent UI record is written by [`build`] only
/// (`cohort check` and `cohort hosting` build through this function into a temporary folder).
pub fn write_site(prepared: &Prepared, output: &Path, progress: bool) -> Result<BuildReport, BuildError> {
    write_into(prepared, output, &Phases::new(progress), None, false)
}

/// [`write_site`], also saving the consent UI record under `records_root` (the shop folder)
/// before the new output is swapped in.
fn write_into(
    prepared: &Prepared,
    output: &Path,
    phases: &Phases,
    records_root: Option<&Path>,
    exit_after: bool,
) -> Result<BuildReport, BuildError> {
    let Prepared { shop, theme, plan, .. } = prepared;
    // `cohort build` keeps what it computed in the shop's `.cohort-cache/` (see `memo`);
    // the builds of `cohort check` and `cohort hosting` into a temporary folder do not.
    let recs = match records_root {
        Some(root) => memo::recommendations(root, shop, prepared.aggregates.as_ref()),
        None => recommendations(shop, prepared.aggregates.as_ref()),
    };
    phases.done(|| "recommended related products".to_string());
    let renderer = Renderer::new(shop, theme, &recs).map_err(|e| BuildError::Render(vec![e]))?;
    phases.done(|| format!("prepared {} product cards", shop.products.len()));
    let previous =
        records_root.map(|root| memo::Previous::load(root, output, shop, theme, plan, &recs, renderer.model()));
    if let Some(root) = records_root {
        // The records describe the live output, which is about to change.
        memo::forget(root);
    }
    let staging = Staging::new(output).map_err(|e| BuildError::io("cannot create a folder beside", output, e))?;
    let pages = Pages { shop, plan, renderer: &renderer, staging: &staging, previous: previous.as_ref() };
    let result = render_into(&pages, theme, phases).and_then(|(report, next)| {
        if let Some(root) = records_root {
            renderer.consent_ui.save_record(root).map_err(|e| {
                BuildError::io("cannot write the consent UI record in", root.join("consent-records/ui"), e)
            })?;
        }
        Ok((report, next))
    });
    match result {
        Ok((mut report, next)) => {
            // The records are encoded while the swap prunes the recycled tree.
            let encode = || records_root.map(|_| next.encode(output));
            let (committed, encoded) = rayon::join(|| staging.commit(), encode);
            committed.map_err(|e| BuildError::io("cannot replace", output, e))?;
            phases.done(|| format!("swapped the new site into {}", output.display()));
            if let Some(root) = records_root
                && let Some(Err(e)) = encoded.map(|bytes| bytes.and_then(|b| memo::save(root, &b)))
            {
                report.warnings.push(
                    crate::diagnostics::Diagnostic::new(
                        memo::DIR,
                        format!("cannot save what this build wrote ({e}): the next build renders every page"),
                    )
                    .hint("check that the shop folder is writable; deleting .cohort-cache/ is always safe"),
                );
            }
            report.output = output.to_path_buf();
            if exit_after {
                std::mem::forget(previous);
                std::mem::forget(renderer);
                std::mem::forget(recs);
            }
            Ok(report)
        }
        Err(e) => {
            staging.abandon();
            Err(e)
        }
    }
}

/// The cohort routes a rendered page adds to `_redirects`: (cohort id, default page path).
pub fn variant_routes(page: &RenderedPage, job: &Job) -> Vec<(String, String)> {
    routes_of(page.variants.iter().map(|(file, _)| file.as_str()), job)
}

/// The cohort routes of `job`'s full-page variant files.
fn routes_of<'f>(files: impl Iterator<Item = &'f str>, job: &Job) -> Vec<(String, String)> {
    files.filter_map(|file| Some((layout::variant_cohort(file)?.to_string(), job.path.clone()))).collect()
}

/// The page's sitemap entry (path, lastmod), if it belongs in the sitemap.
pub fn sitemap_entry(shop: &Shop, job: &Job) -> Option<(String, Option<String>)> {
    job.in_sitemap.then(|| {
        let lastmod = match job.kind {
            PageKind::Product(i) => shop.products.get(i).and_then(|p| p.date.clone()),
            _ => None,
        };
        (job.path.clone(), lastmod)
    })
}

/// Files copied, in the order the build writes them (later ones win): the theme's and
/// shop's static files, then the files beside each product bundle, then the published images
/// (`crate::images`): a processed image's own path holds its largest fallback from the image
/// cache instead of the source, and every resized file is under `_images/`.
pub fn copied_files(shop: &Shop, theme: &Theme) -> Vec<(String, crate::theme::Source)> {
    let mut out: Vec<(String, crate::theme::Source)> = theme
        .static_files
        .iter()
        .filter(|(p, s)| s.path().is_none() || !shop.images.contains(p))
        .map(|(p, s)| (p.clone(), s.clone()))
        .collect();
    for p in &shop.products {
        if let Some(dir) = &p.bundle {
            out.extend(bundle_files(shop, &p.slug, dir).into_iter().filter(|(path, _)| !shop.images.contains(path)));
        }
    }
    out.extend(shop.images.outputs().into_iter().map(|(path, file)| (path, crate::theme::Source::File(file))));
    out
}

/// The files beside a bundle's index.md, as (site path, source).
pub fn bundle_files(shop: &Shop, slug: &str, dir: &Path) -> Vec<(String, crate::theme::Source)> {
    let base = shop.root.join(dir);
    walkdir::WalkDir::new(&base)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let rel =
                entry.path().strip_prefix(&base).map(|r| r.to_string_lossy().replace('\\', "/")).unwrap_or_default();
            (entry.file_type().is_file() && !rel.ends_with(".md") && !rel.starts_with('.'))
                .then(|| (format!("products/{slug}/{rel}"), crate::theme::Source::File(entry.path().to_path_buf())))
        })
        .collect()
}

/// The site-wide files computed from the whole site: sitemap, robots, GPC, the product feed,
/// `_headers` and `_redirects`. Sorts its inputs so the result does not depend on rendering order.
pub fn site_files(
    shop: &Shop,
    sitemap_entries: &mut [(String, Option<String>)],
    variant_routes: &mut Vec<(String, String)>,
    script_hashes: &BTreeSet<String>,
) -> Vec<(&'static str, String)> {
    variant_routes.sort();
    sitemap_entries.sort();
    let site = &shop.site;
    // The runtime is written after the static files so a static file cannot replace what the
    // consent-UI hash covers.
    let mut out = vec![
        (layout::RUNTIME, crate::runtime::script().to_string()),
        (layout::SITEMAP, sitemap::sitemap(site, sitemap_entries)),
        (layout::ROBOTS, sitemap::robots(site)),
    ];
    if site.checkout.as_ref().is_some_and(crate::checkout::Checkout::has_cart) {
        out.push((crate::checkout::SCRIPT_PATH, crate::checkout::script().to_string()));
    }
    out.extend(crate::runtime::extra_scripts(&site.config.privacy).into_iter().map(|(f, s)| (f, s.to_string())));
    out.extend(crate::runtime::cohorts_file(site));
    if site.config.privacy.honor_gpc {
        out.push((layout::GPC, sitemap::gpc(site)));
    }
    if site.config.feeds.google {
        out.push((crate::output::feed::GOOGLE_PATH, crate::output::feed::google(shop)));
    }
    let policy = csp::policy(site, script_hashes);
    out.push((layout::HEADERS, hosting::headers(site, variant_routes, &policy)));
    out.push((layout::REDIRECTS, hosting::redirects(site, variant_routes)));
    out
}

/// The CSP hashes of the inline scripts of a rendered page and its variants.
pub fn script_hashes(page: &RenderedPage) -> Vec<String> {
    page.script_hashes.clone()
}

/// What the pages are rendered from and written to.
struct Pages<'a> {
    shop: &'a Shop,
    plan: &'a Plan,
    renderer: &'a Renderer<'a>,
    staging: &'a Staging,
    /// The last build's records (`cohort build` only).
    previous: Option<&'a memo::Previous<'a>>,
}

/// One page in the output: its job, its variants' files, its inline scripts' CSP hashes,
/// whether it was rendered (or kept from the last build), and its record for the next build.
struct Done<'a> {
    job: &'a Job,
    variants: Vec<String>,
    scripts: Vec<String>,
    rendered: bool,
    record: Option<(memo::PageRecord, Vec<String>)>,
}

/// Why a page is missing from the output: it did not render, or it could not be written.
enum PageError {
    Render(RenderError),
    Write(IoError),
}

impl Pages<'_> {
    /// Puts `job`'s files into the staging tree: kept from the last build when its signature
    /// did not change, otherwise rendered and written. `written` holds the fragments already
    /// in the tree (content-addressed: each is written once).
    fn one<'j>(&self, job: &'j Job, written: &Mutex<HashMap<String, Option<Stamp>>>) -> Result<Done<'j>, PageError> {
        let cannot = |file: &str, e: std::io::Error| PageError::Write(IoError::new("cannot write", file, e));
        let signature = self.previous.map(|p| p.signature(job));
        if let (Some(previous), Some(signature)) = (self.previous, signature) {
            let claim = |hash: &str| claim_fragment(written, hash).unwrap_or(false);
            let settle = |hash: &str, stamp: Option<Stamp>| {
                if let Ok(mut w) = written.lock() {
                    match stamp {
                        Some(stamp) => w.insert(hash.to_string(), Some(stamp)),
                        None => w.remove(hash),
                    };
                }
            };
            let kept =
                previous.keep(job, signature, self.staging, &claim, &settle).map_err(|e| cannot(&job.path, e))?;
            if let Some(kept) = kept {
                let memo::Kept { variants, scripts, record } = kept;
                return Ok(Done { job, variants, record: Some((record, scripts.clone())), scripts, rendered: false });
            }
        }
        let page = self.renderer.render(job).map_err(PageError::Render)?;
        let mut files = Vec::with_capacity(1 + page.variants.len());
        let stamp = self.staging.write_stamped(&page.file, page.html.as_bytes()).map_err(|e| cannot(&page.file, e))?;
        files.push((page.file.clone(), stamp));
        for (file, html) in &page.variants {
            let stamp = self.staging.write_stamped(file, html.as_bytes()).map_err(|e| cannot(file, e))?;
            files.push((file.clone(), stamp));
        }
        // Fragments are written as soon as they appear, once each (content-addressed).
        for (hash, html) in &page.fragments {
            let fresh = claim_fragment(written, hash).unwrap_or(true);
            if fresh {
                let file = layout::fragment(hash);
                let stamp = self.staging.write_stamped(&file, html.as_bytes()).map_err(|e| cannot(&file, e))?;
                if let Ok(mut w) = written.lock() {
                    w.insert(hash.clone(), Some(stamp));
                }
            }
        }
        let record = signature.map(|s| memo::Next::rendered(s, &page, files));
        let variants = page.variants.into_iter().map(|(file, _)| file).collect();
        Ok(Done { job, variants, scripts: page.script_hashes, rendered: true, record })
    }
}

/// Marks fragment `hash` as being put into the tree: whether this caller is the first (None
/// when the lock is poisoned).
fn claim_fragment(written: &Mutex<HashMap<String, Option<Stamp>>>, hash: &str) -> Option<bool> {
    let mut w = written.lock().ok()?;
    Some(!w.contains_key(hash) && w.insert(hash.to_string(), None).is_none())
}

fn render_into(pages: &Pages, theme: &Theme, phases: &Phases) -> Result<(BuildReport, memo::Next), BuildError> {
    let Pages { shop, plan, staging, renderer, .. } = *pages;
    let bar = (phases.shown() && std::io::stderr().is_terminal() && plan.jobs.len() > 500).then(|| {
        let bar = indicatif::ProgressBar::new(plan.jobs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} rendering {pos}/{len} pages {wide_bar} {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let written: Mutex<HashMap<String, Option<Stamp>>> = Mutex::new(HashMap::new());
    let results: Vec<Result<Done, PageError>> = plan
        .jobs
        .par_iter()
        .map(|job| {
            let done = pages.one(job, &written);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            done
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut errors = Vec::new();
    let mut write_errors = Vec::new();
    let mut all_routes = Vec::new();
    let mut sitemap_entries = Vec::new();
    let mut all_scripts = BTreeSet::new();
    let mut next = memo::Next::default();
    let (mut count, mut variants, mut rendered) = (0, 0, 0);
    for r in results {
        match r {
            Err(PageError::Render(e)) => errors.push(e),
            Err(PageError::Write(e)) => write_errors.push(e),
            Ok(done) => {
                count += 1;
                rendered += usize::from(done.rendered);
                variants += done.variants.len();
                all_routes.extend(routes_of(done.variants.iter().map(String::as_str), done.job));
                sitemap_entries.extend(sitemap_entry(shop, done.job));
                if let Some((record, scripts)) = done.record {
                    next.add(&done.job.path, record, scripts);
                }
                all_scripts.extend(done.scripts);
            }
        }
    }
    if !errors.is_empty() {
        return Err(BuildError::Render(RenderError::merge(errors)));
    }
    if let Some(first) = write_errors.into_iter().next() {
        return Err(BuildError::Io(first));
    }
    let written = written.into_inner().unwrap_or_default();
    let fragments = written.len();
    for (hash, stamp) in written {
        if let Some(stamp) = stamp {
            next.fragment(hash, stamp);
        }
    }
    let kept = count - rendered;
    phases.done(|| {
        let kept = if kept > 0 {
            format!(" ({rendered} rendered, {kept} unchanged since the last build)")
        } else {
            String::new()
        };
        let (cards, reused) = renderer.card_counts();
        format!(
            "rendered and wrote {count} pages{kept}, {variants} cohort variants, {fragments} fragments ({cards} product cards rendered, {reused} reused)"
        )
    });
    let pages = count;

    let mut static_files = 0;
    for (path, source) in copied_files(shop, theme) {
        match source {
            crate::theme::Source::File(from) if from.starts_with(shop.images_cache()) => {
                staging.link_immutable(&path, &from).map_err(|e| BuildError::io("cannot link", &from, e))?
            }
            crate::theme::Source::File(from) => {
                staging.copy(&path, &from).map_err(|e| BuildError::io("cannot copy", &from, e))?
            }
            embedded => {
                let bytes = embedded.bytes().map_err(|e| BuildError::io("cannot read static file", &path, e))?;
                staging.write(&path, &bytes).map_err(|e| BuildError::io("cannot write", &path, e))?;
            }
        }
        static_files += 1;
    }
    phases.done(|| format!("copied {static_files} static files"));
    for (path, text) in site_files(shop, &mut sitemap_entries, &mut all_routes, &all_scripts) {
        staging.write(path, text.as_bytes()).map_err(|e| BuildError::io("cannot write", path, e))?;
    }
    if let Some((path, text)) = renderer.consent_ui.banner_file() {
        staging.write(&path, text.as_bytes()).map_err(|e| BuildError::io("cannot write", &path, e))?;
    }
    phases.done(|| "wrote the sitemap, feeds, _headers and _redirects".to_string());
    let report = BuildReport {
        output: PathBuf::new(),
        pages,
        unchanged: kept,
        variants,
        fragments,
        static_files,
        products: shop.products.len(),
        images: shop.images.len(),
        images_decoded: shop.images.decoded,
        warnings: shop.warnings.clone(),
        elapsed: Duration::ZERO,
    };
    Ok((report, next))
}
