//! Published images: every JPEG, PNG and WebP file of the shop (its `static/` folder, its
//! theme's `static/` folder on disk and its product bundles) is decoded once, turned upright
//! by its EXIF orientation, resized to the `[images] widths` that are not wider than the
//! image, and encoded as WebP and in its own format (the fallback for old browsers). Nothing
//! of the source's metadata is written: the encoders are given pixels only, so no location,
//! camera serial or EXIF block reaches the site (SPEC §9, invariant 14).
//!
//! Each output is named by its content (`_images/STEM-WIDTH-HASH.EXT`), so hosts may cache
//! it forever; the source's own path is published too, holding the largest fallback, so links
//! to it from Markdown keep working without leaking what the original carried.
//!
//! The work is kept in a cache beside the shop, `.cohort-cache/images/` (ignored by git),
//! shared by `build`, `serve` and `check`: the encoded files and `index.json`, which maps
//! each source (by path, size and modification time, then by its bytes and the settings) to
//! what was made of it. A rebuild with no image change reads no image and decodes nothing;
//! [`Catalog::decoded`] counts the images decoded, and the build prints it.
//!
//! Work runs on rayon's pool, one image per worker at a time: at most one full-size image
//! per worker is in memory. Bad input (a truncated file, something that is not an image, a
//! format Cohort does not publish, an image too large to decode safely) is an error naming
//! the file, all of them in one run, and the build then leaves the previous output as it was.
//!
//! AVIF is neither written nor read (measured for #19, docs/shop.md "Why not AVIF"): ravif
//! 0.13 / rav1e 0.8 at its fastest speed (10) gives 35 % fewer bytes than libwebp q80 at the
//! same SSIM on a 1920 px photo but takes 0.7 s instead of 0.2 s (6 s at speed 4), and adds 61
//! crates and 4.5 minutes of compile: not fast enough, so `.avif` stays in `UNSUPPORTED`.

mod encode;
mod picture;

pub use picture::{PictureOptions, picture_html};

use encode::{Fault, HINT_REEXPORT, encode};

use crate::diagnostics::{Diagnostic, Diagnostics};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The output folder of every resized image.
pub const OUTPUT_DIR: &str = "_images";
/// The cache folder, relative to the shop root.
pub const CACHE_DIR: &str = ".cohort-cache/images";
/// The largest image decoded, in pixels (a 50,000 × 50,000 "decompression bomb" is refused
/// before any pixel is allocated).
pub const MAX_PIXELS: u64 = 100_000_000;
/// Bumped whenever the encoders' output changes, so old cache entries are not reused.
const CACHE_VERSION: u32 = 1;

/// What `[images]` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Settings {
    /// Widths to publish, ascending, without duplicates.
    pub widths: Vec<u32>,
    /// Lossy quality (1 to 100).
    pub quality: u8,
    /// Publish WebP.
    pub webp: bool,
    /// Publish the source's own format.
    pub original: bool,
}

impl Settings {
    /// The settings of a shop's `[images]` table.
    pub fn from_config(c: &crate::config::ImagesConfig) -> Settings {
        let mut widths = c.widths.get_ref().clone();
        widths.sort_unstable();
        widths.dedup();
        let has = |f: &str| c.formats.iter().any(|s| s.get_ref() == f);
        Settings { widths, quality: *c.quality.get_ref(), webp: has("webp"), original: has("original") }
    }

    /// Part of every cache key: a change of settings makes every image new.
    fn fingerprint(&self) -> String {
        format!(
            "cohort-images v{CACHE_VERSION} widths={:?} quality={} webp={} original={}",
            self.widths, self.quality, self.webp, self.original
        )
    }

    /// The widths an image `width` pixels wide is published at: the configured ones below
    /// its width, and its own width when it is narrower than the largest (never upscaled).
    pub fn widths_for(&self, width: u32) -> Vec<u32> {
        let mut out: Vec<u32> = self.widths.iter().copied().filter(|w| *w < width).collect();
        if let Some(&max) = self.widths.last() {
            out.push(max.min(width));
        }
        out.dedup();
        out
    }
}

/// One published file of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Its pixel width.
    pub width: u32,
    /// Its pixel height.
    pub height: u32,
    /// `image/webp`, `image/jpeg` or `image/png`.
    pub mime: String,
    /// Its file name under [`OUTPUT_DIR`] (and in the cache).
    pub name: String,
}

/// What one source image was published as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processed {
    /// The upright image's width (after the EXIF orientation).
    pub width: u32,
    /// The upright image's height.
    pub height: u32,
    /// The source's format.
    pub source_mime: String,
    /// Every file, by format then ascending width.
    pub variants: Vec<Variant>,
    /// Whether the source carries a GPS position in its EXIF data (never published).
    pub location: bool,
}

impl Processed {
    /// The format of the `<img>` element: the source's own when it is published, else WebP.
    pub fn fallback_mime(&self) -> &str {
        if self.variants.iter().any(|v| v.mime == self.source_mime) { &self.source_mime } else { "image/webp" }
    }

    /// The files of one format, ascending width.
    pub fn of(&self, mime: &str) -> impl Iterator<Item = &Variant> {
        self.variants.iter().filter(move |v| v.mime == mime)
    }

    /// The largest file of the fallback format: the `src` of the `<img>` element.
    pub fn largest(&self) -> Option<&Variant> {
        self.of(self.fallback_mime()).last()
    }
}

/// Every processed image of a shop, by site path (`images/boot.jpg`,
/// `products/boot/side.png`), with where the cache keeps the files.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    images: BTreeMap<String, (PathBuf, Arc<Processed>)>,
    files: PathBuf,
    /// Images decoded and encoded by this run (0 when everything came from the cache).
    pub decoded: usize,
    /// Images taken from the cache.
    pub cached: usize,
}

impl Catalog {
    /// The processed image published at `site_path`, if it is one.
    pub fn get(&self, site_path: &str) -> Option<&Processed> {
        self.images.get(site_path.trim_start_matches('/')).map(|(_, p)| p.as_ref())
    }

    /// Whether `site_path` is a processed image (its source is not copied as it is).
    pub fn contains(&self, site_path: &str) -> bool {
        self.images.contains_key(site_path.trim_start_matches('/'))
    }

    /// How many source images there are.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether the shop has no processed image.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// The sources (relative to the shop root) that carry a GPS position.
    pub fn with_location(&self) -> Vec<&Path> {
        self.images.values().filter(|(_, p)| p.location).map(|(s, _)| s.as_path()).collect()
    }

    /// The files to publish, as (site path, file in the cache): every variant under
    /// [`OUTPUT_DIR`], and each source's own path holding its largest fallback.
    pub fn outputs(&self) -> Vec<(String, PathBuf)> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (site_path, (_, p)) in &self.images {
            if let Some(largest) = p.largest() {
                out.push((site_path.clone(), self.files.join(&largest.name)));
            }
            for v in &p.variants {
                if seen.insert(v.name.as_str()) {
                    out.push((format!("{OUTPUT_DIR}/{}", v.name), self.files.join(&v.name)));
                }
            }
        }
        out
    }

    /// A hash of what templates see of the images: watch mode renders pages again when it
    /// changes.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (path, (_, p)) in &self.images {
            path.hash(&mut h);
            p.variants.hash(&mut h);
        }
        h.finish()
    }
}

impl std::hash::Hash for Variant {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The extensions of the formats Cohort publishes.
const RASTER: &[&str] = &["jpg", "jpeg", "png", "webp"];
/// Image formats Cohort recognizes but does not publish (a clear error instead of a copy
/// that may carry a location). AVIF is one: see the module doc for why it is not encoded.
const UNSUPPORTED: &[&str] = &["gif", "bmp", "tif", "tiff", "heic", "heif", "avif", "jxl"];

fn extension(path: &str) -> String {
    path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// Whether a site path names a JPEG, PNG or WebP file (by its extension).
pub fn is_raster(path: &str) -> bool {
    RASTER.contains(&extension(path).as_str())
}

/// One source to process: its site path and its file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where the site publishes it (`images/boot.jpg`).
    pub site_path: String,
    /// The file on disk.
    pub file: PathBuf,
}

/// The cache's index file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    version: u32,
    /// The settings `sources` keys were computed with.
    settings: String,
    /// Source file (relative to the shop root) → its size, modification time and key.
    sources: BTreeMap<String, Stamp>,
    /// Key (hash of settings and bytes) → what was made of it.
    entries: BTreeMap<String, Processed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    modified_ns: u128,
    key: String,
}

/// Processes `sources` for the shop at `root` with the cache under `root`/[`CACHE_DIR`]:
/// every image not in the cache is decoded and encoded (in parallel), the cache's index is
/// written again with what this run used, and files no entry names are removed. Every bad
/// image is one diagnostic naming its file.
pub fn process(root: &Path, sources: &[Source], settings: &Settings) -> Result<Catalog, Diagnostics> {
    let cache = root.join(CACHE_DIR);
    let files = cache.join("files");
    let io_error = |what: &str, e: std::io::Error| {
        Diagnostics(vec![
            Diagnostic::new(CACHE_DIR, format!("cannot {what}: {e}"))
                .hint("make the shop folder writable; the image cache is safe to delete"),
        ])
    };
    if sources.is_empty() {
        return Ok(Catalog { files, ..Catalog::default() });
    }
    std::fs::create_dir_all(&files).map_err(|e| io_error("create the image cache", e))?;
    write_cache_markers(&cache);
    let fingerprint = settings.fingerprint();
    let index_path = cache.join("index.json");
    let index: Index = std::fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|i: &Index| i.version == CACHE_VERSION)
        .unwrap_or_default();
    let stamps_valid = index.settings == fingerprint;
    let decoded = AtomicUsize::new(0);
    let exists = |p: &Processed| p.variants.iter().all(|v| files.join(&v.name).is_file());

    let results: Vec<Result<(String, Stamp, Processed), Diagnostic>> = sources
        .par_iter()
        .map(|source| {
            let rel = source.file.strip_prefix(root).unwrap_or(&source.file).to_string_lossy().replace('\\', "/");
            let fail = |f: Fault| Diagnostic::new(&rel, f.message).hint(f.hint);
            let meta = std::fs::metadata(&source.file)
                .map_err(|e| fail(Fault::new(format!("cannot read the image: {e}"), HINT_REEXPORT)))?;
            let modified_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            if stamps_valid
                && let Some(stamp) = index.sources.get(&rel)
                && stamp.len == meta.len()
                && stamp.modified_ns == modified_ns
                && let Some(entry) = index.entries.get(&stamp.key).filter(|e| exists(e))
            {
                return Ok((rel.clone(), stamp.clone(), entry.clone()));
            }
            let bytes = std::fs::read(&source.file)
                .map_err(|e| fail(Fault::new(format!("cannot read the image: {e}"), HINT_REEXPORT)))?;
            let key = hex(&Sha256::new().chain_update(fingerprint.as_bytes()).chain_update(&bytes).finalize());
            let stamp = Stamp { len: meta.len(), modified_ns, key: key.clone() };
            if let Some(entry) = index.entries.get(&key).filter(|e| exists(e)) {
                return Ok((rel.clone(), stamp, entry.clone()));
            }
            decoded.fetch_add(1, Ordering::Relaxed);
            let stem = Path::new(&source.site_path).file_stem().map(|s| s.to_string_lossy().into_owned());
            let (processed, outputs) = encode(&bytes, stem.as_deref().unwrap_or("image"), settings).map_err(fail)?;
            drop(bytes);
            for (name, data) in outputs {
                write_atomically(&files.join(&name), &data)
                    .map_err(|e| fail(Fault::new(format!("cannot write {name} into the image cache: {e}"), "")))?;
            }
            Ok((rel.clone(), stamp, processed))
        })
        .collect();

    let mut diags = Diagnostics::default();
    let mut next = Index { version: CACHE_VERSION, settings: fingerprint, ..Index::default() };
    let mut catalog = Catalog { files: files.clone(), ..Catalog::default() };
    for (source, result) in sources.iter().zip(results) {
        match result {
            Ok((rel, stamp, processed)) => {
                // Identical sources share the first one's files (in path order), so a fresh
                // build and a rebuild name them alike.
                let shared = next.entries.entry(stamp.key.clone()).or_insert(processed).clone();
                next.sources.insert(rel.clone(), stamp);
                catalog.images.insert(source.site_path.clone(), (PathBuf::from(rel), Arc::new(shared)));
            }
            Err(d) => diags.push(d),
        }
    }
    catalog.decoded = decoded.into_inner();
    catalog.cached = catalog.images.len().saturating_sub(catalog.decoded);
    if next.sources != index.sources || next.entries != index.entries || !stamps_valid {
        let text = serde_json::to_vec(&next).unwrap_or_default();
        write_atomically(&index_path, &text).map_err(|e| io_error("write the image cache's index", e))?;
        if diags.is_empty() {
            // Identical sources processed at once each wrote their own files: keep what any
            // of them uses this run, as well as what the index names.
            let used: BTreeSet<&str> = next
                .entries
                .values()
                .chain(catalog.images.values().map(|(_, p)| p.as_ref()))
                .flat_map(|p| p.variants.iter().map(|v| v.name.as_str()))
                .collect();
            prune(&files, &used);
        }
    }
    if !diags.is_empty() {
        return Err(diags.sorted());
    }
    Ok(catalog)
}

/// Removes the cached files not in `used` (older versions of changed images).
fn prune(files: &Path, used: &BTreeSet<&str>) {
    let Ok(entries) = std::fs::read_dir(files) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !used.contains(name.as_ref()) && !name.starts_with('.') {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `.gitignore` and `CACHEDIR.TAG` in the cache's parent, so git and backup tools skip it
/// even in a shop whose own `.gitignore` does not name it.
pub(crate) fn write_cache_markers(cache: &Path) {
    let Some(parent) = cache.parent() else { return };
    let markers = [
        (".gitignore", "# Cohort's caches (resized images, what the last build wrote); safe to delete.\n*\n"),
        (
            "CACHEDIR.TAG",
            "Signature: 8a477f597d28d172789f06886806bc55\n# Cohort's caches (resized images, what the last build wrote); safe to delete.\n",
        ),
    ];
    for (name, text) in markers {
        let path = parent.join(name);
        if !path.exists() {
            let _ = std::fs::write(path, text);
        }
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so a reader
/// (another build sharing the cache) never sees half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp").tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    // Published as hard links: readable by the web server like any copied file (a temporary
    // file is created owner-only).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file-name-safe stem: lowercase ASCII letters, digits and dashes, at most 48 characters.
fn safe_stem(stem: &str) -> String {
    let mut out = String::new();
    for c in stem.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "image".into() } else { out }
}

/// The images a shop publishes: its static files on disk (the shop's `static/` and a local
/// theme's) and the files of its product bundles that are JPEG, PNG or WebP. A product or
/// image in another image format is a diagnostic (returned beside the sources, so the bad
/// files are reported in the same run).
pub fn sources(shop: &crate::content::Shop, theme: &crate::theme::Theme) -> (Vec<Source>, Diagnostics) {
    let mut out: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (path, source) in &theme.static_files {
        if let Some(file) = source.path()
            && is_raster(path)
        {
            out.insert(path.clone(), file.to_path_buf());
        }
    }
    for p in &shop.products {
        if let Some(dir) = &p.bundle {
            for (path, source) in crate::build::bundle_files(shop, &p.slug, dir) {
                if let Some(file) = source.path()
                    && is_raster(&path)
                {
                    out.insert(path, file.to_path_buf());
                }
            }
        }
    }
    let mut diags = Diagnostics::default();
    for p in &shop.products {
        for image in &p.images {
            let ext = extension(&image.path);
            if UNSUPPORTED.contains(&ext.as_str()) {
                let file = image.source.strip_prefix(&shop.root).unwrap_or(&image.source);
                diags.push(
                    Diagnostic::new(
                        file,
                        format!("is a {} image, a format Cohort does not publish", ext.to_ascii_uppercase()),
                    )
                    .hint(format!("convert it to JPEG, PNG or WebP and name that file in {}", p.source.display())),
                );
            }
        }
    }
    (out.into_iter().map(|(site_path, file)| Source { site_path, file }).collect(), diags)
}
