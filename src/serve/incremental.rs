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

use super::site::{Bytes, SiteFiles};
use crate::build::{self, BuildError, BuildOptions};
use crate::config::{Config, Site};
use crate::content::page::Page;
use crate::content::product::Product;
use crate::content::{self, Shop};
use crate::diagnostics::Diagnostic;
use crate::plan::{PageKind, Plan};
use crate::render::{Recs, RenderedPage, Renderer, context};
use crate::theme::{Source, Theme};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Changed files sorted by the kind of rebuild they need.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// shop.toml or data/: load everything again.
    pub config: bool,
    /// templates/ or themes/.
    pub theme: bool,
    /// Paths under products/, relative to the root.
    pub products: Vec<PathBuf>,
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
    pub rendered: usize,
    pub pages: usize,
    pub files_changed: usize,
    pub full: bool,
    pub css_only: bool,
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
}

pub struct Incremental {
    options: BuildOptions,
    files: Arc<RwLock<SiteFiles>>,
    state: Option<State>,
    /// A failed configuration or theme load: redo it on the next change, whatever it is.
    pending: Changes,
}

/// The templates a page of `kind` rendered with `template` depends on (see
/// [`Theme::templates_hash`]); when one names another through a variable, the theme's
/// generation, so that any theme change renders the page again.
fn template_signature(theme: &Theme, template: &str, kind: &str, generation: u64) -> u64 {
    let slots = theme.slots.get(kind).cloned().unwrap_or_default();
    let slot_templates: Vec<String> = slots.iter().map(|n| format!("slots/{n}.html")).collect();
    let mut roots = vec![template, "partials/consent-banner.html", "partials/consent-choices.html"];
    roots.extend(slot_templates.iter().map(String::as_str));
    match theme.templates_hash(&roots) {
        Some(h) => hash_of(&(h, &slots)),
        None => hash_of(&(generation, &slots, template)),
    }
}

fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

fn product_hash(p: &Product) -> u64 {
    hash_of(&format!("{p:?}"))
}

impl Incremental {
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
            return Err(BuildError::Io("nothing loaded".into()));
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

/// Assembles the shop, renders the pages whose signature changed and publishes the result.
/// With `fast` (indices of products changed in place by [`fast_update`]), the kept shop,
/// plan and cards are reused and only pages that can show those products are considered.
fn render(
    state: &mut State,
    root: &Path,
    drafts: bool,
    files: &Arc<RwLock<SiteFiles>>,
    pass: Pass,
) -> Result<Outcome, BuildError> {
    let Pass { copied, theme_changed, fast, recs_from } = pass;
    state.generation += 1;
    let mut timer = Timer::new();
    let kept = match &fast {
        Some(_) => match (state.shop.take(), state.plan.take(), state.cards.take()) {
            (Some(shop), Some(plan), Some(cards)) => Some((shop, plan, cards)),
            _ => return Err(BuildError::Io("internal: nothing kept for the fast path".into())),
        },
        None => None,
    };
    let (shop, kept_plan, kept_cards) = match kept {
        Some((shop, plan, cards)) => (shop, Some(plan), Some(cards)),
        None => {
            // Cards kept by the caller (the products did not change) are used as they are.
            let cards = state.cards.take();
            let mut products = Vec::with_capacity(state.catalog.len());
            let mut diags = Vec::new();
            for entry in state.catalog.values() {
                match &entry.result {
                    Ok(p) => products.push(p.clone()),
                    Err(ds) => diags.extend(ds.iter().cloned()),
                }
            }
            let (pages, page_diags) = state.pages.clone();
            diags.extend(page_diags);
            timer.mark("collect");
            let shop = Shop::assemble(root, state.site.clone(), products, pages, &state.stray, diags, drafts)
                .map_err(BuildError::Invalid)?;
            let cards = cards.filter(|c| c.len() == shop.products.len());
            (shop, None, cards)
        }
    };

    timer.mark("assemble");
    // Images (`crate::images`): processed again (through the image cache, so only a changed
    // one is decoded) when static or bundle files changed; a changed image changes the cards
    // and pages that show it.
    let mut shop = shop;
    if copied || state.images.is_none() {
        state.images = Some(build::process_images(&shop, &state.theme)?);
    }
    shop.images = state.images.clone().unwrap_or_default();
    let images_fingerprint = shop.images.fingerprint();
    let kept_cards = kept_cards.filter(|_| images_fingerprint == state.images_fingerprint);
    state.images_fingerprint = images_fingerprint;
    timer.mark("images");
    let site_value = context::site(&shop, &state.theme.name);
    let site_json = serde_json::to_string(&site_value).unwrap_or_default();
    if site_json != state.site_json || theme_changed {
        state.theme.engine.add_global("site", &site_value);
    }
    timer.mark("site global");
    let fast_path = fast.is_some();
    let plan_kept = kept_plan.is_some();
    let plan = match kept_plan {
        Some(plan) => plan,
        None => Plan::new(&shop, |t| state.theme.templates.contains_key(t)),
    };
    timer.mark("plan");
    let stale = matches!(recs_from, RecsFrom::Kept) && state.recommendations.is_some();
    // `previous`: the last build's lists to compare with; None when they are the ones used.
    let (recs, previous) = match recs_from {
        RecsFrom::Given(recs) => (recs, Some(state.recommendations.take().unwrap_or_default())),
        RecsFrom::Kept if stale => (state.recommendations.take().unwrap_or_default(), None),
        RecsFrom::Same if state.recommendations.is_some() => (state.recommendations.take().unwrap_or_default(), None),
        _ => {
            let recs = build::recommendations(&shop, state.aggregates.as_ref());
            (recs, Some(state.recommendations.take().unwrap_or_default()))
        }
    };
    let (featured, cohort_picks, related, together) =
        (&recs.featured, &recs.cohort_picks, &recs.related, &recs.together);

    timer.mark("picks+recs");
    // Signatures: a page renders again only when one of them changed.
    let hashes: Vec<u64> = match (&fast, state.hashes.take()) {
        (Some(changed), Some(mut hashes)) if hashes.len() == shop.products.len() => {
            for &i in changed {
                hashes[i] = product_hash(&shop.products[i]);
            }
            hashes
        }
        _ => shop
            .products
            .iter()
            .map(|p| state.catalog.get(&p.source).map_or_else(|| product_hash(p), |e| e.hash))
            .collect(),
    };
    timer.mark("hashes");
    let list = |l: &[(usize, String)]| -> Vec<(u64, String)> {
        l.iter().map(|(i, r)| (hashes.get(*i).copied().unwrap_or(0), r.clone())).collect()
    };
    let global = hash_of(&(
        images_fingerprint,
        &state.theme.engine_name,
        format!("{:?}", shop.site),
        &site_json,
        list(featured),
        cohort_picks.iter().map(|l| list(l)).collect::<Vec<_>>(),
    ));
    // Which pages can have changed: all of them, or on the fast path (same global) those
    // that can show a changed product.
    let everything = fast.is_none() || global != state.global;
    let changed: HashSet<usize> = fast.iter().flatten().copied().collect();
    let shows_changed = |l: &[(usize, String)]| l.iter().any(|(i, _)| changed.contains(i));
    // A product's lists can change without naming a changed product (the text statistics
    // of the whole catalog move): compare with the last build's lists.
    let list_changed = |old: Option<&Recs>, new: &Recs, i: usize| old.is_some_and(|old| old.get(i) != new.get(i));
    let (old_related, old_together) = (previous.as_ref().map(|p| &p.related), previous.as_ref().map(|p| &p.together));
    let taxa_changed = |taxa: &[content::Taxon]| -> Vec<bool> {
        taxa.iter().map(|t| everything || t.products.iter().any(|i| changed.contains(i))).collect()
    };
    let category_candidates = taxa_changed(&shop.categories);
    let tag_candidates = taxa_changed(&shop.tags);
    let listings = ListingKeys::new(&shop, &hashes);
    let orders = |taxa: &[content::Taxon], wanted: &[bool]| -> Vec<Vec<Vec<usize>>> {
        taxa.iter().zip(wanted).map(|(t, w)| if *w { listings.orders(t) } else { Vec::new() }).collect()
    };
    timer.mark("global");
    let category_orders = orders(&shop.categories, &category_candidates);
    let tag_orders = orders(&shop.tags, &tag_candidates);
    let recs_of = |r: &Recs, i: usize| list(r.get(i).map_or(&[][..], Vec::as_slice));
    let newest: Vec<u64> = crate::render::new_arrivals(&shop, featured).iter().map(|&i| hashes[i]).collect();
    // What each page renders with: its template, its kind's slot templates and the consent
    // partials, with what they include; a template edit renders again only the pages that
    // use it.
    let mut template_sigs: HashMap<(&str, &str), u64> = HashMap::new();
    for job in &plan.jobs {
        template_sigs
            .entry((job.template, job.kind.name()))
            .or_insert_with(|| template_signature(&state.theme, job.template, job.kind.name(), state.theme_generation));
    }
    let template_sig = |job: &crate::plan::Job| template_sigs.get(&(job.template, job.kind.name())).copied();
    timer.mark("orders");
    // None: not a candidate, the page stays as it is.
    let signatures: Vec<Option<u64>> = plan
        .jobs
        .iter()
        .map(|job| {
            (
                job,
                match job.kind {
                    PageKind::Product(i) => (everything
                        || changed.contains(&i)
                        || related.get(i).is_some_and(|l| shows_changed(l))
                        || together.get(i).is_some_and(|l| shows_changed(l))
                        || list_changed(old_related, related, i)
                        || list_changed(old_together, together, i))
                    .then(|| hash_of(&(global, &job.path, hashes[i], recs_of(related, i), recs_of(together, i)))),
                    PageKind::Category(t, n) => category_candidates[t].then(|| {
                        hash_of(&(global, &job.path, listings.page(&shop.categories[t], &category_orders[t], n)))
                    }),
                    PageKind::Tag(t, n) => tag_candidates[t]
                        .then(|| hash_of(&(global, &job.path, listings.page(&shop.tags[t], &tag_orders[t], n)))),
                    PageKind::Home => Some(hash_of(&(global, &job.path, &newest))),
                    PageKind::Page(i) => Some(hash_of(&(global, &job.path, format!("{:?}", shop.pages[i])))),
                    _ => Some(hash_of(&(global, &job.path))),
                },
            )
        })
        .map(|(job, sig)| sig.map(|sig| hash_of(&(sig, template_sig(job)))))
        .collect();
    let dirty: Vec<usize> = (0..plan.jobs.len())
        .filter(|&j| {
            signatures[j].is_some()
                && state.records.get(&plan.jobs[j].path).is_none_or(|r| r.signature != signatures[j])
        })
        .collect();

    timer.mark("signatures");
    let cards = match kept_cards {
        Some(mut cards) => {
            for &i in &changed {
                cards[i] = context::card(&shop, &shop.products[i]);
            }
            cards
        }
        None => shop.products.iter().map(|p| context::card(&shop, p)).collect(),
    };
    let renderer = Renderer::with_cards(&shop, &state.theme, cards, &recs).map_err(|e| BuildError::Render(vec![e]))?;
    timer.mark("renderer");
    let results: Vec<Result<RenderedPage, crate::render::RenderError>> =
        dirty.par_iter().map(|&j| renderer.render(&plan.jobs[j])).collect();
    let cards = renderer.into_cards();
    timer.mark("render");
    let mut rendered: HashMap<usize, RenderedPage> = HashMap::with_capacity(dirty.len());
    let mut errors = Vec::new();
    for (j, r) in dirty.iter().zip(results) {
        match r {
            Ok(page) => {
                rendered.insert(*j, page);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(BuildError::Render(crate::render::RenderError::merge(errors)));
    }
    let copied_layer = if copied { Some(read_copied(&shop, &state.theme, root)?) } else { None };

    // Everything succeeded: work out the new records and the changes to the served files.
    // Records are kept in place: only the rendered pages' records are replaced, and those of
    // pages no longer planned are dropped.
    let mut records = std::mem::take(&mut state.records);
    let mut removed: HashSet<String> = HashSet::new();
    let mut inserted: Vec<(String, Bytes)> = Vec::new();
    let mut touched: HashSet<String> = HashSet::new();
    let refs = &mut state.fragment_refs;
    let mut counts =
        RefCounts { scripts: &mut state.script_refs, routes: &mut state.route_refs, changes: HashMap::new() };
    let rendered_count = rendered.len();
    if !plan_kept {
        let planned: HashSet<&str> = plan.jobs.iter().map(|job| job.path.as_str()).collect();
        let gone: Vec<String> = records.keys().filter(|p| !planned.contains(p.as_str())).cloned().collect();
        for path in gone {
            if let Some(prev) = records.remove(&path) {
                counts.remove(&prev);
                forget(prev, refs, &mut removed, &mut touched);
            }
        }
    }
    for &j in &dirty {
        let (Some(page), Some(job)) = (rendered.remove(&j), plan.jobs.get(j)) else {
            continue;
        };
        if let Some(prev) = records.remove(&job.path) {
            counts.remove(&prev);
            forget(prev, refs, &mut removed, &mut touched);
        }
        let record_routes = build::variant_routes(&page, job);
        let scripts = build::script_hashes(&page);
        let RenderedPage { file, html, fragments, variants, .. } = page;
        let mut files = vec![file.clone()];
        inserted.push((file, Bytes::from(html.into_bytes())));
        for (vfile, vhtml) in variants {
            files.push(vfile.clone());
            inserted.push((vfile, Bytes::from(vhtml.into_bytes())));
        }
        let mut hashes = Vec::with_capacity(fragments.len());
        for (h, fhtml) in fragments {
            let n = refs.entry(h.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                inserted.push((fragment_path(&h), Bytes::from(fhtml.as_bytes())));
            }
            touched.insert(h.clone());
            hashes.push(h);
        }
        let record = Record { signature: signatures[j], files, fragments: hashes, routes: record_routes, scripts };
        counts.add(&record);
        records.insert(job.path.clone(), record);
    }
    if !plan_kept && let Some(job) = plan.jobs.iter().find(|job| !records.contains_key(&job.path)) {
        let message = format!("internal: no record for /{}", job.path);
        state.records = records;
        return Err(BuildError::Io(message));
    }
    // The product feed shows prices and availability: any edit may change it.
    let sitewide_changed = counts.changed() || !fast_path || shop.site.config.feeds.google;
    for h in touched {
        if refs.get(&h).is_some_and(|n| *n == 0) {
            refs.remove(&h);
            removed.insert(fragment_path(&h));
        }
    }
    timer.mark("records");
    // The sitemap lists the plan's paths and the products' dates: on the fast path neither
    // changed, so the served one is kept rather than written again for every product. The
    // other site-wide files depend on the configuration, the cohort routes and the inline
    // scripts: on the fast path, when no route or script appeared or went, they are kept.
    let kept_sitemap = if fast_path {
        files.read().unwrap_or_else(std::sync::PoisonError::into_inner).sitewide.get("sitemap.xml").cloned()
    } else {
        None
    };
    let sitewide: Option<HashMap<String, Bytes>> = sitewide_changed.then(|| {
        let mut sitemap_entries: Vec<(String, Option<String>)> = match kept_sitemap {
            Some(_) => Vec::new(),
            None => plan.jobs.iter().filter_map(|job| build::sitemap_entry(&shop, job)).collect(),
        };
        let mut routes: Vec<(String, String)> = state.route_refs.keys().cloned().collect();
        let scripts: BTreeSet<String> = state.script_refs.keys().cloned().collect();
        let mut sitewide: HashMap<String, Bytes> =
            build::site_files(&shop, &mut sitemap_entries, &mut routes, &scripts)
                .into_iter()
                .map(|(path, text)| (path.to_string(), Bytes::from(text.into_bytes())))
                .collect();
        if let Some(sitemap) = kept_sitemap {
            sitewide.insert("sitemap.xml".to_string(), sitemap);
        }
        sitewide
    });

    timer.mark("site files");
    let inserted_paths: HashSet<&str> = inserted.iter().map(|(p, _)| p.as_str()).collect();
    let mut files_changed = inserted.len();
    {
        let mut site = files.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for path in &removed {
            if !inserted_paths.contains(path.as_str()) && site.pages.remove(path).is_some() {
                files_changed += 1;
            }
        }
        for (path, bytes) in inserted {
            site.pages.insert(path, bytes);
        }
        if let Some(layer) = copied_layer {
            site.copied = layer;
        }
        if let Some(sitewide) = sitewide {
            site.sitewide = sitewide;
            site.refresh_rules();
        }
        site.base_path = shop.site.base_path.clone();
        let cohorts: Vec<serde_json::Value> = shop
            .site
            .config
            .cohorts
            .iter()
            .map(|c| serde_json::json!({"id": c.id.get_ref(), "label": c.label}))
            .collect();
        site.cohorts_json = Bytes::from(serde_json::to_vec(&cohorts).unwrap_or_default());
    }
    timer.mark("publish");
    state.records = records;
    state.global = global;
    state.cards = Some(cards);
    state.hashes = Some(hashes);
    state.recommendations = Some(recs);
    timer.report();
    state.site_json = site_json;
    let pages = plan.jobs.len();
    state.shop = Some(shop);
    state.plan = Some(plan);
    Ok(Outcome {
        rendered: rendered_count,
        pages,
        files_changed,
        full: theme_changed && rendered_count == pages,
        css_only: false,
        elapsed: Duration::ZERO,
        recommendations_stale: stale,
    })
}

fn fragment_path(hash: &str) -> String {
    format!("_cohort/f/{hash}.html")
}

/// Drops a page's record: its files go, its fragments lose a reference.
fn forget(
    record: Record,
    refs: &mut HashMap<String, usize>,
    removed: &mut HashSet<String>,
    touched: &mut HashSet<String>,
) {
    removed.extend(record.files);
    for h in record.fragments {
        if let Some(n) = refs.get_mut(&h) {
            *n = n.saturating_sub(1);
        }
        touched.insert(h);
    }
}

/// Reference counts of the CSP script hashes and cohort routes over all records.
struct RefCounts<'a> {
    scripts: &'a mut HashMap<String, usize>,
    routes: &'a mut HashMap<(String, String), usize>,
    /// Per key (hashed), appearances minus disappearances during this pass.
    changes: HashMap<u64, i32>,
}

impl RefCounts<'_> {
    fn add(&mut self, record: &Record) {
        for s in &record.scripts {
            count_up(self.scripts, s, &mut self.changes);
        }
        for r in &record.routes {
            count_up(self.routes, r, &mut self.changes);
        }
    }

    fn remove(&mut self, record: &Record) {
        for s in &record.scripts {
            count_down(self.scripts, s, &mut self.changes);
        }
        for r in &record.routes {
            count_down(self.routes, r, &mut self.changes);
        }
    }

    /// Whether a hash or route appeared or disappeared over the whole pass (a page rendered
    /// again drops its routes and adds them back).
    fn changed(&self) -> bool {
        self.changes.values().any(|d| *d != 0)
    }
}

/// `changes` counts appearances (+1) and disappearances (-1) per key, as its hash.
fn count_up<K: std::hash::Hash + Eq + Clone>(refs: &mut HashMap<K, usize>, key: &K, changes: &mut HashMap<u64, i32>) {
    let n = refs.entry(key.clone()).or_insert(0);
    *n += 1;
    if *n == 1 {
        *changes.entry(hash_of(key)).or_insert(0) += 1;
    }
}

fn count_down<K: std::hash::Hash + Eq>(refs: &mut HashMap<K, usize>, key: &K, changes: &mut HashMap<u64, i32>) {
    if let Some(n) = refs.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            refs.remove(key);
            *changes.entry(hash_of(key)).or_insert(0) -= 1;
        }
    }
}

/// Reads the static and bundle files into memory, later ones winning as in a build. A
/// file whose real path lies outside the shop (a symlink) is left out.
fn read_copied(shop: &Shop, theme: &Theme, root: &Path) -> Result<HashMap<String, Bytes>, BuildError> {
    let real_root =
        root.canonicalize().map_err(|e| BuildError::Io(format!("cannot resolve {}: {e}", root.display())))?;
    let mut layer = HashMap::new();
    for (path, source) in build::copied_files(shop, theme) {
        if let Source::File(file) = &source
            && !file.canonicalize().is_ok_and(|real| real.starts_with(&real_root))
        {
            continue;
        }
        let bytes = source.bytes().map_err(|e| BuildError::Io(format!("cannot read static file {path}: {e}")))?;
        layer.insert(path, Bytes::from(bytes.into_owned()));
    }
    Ok(layer)
}

/// Phase timings of a rebuild, printed when `COHORT_SERVE_TIMINGS` is set (for the
/// benchmark and for finding what got slow).
struct Timer {
    on: bool,
    last: Instant,
    phases: Vec<(&'static str, Duration)>,
}

impl Timer {
    fn new() -> Timer {
        Timer { on: std::env::var_os("COHORT_SERVE_TIMINGS").is_some(), last: Instant::now(), phases: Vec::new() }
    }
    fn mark(&mut self, phase: &'static str) {
        if self.on {
            let now = Instant::now();
            self.phases.push((phase, now - self.last));
            self.last = now;
        }
    }
    fn report(&self) {
        if self.on {
            let parts: Vec<String> =
                self.phases.iter().map(|(p, d)| format!("{p} {:.1}", d.as_secs_f64() * 1000.0)).collect();
            eprintln!("  timings (ms): {}", parts.join(", "));
        }
    }
}

/// What a listing page shows, for its signature: the products of its default page and of
/// each cohort's version of its `grid` slot (the cohort's interests first, as the renderer
/// orders them), so a product's change renders again only the listing pages that show it.
struct ListingKeys<'a> {
    hashes: &'a [u64],
    /// Per cohort, per product: whether it comes first in that cohort's listings.
    matches: Vec<Vec<bool>>,
    per_page: usize,
}

impl<'a> ListingKeys<'a> {
    fn new(shop: &Shop, hashes: &'a [u64]) -> ListingKeys<'a> {
        let matches = crate::cohorts::interest_matches(shop);
        ListingKeys { hashes, matches, per_page: (*shop.site.config.paginate_by.get_ref()).max(1) }
    }

    /// Each cohort's order of the taxon's products.
    fn orders(&self, taxon: &content::Taxon) -> Vec<Vec<usize>> {
        self.matches
            .iter()
            .map(|hit| {
                let first = |i: &usize| hit.get(*i).copied().unwrap_or(false);
                let mut order: Vec<usize> = taxon.products.iter().copied().filter(first).collect();
                order.extend(taxon.products.iter().copied().filter(|i| !first(i)));
                order
            })
            .collect()
    }

    fn slice(&self, list: &[usize], page: usize) -> Vec<u64> {
        let start = (page.saturating_sub(1) * self.per_page).min(list.len());
        let end = (start + self.per_page).min(list.len());
        list[start..end].iter().map(|&i| self.hashes[i]).collect()
    }

    fn page(&self, taxon: &content::Taxon, orders: &[Vec<usize>], page: usize) -> u64 {
        let mut parts = vec![self.slice(&taxon.products, page)];
        parts.extend(orders.iter().map(|o| self.slice(o, page)));
        hash_of(&(&taxon.name, &taxon.slug, taxon.products.len(), page, parts))
    }
}
