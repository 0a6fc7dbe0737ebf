//! Incremental rebuilds for `cohort serve`, byte-identical to a full `cohort build`.
//!
//! The server keeps the last good site in memory ([`SiteFiles`]) and, here, what produced
//! it: every product file parsed (keyed by path, with a hash of the parsed product), the
//! content pages, the theme, and for every planned page a `Record`: a *signature* of
//! everything the page is rendered from, the files it wrote and the fragments it refers to.
//!
//! A batch of changed files is sorted into [`Changes`]:
//!
//! * `shop.toml` or `data/`: everything is loaded again (the configuration changes how
//!   products parse) and every page renders.
//! * `templates/` or `themes/`: the theme is loaded again; every page renders (its
//!   signature includes the theme's generation), products are not parsed again.
//! * `products/`: only the changed product files are parsed again (the folder listing
//!   catches renames and deletions), the shop is re-assembled (sorting, listings), the plan,
//!   picks and recommendations are recomputed, and only pages whose signature changed are
//!   rendered: the product's page, listings that show it (old and new category and tags,
//!   since a listing's signature is the list of its products' hashes), pages whose
//!   recommendation blocks include it, and the home page. When the `site` global changes
//!   (a new category, a count in the navigation) or the picks shown on every product page
//!   change, the global signature changes and every page renders.
//! * `pages/`: content pages are read again (a few files), then as for products.
//! * `static/`: a changed file is copied again; a new or deleted one reloads everything,
//!   because products check that their images exist.
//!
//! Fragments are reference-counted by the records that name them, so a fragment no page
//! refers to any more disappears, as it would from a full build. The site-wide files
//! (sitemap, robots, `_headers`, `_redirects`) are recomputed from the records every time.
//! Nothing reaches the served site unless the whole rebuild succeeded.

use super::site::SiteFiles;
use crate::build::{self, BuildError, BuildOptions};
use crate::config::{Config, Site};
use crate::content::page::Page;
use crate::content::product::Product;
use crate::content::{self, Shop};
use crate::diagnostics::Diagnostic;
use crate::plan::Plan;
use crate::theme::Theme;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

mod pass;
use pass::render;

/// Changed files sorted by the kind of rebuild they need.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// shop.toml or data/: load everything again.
    pub config: bool,
    /// templates/ or themes/.
    pub theme: bool,
    /// Paths under products/, relative to the root.
    pub products: Vec<PathBuf>,
    /// pages/.
    pub pages: bool,
    /// Paths under static/, relative to the root.
    pub statics: Vec<PathBuf>,
    /// Every relevant path, relative, for the terminal line.
    pub paths: Vec<PathBuf>,
}

impl Changes {
    /// Sorts absolute paths reported by the watcher. Paths outside the watched folders,
    /// hidden files and editor leftovers are ignored.
    pub fn classify(root: &Path, paths: &[PathBuf]) -> Changes {
        let mut c = Changes::default();
        for path in paths {
            let Ok(rel) = path.strip_prefix(root) else { continue };
            let parts: Vec<String> = rel
                .components()
                .filter_map(|p| match p {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            let Some(first) = parts.first() else { continue };
            let name = parts.last().map(String::as_str).unwrap_or_default();
            if parts.iter().any(|p| p.starts_with('.'))
                || name.ends_with('~')
                || name.ends_with(".swp")
                || name == "4913"
            {
                continue;
            }
            let rel = rel.to_path_buf();
            match (first.as_str(), parts.len()) {
                ("shop.toml", 1) => c.config = true,
                ("data", _) => c.config = true,
                ("templates" | "themes", _) => c.theme = true,
                ("products", n) if n >= 2 => c.products.push(rel.clone()),
                ("pages", n) if n >= 2 => c.pages = true,
                ("static", n) if n >= 2 => c.statics.push(rel.clone()),
                _ => continue,
            }
            if !c.paths.contains(&rel) {
                c.paths.push(rel);
            }
        }
        c
    }

    /// Whether nothing relevant changed.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Whether only stylesheets changed (the browser can swap styles without a reload).
    pub fn css_only(&self) -> bool {
        !self.paths.is_empty()
            && self.paths.len() == self.statics.len()
            && self.statics.iter().all(|p| p.extension().is_some_and(|e| e == "css"))
    }

    /// "products/a.md" or "products/a.md and 3 more".
    pub fn describe(&self) -> String {
        match self.paths.len() {
            0 => "nothing".into(),
            1 => self.paths[0].display().to_string(),
            n => format!("{} and {} more", self.paths[0].display(), n - 1),
        }
    }

    fn everything() -> Changes {
        Changes { config: true, ..Changes::default() }
    }
}

/// What one rebuild did, for the terminal line and the browser.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Pages rendered in this pass.
    pub rendered: usize,
    /// Pages planned.
    pub pages: usize,
    /// Served files added, replaced or removed.
    pub files_changed: usize,
    /// Whether every page rendered because the theme changed.
    pub full: bool,
    /// Whether only stylesheets changed.
    pub css_only: bool,
    /// Wall time of the rebuild.
    pub elapsed: Duration,
    /// The pages were rendered with the previous build's recommendations: compute fresh
    /// ones ([`Incremental::recommendation_job`]) and apply them.
    pub recommendations_stale: bool,
}

/// What one rendering pass is asked to do.
struct Pass {
    /// Read the static and bundle files again.
    copied: bool,
    /// The theme was loaded again (every page renders).
    theme_changed: bool,
    /// Products changed in place by [`fast_update`] (None: the shop was assembled again).
    fast: Option<Vec<usize>>,
    recs_from: RecsFrom,
}

impl Pass {
    fn fast(changed: Option<Vec<usize>>, recs_from: RecsFrom) -> Pass {
        Pass { copied: false, theme_changed: false, fast: changed, recs_from }
    }
}

/// Where a rebuild takes its recommendations from.
enum RecsFrom {
    /// Compute them now (the catalog changed shape).
    Compute,
    /// Reuse the last build's (a shape-preserving edit); fresh ones follow.
    Kept,
    /// Computed in the background for this generation.
    Given(build::Recommendations),
    /// Reuse the last build's, which are exact (the products did not change).
    Same,
}

/// Everything needed to compute recommendations off the main thread.
pub struct RecommendationJob {
    /// The build generation the result is for.
    pub generation: u64,
    items: Vec<crate::recommend::Item>,
    config: Config,
    aggregates: Option<crate::recommend::Aggregates>,
}

impl RecommendationJob {
    /// The expensive part (content similarity over the whole catalog).
    pub fn run(self) -> (u64, build::Recommendations) {
        (self.generation, build::recommendations_for(&self.items, &self.config, self.aggregates.as_ref()))
    }
}

/// One product file as last parsed.
struct Entry {
    result: Result<Product, Vec<Diagnostic>>,
    hash: u64,
}

/// What one planned page produced last time.
struct Record {
    signature: Option<u64>,
    /// The page and its variants.
    files: Vec<String>,
    /// Fragment hashes its slots name.
    fragments: Vec<String>,
    routes: Vec<(String, String)>,
    /// CSP hashes of its inline scripts.
    scripts: Vec<String>,
}

/// Everything kept between rebuilds.
struct State {
    site: Site,
    catalog: BTreeMap<PathBuf, Entry>,
    stray: Vec<PathBuf>,
    pages: (Vec<Page>, Vec<Diagnostic>),
    theme: Theme,
    theme_generation: u64,
    site_json: String,
    /// The shop, plan and product cards of the last good build, kept for the fast path.
    shop: Option<Shop>,
    plan: Option<Plan>,
    cards: Option<Vec<minijinja::Value>>,
    /// Hash of each product of `shop`, in order.
    hashes: Option<Vec<u64>>,
    /// The recommendations of the last good build.
    recommendations: Option<build::Recommendations>,
    /// Bumped on every build: a background recommendation result for an older generation
    /// is thrown away.
    generation: u64,
    aggregates: Option<crate::recommend::Aggregates>,
    global: u64,
    records: HashMap<String, Record>,
    fragment_refs: HashMap<String, usize>,
    /// How many records name each CSP script hash and each cohort route: `_headers` and
    /// `_redirects` are written again only when one appears or disappears.
    script_refs: HashMap<String, usize>,
    route_refs: HashMap<(String, String), usize>,
    /// The published images of the last pass and their [`crate::images::Catalog::fingerprint`].
    images: Option<crate::images::Catalog>,
    images_fingerprint: u64,
    /// The banner's file, as the last pass's renderer made it
    /// ([`crate::runtime::ConsentUi::banner_file`]): one of the site-wide files.
    banner: Option<(String, crate::serve::site::Bytes)>,
}

/// The watch-mode builder: keeps what the last build computed and renders only what changed.
pub struct Incremental {
    options: BuildOptions,
    files: Arc<RwLock<SiteFiles>>,
    state: Option<State>,
    /// A failed configuration or theme load: redo it on the next change, whatever it is.
    pending: Changes,
}

use crate::build::signature::product_hash;

impl Incremental {
    /// A builder for `options` publishing into `files`.
    pub fn new(options: BuildOptions, files: Arc<RwLock<SiteFiles>>) -> Incremental {
        Incremental { options, files, state: None, pending: Changes::default() }
    }

    /// The first build: everything.
    pub fn build_all(&mut self) -> Result<Outcome, BuildError> {
        self.rebuild(&Changes::everything())
    }

    /// Applies a batch of changes; on error the served site is left as it was.
    pub fn rebuild(&mut self, changes: &Changes) -> Result<Outcome, BuildError> {
        let start = Instant::now();
        let mut changes = changes.clone();
        changes.config |= self.pending.config || self.state.is_none();
        changes.theme |= self.pending.theme;
        self.pending = Changes::default();
        let result = self.rebuild_inner(&changes);
        if result.is_err()
            && let Some(state) = self.state.as_mut()
        {
            // What was kept for the fast path no longer matches the files: assemble again.
            state.shop = None;
            state.plan = None;
            state.cards = None;
            state.hashes = None;
        }
        if result.is_err() {
            self.pending.config = changes.config;
            self.pending.theme = changes.theme;
        }
        let mut outcome = result?;
        outcome.css_only = changes.css_only();
        outcome.elapsed = start.elapsed();
        Ok(outcome)
    }

    fn rebuild_inner(&mut self, changes: &Changes) -> Result<Outcome, BuildError> {
        let root = self.options.root.clone();
        let mut full = changes.config;
        if !full && let Some(state) = &self.state {
            // A new or deleted static file can make a product's image valid or invalid.
            let known = |p: &PathBuf| {
                let site_path = p.strip_prefix("static").map(|s| s.to_string_lossy().replace('\\', "/"));
                site_path.is_ok_and(|s| state.theme.static_files.get(&s).is_some_and(|src| src.path().is_some()))
            };
            full = changes.statics.iter().any(|p| !known(p) || !root.join(p).is_file());
        }
        if full {
            self.load_everything()?;
        } else if changes.theme {
            self.reload_theme()?;
        }
        let Some(state) = self.state.as_mut() else {
            return Err(BuildError::Internal("a rebuild before anything was loaded".into()));
        };
        let only_products = !full && !changes.theme && !changes.pages && changes.statics.is_empty();
        if only_products && let Some(changed) = fast_update(state, &root, &changes.products) {
            let result =
                render(state, &root, self.options.drafts, &self.files, Pass::fast(Some(changed), RecsFrom::Kept));
            if result.is_err() {
                // The kept shop is gone; the next rebuild assembles it again.
                state.shop = None;
            }
            return result;
        }
        if !full {
            if !changes.products.is_empty() {
                update_catalog(state, &root, &changes.products);
            }
            if changes.pages {
                state.pages = content::load_pages(&root);
            }
        }
        let copied = full
            || changes.theme
            || !changes.statics.is_empty()
            || changes.products.iter().any(|p| p.components().count() > 2);
        // Recommendations and product cards depend on the products and shop.toml alone: a
        // template, page or static file change keeps them.
        let catalog_same = !full && changes.products.is_empty() && state.recommendations.is_some();
        let recs_from = if catalog_same { RecsFrom::Same } else { RecsFrom::Compute };
        if !catalog_same {
            state.cards = None;
        }
        let pass = Pass { copied, theme_changed: full || changes.theme, fast: None, recs_from };
        render(state, &root, self.options.drafts, &self.files, pass)
    }

    /// After a rebuild with stale recommendations: the work to compute fresh ones.
    pub fn recommendation_job(&mut self) -> Option<RecommendationJob> {
        let state = self.state.as_mut()?;
        let shop = state.shop.as_ref()?;
        Some(RecommendationJob {
            generation: state.generation,
            items: build::items(shop),
            config: shop.site.config.clone(),
            aggregates: state.aggregates.clone(),
        })
    }

    /// Applies recommendations computed in the background; None when a newer build made
    /// them useless (or nothing was kept to apply them to).
    pub fn apply_recommendations(
        &mut self,
        generation: u64,
        recs: build::Recommendations,
    ) -> Option<Result<Outcome, BuildError>> {
        let start = Instant::now();
        let state = self.state.as_mut()?;
        if state.generation != generation || state.shop.is_none() {
            return None;
        }
        if state.recommendations.as_ref() == Some(&recs) {
            return Some(Ok(Outcome {
                rendered: 0,
                pages: state.records.len(),
                files_changed: 0,
                full: false,
                css_only: false,
                elapsed: start.elapsed(),
                recommendations_stale: false,
            }));
        }
        let pass = Pass::fast(Some(Vec::new()), RecsFrom::Given(recs));
        let result = render(state, &self.options.root, self.options.drafts, &self.files, pass);
        if result.is_err() {
            state.shop = None;
            state.plan = None;
            state.cards = None;
            state.hashes = None;
        }
        Some(result.map(|mut o| {
            o.elapsed = start.elapsed();
            o
        }))
    }

    fn load_everything(&mut self) -> Result<(), BuildError> {
        let root = &self.options.root;
        let site = Config::load(root, self.options.base_url.as_deref()).map_err(BuildError::Invalid)?;
        let theme = Theme::load(root, &site.config.theme).map_err(BuildError::Invalid)?;
        build::check_static_files(root, &site, &theme)?;
        let aggregates = build::load_aggregates(root)?;
        let (files, stray) = content::find_products(root);
        let catalog = parse_products(&site, root, &files);
        let pages = content::load_pages(root);
        let theme_generation = self.state.as_ref().map_or(0, |s| s.theme_generation + 1);
        let old = self.state.take();
        let (records, fragment_refs, script_refs, route_refs) =
            old.map(|s| (s.records, s.fragment_refs, s.script_refs, s.route_refs)).unwrap_or_default();
        self.state = Some(State {
            site,
            catalog,
            stray,
            pages,
            theme,
            theme_generation,
            site_json: String::new(),
            shop: None,
            plan: None,
            cards: None,
            hashes: None,
            recommendations: None,
            generation: 0,
            aggregates,
            global: 0,
            records,
            fragment_refs,
            script_refs,
            route_refs,
            images: None,
            images_fingerprint: 0,
            banner: None,
        });
        Ok(())
    }

    fn reload_theme(&mut self) -> Result<(), BuildError> {
        let Some(state) = self.state.as_mut() else { return self.load_everything() };
        state.theme = Theme::load(&self.options.root, &state.site.config.theme).map_err(BuildError::Invalid)?;
        build::check_static_files(&self.options.root, &state.site, &state.theme)?;
        state.theme_generation += 1;
        state.site_json.clear();
        Ok(())
    }
}

fn parse_products(site: &Site, root: &Path, files: &[(PathBuf, Option<PathBuf>)]) -> BTreeMap<PathBuf, Entry> {
    files
        .par_iter()
        .map(|(rel, bundle)| {
            let result = content::load_product(site, root, rel, bundle.as_deref());
            let hash = result.as_ref().map_or(0, product_hash);
            (rel.clone(), Entry { result, hash })
        })
        .collect()
}

/// Brings the catalog up to date: files gone from the listing are dropped, new ones and
/// the changed ones are parsed again.
fn update_catalog(state: &mut State, root: &Path, changed: &[PathBuf]) {
    let (files, stray) = content::find_products(root);
    state.stray = stray;
    // A change anywhere in products/NAME/ concerns products/NAME/index.md.
    let mut touched: HashSet<PathBuf> = HashSet::new();
    for path in changed {
        let mut parts = path.components().skip(1);
        if let Some(first) = parts.next() {
            let top = Path::new("products").join(first);
            if parts.next().is_some() || !top.to_string_lossy().ends_with(".md") {
                touched.insert(top.join("index.md"));
            }
            touched.insert(top);
        }
    }
    let listed: HashSet<&PathBuf> = files.iter().map(|(rel, _)| rel).collect();
    state.catalog.retain(|rel, _| listed.contains(rel));
    let todo: Vec<(PathBuf, Option<PathBuf>)> =
        files.into_iter().filter(|(rel, _)| touched.contains(rel) || !state.catalog.contains_key(rel)).collect();
    let parsed = parse_products(&state.site, root, &todo);
    state.catalog.extend(parsed);
}

/// The fast path for edits that leave the shop's shape alone (a price, a summary, a body):
/// each changed file is a known top-level product that parses, and keeps its slug, SKU,
/// title, category, tags, weight, date and draft flag, so the order, the listings and the
/// plan stay as they are. The product is replaced in the kept shop; returns the indices of
/// the changed products, or None (and changes nothing) when the full path is needed.
fn fast_update(state: &mut State, root: &Path, changed: &[PathBuf]) -> Option<Vec<usize>> {
    let shop = state.shop.as_ref()?;
    state.plan.as_ref()?;
    state.cards.as_ref()?;
    let mut updates = Vec::new();
    for rel in changed {
        if rel.components().count() != 2 || rel.extension().is_none_or(|e| e != "md") || !root.join(rel).is_file() {
            return None;
        }
        let old = state.catalog.get(rel)?.result.as_ref().ok()?;
        let new = content::load_product(&state.site, root, rel, None).ok()?;
        let same_shape = old.slug == new.slug
            && old.sku == new.sku
            && old.title == new.title
            && old.category == new.category
            && old.tags == new.tags
            && old.weight == new.weight
            && old.date == new.date
            && old.draft == new.draft
            && old.bundle.is_none();
        if !same_shape {
            return None;
        }
        let index = if new.draft { None } else { Some(shop.products.iter().position(|p| p.source == *rel)?) };
        updates.push((rel.clone(), index, new));
    }
    let shop = state.shop.as_mut()?;
    let mut indices = Vec::new();
    for (rel, index, product) in updates {
        let hash = product_hash(&product);
        if let Some(i) = index {
            shop.products[i] = product.clone();
            indices.push(i);
        }
        state.catalog.insert(rel, Entry { result: Ok(product), hash });
    }
    Some(indices)
}
