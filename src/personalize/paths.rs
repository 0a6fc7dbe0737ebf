//! Where a product of another generator is in its output: the page Hugo or Zola derive
//! from the content file (or its `url`), the same page in the site's other languages, and
//! its images resolved as the generator resolves them.

use std::path::{Path, PathBuf};

/// The site path of the product's page: `url` if given, else the path Hugo and Zola derive
/// from the file. Err with the paths tried when none exists in `site_dir`.
pub(super) fn product_path(
    file: &Path,
    url: Option<&str>,
    slug: Option<&str>,
    site_dir: &Path,
) -> Result<String, Vec<String>> {
    let normalize = |u: &str| {
        let u = u.trim().trim_start_matches('/');
        let u = u.strip_suffix("index.html").unwrap_or(u);
        if u.is_empty() || u.ends_with('/') { u.to_string() } else { format!("{u}/") }
    };
    let exists = |p: &str| site_dir.join(p).join("index.html").is_file();
    if let Some(u) = url {
        if u.contains("://") {
            return Err(vec![u.to_string()]);
        }
        let p = normalize(u);
        return if exists(&p) { Ok(p) } else { Err(vec![p]) };
    }
    let parts: Vec<String> = file
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let after_content = parts.iter().rposition(|p| p == "content").map(|i| parts[i + 1..].to_vec());
    let mut segs = after_content.unwrap_or_else(|| parts[parts.len().saturating_sub(2)..].to_vec());
    if let Some(last) = segs.pop() {
        let stem = last.rsplit_once('.').map_or(last.as_str(), |(s, _)| s).to_string();
        if stem != "index" && stem != "_index" {
            segs.push(stem);
        }
    }
    if let (Some(s), Some(last)) = (slug, segs.last_mut()) {
        *last = s.to_string();
    }
    let joined = segs.join("/");
    // A multilingual Hugo site with a contentDir per language (`content/en/...`) serves
    // its default language at the root: the path without the language folder.
    let without_lang = if segs.len() >= 2 { segs[1..].join("/") } else { joined.clone() };
    let mut tried = Vec::new();
    for candidate in [
        joined.clone(),
        joined.to_lowercase(),
        joined.to_lowercase().replace(' ', "-"),
        without_lang.clone(),
        without_lang.to_lowercase().replace(' ', "-"),
    ] {
        let p = normalize(&candidate);
        if tried.contains(&p) {
            continue;
        }
        if exists(&p) {
            return Ok(p);
        }
        tried.push(p);
    }
    Err(tried)
}

/// The product's page in each other language of the site: for `content/en/products/x.md`
/// at `products/x/` (or `en/products/x/`), `L/products/x/` for every sibling language folder
/// `content/L/` that has `products/x.md`; for `content/products/x.md`, `L/products/x/` for
/// each translation file `x.L.md` beside it. Only pages that exist in `site_dir` count.
pub(super) fn translations(file: &Path, path: &str, site_dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let page = |lang: &str, out: &mut Vec<String>| {
        let candidate = format!("{lang}/{path}");
        if site_dir.join(&candidate).join("index.html").is_file() && !out.contains(&candidate) {
            out.push(candidate);
        }
    };
    // Translations by file name, beside the file: x.fr.md.
    if let (Some(dir), Some(stem), Some(ext)) =
        (file.parent(), file.file_stem().and_then(|s| s.to_str()), file.extension().and_then(|e| e.to_str()))
        && !stem.contains('.')
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let mut langs: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter_map(|n| {
                n.strip_prefix(&format!("{stem}.")).and_then(|r| r.strip_suffix(&format!(".{ext}"))).map(str::to_string)
            })
            .filter(|l| !l.is_empty() && !l.contains('.'))
            .collect();
        langs.sort();
        for l in langs {
            page(&l, &mut out);
        }
    }
    // A contentDir per language: content/en/... beside content/fr/...
    let parts: Vec<&std::ffi::OsStr> = file.iter().collect();
    let Some(c) = parts.iter().rposition(|p| *p == "content") else { return out };
    let (Some(lang), rest) = (parts.get(c + 1), parts.get(c + 2..).unwrap_or_default()) else { return out };
    if rest.is_empty() {
        return out;
    }
    let content: PathBuf = parts[..=c].iter().collect();
    let rest: PathBuf = rest.iter().collect();
    let lang = lang.to_string_lossy();
    let own = path.strip_prefix(&format!("{lang}/")).unwrap_or(path);
    let Ok(entries) = std::fs::read_dir(&content) else { return out };
    let mut others: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|l| *l != lang && content.join(l).join(&rest).is_file())
        .collect();
    others.sort();
    for l in others {
        let candidate = format!("{l}/{own}");
        if site_dir.join(&candidate).join("index.html").is_file() && !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// The site path of an image as the generator resolves it: a page resource of the page's
/// bundle (`PAGE/lamp.jpg`) when the output has it, else a file of the static root; an
/// absolute path loses the `baseURL` sub-path (`/shop/img/x.jpg` → `img/x.jpg`).
pub(super) fn resolve_image(image: &str, page: &str, site_dir: &Path, base_path: &str) -> String {
    if let Some(abs) = image.strip_prefix('/') {
        let base = base_path.trim_start_matches('/');
        return match abs.strip_prefix(base) {
            Some(rest) if !base.is_empty() && !site_dir.join(abs).is_file() => rest.to_string(),
            _ => abs.to_string(),
        };
    }
    let image = image.strip_prefix("./").unwrap_or(image);
    let in_bundle = format!("{page}{image}");
    if site_dir.join(&in_bundle).is_file() || !site_dir.join(image).is_file() { in_bundle } else { image.to_string() }
}
