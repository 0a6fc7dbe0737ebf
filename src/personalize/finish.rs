//! The last steps of [`personalize`](super::personalize), each a function: writing the pages
//! and their variants, assembling the site-wide files (fragments, the runtime, the banner's
//! stylesheet, `_headers`, `_redirects`, the manifest), then writing them, auditing the
//! result and undoing everything if the audit fails, and removing what is no longer needed.

use super::files::{manifest_json, remove_empty_parents, rollback, safe_join, strip_host_block, write_file};
use super::{BANNER_CSS, Error, HOST_BEGIN, HOST_END, How, MANIFEST, Output, PageIn, Report, STYLESHEET, write};
use crate::check::{self, Built, Ctx, Locator};
use crate::config::Site;
use crate::content::Shop;
use crate::output::{hosting, sitemap};
use crate::runtime;
use crate::theme::Theme;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the writes so far left: the undo list, the routes of the variants, the files
/// personalize created (with their hashes) and how many files changed.
pub(super) struct Done {
    pub undo: Vec<(PathBuf, Option<Vec<u8>>)>,
    pub routes: Vec<(String, String)>,
    pub created_hashes: BTreeMap<String, String>,
    /// Every file personalize owns after this run (the manifest's list).
    pub created: BTreeSet<String>,
    pub errors: Vec<String>,
    pub written: usize,
}

/// Every page and its variants, assembled and written in parallel.
pub(super) fn write_pages(
    ctx: &write::Ctx,
    pages: &[PageIn],
    variant_cohorts: &[Vec<&str>],
    report: &mut Report,
) -> Done {
    let written_pages: Vec<write::PageWrite> =
        pages.par_iter().zip(variant_cohorts).map(|(page, ids)| write::page(ctx, page, ids)).collect();
    let mut done = Done {
        undo: Vec::new(),
        routes: Vec::new(),
        created_hashes: BTreeMap::new(),
        created: BTreeSet::new(),
        errors: Vec::new(),
        written: 0,
    };
    for (page, w) in pages.iter().zip(written_pages) {
        if !page.created {
            report.pages += 1;
        }
        report.variants += w.routes.len();
        done.written += w.written;
        done.undo.extend(w.undo);
        done.routes.extend(w.routes);
        done.created_hashes.extend(w.created);
        done.errors.extend(w.error);
    }
    done.routes.sort();
    done.routes.dedup();
    done
}

/// The fragments, the runtime and its extra scripts, the banner's stylesheet, GPC,
/// `_headers` and `_redirects` (personalize's block appended to the site's own), and last
/// the manifest of every file personalize created (recorded in `done.created`).
pub(super) fn site_files(
    dir: &Path,
    s: &Site,
    fragments: &BTreeMap<&str, &str>,
    policy: &str,
    host_files: &[(&str, bool)],
    done: &mut Done,
) -> Result<Vec<Output>, Error> {
    let created = |file: String, bytes: Vec<u8>| Output { file, bytes, how: How::Created };
    let mut outputs: Vec<Output> = fragments
        .iter()
        .map(|(hash, html)| created(crate::output::layout::fragment(hash), html.as_bytes().to_vec()))
        .collect();
    outputs.push(created(crate::output::layout::RUNTIME.into(), runtime::script().as_bytes().to_vec()));
    for (file, script) in runtime::extra_scripts(&s.config.privacy) {
        outputs.push(created(file.into(), script.as_bytes().to_vec()));
    }
    if let Some((file, list)) = runtime::cohorts_file(s) {
        outputs.push(created(file.into(), list.into_bytes()));
    }
    outputs.push(created(STYLESHEET.into(), BANNER_CSS.as_bytes().to_vec()));
    if s.config.privacy.honor_gpc {
        outputs.push(created(crate::output::layout::GPC.into(), sitemap::gpc(s).into_bytes()));
    }
    let texts = [hosting::headers(s, &done.routes, policy), hosting::redirects(s, &done.routes)];
    for ((file, theirs), text) in host_files.iter().zip(texts) {
        if *theirs {
            let existing =
                std::fs::read_to_string(dir.join(file)).map_err(|e| Error::Io(format!("cannot read {file}: {e}")))?;
            let mut merged = strip_host_block(&existing);
            if !merged.is_empty() && !merged.ends_with('\n') {
                merged.push('\n');
            }
            merged.push_str(&format!("{HOST_BEGIN}\n{text}{HOST_END}\n"));
            outputs.push(Output { file: file.to_string(), bytes: merged.into_bytes(), how: How::Merged });
        } else {
            outputs.push(created(file.to_string(), text.into_bytes()));
        }
    }
    for o in outputs.iter().filter(|o| o.how == How::Created) {
        done.created_hashes.insert(o.file.clone(), crate::cohorts::fragment_hash(&String::from_utf8_lossy(&o.bytes)));
    }
    done.created = done.created_hashes.keys().cloned().chain([MANIFEST.to_string()]).collect();
    let merged: BTreeSet<String> = outputs.iter().filter(|o| o.how == How::Merged).map(|o| o.file.clone()).collect();
    outputs.push(created(MANIFEST.into(), manifest_json(&done.created_hashes, &merged).into_bytes()));
    Ok(outputs)
}

/// Writes `outputs` (unless a page write failed), then runs the privacy audit on the result;
/// on any failure everything written is undone and the site is as it was.
pub(super) fn commit(
    dir: &Path,
    shop: &Shop,
    theme: &Theme,
    outputs: &[Output],
    done: &mut Done,
) -> Result<check::Report, Error> {
    for o in outputs {
        if !done.errors.is_empty() {
            break;
        }
        match write_file(dir, &o.file, &o.bytes, &mut done.undo) {
            Ok(wrote) => done.written += usize::from(wrote),
            Err(e) => done.errors.push(e),
        }
    }
    if let Some(e) = done.errors.drain(..).next() {
        rollback(dir, std::mem::take(&mut done.undo));
        return Err(Error::Io(e));
    }
    let built = Built::scan(dir);
    let locator = Locator::new(shop, theme);
    let ctx = Ctx::new(shop, &locator, &built);
    let audit = check::Report::finish(check::privacy::audit(&ctx));
    if audit.errors() > 0 {
        rollback(dir, std::mem::take(&mut done.undo));
        return Err(Error::Refused(audit));
    }
    Ok(audit)
}

/// Removes the files an earlier run created that this run no longer needs; returns how many.
pub(super) fn remove_stale(dir: &Path, previous: &super::files::Manifest, created: &BTreeSet<String>) -> usize {
    let mut removed = 0;
    for stale in previous.created.iter().filter(|f| !created.contains(*f)) {
        if let Ok(path) = safe_join(dir, stale)
            && std::fs::remove_file(&path).is_ok()
        {
            removed += 1;
            remove_empty_parents(dir, &path);
        }
    }
    removed
}
