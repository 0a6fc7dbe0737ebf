//! The two cached partials of MiniJinja themes, like Hugo's `partialCached`; both caches
//! live as long as one build's renderer.
//!
//! * `render_card(item)`: the theme's `partials/card.html` rendered with only `item` (and
//!   the `site` global), once per product card per build. A listing, a recommendation block
//!   or a cohort's version of a grid then costs a lookup per card instead of a template
//!   render; with 8 cohorts most grids are the same cards in another order.
//!
//!   The cache knows a card by identity, not by content: the renderer's own card values are
//!   recognized by the address of the shared map they hold, which lives as long as the
//!   renderer. Any other value (a card with a recommendation's reason, a map the theme made)
//!   is rendered every time, exactly as an include would.
//! * `partial_cached(name, key=value, ...)`: template `name` rendered with only its keyword
//!   arguments (and `site`), once per distinct set of argument values. What it renders
//!   depends on nothing else, so a cached copy is always the right one. The default theme's
//!   category menu is one: 40 links on each of 119,000 pages were a sixth of a 100,000-product
//!   build's template time, for 41 distinct menus. A theme that passes a value unique to each
//!   page gains nothing: past [`MAX_PARTIALS`] distinct calls, the rest are rendered each time
//!   and not kept.

use crate::int_hash::IntMap;
use minijinja::value::{Enumerator, Kwargs, Object};
use minijinja::{Error, ErrorKind, State, Value as V};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The variable under which the renderer passes the cache to every template.
pub const VAR: &str = "__cohort_partial_cache";
/// The template `render_card` renders.
pub const TEMPLATE: &str = "partials/card.html";

/// Distinct `partial_cached` calls (template and argument values) one build keeps.
pub const MAX_PARTIALS: usize = 1024;

/// One build's cached partials: each product card's HTML, and each `partial_cached` call's.
#[derive(Debug, Default)]
pub struct PartialCache {
    /// Address of each card object → product index.
    by_address: IntMap<usize, usize>,
    /// Each product's card, once rendered: the safe-string value itself, so that a page
    /// showing it shares its bytes instead of copying them.
    rendered: Vec<OnceLock<V>>,
    /// `partial_cached`: template name and arguments (see [`call_key`]) → HTML.
    partials: Mutex<HashMap<String, V>>,
    /// Cards rendered with the card template (each kept card once, see `render_card`), and
    /// cards served from the cache.
    card_renders: AtomicUsize,
    card_hits: AtomicUsize,
}

impl Object for PartialCache {}

impl PartialCache {
    /// A cache for these cards (`context::card` of every product, in order).
    pub fn new(cards: &[V]) -> PartialCache {
        let by_address = cards.iter().enumerate().filter_map(|(i, card)| Some((address(card)?, i))).collect();
        PartialCache {
            by_address,
            rendered: cards.iter().map(|_| OnceLock::new()).collect(),
            partials: Mutex::default(),
            card_renders: AtomicUsize::new(0),
            card_hits: AtomicUsize::new(0),
        }
    }

    /// How many cards this build rendered with the card template and how many it took from
    /// the cache: the build's progress shows both, so a theme whose cards are not cached
    /// shows it (and a test sees it).
    pub fn card_counts(&self) -> (usize, usize) {
        (self.card_renders.load(Ordering::Relaxed), self.card_hits.load(Ordering::Relaxed))
    }

    /// The product index of one of the renderer's own cards. A card with a reason (an
    /// overlay) is not cached: reasons differ from one block to the next.
    fn index(&self, item: &V) -> Option<usize> {
        address(item).and_then(|a| self.by_address.get(&a)).copied()
    }
}

/// A product card as templates see it: the fields [`super::context::card`] serializes,
/// behind a type of this module's own, so that the cache knows the renderer's cards by the
/// address of this object whatever minijinja makes of the fields inside. (It serializes a
/// struct into a private type: when cards became a struct, a cache that looked for a map
/// stopped recognizing any card, and every card was rendered again on every page showing it,
/// with the same output and a fifth more template time.)
#[derive(Debug)]
pub struct ProductCard(V);

impl ProductCard {
    /// `fields` (a map value) as a card the cache can recognize.
    pub fn value(fields: V) -> V {
        V::from_object(ProductCard(fields))
    }
}

impl Object for ProductCard {
    fn get_value(self: &Arc<Self>, key: &V) -> Option<V> {
        self.0.get_item(key).ok().filter(|v| !v.is_undefined())
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<V> {
        self.0.get_attr(key).ok().filter(|v| !v.is_undefined())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.try_iter().map(Iterator::collect).unwrap_or_default())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.0.len()
    }
}

/// The address of the card object a value holds, if it is one.
fn address(value: &V) -> Option<usize> {
    value.downcast_object_ref::<ProductCard>().map(|card| std::ptr::from_ref(card) as usize)
}

/// The `render_card` template function.
pub fn render_card(state: &State, item: V) -> Result<V, Error> {
    let cache = state.lookup(VAR).and_then(|c| c.downcast_object::<PartialCache>());
    let slot = cache.as_ref().and_then(|c| c.rendered.get(c.index(&item)?));
    if let Some(html) = slot.and_then(OnceLock::get) {
        if let Some(cache) = &cache {
            cache.card_hits.fetch_add(1, Ordering::Relaxed);
        }
        return Ok(html.clone());
    }
    let template = state.env().get_template(TEMPLATE).map_err(|e| {
        Error::new(ErrorKind::TemplateNotFound, format!("render_card needs templates/{TEMPLATE}")).with_source(e)
    })?;
    let html = V::from_safe_string(template.render(minijinja::context! { item => item })?);
    // Counted once per card kept (two pages asking for the same card at the same moment may
    // both render it; one copy is kept), and every time for a card the cache cannot keep:
    // the count is the same whatever the threads did.
    let counted = match slot {
        Some(slot) => slot.set(html.clone()).is_ok(),
        None => true,
    };
    if counted && let Some(cache) = &cache {
        cache.card_renders.fetch_add(1, Ordering::Relaxed);
    }
    Ok(html)
}

/// The `partial_cached(name, key=value, ...)` template function.
pub fn partial_cached(state: &State, name: &str, kwargs: Kwargs) -> Result<V, Error> {
    let mut args = Vec::new();
    for key in kwargs.args() {
        args.push((key.to_string(), kwargs.get::<V>(key)?));
    }
    kwargs.assert_all_used()?;
    let key = call_key(name, &args);
    let cache = state.lookup(VAR).and_then(|c| c.downcast_object::<PartialCache>());
    if let Some(html) = cache.as_ref().and_then(|c| c.partials.lock().ok()?.get(&key).cloned()) {
        return Ok(html);
    }
    let template = state.env().get_template(name)?;
    let html = V::from_safe_string(template.render(V::from(args.into_iter().collect::<BTreeMap<String, V>>()))?);
    if let Some(cache) = &cache
        && let Ok(mut partials) = cache.partials.lock()
        && partials.len() < MAX_PARTIALS
    {
        partials.insert(key, html.clone());
    }
    Ok(html)
}

/// What tells two `partial_cached` calls apart: the template and each argument's name, kind
/// and value (`Debug` quotes and escapes strings, so no two calls share a key).
fn call_key(name: &str, args: &[(String, V)]) -> String {
    let mut key = format!("{name:?}");
    for (k, v) in args {
        key.push_str(&format!(" {k}={:?}:{v:?}", v.kind()));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> minijinja::Environment<'static> {
        let mut env = minijinja::Environment::new();
        env.add_function("render_card", render_card);
        env.add_template(TEMPLATE, "<b>{{ item.title }}</b>{% if item.reason %}<i>{{ item.reason }}</i>{% endif %}")
            .unwrap();
        env.add_template("list.html", "{% for item in items %}{{ render_card(item) }}{% endfor %}").unwrap();
        env
    }

    #[test]
    fn cards_render_once_per_card_and_like_an_include() {
        // Made as `context::card` makes them.
        let cards: Vec<V> = ["Mug", "Knife"]
            .iter()
            .map(|t| ProductCard::value(V::from(minijinja::value::Serde(&serde_json::json!({"title": t})))))
            .collect();
        let cache = std::sync::Arc::new(PartialCache::new(&cards));
        assert_eq!(cache.by_address.len(), 2, "the renderer's card maps are recognized");
        let with_reason = |card: &V, why: &str| {
            V::from_object(super::super::Overlay { base: card.clone(), fields: vec![("reason", V::from(why))] })
        };
        let items = vec![cards[0].clone(), with_reason(&cards[1], "Pairs well"), cards[0].clone(), cards[1].clone()];
        let env = env();
        let ctx = minijinja::context! { items => items, __cohort_partial_cache => V::from_dyn_object(cache.clone()) };
        let html = env.get_template("list.html").unwrap().render(&ctx).unwrap();
        assert_eq!(html, "<b>Mug</b><b>Knife</b><i>Pairs well</i><b>Mug</b><b>Knife</b>");
        let cached: Vec<Option<String>> = cache.rendered.iter().map(|c| c.get().map(V::to_string)).collect();
        assert_eq!(cached, [Some("<b>Mug</b>".to_string()), Some("<b>Knife</b>".to_string())]);
        // Mug, Knife with a reason and Knife rendered; the second Mug from the cache.
        assert_eq!(cache.card_counts(), (3, 1));

        // A map that is not one of the renderer's cards is rendered, never looked up.
        let stranger = V::from(minijinja::value::Serde(&serde_json::json!({"title": "Mug"})));
        assert!(cache.index(&stranger).is_none());
        let ctx = minijinja::context! { items => vec![stranger], __cohort_partial_cache => V::from_dyn_object(cache.clone()) };
        assert_eq!(env.get_template("list.html").unwrap().render(&ctx).unwrap(), "<b>Mug</b>");
        // Without a cache (another caller), it still renders.
        let ctx = minijinja::context! { items => cards };
        assert_eq!(env.get_template("list.html").unwrap().render(&ctx).unwrap(), "<b>Mug</b><b>Knife</b>");
    }

    #[test]
    fn a_cached_partial_renders_once_per_distinct_arguments_and_sees_only_them() {
        let mut env = minijinja::Environment::new();
        env.add_function("partial_cached", partial_cached);
        env.add_global("site", minijinja::context! { title => "Shop" });
        env.add_template("nav.txt", "{{ site.title }}:{{ current }}{% if page is defined %}!{% endif %}").unwrap();
        env.add_template(
            "page.txt",
            "{{ partial_cached('nav.txt', current=(page.url if page.kind == 'category' else '')) }}",
        )
        .unwrap();
        let cache = std::sync::Arc::new(PartialCache::new(&[]));
        let render = |kind: &str, url: &str| {
            let page = minijinja::context! { kind => kind, url => url };
            let ctx = minijinja::context! { page => page, __cohort_partial_cache => V::from_dyn_object(cache.clone()) };
            env.get_template("page.txt").unwrap().render(&ctx).unwrap()
        };
        assert_eq!(render("product", "/products/a/"), "Shop:");
        assert_eq!(render("category", "/categories/mugs/"), "Shop:/categories/mugs/");
        assert_eq!(render("product", "/products/b/"), "Shop:");
        assert_eq!(render("category", "/categories/mugs/"), "Shop:/categories/mugs/");
        // Two calls kept (the page's own variables are not visible to the partial).
        assert_eq!(cache.partials.lock().unwrap().len(), 2);
        // A string and a number that print alike are different calls.
        assert_ne!(call_key("a", &[("n".into(), V::from("1"))]), call_key("a", &[("n".into(), V::from(1))]));
        // Without a cache it still renders; past MAX_PARTIALS nothing more is kept.
        let ctx = minijinja::context! { page => minijinja::context! { kind => "home", url => "/" } };
        assert_eq!(env.get_template("page.txt").unwrap().render(&ctx).unwrap(), "Shop:");
        for n in 0..MAX_PARTIALS + 5 {
            render("category", &format!("/c/{n}/"));
        }
        assert_eq!(cache.partials.lock().unwrap().len(), MAX_PARTIALS);
        assert_eq!(render("category", "/c/x/"), "Shop:/c/x/");
    }
}
