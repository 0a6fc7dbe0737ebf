//! The consent endpoint (SPEC section 7): receipts that prove which consent wording a visitor
//! agreed to, with no identifier of the visitor anywhere.
//!
//! The pieces, one concern each:
//! - [`api`]: the handler. No I/O of its own: a request value and a [`store::Store`] in, a
//!   response value out, so `cohort consent-server` and `cohort serve` can both mount it.
//! - [`store`]: SQLite (WAL, `synchronous=FULL`), schema migrations, group commit.
//! - [`postgres`]: the PostgreSQL store (`--db postgres://...`), same schema and guarantees,
//!   for several servers sharing one database.
//! - [`limits`]: the per-client rate limit, held in memory for one window only.
//! - [`server`]: the listener (on the shared connection layer [`crate::net`]), the
//!   retention thread and graceful shutdown.
//! - [`csp_report`]: CSP violation reports (both formats) reduced to counts per day,
//!   directive and blocked origin.
//! - [`worker`]: the same API as a Cloudflare Worker over D1 (`cohort consent-worker`).
//! - [`days`]: UTC day arithmetic (`YYYY-MM-DD`) without a date crate.

pub mod api;
pub mod csp_report;
pub mod days;
pub mod limits;
pub mod postgres;
pub mod server;
pub mod store;
pub mod worker;
