//! Shared by the plugin-mode tests: the Hugo fixture built with the real `hugo`, and the
//! real `cohort personalize` run on its output.

#![allow(dead_code)]

use super::common::{self, copy_fixture};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Builds the Hugo site in `src` into `src/public`, bounded to a minute.
pub fn hugo(src: &Path) {
    let mut child = Command::new("hugo")
        .args(["--quiet", "--source"])
        .arg(src)
        .arg("--destination")
        .arg(src.join("public"))
        .env("HUGO_CACHEDIR", src.join(".hugo-cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`hugo` runs (install it with: apt-get install -y hugo)");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait for hugo") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            assert!(status.success(), "hugo failed: {err}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hugo took more than a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A copy of the Hugo fixture, built. Returns the temp folder (the shop root) .
pub fn built_site(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = copy_fixture("hugo-shop");
    for (rel, text) in extra {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    hugo(dir.path());
    dir
}

pub fn personalize(root: &Path) -> (i32, String, String) {
    personalize_glob(root, "content/products/*.md")
}

/// `cohort personalize` with the product files `glob` (relative to the shop root).
pub fn personalize_glob(root: &Path, glob: &str) -> (i32, String, String) {
    let out = common::cohort()
        .arg("personalize")
        .arg("--site")
        .arg(root.join("public"))
        .arg("--root")
        .arg(root)
        .arg("--products")
        .arg(format!("{}/{glob}", root.display()))
        .output()
        .expect("cohort runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join("public").join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}
