//! Writing the site: the atomic writer, and the files that are not pages (sitemap, robots,
//! GPC, host headers and routing, product feeds).

pub mod csp;
pub mod feed;
pub mod hosting;
pub mod layout;
pub mod sitemap;
pub mod writer;
