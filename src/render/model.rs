//! What each page shows, decided in one place: the home page's new arrivals, the order in
//! which each cohort sees a listing and how a listing is cut into pages. The renderer draws
//! pages from it and `cohort serve` derives each page's identity from it (a real `Hash` of
//! [`PageInputs`], with product indices replaced by the products' own hashes), so the two
//! cannot drift apart: a page whose inputs did not change is the same page.

use crate::build::Recommendations;
use crate::content::page::Page;
use crate::content::{Shop, Taxon};
use crate::plan::{Job, PageKind};
use crate::render::Recs;
use std::hash::{Hash, Hasher};

/// How many products the home page's "New arrivals" shows.
pub const NEW_ARRIVALS: usize = 8;

/// The decisions every page shares, computed once per build.
#[derive(Debug, Clone)]
pub struct PageModel {
    /// Products per listing page (`paginate_by`).
    pub per_page: usize,
    /// Per cohort (in `[[cohorts]]` order), per product: whether it matches the cohort's
    /// interests, so it comes first in that cohort's listings.
    pub matches: Vec<Vec<bool>>,
    /// The home page's "New arrivals" ([`new_arrivals`]).
    pub new_arrivals: Vec<usize>,
    /// Per category, per cohort: the category's products in the order that cohort sees them
    /// ([`PageModel::cohort_order`]), computed once so a listing of P pages costs one pass, not P.
    category_orders: Vec<Vec<Vec<usize>>>,
    /// The same per tag.
    tag_orders: Vec<Vec<Vec<usize>>>,
}

/// Which listing a taxon is: a category or a tag, by index into `shop.categories` or
/// `shop.tags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listing {
    /// Index into `shop.categories`.
    Category(usize),
    /// Index into `shop.tags`.
    Tag(usize),
}

impl Listing {
    /// The taxon itself.
    pub fn taxon(self, shop: &Shop) -> &Taxon {
        match self {
            Listing::Category(t) => &shop.categories[t],
            Listing::Tag(t) => &shop.tags[t],
        }
    }
}

/// What one page shows, as product indices (and the content page it renders), for every
/// version of it: its default version and each cohort's.
#[derive(Debug, Clone, Hash)]
pub enum PageInputs<'a> {
    /// The home page: its new arrivals (the featured and picked products are site-wide).
    Home {
        /// [`PageModel::new_arrivals`].
        new_arrivals: &'a [usize],
    },
    /// A product page: the product and its recommendation blocks.
    Product {
        /// Index into `shop.products`.
        index: usize,
        /// The "related" block, with each product's reason.
        related: &'a [(usize, String)],
        /// The "bought together" block.
        together: &'a [(usize, String)],
    },
    /// One page of a category or tag listing.
    Listing {
        /// The taxon's name, slug and number of products (the page's title and paginator).
        taxon: (&'a str, &'a str, usize),
        /// 1-based page number.
        page: usize,
        /// The products of the default version.
        default: &'a [usize],
        /// The products of each cohort's version, in `[[cohorts]]` order.
        cohorts: Vec<&'a [usize]>,
    },
    /// A content page.
    Page(&'a Page),
    /// The cart page: its catalog lists every product.
    Cart,
    /// A page that shows no products (404, privacy, preferences ...).
    Other,
}

impl PageModel {
    /// The model of `shop` with the build's recommendations.
    pub fn new(shop: &Shop, recs: &Recommendations) -> PageModel {
        let matches = crate::cohorts::interest_matches(shop);
        let orders = |taxa: &[Taxon]| -> Vec<Vec<Vec<usize>>> {
            use rayon::prelude::*;
            taxa.par_iter().map(|t| (0..matches.len()).map(|c| order_for(&matches[c], t)).collect()).collect()
        };
        PageModel {
            per_page: (*shop.site.config.paginate_by.get_ref()).max(1),
            category_orders: orders(&shop.categories),
            tag_orders: orders(&shop.tags),
            new_arrivals: new_arrivals(shop, &recs.featured),
            matches,
        }
    }

    /// The products of page `page` (1-based) of a listing of `products`.
    pub fn slice<'l>(&self, products: &'l [usize], page: usize) -> &'l [usize] {
        let start = (page.saturating_sub(1) * self.per_page).min(products.len());
        let end = (start + self.per_page).min(products.len());
        &products[start..end]
    }

    /// The listing's products in the order cohort `cohort` sees them: those matching its
    /// interests first, each group in the listing's own order.
    pub fn cohort_order(&self, listing: Listing, cohort: usize) -> &[usize] {
        let orders = match listing {
            Listing::Category(t) => self.category_orders.get(t),
            Listing::Tag(t) => self.tag_orders.get(t),
        };
        orders.and_then(|o| o.get(cohort)).map_or(&[][..], Vec::as_slice)
    }

    /// What cohort `cohort` sees on page `page` of the listing.
    pub fn cohort_slice(&self, listing: Listing, page: usize, cohort: usize) -> &[usize] {
        self.slice(self.cohort_order(listing, cohort), page)
    }

    /// Everything page `job` shows.
    pub fn inputs<'a>(&'a self, shop: &'a Shop, recs: &'a Recommendations, job: &Job) -> PageInputs<'a> {
        fn list(recs: &Recs, i: usize) -> &[(usize, String)] {
            recs.get(i).map_or(&[][..], Vec::as_slice)
        }
        match job.kind {
            PageKind::Home => PageInputs::Home { new_arrivals: &self.new_arrivals },
            PageKind::Product(i) => {
                PageInputs::Product { index: i, related: list(&recs.related, i), together: list(&recs.together, i) }
            }
            PageKind::Category(t, n) => self.listing(shop, Listing::Category(t), n),
            PageKind::Tag(t, n) => self.listing(shop, Listing::Tag(t), n),
            PageKind::Page(i) => PageInputs::Page(&shop.pages[i]),
            PageKind::Cart => PageInputs::Cart,
            _ => PageInputs::Other,
        }
    }

    /// Page `page` of a listing, in every version.
    pub fn listing<'a>(&'a self, shop: &'a Shop, listing: Listing, page: usize) -> PageInputs<'a> {
        let taxon = listing.taxon(shop);
        PageInputs::Listing {
            taxon: (&taxon.name, &taxon.slug, taxon.products.len()),
            page,
            default: self.slice(&taxon.products, page),
            cohorts: (0..self.matches.len()).map(|c| self.cohort_slice(listing, page, c)).collect(),
        }
    }
}

impl PageInputs<'_> {
    /// The page's identity: its inputs with every product index replaced by that product's
    /// hash (`products[i]`), so an edit of a product changes the identity of exactly the
    /// pages that show it.
    pub fn identity(&self, products: &[u64], hasher: &mut impl Hasher) {
        let of = |i: &usize| products.get(*i).copied().unwrap_or(0);
        let with_reasons = |l: &[(usize, String)]| l.iter().map(|(i, r)| (of(i), r.clone())).collect::<Vec<_>>();
        std::mem::discriminant(self).hash(hasher);
        match self {
            PageInputs::Home { new_arrivals } => new_arrivals.iter().map(of).collect::<Vec<_>>().hash(hasher),
            PageInputs::Product { index, related, together } => {
                (of(index), with_reasons(related), with_reasons(together)).hash(hasher)
            }
            PageInputs::Listing { taxon, page, default, cohorts } => {
                let mut parts = vec![default.iter().map(of).collect::<Vec<_>>()];
                parts.extend(cohorts.iter().map(|c| c.iter().map(of).collect::<Vec<_>>()));
                (taxon, page, parts).hash(hasher)
            }
            PageInputs::Page(page) => page.hash(hasher),
            PageInputs::Cart => products.hash(hasher),
            PageInputs::Other => {}
        }
    }
}

/// `taxon`'s products with those `hit` marks first, each group in the listing's own order.
fn order_for(hit: &[bool], taxon: &Taxon) -> Vec<usize> {
    let first = |i: &usize| hit.get(*i).copied().unwrap_or(false);
    let mut order: Vec<usize> = taxon.products.iter().copied().filter(first).collect();
    order.extend(taxon.products.iter().copied().filter(|i| !first(i)));
    order
}

/// The home page's "New arrivals": the [`NEW_ARRIVALS`] newest products (by date, then file
/// order) that the featured block does not already show.
pub fn new_arrivals(shop: &Shop, featured: &[(usize, String)]) -> Vec<usize> {
    let mut newest: Vec<usize> = (0..shop.products.len()).filter(|i| !featured.iter().any(|(f, _)| f == i)).collect();
    newest.sort_by(|&a, &b| shop.products[b].date.cmp(&shop.products[a].date).then(a.cmp(&b)));
    newest.truncate(NEW_ARRIVALS);
    newest
}
