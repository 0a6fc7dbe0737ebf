//! Atomic output: the build writes into a temporary folder beside the output folder and
//! swaps it in only when everything succeeded, so a failed build leaves the previous site
//! untouched and a host syncing the folder never sees half a site.

use std::path::{Path, PathBuf};

pub struct Staging {
    pub dir: PathBuf,
    target: PathBuf,
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
        Ok(Staging { dir, target: target.to_path_buf() })
    }

    /// Writes `bytes` at `rel` (with `/` separators) inside the staging folder.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)
    }

    pub fn copy(&self, rel: &str, from: &Path) -> std::io::Result<()> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, path).map(|_| ())
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
