//! Embedding Cohort as a library: load a shop, compute recommendations, render the home
//! page's slots for every cohort, and write their fragments, without running a build.
//!
//! ```text
//! cargo run --example embed -- [SHOP] [OUT]      # default: example-shop, a temporary folder
//! ```
//!
//! It prints, for each slot of the home page, the cohorts whose content differs from the
//! default and the fragment each one gets, then the slot element a page would carry.

use cohort::build::{self, BuildOptions};
use cohort::cohorts::slots;
use cohort::plan::PageKind;
use cohort::render::Renderer;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| "example-shop".into()));
    let out = args.next().map_or_else(|| std::env::temp_dir().join("cohort-embed"), PathBuf::from);
    match run(root, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: PathBuf, out: PathBuf) -> Result<(), String> {
    // 1. Load the shop: configuration, catalog, theme, aggregates. Problems come back as
    //    diagnostics with file, line and column.
    let prepared = build::load(&BuildOptions { root, ..BuildOptions::default() }).map_err(|e| e.to_string())?;
    let shop = &prepared.shop;
    // 2. Recommendations from the catalog and the anonymized aggregates.
    let recs = build::recommendations(shop, prepared.aggregates.as_ref());
    println!("{} products, {} cohorts", shop.products.len(), shop.site.config.cohorts.len());
    // 3. Render the home page's slots, each on its own, for the default and every cohort.
    let renderer = Renderer::new(shop, &prepared.theme, &recs)?;
    let home = prepared.plan.jobs.iter().find(|j| j.kind == PageKind::Home).ok_or("the plan has no home page")?;
    let names = prepared.theme.slots.get("home").cloned().unwrap_or_default();
    let mut rendered = Vec::new();
    for name in &names {
        let versions = renderer.slot_versions(home, name)?;
        let keys: Vec<(String, String)> = versions.cohorts.iter().map(|(c, h, _)| (c.clone(), h.clone())).collect();
        for (cohort, hash, html) in &versions.cohorts {
            println!("slot {name}: cohort {cohort} → /_cohort/f/{hash}.html ({} bytes)", html.len());
        }
        let element = slots::wrap(name, &keys, "…default content…", None);
        println!("slot {name} on the page: {element}");
        rendered.push(versions);
    }
    // 4. Write the fragments, content-addressed.
    let n = cohort::personalize::write_fragments(&out, &rendered).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{n} fragments in {}", out.join("_cohort/f").display());
    Ok(())
}
