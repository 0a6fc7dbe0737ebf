//! Writing the pages: each page and its cohort variants assembled from the page as the
//! other generator wrote it, the slot versions and the injected blocks; what will be
//! created checked first against the site's own files.
//!
//! A step that rewrites a page's HTML further (gating third-party tags under consent) fits
//! as one call in [`page`], on `html` after [`assemble`] and before the page is written.

use super::files::{Manifest, write_file};
use super::policy::{Plan, with_meta};
use super::{Error, PageIn, STYLESHEET, SlotKey, site};
use crate::content::Shop;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::render::SlotVersions;
use crate::runtime;
use crate::runtime::ConsentUi;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// For each page, the cohorts that get a full-page variant of it.
pub(super) fn variant_cohorts<'a>(
    shop: &'a Shop,
    pages: &[PageIn],
    versions: &HashMap<SlotKey, SlotVersions>,
) -> Vec<Vec<&'a str>> {
    pages
        .iter()
        .map(|page| {
            if !page.kind.has_page_variants(&shop.site) {
                return Vec::new();
            }
            shop.site
                .config
                .cohorts
                .iter()
                .map(|c| c.id.get_ref().as_str())
                .filter(|id| {
                    page.slots
                        .iter()
                        .any(|(_, k)| versions.get(k).is_some_and(|v| v.cohorts.iter().any(|(cid, _, _)| cid == id)))
                })
                .collect()
        })
        .collect()
}

/// Every cohort fragment of the slots: hash → HTML.
pub(super) fn fragments<'a>(versions: &'a HashMap<SlotKey, SlotVersions>) -> BTreeMap<&'a str, &'a str> {
    let mut fragments: BTreeMap<&'a str, &'a str> = BTreeMap::new();
    for v in versions.values() {
        for (_, hash, html) in &v.cohorts {
            fragments.insert(hash, html);
        }
    }
    fragments
}

/// What will be created, checked first: personalize never overwrites a file of the other
/// generator that it does not own.
pub(super) fn refuse_clashes(
    dir: &Path,
    previous: &Manifest,
    shop: &Shop,
    pages: &[PageIn],
    variant_cohorts: &[Vec<&str>],
    fragments: &BTreeMap<&str, &str>,
    host_files: &[(&str, bool)],
) -> Result<(), Error> {
    let s = &shop.site;
    let mut planned: Vec<String> = pages.iter().filter(|p| p.created).map(|p| p.file.clone()).collect();
    for (page, ids) in pages.iter().zip(variant_cohorts) {
        planned.extend(ids.iter().map(|id| crate::output::layout::variant(id, &page.file)));
    }
    planned.extend(fragments.keys().map(|h| crate::output::layout::fragment(h)));
    planned.push(crate::output::layout::RUNTIME.into());
    planned.push(STYLESHEET.into());
    planned.extend(runtime::extra_scripts(&s.config.privacy).iter().map(|(f, _)| f.to_string()));
    planned.extend(runtime::cohorts_file(s).map(|(f, _)| f.to_string()));
    if s.config.privacy.honor_gpc {
        planned.push(crate::output::layout::GPC.into());
    }
    planned.extend(host_files.iter().filter(|(_, theirs)| !theirs).map(|(f, _)| f.to_string()));
    let clashes: Vec<Diagnostic> = planned
        .iter()
        .filter(|f| !previous.created.contains(*f) && dir.join(f).exists())
        .map(|f| {
            Diagnostic::new(dir.join(f), "personalize needs to write this file, but it belongs to the site").hint(
                "rename or remove it in the other generator's sources (Cohort owns /cohort.js, /cohort.css, /_cohort/, /c/, /privacy/ and /preferences/ unless they carry a data-cohort-page container, /.well-known/gpc.json)",
            )
        })
        .collect();
    if clashes.is_empty() { Ok(()) } else { Err(Error::Invalid(Diagnostics(clashes))) }
}

/// What every page write needs.
pub(super) struct Ctx<'a> {
    pub dir: &'a Path,
    pub shop: &'a Shop,
    pub ui: &'a ConsentUi,
    pub plan: &'a Plan<'a>,
    pub versions: &'a HashMap<SlotKey, SlotVersions>,
    /// Third parties under consent: every page written is gated (crate::gate).
    pub gate: &'a crate::gate::Gate,
}

/// Writes one page and its variants for `ids`.
pub(super) fn page(ctx: &Ctx, page: &PageIn, ids: &[&str]) -> PageWrite {
    let Ctx { dir, shop, ui, plan, versions, gate } = *ctx;
    let s = &shop.site;
    let mut w = PageWrite::default();
    let interests = crate::render::page_interests(shop, page.kind);
    // The banner first in the body (first in keyboard order, fixed to the viewport by
    // its stylesheet), the configuration and the runtime at its end.
    let top = format!(
        "{}<link rel=\"stylesheet\" href=\"{}{STYLESHEET}\">\n{}{}",
        site::BEGIN,
        s.base_path,
        ui.banner.trim_end(),
        site::END
    );
    let block = format!(
        "{}<script type=\"application/json\" id=\"cohort-config\">{}</script>\n<script src=\"{}cohort.js\" defer></script>{}",
        site::BEGIN,
        runtime::page_config(shop, &ui.hash, &interests),
        s.base_path,
        site::END
    );
    let meta = plan.page_meta(page);
    let finish = |html: String| {
        let gated = crate::gate::rewrite(&html, gate).html;
        with_meta(&site::inject_top(&gated, &top), meta.as_deref())
    };
    let html = finish(assemble(page, versions, None, &block));
    w.put(dir, &page.file, html, page.created);
    for id in ids {
        let html = finish(assemble(page, versions, Some(id), &block));
        let mut head = String::new();
        if !site::head_has(&html, "name=\"robots\"") {
            head.push_str("<meta name=\"robots\" content=\"noindex\">\n");
        }
        if !site::head_has(&html, "rel=\"canonical\"") {
            head.push_str(&format!("<link rel=\"canonical\" href=\"{}\">\n", s.permalink(&page.path)));
        }
        // A page without </head> gets its noindex tag at the top.
        let html = site::insert_in_head(&html, &head).unwrap_or_else(|| format!("{head}{html}"));
        w.put(dir, &crate::output::layout::variant(id, &page.file), html, true);
        w.routes.push((id.to_string(), page.path.clone()));
    }
    w
}

/// What writing one page and its variants did.
#[derive(Default)]
pub(super) struct PageWrite {
    /// (path, previous bytes) of each file written.
    pub undo: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// Created files and the hash of their bytes (for the manifest).
    pub created: Vec<(String, String)>,
    pub routes: Vec<(String, String)>,
    pub written: usize,
    pub error: Option<String>,
}

impl PageWrite {
    fn put(&mut self, dir: &Path, file: &str, html: String, created: bool) {
        if self.error.is_some() {
            return;
        }
        if created {
            self.created.push((file.to_string(), crate::cohorts::fragment_hash(&html)));
        }
        match write_file(dir, file, html.as_bytes(), &mut self.undo) {
            Ok(wrote) => self.written += usize::from(wrote),
            Err(e) => self.error = Some(e),
        }
    }
}

/// The page with its slots filled (the default, or `cohort`'s versions on a variant), its
/// container filled, and the injected block.
pub(super) fn assemble(
    page: &PageIn,
    versions: &HashMap<SlotKey, SlotVersions>,
    cohort: Option<&str>,
    block: &str,
) -> String {
    let html = &page.html;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (m, key) in &page.slots {
        let Some(v) = versions.get(key) else { continue };
        let keys: Vec<(String, String)> = v.cohorts.iter().map(|(c, h, _)| (c.clone(), h.clone())).collect();
        let mut extra = site::keys_attr(&keys);
        let mut content = v.default_html.as_str();
        if let Some(id) = cohort {
            extra.push_str(&format!(" data-cohort-shown=\"{id}\""));
            if let Some((_, _, h)) = v.cohorts.iter().find(|(c, _, _)| c == id) {
                content = h;
            }
        }
        let tag = site::start_tag_with(html, m, &extra);
        edits.push((m.start, m.inner_end, format!("{tag}{content}")));
    }
    if let Some((m, content)) = &page.container {
        edits.push((m.inner_start, m.inner_end, content.clone()));
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(html.len() + 4096);
    let mut at = 0;
    for (s, e, text) in edits {
        if s < at {
            continue;
        }
        out.push_str(&html[at..s]);
        out.push_str(&text);
        at = e;
    }
    out.push_str(&html[at..]);
    site::inject(&out, block)
}
