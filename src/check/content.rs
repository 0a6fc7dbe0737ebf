//! Content rules: product data a shopper would trip over (no image, no alt text, a sale
//! price that is no sale, an overlong summary, two products with one title, a category that
//! only drafts use) from the loaded sources, and links and images that lead nowhere, from
//! the build (Markdown bodies and templates alike, `#anchor` ids included).

use super::{Ctx, Finding, RefKind, Target};
use crate::content::{LoadOptions, Shop, slugify};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Longest summary (in characters) before `content/long-summary` warns.
pub const SUMMARY_LIMIT: usize = 300;

/// Rules on the loaded products.
pub fn sources(shop: &Shop) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut titles: BTreeMap<String, &crate::content::product::Product> = BTreeMap::new();
    let mut by_source: Vec<&crate::content::product::Product> = shop.products.iter().collect();
    by_source.sort_by(|a, b| a.source.cmp(&b.source));
    for p in by_source {
        let file = p.source.display().to_string().replace('\\', "/");
        let line_of = |key: &str| p.key_lines.get(key).copied().unwrap_or(0);
        if p.images.is_empty() {
            out.push(
                Finding::warning(
                    "content/no-image",
                    &file,
                    line_of("title"),
                    format!("product `{}` has no image", p.title),
                )
                .fix("add one, e.g. images = [{ src = \"photo.jpg\", alt = \"What the photo shows\" }]"),
            );
        }
        for img in p.images.iter().filter(|i| !i.alt_given) {
            out.push(
                Finding::warning(
                    "content/missing-alt",
                    &file,
                    line_of("images"),
                    format!(
                        "image `{}` has no alt text (the title is used, which tells a screen reader nothing new)",
                        img.path
                    ),
                )
                .fix("write what the image shows: images = [{ src = \"...\", alt = \"...\" }]"),
            );
        }
        if let Some(compare) = p.compare_at
            && compare.minor <= p.price.minor
        {
            out.push(
                Finding::error(
                    "content/compare-at-price",
                    &file,
                    line_of("compare_at_price"),
                    format!(
                        "compare_at_price {} is not above price {}: the product would look reduced when it is not",
                        compare.decimal(),
                        p.price.decimal()
                    ),
                )
                .fix("set compare_at_price to the earlier, higher price, or remove it"),
            );
        }
        let length = p.summary.chars().count();
        if length > SUMMARY_LIMIT {
            let (line, fix) = if p.summary_given {
                (line_of("summary"), format!("shorten summary to {SUMMARY_LIMIT} characters or fewer"))
            } else {
                (
                    line_of("title"),
                    format!(
                        "add summary = \"...\" of at most {SUMMARY_LIMIT} characters (the first paragraph is used now)"
                    ),
                )
            };
            out.push(
                Finding::warning(
                    "content/long-summary",
                    &file,
                    line,
                    format!("the summary has {length} characters; listings and search results cut it off"),
                )
                .fix(fix),
            );
        }
        let key = p.title.trim().to_lowercase();
        if let Some(first) = titles.get(&key) {
            out.push(
                Finding::warning(
                    "content/duplicate-title",
                    &file,
                    line_of("title"),
                    format!("the title `{}` is also used by {}", p.title, first.source.display()),
                )
                .fix("give each product its own title, e.g. add the colour or size"),
            );
        } else {
            titles.insert(key, p);
        }
    }
    out.extend(empty_categories(shop));
    out
}

/// Categories whose every product is a draft: they vanish from the shop.
fn empty_categories(shop: &Shop) -> Vec<Finding> {
    let published: std::collections::BTreeSet<&str> = shop.categories.iter().map(|c| c.slug.as_str()).collect();
    let options = LoadOptions { drafts: true, base_url: None };
    let Ok(all) = Shop::load(&shop.root, &options) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for category in all.categories.iter().filter(|c| !published.contains(c.slug.as_str())) {
        let Some(p) = category.products.first().map(|&i| &all.products[i]) else { continue };
        out.push(
            Finding::warning(
                "content/empty-category",
                p.source.display().to_string().replace('\\', "/"),
                p.key_lines.get("category").copied().unwrap_or(0),
                format!(
                    "category `{}` has only draft products ({}), so it has no page and no menu entry",
                    category.name,
                    category.products.len()
                ),
            )
            .fix("publish a product in it (draft = false), or move the products to another category"),
        );
    }
    out
}

/// Links and images in the build that do not resolve to a built file or `#id`.
pub fn links(ctx: &Ctx) -> Vec<Finding> {
    ctx.built
        .scans
        .par_iter()
        .flat_map_iter(|scan| {
            let mut out = Vec::new();
            for r in &scan.refs {
                if r.kind == RefKind::Submit {
                    continue;
                }
                // A relative url() in a stylesheet is relative to the stylesheet.
                let Target::Internal { file, fragment } = ctx.target(&scan.file, &r.url) else { continue };
                let image = r.kind == RefKind::Load("image");
                if !ctx.built.files.contains(&file) {
                    let (src, line) = ctx.locator.locate(&scan.file, r.line, &r.url);
                    let (rule, what, fix) = if image {
                        (
                            "content/missing-image",
                            "image",
                            "add the image (to static/ or the product's folder) or fix its name".to_string(),
                        )
                    } else {
                        (
                            "content/broken-link",
                            "link",
                            format!(
                                "point it at a page that exists (products are at {}products/SLUG/, pages at {}pages/SLUG/)",
                                ctx.shop.site.base_path, ctx.shop.site.base_path
                            ),
                        )
                    };
                    out.push(
                        Finding::error(rule, src, line, format!("{what} `{}` leads to no file in the build", r.url))
                            .fix(fix)
                            .on_page(&scan.file),
                    );
                    continue;
                }
                let Some(fragment) = fragment else { continue };
                if r.kind != RefKind::Link || !file.ends_with(".html") {
                    continue;
                }
                let has_id = ctx.built.by_file.get(&file).is_some_and(|&i| ctx.built.scans[i].ids.contains(&fragment));
                if !has_id {
                    let (src, line) = ctx.locator.locate(&scan.file, r.line, &r.url);
                    out.push(
                        Finding::error(
                            "content/broken-link",
                            src,
                            line,
                            format!("link `{}`: /{file} has no element with id `{fragment}`", r.url),
                        )
                        .fix(format!(
                            "link to an existing heading id (Markdown headings get ids from their text, e.g. `## Care` → #{})",
                            slugify("Care")
                        ))
                        .on_page(&scan.file),
                    );
                }
            }
            out
        })
        .collect()
}
