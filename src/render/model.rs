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
        cohorts: Vec<Vec<usize>>,
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
        PageModel {
            per_page: (*shop.site.config.paginate_by.get_ref()).max(1),
            matches: crate::cohorts::interest_matches(shop),
            new_arrivals: new_arrivals(shop, &recs.featured),
        }
    }

    /// The products of page `page` (1-based) of a listing of `products`.
    pub fn slice<'l>(&self, products: &'l [usize], page: usize) -> &'l [usize] {
        let start = (page.saturating_sub(1) * self.per_page).min(products.len());
        let end = (start + self.per_page).min(products.len());
        &products[start..end]
    }

    /// The taxon's products in the order cohort `cohort` sees them: those matching its
    /// interests first, each group in the listing's own order.
    pub fn cohort_order(&self, taxon: &Taxon, cohort: usize) -> Vec<usize> {
        let hit = self.matches.get(cohort).map_or(&[][..], Vec::as_slice);
        let first = |i: &usize| hit.get(*i).copied().unwrap_or(false);
        let mut order: Vec<usize> = taxon.products.iter().copied().filter(first).collect();
        order.extend(taxon.products.iter().copied().filter(|i| !first(i)));
        order
    }

    /// What cohort `cohort` sees on page `page` of the taxon's listing.
    pub fn cohort_slice(&self, taxon: &Taxon, page: usize, cohort: usize) -> Vec<usize> {
        self.slice(&self.cohort_order(taxon, cohort), page).to_vec()
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
            PageKind::Category(t, n) => self.listing(&shop.categories[t], n),
            PageKind::Tag(t, n) => self.listing(&shop.tags[t], n),
            PageKind::Page(i) => PageInputs::Page(&shop.pages[i]),
            PageKind::Cart => PageInputs::Cart,
            _ => PageInputs::Other,
        }
    }

    /// Page `page` of a listing, in every version.
    pub fn listing<'a>(&self, taxon: &'a Taxon, page: usize) -> PageInputs<'a> {
        PageInputs::Listing {
            taxon: (&taxon.name, &taxon.slug, taxon.products.len()),
            page,
            default: self.slice(&taxon.products, page),
            cohorts: (0..self.matches.len()).map(|c| self.cohort_slice(taxon, page, c)).collect(),
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

/// The home page's "New arrivals": the [`NEW_ARRIVALS`] newest products (by date, then file
/// order) that the featured block does not already show.
pub fn new_arrivals(shop: &Shop, featured: &[(usize, String)]) -> Vec<usize> {
    let mut newest: Vec<usize> = (0..shop.products.len()).filter(|i| !featured.iter().any(|(f, _)| f == i)).collect();
    newest.sort_by(|&a, &b| shop.products[b].date.cmp(&shop.products[a].date).then(a.cmp(&b)));
    newest.truncate(NEW_ARRIVALS);
    newest
}
