//! Page signatures: one number per page for everything it is rendered from, so a page whose
//! signature did not change is the same page and need not be rendered again. `cohort serve`
//! keeps them in memory between passes; `cohort build` keeps them in `.cohort-cache/`
//! (see [`super::memo`]). Both compute them here, from the renderer's page model
//! ([`crate::render::PageModel`]), so the two cannot disagree about what a page shows.

use super::Recommendations;
use crate::content::Shop;
use crate::content::product::Product;
use crate::plan::Job;
use crate::render::PageModel;
use crate::theme::Theme;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The hash of `value` (SipHash with fixed keys: the same in every run of one binary).
pub fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The hash of a parsed product: every field a page can show.
pub fn product_hash(p: &Product) -> u64 {
    hash_of(p)
}

/// The templates a page of `kind` rendered with `template` depends on (see
/// [`Theme::templates_hash`]); when one names another through a variable, `fallback` (a
/// value that changes whenever any template does), so that any theme change renders the
/// page again.
pub fn template_signature(theme: &Theme, template: &str, kind: &str, fallback: u64) -> u64 {
    let slots = theme.slots.get(kind).cloned().unwrap_or_default();
    let slot_templates: Vec<String> = slots.iter().map(|n| format!("slots/{n}.html")).collect();
    let mut roots = vec![template, "partials/consent-banner.html", "partials/consent-choices.html"];
    roots.extend(slot_templates.iter().map(String::as_str));
    match theme.templates_hash(&roots) {
        Some(h) => hash_of(&(h, &slots)),
        None => hash_of(&(fallback, &slots, template)),
    }
}

/// A hash of every template of the theme (shop overrides included): the `fallback` of
/// [`template_signature`] for a build that keeps no theme generation.
pub fn all_templates(theme: &Theme) -> u64 {
    hash_of(&theme.template_uses.iter().map(|(name, (h, _))| (name, h)).collect::<Vec<_>>())
}

/// What every page depends on: the engine, the site settings, the `site` global
/// (`site_json`), the published images and the featured and picked products.
pub fn global_signature(theme: &Theme, shop: &Shop, site_json: &str, recs: &Recommendations, hashes: &[u64]) -> u64 {
    let list = |l: &[(usize, String)]| -> Vec<(u64, String)> {
        l.iter().map(|(i, r)| (hashes.get(*i).copied().unwrap_or(0), r.clone())).collect()
    };
    hash_of(&(
        shop.images.fingerprint(),
        &theme.engine_name,
        &shop.site,
        site_json,
        list(&recs.featured),
        recs.cohort_picks.iter().map(|l| list(l)).collect::<Vec<_>>(),
    ))
}

/// The signature of page `job`: the `global` signature, its path, the identity of what it
/// shows (its [`crate::render::PageInputs`] with each product replaced by its hash in
/// `hashes`) and the signature of its templates.
pub fn page_signature(
    model: &PageModel,
    shop: &Shop,
    recs: &Recommendations,
    hashes: &[u64],
    global: u64,
    job: &Job,
    templates: Option<u64>,
) -> u64 {
    let mut h = DefaultHasher::new();
    (global, &job.path).hash(&mut h);
    model.inputs(shop, recs, job).identity(hashes, &mut h);
    let identity = h.finish();
    hash_of(&(identity, templates))
}

/// An identity of the running program (its size and modification time): output a build
/// kept from another version of Cohort is never taken for this one's.
pub fn program_identity() -> u64 {
    static ID: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *ID.get_or_init(|| {
        let stamp = std::env::current_exe().and_then(std::fs::metadata).map(|m| {
            let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            (m.len(), modified.map(|d| d.as_nanos()))
        });
        match stamp {
            Ok(stamp) => hash_of(&(env!("CARGO_PKG_VERSION"), stamp)),
            // Unknown: a value no other run shares, so nothing kept is trusted.
            Err(_) => hash_of(&(env!("CARGO_PKG_VERSION"), std::process::id(), std::time::SystemTime::now())),
        }
    })
}
