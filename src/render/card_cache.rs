//! `render_card(item)`: the theme's `partials/card.html` rendered with only `item` (and the
//! `site` global), once per product card per build, like Hugo's `partialCached`.
//! A listing, a recommendation block or a cohort's version of a grid then costs a lookup per
//! card instead of a template render; with 8 cohorts most grids are the same cards in
//! another order.
//!
//! The cache knows a card by identity, not by content: the renderer's own card values are
//! recognized by the address of the shared map they hold, which lives as long as the
//! renderer. Any other value (a card with a recommendation's reason, a map the theme made)
//! is rendered every time, exactly as an include would.

use minijinja::value::Object;
use minijinja::{Error, ErrorKind, State, Value as V};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// The variable under which the renderer passes the cache to every template.
pub const VAR: &str = "__cohort_card_cache";
/// The template `render_card` renders.
pub const TEMPLATE: &str = "partials/card.html";

/// `render_card`'s cache: each product card's HTML, rendered once per build.
#[derive(Debug, Default)]
pub struct CardCache {
    /// Address of each card's map → product index.
    by_address: HashMap<usize, usize>,
    /// Each product's card, once rendered.
    rendered: Vec<OnceLock<String>>,
}

impl Object for CardCache {}

impl CardCache {
    /// A cache for these cards (`context::card` of every product, in order).
    pub fn new(cards: &[V]) -> CardCache {
        let by_address = cards.iter().enumerate().filter_map(|(i, card)| Some((address(card)?, i))).collect();
        CardCache { by_address, rendered: cards.iter().map(|_| OnceLock::new()).collect() }
    }

    /// The product index of one of the renderer's own cards. A card with a reason (an
    /// overlay) is not cached: reasons differ from one block to the next.
    fn index(&self, item: &V) -> Option<usize> {
        address(item).and_then(|a| self.by_address.get(&a)).copied()
    }
}

/// The address of the map a card value holds, if it is a map object.
fn address(value: &V) -> Option<usize> {
    // `context::card` builds cards with `Serde`, which makes minijinja's map: an
    // `IndexMap<Value, Value>` (the `preserve_order` feature, chosen because a small
    // `BTreeMap` allocates room for eleven entries: 100,000 cards of nested two-key maps
    // were half a gigabyte).
    let map = value.downcast_object_ref::<indexmap::IndexMap<V, V>>().map(|map| std::ptr::from_ref(map) as usize);
    map.or_else(|| value.downcast_object_ref::<BTreeMap<String, V>>().map(|map| std::ptr::from_ref(map) as usize))
}

/// The `render_card` template function.
pub fn render_card(state: &State, item: V) -> Result<V, Error> {
    let cache = state.lookup(VAR).and_then(|c| c.downcast_object::<CardCache>());
    let slot = cache.as_ref().and_then(|c| c.rendered.get(c.index(&item)?));
    if let Some(html) = slot.and_then(OnceLock::get) {
        return Ok(V::from_safe_string(html.clone()));
    }
    let template = state.env().get_template(TEMPLATE).map_err(|e| {
        Error::new(ErrorKind::TemplateNotFound, format!("render_card needs templates/{TEMPLATE}")).with_source(e)
    })?;
    let html = template.render(minijinja::context! { item => item })?;
    if let Some(slot) = slot {
        let _ = slot.set(html.clone());
    }
    Ok(V::from_safe_string(html))
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
            .map(|t| V::from(minijinja::value::Serde(&serde_json::json!({"title": t}))))
            .collect();
        let cache = std::sync::Arc::new(CardCache::new(&cards));
        assert_eq!(cache.by_address.len(), 2, "the renderer's card maps are recognized");
        let with_reason = |card: &V, why: &str| {
            V::from_object(super::super::Overlay { base: card.clone(), fields: vec![("reason", V::from(why))] })
        };
        let items = vec![cards[0].clone(), with_reason(&cards[1], "Pairs well"), cards[0].clone(), cards[1].clone()];
        let env = env();
        let ctx = minijinja::context! { items => items, __cohort_card_cache => V::from_dyn_object(cache.clone()) };
        let html = env.get_template("list.html").unwrap().render(&ctx).unwrap();
        assert_eq!(html, "<b>Mug</b><b>Knife</b><i>Pairs well</i><b>Mug</b><b>Knife</b>");
        let cached: Vec<Option<&String>> = cache.rendered.iter().map(OnceLock::get).collect();
        assert_eq!(cached, [Some(&"<b>Mug</b>".to_string()), Some(&"<b>Knife</b>".to_string())]);

        // A map that is not one of the renderer's cards is rendered, never looked up.
        let stranger = V::from(minijinja::value::Serde(&serde_json::json!({"title": "Mug"})));
        assert!(cache.index(&stranger).is_none());
        let ctx =
            minijinja::context! { items => vec![stranger], __cohort_card_cache => V::from_dyn_object(cache.clone()) };
        assert_eq!(env.get_template("list.html").unwrap().render(&ctx).unwrap(), "<b>Mug</b>");
        // Without a cache (another caller), it still renders.
        let ctx = minijinja::context! { items => cards };
        assert_eq!(env.get_template("list.html").unwrap().render(&ctx).unwrap(), "<b>Mug</b><b>Knife</b>");
    }
}
