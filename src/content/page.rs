//! A content page (`pages/*.md`): about, shipping, returns and the like.

use super::front_matter::{Field, Key, Keys, lenient};
use super::markdown;
use crate::diagnostics::Diagnostic;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A content page, parsed.
#[derive(Debug, Clone, Hash)]
pub struct Page {
    /// Its path segment: `slug`, or the file name's.
    pub slug: String,
    /// The file, relative to the shop folder.
    pub source: PathBuf,
    /// The title.
    pub title: String,
    /// `summary`, or the body's first paragraph.
    pub summary: String,
    /// Menu order: lower first, then by title (0 by default).
    pub weight: i64,
    /// Left out of the build unless `--drafts`.
    pub draft: bool,
    /// Whether the page is listed in the site navigation (default true).
    pub in_menu: bool,
    /// The body, rendered.
    pub body_html: String,
}

/// The front matter as written, read leniently (see [`Field`]); unknown and missing keys
/// are found by [`PAGE_KEYS`].
#[derive(Deserialize)]
struct RawPage {
    #[serde(default, deserialize_with = "lenient")]
    title: Field<String>,
    #[serde(default, deserialize_with = "lenient")]
    summary: Field<String>,
    #[serde(default, deserialize_with = "lenient")]
    weight: Field<i64>,
    #[serde(default, deserialize_with = "lenient")]
    draft: Field<bool>,
    #[serde(default, deserialize_with = "lenient")]
    slug: Field<Spanned<String>>,
    #[serde(default, deserialize_with = "lenient")]
    date: Field<toml::value::Datetime>,
    #[serde(default, deserialize_with = "lenient")]
    in_menu: Field<bool>,
}

/// Every key a page's front matter may have, with an example that fits it.
pub const PAGE_KEYS: [Key; 7] = [
    Key { name: "title", required: true, example: "title = \"Shipping\"" },
    Key { name: "summary", required: false, example: "summary = \"How we ship.\"" },
    Key { name: "weight", required: false, example: "weight = 10" },
    Key { name: "draft", required: false, example: "draft = true" },
    Key { name: "slug", required: false, example: "slug = \"shipping\"" },
    Key { name: "date", required: false, example: "date = 2026-10-01" },
    Key { name: "in_menu", required: false, example: "in_menu = false" },
];

/// Parses the page file `rel`; every problem in it is reported.
pub fn parse(rel: &Path, text: &str) -> Result<Page, Vec<Diagnostic>> {
    let split = super::front_matter::split(rel, text).map_err(|d| vec![d])?;
    let fm = split.front_matter;
    let line0 = split.front_matter_line;
    let (keys, raw): (Keys, RawPage) = Keys::parse(rel, fm, line0).map_err(|d| vec![d])?;
    let mut errors = keys.check(&PAGE_KEYS);
    let title = keys.take(raw.title, &PAGE_KEYS[0], &mut errors);
    let summary = keys.take(raw.summary, &PAGE_KEYS[1], &mut errors);
    let weight = keys.take(raw.weight, &PAGE_KEYS[2], &mut errors).unwrap_or(0);
    let draft = keys.take(raw.draft, &PAGE_KEYS[3], &mut errors).unwrap_or(false);
    let raw_slug = keys.take(raw.slug, &PAGE_KEYS[4], &mut errors);
    let _date = keys.take(raw.date, &PAGE_KEYS[5], &mut errors);
    let in_menu = keys.take(raw.in_menu, &PAGE_KEYS[6], &mut errors).unwrap_or(true);
    let slug = match &raw_slug {
        Some(s) if super::slugify(s.get_ref()) == *s.get_ref() && !s.get_ref().is_empty() => s.get_ref().clone(),
        Some(s) => {
            errors.push(
                Diagnostic::new(rel, format!("`{}` is not a valid slug", s.get_ref()))
                    .at_offset(fm, s.span().start, line0)
                    .hint(format!(
                        "use lowercase letters, digits and dashes, e.g. \"{}\"",
                        super::slugify(s.get_ref())
                    )),
            );
            String::new()
        }
        None => {
            let slug = super::slugify(&rel.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
            if slug.is_empty() {
                errors.push(
                    Diagnostic::new(rel, "the file name gives an empty slug")
                        .hint("rename the file, or set slug = \"about\""),
                );
            }
            slug
        }
    };
    let (Some(title), true) = (title, errors.is_empty()) else {
        return Err(errors);
    };
    let rendered = markdown::render(split.body);
    Ok(Page {
        slug,
        source: rel.to_path_buf(),
        title,
        summary: summary.unwrap_or(rendered.first_paragraph),
        weight,
        draft,
        in_menu,
        body_html: rendered.html,
    })
}
