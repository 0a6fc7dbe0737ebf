//! Atomic output: the build writes into a staging folder beside the output folder and swaps
//! it in only when everything succeeded, so a failed build leaves the previous site
//! untouched and a host syncing the folder never sees half a site.
//!
//! Two trees take turns. The swap keeps the replaced output as `.NAME.cohort-old` beside
//! the output folder, and the next build recycles that folder as its staging folder: a file
//! that already holds the right bytes stays, a file equal to the live output's becomes a
//! hard link to it (as `rsync --link-dest` does), anything else is written afresh, and what
//! the build did not write is removed before the swap. A rebuild creates and deletes almost
//! no folders or inodes, and unchanged files keep their inode and modification time, so
//! deploy tools that compare times upload only what changed. The kept folder shares every
//! unchanged file with the output, so it costs only the blocks of what changed; it holds a
//! `.gitignore` of `*` and a `CACHEDIR.TAG`, and deleting it is always safe.
//!
//! The swap itself leaves no moment without output: on Linux the staging folder and the
//! output folder exchange places in one `renameat2(RENAME_EXCHANGE)`, so a host serving the
//! folder, or a kill at any point, always finds a complete site (the new one, or the old one
//! with the new one still beside it). Where the platform or file system lacks the exchange
//! (other systems, old kernels, some network file systems) the swap is two renames, with a
//! moment between them in which the output folder does not exist.
//!
//! Nothing in the staging folder is ever opened for writing in place (its files may be
//! links to the live site's), and no symbolic link in it is followed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A staging folder beside the output, swapped in by [`Staging::commit`] or removed by [`Staging::abandon`].
pub struct Staging {
    /// The staging folder.
    pub dir: PathBuf,
    target: PathBuf,
    /// Where the replaced output is kept for the next build.
    kept: PathBuf,
    /// The previous output, when there is one, to link unchanged files from.
    previous: Option<PathBuf>,
    /// Whether `dir` started as an earlier tree (its leftovers are pruned before the swap).
    recycled: bool,
    /// Files written by this build (relative paths), when `recycled`.
    written: Mutex<HashSet<String>>,
    /// Folders (relative paths) known to be real folders of the staging tree.
    folders: Mutex<HashSet<String>>,
}

/// What identifies a file a build wrote, to tell later whether it is still that file: its
/// size, modification time (nanoseconds since the epoch) and inode (0 where there is none).
/// Saved as `[len, modified, ino]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "(u64, u64, u64)", into = "(u64, u64, u64)")]
pub struct Stamp {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since 1970.
    pub modified: u64,
    /// The inode number on Unix, else 0.
    pub ino: u64,
}

impl From<(u64, u64, u64)> for Stamp {
    fn from((len, modified, ino): (u64, u64, u64)) -> Stamp {
        Stamp { len, modified, ino }
    }
}

impl From<Stamp> for (u64, u64, u64) {
    fn from(s: Stamp) -> (u64, u64, u64) {
        (s.len, s.modified, s.ino)
    }
}

impl Stamp {
    /// The stamp of a file from its metadata.
    pub fn of(m: &std::fs::Metadata) -> Stamp {
        let modified = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(m);
        #[cfg(not(unix))]
        let ino = 0;
        Stamp { len: m.len(), modified, ino }
    }
}

/// Marks the kept tree as a cache: git ignores it, backup tools skip it.
const KEPT_MARKERS: [(&str, &str); 2] = [
    (".gitignore", "# Cohort's previous output, kept to make the next build fast; safe to delete.\n*\n"),
    (
        "CACHEDIR.TAG",
        "Signature: 8a477f597d28d172789f06886806bc55\n# Cohort's previous output, kept to make the next build fast; safe to delete.\n",
    ),
];

impl Staging {
    /// Prepares `.NAME.cohort-tmp` beside `target`: the kept previous tree when there is one,
    /// otherwise an empty folder.
    pub fn new(target: &Path) -> std::io::Result<Staging> {
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "public".into());
        let dir = parent.join(format!(".{name}.cohort-tmp"));
        let kept = parent.join(format!(".{name}.cohort-old"));
        let is_dir = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
        let recycled = if is_dir(&kept) {
            if std::fs::symlink_metadata(&dir).is_ok() {
                remove_tree(&dir)?;
            }
            std::fs::rename(&kept, &dir)?;
            true
        } else if is_dir(&dir) {
            // A build that was interrupted: its files are as good as any to compare against.
            true
        } else {
            if std::fs::symlink_metadata(&dir).is_ok() {
                std::fs::remove_file(&dir)?;
            }
            std::fs::create_dir(&dir)?;
            false
        };
        let previous = is_dir(target).then(|| target.to_path_buf());
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
            kept,
            previous,
            recycled,
            written: Mutex::new(HashSet::new()),
            folders: Mutex::new(HashSet::new()),
        })
    }

    /// Writes `bytes` at `rel` (with `/` separators) inside the staging folder, unless the
    /// file there already holds them; links the previous build's file when it holds them.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.write_stamped(rel, bytes).map(|_| ())
    }

    /// [`Staging::write`], giving the [`Stamp`] of the file it leaves at `rel`.
    pub fn write_stamped(&self, rel: &str, bytes: &[u8]) -> std::io::Result<Stamp> {
        let (path, existing) = self.prepare(rel)?;
        let stamp = match existing {
            Some(m) if holds(&path, &m, bytes) => Stamp::of(&m),
            _ if self.link_unchanged(rel, &path, bytes) => Stamp::of(&std::fs::symlink_metadata(&path)?),
            _ => {
                let mut stamp = None;
                write_new(&path, |f| {
                    std::io::Write::write_all(f, bytes)?;
                    stamp = Some(Stamp::of(&f.metadata()?));
                    Ok(())
                })?;
                stamp.unwrap_or_default()
            }
        };
        self.mark_written(rel);
        Ok(stamp)
    }

    /// Keeps the previous output's file `rel` in the new tree without reading or writing
    /// its bytes (a hard link to it, or the link an earlier tree already holds), when that
    /// file is still the one a build left there (`stamp`: same size, modification time and
    /// inode). False when it is not (missing, edited or replaced since), when there is no
    /// previous output, or when the file system cannot link: then the caller writes it.
    pub fn keep(&self, rel: &str, stamp: Stamp) -> std::io::Result<bool> {
        // A path the records should not hold (`..`, an empty part) is simply not kept.
        let (Some(previous), Ok(_)) = (&self.previous, self.path_of(rel)) else { return Ok(false) };
        let old = previous.join(rel);
        match std::fs::symlink_metadata(&old) {
            Ok(m) if m.is_file() && Stamp::of(&m) == stamp => {}
            _ => return Ok(false),
        }
        let (path, existing) = self.prepare(rel)?;
        let linked = existing.is_some_and(|m| stamp.ino != 0 && Stamp::of(&m).ino == stamp.ino);
        if !linked && !replace_with_link(&old, &path) {
            return Ok(false);
        }
        self.mark_written(rel);
        Ok(true)
    }

    /// Copies `from` to `rel` inside the staging folder.
    pub fn copy(&self, rel: &str, from: &Path) -> std::io::Result<()> {
        let (path, existing) = self.prepare(rel)?;
        let same = |candidate: &Path| -> bool {
            std::fs::symlink_metadata(candidate).is_ok_and(|m| m.is_file()) && files_equal(candidate, from)
        };
        if !(existing.is_some() && files_equal(&path, from)) {
            let linked = self.previous.as_ref().is_some_and(|previous| {
                let old = previous.join(rel);
                same(&old) && replace_with_link(&old, &path)
            });
            if !linked {
                let mut source = std::fs::File::open(from)?;
                write_new(&path, |f| std::io::copy(&mut source, f).map(|_| ()))?;
            }
        }
        self.mark_written(rel);
        Ok(())
    }

    /// Puts the immutable file `from` (an entry of a cache, never changed in place) at `rel`
    /// as a hard link, keeping a link to it that an earlier tree left there; copies it where
    /// the file system cannot link. Costs no read of the file's bytes.
    pub fn link_immutable(&self, rel: &str, from: &Path) -> std::io::Result<()> {
        let (path, existing) = self.prepare(rel)?;
        let kept = existing.is_some() && same_inode(&path, from);
        if !(kept || replace_with_link(from, &path)) {
            let mut source = std::fs::File::open(from)?;
            write_new(&path, |f| std::io::copy(&mut source, f).map(|_| ()))?;
        }
        self.mark_written(rel);
        Ok(())
    }

    /// The staging path of `rel`, with its folders in place: every folder on the way is a
    /// real folder (a file or link in the way is removed), and a folder left at the file's
    /// own place by an earlier tree is removed. Also the metadata of the regular file an
    /// earlier tree left there, if any.
    fn prepare(&self, rel: &str) -> std::io::Result<(PathBuf, Option<std::fs::Metadata>)> {
        let path = self.path_of(rel)?;
        if let Some((folder, _)) = rel.rsplit_once('/') {
            self.ensure_folder(folder)?;
        }
        if !self.recycled {
            return Ok((path, None));
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {
                std::fs::remove_dir_all(&path)?;
                Ok((path, None))
            }
            Ok(m) if m.is_file() => Ok((path, Some(m))),
            _ => Ok((path, None)),
        }
    }

    /// Makes `rel` (a folder path inside the staging folder) a real folder, checking each
    /// folder on the way once per build.
    fn ensure_folder(&self, rel: &str) -> std::io::Result<()> {
        let known = |r: &str| self.folders.lock().is_ok_and(|f| f.contains(r));
        if known(rel) {
            return Ok(());
        }
        let mut end = 0;
        while end < rel.len() {
            end = rel[end..].find('/').map_or(rel.len(), |i| end + i);
            let prefix = &rel[..end];
            end += 1;
            if known(prefix) {
                continue;
            }
            let path = self.dir.join(prefix);
            if !self.recycled {
                // A fresh staging folder holds only what this build made: no link or file can
                // be in the way.
                create_folder(&path)?;
            } else {
                match std::fs::symlink_metadata(&path) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        // Another thread may have replaced it already: the create says.
                        let _ = std::fs::remove_file(&path);
                        create_folder(&path)?;
                    }
                    Err(_) => create_folder(&path)?,
                }
            }
            if let Ok(mut f) = self.folders.lock() {
                f.insert(prefix.to_string());
            }
        }
        Ok(())
    }

    fn mark_written(&self, rel: &str) {
        if self.recycled
            && let Ok(mut w) = self.written.lock()
        {
            w.insert(rel.to_string());
        }
    }

    /// Links the previous output's `rel` at `path` if it is a regular file with exactly
    /// `bytes`; false when there is none, it differs, or the file system cannot link.
    fn link_unchanged(&self, rel: &str, path: &Path, bytes: &[u8]) -> bool {
        let Some(previous) = &self.previous else { return false };
        let old = previous.join(rel);
        file_holds(&old, bytes) && replace_with_link(&old, path)
    }

    fn path_of(&self, rel: &str) -> std::io::Result<PathBuf> {
        if rel.split('/').any(|p| p.is_empty() || p == "." || p == ".." || p.contains('\\')) || rel.contains('\0') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("refusing to write outside the output folder: {rel}"),
            ));
        }
        Ok(self.dir.join(rel))
    }

    /// Removes what an earlier tree had and this build did not write, then swaps the staging
    /// folder in place of the target and keeps the replaced output for the next build.
    pub fn commit(self) -> std::io::Result<()> {
        if self.recycled {
            let written = self.written.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default();
            prune(&self.dir, "", &written, &ancestors(&written))?;
        }
        if std::fs::symlink_metadata(&self.kept).is_ok() {
            remove_tree(&self.kept)?;
        }
        if std::fs::symlink_metadata(&self.target).is_err() {
            return std::fs::rename(&self.dir, &self.target);
        }
        match exchange(&self.dir, &self.target) {
            // The new tree is in place and the old one at the staging path: keep it. The new
            // site is live whatever happens next; an interruption or a failure of this rename
            // leaves the old tree at the staging path, which the next build recycles as well.
            Ok(()) => {
                if std::fs::rename(&self.dir, &self.kept).is_ok() {
                    mark_kept(&self.kept);
                }
            }
            Err(e) if exchange_unsupported(&e) => {
                self.swap_by_two_renames()?;
                mark_kept(&self.kept);
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// The swap where the platform or file system cannot exchange two paths: for the
    /// moment between the two renames the output folder does not exist.
    fn swap_by_two_renames(&self) -> std::io::Result<()> {
        std::fs::rename(&self.target, &self.kept)?;
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            let _ = std::fs::rename(&self.kept, &self.target);
            return Err(e);
        }
        Ok(())
    }

    /// Gives up on this build: the previous output stays as it was, and the staging folder
    /// is kept for the next build to recycle (removed when there is no previous output).
    pub fn abandon(self) {
        if self.previous.is_some() && std::fs::rename(&self.dir, &self.kept).is_ok() {
            mark_kept(&self.kept);
        } else {
            let _ = remove_tree(&self.dir);
        }
    }
}

/// Swaps two paths in one step, so that both exist at every moment: Linux's
/// `renameat2(RENAME_EXCHANGE)` (3.15 and later, on ext4, XFS, Btrfs, tmpfs and most local
/// file systems).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated C strings that outlive the call; the syscall only
    // reads them.
    let status = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Elsewhere there is no exchange: [`Staging::commit`] falls back to two renames.
#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Whether an exchange failed only because the kernel or file system does not offer it
/// (old kernels: ENOSYS; file systems without it, such as some network ones: EINVAL).
fn exchange_unsupported(e: &std::io::Error) -> bool {
    #[cfg(target_os = "linux")]
    if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP)) {
        return true;
    }
    e.kind() == std::io::ErrorKind::Unsupported
}

/// Writes the markers into the kept tree (as new files: an unchanged `.gitignore` of the
/// site itself is a link to the live one).
fn mark_kept(kept: &Path) {
    for (name, text) in KEPT_MARKERS {
        let _ = write_new(&kept.join(name), |f| std::io::Write::write_all(f, text.as_bytes()));
    }
}

/// `create_dir`, content when another thread made the folder first.
fn create_folder(path: &Path) -> std::io::Result<()> {
    match std::fs::create_dir(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && std::fs::symlink_metadata(path)?.is_dir() => Ok(()),
        other => other,
    }
}

/// Whether `path` is a regular file (not a link) holding exactly `bytes`.
fn file_holds(path: &Path, bytes: &[u8]) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| holds(path, &m, bytes))
}

/// Whether the file at `path`, whose `symlink_metadata` is `meta`, holds exactly `bytes`.
fn holds(path: &Path, meta: &std::fs::Metadata, bytes: &[u8]) -> bool {
    meta.file_type().is_file() && meta.len() == bytes.len() as u64 && std::fs::read(path).is_ok_and(|b| b == bytes)
}

/// Whether two files have the same bytes, compared a block at a time.
fn files_equal(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    if ma.len() != mb.len() {
        return false;
    }
    let (Ok(mut fa), Ok(mut fb)) = (std::fs::File::open(a), std::fs::File::open(b)) else { return false };
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = match fa.read(&mut ba) {
            Ok(0) => return fb.read(&mut bb).is_ok_and(|m| m == 0),
            Ok(n) => n,
            Err(_) => return false,
        };
        if fb.read_exact(&mut bb[..n]).is_err() || ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// Puts a hard link to `old` at `path`, replacing what is there (later files win, as a
/// write would); false when the file system cannot link.
/// Whether two paths are the same file (one inode).
fn same_inode(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(ma), Ok(mb)) => ma.dev() == mb.dev() && ma.ino() == mb.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

fn replace_with_link(old: &Path, path: &Path) -> bool {
    match std::fs::hard_link(old, path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path).is_ok() && std::fs::hard_link(old, path).is_ok()
        }
        Err(_) => false,
    }
}

/// Every folder (relative path) that holds one of `files`.
fn ancestors(files: &HashSet<String>) -> HashSet<String> {
    let mut out = HashSet::new();
    for file in files {
        let mut rel = file.as_str();
        while let Some((folder, _)) = rel.rsplit_once('/') {
            if !out.insert(folder.to_string()) {
                break;
            }
            rel = folder;
        }
    }
    out
}

/// Removes from `dir` (the folder `rel` of the staging tree) every file this build did not
/// write and every folder that holds none; subfolders are pruned in parallel.
fn prune(dir: &Path, rel: &str, written: &HashSet<String>, folders: &HashSet<String>) -> std::io::Result<()> {
    use rayon::prelude::*;
    let mut keep_folders = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        if entry.file_type()?.is_dir() {
            if folders.contains(&child) {
                keep_folders.push((entry.path(), child));
            } else {
                std::fs::remove_dir_all(entry.path())?;
            }
        } else if !written.contains(&child) {
            std::fs::remove_file(entry.path())?;
        }
    }
    keep_folders.par_iter().try_for_each(|(path, child)| prune(path, child, written, folders))
}

/// `remove_dir_all`, with the folders two levels down removed in parallel: a site is
/// thousands of small folders (one per page), and removing them one by one is most of the
/// time a rebuild spends on the disk.
fn remove_tree(root: &Path) -> std::io::Result<()> {
    use rayon::prelude::*;
    if !std::fs::symlink_metadata(root)?.is_dir() {
        // A link or a file in its place: remove it, never what it points to.
        return std::fs::remove_file(root);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_swaps_two_folders_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("f"), "from a").unwrap();
        std::fs::write(b.join("f"), "from b").unwrap();
        match exchange(&a, &b) {
            Ok(()) => {
                assert_eq!(std::fs::read_to_string(a.join("f")).unwrap(), "from b");
                assert_eq!(std::fs::read_to_string(b.join("f")).unwrap(), "from a");
            }
            // The fallback's case: a platform or file system without the exchange.
            Err(e) => assert!(exchange_unsupported(&e), "{e}"),
        }
        let missing = exchange(&a, &tmp.path().join("missing")).unwrap_err();
        assert!(!exchange_unsupported(&missing), "a missing folder is an error, not a reason to fall back");
    }
}
