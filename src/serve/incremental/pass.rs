//! One rendering pass of watch mode, in named phases: [`assemble`] the shop (or keep it),
//! choose the [`recommendations`], hash the products ([`product_hashes`]) and the site
//! ([`signature::global_signature`]), give every page a signature from the renderer's page model
//! ([`signatures`]), render the pages whose signature changed ([`render_dirty`]), update
//! the records of what each page produced ([`update_records`]), compute the site-wide files
//! ([`sitewide_files`]) and [`publish`] the result.

use super::{Pass, Record, RecsFrom, State};
use crate::build::signature::{self, hash_of, product_hash, template_signature};
use crate::build::{self, BuildError, Recommendations};
use crate::content::{self, Shop};
use crate::output::layout;
use crate::plan::{Job, PageKind, Plan};
use crate::render::{PageModel, Recs, RenderError, RenderedPage, Renderer, context};
use crate::serve::site::{Bytes, SiteFiles};
use crate::theme::{Source, Theme};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

type Cards = Vec<minijinja::Value>;

/// Assembles the shop, renders the pages whose signature changed and publishes the result.
/// With `fast` (indices of products changed in place by `fast_update`), the kept shop,
/// plan and cards are reused and only pages that can show those products are considered.
pub(super) fn render(
    state: &mut State,
    root: &Path,
    drafts: bool,
    files: &Arc<RwLock<SiteFiles>>,
    pass: Pass,
) -> Result<super::Outcome, BuildError> {
    let Pass { copied, theme_changed, fast, recs_from } = pass;
    state.generation += 1;
    let mut timer = Timer::new();
    let (mut shop, kept_plan, kept_cards) = assemble(state, root, drafts, fast.is_some(), &mut timer)?;
    timer.mark("assemble");
    let (_, kept_cards) = images(state, &mut shop, copied, kept_cards)?;
    timer.mark("images");
    let site_value = context::site(&shop, &state.theme.name);
    let site_json = serde_json::to_string(&site_value).unwrap_or_default();
    if site_json != state.site_json || theme_changed {
        state.theme.engine.add_global("site", &site_value);
    }
    timer.mark("site global");
    let plan_kept = kept_plan.is_some();
    let plan = kept_plan.unwrap_or_else(|| Plan::new(&shop, |t| state.theme.templates.contains_key(t)));
    timer.mark("plan");
    let (recs, previous, stale) = recommendations(state, &shop, recs_from);
    timer.mark("picks+recs");
    let hashes = product_hashes(state, &shop, fast.as_deref());
    timer.mark("hashes");
    let global = signature::global_signature(&state.theme, &shop, &site_json, &recs, &hashes);
    let changed: HashSet<usize> = fast.iter().flatten().copied().collect();
    // Which pages can have changed: all of them, or on the fast path (same global) those
    // that can show a changed product.
    let everything = fast.is_none() || global != state.global;
    let inputs = Signing { state, shop: &shop, plan: &plan, recs: &recs, previous: previous.as_ref(), hashes: &hashes };
    let signatures = signatures(&inputs, global, everything, &changed);
    let dirty: Vec<usize> = (0..plan.jobs.len())
        .filter(|&j| {
            signatures[j].is_some()
                && state.records.get(&plan.jobs[j].path).is_none_or(|r| r.signature != signatures[j])
        })
        .collect();
    timer.mark("signatures");
    let (rendered, cards, banner) = render_dirty(state, &shop, &plan, &recs, kept_cards, &changed, &dirty)?;
    timer.mark("render");
    let copied_layer = if copied { Some(read_copied(&shop, &state.theme, root)?) } else { None };
    let rendered_count = rendered.len();
    let mut update = update_records(state, &plan, plan_kept, &dirty, rendered, &signatures)?;
    // The product feed shows prices and availability: any edit may change it.
    let banner_changed = banner != state.banner;
    state.banner = banner;
    let sitewide_changed = update.refs_changed || fast.is_none() || shop.site.config.feeds.google || banner_changed;
    timer.mark("records");
    let sitewide = sitewide_changed.then(|| {
        let mut files = sitewide_files(state, &shop, &plan, fast.is_some(), files);
        files.extend(state.banner.clone());
        files
    });
    timer.mark("site files");
    update.copied = copied_layer;
    update.sitewide = sitewide;
    let files_changed = publish(files, update, &shop);
    timer.mark("publish");
    state.global = global;
    state.cards = Some(cards);
    state.hashes = Some(hashes);
    state.recommendations = Some(recs);
    timer.report();
    state.site_json = site_json;
    let pages = plan.jobs.len();
    state.shop = Some(shop);
    state.plan = Some(plan);
    Ok(super::Outcome {
        rendered: rendered_count,
        pages,
        files_changed,
        full: theme_changed && rendered_count == pages,
        css_only: false,
        elapsed: Duration::ZERO,
        recommendations_stale: stale,
    })
}

/// The shop to render: the kept one on the fast path (with its plan and cards), else
/// assembled again from the parsed files (with the cards kept by the caller, if they still
/// fit).
fn assemble(
    state: &mut State,
    root: &Path,
    drafts: bool,
    fast: bool,
    timer: &mut Timer,
) -> Result<(Shop, Option<Plan>, Option<Cards>), BuildError> {
    if fast {
        return match (state.shop.take(), state.plan.take(), state.cards.take()) {
            (Some(shop), Some(plan), Some(cards)) => Ok((shop, Some(plan), Some(cards))),
            _ => Err(BuildError::Internal("nothing kept for the fast path".into())),
        };
    }
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
    Ok((shop, None, cards))
}

/// The recommendations to render with, the last build's to compare with (None when they
/// are the ones used), and whether fresh ones must follow.
fn recommendations(
    state: &mut State,
    shop: &Shop,
    recs_from: RecsFrom,
) -> (Recommendations, Option<Recommendations>, bool) {
    let stale = matches!(recs_from, RecsFrom::Kept) && state.recommendations.is_some();
    let (recs, previous) = match recs_from {
        RecsFrom::Given(recs) => (recs, Some(state.recommendations.take().unwrap_or_default())),
        RecsFrom::Kept if stale => (state.recommendations.take().unwrap_or_default(), None),
        RecsFrom::Same if state.recommendations.is_some() => (state.recommendations.take().unwrap_or_default(), None),
        _ => {
            let recs = build::recommendations(shop, state.aggregates.as_ref());
            (recs, Some(state.recommendations.take().unwrap_or_default()))
        }
    };
    (recs, previous, stale)
}

/// The hash of each product of `shop`, in order: the kept ones with those changed in place
/// (`fast`) hashed again, or the catalog's.
fn product_hashes(state: &mut State, shop: &Shop, fast: Option<&[usize]>) -> Vec<u64> {
    match (fast, state.hashes.take()) {
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
    }
}

/// Images (`crate::images`): processed again (through the image cache, so only a changed one
/// is decoded) when static or bundle files changed; a changed image changes the cards and
/// pages that show it. Returns the catalog's fingerprint and the cards still valid.
fn images(
    state: &mut State,
    shop: &mut Shop,
    copied: bool,
    kept_cards: Option<Cards>,
) -> Result<(u64, Option<Cards>), BuildError> {
    if copied || state.images.is_none() {
        state.images = Some(build::process_images(shop, &state.theme)?);
    }
    shop.images = state.images.clone().unwrap_or_default();
    let fingerprint = shop.images.fingerprint();
    let kept_cards = kept_cards.filter(|_| fingerprint == state.images_fingerprint);
    state.images_fingerprint = fingerprint;
    Ok((fingerprint, kept_cards))
}

/// What page signatures are computed from.
struct Signing<'a> {
    state: &'a State,
    shop: &'a Shop,
    plan: &'a Plan,
    recs: &'a Recommendations,
    /// The last build's recommendations, when they differ from `recs`.
    previous: Option<&'a Recommendations>,
    hashes: &'a [u64],
}

/// Each planned page's signature, None for a page that cannot have changed (it stays as it
/// is): the identity of what it shows (the renderer's [`PageModel`]), the site's `global`
/// signature and the templates it renders with.
fn signatures(s: &Signing, global: u64, everything: bool, changed: &HashSet<usize>) -> Vec<Option<u64>> {
    let Signing { state, shop, plan, recs, previous, hashes } = *s;
    let (related, together) = (&recs.related, &recs.together);
    let shows_changed = |l: &[(usize, String)]| l.iter().any(|(i, _)| changed.contains(i));
    // A product's lists can change without naming a changed product (the text statistics
    // of the whole catalog move): compare with the last build's lists.
    let list_changed = |old: Option<&Recs>, new: &Recs, i: usize| old.is_some_and(|old| old.get(i) != new.get(i));
    let (old_related, old_together) = (previous.map(|p| &p.related), previous.map(|p| &p.together));
    let taxa_changed = |taxa: &[content::Taxon]| -> Vec<bool> {
        taxa.iter().map(|t| everything || t.products.iter().any(|i| changed.contains(i))).collect()
    };
    let category_candidates = taxa_changed(&shop.categories);
    let tag_candidates = taxa_changed(&shop.tags);
    let model = PageModel::new(shop, recs);
    // What each page renders with: its template, its kind's slot templates and the consent
    // partials, with what they include; a template edit renders again only the pages that
    // use it.
    let mut template_sigs: HashMap<(&str, &str), u64> = HashMap::new();
    for job in &plan.jobs {
        template_sigs
            .entry((job.template, job.kind.name()))
            .or_insert_with(|| template_signature(&state.theme, job.template, job.kind.name(), state.theme_generation));
    }
    let template_sig = |job: &Job| template_sigs.get(&(job.template, job.kind.name())).copied();
    plan.jobs
        .iter()
        .map(|job| {
            let candidate = match job.kind {
                PageKind::Product(i) => {
                    everything
                        || changed.contains(&i)
                        || related.get(i).is_some_and(|l| shows_changed(l))
                        || together.get(i).is_some_and(|l| shows_changed(l))
                        || list_changed(old_related, related, i)
                        || list_changed(old_together, together, i)
                }
                PageKind::Category(t, _) => category_candidates[t],
                PageKind::Tag(t, _) => tag_candidates[t],
                _ => true,
            };
            candidate.then(|| signature::page_signature(&model, shop, recs, hashes, global, job, template_sig(job)))
        })
        .collect()
}

/// One served file: its path and bytes.
type SiteFile = (String, Bytes);
/// Rendered pages by their index in the plan.
type RenderedPages = HashMap<usize, RenderedPage>;

/// Renders the `dirty` pages (indices into the plan) with the product cards (the kept ones
/// with the `changed` products' cards made again); gives the cards back for the next pass.
fn render_dirty(
    state: &State,
    shop: &Shop,
    plan: &Plan,
    recs: &Recommendations,
    kept_cards: Option<Cards>,
    changed: &HashSet<usize>,
    dirty: &[usize],
) -> Result<(RenderedPages, Cards, Option<SiteFile>), BuildError> {
    let cards = match kept_cards {
        Some(mut cards) => {
            for &i in changed {
                cards[i] = context::card(shop, &shop.products[i]);
            }
            cards
        }
        None => shop.products.par_iter().map(|p| context::card(shop, p)).collect(),
    };
    let renderer = Renderer::with_cards(shop, &state.theme, cards, recs).map_err(|e| BuildError::Render(vec![e]))?;
    let results: Vec<Result<RenderedPage, RenderError>> =
        dirty.par_iter().map(|&j| renderer.render(&plan.jobs[j])).collect();
    let banner = renderer.consent_ui.banner_file().map(|(path, text)| (path, Bytes::from(text.as_bytes())));
    let cards = renderer.into_cards();
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
        return Err(BuildError::Render(RenderError::merge(errors)));
    }
    Ok((rendered, cards, banner))
}

/// The changes one pass makes to the served files.
#[derive(Default)]
struct Update {
    /// Files that went (unless inserted again).
    removed: HashSet<String>,
    /// Files written, with their bytes.
    inserted: Vec<(String, Bytes)>,
    /// Whether a CSP script hash or a cohort route appeared or went.
    refs_changed: bool,
    /// The static and bundle files, when read again.
    copied: Option<HashMap<String, Bytes>>,
    /// The site-wide files, when computed again.
    sitewide: Option<HashMap<String, Bytes>>,
}

/// Replaces the records of the rendered pages (and drops those of pages no longer
/// planned) in place, keeping the fragment, script and route reference counts.
fn update_records(
    state: &mut State,
    plan: &Plan,
    plan_kept: bool,
    dirty: &[usize],
    mut rendered: HashMap<usize, RenderedPage>,
    signatures: &[Option<u64>],
) -> Result<Update, BuildError> {
    let mut records = std::mem::take(&mut state.records);
    let mut update = Update::default();
    let mut touched: HashSet<String> = HashSet::new();
    let refs = &mut state.fragment_refs;
    let mut counts =
        RefCounts { scripts: &mut state.script_refs, routes: &mut state.route_refs, changes: HashMap::new() };
    if !plan_kept {
        let planned: HashSet<&str> = plan.jobs.iter().map(|job| job.path.as_str()).collect();
        let gone: Vec<String> = records.keys().filter(|p| !planned.contains(p.as_str())).cloned().collect();
        for path in gone {
            if let Some(prev) = records.remove(&path) {
                counts.remove(&prev);
                forget(prev, refs, &mut update.removed, &mut touched);
            }
        }
    }
    for &j in dirty {
        let (Some(page), Some(job)) = (rendered.remove(&j), plan.jobs.get(j)) else {
            continue;
        };
        if let Some(prev) = records.remove(&job.path) {
            counts.remove(&prev);
            forget(prev, refs, &mut update.removed, &mut touched);
        }
        let record_routes = build::variant_routes(&page, job);
        let scripts = build::script_hashes(&page);
        let RenderedPage { file, html, fragments, variants, .. } = page;
        let mut files = vec![file.clone()];
        update.inserted.push((file, Bytes::from(html.into_bytes())));
        for (vfile, vhtml) in variants {
            files.push(vfile.clone());
            update.inserted.push((vfile, Bytes::from(vhtml.into_bytes())));
        }
        let mut hashes = Vec::with_capacity(fragments.len());
        for (h, fhtml) in fragments {
            let n = refs.entry(h.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                update.inserted.push((layout::fragment(&h), Bytes::from(fhtml.as_bytes())));
            }
            touched.insert(h.clone());
            hashes.push(h);
        }
        let record = Record { signature: signatures[j], files, fragments: hashes, routes: record_routes, scripts };
        counts.add(&record);
        records.insert(job.path.clone(), record);
    }
    update.refs_changed = counts.changed();
    for h in touched {
        if refs.get(&h).is_some_and(|n| *n == 0) {
            refs.remove(&h);
            update.removed.insert(layout::fragment(&h));
        }
    }
    let missing = (!plan_kept).then(|| plan.jobs.iter().find(|job| !records.contains_key(&job.path))).flatten();
    let missing = missing.map(|job| format!("no record for /{}", job.path));
    state.records = records;
    match missing {
        Some(message) => Err(BuildError::Internal(message)),
        None => Ok(update),
    }
}

/// The site-wide files. The sitemap lists the plan's paths and the products' dates: on the
/// fast path neither changed, so the served one is kept rather than written again for every
/// product. The other site-wide files depend on the configuration, the cohort routes and
/// the inline scripts.
fn sitewide_files(
    state: &State,
    shop: &Shop,
    plan: &Plan,
    fast: bool,
    files: &Arc<RwLock<SiteFiles>>,
) -> HashMap<String, Bytes> {
    let kept_sitemap = if fast {
        files.read().unwrap_or_else(std::sync::PoisonError::into_inner).sitewide.get(layout::SITEMAP).cloned()
    } else {
        None
    };
    let mut sitemap_entries: Vec<(String, Option<String>)> = match kept_sitemap {
        Some(_) => Vec::new(),
        None => plan.jobs.iter().filter_map(|job| build::sitemap_entry(shop, job)).collect(),
    };
    let mut routes: Vec<(String, String)> = state.route_refs.keys().cloned().collect();
    let scripts: BTreeSet<String> = state.script_refs.keys().cloned().collect();
    let mut sitewide: HashMap<String, Bytes> = build::site_files(shop, &mut sitemap_entries, &mut routes, &scripts)
        .into_iter()
        .map(|(path, text)| (path.to_string(), Bytes::from(text.into_bytes())))
        .collect();
    if let Some(sitemap) = kept_sitemap {
        sitewide.insert(layout::SITEMAP.to_string(), sitemap);
    }
    sitewide
}

/// Puts the pass's changes into the served site; returns how many files changed.
fn publish(files: &Arc<RwLock<SiteFiles>>, update: Update, shop: &Shop) -> usize {
    let Update { removed, inserted, copied, sitewide, .. } = update;
    let inserted_paths: HashSet<&str> = inserted.iter().map(|(p, _)| p.as_str()).collect();
    let mut files_changed = inserted.len();
    let mut site = files.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    for path in &removed {
        if !inserted_paths.contains(path.as_str()) && site.pages.remove(path).is_some() {
            files_changed += 1;
        }
    }
    for (path, bytes) in inserted {
        site.pages.insert(path, bytes);
    }
    if let Some(layer) = copied {
        site.copied = layer;
    }
    if let Some(sitewide) = sitewide {
        site.sitewide = sitewide;
        site.refresh_rules();
    }
    site.base_path = shop.site.base_path.clone();
    let cohorts: Vec<serde_json::Value> =
        shop.site.config.cohorts.iter().map(|c| serde_json::json!({"id": c.id.get_ref(), "label": c.label})).collect();
    site.cohorts_json = Bytes::from(serde_json::to_vec(&cohorts).unwrap_or_default());
    files_changed
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
    let real_root = root.canonicalize().map_err(|e| BuildError::io("cannot resolve", root, e))?;
    let mut layer = HashMap::new();
    for (path, source) in build::copied_files(shop, theme) {
        if let Source::File(file) = &source
            && !file.canonicalize().is_ok_and(|real| real.starts_with(&real_root))
        {
            continue;
        }
        let bytes = source.bytes().map_err(|e| BuildError::io("cannot read static file", &path, e))?;
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
