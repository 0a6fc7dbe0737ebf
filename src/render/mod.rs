//! Rendering one planned page: its default version, each cohort's version of its slots
//! (written as content-addressed fragments), and full-page cohort variants where asked.
//! Pages render in parallel; everything here is read-only and shared across threads.

pub mod context;

use crate::cohorts::{fragment_hash, invariance, slots};
use crate::content::{Shop, slugify};
use crate::plan::{Job, PageKind, listing_path, page_count};
use crate::runtime;
use crate::theme::Theme;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A rendered page and what it brought with it.
pub struct RenderedPage {
    /// Output file relative to the output folder.
    pub file: String,
    pub html: String,
    /// Fragments (hash, html) its slots refer to.
    pub fragments: Vec<(String, String)>,
    /// Full-page variants (output file, html).
    pub variants: Vec<(String, String)>,
}

/// A slot's default content and each differing cohort's version (see
/// [`Renderer::slot_versions`]).
pub struct SlotVersions {
    pub default_html: String,
    /// (cohort id, fragment hash, html).
    pub cohorts: Vec<(String, String, String)>,
}

/// A cohort as the renderer sees it.
struct CohortView {
    id: String,
    info: Value,
    /// For each product (by index), whether it matches one of the cohort's interests.
    matching: Vec<bool>,
    hero: Option<Value>,
    picks: Value,
    /// Rendered `picks` slot for product pages (the same on every product page).
    product_picks: Option<String>,
}

/// Recommendation lists per product: (product index, plain-language reason).
pub type Recs = Vec<Vec<(usize, String)>>;

pub struct Renderer<'a> {
    shop: &'a Shop,
    theme: &'a Theme,
    cards: Vec<Value>,
    cohorts: Vec<CohortView>,
    default_picks: Value,
    default_product_picks: Option<String>,
    related: Recs,
    together: Recs,
    guard: invariance::Reference,
    variant_kinds: BTreeSet<String>,
    /// The banner and preferences wording every page shows, and their hash.
    pub consent_ui: runtime::ConsentUi,
}

impl<'a> Renderer<'a> {
    /// Prepares everything pages share: product cards, each cohort's picks (in the order of
    /// `[[cohorts]]`) and the featured list everyone sees by default.
    pub fn new(shop: &'a Shop, theme: &'a Theme, recs: &crate::build::Recommendations) -> Result<Self, String> {
        let cards: Vec<Value> = shop.products.iter().map(|p| context::card(shop, p)).collect();
        Self::with_cards(shop, theme, cards, recs)
    }

    /// As [`Renderer::new`], with the product cards (`context::card` of every product, in
    /// order) already computed: watch mode keeps them between rebuilds.
    pub fn with_cards(
        shop: &'a Shop,
        theme: &'a Theme,
        cards: Vec<Value>,
        recs: &crate::build::Recommendations,
    ) -> Result<Self, String> {
        let featured: Vec<usize> = recs.featured.iter().map(|(i, _)| *i).collect();
        let picks = &recs.cohort_picks;
        let items = |list: &[(usize, String)]| -> Vec<Value> {
            list.iter()
                .map(|(i, reason)| {
                    let mut c = cards[*i].clone();
                    c["reason"] = json!(reason);
                    c
                })
                .collect()
        };
        let default_list = &recs.featured;
        let default_picks = json!({
            "title": "Popular right now",
            "reason": "Everyone sees these until they choose a preference; nothing about you is used.",
            "products": items(default_list),
        });
        let default_hero = context::default_hero(shop);
        // Slugs of each product's category and tags, once, for every cohort's interest matches.
        let keys: Vec<Vec<String>> = shop
            .products
            .iter()
            .map(|p| std::iter::once(&p.category).chain(&p.tags).map(|t| slugify(t)).collect())
            .collect();
        let mut cohorts = Vec::new();
        for (ci, c) in shop.site.config.cohorts.iter().enumerate() {
            let list = picks.get(ci).cloned().unwrap_or_default();
            let same_as_default = list.iter().map(|(i, _)| *i).eq(featured.iter().copied());
            let hero = c
                .hero
                .as_ref()
                .map(|h| context::hero_value(shop, &h.title, &h.text, h.image.as_deref()))
                .filter(|h| *h != default_hero);
            cohorts.push(CohortView {
                id: c.id.get_ref().clone(),
                info: json!({"id": c.id.get_ref(), "label": c.label, "description": c.description}),
                matching: {
                    let interests: BTreeSet<String> = c.interests.iter().map(|i| slugify(i)).collect();
                    keys.iter().map(|k| k.iter().any(|s| interests.contains(s))).collect()
                },
                hero,
                picks: if same_as_default {
                    Value::Null
                } else {
                    json!({
                        "title": format!("Picked for {}", c.label),
                        "reason": format!("Because you chose {}. Chosen on this device; the shop does not know who you are.", c.label),
                        "products": items(&list),
                    })
                },
                product_picks: None,
            });
        }
        let mut r = Renderer {
            shop,
            theme,
            cards,
            cohorts,
            default_picks,
            default_product_picks: None,
            related: recs.related.clone(),
            together: recs.together.clone(),
            guard: invariance::Reference::new(shop),
            variant_kinds: shop.site.page_variant_kinds().map(str::to_string).collect(),
            consent_ui: runtime::ConsentUi::default(),
        };
        // The consent UI is rendered once, with only the `site` global, so every page shows
        // the same bytes and the hash proves what was shown.
        let partial = |name: &str| -> Result<String, String> {
            if theme.engine.has(name) {
                theme.engine.render(name, &json!({})).map_err(|e| format!("while rendering {name}: {e}"))
            } else {
                Ok(String::new())
            }
        };
        r.consent_ui = runtime::ConsentUi::new(
            partial("partials/consent-banner.html")?,
            partial("partials/consent-choices.html")?,
        );
        // The product-page picks block does not depend on the product: render it once.
        if r.theme.slots.get("product").is_some_and(|s| s.iter().any(|n| n == "picks")) {
            let base = json!({"page": {"kind": "product"}});
            r.default_product_picks = Some(r.render_slot("picks", &base, "picks", &r.default_picks, None)?);
            for ci in 0..r.cohorts.len() {
                if r.cohorts[ci].picks.is_null() {
                    continue;
                }
                let html = r.render_slot("picks", &base, "picks", &r.cohorts[ci].picks, Some(ci))?;
                r.cohorts[ci].product_picks = Some(html);
            }
        }
        Ok(r)
    }

    /// Gives the product cards back (see [`Renderer::with_cards`]).
    pub fn into_cards(self) -> Vec<Value> {
        self.cards
    }

    fn render_slot(
        &self,
        name: &str,
        base: &Value,
        var: &str,
        data: &Value,
        cohort: Option<usize>,
    ) -> Result<String, String> {
        // A slot sees `page`, its own data and `cohort` (and the `site` global): a small
        // context, since slots are rendered once per cohort.
        let mut ctx = json!({"page": base.get("page").cloned().unwrap_or(Value::Null)});
        ctx[var] = data.clone();
        ctx["cohort"] = cohort.map_or(Value::Null, |ci| self.cohorts[ci].info.clone());
        let template = format!("slots/{name}.html");
        self.theme.engine.render(&template, &ctx).map_err(|e| e.to_string())
    }

    /// Renders one page with its slots, fragments and variants.
    pub fn render(&self, job: &Job) -> Result<RenderedPage, String> {
        let (mut ctx, source) = self.page_context(job);
        let kind = job.kind.name();
        let slot_names: Vec<String> = self.theme.slots.get(kind).cloned().unwrap_or_default();
        let mut fragments = Vec::new();
        let mut slot_html = Map::new();
        // Per cohort: slot name → that cohort's content.
        let mut cohort_slots: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        let mut keys_by_slot: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut default_by_slot: BTreeMap<String, String> = BTreeMap::new();
        for name in &slot_names {
            let (var, default_data) = self.slot_data(job, name, None);
            let default_html = match (name.as_str(), &self.default_product_picks, job.kind) {
                ("picks", Some(html), PageKind::Product(_)) => html.clone(),
                _ => self
                    .render_slot(name, &ctx, var, &default_data, None)
                    .map_err(|e| self.context_error(job, &source, &e))?,
            };
            let mut keys = Vec::new();
            for ci in 0..self.cohorts.len() {
                let html = match (name.as_str(), job.kind) {
                    ("picks", PageKind::Product(_)) if self.default_product_picks.is_some() => {
                        match &self.cohorts[ci].product_picks {
                            Some(h) => h.clone(),
                            None => continue,
                        }
                    }
                    _ => {
                        let (_, data) = self.slot_data(job, name, Some(ci));
                        if data.is_null() {
                            continue;
                        }
                        self.render_slot(name, &ctx, var, &data, Some(ci))
                            .map_err(|e| self.context_error(job, &source, &e))?
                    }
                };
                if html == default_html {
                    continue;
                }
                self.guard.check(&html).map_err(|e| {
                    format!(
                        "the price invariance guard stopped the build: cohort `{}`'s version of slot `{name}` on /{} {e}.\n  = help: every cohort must see the same price, availability and SKU; check templates/slots/{name}.html",
                        self.cohorts[ci].id, job.path
                    )
                })?;
                let hash = fragment_hash(&html);
                keys.push((self.cohorts[ci].id.clone(), hash.clone()));
                fragments.push((hash, html.clone()));
                cohort_slots.entry(ci).or_default().insert(name.clone(), html);
            }
            slot_html.insert(name.clone(), Value::String(slots::wrap(name, &keys, &default_html, None)));
            keys_by_slot.insert(name.clone(), keys);
            default_by_slot.insert(name.clone(), default_html);
        }
        let default_wrapped: BTreeMap<String, String> =
            slot_html.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect();
        ctx["slots"] = Value::Object(slot_html);
        let html = self
            .theme
            .engine
            .render(job.template, &ctx)
            .map_err(|e| self.context_error(job, &source, &e.to_string()))?;

        let mut variants = Vec::new();
        let variant_kind = matches!(job.kind, PageKind::Home | PageKind::Category(..));
        if variant_kind && self.variant_kinds.contains(kind) {
            for (ci, contents) in &cohort_slots {
                let id = &self.cohorts[*ci].id;
                let wrapped = |name: &String| {
                    let content = contents.get(name).or_else(|| default_by_slot.get(name)).map_or("", String::as_str);
                    let keys = keys_by_slot.get(name).map_or(&[][..], Vec::as_slice);
                    slots::wrap(name, keys, content, Some(id))
                };
                // The variant is the default page with the cohort's fragments spliced in and a
                // noindex tag; a theme that prints a slot twice or has no </head> is rendered
                // again instead.
                // A spliced variant is the default page plus fragments the guard has already
                // checked; a re-rendered one is checked whole.
                let vhtml = match splice(&html, &slot_names, &default_wrapped, &wrapped) {
                    Some(v) => v,
                    None => {
                        let mut vctx = ctx.clone();
                        let map: Map<String, Value> =
                            slot_names.iter().map(|n| (n.clone(), Value::String(wrapped(n)))).collect();
                        vctx["slots"] = Value::Object(map);
                        vctx["page"]["noindex"] = json!(true);
                        vctx["page"]["variant"] = self.cohorts[*ci].info.clone();
                        let v = self
                            .theme
                            .engine
                            .render(job.template, &vctx)
                            .map_err(|e| self.context_error(job, &source, &e.to_string()))?;
                        self.guard.check(&v).map_err(|e| {
                            format!(
                                "the price invariance guard stopped the build: cohort `{id}`'s variant of /{} {e}",
                                job.path
                            )
                        })?;
                        v
                    }
                };
                variants.push((format!("c/{id}/{}", job.output_file()), vhtml));
            }
        }
        Ok(RenderedPage { file: job.output_file(), html, fragments, variants })
    }

    /// One slot rendered on its own, for pages Cohort did not render (plugin mode,
    /// `cohort personalize`): the default content and, for each cohort whose content
    /// differs, `(cohort id, fragment hash, html)` in the order of `[[cohorts]]`. Every
    /// cohort version has passed the price invariance guard. `job` says which product or
    /// listing the slot is about; its template is not used.
    pub fn slot_versions(&self, job: &Job, name: &str) -> Result<SlotVersions, String> {
        let base = json!({"page": {"kind": job.kind.name(), "path": job.path, "url": self.shop.site.url(&job.path)}});
        let (var, default_data) = self.slot_data(job, name, None);
        if default_data.is_null() {
            return Err(format!("slot `{name}` has no data on a {} page", job.kind.name()));
        }
        let default_html = self.render_slot(name, &base, var, &default_data, None)?;
        let mut cohorts = Vec::new();
        for ci in 0..self.cohorts.len() {
            let (_, data) = self.slot_data(job, name, Some(ci));
            if data.is_null() {
                continue;
            }
            let html = self.render_slot(name, &base, var, &data, Some(ci))?;
            if html == default_html {
                continue;
            }
            self.guard.check(&html).map_err(|e| {
                format!(
                    "the price invariance guard stopped personalize: cohort `{}`'s version of slot `{name}` {e}",
                    self.cohorts[ci].id
                )
            })?;
            cohorts.push((self.cohorts[ci].id.clone(), fragment_hash(&html), html));
        }
        Ok(SlotVersions { default_html, cohorts })
    }

    fn context_error(&self, job: &Job, source: &str, e: &str) -> String {
        if source.is_empty() {
            format!("while rendering /{} with {}: {e}", job.path, job.template)
        } else {
            format!("while rendering /{} (from {source}) with {}: {e}", job.path, job.template)
        }
    }

    /// The variable name and data of slot `name` for the default (`cohort` None) or a
    /// cohort; Null when that cohort sees the default.
    fn slot_data(&self, job: &Job, name: &str, cohort: Option<usize>) -> (&'static str, Value) {
        let view = cohort.map(|ci| &self.cohorts[ci]);
        match name {
            "hero" => (
                "hero",
                match view {
                    None => context::default_hero(self.shop),
                    Some(v) => v.hero.clone().unwrap_or(Value::Null),
                },
            ),
            "picks" => (
                "picks",
                match view {
                    None => self.default_picks.clone(),
                    Some(v) => v.picks.clone(),
                },
            ),
            "copy" => {
                let PageKind::Product(i) = job.kind else {
                    return ("product", Value::Null);
                };
                match view {
                    None => ("product", self.product_value(i)),
                    Some(v) => match self.shop.products[i].cohort_copy.get(&v.id) {
                        Some(copy) => {
                            let mut p = self.product_value(i);
                            if let Some(s) = &copy.summary {
                                p["summary"] = json!(s);
                            }
                            if let Some(b) = &copy.badge {
                                p["badge"] = json!(b);
                            }
                            if let Some(h) = &copy.hero_image {
                                p["hero_image"] = json!(self.shop.site.url(h));
                            }
                            ("product", p)
                        }
                        None => ("product", Value::Null),
                    },
                }
            }
            "grid" => {
                let (taxon, page) = match job.kind {
                    PageKind::Category(t, p) => (&self.shop.categories[t], p),
                    PageKind::Tag(t, p) => (&self.shop.tags[t], p),
                    _ => return ("products", Value::Null),
                };
                let per_page = *self.shop.site.config.paginate_by.get_ref();
                let default_slice = page_slice(&taxon.products, page, per_page);
                match view {
                    None => ("products", self.cards_for(default_slice)),
                    Some(v) => {
                        let mut order: Vec<usize> = taxon.products.iter().copied().filter(|&i| v.matching[i]).collect();
                        order.extend(taxon.products.iter().copied().filter(|&i| !v.matching[i]));
                        let slice = page_slice(&order, page, per_page);
                        if slice == default_slice {
                            ("products", Value::Null)
                        } else {
                            ("products", self.cards_for(slice))
                        }
                    }
                }
            }
            _ => ("slot", Value::Null),
        }
    }

    fn cards_for(&self, indices: &[usize]) -> Value {
        Value::Array(indices.iter().map(|&i| self.cards[i].clone()).collect())
    }

    fn product_value(&self, i: usize) -> Value {
        let mut p = self.cards[i].clone();
        p["body"] = json!(self.shop.products[i].body_html);
        p
    }

    fn rec_block(&self, list: &[(usize, String)], title: &str) -> Value {
        let items: Vec<Value> = list
            .iter()
            .map(|(i, reason)| {
                let mut c = self.cards[*i].clone();
                c["reason"] = json!(reason);
                c
            })
            .collect();
        json!({"title": title, "products": items})
    }

    /// The page's variables (before slots) and the source file it comes from.
    fn page_context(&self, job: &Job) -> (Value, String) {
        let shop = self.shop;
        let site = &shop.site;
        let c = &site.config;
        let mut page = json!({
            "kind": job.kind.name(),
            "path": job.path,
            "url": site.url(&job.path),
            "permalink": site.permalink(&job.path),
            "canonical": site.permalink(&job.path),
            "noindex": false,
            "variant": Value::Null,
            "title": c.title,
            "description": c.description,
        });
        let mut ctx = json!({});
        let mut source = String::new();
        let interests: Vec<String> = match job.kind {
            PageKind::Product(i) => {
                let p = &shop.products[i];
                runtime::page_interests(std::iter::once(p.category.as_str()).chain(p.tags.iter().map(String::as_str)))
            }
            PageKind::Category(t, _) => vec![shop.categories[t].slug.clone()],
            PageKind::Tag(t, _) => vec![shop.tags[t].slug.clone()],
            _ => Vec::new(),
        };
        ctx["cohort_config"] = json!(runtime::page_config(shop, &self.consent_ui.hash, &interests));
        ctx["consent_banner"] = json!(self.consent_ui.banner);
        match job.kind {
            PageKind::Home => {
                ctx["hero"] = context::default_hero(shop);
                ctx["picks"] = self.default_picks.clone();
                let mut newest: Vec<usize> = (0..shop.products.len()).collect();
                newest.sort_by(|&a, &b| shop.products[b].date.cmp(&shop.products[a].date).then(a.cmp(&b)));
                newest.truncate(8);
                ctx["new_arrivals"] = self.cards_for(&newest);
            }
            PageKind::Product(i) => {
                let p = &shop.products[i];
                source = p.source.display().to_string();
                page["title"] = json!(p.title);
                page["description"] = json!(p.summary);
                page["image"] = json!(p.images.first().map(|img| site.permalink(&img.path)));
                ctx["product"] = self.product_value(i);
                ctx["jsonld"] = json!(context::product_jsonld(shop, p));
                ctx["og"] = json!({
                    "price_amount": p.price.decimal(),
                    "price_currency": site.currency.code,
                    "availability": context::og_availability(p),
                });
                ctx["related"] =
                    self.rec_block(self.related.get(i).map_or(&[][..], Vec::as_slice), "You may also like");
                ctx["together"] =
                    self.rec_block(self.together.get(i).map_or(&[][..], Vec::as_slice), "Often bought together");
            }
            PageKind::Category(t, n) | PageKind::Tag(t, n) => {
                let is_cat = matches!(job.kind, PageKind::Category(..));
                let taxon = if is_cat { &shop.categories[t] } else { &shop.tags[t] };
                let prefix = if is_cat { "categories" } else { "tags" };
                let base = format!("{prefix}/{}/", taxon.slug);
                let per_page = *c.paginate_by.get_ref();
                let total = page_count(taxon.products.len(), per_page);
                let title = if n > 1 { format!("{} (page {n} of {total})", taxon.name) } else { taxon.name.clone() };
                page["title"] = json!(title);
                page["description"] = json!(format!("{} products in {}", taxon.products.len(), taxon.name));
                if n > 1 {
                    page["canonical"] = json!(site.permalink(&job.path));
                }
                ctx["taxon"] = json!({"kind": if is_cat { "category" } else { "tag" }, "name": taxon.name, "slug": taxon.slug, "url": site.url(&base), "count": taxon.products.len()});
                ctx["products"] = self.cards_for(page_slice(&taxon.products, n, per_page));
                let url_of = |k: usize| site.url(&listing_path(&base, k));
                ctx["paginator"] = json!({
                    "current": n,
                    "total": total,
                    "prev_url": if n > 1 { Some(url_of(n - 1)) } else { None },
                    "next_url": if n < total { Some(url_of(n + 1)) } else { None },
                    "pages": (1..=total).map(|k| json!({"number": k, "url": url_of(k), "current": k == n})).collect::<Vec<_>>(),
                });
            }
            PageKind::Page(i) => {
                let p = &shop.pages[i];
                source = p.source.display().to_string();
                page["title"] = json!(p.title);
                page["description"] = json!(p.summary);
                ctx["content"] = json!({"title": p.title, "summary": p.summary, "html": p.body_html});
            }
            PageKind::Privacy => {
                page["title"] = json!("Privacy notice");
                page["description"] = json!(format!("How {} handles your data", c.title));
                ctx["storage"] = runtime::storage_context(&c.privacy);
                ctx["consent_api"] = json!({
                    "endpoint": c.privacy.consent_endpoint,
                    "enabled": !c.privacy.consent_endpoint.is_empty(),
                    "interest_threshold": runtime::INTEREST_THRESHOLD,
                });
            }
            PageKind::Preferences => {
                page["title"] = json!("Privacy preferences");
                page["description"] = json!("Choose what this shop may remember on this device");
                page["noindex"] = json!(true);
                ctx["consent_choices"] = json!(self.consent_ui.choices);
                ctx["storage"] = runtime::storage_context(&c.privacy);
            }
            PageKind::NotFound => {
                page["title"] = json!("Page not found");
                page["noindex"] = json!(true);
            }
        }
        ctx["page"] = page;
        (ctx, source)
    }
}

/// The default page with each slot's wrapper replaced and a robots noindex tag added; None
/// when a slot does not appear exactly once or the page has no `</head>`.
fn splice(
    html: &str,
    names: &[String],
    defaults: &BTreeMap<String, String>,
    wrapped: &dyn Fn(&String) -> String,
) -> Option<String> {
    let mut out = html.to_string();
    for name in names {
        let old = defaults.get(name)?;
        if out.matches(old.as_str()).count() != 1 {
            return None;
        }
        out = out.replacen(old.as_str(), &wrapped(name), 1);
    }
    if !out.contains("<meta name=\"robots\" content=\"noindex\">") {
        let head = out.find("</head>")?;
        out.insert_str(head, "<meta name=\"robots\" content=\"noindex\">\n");
    }
    Some(out)
}

fn page_slice(list: &[usize], page: usize, per_page: usize) -> &[usize] {
    let start = (page.saturating_sub(1) * per_page).min(list.len());
    let end = (start + per_page).min(list.len());
    &list[start..end]
}
