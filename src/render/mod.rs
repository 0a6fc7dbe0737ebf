//! Rendering one planned page: its default version, each cohort's version of its slots
//! (written as content-addressed fragments), and full-page cohort variants where asked.
//! Pages render in parallel; everything here is read-only and shared across threads.

pub mod context;
pub mod error;
pub mod model;
mod page;
pub mod partial_cache;

pub use error::{RenderError, RenderErrorKind};
pub use model::{PageInputs, PageModel, new_arrivals};

use crate::cohorts::{fragment_hash, invariance, slots};
use crate::content::Shop;
use crate::output::csp;
use crate::plan::{Job, PageKind, listing_path, page_count};
use crate::runtime;
use crate::theme::Theme;
use crate::theme::engine::TemplateError;
use minijinja::Value as V;
use minijinja::value::{Enumerator, Object, Serde};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A rendered page and what it brought with it.
pub struct RenderedPage {
    /// Output file relative to the output folder.
    pub file: String,
    /// The page's HTML.
    pub html: String,
    /// Fragments (hash, html) its slots refer to. The html is shared: a fragment that
    /// appears on many pages (a product-page picks block) exists once in memory.
    pub fragments: Vec<(String, Arc<str>)>,
    /// Full-page variants (output file, html).
    pub variants: Vec<(String, String)>,
    /// CSP sources of the inline scripts in the page, its variants and its fragments.
    pub script_hashes: Vec<String>,
}

/// A slot's default content and each differing cohort's version (see
/// [`Renderer::slot_versions`]).
pub struct SlotVersions {
    /// The slot as everyone sees it by default.
    pub default_html: String,
    /// (cohort id, fragment hash, html).
    pub cohorts: Vec<(String, String, String)>,
}

/// A cohort as the renderer sees it.
struct CohortView {
    id: String,
    info: V,
    /// None when the cohort sees the default.
    hero: Option<V>,
    /// None when the cohort sees the default.
    picks: Option<V>,
    /// The cohort's `picks` slot on product pages, the same on every product page: its
    /// fragment hash and html, rendered, compared and checked by the guard once. None when
    /// it equals the default.
    product_picks: Option<(String, Arc<str>)>,
}

/// Recommendation lists per product: (product index, plain-language reason).
pub type Recs = Vec<Vec<(usize, String)>>;

/// Renders the pages of one build: everything pages share, prepared once.
pub struct Renderer<'a> {
    shop: &'a Shop,
    theme: &'a Theme,
    cards: Vec<V>,
    /// `render_card`'s cache of card HTML (see [`partial_cache`]), passed to every template.
    partials: V,
    cohorts: Vec<CohortView>,
    default_hero: V,
    default_picks: V,
    /// What each page shows: new arrivals, listing orders and pages ([`model`]).
    model: PageModel,
    /// The `picks` slot every product page shows, already wrapped with its cohort keys.
    default_product_picks: Option<String>,
    related: &'a Recs,
    together: &'a Recs,
    guard: invariance::Reference,
    /// The banner and preferences wording every page shows, and their hash.
    pub consent_ui: runtime::ConsentUi,
    /// The runtime's configuration, all but the page's interests.
    page_config: runtime::PageConfig,
    /// The third-party declarations every written page is gated by.
    gate: crate::gate::Gate,
}

impl<'a> Renderer<'a> {
    /// Prepares everything pages share: product cards, each cohort's picks (in the order of
    /// `[[cohorts]]`) and the featured list everyone sees by default.
    pub fn new(shop: &'a Shop, theme: &'a Theme, recs: &'a crate::build::Recommendations) -> Result<Self, RenderError> {
        use rayon::prelude::*;
        let cards: Vec<V> = shop.products.par_iter().map(|p| context::card(shop, p)).collect();
        Self::with_cards(shop, theme, cards, recs)
    }

    /// As [`Renderer::new`], with the product cards (`context::card` of every product, in
    /// order) already computed: watch mode keeps them between rebuilds.
    pub fn with_cards(
        shop: &'a Shop,
        theme: &'a Theme,
        cards: Vec<V>,
        recs: &'a crate::build::Recommendations,
    ) -> Result<Self, RenderError> {
        let featured: Vec<usize> = recs.featured.iter().map(|(i, _)| *i).collect();
        let picks = &recs.cohort_picks;
        let (title, reason) = if recs.featured_popular {
            (
                "Popular right now",
                "The most bought products, from the shop's anonymized order counts. Everyone sees these until they choose a preference; nothing about you is used.",
            )
        } else {
            (
                "Featured",
                "Chosen by the shop, in its own order. Everyone sees these until they choose a preference; nothing about you is used.",
            )
        };
        let default_picks = rec_block(&cards, &recs.featured, title, Some(reason));
        let default_hero = context::default_hero(shop);
        let mut cohorts = Vec::new();
        for (ci, c) in shop.site.config.cohorts.iter().enumerate() {
            let list = picks.get(ci).cloned().unwrap_or_default();
            let same_as_default = list.iter().map(|(i, _)| *i).eq(featured.iter().copied());
            let hero = c
                .hero
                .as_ref()
                .map(|h| context::hero_value(shop, &h.title, &h.text, h.image.as_deref()))
                .filter(|h| *h != default_hero)
                .map(|h| V::from(Serde(&h)));
            cohorts.push(CohortView {
                id: c.id.get_ref().clone(),
                info: V::from(Serde(&json!({"id": c.id.get_ref(), "label": c.label, "description": c.description}))),
                hero,
                picks: (!same_as_default).then(|| {
                    rec_block(
                        &cards,
                        &list,
                        &format!("Picked for {}", c.label),
                        Some(&format!(
                            "Because you chose {}. Chosen on this device; the shop does not know who you are.",
                            c.label
                        )),
                    )
                }),
                product_picks: None,
            });
        }
        let partials = V::from_object(partial_cache::PartialCache::new(&cards));
        let mut r = Renderer {
            shop,
            theme,
            cards,
            partials,
            cohorts,
            default_hero: V::from(Serde(&default_hero)),
            default_picks,
            model: PageModel::new(shop, recs),
            default_product_picks: None,
            related: &recs.related,
            together: &recs.together,
            guard: invariance::Reference::new(shop),
            consent_ui: runtime::ConsentUi::default(),
            page_config: runtime::PageConfig::new(shop, ""),
            gate: crate::gate::Gate::new(&shop.site),
        };
        // The consent UI is rendered once, with only the `site` global, so every page shows
        // the same bytes and the hash proves what was shown.
        let partial = |name: &str| -> Result<String, RenderError> {
            if theme.engine.has(name) {
                theme
                    .engine
                    .render(name, &V::from(BTreeMap::<&str, V>::new()))
                    .map_err(|e| template_error(shop, theme, e, name))
            } else {
                Ok(String::new())
            }
        };
        // A banner with an element from a declared third party that needs consent, or one
        // gated by hand, stays in the page, where the page's gate makes it inert and brings
        // cohort-gate.js to activate it (a fetched banner file is neither gated nor counted).
        let banner = partial("partials/consent-banner.html")?;
        let gated = crate::gate::rewrite_fragment(&banner, &r.gate).gated > 0;
        r.consent_ui = runtime::ConsentUi::new(banner, partial("partials/consent-choices.html")?, gated);
        r.page_config = runtime::PageConfig::new(shop, &r.consent_ui.hash);
        // The product-page picks block does not depend on the product: render, compare,
        // guard and hash each cohort's version once, and wrap the default once.
        if r.theme.slots.get("product").is_some_and(|s| s.iter().any(|n| n == "picks")) {
            let page = V::from(BTreeMap::from([("kind", V::from("product"))]));
            let shared = |e| template_error(shop, theme, e, "slots/picks.html");
            let default_html = r.render_slot("picks", &page, "picks", &r.default_picks, None).map_err(shared)?;
            let mut keys = Vec::new();
            for ci in 0..r.cohorts.len() {
                let Some(picks) = &r.cohorts[ci].picks else {
                    continue;
                };
                let html = r.render_slot("picks", &page, "picks", picks, Some(ci)).map_err(shared)?;
                let id = &r.cohorts[ci].id;
                let Some((hash, html)) = cohort_fragment(&r.guard, html, &default_html)
                    .map_err(|e| RenderError::new(guard(id, "picks", e)))?
                else {
                    continue;
                };
                keys.push((id.clone(), hash.clone()));
                r.cohorts[ci].product_picks = Some((hash, Arc::from(html)));
            }
            r.default_product_picks = Some(slots::wrap("picks", &keys, &default_html, None));
        }
        Ok(r)
    }

    /// Gives the product cards back (see [`Renderer::with_cards`]).
    pub fn into_cards(self) -> Vec<V> {
        self.cards
    }

    fn render_slot(
        &self,
        name: &str,
        page: &V,
        var: &str,
        data: &V,
        cohort: Option<usize>,
    ) -> Result<String, TemplateError> {
        // A slot sees `page`, its own data and `cohort` (and the `site` global): a small
        // context, since slots are rendered once per cohort.
        let ctx = V::from(BTreeMap::from([
            ("page", page.clone()),
            (var, data.clone()),
            ("cohort", cohort.map_or(V::from(()), |ci| self.cohorts[ci].info.clone())),
            (partial_cache::VAR, self.partials.clone()),
        ]));
        let template = format!("slots/{name}.html");
        // Gated before it is compared and hashed, so a cohort's fragment (inserted by
        // cohort.js) never brings in a third party the visitor did not agree to.
        self.theme.engine.render(&template, &ctx).map(|html| crate::gate::rewrite_fragment(&html, &self.gate).html)
    }

    /// What each page shows (the model the renderer draws pages from).
    pub fn model(&self) -> &PageModel {
        &self.model
    }

    /// Product cards rendered with the card template so far, and cards taken from the cache
    /// (see [`partial_cache`]).
    pub fn card_counts(&self) -> (usize, usize) {
        self.partials.downcast_object_ref::<partial_cache::PartialCache>().map_or((0, 0), |c| c.card_counts())
    }

    /// Renders one page with its slots, fragments and variants.
    pub fn render(&self, job: &Job) -> Result<RenderedPage, RenderError> {
        let (mut ctx, source) = self.page_context(job);
        let page = V::from(Serde(&ctx.page));
        let kind = job.kind.name();
        let slot_names: Vec<String> = self.theme.slots.get(kind).cloned().unwrap_or_default();
        let mut fragments = Vec::new();
        let mut slot_html: BTreeMap<String, String> = BTreeMap::new();
        // Per cohort: slot name → that cohort's content.
        let mut cohort_slots: BTreeMap<usize, BTreeMap<String, Arc<str>>> = BTreeMap::new();
        let mut keys_by_slot: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut default_by_slot: BTreeMap<String, String> = BTreeMap::new();
        for name in &slot_names {
            if let ("picks", Some(wrapped), PageKind::Product(_)) =
                (name.as_str(), &self.default_product_picks, job.kind)
            {
                // Product pages have no full-page variants: only the fragments matter.
                fragments.extend(self.cohorts.iter().filter_map(|c| c.product_picks.clone()));
                slot_html.insert(name.clone(), wrapped.clone());
                continue;
            }
            let (var, default_data) = self.slot_data(job, name, None);
            let default_html = self
                .render_slot(name, &page, var, &default_data.unwrap_or_default(), None)
                .map_err(|e| self.template_error(job, &source, e))?;
            let mut keys = Vec::new();
            for ci in 0..self.cohorts.len() {
                let (var, Some(data)) = self.slot_data(job, name, Some(ci)) else {
                    continue;
                };
                let html = self
                    .render_slot(name, &page, var, &data, Some(ci))
                    .map_err(|e| self.template_error(job, &source, e))?;
                let id = &self.cohorts[ci].id;
                let Some((hash, html)) = cohort_fragment(&self.guard, html, &default_html)
                    .map_err(|e| RenderError::new(guard(id, name, e)).on_page(&job.path, &source))?
                else {
                    continue;
                };
                let html: Arc<str> = Arc::from(html);
                keys.push((id.clone(), hash.clone()));
                fragments.push((hash, html.clone()));
                cohort_slots.entry(ci).or_default().insert(name.clone(), html);
            }
            slot_html.insert(name.clone(), slots::wrap(name, &keys, &default_html, None));
            keys_by_slot.insert(name.clone(), keys);
            default_by_slot.insert(name.clone(), default_html);
        }
        let default_wrapped = slot_html;
        let html = self
            .theme
            .engine
            .render(job.template, &ctx.value(page, V::from(default_wrapped.clone())))
            .map_err(|e| self.template_error(job, &source, e))?;

        let mut variants = Vec::new();
        let mut script_hashes = csp::inline_script_hashes(&html);
        if job.kind.has_page_variants(&self.shop.site) && !cohort_slots.is_empty() {
            // The variant is the default page with the cohort's fragments spliced in and a
            // noindex tag: the default page is cut once at its slots. A theme that prints a
            // slot twice or has no </head> gets each variant rendered again instead.
            let cuts = Cuts::new(&html, &slot_names, &default_wrapped);
            for (ci, contents) in &cohort_slots {
                let id = &self.cohorts[*ci].id;
                let wrapped = |name: &String| {
                    let content = match contents.get(name) {
                        Some(html) => html,
                        None => default_by_slot.get(name).map_or("", String::as_str),
                    };
                    let keys = keys_by_slot.get(name).map_or(&[][..], Vec::as_slice);
                    slots::wrap(name, keys, content, Some(id))
                };
                let vhtml = match &cuts {
                    // The spliced parts are fragments the guard has already checked; their
                    // scripts are the only ones the default page does not have.
                    Some(cuts) => {
                        for content in contents.values() {
                            script_hashes.extend(csp::inline_script_hashes(content));
                        }
                        cuts.splice(&wrapped)
                    }
                    None => {
                        let map: BTreeMap<String, String> =
                            slot_names.iter().map(|n| (n.clone(), wrapped(n))).collect();
                        let cohort = &self.shop.site.config.cohorts[*ci];
                        ctx.page["noindex"] = json!(true);
                        ctx.page["variant"] =
                            json!({"id": id, "label": cohort.label, "description": cohort.description});
                        let vpage = V::from(Serde(&ctx.page));
                        let v = self
                            .theme
                            .engine
                            .render(job.template, &ctx.value(vpage, V::from(map)))
                            .map_err(|e| self.template_error(job, &source, e))?;
                        self.guard.check(&v).map_err(|detail| {
                            let kind = RenderErrorKind::Guard { cohort: id.clone(), slot: None, detail };
                            RenderError::new(kind).on_page(&job.path, &source)
                        })?;
                        script_hashes.extend(csp::inline_script_hashes(&v));
                        v
                    }
                };
                variants.push((crate::output::layout::variant(id, &job.output_file()), vhtml));
            }
        }
        // Third parties under consent: the page and each variant as written (crate::gate).
        // Gating keeps every inline script's bytes, so the hashes above stay right.
        let html = crate::gate::rewrite(&html, &self.gate).html;
        let variants = variants.into_iter().map(|(f, v)| (f, crate::gate::rewrite(&v, &self.gate).html)).collect();
        Ok(RenderedPage { file: job.output_file(), html, fragments, variants, script_hashes })
    }

    /// One slot rendered on its own, for pages Cohort did not render (plugin mode,
    /// `cohort personalize`): the default content and, for each cohort whose content
    /// differs, `(cohort id, fragment hash, html)` in the order of `[[cohorts]]`. Every
    /// cohort version has passed the price invariance guard. `job` says which product or
    /// listing the slot is about; its template is not used.
    pub fn slot_versions(&self, job: &Job, name: &str) -> Result<SlotVersions, RenderError> {
        let page = V::from(BTreeMap::from([
            ("kind", V::from(job.kind.name())),
            ("path", V::from(job.path.as_str())),
            ("url", V::from(self.shop.site.url(&job.path))),
        ]));
        let (var, Some(default_data)) = self.slot_data(job, name, None) else {
            let message = format!("slot `{name}` has no data on a {} page", job.kind.name());
            return Err(RenderError::new(RenderErrorKind::Other(message)));
        };
        let shared = |e| template_error(self.shop, self.theme, e, &format!("slots/{name}.html"));
        let default_html = self.render_slot(name, &page, var, &default_data, None).map_err(shared)?;
        let mut cohorts = Vec::new();
        for ci in 0..self.cohorts.len() {
            let (_, Some(data)) = self.slot_data(job, name, Some(ci)) else {
                continue;
            };
            let html = self.render_slot(name, &page, var, &data, Some(ci)).map_err(shared)?;
            let Some((hash, html)) = cohort_fragment(&self.guard, html, &default_html)
                .map_err(|e| RenderError::new(guard(&self.cohorts[ci].id, name, e)))?
            else {
                continue;
            };
            cohorts.push((self.cohorts[ci].id.clone(), hash, html));
        }
        Ok(SlotVersions { default_html, cohorts })
    }

    /// A template error found while rendering `job`'s page (from content file `source`).
    fn template_error(&self, job: &Job, source: &str, e: TemplateError) -> RenderError {
        template_error(self.shop, self.theme, e, job.template).on_page(&job.path, source)
    }
}

/// What the shop may keep on the device: the runtime's keys, and the cart's key when the
/// shop has a cart (strictly necessary: the visitor asked for it).
pub(super) fn storage(shop: &Shop) -> Value {
    let mut list = runtime::storage_context(&shop.site.config.privacy);
    if shop.site.checkout.as_ref().is_some_and(crate::checkout::Checkout::has_cart)
        && let Value::Array(items) = &mut list
    {
        items.push(crate::checkout::storage_entry());
    }
    list
}

/// A cohort's version of a slot as a fragment (hash, html), or None when it is the default;
/// the error is what the price guard found.
fn cohort_fragment(
    guard: &invariance::Reference,
    html: String,
    default_html: &str,
) -> Result<Option<(String, String)>, String> {
    if html == default_html {
        return Ok(None);
    }
    guard.check(&html)?;
    Ok(Some((fragment_hash(&html), html)))
}

/// What the price guard found in cohort `cohort`'s version of slot `slot`.
fn guard(cohort: &str, slot: &str, detail: String) -> RenderErrorKind {
    RenderErrorKind::Guard { cohort: cohort.to_string(), slot: Some(slot.to_string()), detail }
}

/// An engine error placed in the file of its template (`fallback` when the engine did not
/// name one): the shop's override or the theme's file.
fn template_error(shop: &Shop, theme: &Theme, mut e: TemplateError, fallback: &str) -> RenderError {
    let name = e.template.get_or_insert_with(|| fallback.to_string()).clone();
    RenderError::new(RenderErrorKind::Template { file: theme.template_file(&shop.root, &name), error: e })
}

const NOINDEX: &str = "<meta name=\"robots\" content=\"noindex\">";

/// The interests a page counts on the device: its product's category and tags, its listing.
pub fn page_interests(shop: &Shop, kind: PageKind) -> Vec<String> {
    match kind {
        PageKind::Product(i) => {
            let p = &shop.products[i];
            runtime::page_interests(std::iter::once(p.category.as_str()).chain(p.tags.iter().map(String::as_str)))
        }
        PageKind::Category(t, _) => vec![shop.categories[t].slug.clone()],
        PageKind::Tag(t, _) => vec![shop.tags[t].slug.clone()],
        _ => Vec::new(),
    }
}

/// A recommendation block: `title`, the block's rule (`reason`), its `products` (the shared
/// cards themselves, so `render_card` reuses them) and `reasons`, one per product (`title`,
/// `url`, `reason`), for the block's single "Why am I seeing this?".
fn rec_block(cards: &[V], list: &[(usize, String)], title: &str, reason: Option<&str>) -> V {
    let products: V = list.iter().map(|(i, _)| cards[*i].clone()).collect();
    let reasons: V = list
        .iter()
        .filter(|(_, why)| !why.is_empty())
        .map(|(i, why)| {
            let card = &cards[*i];
            let field = |name: &str| card.get_attr(name).unwrap_or_default();
            V::from(BTreeMap::from([
                ("title", field("title")),
                ("url", field("url")),
                ("reason", V::from(why.as_str())),
            ]))
        })
        .collect();
    let mut map = BTreeMap::from([("title", V::from(title)), ("products", products), ("reasons", reasons)]);
    if let Some(reason) = reason {
        map.insert("reason", V::from(reason));
    }
    V::from(map)
}

/// `base` (a map) with some fields added or replaced, without copying it.
fn with_fields(base: &V, fields: Vec<(&'static str, V)>) -> V {
    V::from_object(Overlay { base: base.clone(), fields })
}

/// A map seen through a few added or replaced fields: a product card with a reason, a body
/// or a cohort's copy.
#[derive(Debug)]
struct Overlay {
    base: V,
    fields: Vec<(&'static str, V)>,
}

impl Object for Overlay {
    fn get_value(self: &Arc<Self>, key: &V) -> Option<V> {
        if let Some(name) = key.as_str()
            && let Some((_, v)) = self.fields.iter().find(|(n, _)| *n == name)
        {
            return Some(v.clone());
        }
        self.base.get_item(key).ok().filter(|v| !v.is_undefined())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<V> = self.base.try_iter().map(Iterator::collect).unwrap_or_default();
        keys.extend(self.fields.iter().map(|(n, _)| V::from(*n)));
        keys.sort();
        keys.dedup();
        Enumerator::Values(keys)
    }
}

/// The default page cut at each slot's wrapper (and where the noindex tag goes), so each
/// cohort's variant is the pieces joined with that cohort's slots in between.
struct Cuts<'h> {
    html: &'h str,
    /// (start, end, slot name or None for the noindex tag), in page order.
    cuts: Vec<(usize, usize, Option<&'h String>)>,
}

impl<'h> Cuts<'h> {
    /// None when a slot does not appear exactly once, or the page has no `</head>`.
    fn new(html: &'h str, names: &'h [String], defaults: &BTreeMap<String, String>) -> Option<Cuts<'h>> {
        let mut cuts = Vec::with_capacity(names.len() + 1);
        for name in names {
            let old = defaults.get(name)?;
            let mut found = memchr::memmem::find_iter(html.as_bytes(), old.as_bytes());
            let at = found.next()?;
            if found.next().is_some() {
                return None;
            }
            cuts.push((at, at + old.len(), Some(name)));
        }
        if !html.contains(NOINDEX) {
            let head = html.find("</head>")?;
            cuts.push((head, head, None));
        }
        cuts.sort_unstable();
        if cuts.windows(2).any(|w| w[0].1 > w[1].0) {
            return None;
        }
        Some(Cuts { html, cuts })
    }

    fn splice(&self, wrapped: &dyn Fn(&String) -> String) -> String {
        let mut out = String::with_capacity(self.html.len() + 4096);
        let mut at = 0;
        for (start, end, name) in &self.cuts {
            out.push_str(&self.html[at..*start]);
            match name {
                Some(name) => out.push_str(&wrapped(name)),
                None => {
                    out.push_str(NOINDEX);
                    out.push('\n');
                }
            }
            at = *end;
        }
        out.push_str(&self.html[at..]);
        out
    }
}
