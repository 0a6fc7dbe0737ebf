//! Atomic output: the build writes into a temporary folder beside the output folder and
//! swaps it in only when everything succeeded, so a failed build leaves the previous site
//! untouched and a host syncing the folder never sees half a site.
//!
//! A file whose bytes equal the previous build's is not written again: the staging folder
//! gets a hard link to the previous file (as `rsync --link-dest` does). Unchanged files keep
//! their modification time, so deploy tools that compare times upload only what changed,
//! and a rebuild writes and frees only the blocks of what changed. Nothing in the staging
//! folder is ever opened for writing in place, so the previous site is never modified.

use std::path::{Path, PathBuf};

pub struct Staging {
    pub dir: PathBuf,
    target: PathBuf,
    /// The previous output, when there is one, to link unchanged files from.
    previous: Option<PathBuf>,
}

impl Staging {
    /// Creates `.NAME.cohort-tmp` beside `target`.
    pub fn new(target: &Path) -> std::io::Result<Staging> {
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "public".into());
        let dir = parent.join(format!(".{name}.cohort-tmp"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let previous = target.is_dir().then(|| target.to_path_buf());
        Ok(Staging { dir, target: target.to_path_buf(), previous })
    }

    /// Writes `bytes` at `rel` (with `/` separators) inside the staging folder, or links the
    /// previous build's file there when it holds the same bytes.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if self.link_unchanged(rel, &path, bytes) {
            return Ok(());
        }
        write_new(&path, |f| std::io::Write::write_all(f, bytes))
    }

    pub fn copy(&self, rel: &str, from: &Path) -> std::io::Result<()> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if let Ok(meta) = std::fs::metadata(from)
            && meta.len() <= 1 << 20
            && let Ok(bytes) = std::fs::read(from)
            && self.link_unchanged(rel, &path, &bytes)
        {
            return Ok(());
        }
        let mut source = std::fs::File::open(from)?;
        write_new(&path, |f| std::io::copy(&mut source, f).map(|_| ()))
    }

    /// Links the previous output's `rel` at `path` if it is a regular file with exactly
    /// `bytes`; false when there is none, it differs, or the file system cannot link.
    fn link_unchanged(&self, rel: &str, path: &Path, bytes: &[u8]) -> bool {
        let Some(previous) = &self.previous else { return false };
        let old = previous.join(rel);
        let same = std::fs::symlink_metadata(&old)
            .is_ok_and(|m| m.file_type().is_file() && m.len() == bytes.len() as u64)
            && std::fs::read(&old).is_ok_and(|b| b == bytes);
        if !same {
            return false;
        }
        // A path written earlier in this build is replaced (later files win), as a write would.
        match std::fs::hard_link(&old, path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::fs::remove_file(path).is_ok() && std::fs::hard_link(&old, path).is_ok()
            }
            Err(_) => false,
        }
    }

    fn path_of(&self, rel: &str) -> std::io::Result<PathBuf> {
        if rel.split('/').any(|p| p == ".." || p.contains('\\')) || rel.starts_with('/') || rel.contains('\0') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("refusing to write outside the output folder: {rel}"),
            ));
        }
        Ok(self.dir.join(rel))
    }

    /// Swaps the staging folder in place of the target.
    pub fn commit(self) -> std::io::Result<()> {
        let old = self.dir.with_file_name(format!(
            ".{}.cohort-old",
            self.target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ));
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        let had_target = self.target.exists();
        if had_target {
            std::fs::rename(&self.target, &old)?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if had_target {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(e);
        }
        if had_target {
            remove_tree(&old)?;
        }
        Ok(())
    }

    /// Throws the staging folder away (the previous output stays as it was).
    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `remove_dir_all`, with the folders two levels down removed in parallel: a site is
/// thousands of small folders (one per page), and removing them one by one is most of the
/// time a rebuild spends on the disk.
fn remove_tree(root: &Path) -> std::io::Result<()> {
    use rayon::prelude::*;
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            for inner in std::fs::read_dir(entry.path())? {
                let inner = inner?;
                if inner.file_type()?.is_dir() {
                    folders.push(inner.path());
                }
            }
        }
    }
    folders.par_iter().try_for_each(std::fs::remove_dir_all)?;
    std::fs::remove_dir_all(root)
}

/// Creates `path` afresh (never truncating an existing file, which could be a link to the
/// previous build's) and fills it with `fill`.
fn write_new(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> std::io::Result<()> {
    let open = || std::fs::OpenOptions::new().write(true).create_new(true).open(path);
    let mut file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            open()?
        }
        other => other?,
    };
    fill(&mut file)
}
