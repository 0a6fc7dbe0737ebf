//! Cohort: a static shop generator that personalizes per cohort, never per person.
//!
//! The build runs in one direction: load → validate → plan → render → write.
//! See `ARCHITECTURE.md` at the repository root for the module map.
//!
//! # The library
//!
//! The `cohort` binary is a thin layer over this crate ([`cmd`]); another program can do
//! what it does, whole or step by step.
//!
//! **Whole commands:** [`build::build`] (`cohort build`), [`personalize::personalize`]
//! (`cohort personalize`, plugin mode on another generator's output), [`check::run`]
//! (`cohort check`).
//!
//! **Step by step**, the path `examples/embed.rs` takes:
//!
//! 1. *Load a shop.* [`build::load`] reads a Cohort shop (shop.toml, `products/`, `pages/`,
//!    the theme, `data/aggregates.toml`) into a [`build::Prepared`], reporting every problem
//!    as a [`diagnostics::Diagnostic`] with file, line and column. In plugin mode,
//!    [`personalize::load`] reads shop.toml and the products of a Hugo or Zola content folder.
//! 2. *Compute recommendations.* [`build::recommendations`] gives the featured list, each
//!    cohort's picks, related products and bought-together lists
//!    ([`build::Recommendations`]), from the catalog and the anonymized aggregates only.
//! 3. *Render slots.* [`render::Renderer::new`] prepares what pages share;
//!    [`render::Renderer::render`] renders a planned page ([`plan::Job`]) with its slots,
//!    fragments and variants, and [`render::Renderer::slot_versions`] renders one slot on
//!    its own: its default content and each cohort's differing version, named by
//!    [`cohorts::fragment_hash`] and checked by the price invariance guard
//!    ([`cohorts::invariance`]). [`cohorts::slots::wrap`] gives the slot element a page
//!    carries.
//! 4. *Write fragments.* [`personalize::write_fragments`] writes each cohort version once,
//!    as `_cohort/f/HASH.html` under a site folder; [`runtime::script`] is the `cohort.js`
//!    that swaps them in after consent.
//!
//! ```no_run
//! use cohort::build::{self, BuildOptions};
//! use cohort::plan::PageKind;
//! use cohort::render::Renderer;
//!
//! let options = BuildOptions { root: "example-shop".into(), ..BuildOptions::default() };
//! let prepared = build::load(&options).map_err(|e| e.to_string())?;
//! let recs = build::recommendations(&prepared.shop, prepared.aggregates.as_ref());
//! let renderer = Renderer::new(&prepared.shop, &prepared.theme, &recs)?;
//! let home = prepared.plan.jobs.iter().find(|j| j.kind == PageKind::Home).ok_or("no home page")?;
//! let picks = renderer.slot_versions(home, "picks")?;
//! let written = cohort::personalize::write_fragments(std::path::Path::new("public"), [&picks])
//!     .map_err(|e| e.to_string())?;
//! println!("{} cohorts differ from the default; {written} fragments written", picks.cohorts.len());
//! # Ok::<(), String>(())
//! ```
#![warn(unreachable_pub)]

pub mod aggregate;
pub mod build;
pub mod check;
pub mod checkout;
pub mod cmd;
pub mod cohorts;
pub mod config;
pub mod consent;
pub mod content;
pub mod diagnostics;
pub mod gate;
pub mod hosting;
pub mod html;
pub mod images;
pub mod import;
pub mod int_hash;
pub mod net;
pub mod output;
pub mod personalize;
pub mod plan;
pub mod recommend;
pub mod render;
pub mod runtime;
pub mod serve;
pub mod theme;
