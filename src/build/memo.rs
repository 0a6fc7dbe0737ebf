//! What the last `cohort build` of a shop rendered, kept in `.cohort-cache/build/` so the next
//! build renders only the pages whose inputs changed, as `cohort serve` does in memory.
//!
//! * `pages.json`: for every page of the last build into an output folder, its signature
//!   ([`super::signature`]), the files it wrote with their [`Stamp`]s, the fragments it named
//!   and the CSP hashes of its inline scripts. A page whose signature is unchanged and whose
//!   files in the live output still carry their stamps (not deleted, edited or replaced since)
//!   is kept: its files are hard-linked into the new tree without being read. Anything else
//!   renders as in a fresh build. The file is for one output folder and one Cohort program:
//!   another `--output`, or another version of Cohort, renders everything.
//! * `recommendations.json`: the recommendation lists with a hash of everything they are
//!   computed from (the products as the engine sees them, `[recommendations]`, the cohorts'
//!   interests and `data/aggregates.toml`): a price or stock-count edit does not run the
//!   engine again.
//!
//! Both files are caches: deleting them (or the whole `.cohort-cache/`) only makes the next
//! build a full one, and a file that cannot be read is treated as absent.

use super::{Recommendations, signature};
use crate::content::Shop;
use crate::output::writer::{Staging, Stamp};
use crate::plan::{Job, Plan};
use crate::recommend;
use crate::render::{PageModel, RenderedPage};
use crate::theme::Theme;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The folder of the build's caches, inside the shop.
pub const DIR: &str = ".cohort-cache/build";
const PAGES: &str = "pages.json";
const RECOMMENDATIONS: &str = "recommendations.json";
/// Bumped when the files' shape changes.
const FORMAT: u32 = 2;

/// What one page wrote last time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageRecord {
    /// Its [`signature::page_signature`].
    pub signature: u64,
    /// The page's file, then its full-page variants, with their stamps.
    pub files: Vec<(String, Stamp)>,
    /// The fragments (content hashes) its slots name.
    pub fragments: Vec<String>,
    /// CSP hashes of its inline scripts, as indices into the list of every hash in `pages.json`.
    pub scripts: Vec<u32>,
}

/// `pages.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Memo {
    format: u32,
    /// [`signature::program_identity`] and the output folder.
    key: u64,
    /// Every CSP script hash, once.
    scripts: Vec<String>,
    /// Fragment hash → the stamp of its file.
    fragments: HashMap<String, Stamp>,
    /// Site path → record.
    pages: HashMap<String, PageRecord>,
}

/// The output folder by its real parent (which exists before the first build swaps the
/// folder in) and its name.
fn memo_key(output: &Path) -> u64 {
    let parent = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let real =
        parent.canonicalize().unwrap_or_else(|_| parent.to_path_buf()).join(output.file_name().unwrap_or_default());
    signature::hash_of(&(FORMAT, signature::program_identity(), real))
}

/// A page kept from the last build: its variants' files and its scripts' hashes.
pub struct Kept {
    /// The full-page variants' files.
    pub variants: Vec<String>,
    /// CSP hashes of its inline scripts.
    pub scripts: Vec<String>,
    /// The record, carried into the next `pages.json`.
    pub record: PageRecord,
}

/// The last build's records, ready to decide which pages stay, and the signatures of this one.
pub struct Previous<'a> {
    memo: Memo,
    model: &'a PageModel,
    shop: &'a Shop,
    recs: &'a Recommendations,
    hashes: Vec<u64>,
    global: u64,
    /// Per (template, page kind): the signature of the templates it renders with.
    templates: HashMap<(&'a str, &'a str), u64>,
}

impl<'a> Previous<'a> {
    /// Reads `pages.json` of the shop at `root` for `output` (empty when it is missing,
    /// unreadable, or for another output folder or program) and prepares this build's
    /// signatures.
    pub fn load(
        root: &Path,
        output: &Path,
        shop: &'a Shop,
        theme: &'a Theme,
        plan: &'a Plan,
        recs: &'a Recommendations,
        model: &'a PageModel,
    ) -> Previous<'a> {
        use rayon::prelude::*;
        let memo = std::fs::read(root.join(DIR).join(PAGES))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Memo>(&bytes).ok())
            .filter(|m| m.format == FORMAT && m.key == memo_key(output))
            .unwrap_or_default();
        let hashes: Vec<u64> = shop.products.par_iter().map(signature::product_hash).collect();
        let site_json = serde_json::to_string(&crate::render::context::site(shop, &theme.name)).unwrap_or_default();
        let global = signature::global_signature(theme, shop, &site_json, recs, &hashes);
        let all_templates = signature::all_templates(theme);
        let mut templates = HashMap::new();
        for job in &plan.jobs {
            templates
                .entry((job.template, job.kind.name()))
                .or_insert_with(|| signature::template_signature(theme, job.template, job.kind.name(), all_templates));
        }
        Previous { memo, model, shop, recs, hashes, global, templates }
    }

    /// This build's signature of `job`.
    pub fn signature(&self, job: &Job) -> u64 {
        let templates = self.templates.get(&(job.template, job.kind.name())).copied();
        signature::page_signature(self.model, self.shop, self.recs, &self.hashes, self.global, job, templates)
    }

    /// Keeps `job`'s files from the live output in `staging` when its signature is
    /// `signature` as last time and every file it wrote is still as it was. A fragment is
    /// kept once: `claim` says whether this page is the first to ask for it, and `settle`
    /// gives the stamp of the fragment's kept file, or None when it could not be kept (the
    /// fragment is given back for the page that renders it). None: the page must be rendered.
    pub fn keep(
        &self,
        job: &Job,
        signature: u64,
        staging: &Staging,
        claim: &dyn Fn(&str) -> bool,
        settle: &dyn Fn(&str, Option<Stamp>),
    ) -> std::io::Result<Option<Kept>> {
        let Some(record) = self.memo.pages.get(&job.path).filter(|r| r.signature == signature) else {
            return Ok(None);
        };
        for (file, stamp) in &record.files {
            if !staging.keep(file, *stamp)? {
                return Ok(None);
            }
        }
        for hash in &record.fragments {
            if !claim(hash) {
                continue;
            }
            let stamp = self.memo.fragments.get(hash).copied();
            let kept = match stamp {
                Some(stamp) => staging.keep(&crate::output::layout::fragment(hash), stamp)?,
                None => false,
            };
            if !kept {
                settle(hash, None);
                return Ok(None);
            }
            settle(hash, stamp);
        }
        let scripts = record.scripts.iter().filter_map(|&i| self.memo.scripts.get(i as usize).cloned()).collect();
        let variants = record.files.iter().skip(1).map(|(f, _)| f.clone()).collect();
        Ok(Some(Kept { variants, scripts, record: record.clone() }))
    }
}

/// The records of this build, gathered as pages are kept or rendered, for the next build.
#[derive(Default)]
pub struct Next {
    pages: Vec<(String, PageRecord, Vec<String>)>,
    fragments: HashMap<String, Stamp>,
}

impl Next {
    /// A rendered page: its files' stamps as written, its fragments and scripts.
    pub fn rendered(signature: u64, page: &RenderedPage, files: Vec<(String, Stamp)>) -> (PageRecord, Vec<String>) {
        let record = PageRecord {
            signature,
            files,
            fragments: page.fragments.iter().map(|(h, _)| h.clone()).collect(),
            scripts: Vec::new(),
        };
        (record, page.script_hashes.clone())
    }

    /// Adds a page's record (with its scripts' hashes, as text).
    pub fn add(&mut self, path: &str, record: PageRecord, scripts: Vec<String>) {
        self.pages.push((path.to_string(), record, scripts));
    }

    /// Records the stamp of a fragment's file.
    pub fn fragment(&mut self, hash: String, stamp: Stamp) {
        self.fragments.insert(hash, stamp);
    }

    /// `pages.json` for `output`, to be written by [`save`] once the output is in place
    /// (encoded while the swap runs).
    pub fn encode(self, output: &Path) -> std::io::Result<Vec<u8>> {
        let mut memo = Memo { format: FORMAT, key: memo_key(output), ..Memo::default() };
        let mut index: HashMap<String, u32> = HashMap::new();
        for (path, mut record, scripts) in self.pages {
            record.scripts = scripts
                .into_iter()
                .map(|s| {
                    let next = u32::try_from(memo.scripts.len()).unwrap_or(u32::MAX);
                    *index.entry(s.clone()).or_insert_with(|| {
                        memo.scripts.push(s);
                        next
                    })
                })
                .collect();
            memo.pages.insert(path, record);
        }
        memo.fragments = self.fragments;
        serde_json::to_vec(&memo).map_err(std::io::Error::other)
    }
}

/// Writes `pages.json` (from [`Next::encode`]) into the shop at `root`: a temporary file
/// renamed into place, so a reader never sees half of one.
pub fn save(root: &Path, encoded: &[u8]) -> std::io::Result<()> {
    write_atomic(&root.join(DIR).join(PAGES), encoded)
}

/// Removes `pages.json`, so that no build trusts it while the output it describes changes.
pub fn forget(root: &Path) {
    let _ = std::fs::remove_file(root.join(DIR).join(PAGES));
}

/// `recommendations.json`.
#[derive(Serialize, Deserialize)]
struct SavedRecommendations {
    key: u64,
    recommendations: Recommendations,
}

/// The recommendation lists of `shop`: the saved ones when nothing they are computed from
/// changed, otherwise computed (and saved for the next build).
pub fn recommendations(root: &Path, shop: &Shop, aggregates: Option<&recommend::Aggregates>) -> Recommendations {
    let items = super::items(shop);
    let config = &shop.site.config;
    let key = signature::hash_of(&(
        FORMAT,
        signature::program_identity(),
        // Each item hashed on its own, in parallel: the catalog's text is 150 MB at 100,000
        // products.
        items
            .par_iter()
            .map(|i| {
                signature::hash_of(&(&i.sku, &i.title, &i.category, &i.tags, &i.text, i.in_stock, i.weight, &i.date))
            })
            .collect::<Vec<u64>>(),
        &config.recommendations,
        config.cohorts.iter().map(|c| &c.interests).collect::<Vec<_>>(),
        aggregates.map(|a| format!("{a:?}")),
    ));
    let file = root.join(DIR).join(RECOMMENDATIONS);
    let saved = std::fs::read(&file).ok().and_then(|b| serde_json::from_slice::<SavedRecommendations>(&b).ok());
    if let Some(saved) = saved.filter(|s| s.key == key) {
        return saved.recommendations;
    }
    let recommendations = super::recommendations_for(&items, config, aggregates);
    let saved = SavedRecommendations { key, recommendations };
    if let Ok(bytes) = serde_json::to_vec(&saved) {
        // A cache: when it cannot be written the next build computes the lists again.
        let _ = write_atomic(&file, &bytes);
    }
    saved.recommendations
}

fn write_atomic(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = file.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir)?;
    crate::images::write_cache_markers(&dir);
    crate::images::write_atomically(file, bytes)
}
