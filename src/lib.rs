//! Cohort: a static shop generator that personalizes per cohort, never per person.
//!
//! The build runs in one direction: load → validate → plan → render → write.
//! See `ARCHITECTURE.md` at the repository root for the module map.

pub mod aggregate;
pub mod cmd;
pub mod consent;
pub mod recommend;
