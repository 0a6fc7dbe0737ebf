//! The file side of personalize: walking the site, the manifest of what it created, and
//! writing with an undo log. No write follows a symbolic link: a link anywhere on the way
//! from the site folder to a file personalize writes or removes makes it refuse.

use super::{HOST_BEGIN, HOST_END, MANIFEST};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Writes `bytes` at `rel` unless the file already holds them; records (path, previous
/// bytes) in `undo` before it writes. Returns whether it wrote.
pub(super) fn write_file(
    dir: &Path,
    rel: &str,
    bytes: &[u8],
    undo: &mut Vec<(PathBuf, Option<Vec<u8>>)>,
) -> Result<bool, String> {
    let path = safe_join(dir, rel)?;
    let old = std::fs::read(&path).ok();
    if old.as_deref() == Some(bytes) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    undo.push((path.clone(), old));
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(true)
}

/// Every file under `dir`, relative, with `/` separators, and the symbolic links found
/// (never followed: a linked page or folder is the site's business, and personalize does not
/// write through it).
pub(super) fn walk(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut links = Vec::new();
    for e in walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok) {
        let Some(rel) = e.path().strip_prefix(dir).ok().map(|r| r.to_string_lossy().replace('\\', "/")) else {
            continue;
        };
        if e.path_is_symlink() {
            links.push(rel);
        } else if e.file_type().is_file() {
            files.push(rel);
        }
    }
    (files, links)
}

/// The names personalize writes at the top of the site; none of them may be a link.
pub(super) const OWNED: [&str; 9] =
    ["_headers", "_redirects", "c", "_cohort", "privacy", "preferences", "cohort.js", "cohort.css", ".well-known"];

/// The first symbolic link on the way from `dir` to `rel` (`rel` itself included).
pub(super) fn link_on_path(dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut p = dir.to_path_buf();
    for part in rel.split('/').filter(|s| !s.is_empty()) {
        p.push(part);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => return Some(p),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// What a previous run created and still owns.
#[derive(Default)]
pub(crate) struct Manifest {
    /// Files listed in the manifest whose bytes are still those personalize wrote (a file
    /// the other generator wrote over since then is the site's again), and the manifest.
    pub(super) created: BTreeSet<String>,
}

pub(super) fn read_manifest(dir: &Path) -> Manifest {
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else { return Manifest::default() };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { return Manifest::default() };
    let listed: Vec<(String, String)> = value
        .get("created")
        .and_then(|c| c.as_object())
        .map(|m| {
            m.iter()
                .filter(|(f, _)| safe_rel(f))
                .filter_map(|(f, h)| Some((f.clone(), h.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut created: BTreeSet<String> = listed
        .par_iter()
        .filter(|(f, hash)| {
            std::fs::read(dir.join(f))
                .is_ok_and(|bytes| crate::cohorts::fragment_hash(&String::from_utf8_lossy(&bytes)) == *hash)
        })
        .map(|(f, _)| f.clone())
        .collect();
    created.insert(MANIFEST.to_string());
    Manifest { created }
}

/// The manifest: each file personalize created with the hash of its bytes, and the files of
/// the site it appended a block to.
pub(super) fn manifest_json(created: &BTreeMap<String, String>, merged: &BTreeSet<String>) -> String {
    let v = serde_json::json!({
        "version": 1,
        "about": "Written by `cohort personalize`: the files it created (with the first 64 bits of the sha256 of their bytes; it replaces or removes them on the next run unless they changed since) and the files of the site it appended a block to.",
        "created": created,
        "merged": merged,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

pub(super) fn strip_host_block(text: &str) -> String {
    let Some(b) = text.find(HOST_BEGIN) else { return text.to_string() };
    let e = text[b..].find(HOST_END).map_or(text.len(), |e| b + e + HOST_END.len());
    let e = if text[e..].starts_with('\n') { e + 1 } else { e };
    format!("{}{}", &text[..b], &text[e..])
}

pub(super) fn safe_rel(rel: &str) -> bool {
    !(rel.is_empty()
        || rel.starts_with('/')
        || rel.contains('\\')
        || rel.contains('\0')
        || rel.split('/').any(|p| p == ".."))
}

pub(super) fn safe_join(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    if !safe_rel(rel) {
        return Err(format!("refusing to write outside the site folder: {rel}"));
    }
    if let Some(link) = link_on_path(dir, rel) {
        return Err(format!(
            "refusing to write {rel}: {} is a symbolic link, which could lead outside the site folder",
            link.display()
        ));
    }
    Ok(dir.join(rel))
}

pub(super) fn rollback(dir: &Path, undo: Vec<(PathBuf, Option<Vec<u8>>)>) {
    for (path, old) in undo.into_iter().rev() {
        match old {
            Some(bytes) => {
                let _ = std::fs::write(&path, bytes);
            }
            None => {
                let _ = std::fs::remove_file(&path);
                remove_empty_parents(dir, &path);
            }
        }
    }
}

pub(super) fn remove_empty_parents(dir: &Path, path: &Path) {
    let mut p = path.parent();
    while let Some(d) = p {
        if d == dir || !d.starts_with(dir) || std::fs::remove_dir(d).is_err() {
            break;
        }
        p = d.parent();
    }
}
