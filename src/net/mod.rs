//! The one connection layer of both servers (`cohort consent-server` and `cohort serve`):
//! [`http`] reads requests with bounds on size (431, 413) and time (408), and writes
//! responses; [`pool`] accepts connections, one thread each, under a cap that idle or slow
//! clients cannot fill. No async runtime, no HTTP crate.

pub mod http;
pub mod pool;
