//! A content page (`pages/*.md`): about, shipping, returns and the like.

use super::markdown;
use crate::config::toml_diagnostic;
use crate::diagnostics::Diagnostic;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Clone)]
pub struct Page {
    pub slug: String,
    pub source: PathBuf,
    pub title: String,
    pub summary: String,
    pub weight: i64,
    pub draft: bool,
    /// Whether the page is listed in the site navigation (default true).
    pub in_menu: bool,
    pub body_html: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    title: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    weight: i64,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    slug: Option<Spanned<String>>,
    #[serde(default)]
    date: Option<toml::value::Datetime>,
    #[serde(default = "yes")]
    in_menu: bool,
}

fn yes() -> bool {
    true
}

pub fn parse(rel: &Path, text: &str) -> Result<Page, Vec<Diagnostic>> {
    let split = super::front_matter::split(rel, text).map_err(|d| vec![d])?;
    let fm = split.front_matter;
    let raw: RawPage = toml::from_str(fm).map_err(|e| vec![toml_diagnostic(rel, fm, split.front_matter_line, &e)])?;
    let slug = match &raw.slug {
        Some(s) if super::slugify(s.get_ref()) == *s.get_ref() && !s.get_ref().is_empty() => s.get_ref().clone(),
        Some(s) => {
            return Err(vec![
                Diagnostic::new(rel, format!("`{}` is not a valid slug", s.get_ref()))
                    .at_offset(fm, s.span().start, split.front_matter_line)
                    .hint(format!(
                        "use lowercase letters, digits and dashes, e.g. \"{}\"",
                        super::slugify(s.get_ref())
                    )),
            ]);
        }
        None => super::slugify(&rel.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()),
    };
    if slug.is_empty() {
        return Err(vec![
            Diagnostic::new(rel, "the file name gives an empty slug").hint("rename the file, or set slug = \"about\""),
        ]);
    }
    let _ = raw.date;
    let rendered = markdown::render(split.body);
    Ok(Page {
        slug,
        source: rel.to_path_buf(),
        title: raw.title,
        summary: raw.summary.unwrap_or(rendered.first_paragraph),
        weight: raw.weight,
        draft: raw.draft,
        in_menu: raw.in_menu,
        body_html: rendered.html,
    })
}
