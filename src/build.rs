//! `cohort build`: load → validate → plan → render (in parallel) → write (atomically).

use crate::content::product::Availability;
use crate::content::{LoadOptions, Shop};
use crate::diagnostics::Diagnostics;
use crate::output::{csp, hosting, sitemap, writer::Staging};
use crate::plan::{Job, PageKind, Plan};
use crate::recommend;
use crate::render::{Recs, Renderer, context};
use crate::theme::Theme;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub root: PathBuf,
    /// Default `ROOT/public`.
    pub output: Option<PathBuf>,
    pub base_url: Option<String>,
    pub drafts: bool,
    /// Worker threads; 0 = one per core.
    pub jobs: usize,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
}

#[derive(Debug)]
pub struct BuildReport {
    pub output: PathBuf,
    pub pages: usize,
    pub variants: usize,
    pub fragments: usize,
    pub static_files: usize,
    pub products: usize,
    pub warnings: Vec<String>,
    pub elapsed: Duration,
}

#[derive(Debug)]
pub enum BuildError {
    /// Problems in the shop's files, each with its place.
    Invalid(Diagnostics),
    /// A template or guard failure while rendering.
    Render(Vec<String>),
    /// The output could not be written.
    Io(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Invalid(d) => write!(f, "{d}"),
            BuildError::Render(errors) => {
                for e in errors.iter().take(20) {
                    writeln!(f, "error: {e}\n")?;
                }
                if errors.len() > 20 {
                    writeln!(f, "... and {} more", errors.len() - 20)?;
                }
                write!(f, "the build failed; the previous output was left untouched.")
            }
            BuildError::Io(e) => write!(f, "error: {e}\nthe previous output was left untouched."),
        }
    }
}

/// Everything loaded and computed before rendering: the input to [`render_site`].
pub struct Prepared {
    pub shop: Shop,
    pub theme: Theme,
    pub plan: Plan,
    /// `data/aggregates.toml`, when the merchant has one.
    pub aggregates: Option<recommend::Aggregates>,
}

pub fn load(options: &BuildOptions) -> Result<Prepared, BuildError> {
    let load = LoadOptions { drafts: options.drafts, base_url: options.base_url.as_deref() };
    let shop = Shop::load(&options.root, &load).map_err(BuildError::Invalid)?;
    let mut theme = Theme::load(&options.root, &shop.site.config.theme).map_err(BuildError::Invalid)?;
    theme.engine.add_global("site", &context::site(&shop, &theme.name));
    let plan = Plan::new(&shop, |t| theme.templates.contains_key(t));
    let aggregates = recommend::load(&options.root.join("data/aggregates.toml")).map_err(|e| {
        BuildError::Invalid(Diagnostics(vec![crate::diagnostics::Diagnostic::new("data/aggregates.toml", e).hint(
            "regenerate it with `cohort aggregate --orders FILE.csv`, or delete it to recommend from the catalog alone",
        )]))
    })?;
    Ok(Prepared { shop, theme, plan, aggregates })
}

pub fn build(options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let run = || -> Result<BuildReport, BuildError> {
        let start = Instant::now();
        let prepared = load(options)?;
        let output = options.output.clone().unwrap_or_else(|| options.root.join("public"));
        let mut report = write_site(&prepared, &output, options.progress)?;
        report.elapsed = start.elapsed();
        Ok(report)
    };
    if options.jobs > 0 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs)
            .build()
            .map_err(|e| BuildError::Io(e.to_string()))?;
        pool.install(run)
    } else {
        run()
    }
}

/// What recommendation blocks show, computed once per build from the catalog and the
/// anonymized aggregates (see `recommend`).
pub struct Recommendations {
    /// What everyone sees before choosing a cohort.
    pub featured: Vec<(usize, String)>,
    /// Each cohort's picks, in the order of `[[cohorts]]`.
    pub cohort_picks: Vec<Vec<(usize, String)>>,
    pub related: Recs,
    pub together: Recs,
}

/// The engine's view of the catalog: one [`recommend::Item`] per product, same order.
pub fn items(shop: &Shop) -> Vec<recommend::Item> {
    shop.products
        .iter()
        .map(|p| recommend::Item {
            sku: p.sku.clone(),
            title: p.title.clone(),
            category: p.category.clone(),
            tags: p.tags.clone(),
            text: format!("{} {} {}", p.title, p.summary, p.body_text),
            in_stock: p.availability != Availability::OutOfStock,
            weight: p.weight,
            date: p.date.clone(),
        })
        .collect()
}

pub fn recommendations(shop: &Shop, aggregates: Option<&recommend::Aggregates>) -> Recommendations {
    let r = &shop.site.config.recommendations;
    let items = items(shop);
    let texts = |recs: Vec<recommend::Rec>, label: Option<&str>| -> Vec<(usize, String)> {
        recs.into_iter().map(|rec| (rec.index, rec.reason.text(&items, label))).collect()
    };
    let related = recommend::related(&items, r.related);
    let together = recommend::bought_together(&items, aggregates, r.bought_together, &related);
    let featured = texts(recommend::picks(&items, &[], aggregates, r.picks), None);
    let cohort_picks = shop
        .site
        .config
        .cohorts
        .iter()
        .map(|c| texts(recommend::picks(&items, &c.interests, aggregates, r.picks), Some(&c.label)))
        .collect();
    let to_texts = |all: Vec<Vec<recommend::Rec>>| -> Recs { all.into_iter().map(|list| texts(list, None)).collect() };
    Recommendations { featured, cohort_picks, related: to_texts(related), together: to_texts(together) }
}

/// Renders every planned page into a staging folder and swaps it in as `output`.
pub fn write_site(prepared: &Prepared, output: &Path, progress: bool) -> Result<BuildReport, BuildError> {
    let Prepared { shop, theme, plan, .. } = prepared;
    let recs = recommendations(shop, prepared.aggregates.as_ref());
    let renderer = Renderer::new(shop, theme, &recs).map_err(|e| BuildError::Render(vec![e]))?;
    let staging = Staging::new(output)
        .map_err(|e| BuildError::Io(format!("cannot create a folder beside {}: {e}", output.display())))?;
    let result = render_into(shop, theme, plan, &renderer, &staging, progress);
    match result {
        Ok(mut report) => {
            staging.commit().map_err(|e| BuildError::Io(format!("cannot replace {}: {e}", output.display())))?;
            report.output = output.to_path_buf();
            Ok(report)
        }
        Err(e) => {
            staging.abandon();
            Err(e)
        }
    }
}

/// A rendered page (its HTML already written), its job, and its inline scripts' CSP hashes.
type PageResult<'a> = Result<(Vec<String>, &'a Job, Vec<String>), String>;

fn render_into(
    shop: &Shop,
    theme: &Theme,
    plan: &Plan,
    renderer: &Renderer,
    staging: &Staging,
    progress: bool,
) -> Result<BuildReport, BuildError> {
    let bar = (progress && std::io::stderr().is_terminal() && plan.jobs.len() > 500).then(|| {
        let bar = indicatif::ProgressBar::new(plan.jobs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} rendering {pos}/{len} pages {wide_bar} {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let written: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let results: Vec<PageResult> = plan
        .jobs
        .par_iter()
        .map(|job| {
            let page = renderer.render(job)?;
            let mut scripts = csp::inline_script_hashes(&page.html);
            for (_, html) in &page.variants {
                scripts.extend(csp::inline_script_hashes(html));
            }
            staging.write(&page.file, page.html.as_bytes()).map_err(|e| format!("cannot write {}: {e}", page.file))?;
            for (file, html) in &page.variants {
                staging.write(file, html.as_bytes()).map_err(|e| format!("cannot write {file}: {e}"))?;
            }
            // Fragments are written as soon as they appear, once each (content-addressed).
            for (hash, html) in &page.fragments {
                let fresh = written.lock().map(|mut w| w.insert(hash.clone())).unwrap_or(true);
                if fresh {
                    let file = format!("_cohort/f/{hash}.html");
                    staging.write(&file, html.as_bytes()).map_err(|e| format!("cannot write {file}: {e}"))?;
                }
            }
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            let variant_files = page.variants.into_iter().map(|(file, _)| file).collect::<Vec<_>>();
            Ok((variant_files, job, scripts))
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut errors = Vec::new();
    let mut variant_routes = Vec::new();
    let mut sitemap_entries = Vec::new();
    let mut script_hashes = BTreeSet::new();
    let mut pages = 0;
    let mut variants = 0;
    for r in results {
        match r {
            Err(e) => errors.push(e),
            Ok((variant_files, job, scripts)) => {
                pages += 1;
                script_hashes.extend(scripts);
                variants += variant_files.len();
                for file in &variant_files {
                    if let Some(rest) = file.strip_prefix("c/")
                        && let Some((id, _)) = rest.split_once('/')
                    {
                        variant_routes.push((id.to_string(), job.path.clone()));
                    }
                }
                if job.in_sitemap {
                    let lastmod = match job.kind {
                        PageKind::Product(i) => shop.products[i].date.clone(),
                        _ => None,
                    };
                    sitemap_entries.push((job.path.clone(), lastmod));
                }
            }
        }
    }
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Err(BuildError::Render(errors));
    }
    let io = |e: std::io::Error| BuildError::Io(e.to_string());
    let fragments = written.into_inner().map(|w| w.len()).unwrap_or(0);

    let mut static_files = 0;
    for (path, source) in &theme.static_files {
        let bytes = source.bytes().map_err(|e| BuildError::Io(format!("cannot read static file {path}: {e}")))?;
        staging.write(path, &bytes).map_err(io)?;
        static_files += 1;
    }
    // The runtime is written last so a static file cannot replace what the consent-UI hash covers.
    staging.write("cohort.js", crate::runtime::script().as_bytes()).map_err(io)?;
    for p in &shop.products {
        if let Some(dir) = &p.bundle {
            for entry in
                walkdir::WalkDir::new(shop.root.join(dir)).sort_by_file_name().into_iter().filter_map(Result::ok)
            {
                let rel = entry
                    .path()
                    .strip_prefix(shop.root.join(dir))
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if entry.file_type().is_file() && !rel.ends_with(".md") && !rel.starts_with('.') {
                    staging.copy(&format!("products/{}/{rel}", p.slug), entry.path()).map_err(io)?;
                    static_files += 1;
                }
            }
        }
    }
    variant_routes.sort();
    sitemap_entries.sort();
    let site = &shop.site;
    staging.write("sitemap.xml", sitemap::sitemap(site, &sitemap_entries).as_bytes()).map_err(io)?;
    staging.write("robots.txt", sitemap::robots(site).as_bytes()).map_err(io)?;
    if site.config.privacy.honor_gpc {
        staging.write(".well-known/gpc.json", sitemap::gpc(site).as_bytes()).map_err(io)?;
    }
    let policy = csp::policy(site, &script_hashes);
    staging.write("_headers", hosting::headers(site, &variant_routes, &policy).as_bytes()).map_err(io)?;
    renderer.consent_ui.save_record(&shop.root).map_err(|e| {
        BuildError::Io(format!(
            "cannot write the consent UI record in {}: {e}",
            shop.root.join("consent-records/ui").display()
        ))
    })?;
    staging.write("_redirects", hosting::redirects(site, &variant_routes).as_bytes()).map_err(io)?;
    Ok(BuildReport {
        output: PathBuf::new(),
        pages,
        variants,
        fragments,
        static_files,
        products: shop.products.len(),
        warnings: shop.warnings.clone(),
        elapsed: Duration::ZERO,
    })
}
