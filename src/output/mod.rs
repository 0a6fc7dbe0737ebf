//! Writing the site: the atomic writer, and the files that are not pages (sitemap, robots,
//! GPC, host headers and routing).

pub mod csp;
pub mod hosting;
pub mod sitemap;
pub mod writer;
