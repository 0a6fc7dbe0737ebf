//! The plan: every page the build will write, as data, each with the template it uses.
//! Rendering walks the plan; `cohort check` audits what it lists. (What a page depends on is
//! not listed here: `cohort serve` derives it from what the page shows, `render::model`.)

use crate::content::Shop;

/// What a page is; indexes point into the shop's products, taxonomies and pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageKind {
    /// The home page.
    Home,
    /// A product page: product index.
    Product(usize),
    /// A category listing: taxon index and 1-based page number.
    Category(usize, usize),
    /// A tag listing: taxon index and 1-based page number.
    Tag(usize, usize),
    /// A content page: page index.
    Page(usize),
    /// The privacy notice.
    Privacy,
    /// The preferences page (consent and cohort choice).
    Preferences,
    /// The cart page of a shop with a `[checkout]` cart.
    Cart,
    /// The 404 page.
    NotFound,
}

impl PageKind {
    /// The kind's name as templates and `page_variants` know it.
    pub fn name(&self) -> &'static str {
        match self {
            PageKind::Home => "home",
            PageKind::Product(_) => "product",
            PageKind::Category(..) => "category",
            PageKind::Tag(..) => "tag",
            PageKind::Page(_) => "page",
            PageKind::Privacy => "privacy",
            PageKind::Preferences => "preferences",
            PageKind::Cart => "cart",
            PageKind::NotFound => "404",
        }
    }

    /// Whether pages of this kind get full-page cohort variants under `/c/COHORT/` (where a
    /// cohort changes something on them): the kinds in `[personalization] page_variants`
    /// that can have them (home, category), and of a paginated category only the first
    /// `variant_pages` pages. The build and `cohort personalize` both ask here.
    pub fn has_page_variants(&self, site: &crate::config::Site) -> bool {
        let personalization = &site.config.personalization;
        let listed = || site.page_variant_kinds().any(|k| k == self.name());
        match *self {
            PageKind::Home => listed(),
            PageKind::Category(_, n) => listed() && personalization.listing_page_has_variants(n),
            _ => false,
        }
    }
}

/// One page to write.
#[derive(Debug, Clone)]
pub struct Job {
    /// What it is.
    pub kind: PageKind,
    /// Site path of the page ("" for home, "products/x/", "404.html").
    pub path: String,
    /// The template it is rendered with.
    pub template: &'static str,
    /// Whether the page belongs in the sitemap.
    pub in_sitemap: bool,
}

impl Job {
    /// The file the page is written to, relative to the output folder.
    pub fn output_file(&self) -> String {
        crate::output::layout::page_file(&self.path)
    }
}

/// Every page of the build.
#[derive(Debug, Default)]
pub struct Plan {
    /// The pages.
    pub jobs: Vec<Job>,
}

/// Number of listing pages for `n` products.
pub fn page_count(n: usize, per_page: usize) -> usize {
    n.div_ceil(per_page.max(1)).max(1)
}

/// Site path of page `page` (1-based) of a listing at `base` ("categories/shoes/").
pub fn listing_path(base: &str, page: usize) -> String {
    if page <= 1 { base.to_string() } else { format!("{base}page/{page}/") }
}

impl Plan {
    /// The plan of `shop`; `has_template` says whether the theme has a template (the privacy,
    /// preferences and cart pages are left out when theirs is missing).
    pub fn new(shop: &Shop, has_template: impl Fn(&str) -> bool) -> Plan {
        let per_page = *shop.site.config.paginate_by.get_ref();
        let mut jobs =
            vec![Job { kind: PageKind::Home, path: String::new(), template: "index.html", in_sitemap: true }];
        for (i, p) in shop.products.iter().enumerate() {
            jobs.push(Job {
                kind: PageKind::Product(i),
                path: format!("products/{}/", p.slug),
                template: "product.html",
                in_sitemap: true,
            });
        }
        for (kind, taxa, prefix) in [(0, &shop.categories, "categories"), (1, &shop.tags, "tags")] {
            for (t, taxon) in taxa.iter().enumerate() {
                for page in 1..=page_count(taxon.products.len(), per_page) {
                    jobs.push(Job {
                        kind: if kind == 0 { PageKind::Category(t, page) } else { PageKind::Tag(t, page) },
                        path: listing_path(&format!("{prefix}/{}/", taxon.slug), page),
                        template: "list.html",
                        in_sitemap: true,
                    });
                }
            }
        }
        for (i, p) in shop.pages.iter().enumerate() {
            jobs.push(Job {
                kind: PageKind::Page(i),
                path: format!("pages/{}/", p.slug),
                template: "page.html",
                in_sitemap: true,
            });
        }
        if has_template("privacy.html") {
            jobs.push(Job {
                kind: PageKind::Privacy,
                path: crate::output::layout::PRIVACY.into(),
                template: "privacy.html",
                in_sitemap: true,
            });
        }
        if has_template("preferences.html") {
            jobs.push(Job {
                kind: PageKind::Preferences,
                path: crate::output::layout::PREFERENCES.into(),
                template: "preferences.html",
                in_sitemap: false,
            });
        }
        if shop.site.checkout.as_ref().is_some_and(crate::checkout::Checkout::has_cart) && has_template("cart.html") {
            jobs.push(Job {
                kind: PageKind::Cart,
                path: crate::checkout::CART_PATH.into(),
                template: "cart.html",
                in_sitemap: false,
            });
        }
        jobs.push(Job { kind: PageKind::NotFound, path: "404.html".into(), template: "404.html", in_sitemap: false });
        Plan { jobs }
    }
}
