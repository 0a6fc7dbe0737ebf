//! A page's template variables and each slot's data, for the default and for each cohort,
//! taken from the page model ([`super::model`]).

use super::*;

impl Renderer<'_> {
    /// The variable name and data of slot `name` for the default (`cohort` None) or a
    /// cohort; None when that cohort sees the default.
    pub(super) fn slot_data(&self, job: &Job, name: &str, cohort: Option<usize>) -> (&'static str, Option<V>) {
        let view = cohort.map(|ci| &self.cohorts[ci]);
        match name {
            "hero" => (
                "hero",
                match view {
                    None => Some(self.default_hero.clone()),
                    Some(v) => v.hero.clone(),
                },
            ),
            "picks" => (
                "picks",
                match view {
                    None => Some(self.default_picks.clone()),
                    Some(v) => v.picks.clone(),
                },
            ),
            "copy" => {
                let PageKind::Product(i) = job.kind else {
                    return ("product", None);
                };
                match view {
                    None => ("product", Some(self.product_value(i, Vec::new()))),
                    Some(v) => match self.shop.products[i].cohort_copy.get(&v.id) {
                        Some(copy) => {
                            let mut extra = Vec::new();
                            if let Some(s) = &copy.summary {
                                extra.push(("summary", V::from(s.as_str())));
                            }
                            if let Some(b) = &copy.badge {
                                extra.push(("badge", V::from(b.as_str())));
                            }
                            if let Some(h) = &copy.hero_image {
                                extra.push(("hero_image", V::from(self.shop.site.url(h))));
                            }
                            ("product", Some(self.product_value(i, extra)))
                        }
                        None => ("product", None),
                    },
                }
            }
            "grid" => {
                let (listing, page) = match job.kind {
                    PageKind::Category(t, p) => (model::Listing::Category(t), p),
                    PageKind::Tag(t, p) => (model::Listing::Tag(t), p),
                    _ => return ("products", None),
                };
                let default_slice = self.model.slice(&listing.taxon(self.shop).products, page);
                match cohort {
                    None => ("products", Some(self.cards_for(default_slice))),
                    Some(ci) => {
                        let slice = self.model.cohort_slice(listing, page, ci);
                        if slice == default_slice {
                            ("products", None)
                        } else {
                            ("products", Some(self.cards_for(slice)))
                        }
                    }
                }
            }
            _ => ("slot", None),
        }
    }

    pub(super) fn cards_for(&self, indices: &[usize]) -> V {
        indices.iter().map(|&i| self.cards[i].clone()).collect()
    }

    /// The product as its page and the `copy` slot see it: its card, its body and `extra`.
    pub(super) fn product_value(&self, i: usize, mut extra: Vec<(&'static str, V)>) -> V {
        extra.push(("body", V::from(self.shop.products[i].body_html.as_str())));
        with_fields(&self.cards[i], extra)
    }

    /// The page's variables (before slots) and the source file it comes from.
    pub(super) fn page_context(&self, job: &Job) -> (PageContext, String) {
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
        let mut vars: BTreeMap<&'static str, V> = BTreeMap::new();
        let mut source = String::new();
        let interests = page_interests(shop, job.kind);
        vars.insert("cohort_config", V::from(self.page_config.for_page(&interests)));
        vars.insert("consent_banner", V::from(self.consent_ui.in_page.as_str()));
        vars.insert(partial_cache::VAR, self.partials.clone());
        match job.kind {
            PageKind::Home => {
                vars.insert("hero", self.default_hero.clone());
                vars.insert("picks", self.default_picks.clone());
                vars.insert("new_arrivals", self.cards_for(&self.model.new_arrivals));
            }
            PageKind::Product(i) => {
                let p = &shop.products[i];
                source = p.source.display().to_string();
                page["title"] = json!(p.title);
                page["description"] = json!(p.summary);
                page["image"] = json!(p.images.first().map(|img| site.permalink(&img.path)));
                vars.insert("product", self.product_value(i, Vec::new()));
                vars.insert("jsonld", V::from(context::product_jsonld(shop, p)));
                vars.insert(
                    "og",
                    json_value(&json!({
                        "price_amount": p.price.decimal(),
                        "price_currency": site.currency.code,
                        "availability": context::og_availability(p),
                    })),
                );
                fn list(recs: &Recs, i: usize) -> &[(usize, String)] {
                    recs.get(i).map_or(&[][..], Vec::as_slice)
                }
                let rule = format!("Products that share tags, a category or words with {}.", p.title);
                vars.insert("related", rec_block(&self.cards, list(self.related, i), "You may also like", Some(&rule)));
                let rule = "Bought in the same orders as this product, from the shop's anonymized order counts (only pairs seen in enough orders).";
                vars.insert(
                    "together",
                    rec_block(&self.cards, list(self.together, i), "Often bought together", Some(rule)),
                );
            }
            PageKind::Category(t, n) | PageKind::Tag(t, n) => {
                let is_cat = matches!(job.kind, PageKind::Category(..));
                let taxon = if is_cat { &shop.categories[t] } else { &shop.tags[t] };
                let prefix = if is_cat { "categories" } else { "tags" };
                let base = format!("{prefix}/{}/", taxon.slug);
                let total = page_count(taxon.products.len(), self.model.per_page);
                let title = if n > 1 { format!("{} (page {n} of {total})", taxon.name) } else { taxon.name.clone() };
                page["title"] = json!(title);
                page["description"] = json!(format!("{} products in {}", taxon.products.len(), taxon.name));
                if n > 1 {
                    page["canonical"] = json!(site.permalink(&job.path));
                }
                vars.insert("taxon", json_value(&json!({"kind": if is_cat { "category" } else { "tag" }, "name": taxon.name, "slug": taxon.slug, "url": site.url(&base), "count": taxon.products.len()})));
                vars.insert("products", self.cards_for(self.model.slice(&taxon.products, n)));
                vars.insert("paginator", paginator(site, base, n, total));
            }
            PageKind::Page(i) => {
                let p = &shop.pages[i];
                source = p.source.display().to_string();
                page["title"] = json!(p.title);
                page["description"] = json!(p.summary);
                vars.insert(
                    "content",
                    json_value(&json!({"title": p.title, "summary": p.summary, "html": p.body_html})),
                );
            }
            PageKind::Privacy => {
                page["title"] = json!("Privacy notice");
                page["description"] = json!(format!("How {} handles your data", c.title));
                vars.insert("storage", json_value(&super::storage(shop)));
                vars.insert(
                    "consent_api",
                    json_value(&json!({
                        "endpoint": c.privacy.consent_endpoint,
                        "enabled": !c.privacy.consent_endpoint.is_empty(),
                        "interest_threshold": runtime::INTEREST_THRESHOLD,
                    })),
                );
            }
            PageKind::Preferences => {
                page["title"] = json!("Privacy preferences");
                page["description"] = json!("Choose what this shop may remember on this device");
                page["noindex"] = json!(true);
                vars.insert("consent_choices", V::from(self.consent_ui.choices.as_str()));
                vars.insert("storage", json_value(&super::storage(shop)));
            }
            PageKind::Cart => {
                page["title"] = json!("Cart");
                page["description"] = json!(format!("Your cart at {}", c.title));
                page["noindex"] = json!(true);
                vars.insert("cart", json_value(&crate::checkout::page_value(shop)));
            }
            PageKind::NotFound => {
                page["title"] = json!("Page not found");
                page["noindex"] = json!(true);
            }
        }
        (PageContext { page, vars }, source)
    }
}

/// A page's template variables before its slots: `page` stays JSON (a variant rendered
/// again changes it), the rest is ready for the engine.
pub(super) struct PageContext {
    pub(super) page: Value,
    pub(super) vars: BTreeMap<&'static str, V>,
}

impl PageContext {
    /// The whole context: the variables, `page` and `slots`.
    pub(super) fn value(&self, page: V, slots: V) -> V {
        let mut map = self.vars.clone();
        map.insert("page", page);
        map.insert("slots", slots);
        V::from(map)
    }
}

/// How many page numbers [`paginator`]'s `window` shows on each side of the current page.
const PAGINATOR_WINDOW: usize = 2;

/// A listing's `paginator`: `current`, `total`, `prev_url`, `next_url`, `pages` (every page,
/// made only when a template reads it: a listing of P pages would otherwise cost P² links over
/// the build) and `window` (the first and last page, the current one and
/// [`PAGINATOR_WINDOW`] on each side, with `{gap: true}` where numbers are left out): what a
/// theme prints so a page's size does not grow with the catalog.
fn paginator(site: &crate::config::Site, base: String, current: usize, total: usize) -> V {
    let url_of = |k: usize| site.url(&listing_path(&base, k));
    let link = |k: usize| json!({"number": k, "url": url_of(k), "current": k == current});
    let near = current.saturating_sub(PAGINATOR_WINDOW).max(1)..=(current + PAGINATOR_WINDOW).min(total);
    let mut shown: Vec<usize> = std::iter::once(1).chain(near).chain(std::iter::once(total)).collect();
    shown.sort_unstable();
    shown.dedup();
    let mut window = Vec::with_capacity(shown.len() + 2);
    for (at, &k) in shown.iter().enumerate() {
        if at > 0 && k > shown[at - 1] + 1 {
            window.push(json!({"gap": true}));
        }
        window.push(link(k));
    }
    let fields = json!({
        "current": current,
        "total": total,
        "prev_url": if current > 1 { Some(url_of(current - 1)) } else { None },
        "next_url": if current < total { Some(url_of(current + 1)) } else { None },
        "window": window,
    });
    let pages = PageLinks { first: url_of(1), rest: site.url(&format!("{base}page/")), total, current };
    with_fields(&json_value(&fields), vec![("pages", V::from_object(pages))])
}

/// `paginator.pages`: every page of a listing, each `{number, url, current}` made when read
/// (page 1's url is `first`, page k's is `rest` + `k/`, as [`listing_path`] makes them).
#[derive(Debug)]
struct PageLinks {
    first: String,
    rest: String,
    total: usize,
    current: usize,
}

impl Object for PageLinks {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &V) -> Option<V> {
        let number = key.as_usize()? + 1;
        if number > self.total {
            return None;
        }
        let url = if number == 1 { self.first.clone() } else { format!("{}{number}/", self.rest) };
        Some(V::from(BTreeMap::from([
            ("number", V::from(number)),
            ("url", V::from(url)),
            ("current", V::from(number == self.current)),
        ])))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.total)
    }
}

fn json_value(value: &Value) -> V {
    V::from(Serde(value))
}
