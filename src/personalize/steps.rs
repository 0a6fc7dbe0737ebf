//! The first steps of [`personalize`](super::personalize), each a function: refusing links
//! where it writes, reading the other generator's pages, adding the privacy notice and the
//! preferences page, and rendering every slot once.

use super::files::{self, Manifest, walk};
use super::{Error, PageIn, Report, SlotKey, layout_page, read_page, site, slot_key};
use crate::content::Shop;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::output::csp;
use crate::plan::{Job, PageKind};
use crate::render::{Renderer, SlotVersions};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// A symbolic link at a name personalize writes is refused before anything is read.
pub(super) fn refuse_links(dir: &Path) -> Result<(), Error> {
    let links: Vec<Diagnostic> = files::OWNED
        .iter()
        .filter_map(|name| files::link_on_path(dir, name))
        .map(|link| {
            Diagnostic::new(&link, "this is a symbolic link where personalize writes; it does not write through links")
                .hint("replace it with a real file or folder in the site's output (or remove it); Cohort owns /_headers and /_redirects (its block), /c/, /_cohort/, /privacy/, /preferences/, /cohort.js, /cohort.css and /.well-known/gpc.json")
        })
        .collect();
    if links.is_empty() { Ok(()) } else { Err(Error::Invalid(Diagnostics(links))) }
}

/// Every page of the other generator (not the files personalize created), and the HTML
/// files that are not full pages. Linked files are skipped with a warning.
pub(super) fn read_pages(
    dir: &Path,
    previous: &Manifest,
    shop: &Shop,
    product_paths: &[String],
    translated_paths: &[Vec<String>],
    report: &mut Report,
) -> Result<(Vec<PageIn>, Vec<String>), Error> {
    // Each product's page, in every language of the site.
    let mut by_path: HashMap<&str, usize> = HashMap::new();
    for (i, paths) in translated_paths.iter().enumerate() {
        by_path.extend(paths.iter().map(|p| (p.as_str(), i)));
    }
    by_path.extend(product_paths.iter().enumerate().map(|(i, p)| (p.as_str(), i)));
    let (all_files, links) = walk(dir);
    for l in links.iter().filter(|l| l.ends_with(".html") || l.ends_with(".htm") || !l.contains('.')) {
        report.warnings.push(format!(
            "{l}: a symbolic link; skipped (personalize does not follow links); copy the page or folder into the site instead"
        ));
    }
    let mut files: Vec<String> = all_files.into_iter().filter(|f| !previous.created.contains(f)).collect();
    files.sort();
    let read: Vec<Result<Option<PageIn>, Vec<Diagnostic>>> = files
        .par_iter()
        .filter(|f| f.ends_with(".html") || f.ends_with(".htm"))
        .map(|f| read_page(dir, f, shop, &by_path))
        .collect();
    let mut pages = Vec::new();
    let mut diags = Vec::new();
    let mut other_html = Vec::new();
    for (r, f) in read.into_iter().zip(files.iter().filter(|f| f.ends_with(".html") || f.ends_with(".htm"))) {
        match r {
            Ok(Some(p)) => pages.push(p),
            Ok(None) => other_html.push(f.clone()),
            Err(d) => diags.extend(d),
        }
    }
    if !diags.is_empty() {
        return Err(Error::Invalid(Diagnostics(diags).sorted()));
    }
    Ok((pages, other_html))
}

/// The privacy notice and the preferences page: in the site's own page at that path (its
/// `data-cohort-page` container), else in the site's layout, else a minimal page.
pub(super) fn add_notice_pages(
    pages: &mut Vec<PageIn>,
    renderer: &Renderer,
    shop: &Shop,
    dir: &Path,
) -> Result<(), Error> {
    for (kind, path, template, title) in [
        (PageKind::Privacy, "privacy/", "privacy.html", "Privacy notice"),
        (PageKind::Preferences, "preferences/", "preferences.html", "Privacy preferences"),
    ] {
        let job = Job { kind, path: path.into(), template, in_sitemap: false };
        let rendered = renderer.render(&job).map_err(|e| Error::Invalid(Diagnostics(vec![e.to_diagnostic()])))?;
        let content = site::main_content(&rendered.html).to_string();
        let page_name = path.trim_end_matches('/');
        if let Some(existing) = pages.iter_mut().find(|p| p.path == path) {
            let marks = site::find_marked(&existing.html, "data-cohort-page").unwrap_or_default();
            let Some(m) = marks.into_iter().find(|m| m.value == page_name) else {
                return Err(Error::Invalid(Diagnostics(vec![
                    Diagnostic::new(dir.join(&existing.file), format!("the site already has a page at /{path}, without a place for Cohort's {}", title.to_lowercase()))
                        .hint(format!("put an element <div data-cohort-page=\"{page_name}\"></div> where the notice goes (see docs/plugin-mode.md, step 4), or remove the page")),
                ])));
            };
            existing.kind = kind;
            existing.sources.extend(&csp::scan(&content).0);
            existing.container = Some((m, content));
            continue;
        }
        let html = layout_page(pages, shop, title, path, &content);
        let marked = site::find_marked(&html, "data-cohort-slot").unwrap_or_default();
        let slots = marked.into_iter().filter_map(|m| slot_key(&m, kind, path, shop).ok().map(|k| (m, k))).collect();
        let sources = csp::scan(&html).0;
        pages.push(PageIn {
            file: format!("{path}index.html"),
            path: path.into(),
            kind,
            html,
            slots,
            container: None,
            created: true,
            sources,
        });
    }

    Ok(())
}

/// Each distinct slot of the pages, rendered once: its default and each cohort's version.
pub(super) fn render_slots(
    pages: &[PageIn],
    renderer: &Renderer,
    root: &Path,
) -> Result<HashMap<SlotKey, SlotVersions>, Error> {
    let keys: BTreeSet<&SlotKey> = pages.iter().flat_map(|p| p.slots.iter().map(|(_, k)| k)).collect();
    let rendered: Vec<(SlotKey, Result<SlotVersions, crate::render::RenderError>)> = keys
        .into_par_iter()
        .map(|k| {
            let job = Job { kind: k.kind, path: k.path.clone(), template: "", in_sitemap: false };
            (k.clone(), renderer.slot_versions(&job, &k.name))
        })
        .collect();
    let mut versions: HashMap<SlotKey, SlotVersions> = HashMap::new();
    let mut errors = Vec::new();
    for (k, r) in rendered {
        match r {
            Ok(v) => {
                versions.insert(k, v);
            }
            Err(e) => errors.push(format!("slot `{}` (/{}): {e}", k.name, k.path)),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(Diagnostics(
            errors
                .into_iter()
                .map(|e| {
                    Diagnostic::new(root.join("templates/slots"), e)
                        .hint("check the slot templates of the theme and the products they show")
                })
                .collect(),
        )));
    }

    Ok(versions)
}
