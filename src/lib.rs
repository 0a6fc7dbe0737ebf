//! Cohort: a static shop generator that personalizes per cohort, never per person.
//!
//! The build runs in one direction: load → validate → plan → render → write.
//! See `ARCHITECTURE.md` at the repository root for the module map.

pub mod aggregate;
pub mod build;
pub mod check;
pub mod cmd;
pub mod cohorts;
pub mod config;
pub mod consent;
pub mod content;
pub mod diagnostics;
pub mod hosting;
pub mod output;
pub mod personalize;
pub mod plan;
pub mod recommend;
pub mod render;
pub mod runtime;
pub mod serve;
pub mod theme;
